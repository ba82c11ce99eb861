"""Stage 4, precision: prices on the instrument's tick, sizes on its lot, exactly.

An off-increment value is either flagged suspicious (the default) or rounded to the
nearest increment and marked repaired, by rule (``off_tick``, ``off_lot``). Book levels are
only ever flagged: rounding them could merge two levels. All arithmetic is decimal in a
context wide enough that nothing rounds by accident; no float is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, ClassVar

from mdp.cleaning._rules import OffIncrement, RulesBook
from mdp.cleaning._stage import Rejection, StageStats, flag
from mdp.model import (
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    Candle,
    Liquidation,
    QualityLevel,
    Reason,
    Record,
    Trade,
)
from mdp.model._numbers import exact_context

__all__ = ["PrecisionStage", "on_increment", "to_increment"]

_CTX = exact_context()
_ZERO = Decimal(0)

# (field, "tick" or "lot") per kind whose values can be repaired one by one.
_SCALAR_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {
    Trade: (("price", "tick"), ("size", "lot")),
    BestBidOffer: (
        ("bid_price", "tick"),
        ("ask_price", "tick"),
        ("bid_size", "lot"),
        ("ask_size", "lot"),
    ),
    Liquidation: (("price", "tick"), ("size", "lot")),
    Candle: (("open", "tick"), ("high", "tick"), ("low", "tick"), ("close", "tick")),
}


def on_increment(value: Decimal, increment: Decimal) -> bool:
    """Whether ``value`` is a whole number of ``increment``s, exactly.

    The thread's default context answers almost always and is several times faster; only
    a non-zero remainder, or a quotient too long for its precision, is checked again in
    the exact context.
    """
    try:
        if not value % increment:
            return True
    except ArithmeticError:
        pass
    return _CTX.remainder(value, increment).is_zero()


def to_increment(value: Decimal, increment: Decimal) -> Decimal:
    """The multiple of ``increment`` nearest to ``value`` (ties to even), at the
    increment's exponent."""
    steps = _CTX.divide(value, increment).to_integral_value(rounding=ROUND_HALF_EVEN)
    return _CTX.multiply(steps, increment).quantize(increment, context=_CTX)


class PrecisionStage:
    name: ClassVar[str] = "precision"

    def __init__(self, rules: RulesBook) -> None:
        self.rules = rules
        self.stats = StageStats()

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        rejected: list[Rejection] = []
        for record in batch:
            if type(record) is Trade:  # the hot path, inlined
                instrument = record.instrument
                tick, lot = instrument.tick, instrument.lot
                try:
                    if (tick is None or not record.price % tick) and (
                        lot is None or not record.size % lot
                    ):
                        out.append(record)
                        continue
                except ArithmeticError:  # too many digits for the default context
                    pass
            else:
                tick, lot = record.instrument.tick, record.instrument.lot
            fields = _SCALAR_FIELDS.get(type(record))
            if fields is not None:
                result = self._scalars(record, fields, tick, lot)
            elif isinstance(record, BookSnapshot | BookDelta):
                result = self._levels(record, tick, lot)
            else:
                result = record
            if isinstance(result, Rejection):
                rejected.append(result)
            else:
                out.append(result)
        self.stats.records_in += len(batch)
        self.stats.records_out += len(out)
        self.stats.dead_lettered += len(rejected)
        return out, rejected

    def _scalars(
        self,
        record: Record,
        fields: tuple[tuple[str, str], ...],
        tick: Decimal | None,
        lot: Decimal | None,
    ) -> Record | Rejection:
        rules = self.rules.for_instrument(record.instrument)
        for name, which in fields:
            increment = tick if which == "tick" else lot
            value = getattr(record, name)
            if increment is None or value is None or on_increment(value, increment):
                continue
            reason = Reason.OFF_TICK if which == "tick" else Reason.OFF_LOT
            rule = rules.off_tick if which == "tick" else rules.off_lot
            if rule is OffIncrement.FLAG:
                record = flag(record, QualityLevel.SUSPICIOUS, reason, self.stats)
                continue
            repaired = to_increment(value, increment)
            if which == "lot" and repaired == _ZERO:
                self.stats.flagged[reason.value] += 1
                return Rejection(
                    record, self.name, reason, f"{name} {value} rounds to zero lots of {increment}"
                )
            record = flag(record, QualityLevel.REPAIRED, reason, self.stats, **{name: repaired})
        return record

    def _levels(
        self, book: BookSnapshot | BookDelta, tick: Decimal | None, lot: Decimal | None
    ) -> Record:
        for price, size in (*book.bids, *book.asks):
            if tick is not None and not on_increment(price, tick):
                return flag(book, QualityLevel.SUSPICIOUS, Reason.OFF_TICK, self.stats)
            if lot is not None and not on_increment(size, lot):
                return flag(book, QualityLevel.SUSPICIOUS, Reason.OFF_LOT, self.stats)
        return book
