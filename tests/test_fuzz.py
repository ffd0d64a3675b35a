"""Property-based fuzzing of what reads untrusted text and bytes: the field parsers, the fax header
line, format sniffing, file-name sanitising and the MIME walker.

Every property: the function returns a well-formed value or raises one of the project's typed
errors (``IntakeError`` subclasses), never anything else, and never hangs (each example has a
deadline; regular expressions that backtrack catastrophically would blow it). Round trips check
that values written the way forms and fax machines print them are read back exactly.

Examples are derandomised (the same every run, no ``.hypothesis`` folder written): set
``FUZZ_RANDOM=1`` for fresh examples and ten times as many.
"""

from __future__ import annotations

import os
import re
import string
import struct
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import IntakeError
from core.formats import Format
from ingest.faxmeta import tiff_ascii_tags
from ingest.mime import MimeDocument, ParsedMessage, iter_documents, parse_message
from ingest.names import MAX_NAME_CHARS, sanitize_filename
from parsing import fields
from parsing.header import FaxHeader, parse_header
from parsing.sniff import sniff

RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
NY = ZoneInfo("America/New_York")
A_NUMBER = re.compile(r"^A[0-9]{9}$")  # ASCII digits: \d would also take "٣" or "３"
E164 = re.compile(r"^\+[0-9]{8,15}$")


def fuzz(examples: int, deadline_ms: int = 500) -> Any:
    """Bounded examples with a per-example deadline; deterministic unless FUZZ_RANDOM=1."""
    return settings(
        max_examples=examples * (10 if RANDOM else 1),
        deadline=timedelta(milliseconds=deadline_ms),
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# OCR-ish text: what Tesseract hands the parsers (letters, digits, lookalikes, punctuation, odd spaces).
OCR_ALPHABET = string.ascii_letters + string.digits + " -/.,:;#|!()[]'\"\t\n+_~*«»—–ÀÉÑ\u00a0\u200b"
ocr_text = st.one_of(st.text(alphabet=OCR_ALPHABET, max_size=80), st.text(max_size=80))
long_ocr_text = st.text(alphabet=OCR_ALPHABET, min_size=200, max_size=3000)


def typed(call: Any, *args: Any) -> Any:
    """Call; a typed project error is an accepted outcome (returned), anything else propagates."""
    try:
        return call(*args)
    except IntakeError as exc:
        return exc


# --------------------------------------------------------------------------- field parsers


@fuzz(1000)
@given(ocr_text)
def test_field_parsers_return_well_formed_values_or_none(text: str) -> None:
    a_number = fields.normalize_a_number(text)
    assert a_number is None or A_NUMBER.match(a_number)
    if a_number is not None:
        assert fields.normalize_a_number(a_number) == a_number  # idempotent
    day = fields.parse_date(text)
    assert day is None or isinstance(day, date)
    assert fields.normalize_sex(text) in (None, "M", "F", "U", "X")
    for value in (fields.clean_text(text), fields.normalize_name(text), fields.normalize_identifier(text)):
        assert value is None or (value == value.strip() and value != "")
    identifier = fields.normalize_identifier(text)
    assert identifier is None or not re.search(r"\s", identifier)
    phone = fields.normalize_phone(text)
    assert phone is None or E164.match(phone)
    country = fields.normalize_citizenship(text)
    assert country is None or country == country.upper()
    assert set(fields.digits_of(text)) <= set(string.digits)


@fuzz(150, deadline_ms=1500)
@given(long_ocr_text)
def test_field_parsers_stay_fast_on_long_noisy_lines(text: str) -> None:
    """A whole OCR'd page run through every parser: no pattern may backtrack for long."""
    for parse in (
        fields.normalize_a_number,
        fields.parse_date,
        fields.normalize_name,
        fields.normalize_identifier,
        fields.normalize_phone,
        fields.normalize_sex,
    ):
        parse(text)
    parse_header(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("A０１２３４５６７８", "A012345678"), ("A٠١٢٣٤٥٦٧٨", "A012345678"), ("A 𑄶𑄶𑄶 123 456", "A000123456")],
    ids=["full-width", "arabic-indic", "chakma"],
)
def test_a_numbers_in_other_digit_scripts_come_out_in_ascii(text: str, expected: str) -> None:
    """A PDF text layer may carry full-width or other-script digits; the ledger must compare A-numbers as ASCII."""
    assert fields.normalize_a_number(text) == expected


def test_numbers_in_other_digit_scripts_never_come_out_in_that_script() -> None:
    assert fields.normalize_phone("٦١٧٥٥٥٠١٤٣") == "+16175550143"
    assert fields.normalize_phone("+１ ６１７ ５５５ ０１４３") == "+16175550143"
    assert fields.digits_of("A１２-٣٤") == "1234"
    assert fields.normalize_phone("Tel: ٦١٧-٥٥٥-٠١٤٣") == "+16175550143"


