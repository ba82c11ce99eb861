"""One record ↔ one ``Envelope``.

Decoding builds each record on its private mutable twin and then gives it its public frozen
class (see ``mdp/model/_records.py``); the codec modules are the only place that does so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mdp._exceptions import InvalidNumber, WireError
from mdp._version import SCHEMA_VERSION
from mdp.model import (
    PERFECT,
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    Candle,
    FundingRate,
    Gap,
    Instrument,
    Liquidation,
    MarkPrice,
    Quality,
    QualityLevel,
    Record,
    Resync,
    Side,
    SourceState,
    SourceStatus,
    Trade,
)
from mdp.model import _records as _r
from mdp.v1 import envelope_pb2 as pb
from mdp.wire._common import (
    _QUALITY_FROM_PB,
    _SIDE_FROM_PB,
    _SIDE_TO_PB,
    _STATE_FROM_PB,
    _STATE_TO_PB,
    _check_version,
    _dec,
    _instrument_from_pb,
    _levels_from_pb,
    _levels_to_pb,
    _new,
    _no_payload,
    _opt_dec,
    _opt_int,
    _parse,
    _promote,
    _source_to_pb,
)


def _header_to_pb(env: Any, record: Record) -> None:
    env.sequence = record.sequence
    if record.exchange_time_ns is not None:
        env.exchange_time_ns = record.exchange_time_ns
    if record.match_time_ns is not None:
        env.match_time_ns = record.match_time_ns
    env.receive_time_ns = record.receive_time_ns
    quality = record.quality
    if quality is not PERFECT:
        env.quality = quality.level.value
        env.quality_reasons.extend(quality.reasons)
    if record.extra:
        env.extra.update(record.extra)


def _enc_trade(env: Any, r: Trade) -> None:
    env.kind = pb.KIND_TRADE
    p = env.trade
    p.trade_id = r.trade_id
    p.price = str(r.price)
    p.size = str(r.size)
    p.side = _SIDE_TO_PB[r.side]


def _enc_book_snapshot(env: Any, r: BookSnapshot) -> None:
    env.kind = pb.KIND_BOOK_SNAPSHOT
    p = env.book_snapshot
    p.last_update_id = r.last_update_id
    _levels_to_pb(p.bids, r.bids)
    _levels_to_pb(p.asks, r.asks)
    if r.checksum is not None:
        p.checksum = r.checksum


def _enc_book_delta(env: Any, r: BookDelta) -> None:
    env.kind = pb.KIND_BOOK_DELTA
    p = env.book_delta
    p.first_update_id = r.first_update_id
    p.final_update_id = r.final_update_id
    if r.prev_final_update_id is not None:
        p.prev_final_update_id = r.prev_final_update_id
    _levels_to_pb(p.bids, r.bids)
    _levels_to_pb(p.asks, r.asks)
    if r.checksum is not None:
        p.checksum = r.checksum


def _enc_bbo(env: Any, r: BestBidOffer) -> None:
    env.kind = pb.KIND_BEST_BID_OFFER
    p = env.best_bid_offer
    if r.update_id is not None:
        p.update_id = r.update_id
    p.bid_price = str(r.bid_price)
    p.bid_size = str(r.bid_size)
    p.ask_price = str(r.ask_price)
    p.ask_size = str(r.ask_size)


def _enc_funding(env: Any, r: FundingRate) -> None:
    env.kind = pb.KIND_FUNDING_RATE
    p = env.funding_rate
    p.rate = str(r.rate)
    if r.predicted_rate is not None:
        p.predicted_rate = str(r.predicted_rate)
    if r.funding_time_ns is not None:
        p.funding_time_ns = r.funding_time_ns
    if r.next_funding_time_ns is not None:
        p.next_funding_time_ns = r.next_funding_time_ns


def _enc_mark(env: Any, r: MarkPrice) -> None:
    env.kind = pb.KIND_MARK_PRICE
    p = env.mark_price
    p.mark_price = str(r.mark_price)
    if r.index_price is not None:
        p.index_price = str(r.index_price)
    if r.estimated_settle_price is not None:
        p.estimated_settle_price = str(r.estimated_settle_price)


def _enc_liquidation(env: Any, r: Liquidation) -> None:
    env.kind = pb.KIND_LIQUIDATION
    p = env.liquidation
    p.side = _SIDE_TO_PB[r.side]
    p.price = str(r.price)
    p.size = str(r.size)
    if r.average_price is not None:
        p.average_price = str(r.average_price)
    if r.filled_size is not None:
        p.filled_size = str(r.filled_size)
    p.status = r.status


def _enc_candle(env: Any, r: Candle) -> None:
    env.kind = pb.KIND_CANDLE
    p = env.candle
    p.interval_ns = r.interval_ns
    p.open_time_ns = r.open_time_ns
    p.open = str(r.open)
    p.high = str(r.high)
    p.low = str(r.low)
    p.close = str(r.close)
    p.volume = str(r.volume)
    if r.quote_volume is not None:
        p.quote_volume = str(r.quote_volume)
    if r.trade_count is not None:
        p.trade_count = r.trade_count
    p.closed = r.closed


def _enc_gap(env: Any, r: Gap) -> None:
    env.kind = pb.KIND_GAP
    p = env.gap
    p.stream = r.stream
    p.first_missing = r.first_missing
    p.last_missing = r.last_missing
    p.reason = r.reason


def _enc_resync(env: Any, r: Resync) -> None:
    env.kind = pb.KIND_RESYNC
    p = env.resync
    p.stream = r.stream
    p.reason = r.reason
    if r.old_sequence is not None:
        p.old_sequence = r.old_sequence
    if r.new_sequence is not None:
        p.new_sequence = r.new_sequence


def _enc_status(env: Any, r: SourceStatus) -> None:
    env.kind = pb.KIND_SOURCE_STATUS
    p = env.source_status
    p.stream = r.stream
    p.state = _STATE_TO_PB[r.state]
    p.detail = r.detail


_ENCODERS: dict[type, Callable[[Any, Any], None]] = {
    Trade: _enc_trade,
    BookSnapshot: _enc_book_snapshot,
    BookDelta: _enc_book_delta,
    BestBidOffer: _enc_bbo,
    FundingRate: _enc_funding,
    MarkPrice: _enc_mark,
    Liquidation: _enc_liquidation,
    Candle: _enc_candle,
    Gap: _enc_gap,
    Resync: _enc_resync,
    SourceStatus: _enc_status,
}


def _encoder(record: Record) -> Callable[[Any, Any], None]:
    try:
        return _ENCODERS[type(record)]
    except KeyError:
        raise TypeError(f"cannot encode {type(record).__name__}: not an mdp record") from None


def encode(record: Record) -> bytes:
    """One record as a self-contained ``Envelope``."""
    encoder = _encoder(record)
    env = pb.Envelope(schema_version=SCHEMA_VERSION)
    try:
        _source_to_pb(env.source, record.instrument)
        encoder(env, record)
        _header_to_pb(env, record)
    except (ValueError, TypeError) as exc:  # a value out of the wire type's range
        raise WireError(f"cannot encode {type(record).__name__}: {exc}") from None
    return env.SerializeToString()


def _header_from_pb(o: Any, env: Any, instrument: Instrument) -> None:
    o.instrument = instrument
    o.receive_time_ns = env.receive_time_ns
    o.exchange_time_ns = env.exchange_time_ns if env.HasField("exchange_time_ns") else None
    o.match_time_ns = env.match_time_ns if env.HasField("match_time_ns") else None
    o.sequence = env.sequence
    level = env.quality
    reasons = env.quality_reasons
    if level or reasons:
        o.quality = Quality(_QUALITY_FROM_PB.get(level, QualityLevel.SUSPICIOUS), tuple(reasons))
    else:
        o.quality = PERFECT
    extra = env.extra
    o.extra = tuple(sorted(extra.items())) if extra else ()


def _dec_trade(env: Any, instrument: Instrument) -> Trade:
    p = env.trade
    o = _new(_r._TradeFields)
    _header_from_pb(o, env, instrument)
    o.trade_id = p.trade_id
    o.price = _dec(p.price)
    o.size = _dec(p.size)
    o.side = _SIDE_FROM_PB.get(p.side, Side.UNKNOWN)
    return _promote(o, Trade)


def _dec_book_snapshot(env: Any, instrument: Instrument) -> BookSnapshot:
    p = env.book_snapshot
    o = _new(_r._BookSnapshotFields)
    _header_from_pb(o, env, instrument)
    o.last_update_id = p.last_update_id
    o.bids = _levels_from_pb(p.bids)
    o.asks = _levels_from_pb(p.asks)
    o.checksum = _opt_int(p, "checksum")
    return _promote(o, BookSnapshot)


def _dec_book_delta(env: Any, instrument: Instrument) -> BookDelta:
    p = env.book_delta
    o = _new(_r._BookDeltaFields)
    _header_from_pb(o, env, instrument)
    o.first_update_id = p.first_update_id
    o.final_update_id = p.final_update_id
    o.prev_final_update_id = _opt_int(p, "prev_final_update_id")
    o.bids = _levels_from_pb(p.bids)
    o.asks = _levels_from_pb(p.asks)
    o.checksum = _opt_int(p, "checksum")
    return _promote(o, BookDelta)


def _dec_bbo(env: Any, instrument: Instrument) -> BestBidOffer:
    p = env.best_bid_offer
    o = _new(_r._BestBidOfferFields)
    _header_from_pb(o, env, instrument)
    o.update_id = _opt_int(p, "update_id")
    o.bid_price = _dec(p.bid_price)
    o.bid_size = _dec(p.bid_size)
    o.ask_price = _dec(p.ask_price)
    o.ask_size = _dec(p.ask_size)
    return _promote(o, BestBidOffer)


def _dec_funding(env: Any, instrument: Instrument) -> FundingRate:
    p = env.funding_rate
    o = _new(_r._FundingRateFields)
    _header_from_pb(o, env, instrument)
    o.rate = _dec(p.rate)
    o.predicted_rate = _opt_dec(p, "predicted_rate")
    o.funding_time_ns = _opt_int(p, "funding_time_ns")
    o.next_funding_time_ns = _opt_int(p, "next_funding_time_ns")
    return _promote(o, FundingRate)


def _dec_mark(env: Any, instrument: Instrument) -> MarkPrice:
    p = env.mark_price
    o = _new(_r._MarkPriceFields)
    _header_from_pb(o, env, instrument)
    o.mark_price = _dec(p.mark_price)
    o.index_price = _opt_dec(p, "index_price")
    o.estimated_settle_price = _opt_dec(p, "estimated_settle_price")
    return _promote(o, MarkPrice)


def _dec_liquidation(env: Any, instrument: Instrument) -> Liquidation:
    p = env.liquidation
    o = _new(_r._LiquidationFields)
    _header_from_pb(o, env, instrument)
    o.side = _SIDE_FROM_PB.get(p.side, Side.UNKNOWN)
    o.price = _dec(p.price)
    o.size = _dec(p.size)
    o.average_price = _opt_dec(p, "average_price")
    o.filled_size = _opt_dec(p, "filled_size")
    o.status = p.status
    return _promote(o, Liquidation)


def _dec_candle(env: Any, instrument: Instrument) -> Candle:
    p = env.candle
    o = _new(_r._CandleFields)
    _header_from_pb(o, env, instrument)
    o.interval_ns = p.interval_ns
    o.open_time_ns = p.open_time_ns
    o.open = _dec(p.open)
    o.high = _dec(p.high)
    o.low = _dec(p.low)
    o.close = _dec(p.close)
    o.volume = _dec(p.volume)
    o.quote_volume = _opt_dec(p, "quote_volume")
    o.trade_count = _opt_int(p, "trade_count")
    o.closed = p.closed
    return _promote(o, Candle)


def _dec_gap(env: Any, instrument: Instrument) -> Gap:
    p = env.gap
    o = _new(_r._GapFields)
    _header_from_pb(o, env, instrument)
    o.stream = p.stream
    o.first_missing = p.first_missing
    o.last_missing = p.last_missing
    o.reason = p.reason
    return _promote(o, Gap)


def _dec_resync(env: Any, instrument: Instrument) -> Resync:
    p = env.resync
    o = _new(_r._ResyncFields)
    _header_from_pb(o, env, instrument)
    o.stream = p.stream
    o.reason = p.reason
    o.old_sequence = _opt_int(p, "old_sequence")
    o.new_sequence = _opt_int(p, "new_sequence")
    return _promote(o, Resync)


def _dec_status(env: Any, instrument: Instrument) -> SourceStatus:
    p = env.source_status
    o = _new(_r._SourceStatusFields)
    _header_from_pb(o, env, instrument)
    o.stream = p.stream
    o.state = _STATE_FROM_PB.get(p.state, SourceState.UNKNOWN)
    o.detail = p.detail
    return _promote(o, SourceStatus)


_DECODERS: dict[str, Callable[[Any, Instrument], Record]] = {
    "trade": _dec_trade,
    "book_snapshot": _dec_book_snapshot,
    "book_delta": _dec_book_delta,
    "best_bid_offer": _dec_bbo,
    "funding_rate": _dec_funding,
    "mark_price": _dec_mark,
    "liquidation": _dec_liquidation,
    "candle": _dec_candle,
    "gap": _dec_gap,
    "resync": _dec_resync,
    "source_status": _dec_status,
}


_instrument_cache: dict[bytes, Instrument] = {}


def decode(data: bytes) -> Record:
    """One ``Envelope`` back into its record."""
    env = pb.Envelope()
    _parse(env, data, "Envelope")
    _check_version(env.schema_version)
    if not env.HasField("source"):
        raise WireError("envelope has no source: not an mdp message")
    key = env.source.SerializeToString()
    instrument = _instrument_cache.get(key)
    if instrument is None:
        instrument = _instrument_from_pb(env.source)
        if len(_instrument_cache) > 4096:
            _instrument_cache.clear()
        _instrument_cache[key] = instrument
    decoder = _DECODERS.get(env.WhichOneof("payload") or "")
    if decoder is None:
        raise _no_payload(env)
    try:
        return decoder(env, instrument)
    except InvalidNumber as exc:
        raise WireError(f"envelope holds a bad number: {exc}") from None
