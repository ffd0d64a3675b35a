"""Writes tests/golden/<name>.json from sample_faxes/truth.json (never from the extractor).

    .venv/bin/python tests/golden/make_golden.py

Each golden file names one corpus input (by receipt id) and holds what the extractor
must return for it: the detainers (every DetainerRequest field except evidence and the
review flags), the page kinds and rotations, and the error reason for broken inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRUTH = ROOT / "sample_faxes" / "truth.json"
HERE = Path(__file__).resolve().parent

TRUTH_ONLY = ("request_id", "cancels_request_id")


def pick(receipts: list[dict]) -> dict[str, dict]:
    def first(pred) -> dict:  # type: ignore[no-untyped-def]
        return next(r for r in receipts if pred(r))

    det = [r for r in receipts if r["kind"] == "detainer"]
    return {
        "fine_g4_tiff": first(lambda r: r in det and r["format"] == "tiff_g4" and r["resolution"] == "fine"),
        "standard_g3_tiff": first(lambda r: r in det and r["format"] == "tiff_g3" and r["resolution"] == "standard"),
        "bilevel_pdf": first(lambda r: r in det and r["format"] == "pdf_image"),
        "born_digital_pdf": first(lambda r: r in det and r["format"] == "pdf_text"),
        "scanned_gray_pdf": first(lambda r: r in det and r["format"] == "pdf_scan_gray"),
        "rotated_photo": first(lambda r: r in det and r["format"].endswith("_photo")
                               and any(p["rotation"] for p in r["pages"])),
        "decoy": first(lambda r: r["kind"] == "decoy" and len(r["pages"]) == 1),
        "older_form": first(lambda r: any(d["form_type"] != "I-247A" for d in r["detainers"])),
        "encrypted_pdf": first(lambda r: r["broken_reason"] == "encrypted"),
    }


def main() -> None:
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    for name, receipt in pick(truth["receipts"]).items():
        golden = {
            "receipt": receipt["id"],
            "path": receipt["path"],
            "channel": receipt["channel"],
            "attachment_index": receipt["attachment_index"],
            "file_name": receipt["file_name"],
            "format": receipt["format"],
            "sha256": receipt["sha256"],
            "error_reason": receipt["broken_reason"],
            "pages": [{"page": p["page"], "kind": p["kind"], "rotation": p["rotation"]} for p in receipt["pages"]],
            "detainers": [{k: v for k, v in d.items() if k not in TRUTH_ONLY} for d in receipt["detainers"]],
        }
        (HERE / f"{name}.json").write_text(json.dumps(golden, indent=2) + "\n", encoding="utf-8")
        print(name, receipt["id"], receipt["format"], len(receipt["pages"]), "pages")


if __name__ == "__main__":
    main()
