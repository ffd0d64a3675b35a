"""Logging that cannot leak personal data.

Log messages are written to carry ids, hashes and counts only. This filter is the
second line of defence: it replaces A-number-shaped tokens and every personal value
the process has seen (registered by the stages as they extract them) before a record
reaches any handler, including Prefect's API log handler.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

REDACTED = "[redacted]"
# A-numbers in any printed form (A012345678, A 012 345 678, 012-345-678).
_A_NUMBER = re.compile(r"\b[Aa]?[ -]?\d{3}[ -]?\d{3}[ -]?\d{3}\b")


class PiiRegistry:
    """Personal values seen by this process, so that logs can scrub them wherever they appear."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[object]) -> None:
        fresh = {str(v).strip() for v in values if v is not None and len(str(v).strip()) >= 3}
        with self._lock:
            if fresh - self._values:
                self._values |= fresh
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _A_NUMBER.sub(REDACTED, text)


REGISTRY = PiiRegistry()


def redact(text: str) -> str:
    return REGISTRY.redact(text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (with its args merged in) through the PII registry."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the run
            message = str(record.msg)
        cleaned = redact(message)
        record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks carry exception messages: keep the type, drop the text.
            exc = record.exc_info[1]
            record.exc_text = f"{type(exc).__name__}: {redact(str(exc))}"
            record.exc_info = None
        return True


_FILTER = RedactingFilter()


def install_redaction() -> None:
    """Attach the filter to every handler of every known logger (idempotent).

    Handler-level, because logger-level filters do not see records propagated from children.
    Call again after a library (e.g. Prefect) configures its own logging.
    """
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


# Libraries whose INFO lines are noise for operators (one line per HTTP call, per migration step).
QUIET_LOGGERS = ("httpx", "alembic.runtime.migration", "pikepdf", "distributed", "prefect.server.services.telemetry")


def configure_console(level: int = logging.INFO) -> None:
    """A console handler on the root logger (unless one exists, e.g. Prefect's), redaction everywhere."""
    root = logging.getLogger()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._detainer_intake = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    install_redaction()
