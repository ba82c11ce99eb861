"""Stage 1, structure: every field a kind needs is present and of the right type.

The checks are derived from the model's own field types, so a field added to the model is
checked without touching this stage. Trades, the bulk of the traffic, first go through one
combined test; only a trade that fails it is examined field by field for the reason.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from mdp.cleaning._stage import Rejection, StageStats
from mdp.model import RECORD_TYPES, Instrument, Quality, Reason, Record, Side, Trade

__all__ = ["StructureStage"]

Check = Callable[[Any], bool]


def _check_for(annotation: Any) -> tuple[Check, bool]:
    """A type test for one annotation, and whether ``None`` is allowed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"structure stage has no check for {annotation!r}")
        return _check_for(members[0])[0], True
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            item, _ = _check_for(args[0])
            return (lambda v: type(v) is tuple and all(item(x) for x in v)), False
        checks = [_check_for(a)[0] for a in args]
        return (
            lambda v: (
                type(v) is tuple
                and len(v) == len(checks)
                and all(c(x) for c, x in zip(checks, v, strict=True))
            )
        ), False
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return (lambda v: isinstance(v, annotation)), False
    if annotation in (int, str, bool, Decimal, Instrument):
        # bool is an int subclass and str enums are str subclasses: exact types only.
        return (lambda v: type(v) is annotation), False
    if annotation is Quality:
        return (lambda v: isinstance(v, Quality)), False
    raise TypeError(f"structure stage has no check for {annotation!r}")


def _field_checks(cls: type) -> list[tuple[str, Check, bool]]:
    attrs.resolve_types(cls)
    return [(f.name, *_check_for(f.type)) for f in attrs.fields(cls)]


_CHECKS: dict[type, list[tuple[str, Check, bool]]] = {
    cls: _field_checks(cls) for cls in RECORD_TYPES
}


def problem(record: Any) -> tuple[Reason, str] | None:
    """Why ``record`` is malformed, or ``None`` when it is well formed."""
    checks = _CHECKS.get(type(record))
    if checks is None:
        return Reason.WRONG_TYPE, f"not a market-data record: {type(record).__name__}"
    for name, check, optional in checks:
        value = getattr(record, name, None)
        if value is None:
            if optional:
                continue
            return Reason.MISSING_FIELD, f"{type(record).__name__}.{name} is missing"
        if not check(value):
            return (
                Reason.WRONG_TYPE,
                f"{type(record).__name__}.{name} is {type(value).__name__} {value!r}",
            )
    return None


class StructureStage:
    name: ClassVar[str] = "structure"

    def __init__(self) -> None:
        self.stats = StageStats()

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        rejected: list[Rejection] = []
        decimal, integer, none = Decimal, int, None
        for record in batch:
            # The hot path: a trade whose every field has its exact type, tested inline.
            if (
                type(record) is Trade
                and type(record.price) is decimal
                and type(record.size) is decimal
                and type(record.trade_id) is integer
                and type(record.receive_time_ns) is integer
                and ((t := record.exchange_time_ns) is none or type(t) is integer)
                and ((t := record.match_time_ns) is none or type(t) is integer)
                and type(record.sequence) is integer
                and type(record.instrument) is Instrument
                and type(record.side) is Side
                and type(record.quality) is Quality
                and record.extra == ()
            ):
                out.append(record)
                continue
            found = problem(record)
            if found is None:
                out.append(record)
            else:
                rejected.append(Rejection(record, self.name, found[0], found[1]))
        stats = self.stats
        stats.records_in += len(batch)
        stats.records_out += len(out)
        stats.dead_lettered += len(rejected)
        for r in rejected:
            stats.flagged[r.reason.value] += 1
        return out, rejected
