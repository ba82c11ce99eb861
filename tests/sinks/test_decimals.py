"""Decimal(38, 18) for ClickHouse and the lake: exact or rejected, never rounded."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings

from mdp.model import Kind
from mdp.sinks import TABLES
from mdp.sinks._decimals import cast_decimals
from tests.strategies import decimal_strings

MARK = TABLES[Kind.MARK_PRICE]


def _frame(values: list[str]) -> pl.DataFrame:
    n = len(values)
    return pl.DataFrame(
        {
            "mark_price": pl.Series(values, dtype=pl.String),
            "index_price": pl.Series([None] * n, dtype=pl.String),
            "estimated_settle_price": pl.Series(["1"] * n, dtype=pl.String),
        }
    )


def test_what_fits_is_exact_and_what_does_not_is_rejected_with_the_reason() -> None:
    values = [
        "1.5",
        "0.10000000000000000000",  # 20 places, but only zeros past the 1st
        "1E-19",  # one place too many
        "1E+25",  # 26 integer digits
        "123456789012345.123456789",
        "1.000E-18",
        "99999999999999999999.999999999999999999",  # the largest that fits
    ]
    frame, bad = cast_decimals(MARK, _frame(values))
    assert bad == {
        2: "mark_price: 1E-19 does not fit Decimal(38, 18) exactly",
        3: "mark_price: 1E+25 does not fit Decimal(38, 18) exactly",
    }
    kept = [v for i, v in enumerate(values) if i not in bad]
    assert frame["mark_price"].to_list() == [Decimal(v) for v in kept]


@settings(deadline=None)  # a few ms a case; the shared machine's load makes it 250 ms at times
@given(decimal_strings(min_exp=-18, max_exp=19))
def test_any_exchange_number_within_range_round_trips(text: str) -> None:
    frame, bad = cast_decimals(MARK, _frame([text]))
    assert bad == {}
    assert frame["mark_price"][0] == Decimal(text)
