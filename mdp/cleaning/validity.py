"""Stage 2, field validity: prices positive, sizes not negative (positive where zero makes
no sense), times within the configured bounds.

A value that breaks these rules cannot be trusted or repaired: the record is dead-lettered.
One exception: a zero-size level in a snapshot is dropped (repaired), since a snapshot
with one meaningless level is otherwise good.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from mdp.cleaning._rules import Rules, RulesBook
from mdp.cleaning._stage import Rejection, StageStats, flag
from mdp.instruments import InstrumentCache
from mdp.model import (
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    Candle,
    Instrument,
    Level,
    Liquidation,
    MarkPrice,
    QualityLevel,
    Reason,
    Record,
    Trade,
)

__all__ = ["ValidityStage"]

_ZERO = Decimal(0)
_MS = 1_000_000

Problem = tuple[Reason, str] | None


def _price(name: str, value: Decimal | None) -> Problem:
    if value is not None and not value > _ZERO:
        return Reason.NON_POSITIVE_PRICE, f"{name} {value} is not positive"
    return None


def _size(name: str, value: Decimal | None, *, zero_ok: bool) -> Problem:
    if value is None:
        return None
    if value < _ZERO:
        return Reason.NEGATIVE_SIZE, f"{name} {value} is negative"
    if not zero_ok and value == _ZERO:
        return Reason.ZERO_SIZE, f"{name} is zero"
    return None


def _levels(side: str, levels: tuple[Level, ...]) -> Problem:
    for price, size in levels:
        found = _price(f"{side} price", price) or _size(f"{side} size", size, zero_ok=True)
        if found:
            return found
    return None


def _values(record: Record) -> Problem:
    """The value rules of each kind; ``None`` when they hold."""
    if type(record) is Trade:
        return _price("price", record.price) or _size("size", record.size, zero_ok=False)
    if isinstance(record, BookSnapshot | BookDelta):
        return _levels("bid", record.bids) or _levels("ask", record.asks)
    if isinstance(record, BestBidOffer):
        return (
            _price("bid price", record.bid_price)
            or _price("ask price", record.ask_price)
            or _size("bid size", record.bid_size, zero_ok=True)
            or _size("ask size", record.ask_size, zero_ok=True)
        )
    if isinstance(record, MarkPrice):
        return (
            _price("mark price", record.mark_price)
            or _price("index price", record.index_price)
            or _price("estimated settle price", record.estimated_settle_price)
        )
    if isinstance(record, Liquidation):
        return (
            _price("price", record.price)
            or _price("average price", record.average_price)
            or _size("size", record.size, zero_ok=False)
            or _size("filled size", record.filled_size, zero_ok=True)
        )
    if isinstance(record, Candle):
        found = (
            _price("open", record.open)
            or _price("high", record.high)
            or _price("low", record.low)
            or _price("close", record.close)
            or _size("volume", record.volume, zero_ok=True)
        )
        if found is None and not (
            record.low
            <= min(record.open, record.close)
            <= max(record.open, record.close)
            <= record.high
        ):
            found = Reason.NON_POSITIVE_PRICE, "candle low/open/close/high are inconsistent"
        return found
    return None  # funding rates may be negative; events carry no market values


def _times(record: Record, rules: Rules) -> Problem:
    earliest = rules.earliest_time_ms * _MS
    receive = record.receive_time_ns
    latest = receive + rules.max_ahead_ms * _MS if receive else None
    for name in ("exchange_time_ns", "match_time_ns"):
        value = getattr(record, name)
        if value is None:
            continue
        if value < earliest or (latest is not None and value > latest):
            return Reason.TIME_OUT_OF_BOUNDS, f"{name} {value} is outside the allowed range"
    if receive and receive < earliest:
        return Reason.TIME_OUT_OF_BOUNDS, f"receive_time_ns {receive} is before the earliest time"
    return None


class ValidityStage:
    name: ClassVar[str] = "validity"

    def __init__(self, rules: RulesBook) -> None:
        self.rules = rules
        self.stats = StageStats()
        self._bounds: InstrumentCache[tuple[int, int, Rules]] = InstrumentCache(self._derive)

    def _derive(self, instrument: Instrument) -> tuple[int, int, Rules]:
        rules = self.rules.for_instrument(instrument)
        return rules.earliest_time_ms * _MS, rules.max_ahead_ms * _MS, rules

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        rejected: list[Rejection] = []
        bounds = self._bounds
        zero = _ZERO
        for record in batch:
            instrument = record.instrument
            entry = bounds.get(id(instrument))
            lo, ahead, rules = (
                entry[1]
                if entry is not None and entry[0] is instrument
                else bounds.miss(instrument)
            )
            receive = record.receive_time_ns
            if type(record) is Trade and receive:  # the hot path, inlined
                hi = receive + ahead
                exchange_time = record.exchange_time_ns
                match_time = record.match_time_ns
                if (
                    record.price > zero
                    and record.size > zero
                    and lo <= receive
                    and (exchange_time is None or lo <= exchange_time <= hi)
                    and (match_time is None or lo <= match_time <= hi)
                ):
                    out.append(record)
                    continue
            found = _values(record) or _times(record, rules)
            if found is not None:
                rejected.append(Rejection(record, self.name, found[0], found[1]))
                self.stats.flagged[found[0].value] += 1
                continue
            if type(record) is BookSnapshot:
                record = self._drop_empty_levels(record)
            out.append(record)
        self.stats.records_in += len(batch)
        self.stats.records_out += len(out)
        self.stats.dead_lettered += len(rejected)
        return out, rejected

    def _drop_empty_levels(self, snapshot: BookSnapshot) -> BookSnapshot:
        bids = tuple(level for level in snapshot.bids if level[1])
        asks = tuple(level for level in snapshot.asks if level[1])
        if len(bids) == len(snapshot.bids) and len(asks) == len(snapshot.asks):
            return snapshot
        return flag(
            snapshot, QualityLevel.REPAIRED, Reason.ZERO_SIZE, self.stats, bids=bids, asks=asks
        )
