"""The market-data records and platform events.

Every public record class is frozen and slotted. Each sits on a private mutable twin
(``_TradeFields`` under ``Trade``) that declares its fields: the public class adds no
fields, only immutability, so the codec can build a record on the twin with plain slot
stores and then give it its public class. That is about four times cheaper than a frozen
``__init__``, which must go through ``object.__setattr__`` per field (bench/bench_wire.py).
Only the wire decoders (``mdp/wire/``) and the Binance trade parser
(``mdp/exchanges/binance/_parse.py`` ``build_trade`` and the hot path of ``_trades.py``)
do it; everyone else constructs records normally.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import ClassVar

import attrs

from mdp.model._instrument import Instrument
from mdp.model._quality import PERFECT, Quality

__all__ = [
    "BestBidOffer",
    "BookDelta",
    "BookSnapshot",
    "Candle",
    "FundingRate",
    "Gap",
    "Kind",
    "Level",
    "Liquidation",
    "MarkPrice",
    "Record",
    "Resync",
    "Side",
    "SourceState",
    "SourceStatus",
    "Trade",
]

Level = tuple[Decimal, Decimal]
"""A book level: (price, size). A size of zero in a delta removes the level."""


class Kind(enum.StrEnum):
    TRADE = "trade"
    BOOK_SNAPSHOT = "book_snapshot"
    BOOK_DELTA = "book_delta"
    BEST_BID_OFFER = "bbo"
    FUNDING_RATE = "funding"
    MARK_PRICE = "mark_price"
    LIQUIDATION = "liquidation"
    CANDLE = "candle"
    GAP = "gap"
    RESYNC = "resync"
    SOURCE_STATUS = "source_status"


class Side(enum.StrEnum):
    """For a trade, the taker's side: ``BUY`` means a buyer lifted an ask."""

    BUY = "buy"
    SELL = "sell"
    UNKNOWN = "unknown"


class SourceState(enum.StrEnum):
    UNKNOWN = "unknown"
    CONNECTING = "connecting"
    LIVE = "live"
    SILENT = "silent"
    STALE = "stale"
    DISCONNECTED = "disconnected"
    DEGRADED = "degraded"


@attrs.define(kw_only=True)
class _HeaderFields:
    """What every record carries.

    Times are integer nanoseconds since the Unix epoch. ``exchange_time_ns`` is the
    exchange's event time and ``match_time_ns`` its match/transaction time; either is
    ``None`` when the exchange did not send it — never a copy of ``receive_time_ns``, the
    local wall clock when the frame arrived.
    """

    instrument: Instrument
    receive_time_ns: int
    exchange_time_ns: int | None = None
    match_time_ns: int | None = None
    sequence: int = 0
    quality: Quality = PERFECT
    extra: tuple[tuple[str, str], ...] = ()


@attrs.define(kw_only=True)
class _TradeFields(_HeaderFields):
    trade_id: int
    price: Decimal
    size: Decimal
    side: Side


@attrs.frozen(kw_only=True)
class Trade(_TradeFields):
    """One trade (fill) as the exchange printed it; ``side`` is the taker side."""

    kind: ClassVar[Kind] = Kind.TRADE


@attrs.define(kw_only=True)
class _BookSnapshotFields(_HeaderFields):
    last_update_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    checksum: int | None = None


@attrs.frozen(kw_only=True)
class BookSnapshot(_BookSnapshotFields):
    """A full (or top-N) L2 book; bids and asks best first."""

    kind: ClassVar[Kind] = Kind.BOOK_SNAPSHOT


@attrs.define(kw_only=True)
class _BookDeltaFields(_HeaderFields):
    first_update_id: int
    final_update_id: int
    prev_final_update_id: int | None = None
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()
    checksum: int | None = None


@attrs.frozen(kw_only=True)
class BookDelta(_BookDeltaFields):
    """Changed L2 levels covering update ids ``first_update_id..final_update_id``."""

    kind: ClassVar[Kind] = Kind.BOOK_DELTA


