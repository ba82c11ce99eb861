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

from collections.abc import Callable, Iterable, Mapping, Sequence
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
from mdp.sinks._schema import TABLES, Column, Table

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

Rejected = tuple[Record, str]
"""A record a store would not take, and why."""


def group_by_kind(records: Iterable[Record]) -> dict[Kind, list[Record]]:
    groups: dict[Kind, list[Record]] = {}
    for record in records:
        groups.setdefault(record.kind, []).append(record)
    return groups


def _event_time(record: Any) -> int:
    if record.kind is Kind.CANDLE:
        return int(record.open_time_ns)
    if record.match_time_ns is not None:
        return int(record.match_time_ns)
    if record.exchange_time_ns is not None:
        return int(record.exchange_time_ns)
    return int(record.receive_time_ns)


def _levels(side: str, part: int) -> Callable[[Any], list[str]]:
    def get(record: Any) -> list[str]:
        return [str(level[part]) for level in getattr(record, side)]

    return get


def _column_values(column: Column, records: Sequence[Any]) -> list[Any]:
    name, type = column.name, column.type
    if name in ("exchange", "market", "symbol", "native_symbol"):
        cache: dict[Instrument, str] = {}
        field = attrgetter(name if name != "market" else "market.value")
        out = []
        for r in records:
            value = cache.get(r.instrument)
            if value is None:
                value = cache[r.instrument] = field(r.instrument)
            out.append(value)
        return out
    if name == "time_ns":
        return list(map(_event_time, records))
    if name == "quality_level":
        return [int(r.quality.level) for r in records]
    if name == "quality_reasons":
        return [",".join(r.quality.reasons) for r in records]
    if name == "extra":
        return [orjson.dumps(r.extra).decode() if r.extra else "" for r in records]
    if type == "decs":
        side, _, part = name.rpartition("_")
        return list(map(_levels(side + "s", 0 if part == "prices" else 1), records))
    values = list(map(attrgetter(name), records))
    if type == "dec":
        if column.nullable:
            return [None if v is None else str(v) for v in values]
        return list(map(str, values))
    if type == "lc" and name in ("side", "state"):
        return [v.value for v in values]
    return values


def _bad_int(value: Any) -> bool:
    return value is not None and not (_INT64[0] <= value <= _INT64[1])


def build_frame(
    table: Table, records: Sequence[Record]
) -> tuple[pl.DataFrame, Sequence[Record], list[Rejected]]:
    """The batch as a frame in table column order, the records its rows are, and the
    records that cannot be stored."""
    columns = {c.name: (c, _column_values(c, records)) for c in table.columns}
    rejected: list[Rejected] = []
    try:
        return _frame(columns), records, rejected
    except (OverflowError, pl.exceptions.PolarsError, TypeError):
        pass
    # The slow path, only for a batch with a value out of range: find the rows.
    bad: dict[int, str] = {}
    for column, values in columns.values():
        if column.type in ("int", "ns", "level"):
            for i, v in enumerate(values):
                if _bad_int(v) and i not in bad:
                    bad[i] = f"{column.name}: {v} does not fit a signed 64-bit integer"
    rejected = [(records[i], reason) for i, reason in sorted(bad.items())]
    keep = [i for i in range(len(records)) if i not in bad]
    trimmed = {n: (c, [values[i] for i in keep]) for n, (c, values) in columns.items()}
    return _frame(trimmed), [records[i] for i in keep], rejected


def _frame(columns: Mapping[str, tuple[Column, list[Any]]]) -> pl.DataFrame:
    return pl.DataFrame(
        [pl.Series(name, values, dtype=_POLARS[c.type]) for name, (c, values) in columns.items()]
    )


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
