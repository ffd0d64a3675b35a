"""Typed errors. Each class owns its exit code and a remedy for the operator.

Messages must never contain personal data (names, dates of birth, A-numbers,
event numbers): they end up in logs, Prefect state messages and quarantine rows.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    bad_args = 2  # same as click/typer usage errors
    input_file = 3  # one or more inputs are broken or unsupported (quarantined)
    config = 4
    channel_unavailable = 5
    ledger = 6
    run_locked = 7
    other = 15


class IntakeError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code: ExitCode = ExitCode.other
    remedy: str = ""

    def __init__(self, message: str = "", *, remedy: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)
        if remedy is not None:
            self.remedy = remedy

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(IntakeError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = ExitCode.config
    remedy = "Check the file given with --config (or DETAINER_INTAKE_CONFIG) against README.md."


class InputError(IntakeError):
    """A received input cannot be read as a document; it is quarantined, never dropped."""

    exit_code = ExitCode.input_file
    reason = "unreadable"  # short slug stored on the quarantine record
    remedy = "The input stays in the archive and the quarantine list; see `detainer-intake review list`."


class EmptyInput(InputError):
    """The input is empty (zero bytes)."""

    reason = "empty"


class TruncatedInput(InputError):
    """The input ends before its format says it should (truncated or corrupt)."""

    reason = "truncated"


class EncryptedInput(InputError):
    """The PDF is password-protected."""

    reason = "encrypted"
    remedy = "Ask the sender for an unprotected copy, or decrypt it and drop it into the channel folder."


class UnsupportedFormat(InputError):
    """The input is not a PDF, TIFF, PNG, JPEG or e-mail message."""

    reason = "unsupported_format"


class InputTooLarge(InputError):
    """The input exceeds a configured limit (bytes, pages or pixels)."""

    reason = "too_large"


class MalformedMessage(InputError):
    """The e-mail message's MIME structure cannot be walked."""

    reason = "malformed_message"


class UnreadableInput(InputError):
    """No page of the input holds readable text, only noise (a line hit, a scanner fault)."""

    reason = "unreadable"
    remedy = "Ask the sender to send the document again; this copy stays in the archive and the quarantine list."


class ChannelUnavailable(IntakeError):
    """A channel (folder or mailbox) could not be read this run."""

    exit_code = ExitCode.channel_unavailable
    remedy = "Fix the channel (path, network, credentials) and rerun: nothing is lost, the next run catches up."


class LedgerError(IntakeError):
    """The ledger database could not be opened or written."""

    exit_code = ExitCode.ledger
    remedy = "Check [ledger].url; run `detainer-intake db upgrade` after an upgrade."


class RunLocked(IntakeError):
    """Another intake run holds the ledger's run lock."""

    exit_code = ExitCode.run_locked
    remedy = "Wait for the other run to finish; rerun afterwards. Nothing will be counted twice."
