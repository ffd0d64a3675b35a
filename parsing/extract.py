"""Public API of the parsing stage: bytes in, ``ExtractionResult`` out. No database.

``extract_document`` reads one input; ``extract_many`` streams many through one
process pool so both cores run a single-threaded Tesseract each, across pages and
documents. Pages are handed out as small jobs (file path + page index); a worker
loads, normalises and OCRs one page at a time and returns only words-derived
results, so memory stays flat however long a fax is. Where the caller already runs one
process per core (``workers = 1``, a Dask worker, any daemonic process) pages are read in
the calling process instead: Tesseract is a child process of its own either way, but a
daemonic process may not start a pool (``pool_allowed``). There each page waits for one of the
machine's per-core slots (``host_slot``), so however many threads and worker processes a runner
starts on a machine, no more pages are read at once than it has cores.

Bad input never raises: the result carries ``error`` / ``error_reason`` from the
typed ``InputError`` (empty, truncated, encrypted, unsupported_format, too_large,
malformed_message, ocr_timeout, render_timeout, unreadable: every page is noise).
Only bugs raise. A document with detainer evidence but no recognised detainer carries it in
``possible_detainer_evidence`` (``parsing.evidence``): a doubt for a person, never a silent drop.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from core.config import ParsingSettings
from core.errors import InputError, TruncatedInput, UnreadableInput
from core.formats import Format
from parsing import pages as P
from parsing.assemble import assemble
from parsing.evidence import document_evidence
from parsing.models import ExtractionResult
from parsing.pipeline import PageJob, PageOutput, process_page
from parsing.sniff import sniff

# --------------------------------------------------------------------------- worker pool

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()  # the threads of a thread task runner share one pool


def worker_count(settings: ParsingSettings) -> int:
    """How many pages this process reads at once: ``workers``, 0 = one per core; 1 in a daemonic process."""
    if not pool_allowed():
        return 1
    return settings.workers if settings.workers > 0 else (os.cpu_count() or 1)


def pool_allowed() -> bool:
    """A daemonic process (a Dask worker, a multiprocessing pool's worker) may not have children of
    its own: it reads in-process, one page at a time. Its parallelism is its runner's (one such
    process per core), so this bounds the Tesseract processes to the runner's as well."""
    return not multiprocessing.current_process().daemon


def slot_folder() -> Path:
    """This user's page-reading slots on this machine (``host_slot``)."""
    return Path(tempfile.gettempdir()) / f"detainer-intake-ocr-slots-{os.getuid()}"


