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


def _unfit_series(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The column cast, and where it does not fit. The regex runs only when a cheap test
    (an exponent, or a string long enough to hold more than 18 decimals) finds a
    candidate: the usual column has none, and two passes of the cheap test cost less than
    the one that counted the places exactly."""
    text = text.cast(pl.String)
    cast = text.cast(DECIMAL, strict=False)
    bad = cast.is_null() & text.is_not_null()
    long = text.str.len_bytes() > SCALE + 1
    candidate = (long | text.str.contains("[eE]")).fill_null(False)
    if candidate.any():
        bad = bad | pl.select(_unfit(pl.lit(text))).to_series().fill_null(False)
    return cast, bad


def cast_decimals(table: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[int, str]]:
    """``frame`` with its decimal columns as Decimal(38, 18), without the rows that do not
    fit; the reasons by row index in ``frame``."""
    flags: dict[str, pl.Series] = {}
    casts: list[pl.Series] = []
    for column in table.columns:
        if column.type == "dec":
            cast, bad = _unfit_series(frame[column.name])
            casts.append(cast)
        elif column.type == "decs":
            values = frame[column.name]
            bad = pl.select(
                pl.lit(values).list.eval(_unfit(pl.element())).list.any().fill_null(False)
            ).to_series()
            casts.append(values.cast(pl.List(DECIMAL)))
        else:
            continue
        flags[column.name] = bad
    reasons: dict[int, str] = {}
    if flags:
        any_bad = pl.select(pl.any_horizontal(list(flags.values()))).to_series()
        if any_bad.any():
            for i in any_bad.arg_true().to_list():
                name = next(n for n, f in flags.items() if f[i])
                reasons[i] = (
                    f"{name}: {frame[name][i]} does not fit Decimal({PRECISION}, {SCALE}) exactly"
                )
            frame = frame.filter(~any_bad)
            casts = [c.filter(~any_bad) for c in casts]
    return (frame.with_columns(casts) if casts else frame), reasons