@attrs.define(kw_only=True)
class _BestBidOfferFields(_HeaderFields):
    bid_price: Decimal
    bid_size: Decimal
    ask_price: Decimal
    ask_size: Decimal
    update_id: int | None = None


@attrs.frozen(kw_only=True)
class BestBidOffer(_BestBidOfferFields):
    """The top of the book (L1)."""

    kind: ClassVar[Kind] = Kind.BEST_BID_OFFER


@attrs.define(kw_only=True)
class _FundingRateFields(_HeaderFields):
    rate: Decimal
    predicted_rate: Decimal | None = None
    funding_time_ns: int | None = None
    next_funding_time_ns: int | None = None


@attrs.frozen(kw_only=True)
class FundingRate(_FundingRateFields):
    """A perpetual's funding rate (a fraction: ``0.0001`` is 1 bp per period)."""

    kind: ClassVar[Kind] = Kind.FUNDING_RATE


@attrs.define(kw_only=True)
class _MarkPriceFields(_HeaderFields):
    mark_price: Decimal
    index_price: Decimal | None = None
    estimated_settle_price: Decimal | None = None


@attrs.frozen(kw_only=True)
class MarkPrice(_MarkPriceFields):
    """Mark price and, where the exchange sends it, the index price."""

    kind: ClassVar[Kind] = Kind.MARK_PRICE


@attrs.define(kw_only=True)
class _LiquidationFields(_HeaderFields):
    side: Side
    price: Decimal
    size: Decimal
    average_price: Decimal | None = None
    filled_size: Decimal | None = None
    status: str = ""


@attrs.frozen(kw_only=True)
class Liquidation(_LiquidationFields):
    """A forced order; ``side`` is the side of the liquidation order itself."""

    kind: ClassVar[Kind] = Kind.LIQUIDATION


@attrs.define(kw_only=True)
class _CandleFields(_HeaderFields):
    interval_ns: int
    open_time_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal | None = None
    trade_count: int | None = None
    closed: bool = False


@attrs.frozen(kw_only=True)
class Candle(_CandleFields):
    """OHLCV over ``[open_time_ns, open_time_ns + interval_ns)``."""

    kind: ClassVar[Kind] = Kind.CANDLE


@attrs.define(kw_only=True)
class _GapFields(_HeaderFields):
    stream: str
    first_missing: int
    last_missing: int
    reason: str = ""


@attrs.frozen(kw_only=True)
class Gap(_GapFields):
    """Ids ``first_missing..last_missing`` (inclusive) of ``stream`` are missing."""

    kind: ClassVar[Kind] = Kind.GAP


@attrs.define(kw_only=True)
class _ResyncFields(_HeaderFields):
    stream: str
    reason: str = ""
    old_sequence: int | None = None
    new_sequence: int | None = None


@attrs.frozen(kw_only=True)
class Resync(_ResyncFields):
    """A stream's state was rebuilt from a snapshot."""

    kind: ClassVar[Kind] = Kind.RESYNC


@attrs.define(kw_only=True)
class _SourceStatusFields(_HeaderFields):
    stream: str
    state: SourceState
    detail: str = ""


@attrs.frozen(kw_only=True)
class SourceStatus(_SourceStatusFields):
    """The health of one stream of a source."""

    kind: ClassVar[Kind] = Kind.SOURCE_STATUS


Record = (
    Trade
    | BookSnapshot
    | BookDelta
    | BestBidOffer
    | FundingRate
    | MarkPrice
    | Liquidation
    | Candle
    | Gap
    | Resync
    | SourceStatus
)
"""Any record the platform moves."""

RECORD_TYPES: tuple[type[Record], ...] = (
    Trade,
    BookSnapshot,
    BookDelta,
    BestBidOffer,
    FundingRate,
    MarkPrice,
    Liquidation,
    Candle,
    Gap,
    Resync,
    SourceStatus,
)
