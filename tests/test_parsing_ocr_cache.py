"""The OCR engine interface and its disk cache: a hit gives back exactly what the engine read;
any change of engine, parameter or image is a miss; ``DETAINER_INTAKE_OCR_CACHE`` switches it on."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from parsing import ocr_engine
from parsing.ocr import OcrParams, OcrTimeout, Word
from parsing.ocr_cache import CACHE_ENV, CachedOcrEngine, cache_from_environment
from parsing.ocr_engine import TesseractEngine, read_words
from samplegen.forms import font_path


@dataclass
class CountingEngine:
    """Delegates to ``inner`` (or answers itself) and counts what reached it."""

    inner: TesseractEngine | None = None
    version: str = "fake 1"
    words_calls: list[OcrParams] = field(default_factory=list)
    orientation_calls: int = 0
    time_out: bool = False

    def identity(self) -> str:
        return self.inner.identity() if self.inner else self.version

    def words(self, image: Image.Image, params: OcrParams, timeout: float) -> list[Word]:
        self.words_calls.append(params)
        if self.time_out:
            raise OcrTimeout("out of time")
        if self.inner:
            return self.inner.words(image, params, timeout)
        return [Word(f"ink{sum(image.tobytes()) % 997}", 1, 2, 3, 4, 91.5), Word(params.lang, 5, 6, 7, 8, 0.0)]

    def orientation(self, image: Image.Image, timeout: float) -> int | None:
        self.orientation_calls += 1
        return 180


def _printed(text: str = "DETAINER 2024 A012") -> Image.Image:
    image = Image.new("L", (700, 90), 255)
    ImageDraw.Draw(image).text((20, 25), text, font=ImageFont.truetype(font_path("serif"), 32), fill=0)
    return image


def test_a_hit_returns_the_very_words_tesseract_read(tmp_path: Path) -> None:
    counting = CountingEngine(inner=TesseractEngine())
    cached = CachedOcrEngine(counting, tmp_path / "ocr")
    params = OcrParams(psm=7)
    first = cached.words(_printed(), params, 60)
    again = cached.words(_printed(), params, 60)
    assert [w.text for w in first] == ["DETAINER", "2024", "A012"]
    assert again == first and [type(w.conf) for w in again] == [float] * len(first)
    assert len(counting.words_calls) == 1  # the second reading came from the folder
    # A second engine object over the same folder (another worker process) hits too.
    other = CountingEngine(inner=TesseractEngine())
    assert CachedOcrEngine(other, tmp_path / "ocr").words(_printed(), params, 60) == first
    assert other.words_calls == []


def test_a_changed_parameter_image_or_engine_misses(tmp_path: Path) -> None:
    engine = CountingEngine()
    cached = CachedOcrEngine(engine, tmp_path)
    image = _printed()
    cached.words(image, OcrParams(), 60)
    variants = [OcrParams(lang="deu"), OcrParams(psm=6), OcrParams(dpi=400), OcrParams(alphabet="ABC")]
    for params in variants:
        cached.words(image, params, 60)
    assert engine.words_calls == [OcrParams(), *variants]
    changed = image.copy()
    changed.putpixel((0, 0), 254)  # one grey level of one pixel
    cached.words(changed, OcrParams(), 60)
    cached.words(image.convert("1"), OcrParams(), 60)  # the same picture in another mode
    assert len(engine.words_calls) == 7
    cached.words(image, OcrParams(), 5)  # the timeout is no part of the key
    assert len(engine.words_calls) == 7
    upgraded = CountingEngine(version="fake 2")
    CachedOcrEngine(upgraded, tmp_path).words(image, OcrParams(), 60)
    assert len(upgraded.words_calls) == 1


def test_orientation_is_cached_and_a_timeout_is_not(tmp_path: Path) -> None:
    engine = CountingEngine(time_out=True)
    cached = CachedOcrEngine(engine, tmp_path)
    for _ in range(2):
        with pytest.raises(OcrTimeout):
            cached.words(_printed(), OcrParams(), 1)
    assert len(engine.words_calls) == 2  # a reading out of time is not stored
    assert cached.orientation(_printed(), 30) == 180
    assert cached.orientation(_printed(), 30) == 180
    assert engine.orientation_calls == 1


def test_entries_are_owner_only_files(tmp_path: Path) -> None:
    CachedOcrEngine(CountingEngine(), tmp_path / "cache").words(_printed(), OcrParams(), 60)
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(entries) == 1
    assert stat.S_IMODE(entries[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700


def test_the_environment_variable_switches_the_cache_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    engine = CountingEngine()
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert cache_from_environment(engine) is engine  # unset: no cache
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    wrapped = cache_from_environment(engine)
    assert isinstance(wrapped, CachedOcrEngine) and wrapped.folder == tmp_path
    # The process's engine follows it, and call sites read through it.
    monkeypatch.setattr(ocr_engine, "_engine", None)
    assert isinstance(ocr_engine.ocr_engine(), CachedOcrEngine)
    ocr_engine.set_ocr_engine(engine)
    try:
        assert read_words(_printed(), lang="fra")[1].text == "fra"
        assert ocr_engine.osd_rotation(_printed()) == 180
    finally:
        ocr_engine.set_ocr_engine(None)


def test_a_bad_alphabet_never_reaches_any_engine() -> None:
    with pytest.raises(ValueError, match="alphabet"):
        OcrParams(alphabet="A B;rm")


def test_a_project_model_is_keyed_by_its_file_not_its_folder(tmp_path: Path) -> None:
    engine = CountingEngine()
    cached = CachedOcrEngine(engine, tmp_path / "cache")
    one, two, moved = tmp_path / "one", tmp_path / "two", tmp_path / "moved"
    for folder, model in ((one, b"model 1"), (two, b"model 2"), (moved, b"model 1")):
        folder.mkdir()
        (folder / "faxprint.traineddata").write_bytes(model)
    image = _printed()
    cached.words(image, OcrParams(lang="faxprint", tessdata_dir=str(one)), 60)
    cached.words(image, OcrParams(lang="faxprint", tessdata_dir=str(two)), 60)  # another model: a miss
    assert len(engine.words_calls) == 2
    cached.words(image, OcrParams(lang="faxprint", tessdata_dir=str(moved)), 60)  # the same model elsewhere: a hit
    cached.words(image, OcrParams(lang="faxprint"), 60)  # a system model of that name: a miss
    assert len(engine.words_calls) == 3


def test_a_project_model_name_is_a_plain_name() -> None:
    with pytest.raises(ValueError, match="model"):
        OcrParams(lang="../eng", tessdata_dir="/tmp")
