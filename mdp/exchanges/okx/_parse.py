"""OKX v5 pushes → model records.

A push is ``{"arg": {"channel", "instId"|"instType"}, ["action",] "data": [...]}``;
msgspec decodes the envelope with ``data`` left raw until the stream's handler is found,
and the trade rows into a typed struct (the hot path, as on Binance). Anything that is
not a push (``event`` replies, ``pong``, garbage) fails that decode and goes to the
control path.

Numbers stay strings until :data:`~mdp.model._numbers.wire_decimals` makes them exact
Decimals. OKX sizes of a SWAP are contracts: they become base units through ``ctVal``
(:class:`Sizes`), in trades, book levels, best bid/offer and liquidations alike, so the
records mean the same as Binance's. Times are ms × 1_000_000; OKX gives one time per
trade (``ts``, the fill time), which goes to ``match_time_ns``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from mdp.model import (
    PERFECT,
    BestBidOffer,
    FundingRate,
    Instrument,
    Level,
    Liquidation,
    Quality,
    QualityLevel,
    Side,
)
from mdp.model import _records as _r
from mdp.model._numbers import wire_decimals

__all__ = [
    "SAMPLED",
    "Arg",
    "BboRow",
    "BookEvent",
    "Push",
    "Sizes",
    "TradeRow",
    "bbo_rows",
    "build_bbo",
    "build_funding",
    "build_liquidations",
    "push_decoder",
    "trade_rows",
]

_MS = 1_000_000
_decimal = wire_decimals.__getitem__
_new = object.__new__
_BboFields = _r._BestBidOfferFields
SAMPLED = Quality(QualityLevel.PERFECT, ("sampled",))  # "not the total number of liquidations"


class Arg(msgspec.Struct, gc=False):
    channel: str
    instId: str = ""
    instType: str = ""


class Push(msgspec.Struct, gc=False):
    arg: Arg
    data: msgspec.Raw
    action: str = ""


class TradeRow(msgspec.Struct, gc=False):
    """One ``trades`` row (and one ``history-trades`` row): ``tradeId`` is the last id
    of ``count`` fills (0: not given, as in OKX's REST rows). OKX sends the integers as
    strings; the lax decoder below reads them as ints without a Python ``int()`` each."""

    tradeId: int
    px: str
    sz: str
    side: str
    ts: int
    count: int = 0


class BboRow(msgspec.Struct, gc=False):
    """One ``bbo-tbt`` row: the top level of each side (``[px, sz, "0", orders]``). The
    channel pushes on every change of the top, as often as ``trades``, so it is decoded
    into a struct like the trade rows rather than into dicts."""

    asks: list[list[str]]
    bids: list[list[str]]
    ts: int
    seqId: int = 0


push_decoder = msgspec.json.Decoder(Push)
trade_rows = msgspec.json.Decoder(list[TradeRow], strict=False)
bbo_rows = msgspec.json.Decoder(list[BboRow], strict=False)
_rows = msgspec.json.Decoder(list[dict[str, Any]])


class Sizes:
    """Wire size strings → base-unit Decimals: as they are on SPOT, × ``ctVal`` on a
    SWAP (cached: sizes repeat). ``of`` is the function to call on the hot path."""

    __slots__ = ("_cache", "ct_val", "of")

    def __init__(self, ct_val: Decimal | None) -> None:
        self.ct_val = ct_val
        self._cache: dict[str, Decimal] = {}
        self.of: Callable[[str], Decimal] = _decimal if ct_val is None else self._contracts

    def __call__(self, sz: str) -> Decimal:
        return self.of(sz)

    def _contracts(self, sz: str) -> Decimal:
        assert self.ct_val is not None
        value = self._cache.get(sz)
        if value is None:
            if len(self._cache) >= 100_000:
                self._cache.clear()
            value = self._cache[sz] = (_decimal(sz) * self.ct_val).normalize()
        return value


class BookEvent:
    """One ``books`` row: levels kept as wire strings (the checksum needs them)."""

    __slots__ = ("asks", "bids", "checksum", "prev", "recv_ns", "seq", "snapshot", "ts_ns")

    def __init__(self, row: dict[str, Any], snapshot: bool, recv_ns: int) -> None:
        self.snapshot = snapshot
        self.bids: list[list[str]] = row["bids"]
        self.asks: list[list[str]] = row["asks"]
        self.prev: int = int(row.get("prevSeqId", -1))
        self.seq: int = int(row["seqId"])
        self.checksum: int = int(row.get("checksum") or 0)
        self.ts_ns: int = int(row["ts"]) * _MS
        self.recv_ns = recv_ns

    @property
    def heartbeat(self) -> bool:
        return self.prev == self.seq and not self.bids and not self.asks

    @property
    def reset(self) -> bool:
        return 0 <= self.seq < self.prev


def book_events(raw: Any, action: str, recv_ns: int) -> list[BookEvent]:
    snapshot = action == "snapshot"
    return [BookEvent(row, snapshot, recv_ns) for row in _rows.decode(raw)]


def levels(raw: list[list[str]], sizes: Sizes) -> tuple[Level, ...]:
    return tuple((_decimal(level[0]), sizes(level[1])) for level in raw)


def build_bbo(inst: Instrument, sizes: Sizes, raw: Any, recv_ns: int, out: list[Any]) -> None:
    size = sizes.of
    for row in bbo_rows.decode(raw):
        bids, asks = row.bids, row.asks
        if not bids or not asks:
            continue  # one side empty: no best bid/offer to report
        bid, ask = bids[0], asks[0]
        seq = row.seqId
        # The private mutable twin, then a BestBidOffer (as Trade in _trades.build): the
        # attrs __init__ costs as much as the rest of the frame.
        o: Any = _new(_BboFields)
        o.instrument = inst
        o.receive_time_ns = recv_ns
        o.exchange_time_ns = row.ts * _MS
        o.match_time_ns = None
        o.sequence = seq
        o.quality = PERFECT
        o.extra = ()
        o.bid_price = _decimal(bid[0])
        o.bid_size = size(bid[1])
        o.ask_price = _decimal(ask[0])
        o.ask_size = size(ask[1])
        o.update_id = seq
        o.__class__ = BestBidOffer
        out.append(o)


def build_funding(inst: Instrument, raw: Any, recv_ns: int, out: list[Any]) -> None:
    """``fundingTime`` is the next settlement (Binance's ``T``: ``next_funding_time_ns``);
    ``nextFundingRate`` ("" when OKX has none: NULL, never 0) is the predicted rate of
    the period after it; the interval is ``nextFundingTime − fundingTime``."""
    for row in _rows.decode(raw):
        funding_ms = int(row["fundingTime"])
        following = row.get("nextFundingTime") or ""
        extra: tuple[tuple[str, str], ...] = ()
        if following:
            interval_ns = (int(following) - funding_ms) * _MS
            extra = (
                ("funding_interval_ns", str(interval_ns)),
                ("following_funding_time_ns", str(int(following) * _MS)),
            )
        predicted = row.get("nextFundingRate") or ""
        out.append(
            FundingRate(
                instrument=inst,
                receive_time_ns=recv_ns,
                exchange_time_ns=int(row["ts"]) * _MS,
                rate=_decimal(row["fundingRate"]),
                predicted_rate=_decimal(predicted) if predicted else None,
                next_funding_time_ns=funding_ms * _MS,
                extra=extra,
            )
        )


def build_liquidations(
    instruments: dict[str, tuple[Instrument, Sizes]], raw: Any, recv_ns: int, out: list[Any]
) -> None:
    """Every detail of every row for an instrument this group collects (the channel
    carries the whole ``instType``). ``side`` is the liquidation order's: ``buy`` closes
    a short. Flagged ``sampled``: OKX does not send every liquidation."""
    for row in _rows.decode(raw):
        known = instruments.get(row.get("instId", ""))
        if known is None:
            continue
        inst, sizes = known
        for d in row.get("details", []):
            out.append(
                Liquidation(
                    instrument=inst,
                    receive_time_ns=recv_ns,
                    exchange_time_ns=int(d["ts"]) * _MS,
                    quality=SAMPLED,
                    side=Side.BUY if d["side"] == "buy" else Side.SELL,
                    price=_decimal(d["bkPx"]),
                    size=sizes(d["sz"]),
                    status="filled",
                    extra=(("pos_side", str(d.get("posSide", ""))),),
                )
            )
