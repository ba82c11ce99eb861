"""Data quality: what the platform knows about how far a record can be trusted."""

from __future__ import annotations

import enum

import attrs

__all__ = ["PERFECT", "Quality", "QualityLevel", "Reason"]


class QualityLevel(enum.IntEnum):
    """Ordered from best to worst, so ``max`` of two levels is the combined level."""

    PERFECT = 0
    REPAIRED = 1
    SUSPICIOUS = 2
    UNREPAIRABLE = 3


class Reason(enum.StrEnum):
    """Why a record is not perfect. Reasons are strings on the wire, so a reader keeps a
    reason a newer writer added even when it has no member for it."""

    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_SIZE = "negative_size"
    ZERO_SIZE = "zero_size"
    TIME_OUT_OF_BOUNDS = "time_out_of_bounds"
    UNKNOWN_SYMBOL = "unknown_symbol"
    OFF_TICK = "off_tick"
    OFF_LOT = "off_lot"
    RECEIVE_TIME_FILLED = "receive_time_filled"
    EXCHANGE_TIME_AHEAD = "exchange_time_ahead"
    EXCHANGE_TIME_STALE = "exchange_time_stale"
    PRICE_JUMP = "price_jump"
    SIZE_SPIKE = "size_spike"
    DUPLICATE_ID = "duplicate_id"
    OUT_OF_ORDER_ID = "out_of_order_id"
    ID_GAP = "id_gap"
    CROSSED_BOOK = "crossed_book"
    BACKFILLED = "backfilled"


@attrs.frozen
class Quality:
    """A level and the reasons for it. Perfect records share the :data:`PERFECT` instance."""

    level: QualityLevel = QualityLevel.PERFECT
    reasons: tuple[str, ...] = ()

    def worsened(self, level: QualityLevel, reason: str) -> Quality:
        """This quality with one more reason, at the worse of the two levels."""
        if reason in self.reasons:
            return self if level <= self.level else Quality(level, self.reasons)
        return Quality(max(self.level, level), (*self.reasons, reason))


PERFECT = Quality()
