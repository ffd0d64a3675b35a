"""Named crash points for the crash-safety harness; inert unless asked for.

``DETAINER_INTAKE_CRASH_AT="<point>:<n>"`` makes the process kill itself with SIGKILL the
n-th time it reaches ``<point>`` (no cleanup, no finally blocks: like a power cut). The
tests use it to stop a run between any two effects and check that the next run still
ends with exactly the ledger of a clean run. The arrivals and channels of ``ingest`` reach the
store, commit and mail-action points through the ``reached`` hook the steps hand them.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

ENV = "DETAINER_INTAKE_CRASH_AT"

# Every point the pipeline passes, in order of effect for one arrival.
POINTS = (
    "poll.stored",  # a fax file's bytes are in the archive, nothing committed
    "mail.stored",  # a message's raw bytes and documents are in the archive
    "parse.start",  # about to read a document (OCR in flight on other threads)
    "parse.cached",  # extraction written to the cache, nothing committed
    "commit.before",  # about to commit a file's receipt
    "commit.after",  # committed, the folder's post-commit move not done yet
    "mail.commit.before",
    "mail.commit.after",  # message committed, flag/move not done yet
    "mail.action.after",  # one message's flag/move done
    "metrics.before",  # all committed, artifacts not yet published
)

_seen: Counter[str] = Counter()
_lock = threading.Lock()


def reached(point: str) -> None:
    target = os.environ.get(ENV)
    if not target:
        return
    name, _, nth = target.partition(":")
    if name != point:
        return
    with _lock:
        _seen[point] += 1
        hit = _seen[point] == int(nth or 1)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
