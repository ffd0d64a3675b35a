"""Test support: throw-away ledgers on SQLite and PostgreSQL, and ledger inputs built from truth.json.

Used by ``tests/test_ledger*.py`` (and free for other stages' tests), with small inputs built
by label (``receipt``, ``detainer``, ``extraction``). PostgreSQL tests
use one fresh schema per ledger (``search_path`` in the URL), dropped afterwards, so
parallel test workers never see each other's rows or locks.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, func, select, text

from ingest.models import Receipt
from parsing.models import DetainerRequest, ExtractionResult, PageResult

if TYPE_CHECKING:
    from ledger.store import Ledger

PG_ENV = "DETAINER_INTAKE_TEST_PG"
PG_CANDIDATES = (
    "postgresql+psycopg://root@127.0.0.1:5432/test",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)
_pg_base: str | None = None


def pg_base_url() -> str:
    """The test server's URL: $DETAINER_INTAKE_TEST_PG, else the first trust-auth role that connects."""
    global _pg_base
    if _pg_base is None:
        candidates = [os.environ[PG_ENV]] if os.environ.get(PG_ENV) else list(PG_CANDIDATES)
        errors = []
        for url in candidates:
            engine = create_engine(url)
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                _pg_base = url
                break
            except Exception as exc:
                errors.append(f"{url}: {type(exc).__name__}")
            finally:
                engine.dispose()
        if _pg_base is None:
            raise RuntimeError(
                "PostgreSQL for the ledger tests is not reachable (run bin/setup --test): " + "; ".join(errors)
            )
    return _pg_base


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped on exit."""
    base = pg_base_url()
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def ledger_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A throw-away ledger URL: ``kind`` is ``sqlite`` or ``postgresql``."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger' / 'ledger.db'}"
    elif kind == "postgresql":
        with pg_schema_url() as url:
            yield url
    else:
        raise ValueError(kind)


# --------------------------------------------------------------------------- truth.json -> ledger inputs

LedgerInput = tuple[Receipt, ExtractionResult | None, tuple[str, str] | None]


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def truth_source_key(receipt: dict[str, Any]) -> str:
    index = receipt.get("attachment_index")
    return f"sample:{receipt['path']}:{0 if index is None else index}"


def truth_inputs(truth: dict[str, Any]) -> list[LedgerInput]:
    """What ingest + parsing would hand the ledger for every truth receipt, read perfectly."""
    out: list[LedgerInput] = []
    for r in truth["receipts"]:
        receipt = Receipt(
            channel=r["channel"],
            station=r.get("station"),
            source_key=truth_source_key(r),
            received_at=_when(r["received_at"]),
            file_name=r["file_name"],
            sender=r.get("sender"),
            sha256=r["sha256"],
            size=r["size"],
            message_id=r.get("message_id"),
        )
        if r["kind"] == "broken":
            reason = r.get("broken_reason") or "unreadable"
            out.append((receipt, None, (reason, f"input could not be read: {reason}")))
            continue
        pages = [PageResult(page=p["page"], kind=p["kind"], rotation=p.get("rotation", 0)) for p in r.get("pages", [])]
        detainers = [
            DetainerRequest.model_validate({k: v for k, v in d.items() if k in DetainerRequest.model_fields})
            for d in r.get("detainers", [])
        ]
        out.append((receipt, ExtractionResult(sha256=r["sha256"], pages=pages, detainers=detainers), None))
    return out


def truth_request_receipts(truth: dict[str, Any]) -> dict[str, set[str]]:
    """Truth request id -> source keys (as ``truth_inputs`` builds them) of its receipts."""
    by_id = {r["id"]: truth_source_key(r) for r in truth["receipts"]}
    return {q["request_id"]: {by_id[rid] for rid in q["receipts"]} for q in truth["requests"]}


# --------------------------------------------------------------------------- small inputs, by label

NY = "America/New_York"
T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def receipt(
    key: str, content: str, when: datetime, channel: str = "dedicated_fax", station: str | None = None
) -> Receipt:
    return Receipt(
        channel=channel,
        station=station if channel == "station_fax" else None,
        source_key=key,
        received_at=when,
        file_name=f"{key}.tif",
        sha256=sha(content),
        size=100,
    )


def detainer(**overrides: Any) -> DetainerRequest:
    base = {
        "form_type": "I-247A",
        "file_number": "A012345678",
        "event_number": "BOS2503000111",
        "issued_date": date(2025, 3, 1),
        "subject_name": "MARIA ELENA LOPEZ",
        "date_of_birth": date(1988, 4, 12),
    }
    base.update(overrides)
    return DetainerRequest.model_validate(base)


def extraction(content: str, *detainers: DetainerRequest) -> ExtractionResult:
    pages = [PageResult(page=i + 1, kind="detainer_p1") for i in range(len(detainers))] or [
        PageResult(page=1, kind="other")
    ]
    return ExtractionResult(sha256=sha(content), pages=pages, detainers=list(detainers))


def count(ledger: Ledger, table: Any) -> int:
    with ledger.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table))
