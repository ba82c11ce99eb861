from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNKNOWN: _ClassVar[Side]
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]
SIDE_UNKNOWN: Side
SIDE_BUY: Side
SIDE_SELL: Side

class Trade(_message.Message):
    __slots__ = ("trade_id", "price", "size", "side")
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    trade_id: int
    price: str
    size: str
    side: Side
    def __init__(self, trade_id: _Optional[int] = ..., price: _Optional[str] = ..., size: _Optional[str] = ..., side: _Optional[_Union[Side, str]] = ...) -> None: ...

class BookLevel(_message.Message):
    __slots__ = ("price", "size")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    price: str
    size: str
    def __init__(self, price: _Optional[str] = ..., size: _Optional[str] = ...) -> None: ...

class BookSnapshot(_message.Message):
    __slots__ = ("last_update_id", "bids", "asks", "checksum")
    LAST_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    last_update_id: int
    bids: _containers.RepeatedCompositeFieldContainer[BookLevel]
    asks: _containers.RepeatedCompositeFieldContainer[BookLevel]
    checksum: int
    def __init__(self, last_update_id: _Optional[int] = ..., bids: _Optional[_Iterable[_Union[BookLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[BookLevel, _Mapping]]] = ..., checksum: _Optional[int] = ...) -> None: ...

class BookDelta(_message.Message):
    __slots__ = ("first_update_id", "final_update_id", "prev_final_update_id", "bids", "asks", "checksum")
    FIRST_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    FINAL_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    PREV_FINAL_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    first_update_id: int
    final_update_id: int
    prev_final_update_id: int
    bids: _containers.RepeatedCompositeFieldContainer[BookLevel]
    asks: _containers.RepeatedCompositeFieldContainer[BookLevel]
    checksum: int
    def __init__(self, first_update_id: _Optional[int] = ..., final_update_id: _Optional[int] = ..., prev_final_update_id: _Optional[int] = ..., bids: _Optional[_Iterable[_Union[BookLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[BookLevel, _Mapping]]] = ..., checksum: _Optional[int] = ...) -> None: ...

class BestBidOffer(_message.Message):
    __slots__ = ("update_id", "bid_price", "bid_size", "ask_price", "ask_size")
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    update_id: int
    bid_price: str
    bid_size: str
    ask_price: str
    ask_size: str
    def __init__(self, update_id: _Optional[int] = ..., bid_price: _Optional[str] = ..., bid_size: _Optional[str] = ..., ask_price: _Optional[str] = ..., ask_size: _Optional[str] = ...) -> None: ...

class FundingRate(_message.Message):
    __slots__ = ("rate", "predicted_rate", "funding_time_ns", "next_funding_time_ns")
    RATE_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_RATE_FIELD_NUMBER: _ClassVar[int]
    FUNDING_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    NEXT_FUNDING_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    rate: str
    predicted_rate: str
    funding_time_ns: int
    next_funding_time_ns: int
    def __init__(self, rate: _Optional[str] = ..., predicted_rate: _Optional[str] = ..., funding_time_ns: _Optional[int] = ..., next_funding_time_ns: _Optional[int] = ...) -> None: ...

class MarkPrice(_message.Message):
    __slots__ = ("mark_price", "index_price", "estimated_settle_price")
    MARK_PRICE_FIELD_NUMBER: _ClassVar[int]
    INDEX_PRICE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_SETTLE_PRICE_FIELD_NUMBER: _ClassVar[int]
    mark_price: str
    index_price: str
    estimated_settle_price: str
    def __init__(self, mark_price: _Optional[str] = ..., index_price: _Optional[str] = ..., estimated_settle_price: _Optional[str] = ...) -> None: ...

class Liquidation(_message.Message):
    __slots__ = ("side", "price", "size", "average_price", "filled_size", "status")
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    FILLED_SIZE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    side: Side
    price: str
    size: str
    average_price: str
    filled_size: str
    status: str
    def __init__(self, side: _Optional[_Union[Side, str]] = ..., price: _Optional[str] = ..., size: _Optional[str] = ..., average_price: _Optional[str] = ..., filled_size: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class Candle(_message.Message):
    __slots__ = ("interval_ns", "open_time_ns", "open", "high", "low", "close", "volume", "quote_volume", "trade_count", "closed")
    INTERVAL_NS_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    QUOTE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    interval_ns: int
    open_time_ns: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    quote_volume: str
    trade_count: int
    closed: bool
    def __init__(self, interval_ns: _Optional[int] = ..., open_time_ns: _Optional[int] = ..., open: _Optional[str] = ..., high: _Optional[str] = ..., low: _Optional[str] = ..., close: _Optional[str] = ..., volume: _Optional[str] = ..., quote_volume: _Optional[str] = ..., trade_count: _Optional[int] = ..., closed: _Optional[bool] = ...) -> None: ...
