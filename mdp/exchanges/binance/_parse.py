"""Binance payloads → model records.

The combined-stream envelope and the trade payloads are decoded by msgspec into typed
structs (:func:`envelope_decoder`, :class:`TradeMsg`, :class:`AggTradeMsg`): the envelope
keeps ``data`` as raw bytes until the stream's handler is found, and a trade struct's
attributes are cheaper to read than a dict's keys. Measured on this machine
(bench/bench_collector.py --parse; docs/benchmarks.md, "Binance collector") that is ~1 µs a
trade frame less than orjson into a dict. A group whose streams are all ``@trade`` (or all
``@aggTrade``) decodes envelope and trade in one pass (``envelope_decoder(names,
TradeMsg)``), ~0.2 µs a frame less again than decoding ``data`` twice. The low-rate streams
(depth, bookTicker, markPrice, forceOrder) and the REST bodies keep orjson, whose dicts
their code reads more simply.

Numbers stay strings until :data:`~mdp.model._numbers.wire_decimals` turns them into exact
Decimals (cached: prices repeat). Times are ms × 1_000_000. ``E`` (event time) goes to
``exchange_time_ns`` and ``T`` (trade/transaction time) to ``match_time_ns``; spot
``bookTicker`` has no event time, so its ``exchange_time_ns`` stays ``None`` (the receive
time is a separate field, never substituted). ``m`` true means the buyer was the maker, so
the taker sold.

Trades are the hot path: :func:`build_trade` fills the record's private mutable twin
(``_TradeFields``) slot by slot and then gives it the frozen ``Trade`` class, about four
times cheaper than the frozen ``__init__`` (the same trick as ``mdp/wire/_columns.py``; see
the docstring of ``mdp/model/_records.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from mdp.model import (
    PERFECT,
    BestBidOffer,
    FundingRate,
    Instrument,
    Level,
    Liquidation,
    MarkPrice,
    Quality,
    QualityLevel,
    Reason,
    Side,
    Trade,
)
from mdp.model import _records as _r
from mdp.model._numbers import wire_decimals

if TYPE_CHECKING:
    from mdp.exchanges._ws import Payload

__all__ = [
    "BACKFILLED",
    "AggTradeMsg",
    "DepthEvent",
    "TradeMsg",
    "build_bbo",
    "build_liquidation",
    "build_mark",
    "build_trade",
    "envelope_decoder",
    "levels",
    "parse_depth",
    "rest_trade",
]

_MS = 1_000_000
_new = object.__new__
_fields = _r._TradeFields
_trade = Trade
_decimal = wire_decimals.__getitem__
_SELL, _BUY = Side.SELL, Side.BUY
BACKFILLED = Quality(QualityLevel.PERFECT, (Reason.BACKFILLED.value,))
SAMPLED = Quality(QualityLevel.PERFECT, ("sampled",))  # forceOrder: latest per 1000 ms only


class TradeMsg(msgspec.Struct, gc=False):
    """``@trade``: the id is ``t``."""

    tid: int = msgspec.field(name="t")
    T: int
    p: str
    q: str
    m: bool
    E: int | None = None


class AggTradeMsg(msgspec.Struct, gc=False):
    """``@aggTrade`` (and REST ``aggTrades`` rows): the id is ``a``."""

    tid: int = msgspec.field(name="a")
    T: int
    p: str
    q: str
    m: bool
    E: int | None = None


trade_decoder = msgspec.json.Decoder(TradeMsg)
agg_trade_decoder = msgspec.json.Decoder(AggTradeMsg)


def envelope_decoder(names: Sequence[str], data: Any = msgspec.Raw) -> Callable[[Payload], Any]:
    """Decode ``{"stream": …, "data": …}`` of these streams, ``data`` as ``data`` (left
    raw by default). The stream comes back as the very string object in ``names`` (a
    ``Literal``), so looking it up in dicts keyed by those names neither hashes nor compares
    characters; a frame of any other stream fails (``msgspec.ValidationError``)."""
    stream: Any = Literal[tuple(names)] if names else str  # no streams: nothing matches
    fields = [("stream", stream), ("data", data)]
    return msgspec.json.Decoder(msgspec.defstruct("Envelope", fields, gc=False)).decode


def build_trade(
    inst: Instrument,
    trade_id: int,
    event_ms: int | None,
    trade_ms: int,
    price: str,
    qty: str,
    buyer_is_maker: bool,
    recv_ns: int,
    quality: Quality = PERFECT,
) -> Trade:
    """One trade record (the hot path in ``_trades.py`` inlines the same code)."""
    o: Any = _new(_fields)
    o.instrument = inst
    o.receive_time_ns = recv_ns
    o.exchange_time_ns = None if event_ms is None else event_ms * _MS
    o.match_time_ns = trade_ms * _MS
    o.sequence = trade_id
    o.quality = quality
    o.extra = ()
    o.trade_id = trade_id
    o.price = _decimal(price)
    o.size = _decimal(qty)
    o.side = _SELL if buyer_is_maker else _BUY
    o.__class__ = _trade
    trade: Trade = o
    return trade


def rest_trade(inst: Instrument, row: dict[str, Any], recv_ns: int, agg: bool) -> Trade:
    """A backfilled trade from ``historicalTrades`` (``id``, ``price``…) or ``aggTrades``
    (the stream's short keys, no event time)."""
    if agg:
        return build_trade(
            inst, row["a"], None, row["T"], row["p"], row["q"], row["m"], recv_ns, BACKFILLED
        )
    return build_trade(
        inst,
        row["id"],
        None,
        row["time"],
        row["price"],
        row["qty"],
        row["isBuyerMaker"],
        recv_ns,
        BACKFILLED,
    )


def levels(raw: list[list[str]]) -> tuple[Level, ...]:
    d = _decimal
    return tuple((d(p), d(q)) for p, q in raw)


class DepthEvent:
    """One ``depthUpdate``, decoded; ``pu`` is None on spot."""

    __slots__ = ("asks", "bids", "event_ns", "first", "last", "match_ns", "prev", "recv_ns")

    def __init__(self, data: dict[str, Any], recv_ns: int) -> None:
        self.first: int = data["U"]
        self.last: int = data["u"]
        self.prev: int | None = data.get("pu")
        self.bids = levels(data["b"])
        self.asks = levels(data["a"])
        self.event_ns: int = data["E"] * _MS
        t = data.get("T")
        self.match_ns: int | None = None if t is None else t * _MS
        self.recv_ns = recv_ns


def parse_depth(data: dict[str, Any], recv_ns: int) -> DepthEvent:
    return DepthEvent(data, recv_ns)


def build_bbo(inst: Instrument, data: dict[str, Any], recv_ns: int) -> BestBidOffer:
    e, t = data.get("E"), data.get("T")
    d = _decimal
    return BestBidOffer(
        instrument=inst,
        receive_time_ns=recv_ns,
        exchange_time_ns=None if e is None else e * _MS,
        match_time_ns=None if t is None else t * _MS,
        sequence=data["u"],
        bid_price=d(data["b"]),
        bid_size=d(data["B"]),
        ask_price=d(data["a"]),
        ask_size=d(data["A"]),
        update_id=data["u"],
    )


def build_mark(
    inst: Instrument, data: dict[str, Any], recv_ns: int
) -> tuple[MarkPrice, FundingRate]:
    d = _decimal
    e = data["E"] * _MS
    settle = data.get("P")
    mark = MarkPrice(
        instrument=inst,
        receive_time_ns=recv_ns,
        exchange_time_ns=e,
        mark_price=d(data["p"]),
        index_price=d(data["i"]) if "i" in data else None,
        estimated_settle_price=None if settle is None else d(settle),
    )
    funding = FundingRate(
        instrument=inst,
        receive_time_ns=recv_ns,
        exchange_time_ns=e,
        rate=d(data["r"]),
        next_funding_time_ns=data["T"] * _MS if data.get("T") else None,
    )
    return mark, funding


def build_liquidation(inst: Instrument, data: dict[str, Any], recv_ns: int) -> Liquidation:
    o = data["o"]
    d = _decimal
    avg, filled = o.get("ap"), o.get("z")
    return Liquidation(
        instrument=inst,
        receive_time_ns=recv_ns,
        exchange_time_ns=data["E"] * _MS,
        match_time_ns=o["T"] * _MS if "T" in o else None,
        quality=SAMPLED,
        side=_SELL if o["S"] == "SELL" else _BUY,
        price=d(o["p"]),
        size=d(o["q"]),
        average_price=None if avg is None else d(avg),
        filled_size=None if filled is None else d(filled),
        status=str(o.get("X", "")),
    )
