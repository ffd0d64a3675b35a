"""`detainer-intake evidence REQUEST_ID --out FILE.pdf [--include-pii]`: the packet opens (pdftoppm renders
every page), holds the summary, both arrivals, the decisions and one image per received page with the
fields' boxes drawn; the redacted packet holds none of the request's personal values in its text, its
personal fields' boxes are black on the page image, and a page no field was read from is withheld."""

from __future__ import annotations

import io
import stat
import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image
from typer.testing import CliRunner

from application.evidence import build_packet
from core.config import ParsingSettings
from detainer_intake.cli import app
from ingest.archive import Archive
from ingest.models import Receipt, sha256_hex
from parsing.extract import extract_document
from tests.born_digital import Page, i247a_header_pdf
from tests.ledger_support import T0
from tests.report_support import leaked, settings_for, truth_personal_values

# Made-up values, printed on a born-digital I-247A page 1 (read through its text layer, with boxes).
ROWS = (
    (("Subject ID:", "845120973"), ("Event No.:", "PHX2503007731")),
    (("File No.:", "A204-918-337"), ("Date Issued:", "03/01/2025")),
    (("Name of Alien:", "QUINTERO VALDEZ, Lucia"),),
    (("DOB:", "07/19/1991"), ("Country of Citizenship:", "HONDURAS"), ("Gender:", "Female")),
)
CORRECTED_NAME = "QUINTERO VALDES, Lucia"
NOTE = "Held for ICE; Lucia Quintero released to the deputies"
PERSON = {
    "subject_name": "QUINTERO VALDEZ, Lucia",
    "file_number": "A204918337",
    "event_number": "PHX2503007731",
    "subject_id": "845120973",
    "date_of_birth": "1991-07-19",
}


def _document() -> bytes:
    """Page 1: the form's header; page 2: a notice printing the name where no field box is."""
    notice = Page()
    notice.text(40, 80, "NOTICE TO THE DETAINEE", 12, "Helvetica-Bold")
    notice.text(40, 110, "This notice concerns QUINTERO VALDEZ, Lucia.", 10)
    merged = pikepdf.Pdf.new()
    for part in (i247a_header_pdf(ROWS), notice.finish()):
        with pikepdf.open(io.BytesIO(part)) as source:
            merged.pages.extend(source.pages)
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


@pytest.fixture
def env(ledger, tmp_path):
    """(settings, ledger, request id, extraction): one request, its document archived and received twice."""
    settings = settings_for(ledger.engine.url.render_as_string(hide_password=False), tmp_path)
    content = _document()
    sha = Archive(settings.archive.path).store(content).name
    assert sha == sha256_hex(content)
    extraction = extract_document(content, settings=ParsingSettings())
    [detainer] = extraction.detainers
    assert detainer.subject_name == PERSON["subject_name"] and detainer.evidence["subject_name"].bbox is not None
    arrivals = (("fax/1.pdf", "dedicated_fax", None, 0), ("c6/1.pdf", "station_fax", "C-6", 2))
    for key, channel, station, later in arrivals:
        receipt = Receipt(channel=channel, station=station, source_key=key, received_at=T0 + timedelta(hours=later),
                          file_name=f"detainer-{later}.pdf", sha256=sha, size=len(content))
        ledger.record(receipt, extraction)
    [view] = ledger.requests()
    ledger.correct(f"{sha}:0", "subject_name", CORRECTED_NAME, "Officer Fix", why="misspelt, see " + CORRECTED_NAME)
    ledger.set_disposition(view.id, "detained", "Sgt. Example", reimbursement="250.00", note=NOTE)
    return settings, ledger, view.id, extraction


def _personal_values() -> set[str]:
    values = truth_personal_values({"receipts": [{"detainers": [PERSON, {"subject_name": CORRECTED_NAME}]}]})
    return values | {"a204-918-337", "honduras", "female", NOTE.lower(), "lucia"}


