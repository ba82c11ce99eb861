"""The small per-instrument state of the anomaly stage: a price reference, a size window,
the ids seen. Each piece is cheap to rebuild, which is what lets the stage restart freely.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from mdp.cleaning._rules import Rules
from mdp.model import Reason
from mdp.model._numbers import exact_context

__all__ = ["Ids", "PriceReference", "SizeWindow"]

_CTX = exact_context()


class PriceReference:
    """A reference price and the band around it that is not a jump.

    The reference is refreshed from an accepted price every ``REFRESH`` prices (and at
    once after ``price_jump_confirm`` jumps in a row: the market has moved). Refreshing
    costs a decimal multiplication, so it is not done on every trade; a reference a few
    trades old is as good a yardstick for a 5 % jump.
    """

    __slots__ = ("age", "hi", "jumps", "lo", "price")
    REFRESH = 16

    def __init__(self) -> None:
        self.price: Decimal | None = None
        self.lo = self.hi = Decimal(0)
        self.jumps = 0
        self.age = 0

    def set(self, price: Decimal, rules: Rules) -> None:
        self.price = price
        band = _CTX.multiply(price, rules.price_jump)
        self.lo, self.hi = price - band, price + band
        self.jumps = self.age = 0

    def is_jump(self, price: Decimal, rules: Rules) -> bool:
        """Whether ``price`` jumps from the reference; moves the reference as it goes."""
        if self.price is None:
            self.set(price, rules)
            return False
        if self.lo <= price <= self.hi:
            self.jumps = 0
            self.age += 1
            if self.age >= self.REFRESH:
                self.set(price, rules)
            return False
        self.jumps += 1
        if self.jumps >= rules.price_jump_confirm:
            self.set(price, rules)
        return True


class SizeWindow:
    """The average of the last sizes, kept in blocks of ``BLOCK``: per size one decimal
    addition, per block a new spike threshold (``size_spike`` × the average). The window
    is ``size_window`` sizes rounded up to whole blocks."""

    __slots__ = (
        "block",
        "block_count",
        "block_counts",
        "blocks",
        "count",
        "max_blocks",
        "threshold",
        "total",
    )
    BLOCK = 16

    def __init__(self, rules: Rules) -> None:
        self.block = Decimal(0)
        self.block_count = 0
        self.blocks: deque[Decimal] = deque()
        self.block_counts: deque[int] = deque()
        self.max_blocks = -(-rules.size_window // self.BLOCK)
        self.total = Decimal(0)
        self.count = 0
        self.threshold: Decimal | None = None  # None until size_min_samples are known

    def add(self, size: Decimal, rules: Rules) -> None:
        """Count an unflagged size."""
        self.block += size
        self.block_count += 1
        if self.block_count == self.BLOCK or (
            self.threshold is None and self.count + self.block_count >= rules.size_min_samples
        ):
            self.close_block(rules)

    def close_block(self, rules: Rules) -> None:
        self.blocks.append(self.block)
        self.total += self.block
        self.count += self.block_count
        self.block_counts.append(self.block_count)
        if len(self.blocks) > self.max_blocks:
            self.total -= self.blocks.popleft()
            self.count -= self.block_counts.popleft()
        self.block = Decimal(0)
        self.block_count = 0
        if self.count >= rules.size_min_samples:
            self.threshold = _CTX.divide(_CTX.multiply(self.total, rules.size_spike), self.count)

    def is_spike(self, size: Decimal, rules: Rules) -> bool:
        if self.threshold is not None and size > self.threshold:
            return True
        self.add(size, rules)
        return False


class Ids:
    """Which ids of a stream were seen, as the highest id and the holes below it.

    For a stream that counts up by one (trade ids), a lower id is a duplicate unless it
    falls into a hole, in which case it arrives out of order (or is a backfill).
    """

    __slots__ = ("first", "holes", "last")
    MAX_HOLES = 1_000

    def __init__(self) -> None:
        self.first: int | None = None
        self.last: int | None = None
        self.holes: list[list[int]] = []  # [low, high] ranges not seen yet, oldest first

    def classify(
        self, first: int, last: int, *, backfilled: bool = False, previous: int | None = None
    ) -> Reason | None:
        """Classify ids ``first..last``. ``previous`` is the id the record says comes
        before it, for streams that name it (futures depth ``pu``)."""
        known = self.last
        if known is None:
            self.first, self.last = first, last
            return None
        if last > known:
            self.last = last
            if (previous == known) if previous is not None else (first == known + 1):
                return None
            if previous is None and first > known + 1:
                self.holes.append([known + 1, first - 1])
                if len(self.holes) > self.MAX_HOLES:
                    del self.holes[0]
            return Reason.ID_GAP
        if self._fill(first, last):
            return None if backfilled else Reason.OUT_OF_ORDER_ID
        if self.first is not None and last < self.first:
            return Reason.OUT_OF_ORDER_ID  # older than anything this stage has seen
        return Reason.DUPLICATE_ID

    def _fill(self, first: int, last: int) -> bool:
        """Take ``first..last`` out of the holes; whether any of it was missing."""
        for index, (low, high) in enumerate(self.holes):
            if last < low or first > high:
                continue
            pieces = [
                piece for piece in ([low, first - 1], [last + 1, high]) if piece[0] <= piece[1]
            ]
            self.holes[index : index + 1] = pieces
            return True
        return False
