"""The dedupe thresholds (``[dedupe]`` in the configuration): windows, name similarity, review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DedupeConfig:
    issued_window_days: int = 3
    name_similarity: float = 90.0
    review_below: float = 95.0
    # An identifier read with less OCR confidence than this can support a match but not veto one.
    trusted_confidence: float = 0.8
    # Arrival times are the receiving systems' (exact); copies of one request arrive within days.
    max_arrival_gap_days: int = 21

    @classmethod
    def from_settings(cls, settings: Any) -> DedupeConfig:
        return cls(
            issued_window_days=settings.issued_window_days,
            name_similarity=settings.name_similarity,
            review_below=settings.review_below,
            trusted_confidence=getattr(settings, "trusted_confidence", cls.trusted_confidence),
            max_arrival_gap_days=getattr(settings, "max_arrival_gap_days", cls.max_arrival_gap_days),
        )
