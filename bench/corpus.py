"""Shared by the benchmarks and the golden-file script: the sample corpus inputs as
parsing receives them (a fax file's bytes, or one attachment of an e-mail message)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "sample_faxes"
TRUTH = CORPUS / "truth.json"


@dataclass
class CorpusInput:
    receipt: dict[str, Any]
    content: bytes

    @property
    def id(self) -> str:
        return str(self.receipt["id"])

    @property
    def category(self) -> str:
        return category(self.receipt)


def category(receipt: dict[str, Any]) -> str:
    fmt, resolution = receipt["format"], receipt.get("resolution")
    if receipt["kind"] == "broken":
        return "broken"
    if fmt == "pdf_text":
        return "born_digital_pdf"
    if fmt == "pdf_scan_gray":
        return "scanned_pdf"
    if fmt in ("jpeg_photo", "png_photo"):
        return "photo"
    return "standard_fax" if resolution == "standard" else "fine_fax"


def load_truth() -> dict[str, Any]:
    return json.loads(TRUTH.read_text(encoding="utf-8"))


def attachment_bytes(message: bytes, index: int | None, file_name: str | None) -> bytes:
    """The receipt's document inside its message: by index among the documents ingest
    finds, else (for parts ingest rejects, e.g. a .docx) by the declared file name."""
    from ingest.mime import iter_documents

    documents = iter_documents(message)
    if index is not None and index < len(documents):
        return documents[index].content
    msg = message_from_bytes(message, policy=policy.default)
    for part in msg.walk():
        if part.get_filename() and file_name and part.get_filename().split("/")[-1] == file_name.split("/")[-1]:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return b""


def load_inputs(ids: set[str] | None = None) -> list[CorpusInput]:
    truth = load_truth()
    inputs = []
    for receipt in truth["receipts"]:
        if ids is not None and receipt["id"] not in ids:
            continue
        raw = (CORPUS / receipt["path"]).read_bytes()
        if receipt["channel"] == "bfs_email":
            raw = attachment_bytes(raw, receipt.get("attachment_index"), receipt.get("file_name"))
        inputs.append(CorpusInput(receipt, raw))
    return inputs
