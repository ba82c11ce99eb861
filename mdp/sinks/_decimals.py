"""Exact decimals for Decimal(38, 18) columns (ClickHouse and the Parquet lake).

polars casts a decimal string to Decimal(38, 18) in Rust, fast, but rounds away digits past
the 18th decimal without a word, and only nulls what overflows 38 digits. Both would be a
silent change of a price, so both are found first, per row, and the row is rejected with
the reason instead (the dead letters keep it; PostgreSQL's NUMERIC would have taken it).
"""

from __future__ import annotations

import polars as pl

from mdp.sinks._schema import Table

__all__ = ["PRECISION", "SCALE", "cast_decimals"]

PRECISION = 38
SCALE = 18
DECIMAL = pl.Decimal(PRECISION, SCALE)


def _unfit(text: pl.Expr) -> pl.Expr:
    """True where a decimal string does not fit Decimal(38, 18) exactly."""
    fraction = text.str.extract(r"\.(\d*[1-9])", 1).str.len_chars().fill_null(0)
    exponent = text.str.extract(r"[eE]([+-]?\d+)", 1).cast(pl.Int64).fill_null(0)
    too_fine = (fraction.cast(pl.Int64) - exponent) > SCALE
    overflow = text.is_not_null() & text.cast(DECIMAL, strict=False).is_null()
    return too_fine | overflow


def cast_decimals(table: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[int, str]]:
    """``frame`` with its decimal columns as Decimal(38, 18), without the rows that do not
    fit; the reasons by row index in ``frame``."""
    checks = []
    names = []
    for column in table.columns:
        if column.type == "dec":
            checks.append(_unfit(pl.col(column.name)).fill_null(False).alias(column.name))
        elif column.type == "decs":
            checks.append(
                pl.col(column.name).list.eval(_unfit(pl.element())).list.any().alias(column.name)
            )
        else:
            continue
        names.append(column.name)
    bad: dict[int, str] = {}
    if names:
        flags = frame.select(checks)
        any_bad = flags.select(pl.any_horizontal(pl.all()).alias("bad"))["bad"]
        if any_bad.any():
            for i in any_bad.arg_true().to_list():
                name = next(n for n in names if flags[n][i])
                bad[i] = (
                    f"{name}: {frame[name][i]} does not fit Decimal({PRECISION}, {SCALE}) exactly"
                )
            frame = frame.filter(~any_bad)
    casts = []
    for column in table.columns:
        if column.type == "dec":
            casts.append(pl.col(column.name).cast(DECIMAL))
        elif column.type == "decs":
            casts.append(pl.col(column.name).cast(pl.List(DECIMAL)))
    return (frame.with_columns(casts) if casts else frame), bad
