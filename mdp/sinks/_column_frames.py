"""Wire columns → the sinks' frame, with no record per row: the column path.

A :class:`~mdp.wire._columns.ColumnBatch` is a Kafka message's ``TradeColumns`` as the
consumer parsed them. Its integer columns become numpy arrays in one C call each (a
protobuf repeated field converts at a few ns per value), the instruments and qualities are
gathered from the few distinct ones, and the decimal strings go into the frame as they
came — the frame ``build_frame`` makes from the same trades as records, column for column
(tests/sinks/test_column_path.py proves the stored rows byte-identical).

Two checks that decoding into records makes per value are made here per column:

* a decimal string must be one that ``Decimal`` prints back unchanged (plain notation,
  no leading zero, at most five zeros after ``0.``: a vectorised match). The rare one that
  is not (``1E-8``, ``1e3``) is parsed in Python and stored as ``str(Decimal)`` prints it,
  as the record path would; one that does not parse rejects its row, with the reason.
* ids and sequences are uint64 on the wire, int64 in the stores: a row past int64 is
  rejected, with the same reason the record path gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import polars as pl

from mdp._exceptions import InvalidNumber
from mdp.model import Instrument, QualityLevel, Side, decimal_from_wire
from mdp.sinks._schema import TABLES
from mdp.wire._columns import ColumnBatch

__all__ = ["trade_frame"]

_INT64_MAX = 2**63 - 1
# Strings str(Decimal(s)) gives back unchanged: plain notation, exponent <= 0, and
# adjusted exponent >= -6 (no more than five zeros after "0.", six for a zero).
_CANONICAL = r"^-?(?:[1-9][0-9]*(?:\.[0-9]+)?|0(?:\.(?:0{0,5}[1-9][0-9]*|0{1,6}))?)$"
_SIDES = pl.Series([Side.UNKNOWN.value, Side.BUY.value, Side.SELL.value])
_LEVELS = {level.value: level for level in QualityLevel}


def _ints(batches: Sequence[ColumnBatch], name: str, dtype: Any) -> np.ndarray[Any, Any]:
    parts = [np.array(getattr(b.columns, name), dtype=dtype) for b in batches]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _strings(batches: Sequence[ColumnBatch], name: str) -> pl.Series:
    values: list[str] = []
    for b in batches:
        values += getattr(b.columns, name)
    return pl.Series(name, values, dtype=pl.String)


def _starts(batches: Sequence[ColumnBatch]) -> list[int]:
    starts, at = [], 0
    for b in batches:
        starts.append(at)
        at += b.rows
    return starts


def _instrument_codes(batches: Sequence[ColumnBatch]) -> tuple[pl.Series, list[Instrument]]:
    distinct: dict[Instrument, int] = {}
    parts: list[np.ndarray[Any, Any]] = []
    for b in batches:
        local = np.array([distinct.setdefault(i, len(distinct)) for i in b.instruments])
        sources = b.columns.source_index
        if sources:
            parts.append(local[np.array(sources, dtype=np.int64)])
        else:
            parts.append(np.full(b.rows, local[0]))
    codes = pl.Series(np.concatenate(parts).astype(np.uint32))
    return codes, list(distinct)


def _optional_times(
    batches: Sequence[ColumnBatch], starts: list[int], name: str, missing: str
) -> pl.Series:
    values = pl.Series(name, _ints(batches, name, np.int64))
    rows = [
        start + row
        for b, start in zip(batches, starts, strict=True)
        for row in getattr(b.columns, missing)
    ]
    if rows:
        values = values.scatter(rows, None)
    return values


def _sparse(batches: Sequence[ColumnBatch], starts: list[int], n: int) -> dict[str, pl.Series]:
    """Quality and extras: listed only for the rows that have them."""
    level = np.zeros(n, dtype=np.int64)
    reasons: dict[int, str] = {}
    extras: dict[int, str] = {}
    for b, start in zip(batches, starts, strict=True):
        for q in b.columns.quality:
            level[start + q.row] = _LEVELS.get(q.level, QualityLevel.SUSPICIOUS).value
            reasons[start + q.row] = ",".join(q.reasons)
        for e in b.columns.extra:
            extras[start + e.row] = (
                orjson.dumps(sorted(e.extra.items())).decode() if e.extra else ""
            )
    columns = {"quality_level": pl.Series("quality_level", level)}
    for name, sparse in (("quality_reasons", reasons), ("extra", extras)):
        column = pl.repeat("", n, dtype=pl.String, eager=True).alias(name)
        if sparse:
            column = column.scatter(list(sparse), list(sparse.values()))
        columns[name] = column
    return columns


def _decimals(text: pl.Series, rejected: list[tuple[int, str]]) -> pl.Series:
    """``text`` as ``str(Decimal)`` prints it; rows that do not parse become null and go
    to ``rejected`` (their index, with the reason)."""
    odd = ~text.str.contains(_CANONICAL)
    if not odd.any():
        return text
    fixed: dict[int, str | None] = {}
    for i in odd.arg_true().to_list():
        try:
            fixed[i] = str(decimal_from_wire(text[i]))
        except InvalidNumber as exc:
            fixed[i] = None
            rejected.append((i, f"{text.name}: {exc}"))
    return text.scatter(list(fixed), list(fixed.values()))


def trade_frame(batches: Sequence[ColumnBatch]) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """The batches' trades as one frame in the trades table's column order, and the rows
    that cannot be stored (index in the frame, reason)."""
    table = TABLES[batches[0].kind]
    n = sum(b.rows for b in batches)
    starts = _starts(batches)
    codes, instruments = _instrument_codes(batches)
    columns: dict[str, pl.Series] = {}
    names = {
        "exchange": [i.exchange for i in instruments],
        "market": [i.market.value for i in instruments],
        "symbol": [i.symbol for i in instruments],
        "native_symbol": [i.native_symbol for i in instruments],
    }
    for name, distinct in names.items():
        columns[name] = pl.Series(name, distinct, dtype=pl.String).gather(codes)
    columns["receive_time_ns"] = pl.Series(
        "receive_time_ns", _ints(batches, "receive_time_ns", np.int64)
    )
    columns["exchange_time_ns"] = _optional_times(
        batches, starts, "exchange_time_ns", "exchange_time_missing"
    )
    columns["match_time_ns"] = _optional_times(
        batches, starts, "match_time_ns", "match_time_missing"
    )
    rejected: list[tuple[int, str]] = []
    for name in ("sequence", "trade_id"):
        unsigned = _ints(batches, name, np.uint64)
        for i in np.flatnonzero(unsigned > _INT64_MAX).tolist():
            rejected.append((i, f"{name}: {int(unsigned[i])} does not fit a signed 64-bit integer"))
        columns[name] = pl.Series(name, unsigned.astype(np.int64))  # wraps only rejected rows
    columns.update(_sparse(batches, starts, n))
    for name in ("price", "size"):
        columns[name] = _decimals(_strings(batches, name), rejected)
    sides = _ints(batches, "side", np.int64)
    sides[(sides < 0) | (sides >= len(_SIDES))] = 0
    columns["side"] = _SIDES.gather(pl.Series(sides)).alias("side")
    columns["time_ns"] = (
        pl.select(
            pl.coalesce(
                columns["match_time_ns"], columns["exchange_time_ns"], columns["receive_time_ns"]
            )
        )
        .to_series()
        .alias("time_ns")
    )
    frame = pl.DataFrame([columns[c.name] for c in table.columns])
    return frame, rejected
