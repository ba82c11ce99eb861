"""Exact numbers.

Prices and sizes are :class:`decimal.Decimal` from the exchange string to the store. The
choice, against an integer mantissa + exponent pair, is measured in ``bench/bench_numbers.py``
(figures in docs/benchmarks.md): CPython's C decimal parses an exchange string and prints a
canonical one faster than Python code can split a string into a mantissa and an exponent, it
is unbounded (large integers and 1e-18 alike), and every store driver (psycopg NUMERIC,
clickhouse-connect Decimal, polars Decimal) takes it as is. Binary floats never appear.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

from mdp._exceptions import InvalidNumber

__all__ = ["decimal_from_wire", "decimal_to_wire", "parse_decimal"]

# Exponent bounds wide enough for anything an exchange sends; the precision is unbounded in
# effect, so no rounding happens when a value is parsed or scaled.
_EXACT = Context(prec=200, Emax=10**6, Emin=-(10**6), traps=[InvalidOperation])


def parse_decimal(text: str) -> Decimal:
    """Parse an exchange's number string exactly: ``"68000.10"``, ``"1e-8"``, ``"42"``.

    Trailing zeros are kept (``"68000.10"`` stays ``Decimal("68000.10")``) so the original
    string can be rebuilt where a checksum needs it. NaN, infinities and anything that is not
    a finite decimal raise :class:`~mdp.InvalidNumber`.
    """
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidNumber(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise InvalidNumber(f"not a finite decimal number: {text!r}")
    return value


def decimal_to_wire(value: Decimal) -> str:
    """The canonical string for the wire: exact, round-trips through :func:`decimal_from_wire`."""
    return str(value)


class _WireDecimals(dict[str, Decimal]):
    """Wire string → Decimal, parsed once. Prices repeat a lot, and Decimals are immutable,
    so records can share them. ``decimals[text]`` parses on a miss; the cache is bounded."""

    limit = 65_536

    def __missing__(self, text: str) -> Decimal:
        value = parse_decimal(text)
        if len(self) >= self.limit:
            self.clear()
        self[text] = value
        return value


wire_decimals = _WireDecimals()
"""The shared cache behind :func:`decimal_from_wire`; ``map(wire_decimals.__getitem__, ...)``
converts a whole column in C."""


def decimal_from_wire(text: str) -> Decimal:
    """Decode a wire decimal (cached, see :data:`wire_decimals`)."""
    return wire_decimals[text]


def exact_context() -> Context:
    """A decimal context that neither rounds nor overflows for market data arithmetic."""
    return _EXACT.copy()
