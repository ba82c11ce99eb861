from mdp.v1 import events_pb2 as _events_pb2
from mdp.v1 import market_pb2 as _market_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MarketType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_TYPE_UNKNOWN: _ClassVar[MarketType]
    MARKET_TYPE_SPOT: _ClassVar[MarketType]
    MARKET_TYPE_PERPETUAL: _ClassVar[MarketType]
    MARKET_TYPE_FUTURE: _ClassVar[MarketType]
    MARKET_TYPE_OPTION: _ClassVar[MarketType]

class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KIND_UNKNOWN: _ClassVar[Kind]
    KIND_TRADE: _ClassVar[Kind]
    KIND_BOOK_SNAPSHOT: _ClassVar[Kind]
    KIND_BOOK_DELTA: _ClassVar[Kind]
    KIND_BEST_BID_OFFER: _ClassVar[Kind]
    KIND_FUNDING_RATE: _ClassVar[Kind]
    KIND_MARK_PRICE: _ClassVar[Kind]
    KIND_LIQUIDATION: _ClassVar[Kind]
    KIND_CANDLE: _ClassVar[Kind]
    KIND_GAP: _ClassVar[Kind]
    KIND_RESYNC: _ClassVar[Kind]
    KIND_SOURCE_STATUS: _ClassVar[Kind]

class QualityLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_PERFECT: _ClassVar[QualityLevel]
    QUALITY_REPAIRED: _ClassVar[QualityLevel]
    QUALITY_SUSPICIOUS: _ClassVar[QualityLevel]
    QUALITY_UNREPAIRABLE: _ClassVar[QualityLevel]
MARKET_TYPE_UNKNOWN: MarketType
MARKET_TYPE_SPOT: MarketType
MARKET_TYPE_PERPETUAL: MarketType
MARKET_TYPE_FUTURE: MarketType
MARKET_TYPE_OPTION: MarketType
KIND_UNKNOWN: Kind
KIND_TRADE: Kind
KIND_BOOK_SNAPSHOT: Kind
KIND_BOOK_DELTA: Kind
KIND_BEST_BID_OFFER: Kind
KIND_FUNDING_RATE: Kind
KIND_MARK_PRICE: Kind
KIND_LIQUIDATION: Kind
KIND_CANDLE: Kind
KIND_GAP: Kind
KIND_RESYNC: Kind
KIND_SOURCE_STATUS: Kind
QUALITY_PERFECT: QualityLevel
QUALITY_REPAIRED: QualityLevel
QUALITY_SUSPICIOUS: QualityLevel
QUALITY_UNREPAIRABLE: QualityLevel

