"""Bounded history of what the market emitted: raw trades, aggregate trades and book
checkpoints. It is both the ground truth handed to tests and the data behind the REST
backfill endpoints, so a backfill can only ever return what the streams carried."""

from __future__ import annotations

import bisect
from array import array
from collections import deque

import attrs

from mdp.simulator._book import BookCheckpoint

__all__ = ["AggRecord", "AggTape", "CheckpointLog", "TradeRecord", "TradeTape"]


@attrs.frozen
class TradeRecord:
    """One raw trade as integers (ticks, lots, ms)."""

    id: int
    price: int
    qty: int
    time_ms: int
    buyer_is_maker: bool


@attrs.frozen
class AggRecord:
    """One aggregate trade: raw trades ``first_id``..``last_id`` at one price."""

    id: int
    price: int
    qty: int
    first_id: int
    last_id: int
    time_ms: int
    buyer_is_maker: bool


class TradeTape:
    """Trades with consecutive ids in compact arrays; the oldest half is dropped once
    ``capacity`` is exceeded, so memory stays bounded at any rate."""

    def __init__(self, capacity: int, first_id: int) -> None:
        self.capacity = capacity
        self.first_id = first_id  # id of element 0
        self._price = array("q")
        self._qty = array("q")
        self._time = array("q")
        self._maker = array("b")

    def append(self, price: int, qty: int, time_ms: int, buyer_is_maker: bool) -> None:
        self._price.append(price)
        self._qty.append(qty)
        self._time.append(time_ms)
        self._maker.append(buyer_is_maker)
        if len(self._price) > self.capacity:
            cut = len(self._price) - self.capacity // 2
            for column in (self._price, self._qty, self._time, self._maker):
                del column[:cut]
            self.first_id += cut

    @property
    def next_id(self) -> int:
        return self.first_id + len(self._price)

    def __len__(self) -> int:
        return len(self._price)

    def get(self, from_id: int | None, limit: int) -> list[TradeRecord]:
        """Up to ``limit`` trades from ``from_id`` (the most recent ones if ``None``)."""
        n = len(self._price)
        start = max(0, n - limit) if from_id is None else max(0, from_id - self.first_id)
        stop = min(n, start + limit)
        return [
            TradeRecord(
                self.first_id + i,
                self._price[i],
                self._qty[i],
                self._time[i],
                bool(self._maker[i]),
            )
            for i in range(start, stop)
        ]


class AggTape:
    """Aggregate trades in compact arrays, bounded like :class:`TradeTape`."""

    def __init__(self, capacity: int, first_id: int) -> None:
        self.capacity = capacity
        self.first_id = first_id
        self._cols = tuple(array("q") for _ in range(6))  # price qty first last time maker

    def append(
        self, price: int, qty: int, first: int, last: int, time_ms: int, buyer_is_maker: bool
    ) -> int:
        """Store one aggregate; returns its id."""
        cols = self._cols
        agg_id = self.first_id + len(cols[0])
        cols[0].append(price)
        cols[1].append(qty)
        cols[2].append(first)
        cols[3].append(last)
        cols[4].append(time_ms)
        cols[5].append(buyer_is_maker)
        if len(cols[0]) > self.capacity:
            cut = len(cols[0]) - self.capacity // 2
            for column in cols:
                del column[:cut]
            self.first_id += cut
        return agg_id

    @property
    def next_id(self) -> int:
        return self.first_id + len(self._cols[0])

    def _row(self, i: int) -> AggRecord:
        p, q, f, last, t, m = (column[i] for column in self._cols)
        return AggRecord(self.first_id + i, p, q, f, last, t, bool(m))

    def get(
        self,
        from_id: int | None,
        limit: int,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[AggRecord]:
        n = len(self._cols[0])
        times = self._cols[4]
        if from_id is not None:
            start = max(0, from_id - self.first_id)
        elif start_ms is not None:
            start = bisect.bisect_left(times, start_ms)
        else:
            start = max(0, n - limit)
        out: list[AggRecord] = []
        for i in range(start, min(n, start + limit)):
            if end_ms is not None and times[i] > end_ms:
                break
            out.append(self._row(i))
        return out


class CheckpointLog:
    """The last ``capacity`` book checkpoints by update id. Levels are stored as plain
    dict copies (cheap, taken every depth window) and sorted only when asked for."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._by_id: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
        self._order: deque[int] = deque()

    def add(self, update_id: int, bids: dict[int, int], asks: dict[int, int]) -> None:
        if self.capacity <= 0 or update_id in self._by_id:
            return
        self._by_id[update_id] = (bids.copy(), asks.copy())
        self._order.append(update_id)
        while len(self._order) > self.capacity:
            del self._by_id[self._order.popleft()]

    def get(self, update_id: int) -> BookCheckpoint | None:
        levels = self._by_id.get(update_id)
        if levels is None:
            return None
        bids, asks = levels
        return BookCheckpoint(
            update_id, tuple(sorted(bids.items(), reverse=True)), tuple(sorted(asks.items()))
        )

    def ids(self) -> list[int]:
        return list(self._order)
