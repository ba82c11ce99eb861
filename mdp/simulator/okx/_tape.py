"""What an OKX instrument emitted, kept bounded: trade messages (one per taker order:
``tradeId`` the last id, ``count`` the fills), liquidations and funding pushes. It is the
ground truth and the data behind ``market/history-trades``, so a backfill can only return
what the stream carried."""

from __future__ import annotations

import bisect
from array import array

import attrs

__all__ = ["OkxTrade", "OkxTradeTape"]


@attrs.frozen
class OkxTrade:
    """One trade message as integers (ticks, lots or contracts, ms)."""

    trade_id: int  # the last raw id of the aggregation
    count: int
    price: int
    qty: int
    time_ms: int
    taker_buy: bool


class OkxTradeTape:
    """Trade messages in compact arrays; the oldest half is dropped past ``capacity``."""

    def __init__(self, capacity: int, first_id: int) -> None:
        self.capacity = capacity
        self.next_id = first_id  # the first raw id of the next message
        self._cols = tuple(array("q") for _ in range(6))  # id count price qty time buy

    def append(self, count: int, price: int, qty: int, time_ms: int, taker_buy: bool) -> int:
        """Store one message of ``count`` fills; returns its ``tradeId`` (the last id)."""
        trade_id = self.next_id + count - 1
        self.next_id = trade_id + 1
        for column, value in zip(
            self._cols, (trade_id, count, price, qty, time_ms, taker_buy), strict=True
        ):
            column.append(value)
        if len(self._cols[0]) > self.capacity:
            cut = len(self._cols[0]) - self.capacity // 2
            for column in self._cols:
                del column[:cut]
        return trade_id

    def __len__(self) -> int:
        return len(self._cols[0])

    def _row(self, i: int) -> OkxTrade:
        tid, count, price, qty, t, buy = (column[i] for column in self._cols)
        return OkxTrade(tid, count, price, qty, t, bool(buy))

    def all(self) -> list[OkxTrade]:
        return [self._row(i) for i in range(len(self))]

    def since(self, trade_id: int) -> list[OkxTrade]:
        """The messages with ``tradeId >= trade_id``, oldest first (what a reader of the
        truth has not seen yet: found by bisection, not by walking the tape)."""
        start = bisect.bisect_left(self._cols[0], trade_id)
        return [self._row(i) for i in range(start, len(self))]

    def before(self, trade_id: int | None, limit: int) -> list[OkxTrade]:
        """Up to ``limit`` messages with ``tradeId < trade_id`` (all if None), newest
        first: OKX's ``history-trades`` with ``type=1&after=…``."""
        ids = self._cols[0]
        stop = len(ids) if trade_id is None else bisect.bisect_left(ids, trade_id)
        return [self._row(i) for i in range(stop - 1, max(-1, stop - 1 - limit), -1)]
