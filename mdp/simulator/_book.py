"""An L2 order book on integer ticks and lots, the single source of truth for depth frames,
REST snapshots and book checkpoints, so the three can never disagree."""

from __future__ import annotations

import attrs

__all__ = ["Book", "BookCheckpoint"]

BID, ASK = 0, 1


@attrs.frozen
class BookCheckpoint:
    """The whole book right after update ``update_id``: bids best first (descending),
    asks best first (ascending), as (price ticks, qty lots)."""

    update_id: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


class Book:
    """Levels keyed by price in ticks; the best prices are cached because a trade reads
    them every step, and recomputed only when a best level disappears."""

    __slots__ = ("asks", "best_ask", "best_bid", "bids")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.best_bid = 0
        self.best_ask = 0

    def set(self, side: int, price: int, qty: int) -> None:
        """Set a level (``qty == 0`` deletes it); the caller keeps the book uncrossed."""
        levels = self.bids if side == BID else self.asks
        if qty:
            levels[price] = qty
            if side == BID:
                if price > self.best_bid or not self.best_bid:
                    self.best_bid = price
            elif price < self.best_ask or not self.best_ask:
                self.best_ask = price
        else:
            levels.pop(price, None)
            if side == BID:
                if price == self.best_bid:
                    self.best_bid = max(levels) if levels else 0
            elif price == self.best_ask:
                self.best_ask = min(levels) if levels else 0

    def checkpoint(self, update_id: int, limit: int | None = None) -> BookCheckpoint:
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        if limit is not None:
            bids, asks = bids[:limit], asks[:limit]
        return BookCheckpoint(update_id, tuple(bids), tuple(asks))

    def far_levels(self, side: int, keep: int) -> list[int]:
        """Prices beyond the ``keep`` best on ``side`` (pruned to bound the book)."""
        levels = self.bids if side == BID else self.asks
        ordered = sorted(levels, reverse=(side == BID))
        return ordered[keep:]