class Source(_message.Message):
    __slots__ = ("exchange", "market", "native_symbol", "symbol", "tick", "lot")
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    NATIVE_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    LOT_FIELD_NUMBER: _ClassVar[int]
    exchange: str
    market: MarketType
    native_symbol: str
    symbol: str
    tick: str
    lot: str
    def __init__(self, exchange: _Optional[str] = ..., market: _Optional[_Union[MarketType, str]] = ..., native_symbol: _Optional[str] = ..., symbol: _Optional[str] = ..., tick: _Optional[str] = ..., lot: _Optional[str] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("schema_version", "kind", "source", "source_index", "sequence", "exchange_time_ns", "match_time_ns", "receive_time_ns", "quality", "quality_reasons", "extra", "trade", "book_snapshot", "book_delta", "best_bid_offer", "funding_rate", "mark_price", "liquidation", "candle", "gap", "resync", "source_status")
    class ExtraEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    MATCH_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_REASONS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    TRADE_FIELD_NUMBER: _ClassVar[int]
    BOOK_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    BOOK_DELTA_FIELD_NUMBER: _ClassVar[int]
    BEST_BID_OFFER_FIELD_NUMBER: _ClassVar[int]
    FUNDING_RATE_FIELD_NUMBER: _ClassVar[int]
    MARK_PRICE_FIELD_NUMBER: _ClassVar[int]
    LIQUIDATION_FIELD_NUMBER: _ClassVar[int]
    CANDLE_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    SOURCE_STATUS_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    kind: Kind
    source: Source
    source_index: int
    sequence: int
    exchange_time_ns: int
    match_time_ns: int
    receive_time_ns: int
    quality: QualityLevel
    quality_reasons: _containers.RepeatedScalarFieldContainer[str]
    extra: _containers.ScalarMap[str, str]
    trade: _market_pb2.Trade
    book_snapshot: _market_pb2.BookSnapshot
    book_delta: _market_pb2.BookDelta
    best_bid_offer: _market_pb2.BestBidOffer
    funding_rate: _market_pb2.FundingRate
    mark_price: _market_pb2.MarkPrice
    liquidation: _market_pb2.Liquidation
    candle: _market_pb2.Candle
    gap: _events_pb2.Gap
    resync: _events_pb2.Resync
    source_status: _events_pb2.SourceStatus
    def __init__(self, schema_version: _Optional[int] = ..., kind: _Optional[_Union[Kind, str]] = ..., source: _Optional[_Union[Source, _Mapping]] = ..., source_index: _Optional[int] = ..., sequence: _Optional[int] = ..., exchange_time_ns: _Optional[int] = ..., match_time_ns: _Optional[int] = ..., receive_time_ns: _Optional[int] = ..., quality: _Optional[_Union[QualityLevel, str]] = ..., quality_reasons: _Optional[_Iterable[str]] = ..., extra: _Optional[_Mapping[str, str]] = ..., trade: _Optional[_Union[_market_pb2.Trade, _Mapping]] = ..., book_snapshot: _Optional[_Union[_market_pb2.BookSnapshot, _Mapping]] = ..., book_delta: _Optional[_Union[_market_pb2.BookDelta, _Mapping]] = ..., best_bid_offer: _Optional[_Union[_market_pb2.BestBidOffer, _Mapping]] = ..., funding_rate: _Optional[_Union[_market_pb2.FundingRate, _Mapping]] = ..., mark_price: _Optional[_Union[_market_pb2.MarkPrice, _Mapping]] = ..., liquidation: _Optional[_Union[_market_pb2.Liquidation, _Mapping]] = ..., candle: _Optional[_Union[_market_pb2.Candle, _Mapping]] = ..., gap: _Optional[_Union[_events_pb2.Gap, _Mapping]] = ..., resync: _Optional[_Union[_events_pb2.Resync, _Mapping]] = ..., source_status: _Optional[_Union[_events_pb2.SourceStatus, _Mapping]] = ...) -> None: ...

class EnvelopeBatch(_message.Message):
    __slots__ = ("schema_version", "sources", "records", "trades")
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    sources: _containers.RepeatedCompositeFieldContainer[Source]
    records: _containers.RepeatedCompositeFieldContainer[Envelope]
    trades: TradeColumns
    def __init__(self, schema_version: _Optional[int] = ..., sources: _Optional[_Iterable[_Union[Source, _Mapping]]] = ..., records: _Optional[_Iterable[_Union[Envelope, _Mapping]]] = ..., trades: _Optional[_Union[TradeColumns, _Mapping]] = ...) -> None: ...

class RowQuality(_message.Message):
    __slots__ = ("row", "level", "reasons")
    ROW_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    row: int
    level: QualityLevel
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, row: _Optional[int] = ..., level: _Optional[_Union[QualityLevel, str]] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class RowExtra(_message.Message):
    __slots__ = ("row", "extra")
    class ExtraEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ROW_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    row: int
    extra: _containers.ScalarMap[str, str]
    def __init__(self, row: _Optional[int] = ..., extra: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TradeColumns(_message.Message):
    __slots__ = ("source_index", "sequence", "receive_time_ns", "exchange_time_ns", "exchange_time_missing", "match_time_ns", "match_time_missing", "trade_id", "price", "size", "side", "quality", "extra")
    SOURCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_TIME_MISSING_FIELD_NUMBER: _ClassVar[int]
    MATCH_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    MATCH_TIME_MISSING_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    source_index: _containers.RepeatedScalarFieldContainer[int]
    sequence: _containers.RepeatedScalarFieldContainer[int]
    receive_time_ns: _containers.RepeatedScalarFieldContainer[int]
    exchange_time_ns: _containers.RepeatedScalarFieldContainer[int]
    exchange_time_missing: _containers.RepeatedScalarFieldContainer[int]
    match_time_ns: _containers.RepeatedScalarFieldContainer[int]
    match_time_missing: _containers.RepeatedScalarFieldContainer[int]
    trade_id: _containers.RepeatedScalarFieldContainer[int]
    price: _containers.RepeatedScalarFieldContainer[str]
    size: _containers.RepeatedScalarFieldContainer[str]
    side: _containers.RepeatedScalarFieldContainer[_market_pb2.Side]
    quality: _containers.RepeatedCompositeFieldContainer[RowQuality]
    extra: _containers.RepeatedCompositeFieldContainer[RowExtra]
    def __init__(self, source_index: _Optional[_Iterable[int]] = ..., sequence: _Optional[_Iterable[int]] = ..., receive_time_ns: _Optional[_Iterable[int]] = ..., exchange_time_ns: _Optional[_Iterable[int]] = ..., exchange_time_missing: _Optional[_Iterable[int]] = ..., match_time_ns: _Optional[_Iterable[int]] = ..., match_time_missing: _Optional[_Iterable[int]] = ..., trade_id: _Optional[_Iterable[int]] = ..., price: _Optional[_Iterable[str]] = ..., size: _Optional[_Iterable[str]] = ..., side: _Optional[_Iterable[_Union[_market_pb2.Side, str]]] = ..., quality: _Optional[_Iterable[_Union[RowQuality, _Mapping]]] = ..., extra: _Optional[_Iterable[_Union[RowExtra, _Mapping]]] = ...) -> None: ...
