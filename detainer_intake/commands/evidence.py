"""Body of ``detainer-intake evidence REQUEST_ID --out FILE.pdf [--include-pii]``: one request's evidence
packet (``application.evidence``). The packet is written 0600; without ``--include-pii`` it is redacted
(no personal value in its text, personal fields' boxes blacked out on the page images). Nothing
personal is printed."""

from __future__ import annotations

from pathlib import Path

from application.review import BadArgument
from core.config import Settings
from core.errors import ExitCode
from detainer_intake.commands.common import open_configured, plain_console


def evidence_command(settings: Settings, request_id: str, out: Path, include_pii: bool = False) -> int:
    """Write the evidence packet of ``request_id`` to ``out`` (a PDF)."""
    from application.evidence import build_packet

    request_id = request_id.strip().upper()
    if not request_id.startswith("REQ-"):
        raise BadArgument("give a request id (REQ-...), as the report and `audit` show it")
    if out.suffix.lower() != ".pdf":
        raise BadArgument("--out must name a .pdf file")
    ledger = open_configured(settings, writes=False)
    try:
        packet = build_packet(
            ledger,
            Path(settings.archive.path),
            request_id,
            out,
            include_pii=include_pii,
            timezone=settings.department.timezone,
            department=settings.department.name,
            parsing=settings.parsing,
        )
    finally:
        ledger.close()
    console = plain_console()
    withheld = [p for p in packet.pages if p.withheld is not None]
    console.print(
        f"wrote {packet.path}: {packet.pdf_pages} PDF pages, {packet.page_images} page images"
        + (f", {len(withheld)} withheld" if withheld else "")
        + ("; it contains personal data" if include_pii else "; redacted (no personal values)")
    )
    for page in withheld:
        console.print(f"  withheld: document {page.document_sha256[:12]} page {page.page}: {page.withheld}")
    return ExitCode.ok