@fuzz(500)
@given(
    st.integers(min_value=1_000_000, max_value=999_999_999),
    st.sampled_from(["A{}", "A {}", "A-{}", "{}", "A#{}"]),
    st.sampled_from(["plain", "dashed", "spaced"]),
)
def test_a_numbers_as_printed_read_back(number: int, shape: str, grouping: str) -> None:
    digits = f"{number:09d}"
    body = {
        "plain": digits,
        "dashed": f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
        "spaced": f"{digits[:3]} {digits[3:6]} {digits[6:]}",
    }[grouping]
    assert fields.normalize_a_number(shape.format(body)) == "A" + digits


@fuzz(500)
@given(
    st.dates(min_value=date(1930, 1, 1), max_value=date(2039, 12, 31)),
    st.sampled_from(
        [
            "{m}/{d}/{Y}",
            "{m:02d}/{d:02d}/{Y}",
            "{Y}-{m:02d}-{d:02d}",
            "{m}-{d}-{Y}",
            "{M} {d}, {Y}",
            "{d} {M} {Y}",
            "{m:02d}/{d:02d}/{y:02d}",
        ]
    ),
    st.sampled_from(["", "DOB: ", "Date of Birth ", "issued "]),
)
def test_dates_as_printed_read_back(day: date, shape: str, prefix: str) -> None:
    text = prefix + shape.format(m=day.month, d=day.day, Y=day.year, y=day.year % 100, M=day.strftime("%B"))
    expected = day
    if "{y:02d}" in shape:  # two-digit years pivot at 40: 00-39 -> 20xx, 40-99 -> 19xx
        century = 2000 if day.year % 100 < 40 else 1900
        expected = day.replace(year=century + day.year % 100)
    assert fields.parse_date(text) == expected


@fuzz(400)
@given(st.text(alphabet=string.digits + "()-. +", max_size=30))
def test_phone_numbers_keep_their_digits(text: str) -> None:
    phone = fields.normalize_phone(text)
    if phone is not None:
        assert re.sub(r"\D", "", text).endswith(phone[1:][-10:])


# --------------------------------------------------------------------------- fax header line


@fuzz(1000)
@given(ocr_text, st.sampled_from(["America/New_York", "UTC", "Pacific/Kiritimati"]))
def test_header_parser_returns_a_well_formed_header_or_none(line: str, zone: str) -> None:
    header = parse_header(line, zone)
    if header is None:
        return
    assert isinstance(header, FaxHeader)
    assert header.sender_number is None or E164.match(header.sender_number)
    assert header.sent_at is None or header.sent_at.tzinfo is not None
    assert (header.page is None) == (header.total is None)
    assert header.raw == " ".join(line.split())


phones = st.integers(min_value=2_000_000_000, max_value=9_999_999_999).filter(
    lambda n: str(n)[3] not in "01" and str(n)[0] not in "01"
)


@fuzz(600)
@given(
    phones,
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2038, 12, 31)).map(
        lambda t: t.replace(second=0, microsecond=0)
    ),
    st.integers(min_value=1, max_value=20),
    st.sampled_from(["hylafax", "tti", "server"]),
)
def test_fax_header_lines_as_machines_print_them_read_back(number: int, when: datetime, page: int, style: str) -> None:
    total = page + 2
    digits = str(number)
    if style == "hylafax":
        line = f"From +1{digits}   {when:%b} {when.day} {when:%Y %H:%M}   Page {page} of {total}"
    elif style == "tti":
        number_text = f"+1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        line = f"{when:%m-%d-%Y %H:%M} FROM: TOSHIBA {number_text} T-123 P.{page:03d}/{total:03d}"
    else:
        hour = when.hour % 12 or 12
        line = (
            f"{when.month}/{when.day}/{when.year} {hour}:{when:%M} {'PM' if when.hour >= 12 else 'AM'}"
            f"    FROM:+1{digits} Acme Inc.   TO:15559876543     Pag.{page}/{total}"
        )
    header = parse_header(line, "America/New_York")
    assert header is not None, line
    assert header.sender_number == "+1" + digits, line
    local = when.replace(tzinfo=NY)
    if local.astimezone(UTC).astimezone(NY).replace(tzinfo=None) == when:  # not inside a DST gap
        assert header.sent_at == local, line
    assert (header.page, header.total) == (page, total), line


# --------------------------------------------------------------------------- bytes: sniffing and names


