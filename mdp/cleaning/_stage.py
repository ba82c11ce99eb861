"""What every cleaning stage shares: its result types, its counters, how it flags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, TypeVar

import attrs

from mdp.model import QualityLevel, Reason, Record

__all__ = ["Rejection", "Stage", "StageStats", "flag"]

R = TypeVar("R", bound=Record)


@attrs.frozen
class Rejection:
    """A record that cannot be repaired: it goes to the dead-letter store, not downstream.

    ``record`` is whatever arrived, which for the structure stage may not be a well-formed
    record at all.
    """

    record: Any
    stage: str
    reason: Reason
    detail: str


@attrs.define
class StageStats:
    """Counters per stage, exported as metrics."""

    records_in: int = 0
    records_out: int = 0
    dead_lettered: int = 0
    flagged: Counter[str] = attrs.Factory(Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records_in": self.records_in,
            "records_out": self.records_out,
            "dead_lettered": self.dead_lettered,
            "flagged": dict(self.flagged),
        }


class Stage(Protocol):
    """A stage is a function of (batch, its small per-symbol state): a restarted stage
    starts with empty state and rebuilds it from the records that follow."""

    name: ClassVar[str]
    stats: StageStats

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]: ...


def flag(record: R, level: QualityLevel, reason: Reason, stats: StageStats, **changes: Any) -> R:
    """``record`` with one more quality reason (and any repaired ``changes``), counted."""
    stats.flagged[reason.value] += 1
    return attrs.evolve(record, quality=record.quality.worsened(level, reason), **changes)
