"""A batch of trades ↔ ``TradeColumns``: the hot path, one protobuf access per column.

Reading a field of a protobuf message from Python costs about as much as building a small
object, so a per-record envelope pays a dozen of them per trade; a column pays one per
batch, and the per-trade work left is building the record (bench/bench_wire.py).

A reader that wants columns, not records (the sinks), skips that last step too: it takes
the message's columns as they are (:class:`ColumnBatch`, checked by :func:`column_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from mdp._exceptions import WireError
from mdp.model import (
    PERFECT,
    Instrument,
    Kind,
    Quality,
    QualityLevel,
    Side,
    Trade,
)
from mdp.model import _records as _r
from mdp.model._numbers import wire_decimals
from mdp.wire._common import _QUALITY_FROM_PB, _SIDE_TO_PB, _new


def _trade_columns_to_pb(
    columns: Any, trades: Sequence[Trade], index_of: Callable[[Instrument], int]
) -> None:
    last_instrument: Instrument | None = None
    last_index = 0
    source_index = []
    for trade in trades:
        if trade.instrument is not last_instrument:
            last_instrument = trade.instrument
            last_index = index_of(last_instrument)
        source_index.append(last_index)
    if any(source_index):  # all rows on source 0 (the usual case): leave the column empty
        columns.source_index.extend(source_index)
    columns.sequence.extend([t.sequence for t in trades])
    columns.receive_time_ns.extend([t.receive_time_ns for t in trades])
    exchange_times = [t.exchange_time_ns for t in trades]
    if None in exchange_times:
        columns.exchange_time_missing.extend([i for i, v in enumerate(exchange_times) if v is None])
        exchange_times = [0 if v is None else v for v in exchange_times]
    columns.exchange_time_ns.extend(exchange_times)
    match_times = [t.match_time_ns for t in trades]
    if None in match_times:
        columns.match_time_missing.extend([i for i, v in enumerate(match_times) if v is None])
        match_times = [0 if v is None else v for v in match_times]
    columns.match_time_ns.extend(match_times)
    columns.trade_id.extend([t.trade_id for t in trades])
    columns.price.extend([str(t.price) for t in trades])
    columns.size.extend([str(t.size) for t in trades])
    side_to_pb = _SIDE_TO_PB
    columns.side.extend([side_to_pb[t.side] for t in trades])
    for row, trade in enumerate(trades):
        quality = trade.quality
        if quality is not PERFECT and (quality.level or quality.reasons):
            columns.quality.add(row=row, level=quality.level.value, reasons=quality.reasons)
        if trade.extra:
            columns.extra.add(row=row, extra=dict(trade.extra))


_SIDES_BY_PB = (Side.UNKNOWN, Side.BUY, Side.SELL)


def _side_from_pb(value: int) -> Side:
    return _SIDES_BY_PB[value] if 0 <= value < len(_SIDES_BY_PB) else Side.UNKNOWN


def _trades_from_columns(columns: Any, instruments: list[Instrument]) -> list[Trade]:
    trade_ids = columns.trade_id[:]
    n = len(trade_ids)
    exchange_times: list[int | None] = columns.exchange_time_ns[:]
    for row in columns.exchange_time_missing:
        exchange_times[row] = None
    match_times: list[int | None] = columns.match_time_ns[:]
    for row in columns.match_time_missing:
        match_times[row] = None
    sides = list(map(_side_from_pb, columns.side[:]))
    source_rows = columns.source_index[:]
    # An empty column means one source for the whole batch.
    instrument_rows = [instruments[i] for i in source_rows] if source_rows else [instruments[0]] * n
    qualities = [PERFECT] * n
    for q in columns.quality:
        qualities[q.row] = Quality(
            _QUALITY_FROM_PB.get(q.level, QualityLevel.SUSPICIOUS), tuple(q.reasons)
        )
    extras: list[tuple[tuple[str, str], ...]] = [()] * n
    for e in columns.extra:
        extras[e.row] = tuple(sorted(e.extra.items()))
    decimal = wire_decimals.__getitem__
    columns_in_rows = (
        instrument_rows,
        columns.receive_time_ns[:],
        exchange_times,
        match_times,
        columns.sequence[:],
        qualities,
        extras,
        trade_ids,
        list(map(decimal, columns.price[:])),
        list(map(decimal, columns.size[:])),
        sides,
    )
    if any(len(column) != n for column in columns_in_rows):
        raise WireError("trade columns of a batch have different lengths: not an mdp batch")
    new = _new
    fields_type = _r._TradeFields
    trade_type = Trade
    out: list[Any] = []  # twins that become Trades as they are appended
    append = out.append
    for inst, recv, exch, match, seq, quality, extra, tid, price, size, side in zip(
        *columns_in_rows, strict=True
    ):
        o = new(fields_type)
        o.instrument = inst
        o.receive_time_ns = recv
        o.exchange_time_ns = exch
        o.match_time_ns = match
        o.sequence = seq
        o.quality = quality
        o.extra = extra
        o.trade_id = tid
        o.price = price
        o.size = size
        o.side = side
        o.__class__ = trade_type
        append(o)
    return out


_TRADE_COLUMNS = (
    "sequence",
    "receive_time_ns",
    "exchange_time_ns",
    "match_time_ns",
    "trade_id",
    "price",
    "size",
    "side",
)


@attrs.frozen(eq=False)
class ColumnBatch:
    """One wire message's trades as its columns, no record built: ``columns`` is the
    message's ``TradeColumns`` (proto/mdp/v1/envelope.proto), ``instruments`` its sources
    (``columns.source_index`` indexes them; empty means every row is on the first), ``rows``
    how many trades it holds. Downstream it is one item, however many rows it carries.

    The prices and sizes are the wire's decimal strings, not yet parsed: whoever stores
    them checks them (an unparsable one rejects its row there, not the whole message)."""

    kind: Kind
    instruments: tuple[Instrument, ...]
    columns: Any
    rows: int


def column_batch(columns: Any, instruments: Sequence[Instrument]) -> ColumnBatch:
    """``columns`` (a ``TradeColumns``) as a :class:`ColumnBatch`, after the checks that
    decoding into records makes per row, made per column: equal lengths, sources that exist,
    missing-time and quality/extra rows inside the batch."""
    rows = len(columns.trade_id)
    if any(len(getattr(columns, name)) != rows for name in _TRADE_COLUMNS):
        raise WireError("trade columns of a batch have different lengths: not an mdp batch")
    sources = columns.source_index
    if sources and (len(sources) != rows or max(sources) >= len(instruments)):
        raise WireError("batch record names a source the batch does not have")
    if not sources and rows and not instruments:
        raise WireError("batch record names a source the batch does not have")
    listed = [
        *columns.exchange_time_missing,
        *columns.match_time_missing,
        *(q.row for q in columns.quality),
        *(e.row for e in columns.extra),
    ]
    if listed and max(listed) >= rows:
        raise WireError("a row listed in the trade columns is not in the batch")
    return ColumnBatch(Kind.TRADE, tuple(instruments), columns, rows)
