"""Typefaces of the held-out family: none of them is used by the tuned family (samplegen draws
with Liberation and DejaVu). Installed by `bin/setup --bench` (Debian fonts-urw-base35,
fonts-freefont-ttf)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

# face key -> candidate files (first found wins). Nimbus = URW's Courier/Helvetica/Times clones.
FACES: dict[str, tuple[str, ...]] = {
    "nimbus_mono": ("/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Regular.otf",),
    "nimbus_mono_bold": ("/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Bold.otf",),
    "nimbus_sans": ("/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf",),
    "nimbus_sans_bold": ("/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf",),
    "nimbus_narrow": ("/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Regular.otf",),
    "nimbus_roman": ("/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf",),
    "nimbus_roman_bold": ("/usr/share/fonts/opentype/urw-base35/NimbusRoman-Bold.otf",),
    "free_mono": ("/usr/share/fonts/truetype/freefont/FreeMono.ttf",),
    "free_mono_bold": ("/usr/share/fonts/truetype/freefont/FreeMonoBold.ttf",),
    "free_sans": ("/usr/share/fonts/truetype/freefont/FreeSans.ttf",),
    "free_sans_bold": ("/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",),
    "free_serif": ("/usr/share/fonts/truetype/freefont/FreeSerif.ttf",),
    "free_serif_bold": ("/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf",),
}
# Faces a PDF with a text layer can embed (reportlab takes TrueType outlines only).
PDF_FACES = tuple(k for k in FACES if k.startswith("free_"))
# Fill-in faces (what a typist or a case system prints into the form): proportional and monospace.
FILL_FACES = ("nimbus_mono", "nimbus_sans", "nimbus_roman", "free_mono", "free_sans", "free_serif", "nimbus_narrow")
# Pre-printed form faces.
FORM_FACES = (("nimbus_sans", "nimbus_sans_bold"), ("free_sans", "free_sans_bold"),
              ("nimbus_roman", "nimbus_roman_bold"), ("free_serif", "free_serif_bold"))


class FontsMissing(RuntimeError):
    """The held-out family cannot be drawn: its typefaces are not installed."""


def font_path(face: str) -> Path:
    for candidate in FACES[face]:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FontsMissing(f"held-out font {face!r} is not installed (looked for {FACES[face][0]}); "
                       "run `bin/setup --bench` (apt packages fonts-urw-base35 fonts-freefont-ttf)")


def missing_faces() -> list[str]:
    missing = []
    for face in FACES:
        try:
            font_path(face)
        except FontsMissing:
            missing.append(face)
    return missing


def check_fonts() -> None:
    missing = missing_faces()
    if missing:
        raise FontsMissing(f"held-out fonts not installed: {', '.join(missing)}; run `bin/setup --bench` "
                           "(apt packages fonts-urw-base35 fonts-freefont-ttf)")


@lru_cache(maxsize=512)
def pil_font(face: str, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(face)), max(4, pixels))


def text_width(face: str, size: float, text: str) -> float:
    """Width in points of `text` at `size` points."""
    return pil_font(face, 100).getlength(text) * size / 100.0
