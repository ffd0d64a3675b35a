"""The fax-print model against eng on the key-field crops of the held-out family.

Every input is extracted as the accuracy bench does (in this process); the crops the re-read
cuts for the key fields are kept and read again, enlarged 2x and 3x, by eng and by the
project's fax-print model; each reading counts as exact when its field parser's value is the
truth's. Inputs with one detainer in their truth only (pairing is then certain). Prints counts
per category, field and reader; the figures go to bench/results/faxprint.md by hand.

    .venv/bin/python -m bench.faxprint --seed dev
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Any

from PIL import Image

import parsing.pipeline as pipeline
from bench.corpus import ROOT, load_inputs
from bench.heldout import generate
from core.config import ParsingSettings, load_settings
from parsing import reread
from parsing.extract import extract_many
from parsing.fieldvalue import FieldValue, apply_pattern, parse_value
from parsing.ocr_engine import MODELS_DIR
from parsing.templates import Template

FIELDS = ("subject_id", "event_number", "file_number", "issued_date", "date_of_birth", "officer_name")
READERS = {"eng": ("eng", None), "faxprint": ("faxprint", str(MODELS_DIR))}
TZ = "America/New_York"
Seen = list[tuple[Image.Image, list[reread._Crop], Template]]


def _recording(seen: Seen) -> Any:
    original = pipeline.reread_fields

    def record(page: Image.Image, fields: dict[str, FieldValue], template: Template, **kw: Any) -> None:
        crops = [reread._crop(n, fields[n], (page.height, page.width)) for n in FIELDS if n in fields]
        seen.append((page.copy(), [c for c in crops if c is not None], template))
        original(page, fields, template, **kw)

    return record


def _exact(name: str, value: Any, want: Any) -> bool:
    if value is None or want is None:
        return False
    if name == "officer_name":
        return str(want) in str(value)
    return str(value) == str(want)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=("heldout", "tuned"), default="heldout")
    parser.add_argument("--seed", default="dev")
    parser.add_argument("--models", default="", help="more fax-print models to compare: name=folder,...")
    parser.add_argument("--categories", default="fine_fax,standard_fax,scanned_pdf,photo")
    args = parser.parse_args()
    if args.seed == "check-2026-12-02" or args.seed.startswith("fresh"):
        raise SystemExit("that seed is kept for the final check")
    cats = set(args.categories.split(","))
    readers = dict(READERS)
    for pair in filter(None, args.models.split(",")):
        name, folder = pair.split("=", 1)
        readers[name] = ("faxprint", folder)
    inputs: list[Any] = generate(args.seed) if args.family == "heldout" else load_inputs(None)
    settings = (ParsingSettings(workers=1) if args.family == "heldout" else
                load_settings(ROOT / "config" / "sample.toml").parsing.model_copy(update={"workers": 1}))
    items = [i for i in inputs if i.category in cats and len(i.receipt.get("detainers") or []) == 1]
    tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        seen: Seen = []
        pipeline.reread_fields = _recording(seen)
        list(extract_many([(item.id, item.content)], settings=settings, tz=TZ))
        truth = item.receipt["detainers"][0]
        for page, crops, template in seen:
            specs = {spec.name: spec for spec in template.fields}
            crops = [c for c in crops if c.name in specs and truth.get(c.name)]
            if not crops:
                continue
            for reader, (lang, folder) in readers.items():
                for scale in reread.SCALES:
                    texts = reread._read_strips(page, crops, specs, scale, lang, 60.0, folder)
                    for crop, text in zip(crops, texts, strict=True):
                        spec = specs[crop.name]
                        value = parse_value(spec, apply_pattern(spec, text)) if text else None
                        hit = _exact(crop.name, value, truth[crop.name])
                        for key in ((item.category, crop.name, f"{reader}@{scale}x"),
                                    ("all", crop.name, f"{reader}@{scale}x")):
                            tally[key][0] += int(hit)
                            tally[key][1] += 1
    for (cat, name, reader), (hits, total) in sorted(tally.items()):
        print(f"{cat:14} {name:14} {reader:12} {hits:3}/{total:3} {100 * hits / total:5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
