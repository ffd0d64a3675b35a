"""A template field's value: parsed from the text read for it, with the evidence of where.

Shared by the field reader (``parsing.formread``), the checkbox reader (``parsing.checkread``)
and the enlarged re-read (``parsing.reread``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from parsing import fields as F
from parsing.lexicon import lexicon
from parsing.models import FieldEvidence
from parsing.templates import FieldSpec

PARSERS = {
    "text": F.clean_text,
    "name": F.normalize_name,
    "officer": F.normalize_officer,
    "officer_title": F.normalize_officer_title,
    "a_number": F.normalize_a_number,
    "date": F.parse_date,
    "sex": F.normalize_sex,
    "citizenship": F.normalize_citizenship,
    "identifier": F.normalize_identifier,
}


def apply_pattern(spec: FieldSpec, raw: str) -> str:
    """The part of the value text the template's ``pattern`` selects (all of it without one)."""
    if not spec.pattern:
        return raw
    match = re.search(spec.pattern, raw, re.IGNORECASE)
    if match is None:
        return ""
    return match.group(1) if match.groups() else match.group(0)


def parse_value(spec: FieldSpec, raw: str) -> Any:
    """The field's parser, after the template's lookalike replacements (O -> 0 in IDs)."""
    value = PARSERS[spec.parser](raw)
    if isinstance(value, str) and spec.lookalikes:
        value = value.translate({ord(k): v for k, v in spec.lookalikes.items()})
    if isinstance(value, str) and spec.shape:
        value = F.apply_shape(value, spec.shape)
    return value


@dataclass
class FieldValue:
    value: Any
    evidence: FieldEvidence
    # Every valid reading of the value (the page's, then enlarged re-reads): the packet votes on them.
    readings: list[Any] = field(default_factory=list)
    # A box's lines as read (the value joins them, known entries snapped).
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.readings and self.value is not None:
            self.readings = [self.value]


Known = Mapping[str, Sequence[str]]  # lexicon name -> entries given by the configuration


def known_values(spec: FieldSpec, known: Known) -> Sequence[str]:
    """The entries a field's reading may snap to: the configuration's list, else the template's."""
    if not spec.lexicon:
        return ()
    return known.get(spec.lexicon) or lexicon(spec.lexicon)
