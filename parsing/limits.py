"""Time and memory bounds of the helper processes a page starts (Tesseract, poppler).

A hostile page can make a decoder ask for gigabytes. Every helper runs under an address-space
limit (``RLIMIT_AS``, ``parsing.max_subprocess_memory_mb``) besides its timeout, so a page costs
at most its limits: a helper stopped by the limit makes the page a :class:`MemoryLimitExceeded`
(the input is quarantined ``memory_limit``), never a crash of the run or of the machine.

The limit of the page being read travels in a context variable (:func:`memory_limit`, entered
per page by ``parsing.pipeline.process_page`` from its ``PageRef``), so the OCR engine needs no
new parameter. The limit is set by ``prlimit`` (util-linux) in front of the command, which is
safe in a threaded process; without ``prlimit``, by ``setrlimit`` in the child before ``exec``.

A helper dies with the process that started it: a flow run or Dask worker killed (SIGKILL, the
OOM killer, a lost machine) leaves no Tesseract reading on for minutes. Each helper gets a
parent-death signal (``PR_SET_PDEATHSIG`` = SIGKILL, Linux), set by ``setpriv --pdeathsig``
(util-linux, exec-ed in front of the command like ``prlimit``); without ``setpriv``, by ``prctl``
in the child before ``exec``, which also ends a child whose parent died before it was set.

Measured on this project's machine (``RLIMIT_AS`` needed for a clean run; peak RSS): Tesseract on
a 300-dpi letter page (8.4 Mpx) 132 MB (82 MB RSS), OSD 136 MB; on a 33.7 Mpx page 250 MB
(205 MB RSS); pdftoppm at 300 dpi 42 MB grey, 74 MB colour (35 MB RSS); pdfinfo, pdftotext 18 MB.
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from core.errors import InputError

MB = 1024 * 1024
DEFAULT_MEMORY_MB = 512  # ~4x Tesseract's address space on a 300-dpi letter page (132 MB)

_limit_mb: ContextVar[int | None] = ContextVar("subprocess_memory_mb", default=None)
_PRLIMIT = shutil.which("prlimit")
_SETPRIV = shutil.which("setpriv")
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# What a helper stopped by its address-space limit prints: poppler's gmalloc ("Out of memory",
# and it still exits 0), Leptonica ("pix_malloc fail"), C++ (std::bad_alloc), the loader.
_OUT_OF_MEMORY = (b"out of memory", b"bad_alloc", b"cannot allocate", b"malloc fail", b"failed to map segment")


class MemoryLimitExceeded(InputError):
    """A helper process (Tesseract, poppler) reading a page ran out of ``parsing.max_subprocess_memory_mb``."""

    reason = "memory_limit"


@contextmanager
def memory_limit(mb: int | None) -> Iterator[None]:
    """Helper processes started inside run under ``mb`` megabytes of address space (None: unlimited)."""
    token = _limit_mb.set(mb)
    try:
        yield
    finally:
        _limit_mb.reset(token)


def current_memory_limit() -> int | None:
    return _limit_mb.get()


def run_bounded(command: Sequence[str], *, timeout: float, memory_mb: int | None = None,
                what: str = "a page") -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` with its output captured, bounded by ``timeout`` (``subprocess.TimeoutExpired``)
    and by ``memory_mb`` (default: the current page's limit): a helper that ran out of it raises
    :class:`MemoryLimitExceeded`. Any other exit status is the caller's to judge."""
    mb = current_memory_limit() if memory_mb is None else memory_mb
    args, preexec = _limited(list(command), mb)
    proc = subprocess.run(args, capture_output=True, timeout=timeout, check=False, preexec_fn=preexec)
    if mb is not None and _out_of_memory(proc):
        raise MemoryLimitExceeded(f"reading {what} needed more than {mb} MB (parsing.max_subprocess_memory_mb)")
    return proc


def _limited(command: list[str], mb: int | None) -> tuple[list[str], Callable[[], None] | None]:
    """The command line and the ``preexec_fn`` that bound ``command`` by ``mb`` and make it die
    with this process (``setpriv``/``prlimit`` in front where installed: no code in the forked child)."""
    in_child: list[Callable[[], None]] = []
    if mb is not None:
        size = mb * MB
        if _PRLIMIT is not None:
            command = [_PRLIMIT, f"--as={size}", "--", *command]
        else:
            in_child.append(functools.partial(resource.setrlimit, resource.RLIMIT_AS, (size, size)))
    if _SETPRIV is not None:
        command = [_SETPRIV, "--pdeathsig", "KILL", "--", *command]
    elif _prctl is not None:
        in_child.insert(0, functools.partial(_die_with_parent, os.getpid()))
    if not in_child:
        return command, None
    return command, functools.partial(_each, tuple(in_child))


def _each(steps: tuple[Callable[[], None], ...]) -> None:
    for step in steps:
        step()


def _libc_prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not Linux
        return None


_prctl = _libc_prctl()  # looked up once, in the parent: the child only calls it


def _die_with_parent(parent: int) -> None:
    """In the forked child, before ``exec``: SIGKILL when the parent dies; at once if it already has."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def _out_of_memory(proc: subprocess.CompletedProcess[bytes]) -> bool:
    """Stopped by the limit: killed by a signal (an abort after a failed allocation, or a crash on
    one), or an allocation failure reported on stderr (poppler reports it and exits 0)."""
    if proc.returncode < 0:
        return True
    errors = (proc.stderr or b"").lower()
    return any(marker in errors for marker in _OUT_OF_MEMORY)
