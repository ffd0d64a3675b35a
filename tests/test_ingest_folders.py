"""ingest.folders: the dedicated line and station fax folders."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from core.channels import Channel
from core.config import FolderChannelSettings, StationChannelSettings
from core.errors import ChannelUnavailable
from ingest.faxmeta import local_time_to_utc, normalize_sender, tiff_ascii_tags
from ingest.folders import FolderArrival, complete_arrival, move_to_processed, poll_fax_folder, source_key
from ingest.state import MemoryState

TZ = "America/New_York"
NOW = datetime(2025, 3, 4, 15, 0, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n%%EOF\n"


def fax_tiff(datetime_tag: str | None = None, description: str | None = None) -> bytes:
    info = {}
    if datetime_tag:
        info[306] = datetime_tag
    if description:
        info[270] = description
    buffer = io.BytesIO()
    Image.new("1", (1728, 40), 1).save(buffer, format="TIFF", compression="group4", tiffinfo=info,
                                        dpi=(204, 196))
    return buffer.getvalue()


def put(path: Path, content: bytes, mtime: datetime = NOW - timedelta(hours=1)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def poll(settings: FolderChannelSettings, channel: Channel = Channel.dedicated_fax, state: MemoryState | None = None,
         **kw: object) -> list[FolderArrival]:
    return list(poll_fax_folder(settings, channel, state or MemoryState(), tz=TZ, now=kw.pop("now", NOW),
                                **kw))  # type: ignore[arg-type]


def no_sleep(_: float) -> None:
    return None


def test_dedicated_folder_receipts(tmp_path: Path) -> None:
    mtime = datetime(2025, 3, 4, 14, 0, 1, 123456, tzinfo=UTC)
    tif = put(tmp_path / "fax000017.tif", fax_tiff("2025:03:04 09:22:05", "+1 617 555 0143"), mtime)
    put(tmp_path / "fax000018.pdf", PDF, mtime)
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0)
    arrivals = {a.receipt.file_name: a for a in poll(settings)}
    assert set(arrivals) == {"fax000017.tif", "fax000018.pdf"}
    receipt = arrivals["fax000017.tif"].receipt
    st = tif.stat()
    assert receipt.channel is Channel.dedicated_fax and receipt.station is None
    assert receipt.source_key == f"file:dedicated_fax:fax000017.tif:{st.st_size}:{st.st_mtime_ns}"
    assert receipt.received_at == datetime(2025, 3, 4, 14, 22, 5, tzinfo=UTC)  # EST -> UTC
    assert receipt.received_from == "tiff_datetime"
    assert receipt.sender == "+16175550143"
    assert arrivals["fax000017.tif"].document.content == tif.read_bytes()
    pdf = arrivals["fax000018.pdf"].receipt
    assert pdf.received_at == mtime and pdf.received_from == "mtime" and pdf.sender is None


def test_sidecar_receive_time_and_sender(tmp_path: Path) -> None:
    put(tmp_path / "fax000020.pdf", PDF)
    (tmp_path / "fax000020.pdf.info").write_text(
        "fax000020.pdf (ftp://fax.dept.example:4559/recvq/fax000020.tif):\n"
        "      Sender: ICE ERO BOSTON\n       Pages: 4\n     Quality: Fine\n"
        "    Received: 2025:07:04 09:22:05\n  TimeToRecv: 0:45\n     CallID1: 6175550143\n"
        "     CallID2: ICE ERO\n"
    )
    put(tmp_path / "fax000021.tif", fax_tiff("2025:01:01 00:00:00"))
    (tmp_path / "fax000021.info").write_text("Sender: ICE ERO BOSTON\nReceived: 2025:01:15 08:00:00\n")
    put(tmp_path / "fax000022.tif", fax_tiff("2025:01:16 08:00:00", "SCSD BOOKING"))
    put(tmp_path / "fax000023.tif", fax_tiff("2025:01:16 08:00:00", "Scanned with a very long description"))
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0)
    arrivals = {a.receipt.file_name: a for a in poll(settings)}
    assert set(arrivals) == {"fax000020.pdf", "fax000021.tif", "fax000022.tif", "fax000023.tif"}  # no sidecars
    first = arrivals["fax000020.pdf"]
    assert first.receipt.received_at == datetime(2025, 7, 4, 13, 22, 5, tzinfo=UTC)  # EDT
    assert first.receipt.received_from == "sidecar" and first.receipt.sender == "+16175550143"
    assert first.sidecar == tmp_path / "fax000020.pdf.info"
    second = arrivals["fax000021.tif"]
    assert second.receipt.received_at == datetime(2025, 1, 15, 13, 0, tzinfo=UTC)  # sidecar beats the tag
    assert second.receipt.sender == "ICE ERO BOSTON"  # no number recorded: the TSI
    assert second.sidecar == tmp_path / "fax000021.info"
    assert arrivals["fax000022.tif"].receipt.sender == "SCSD BOOKING"
    assert arrivals["fax000023.tif"].receipt.sender is None  # not a TSI


def test_station_folders_and_station_map(tmp_path: Path) -> None:
    put(tmp_path / "C-6" / "FAX_20250304_092205.tif", fax_tiff())
    put(tmp_path / "district-a1" / "FAX_1.tif", fax_tiff())
    put(tmp_path / "C-6" / "processed" / "old.tif", fax_tiff())
    put(tmp_path / "processed" / "x" / "old.tif", fax_tiff())
    put(tmp_path / "stray.tif", fax_tiff())  # outside any station folder: logged, not taken
    settings = StationChannelSettings(path=tmp_path, quiet_seconds=0, station_map={"district-a1": "A-1"})
    arrivals = poll(settings, Channel.station_fax)
    assert sorted((a.receipt.station, a.receipt.source_key.split(":")[2]) for a in arrivals) == [
        ("A-1", "district-a1/FAX_1.tif"),
        ("C-6", "C-6/FAX_20250304_092205.tif"),
    ]
    assert all(a.receipt.channel is Channel.station_fax for a in arrivals)


def test_ignore_patterns(tmp_path: Path) -> None:
    for name in (".hidden.tif", "fax.tmp", "~$lock.pdf", "fax.part", "FAX.PARTIAL", "fax.tif.info"):
        put(tmp_path / name, PDF)
    put(tmp_path / "real.pdf", PDF)
    (tmp_path / "subfolder").mkdir()
    os.symlink(tmp_path / "real.pdf", tmp_path / "link.pdf")
    assert [a.receipt.file_name for a in poll(FolderChannelSettings(path=tmp_path, quiet_seconds=0))] == ["real.pdf"]


def test_quiet_period(tmp_path: Path) -> None:
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=30)
    put(tmp_path / "old.pdf", PDF, NOW - timedelta(seconds=31))
    put(tmp_path / "fresh.pdf", PDF, NOW - timedelta(seconds=5))
    slept: list[float] = []
    arrivals = poll(settings, sleep=slept.append)
    assert [a.receipt.file_name for a in arrivals] == ["old.pdf"]
    assert slept == [1.0]  # one short settle pause per poll, not per file
    later = poll(settings, now=NOW + timedelta(seconds=30), sleep=no_sleep)
    assert [a.receipt.file_name for a in later] == ["old.pdf", "fresh.pdf"]  # oldest first


def test_file_still_growing_is_not_taken(tmp_path: Path) -> None:
    """An old-looking mtime (a writer on a share with a slow clock) but the size still changes."""
    path = put(tmp_path / "incoming.tif", b"II*\x00partial", NOW - timedelta(minutes=5))
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=30)

    def writer_keeps_writing(_: float) -> None:
        with path.open("ab") as handle:
            handle.write(b"more scanlines")
        os.utime(path, ((NOW - timedelta(minutes=5)).timestamp(),) * 2)

    assert poll(settings, sleep=writer_keeps_writing) == []
    [arrival] = poll(settings, sleep=no_sleep)
    assert arrival.document.content == b"II*\x00partialmore scanlines"


def test_zero_quiet_seconds_takes_files_at_once(tmp_path: Path) -> None:
    put(tmp_path / "now.pdf", PDF, NOW)

    def must_not_sleep(_: float) -> None:
        raise AssertionError("no pause with quiet_seconds = 0")

    assert len(poll(FolderChannelSettings(path=tmp_path, quiet_seconds=0), sleep=must_not_sleep)) == 1


def test_known_arrivals_are_skipped_without_reading(tmp_path: Path) -> None:
    path = put(tmp_path / "fax.pdf", PDF)
    state = MemoryState()
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0)
    [arrival] = poll(settings, state=state)
    state.commit_document(arrival.document)
    path.chmod(0o000)  # reading it again would fail (for non-root) - it must not even be tried
    try:
        assert poll(settings, state=state) == []
    finally:
        path.chmod(0o600)
    # the same name with new content is a new arrival
    put(path, PDF + b"% second copy\n", NOW - timedelta(minutes=1))
    [again] = poll(settings, state=state)
    assert again.receipt.source_key != arrival.receipt.source_key
    assert again.receipt.source_key == source_key(Channel.dedicated_fax, "fax.pdf", path.stat())


def test_move_to_processed_after_commit(tmp_path: Path) -> None:
    put(tmp_path / "fax1.pdf", PDF)
    (tmp_path / "fax1.pdf.info").write_text("Received: 2025:03:04 09:00:00\n")
    put(tmp_path / "processed" / "fax1.pdf", b"%PDF-1.4 an older fax with the same name")
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0, move_processed=True)
    [arrival] = poll(settings)
    assert (tmp_path / "fax1.pdf").exists()  # polling never moves or deletes
    target = complete_arrival(settings, arrival)
    assert target == tmp_path / "processed" / "fax1-1.pdf"
    assert target.read_bytes() == PDF
    assert (tmp_path / "processed" / "fax1-1.pdf.info").exists()
    assert not (tmp_path / "fax1.pdf").exists() and not (tmp_path / "fax1.pdf.info").exists()
    assert poll(settings) == []  # processed/ is never read
    assert move_to_processed(arrival) is None  # already gone: nothing to do


def test_committed_file_whose_move_was_missed_is_moved_by_the_next_poll(tmp_path: Path) -> None:
    """The process died between the commit and the move: the next poll files it (it is committed, so
    moving it now is safe) and does not take it again; a file not committed is never moved by a poll."""
    line, stations = tmp_path / "dedicated", tmp_path / "stations"
    put(line / "fax1.pdf", PDF)
    (line / "fax1.pdf.info").write_text("Received: 2025:03:04 09:00:00\n")
    put(stations / "C-6" / "fax2.pdf", PDF + b"% station copy\n")
    state = MemoryState()
    line_settings = FolderChannelSettings(path=line, quiet_seconds=30, move_processed=True)
    station_settings = StationChannelSettings(path=stations, quiet_seconds=0, move_processed=True)
    [fax1] = poll(line_settings, state=state, sleep=no_sleep)
    [fax2] = poll(station_settings, Channel.station_fax, state=state)
    state.commit_document(fax1.document)
    state.commit_document(fax2.document)  # ... and the process dies before complete_arrival
    put(line / "fax3.pdf", PDF + b"% not committed\n")

    assert [a.receipt.file_name for a in poll(line_settings, state=state, sleep=no_sleep)] == ["fax3.pdf"]
    assert poll(station_settings, Channel.station_fax, state=state) == []
    assert (line / "processed" / "fax1.pdf").read_bytes() == PDF
    assert (line / "processed" / "fax1.pdf.info").exists()
    assert (stations / "C-6" / "processed" / "fax2.pdf").exists()
    assert not (line / "fax1.pdf").exists() and not (line / "fax1.pdf.info").exists()
    assert not (stations / "C-6" / "fax2.pdf").exists()
    assert (line / "fax3.pdf").exists()  # not committed: stays
    assert state.receipts == [fax1.receipt, fax2.receipt]  # each counted once


def test_committed_file_stays_without_move_processed(tmp_path: Path) -> None:
    put(tmp_path / "fax.pdf", PDF)
    state = MemoryState()
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0)
    [arrival] = poll(settings, state=state)
    state.commit_document(arrival.document)
    assert poll(settings, state=state) == []
    assert (tmp_path / "fax.pdf").exists() and not (tmp_path / "processed").exists()


def test_complete_arrival_without_move_processed_leaves_the_file(tmp_path: Path) -> None:
    put(tmp_path / "fax.pdf", PDF)
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0)
    [arrival] = poll(settings)
    assert complete_arrival(settings, arrival) is None
    assert (tmp_path / "fax.pdf").exists()


def test_missing_folder_is_channel_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ChannelUnavailable):
        poll(FolderChannelSettings(path=tmp_path / "absent"))
    with pytest.raises(ChannelUnavailable):
        poll(FolderChannelSettings(path=None))


def test_tiff_tag_reader_and_helpers() -> None:
    tags = tiff_ascii_tags(fax_tiff("2025:03:04 09:22:05", "+16175550143"), (306, 270))
    assert tags == {306: "2025:03:04 09:22:05", 270: "+16175550143"}
    assert tiff_ascii_tags(b"II*\x00\xff\xff\xff\xff", (306,)) == {}
    assert tiff_ascii_tags(b"MM\x00*\x00\x00\x00\x08\x00", (306,)) == {}
    assert local_time_to_utc("2025:11:02 01:30:00", TZ) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # first 1:30
    assert local_time_to_utc("0000:00:00 00:00:00", TZ) is None
    assert normalize_sender("(617) 555-0143") == "+16175550143"
    assert normalize_sender("1-617-555-0143") == "+16175550143"
    assert normalize_sender("+44 20 7946 0018") == "+442079460018"
    assert normalize_sender("ICE ERO\x07 BOSTON") == "ICE ERO BOSTON"
    assert normalize_sender("  ") is None


HOSTILE = Path(__file__).parent / "bad_inputs"


def test_hostile_tiff_headers_are_taken_in_among_good_faxes(tmp_path: Path) -> None:
    """A header that lies (a BigTIFF whose first IFD offset no integer can index, loops, gigabyte counts)
    has no readable fax metadata: it is taken in like any file, dated by its mtime, and the good faxes
    beside it keep their TIFF dates. Parsing then quarantines it (tests/test_bad_inputs.py)."""
    hostile = sorted(HOSTILE.glob("*tiff*.tif"))
    assert len(hostile) >= 12
    put(tmp_path / "a_good.tif", fax_tiff("2025:03:04 09:22:05", "+16175550143"), NOW - timedelta(hours=3))
    for number, source in enumerate(hostile):
        put(tmp_path / f"b_{number:02d}.tif", source.read_bytes(), NOW - timedelta(hours=2))
    put(tmp_path / "c_good.tif", fax_tiff("2025:03:04 10:00:00"), NOW - timedelta(hours=1))
    arrivals = poll(FolderChannelSettings(path=tmp_path, quiet_seconds=0))
    by_name = {a.path.name: a.document.receipt for a in arrivals}
    assert len(by_name) == len(hostile) + 2
    assert by_name["a_good.tif"].received_from == "tiff_datetime"
    assert by_name["c_good.tif"].received_from == "tiff_datetime"
    assert {by_name[f"b_{n:02d}.tif"].received_from for n in range(len(hostile))} == {"mtime"}
    for source in hostile:
        assert tiff_ascii_tags(source.read_bytes(), (306, 270)) == {}, source.name
