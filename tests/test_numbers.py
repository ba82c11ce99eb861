"""Exact numbers: exchange strings → Decimal → wire → Decimal, losslessly."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given

from mdp import InvalidNumber
from mdp.model import decimal_from_wire, decimal_to_wire, parse_decimal
from tests.strategies import decimal_strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.00000001", Fraction(1, 10**8)),
        ("1e-8", Fraction(1, 10**8)),
        ("1E-8", Fraction(1, 10**8)),
        ("68000.10", Fraction(680001, 10)),
        ("123456789012345678901234567890", Fraction(123456789012345678901234567890)),
        ("0.000000000000000001", Fraction(1, 10**18)),
        ("1000000000000000", Fraction(10**15)),
        ("-0.5", Fraction(-1, 2)),
        ("0", Fraction(0)),
    ],
)
def test_exchange_strings_parse_exactly(text: str, expected: Fraction) -> None:
    value = parse_decimal(text)
    assert Fraction(value) == expected
    assert decimal_from_wire(decimal_to_wire(value)).as_tuple() == value.as_tuple()


def test_trailing_zeros_are_kept_for_checksums() -> None:
    assert decimal_to_wire(parse_decimal("68000.10")) == "68000.10"


@pytest.mark.parametrize("text", ["", "abc", "NaN", "inf", "-Infinity", "1.2.3", "0x10", "1,5"])
def test_bad_numbers_raise_our_error(text: str) -> None:
    with pytest.raises(InvalidNumber, match="decimal"):
        parse_decimal(text)
    with pytest.raises(InvalidNumber):
        decimal_from_wire(text)


@given(decimal_strings())
def test_any_decimal_string_round_trips_losslessly(text: str) -> None:
    value = parse_decimal(text)
    # Lossless against exact rational arithmetic, not against Decimal itself.
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    exact = Fraction(int(whole + fraction), 10 ** len(fraction)) * Fraction(10) ** int(
        exponent or 0
    )
    assert Fraction(value) == exact
    assert Fraction(10) ** -18 <= Fraction(value) <= Fraction(10) ** 15
    wire = decimal_to_wire(value)
    back = decimal_from_wire(wire)
    assert back.as_tuple() == value.as_tuple()
    assert isinstance(back, Decimal)