@fuzz(600)
@given(
    st.one_of(
        st.binary(max_size=600),
        st.sampled_from([b"%PDF-", b"II*\x00", b"\x89PNG\r\n\x1a\n", b"From: x\nTo: y\n"]).flatmap(
            lambda head: st.binary(max_size=400).map(lambda tail: head + tail)
        ),
    )
)
def test_sniffing_any_bytes_gives_a_format_or_a_typed_error(content: bytes) -> None:
    outcome = typed(sniff, content)
    assert isinstance(outcome, (Format, IntakeError))
    if isinstance(outcome, IntakeError):
        assert getattr(outcome, "reason", None) in ("empty", "unsupported_format")


def _tiff_header(order: bytes, big: bool, ifd: int, body: bytes) -> bytes:
    endian = "<" if order == b"II" else ">"
    if big:
        return order + struct.pack(endian + "HHHQ", 43, 8, 0, ifd) + body
    return order + struct.pack(endian + "HI", 42, ifd % 2**32) + body


@fuzz(400)
@given(
    st.sampled_from([b"II", b"MM"]),
    st.booleans(),
    st.one_of(st.integers(0, 64), st.integers(0, 2**64 - 1)),
    st.binary(max_size=300),
)
def test_fax_tiff_tags_of_any_header_are_read_or_absent(order: bytes, big: bool, ifd: int, body: bytes) -> None:
    """Whatever a TIFF header claims (offsets past any index, counts of gigabytes), its fax tags are a
    small dict of short strings or nothing: reading them never raises and never runs long."""
    tags = tiff_ascii_tags(_tiff_header(order, big, ifd, body), (306, 270))
    assert set(tags) <= {306, 270}
    assert all(isinstance(v, str) and len(v) <= 4096 for v in tags.values())


@fuzz(800)
@given(
    st.one_of(st.text(max_size=400), st.text(alphabet="./\\\x00\x01\r\n \t:*?<>|\"'~$", max_size=40)),
    st.sampled_from(["document", "part-3.pdf"]),
)
def test_sanitised_file_names_are_plain_and_bounded(name: str, fallback: str) -> None:
    safe = sanitize_filename(name, fallback=fallback)
    assert safe and len(safe) <= MAX_NAME_CHARS
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and ".." not in safe.split("/")
    assert all(ch.isprintable() for ch in safe)
    assert sanitize_filename(safe, fallback=fallback) == safe  # idempotent


# --------------------------------------------------------------------------- the MIME walker

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 24
DOC_BYTES = st.sampled_from([PDF, TIFF, b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, b"\xff\xd8\xff\xe0" + b"\x00" * 16])
header_text = st.text(alphabet=string.printable + "éü中\u200b", max_size=60)
names = st.one_of(st.none(), st.text(max_size=300), st.sampled_from(["../../x.pdf", "a\x00b.tif", "=?utf-8?B?//8=?="]))


@st.composite
def message_trees(draw: st.DrawFn, depth: int = 0) -> Message:
    """Random message structures: nested multiparts, forwarded messages, documents, text, junk parts."""
    kind = draw(st.sampled_from(["doc", "text", "junk", "multipart", "forward"] if depth < 4 else ["doc", "text"]))
    if kind == "doc":
        part = MIMEApplication(draw(DOC_BYTES), draw(st.sampled_from(["pdf", "octet-stream", "tiff"])))
        name = draw(names)
        if name is not None:
            try:
                part.add_header("Content-Disposition", "attachment", filename=name)
            except ValueError:
                part.add_header("Content-Disposition", "attachment")
        return part
    if kind == "text":
        return MIMEText(draw(st.text(max_size=200)), draw(st.sampled_from(["plain", "html"])), "utf-8")
    if kind == "junk":
        return MIMEApplication(draw(st.binary(max_size=200)), "octet-stream")
    if kind == "forward":
        inner = draw(message_trees(depth + 1))
        return MIMEMessage(inner)
    container = MIMEMultipart(draw(st.sampled_from(["mixed", "alternative", "related"])))
    for child in draw(st.lists(message_trees(depth + 1), max_size=4)):
        container.attach(child)
    return container


