"""Corrections: an operator's value for one field of one detainer copy, audited and lasting.

A correction is stored apart from the OCR values (``schema.Correction``: who, when, old and new
value) and laid over them whenever the copy is written again (``copy_rows.apply_corrections``),
so it survives reprocessing. The copy's identity columns take the corrected value and its
component is regrouped in the same transaction. Corrections are append-only (the database refuses
UPDATE and DELETE, migration 0004): each carries its actor (``ledger.decisions.Actor``: who, OS
user, host, why); the latest of a field wins and a reversal is a new correction.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.errors import LedgerError
from core.keys import CopyKey
from ledger import copy_rows, dedupe, regrouping, schema
from ledger.decisions import Actor
from ledger.dedupe import DedupeConfig
from parsing.models import DetainerRequest


def correct(session: Session, config: DedupeConfig, copy: int | str, field: str, new_value: Any, by: Actor) -> None:
    """Correct one field of one detainer copy (by id or ``"<sha256>:<index>"``).

    The correction is kept apart from the OCR values and re-applied whenever the document is
    reprocessed; dedupe re-runs with the corrected value in the same transaction.
    """
    if field not in DetainerRequest.model_fields or field in ("evidence",):
        raise LedgerError(f"cannot correct unknown field {field!r}")
    row, key = copy_rows.find_copy(session, copy)
    sha = CopyKey.parse(key).document_sha256
    before = dedupe.block_keys(row) | {("id", row.id)}
    effective = copy_rows.apply_corrections(row.fields, copy_rows.stored_corrections(session, sha).get(row.index, ()))
    encoded = json.dumps(copy_rows.jsonable(new_value))
    candidate = copy_rows.apply_corrections(effective, [(field, encoded)])
    try:
        DetainerRequest.model_validate(candidate)
    except ValidationError as exc:
        raise LedgerError(f"invalid value for {field!r}") from exc
    session.add(
        schema.Correction(
            document_sha256=sha,
            copy_index=row.index,
            field=field,
            old_value=json.dumps(effective.get(field)),
            new_value=encoded,
            who=by.who,
            os_user=by.os_user,
            host=by.host,
            why=by.why,
        )
    )
    for name, value in copy_rows.copy_columns(candidate).items():
        setattr(row, name, value)
    row.unsure = ",".join(f for f in row.unsure.split(",") if f and f != field)
    session.flush()
    copy_rows.sync_tokens(session, row)
    session.flush()
    regrouping.reassign(session, config, [row], extra_seed=before)
