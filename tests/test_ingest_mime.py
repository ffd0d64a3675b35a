"""ingest.mime / ingest.sniff / ingest.names: documents out of e-mail messages, pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import MalformedMessage
from core.formats import Format, sniff_document
from ingest.mime import iter_documents, parse_message
from ingest.names import MAX_NAME_CHARS, sanitize_filename

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
DOCX = b"PK\x03\x04" + b"\x00" * 32


def message(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.get("from", "ERO Desk <ero.desk@ice.example>")
    msg["To"] = "bfs@dept.example"
    msg["Subject"] = headers.get("subject", "Detainer")
    msg["Message-ID"] = headers.get("message_id", "<m1@ice.example>")
    msg["Date"] = headers.get("date", "Tue, 04 Mar 2025 09:21:40 -0500")
    if "received" in headers:
        msg["Received"] = headers["received"]
    msg.set_content("Please see attached.\n")
    return msg


def test_sniff_by_magic_numbers() -> None:
    assert sniff_document(PDF) is Format.pdf
    assert sniff_document(b"junk before the header " + PDF) is Format.pdf
    assert sniff_document(TIFF) is Format.tiff
    assert sniff_document(b"MM\x00*" + b"\x00" * 8) is Format.tiff
    assert sniff_document(PNG) is Format.png
    assert sniff_document(JPEG) is Format.jpeg
    for other in (b"", DOCX, b"MZ\x90\x00", b"BEGIN:VCARD\r\n", b"hello"):
        assert sniff_document(other) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I-247A_scan.pdf", "I-247A_scan.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.tif", "evil.tif"),
        ("..", "document"),
        (".hidden.pdf", "hidden.pdf"),
        ("\u202e.pdf", "document.pdf"),
        ("bad\x00name\x1b[31m.pdf", "badname[31m.pdf"),
        ("a:b*c?.pdf", "a_b_c_.pdf"),
        ("right\u202etxt.exe", "righttxt.exe"),
        ("", "document"),
        (None, "document"),
    ],
)
def test_sanitize_filename(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_sanitize_filename_limits_length_and_keeps_extension() -> None:
    name = sanitize_filename("x" * 500 + ".pdf")
    assert len(name) <= MAX_NAME_CHARS
    assert name.endswith(".pdf")


def test_attachments_by_content_not_declared_type() -> None:
    msg = message(received="from mx.ice.example by mail.dept.example; Tue, 04 Mar 2025 09:22:05 -0500")
    msg.add_attachment(PDF, maintype="application", subtype="octet-stream", filename="scan.bin")
    msg.add_attachment(TIFF, maintype="image", subtype="tiff", filename="fax.tif")
    msg.add_attachment(b"BEGIN:VCARD\r\nEND:VCARD\r\n", maintype="text", subtype="vcard", filename="sig.vcf")
    msg.add_attachment(b"regards", maintype="text", subtype="plain", filename="signature.txt")
    msg.add_attachment(DOCX, maintype="application", subtype="pdf", filename="draft.docx")  # lies about its type
    msg.add_attachment(b"MZ\x90\x00" * 8, maintype="application", subtype="octet-stream", filename="run.exe")
    parsed = parse_message(bytes(msg))
    # Attached non-text files arrive whatever they are; those that are no document have no format.
    assert [(d.index, d.file_name, d.format) for d in parsed.documents] == [
        (0, "scan.bin", Format.pdf),
        (1, "fax.tif", Format.tiff),
        (2, "draft.docx", None),
        (3, "run.exe", None),
    ]
    assert parsed.documents[0].content == PDF
    assert parsed.documents[2].content == DOCX and parsed.documents[2].content_type == "application/pdf"
    assert {(r.name, r.reason) for r in parsed.rejected} == {
        ("part-1", "body_text"),
        ("sig.vcf", "unsupported_format"),
        ("signature.txt", "unsupported_format"),
    }
    assert parsed.message_id == "<m1@ice.example>"
    assert parsed.sender == "ero.desk@ice.example"
    assert parsed.received_header_at == datetime(2025, 3, 4, 14, 22, 5, tzinfo=UTC)
    assert parsed.date_header_at == datetime(2025, 3, 4, 14, 21, 40, tzinfo=UTC)
    assert iter_documents(bytes(msg)) == parsed.documents


def test_forwarded_message_and_inline_image_depth_first() -> None:
    inner = message(message_id="<inner@ice.example>", from_="ice@ice.example")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="I-247A.pdf")
    outer = message(message_id="<outer@dept.example>", **{"from": "Lt. Desk <lt.desk@dept.example>"})
    outer.add_alternative("<p>see below <img src='cid:logo'></p>", subtype="html")
    html = outer.get_payload()[1]
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo>")
    outer.add_attachment(inner)
    outer.add_attachment(JPEG, maintype="image", subtype="jpeg", filename="IMG_0001.jpg")
    parsed = parse_message(bytes(outer))
    assert [(d.index, d.format, d.inline, d.forwarded) for d in parsed.documents] == [
        (0, Format.png, True, False),
        (1, Format.pdf, False, True),
        (2, Format.jpeg, False, False),
    ]
    assert parsed.documents[0].file_name.startswith("part-") and parsed.documents[0].file_name.endswith(".png")
    assert parsed.documents[1].file_name == "I-247A.pdf"
    assert parsed.message_id == "<outer@dept.example>"  # the outer message is the arrival
    assert parsed.sender == "lt.desk@dept.example"


def test_message_without_document_is_reported_not_dropped() -> None:
    parsed = parse_message(bytes(message()))
    assert parsed.documents == []
    assert [r.reason for r in parsed.rejected] == ["body_text"]


def test_single_part_document_message() -> None:
    raw = (
        b"From: scanner@dept.example\r\nMessage-ID: <scan@dept.example>\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + __import__("base64").encodebytes(PDF)
    )
    [doc] = iter_documents(raw)
    assert doc.part == "1" and doc.content == PDF and doc.file_name == "part-1.pdf"


def test_missing_boundary_is_recovered_from_the_delimiter_lines() -> None:
    msg = message()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    raw = bytes(msg)
    broken = raw.replace(b'; boundary="', b'; boundaryX="')  # the parameter is gone
    parsed = parse_message(broken)
    assert [d.content for d in parsed.documents] == [PDF]
    assert "RecoveredBoundary" in parsed.defects


def test_unrecoverable_multipart_raises_malformed_message() -> None:
    raw = (
        b"From: a@ice.example\r\nMessage-ID: <bad@ice.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nJVBERi0xLjQKJeLjz9MK no delimiters at all\r\n"
    )
    with pytest.raises(MalformedMessage) as err:
        parse_message(raw)
    assert err.value.reason == "malformed_message"


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 no headers"])
def test_empty_or_headerless_input_raises_malformed_message(raw: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(raw)


def test_undecodable_headers_degrade_gracefully() -> None:
    raw = (
        b"From: =?x-unknown?q?Gr=FC=DFe?= <\xff\xfeofficer@ice.example>\r\n"
        b"Subject: =?utf-8?b?!!!not base64?=\r\n"
        b"Message-ID: <odd\x80id@ice.example>\r\n"
        b"Received: from x by y; not a date\r\n"
        b"Received: from a by b; Tue, 04 Mar 2025 09:00:00 -0500\r\n"
        b"Date: garbage\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nbody \xe9\r\n"
        b'--b1\r\nContent-Type: application/pdf; name="=?bogus?b?@@@?="\r\n'
        b"Content-Disposition: attachment; filename*=utf-8''%E2%80%AE%FF.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n"
    )
    parsed = parse_message(raw)
    assert len(parsed.documents) == 1 and parsed.documents[0].content.startswith(b"%PDF-1.4")
    name = parsed.documents[0].file_name
    assert name.endswith(".pdf") and all(ch.isprintable() for ch in name)
    assert parsed.received_header_at == datetime(2025, 3, 4, 14, 0, tzinfo=UTC)  # first parseable one
    assert parsed.date_header_at is None


def test_header_date_without_zone_uses_the_given_zone() -> None:
    raw = b"From: a@b.example\r\nReceived: from x by y; Tue, 04 Mar 2025 09:00:00\r\n\r\nhi\r\n"
    parsed = parse_message(raw, ZoneInfo("America/New_York"))
    assert parsed.received_header_at == datetime(2025, 3, 4, 14, 0, tzinfo=UTC)


def test_base64_encoded_forwarded_message_and_eml_attachment() -> None:
    inner = message(message_id="<inner@x>")
    inner.add_attachment(TIFF, maintype="image", subtype="tiff", filename="fax.tif")
    outer = message(message_id="<outer@x>")
    outer.add_attachment(bytes(inner), maintype="application", subtype="octet-stream", filename="original.eml")
    docs = iter_documents(bytes(outer))
    assert [(d.file_name, d.forwarded) for d in docs] == [("fax.tif", True)]


def test_nesting_is_bounded() -> None:
    current = message(message_id="<deep0@x>")
    current.add_attachment(PDF, maintype="application", subtype="pdf", filename="deep.pdf")
    for level in range(1, 15):
        wrapper = message(message_id=f"<deep{level}@x>")
        wrapper.add_attachment(current)
        current = wrapper
    parsed = parse_message(bytes(current))
    assert parsed.documents == []
    assert any(r.reason == "nested_too_deep" for r in parsed.rejected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    try:
        parse_message(raw)
    except MalformedMessage:
        pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mangled_real_messages_never_crash(data: st.DataObject) -> None:
    msg = message()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    raw = bytearray(bytes(msg))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at : at + data.draw(st.integers(0, 20))] = data.draw(st.binary(max_size=20))
    try:
        parse_message(bytes(raw))
    except MalformedMessage:
        pass