def _pages(pdf: Path) -> list[str]:
    """Each page's text (pdftotext), after checking pdftoppm renders every page."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    rendered = pdf.parent / f"{pdf.stem}-render"
    rendered.mkdir()
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(rendered / "p")], check=True, capture_output=True)
    images = sorted(rendered.glob("p-*.png"))
    assert len(images) == count
    for path in images:
        with Image.open(path) as image:
            assert image.size[0] > 100 and np.asarray(image.convert("L")).min() < 128  # something drawn on it
    texts = []
    for number in range(1, count + 1):
        texts.append(
            subprocess.run(["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
        )
    return texts


def _page_image(pdf: Path, folder: Path) -> np.ndarray:
    """The one form page image embedded in the packet, as the packet holds it (pdfimages)."""
    folder.mkdir()
    subprocess.run(["pdfimages", "-png", str(pdf), str(folder / "img")], check=True, capture_output=True)
    [path] = [p for p in sorted(folder.glob("img-*.png")) if Image.open(p).size[0] > 1000][:1]
    return np.asarray(Image.open(path).convert("L"))


def test_the_packet_opens_and_holds_every_page_with_the_boxes(env, tmp_path):
    settings, ledger, request_id, extraction = env
    out = tmp_path / "packet.pdf"
    packet = build_packet(ledger, settings.archive.path, request_id, out, include_pii=True)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    texts = _pages(out)
    assert packet.pdf_pages == len(texts) and packet.page_images == 2
    whole = "\n".join(texts)
    sha = extraction.sha256
    images = [t for t in texts if "Page image: page" in t]
    assert len(images) == 2
    # each image on the page of its caption
    listed = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True).stdout
    image_pages = [int(line.split()[0]) for line in listed.splitlines()[2:]]
    assert image_pages == [n for n, t in enumerate(texts, 1) if "Page image: page" in t]
    assert "Page image: page 1 of 2 (detainer_p1)" in images[0] and "Page image: page 2 of 2" in images[1]
    for expected in (
        f"Evidence packet: request {request_id}",
        "dedicated_fax",
        "station_fax",
        "detainer-0.pdf",
        "detainer-2.pdf",
        sha[:40],
        "Grouping: first",
        "same_content" if "same_content" in whole else "founding copy",
        "Officer Fix",
        "Sgt. Example",
        "detained",
        CORRECTED_NAME,  # with --include-pii the values are shown, corrected
        "07/19/1991" if "07/19/1991" in whole else "1991-07-19",
        "Fax headers and pages",
        "Disposition history",
    ):
        assert expected in whole, expected
    # the boxes are drawn: red around the subject's name (not blacked out)
    page = _page_image(out, tmp_path / "pii-images")
    box = extraction.detainers[0].evidence["subject_name"].bbox
    inside = page[box.top : box.top + box.height, box.left : box.left + box.width]
    assert inside.mean() > 150  # the name's ink on white paper


def test_the_redacted_packet_holds_no_personal_value(env, tmp_path):
    settings, ledger, request_id, extraction = env
    out = tmp_path / "redacted.pdf"
    packet = build_packet(ledger, settings.archive.path, request_id, out)
    texts = _pages(out)
    whole = "\n".join(texts)
    assert not leaked(whole, _personal_values()), leaked(whole, _personal_values())
    assert "(withheld: --include-pii)" in whole and "Redacted" in whole
    # page 1 (the fields read) is shown, page 2 (the name printed where no box is) is withheld
    assert packet.page_images == 1 and [p.page for p in packet.pages if p.withheld] == [2]
    assert sum("Page image: page" in t for t in texts) == 1 and "Page image withheld" in whole
    # the personal fields' boxes are black on the page image; the other fields' are not
    page = _page_image(out, tmp_path / "redacted-images")
    evidence = extraction.detainers[0].evidence
    for name in ("subject_name", "date_of_birth", "file_number", "event_number", "subject_id", "citizenship", "sex"):
        box = evidence[name].bbox
        inside = page[box.top : box.top + box.height, box.left : box.left + box.width]
        assert inside.mean() < 20, name
    box = evidence["issued_date"].bbox
    assert page[box.top : box.top + box.height, box.left : box.left + box.width].mean() > 150
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert not leaked(info, _personal_values())


def test_the_cli_writes_the_packet(env, tmp_path):
    settings, _, request_id, _ = env
    config = tmp_path / "config.toml"
    config.write_text(
        f'[ledger]\nurl = "{settings.ledger.url}"\n[archive]\npath = "{settings.archive.path}"\n', encoding="utf-8"
    )
    runner = CliRunner()
    out = tmp_path / "cli.pdf"
    result = runner.invoke(app, ["evidence", request_id.lower(), "--out", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 page images, 1 withheld" in result.output and "redacted" in result.output
    assert not leaked(result.output, _personal_values())
    assert out.read_bytes().startswith(b"%PDF")
    result = runner.invoke(app, ["evidence", request_id, "--out", str(out), "--include-pii", "--config", str(config)])
    assert result.exit_code == 0 and "2 page images" in result.output and "personal data" in result.output
    bad = runner.invoke(app, ["evidence", "12", "--out", str(out), "--config", str(config)])
    assert bad.exit_code == 2
    bad = runner.invoke(app, ["evidence", request_id, "--out", str(tmp_path / "x.txt"), "--config", str(config)])
    assert bad.exit_code == 2


def test_a_document_missing_from_the_archive_is_said_so(env, tmp_path):
    settings, ledger, request_id, extraction = env
    Archive(settings.archive.path).path_for(extraction.sha256).unlink()
    packet = build_packet(ledger, settings.archive.path, request_id, tmp_path / "p.pdf", include_pii=True)
    assert packet.page_images == 0
    assert {p.withheld for p in packet.pages} == {"the document is missing from the archive"}
    assert "missing from the archive" in "\n".join(_pages(tmp_path / "p.pdf"))


def test_a_page_that_cannot_be_rendered_is_said_so(env, tmp_path, monkeypatch):
    from application import evidence
    from core.errors import UnreadableInput

    settings, ledger, request_id, _ = env

    def refuse(*args, **kwargs):
        raise UnreadableInput("over the render bound")

    monkeypatch.setattr(evidence, "render_page", refuse)
    packet = build_packet(ledger, settings.archive.path, request_id, tmp_path / "p.pdf", include_pii=True)
    assert packet.page_images == 0
    assert {p.withheld for p in packet.pages} == {"it could not be rendered (UnreadableInput)"}
    assert "could not be rendered" in "\n".join(_pages(tmp_path / "p.pdf"))