MUTATIONS = ["none", "drop_boundary", "wrong_boundary", "truncate", "flip", "bare_lf", "8bit_headers", "no_blank_line"]


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    root = draw(message_trees())
    envelope = root if root.is_multipart() or isinstance(root, MIMEMessage) else MIMEMultipart("mixed")
    if envelope is not root:
        envelope.attach(root)
    boundary = draw(st.text(alphabet=string.ascii_letters + string.digits + "'()+_,-./:=? ", min_size=1, max_size=30))
    for number, part in enumerate(envelope.walk()):
        if part.is_multipart() and not isinstance(part, MIMEMessage):
            part.set_boundary(f"{boundary.strip() or 'b'}{number}")  # the email package would draw random ones
    raw = envelope.as_bytes(policy=policy.SMTP)
    # Outer headers as raw lines (any text, UTF-8, possibly with stray line breaks): the email
    # package would refuse to write some of them, a sender's software would not.
    extra = b"".join(
        f"{name}: {draw(header_text)}\r\n".encode("utf-8", "surrogateescape")
        for name in ("From", "Subject", "Message-ID", "Date", "Received")
        if draw(st.booleans())
    )
    raw = extra + raw
    mutation = draw(st.sampled_from(MUTATIONS))
    if mutation == "drop_boundary":
        raw = re.sub(rb';\s*boundary="[^"]*"', b"", raw, count=1)
    elif mutation == "wrong_boundary":
        raw = re.sub(rb'boundary="[^"]*"', b'boundary="not-the-one"', raw, count=1)
    elif mutation == "truncate" and raw:
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif mutation == "flip" and raw:
        data = bytearray(raw)
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        raw = bytes(data)
    elif mutation == "bare_lf":
        raw = raw.replace(b"\r\n", b"\n")
    elif mutation == "8bit_headers":
        raw = b"Subject: \xff\xfe\xfa =?utf-8?B?####?=\r\nFrom: \xc3(\r\n" + raw
    elif mutation == "no_blank_line":
        raw = raw.replace(b"\r\n\r\n", b"\r\n", 1)
    return raw


def check_parsed(parsed: ParsedMessage) -> None:
    assert [d.index for d in parsed.documents] == list(range(len(parsed.documents)))
    for document in parsed.documents:
        assert isinstance(document, MimeDocument)
        assert document.content and len(document.sha256) == 64
        assert document.file_name == sanitize_filename(document.file_name)
        assert "/" not in document.file_name and all(ch.isprintable() for ch in document.file_name)
    for part in parsed.rejected:
        assert part.reason in ("body_text", "unsupported_format", "empty", "too_large", "nested_too_deep")
        assert "/" not in part.name
    for when in (parsed.received_header_at, parsed.date_header_at):
        assert when is None or when.utcoffset() == timedelta(0)
    assert parsed.message_id is None or (len(parsed.message_id) <= 250 and parsed.message_id.isprintable())
    assert parsed.sender is None or parsed.sender.isprintable()


@fuzz(600, deadline_ms=2000)
@given(raw_messages())
def test_mime_walker_on_structured_and_mangled_messages(raw: bytes) -> None:
    outcome = typed(parse_message, raw, NY)
    if isinstance(outcome, IntakeError):
        assert getattr(outcome, "reason", None) == "malformed_message"
        return
    check_parsed(outcome)
    assert [d.content for d in typed_documents(raw)] == [d.content for d in outcome.documents]


def typed_documents(raw: bytes) -> list[MimeDocument]:
    documents = typed(iter_documents, raw)
    assert not isinstance(documents, IntakeError), "iter_documents disagrees with parse_message"
    return documents  # type: ignore[no-any-return]


@fuzz(100, deadline_ms=2000)
@given(st.lists(DOC_BYTES, min_size=1, max_size=4), st.integers(0, 7))
def test_every_document_forwarded_is_found_or_reported_too_deep(documents: list[bytes], depth: int) -> None:
    """Forwarded ``depth`` times: up to 4 levels every document comes out; deeper, the walker may stop
    (hostile nesting is bounded) but then says so with a nested_too_deep part, never silently."""
    message = EmailMessage()
    message["From"] = "ero@ice.dhs.example"
    message["Message-ID"] = "<fuzz@ice.dhs.example>"
    message.set_content("see attached")
    for number, content in enumerate(documents):
        message.add_attachment(content, maintype="application", subtype="octet-stream", filename=f"d{number}.bin")
    for _ in range(depth):
        outer = EmailMessage()
        outer["From"] = "fwd@dept.example"
        outer.set_content("fwd")
        outer.add_attachment(message)
        message = outer
    parsed = parse_message(message.as_bytes())
    found = [d.content for d in parsed.documents]
    assert all(d.forwarded == (depth > 0) for d in parsed.documents)
    if depth <= 4:
        assert found == documents
    elif found != documents:
        assert found == [] and any(p.reason == "nested_too_deep" for p in parsed.rejected)


@pytest.mark.parametrize("size", [0, 1, 64, 4096])
def test_degenerate_messages_are_typed_errors_or_empty(size: int) -> None:
    """Anchors for the properties above: blank input is refused, header-only input walks to nothing."""
    blank = typed(parse_message, b" \r\n" * size)
    assert isinstance(blank, IntakeError)
    parsed = typed(parse_message, b"From: a@b.example\r\n\r\n" + b"x" * size)
    assert isinstance(parsed, ParsedMessage) and parsed.documents == []
