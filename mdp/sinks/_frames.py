"""Records ↔ columns: a batch of one kind becomes one polars frame, and stored rows become
records again.

The frame is the one hand-over format of every sink: built column by column (one pass of
C-level ``map`` per column instead of a Python object per row), with exact decimals as their
canonical strings — PostgreSQL parses them into NUMERIC unchanged, and ClickHouse and the
lake cast them to Decimal(38, 18) in Rust (``_decimals.py``). A value that does not fit a
column (an id past int64) makes the row rejected here, with the reason, instead of failing
the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from operator import attrgetter
from typing import Any

import orjson
import polars as pl

from mdp.model import (
    RECORD_TYPES,
    Instrument,
    Kind,
    MarketType,
    Quality,
    QualityLevel,
    Record,
    Side,
    SourceState,
)
from mdp.sinks._schema import TABLES, Table

__all__ = ["Rejected", "build_frame", "group_by_kind", "record_from_row"]

_INT64 = (-(2**63), 2**63 - 1)
_POLARS: dict[str, Any] = {
    "lc": pl.String,
    "text": pl.String,
    "int": pl.Int64,
    "ns": pl.Int64,
    "level": pl.Int64,
    "dec": pl.String,
    "decs": pl.List(pl.String),
    "bool": pl.Boolean,
}
_CLASS: dict[Kind, type[Any]] = {cls.kind: cls for cls in RECORD_TYPES}

Rejected = tuple[Any, str]
"""A record (or, for a frame written directly, the row as a dict) a store would not take,
and why."""


def group_by_kind(records: Iterable[Record]) -> dict[Kind, list[Record]]:
    groups: dict[Kind, list[Record]] = {}
    for record in records:
        groups.setdefault(record.kind, []).append(record)
    return groups


def _shared(values: list[Any]) -> tuple[pl.Series, list[Any]]:
    """Codes (a UInt32 series) and the distinct objects, by identity: instruments, qualities
    and decimals are shared objects (the wire decoder caches decimals), so converting the
    few distinct ones and gathering in Rust beats converting every row in Python."""
    if values and values.count(values[0]) == len(values):  # one instrument, all perfect
        return pl.repeat(0, len(values), dtype=pl.UInt32, eager=True), values[:1]
    ids = list(map(id, values))
    first = dict(zip(ids, values, strict=True))
    index = {i: n for n, i in enumerate(first)}
    return pl.Series(list(map(index.__getitem__, ids)), dtype=pl.UInt32), list(first.values())


def _gathered(codes: pl.Series, distinct: list[Any], dtype: Any) -> pl.Series:
    return pl.Series(distinct, dtype=dtype).gather(codes)


def _levels(records: Sequence[Any], side: str, part: int) -> list[list[str]]:
    return [[str(level[part]) for level in getattr(r, side)] for r in records]


def _series(records: Sequence[Any], table: Table) -> dict[str, pl.Series]:
    columns: dict[str, pl.Series] = {}
    n = len(records)
    codes, instruments = _shared(list(map(attrgetter("instrument"), records)))
    for name, get in [
        ("exchange", attrgetter("exchange")),
        ("market", attrgetter("market.value")),
        ("symbol", attrgetter("symbol")),
        ("native_symbol", attrgetter("native_symbol")),
    ]:
        columns[name] = _gathered(codes, [get(i) for i in instruments], pl.String)
    for name in ("receive_time_ns", "exchange_time_ns", "match_time_ns", "sequence"):
        columns[name] = pl.Series(list(map(attrgetter(name), records)), dtype=pl.Int64)
    codes, qualities = _shared(list(map(attrgetter("quality"), records)))
    columns["quality_level"] = _gathered(codes, [int(q.level) for q in qualities], pl.Int64)
    reasons = [",".join(q.reasons) for q in qualities]
    columns["quality_reasons"] = _gathered(codes, reasons, pl.String)
    extras = list(map(attrgetter("extra"), records))
    if any(extras):
        json = [orjson.dumps(e).decode() if e else "" for e in extras]
        columns["extra"] = pl.Series(json, dtype=pl.String)
    else:
        columns["extra"] = pl.repeat("", n, dtype=pl.String, eager=True)
    for column in table.fields:
        name = column.name
        if column.type == "decs":
            side, _, part = name.rpartition("_")
            columns[name] = pl.Series(
                _levels(records, side + "s", 0 if part == "prices" else 1),
                dtype=pl.List(pl.String),
            )
            continue
        values = list(map(attrgetter(name), records))
        if column.type == "dec":
            codes, distinct = _shared(values)
            text: list[str | None] = [None if v is None else str(v) for v in distinct]
            columns[name] = _gathered(codes, text, pl.String)
        elif name in ("side", "state"):
            codes, distinct = _shared(values)
            columns[name] = _gathered(codes, [v.value for v in distinct], pl.String)
        else:
            columns[name] = pl.Series(values, dtype=_POLARS[column.type])
    if table.kind is Kind.CANDLE:
        event = columns["open_time_ns"]
    else:
        event = pl.select(
            pl.coalesce(
                columns["match_time_ns"], columns["exchange_time_ns"], columns["receive_time_ns"]
            )
        ).to_series()
    columns["time_ns"] = event.alias("time_ns")
    return {c.name: columns[c.name].alias(c.name) for c in table.columns}


def _bad_int(value: Any) -> bool:
    return value is not None and not (_INT64[0] <= value <= _INT64[1])


def _int_fields(record: Any, table: Table) -> list[tuple[str, Any]]:
    names = ["receive_time_ns", "exchange_time_ns", "match_time_ns", "sequence"]
    names += [c.name for c in table.fields if c.type in ("int", "ns")]
    return [(name, getattr(record, name)) for name in names]


def build_frame(
    table: Table, records: Sequence[Record]
) -> tuple[pl.DataFrame, Sequence[Record], list[Rejected]]:
    """The batch as a frame in table column order, the records its rows are, and the
    records that cannot be stored."""
    try:
        return pl.DataFrame(list(_series(records, table).values())), records, []
    except (OverflowError, pl.exceptions.PolarsError, TypeError):
        pass
    # The slow path, only for a batch with a value out of range: find the rows.
    rejected: list[Rejected] = []
    kept: list[Record] = []
    for record in records:
        bad = [(n, v) for n, v in _int_fields(record, table) if _bad_int(v)]
        if bad:
            name, value = bad[0]
            rejected.append((record, f"{name}: {value} does not fit a signed 64-bit integer"))
        else:
            kept.append(record)
    if not kept:
        empty = {c.name: pl.Series(c.name, [], dtype=_POLARS[c.type]) for c in table.columns}
        return pl.DataFrame(list(empty.values())), kept, rejected
    return pl.DataFrame(list(_series(kept, table).values())), kept, rejected


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def record_from_row(kind: Kind, row: Mapping[str, Any]) -> Record:
    """The record a stored row holds (the instrument without tick and lot: not stored)."""
    table = TABLES[kind]
    fields: dict[str, Any] = {
        "instrument": Instrument(
            exchange=row["exchange"],
            market=MarketType(row["market"]),
            native_symbol=row["native_symbol"],
            symbol=row["symbol"],
        ),
        "receive_time_ns": int(row["receive_time_ns"]),
        "exchange_time_ns": row["exchange_time_ns"],
        "match_time_ns": row["match_time_ns"],
        "sequence": int(row["sequence"]),
        "quality": Quality(
            QualityLevel(row["quality_level"]),
            tuple(row["quality_reasons"].split(",")) if row["quality_reasons"] else (),
        ),
        "extra": tuple(tuple(p) for p in orjson.loads(row["extra"])) if row["extra"] else (),
    }
    for column in table.fields:
        value = row[column.name]
        if column.type == "decs":
            continue
        if value is None:
            fields[column.name] = None
        elif column.type == "dec":
            fields[column.name] = _decimal(value)
        elif column.name == "side":
            fields[column.name] = Side(value)
        elif column.name == "state":
            fields[column.name] = SourceState(value)
        else:
            fields[column.name] = value
    for side in ("bids", "asks"):
        prices = row.get(f"{side[:-1]}_prices")
        if prices is not None:
            sizes = row[f"{side[:-1]}_sizes"]
            fields[side] = tuple(
                (_decimal(p), _decimal(s)) for p, s in zip(prices, sizes, strict=True)
            )
    record: Record = _CLASS[kind](**fields)
    return record
