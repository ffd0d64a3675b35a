"""The decision log: every operator act as one row that is never changed (``schema.Decision``).

A ruling on two copies (``match``), the resolution of a review item (``review``) and a
disposition (``disposition``, its reimbursement included) each append a row: the kind, its
subject, what it changed from what (JSON), who (``--who``), the OS account and host that ran
the command, when (UTC) and why. The current state is the latest row of its subject: the
``match_decisions`` and ``dispositions`` tables are kept equal to it, so dedupe and the reports
read them as before. A reversal is a new decision. Corrections keep their own append-only log
(``schema.Correction``, with the same actor columns). The database refuses UPDATE and DELETE
on both tables (migration 0004: triggers on SQLite and PostgreSQL).
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import schema

KINDS = ("match", "review", "disposition")


@dataclass(frozen=True)
class Actor:
    """Who an act is attributed to: the name given (``--who``) and the account and machine that ran it."""

    who: str
    os_user: str | None
    host: str | None
    why: str | None = None


def actor(who: str, why: str | None = None) -> Actor:
    """The actor of an act done now, by this process: ``who`` as given, the OS user and host as found."""
    try:
        os_user: str | None = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no login name
        os_user = None
    try:
        host: str | None = socket.gethostname() or None
    except OSError:
        host = None
    return Actor(who=who, os_user=os_user[:128] if os_user else None, host=host[:255] if host else None, why=why)


def encode(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def decode(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def record(
    session: Session,
    kind: str,
    subject: str,
    by: Actor,
    *,
    field: str,
    old: Any,
    new: Any,
    copy_key: str | None = None,
    other_copy_key: str | None = None,
    document_sha256: str | None = None,
    request_id: str | None = None,
) -> schema.Decision:
    """Append one decision; the caller brings the current state in line with it (``latest``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown decision kind {kind!r}")
    row = schema.Decision(
        kind=kind,
        subject=subject[:300],
        copy_key=copy_key,
        other_copy_key=other_copy_key,
        document_sha256=document_sha256,
        request_id=request_id,
        field=field,
        old_value=encode(old),
        new_value=encode(new),
        who=by.who,
        os_user=by.os_user,
        host=by.host,
        why=by.why,
        at=schema.utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def latest(session: Session, kind: str, subject: str) -> schema.Decision | None:
    """The subject's latest decision of ``kind``: the current state (latest wins)."""
    return session.scalar(
        select(schema.Decision)
        .where(schema.Decision.kind == kind, schema.Decision.subject == subject)
        .order_by(schema.Decision.id.desc())
        .limit(1)
    )


def history(session: Session, kind: str, subject: str) -> list[schema.Decision]:
    """Every decision of ``kind`` on ``subject``, oldest first."""
    return list(
        session.scalars(
            select(schema.Decision)
            .where(schema.Decision.kind == kind, schema.Decision.subject == subject)
            .order_by(schema.Decision.id)
        )
    )


def request_of(session: Session, copy_key: str) -> str | None:
    """The request the copy ``"<sha256>:<index>"`` belongs to now (None: none, or not a copy key)."""
    sha, _, index = copy_key.partition(":")
    if not index.isdigit():
        return None
    return session.scalar(
        select(schema.RequestLink.request_id)
        .join(schema.DetainerCopy, schema.DetainerCopy.id == schema.RequestLink.copy_id)
        .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
        .where(schema.Document.sha256 == sha, schema.DetainerCopy.index == int(index))
    )


def pair_subject(a: str, b: str) -> str:
    return f"{a}|{b}"


@dataclass(frozen=True)
class DecisionView:
    """One act as the audit shows it (``kind`` also ``correction``). Values may be personal data."""

    id: str
    kind: str
    subject: str
    field: str | None
    old: Any
    new: Any
    who: str
    os_user: str | None
    host: str | None
    why: str | None
    at: datetime
    copy_key: str | None = None
    other_copy_key: str | None = None
    request_id: str | None = None


def view(row: schema.Decision) -> DecisionView:
    return DecisionView(
        id=f"decision:{row.id}",
        kind=row.kind,
        subject=row.subject,
        field=row.field,
        old=decode(row.old_value),
        new=decode(row.new_value),
        who=row.who,
        os_user=row.os_user,
        host=row.host,
        why=row.why,
        at=row.at,
        copy_key=row.copy_key,
        other_copy_key=row.other_copy_key,
        request_id=row.request_id,
    )


def correction_view(row: schema.Correction) -> DecisionView:
    key = f"{row.document_sha256}:{row.copy_index}"
    return DecisionView(
        id=f"correction:{row.id}",
        kind="correction",
        subject=key,
        field=row.field,
        old=decode(row.old_value),
        new=decode(row.new_value),
        who=row.who,
        os_user=row.os_user,
        host=row.host,
        why=row.why,
        at=row.at,
        copy_key=key,
    )