@contextmanager
def host_slot(slots: int | None = None, folder: Path | None = None) -> Iterator[None]:
    """Hold one of this machine's ``slots`` (default: one per core) while reading a page.

    Processes a runner starts (Dask workers, each with its threads) wait here rather than run more
    Tesseracts than the machine has cores. A slot is an ``flock``-ed file, released when its holder
    ends, even killed; each thread's own open file takes part, so threads of one process count too.
    """
    count = slots or os.cpu_count() or 1
    where = folder or slot_folder()
    where.mkdir(mode=0o700, exist_ok=True)
    first = (os.getpid() + threading.get_ident()) % count
    while True:
        for step in range(count):
            fd = os.open(where / f"slot-{(first + step) % count}", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                os.close(fd)  # releases the lock
            return
        time.sleep(0.02)


def _read_here(job: PageJob, shared: bool) -> PageOutput:
    """Read one page in this process; in a runner's worker process (``shared``) within a host slot."""
    if not shared:
        return process_page(job)
    with host_slot():
        return process_page(job)


def _pool(workers: int) -> ProcessPoolExecutor:
    with _POOL_LOCK:
        return _pool_locked(workers)


def _pool_locked(workers: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != workers:
        _shutdown_locked()
        # fork is cheapest and needs no __main__ guard in the caller, but is unsafe in a
        # process that already runs threads (Prefect, dask): use forkserver there.
        context: multiprocessing.context.BaseContext
        if threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["parsing.pipeline"])
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        _POOL_SIZE = workers
    return _POOL


def shutdown_pool() -> None:
    with _POOL_LOCK:
        _shutdown_locked()


def _shutdown_locked() -> None:
    global _POOL, _POOL_SIZE
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL, _POOL_SIZE = None, 0


atexit.register(shutdown_pool)


# --------------------------------------------------------------------------- documents


@dataclass
class _Part:
    """One page-bearing input (the file itself, or one document inside an e-mail)."""

    path: Path
    info: P.InputInfo
    offset: int  # pages of earlier parts of the same input


@dataclass
class _Doc:
    index: int
    name: str
    sha256: str
    workdir: Path | None = None
    parts: list[_Part] = field(default_factory=list)
    error: InputError | None = None
    outputs: list[PageOutput] = field(default_factory=list)
    pending: int = 0

    @property
    def page_total(self) -> int:
        return sum(part.info.page_count for part in self.parts)


def _prepare(index: int, name: str, content: bytes, settings: ParsingSettings) -> _Doc:
    doc = _Doc(index, name, hashlib.sha256(content).hexdigest())
    try:
        P.check_size(content, settings)
        fmt = sniff(content)
        doc.workdir = Path(tempfile.mkdtemp(prefix="parse-"))
        if fmt is Format.eml:
            from ingest.mime import iter_documents  # the ingest stage owns the MIME walker

            offset = 0
            for number, document in enumerate(iter_documents(content)):
                offset = _add_part(doc, document.content, number, offset, settings)
        else:
            _add_part(doc, content, 0, 0, settings)
        if doc.page_total > settings.max_pages:
            raise P.InputTooLarge(f"the input has {doc.page_total} pages, over the limit of {settings.max_pages}")
    except InputError as exc:
        doc.error = exc
        doc.parts = []
    return doc


def _add_part(doc: _Doc, content: bytes, number: int, offset: int, settings: ParsingSettings) -> int:
    assert doc.workdir is not None
    path = doc.workdir / f"part{number:03d}"
    path.write_bytes(content)
    info = P.open_input(content, path, settings)
    doc.parts.append(_Part(path, info, offset))
    return offset + info.page_count


def _jobs(doc: _Doc, settings: ParsingSettings, tz: str) -> Iterator[PageJob]:
    for part in doc.parts:
        for ref in part.info.pages:
            yield PageJob(ref, part.offset + ref.index + 1, settings.tesseract_lang, settings.ocr_timeout_seconds, tz,
                          tuple(settings.institutions))


def _finish(doc: _Doc, today: date | None) -> ExtractionResult:
    if doc.workdir is not None:
        shutil.rmtree(doc.workdir, ignore_errors=True)
    if doc.error is None:
        doc.error = _pages_error(doc.outputs)
    if doc.error is not None:
        return ExtractionResult(sha256=doc.sha256, error=doc.error.message, error_reason=doc.error.reason)
    pages, detainers = _assemble_parts(doc, today)
    outputs = sorted(doc.outputs, key=lambda o: o.number)
    evidence = document_evidence([(o.evidence, o.kind, o.a_numbers) for o in outputs], len(detainers))
    return ExtractionResult(sha256=doc.sha256, pages=pages, detainers=detainers, possible_detainer_evidence=evidence)


def _pages_error(outputs: list[PageOutput]) -> InputError | None:
    """The input's error from its pages' errors. A page that cannot be decoded or OCR'd makes the
    whole input unreadable; a page of noise only when every page is noise: beside readable pages
    (a line hit in the middle of a fax) it is read as an empty page, so the rest still counts."""
    broken = next((o for o in outputs if o.error and o.error != UnreadableInput.__name__), None)
    if broken is not None:
        return _page_error(broken)
    noise = [o for o in outputs if o.error]
    if noise and len(noise) == len(outputs):
        return _page_error(noise[0])
    for output in noise:
        output.error = output.error_message = None
    return None


def _page_error(output: PageOutput) -> InputError:
    """A worker's page error as its typed error again (the class travels by name): its reason slug counts."""
    pending: list[type[InputError]] = [InputError]
    while pending:
        cls = pending.pop()
        if cls.__name__ == output.error:
            return cls(output.error_message or "")
        pending.extend(cls.__subclasses__())
    return TruncatedInput(output.error_message or "a page cannot be decoded")


def _assemble_parts(doc: _Doc, today: date | None) -> tuple[list, list]:
    """Packets never span two documents of one e-mail: assemble each part on its own."""
    pages, detainers = [], []
    for part in doc.parts:
        first, last = part.offset + 1, part.offset + part.info.page_count
        outputs = [o for o in doc.outputs if first <= o.number <= last]
        part_pages, part_detainers = assemble(outputs, today)
        pages.extend(part_pages)
        detainers.extend(part_detainers)
    return pages, detainers


# --------------------------------------------------------------------------- public API


def extract_document(
    content: bytes,
    *,
    file_name: str | None = None,
    settings: ParsingSettings | None = None,
    tz: str = "America/New_York",
) -> ExtractionResult:
    """Everything parsing can learn from one input. Never raises for bad input."""
    for _, result in extract_many([(file_name or "input", content)], settings=settings, tz=tz):
        return result
    raise AssertionError("extract_many yielded nothing")  # pragma: no cover


def extract_many(
    items: Iterable[tuple[str, bytes]],
    *,
    settings: ParsingSettings | None = None,
    tz: str = "America/New_York",
    today: date | None = None,
) -> Iterator[tuple[str, ExtractionResult]]:
    """Extract many inputs through one pool; results come back in input order, each as
    soon as it and all inputs before it are done. At most ``2 x workers`` pages are in
    flight, so memory does not grow with the number or length of the inputs."""
    settings = settings or ParsingSettings()
    workers = worker_count(settings)
    window = max(2, 2 * workers)
    items_iter = iter(enumerate(items))
    docs: deque[_Doc] = deque()
    in_flight: deque[tuple[_Doc, Future[PageOutput] | PageOutput]] = deque()
    job_source: Iterator[tuple[_Doc, PageJob]] = iter(())
    inline = workers <= 1
    runner_worker = not pool_allowed()  # a Dask worker: its runner decides how many read at once

    def next_jobs() -> Iterator[tuple[_Doc, PageJob]]:
        for index, (name, content) in items_iter:
            doc = _prepare(index, name, content, settings)
            docs.append(doc)
            for job in _jobs(doc, settings, tz):
                doc.pending += 1
                yield doc, job

    job_source = next_jobs()
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < window:
            try:
                doc, job = next(job_source)
            except StopIteration:
                exhausted = True
                break
            if inline:
                in_flight.append((doc, _read_here(job, runner_worker)))
            else:
                in_flight.append((doc, _pool(workers).submit(process_page, job)))
        # Yield every finished document at the head of the queue.
        # (The last document read may still be handing out pages, unless the inputs are exhausted.)
        while docs and docs[0].pending == 0 and (exhausted or docs[0] is not docs[-1]):
            doc = docs.popleft()
            yield doc.name, _finish(doc, today)
        if not in_flight:
            if exhausted:
                while docs:
                    doc = docs.popleft()
                    yield doc.name, _finish(doc, today)
                return
            continue
        doc, pending = in_flight.popleft()
        output = pending if isinstance(pending, PageOutput) else pending.result()
        doc.outputs.append(output)
        doc.pending -= 1
