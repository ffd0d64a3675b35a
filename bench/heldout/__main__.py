"""Writes one held-out family instance to a folder for a developer to look at (never commit it):

    .venv/bin/python -m bench.heldout --seed dev --out /tmp/heldout-dev
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.heldout import DEFAULT_SEED, generate

SUFFIX = {"tiff_g4": "tif", "tiff_g3": "tif", "pdf_image": "pdf", "pdf_text": "pdf", "pdf_scan_gray": "pdf",
          "jpeg_photo": "jpg", "png_photo": "png"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", default=DEFAULT_SEED)
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    items = generate(args.seed, set(args.only.split(",")) if args.only else None)
    for item in items:
        (out / f"{item.id}.{SUFFIX[item.receipt['format']]}").write_bytes(item.content)
    truth = {"family": "heldout", "seed": args.seed, "receipts": [i.receipt for i in items]}
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"{len(items)} inputs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
