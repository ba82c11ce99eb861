"""Exact number representations: Decimal against an integer mantissa + exponent pair.

    python bench/bench_numbers.py

Both are exact; the question is which costs less on the paths mdp runs for every record:
parse the exchange's string, write it to the wire, read it back, and do the arithmetic the
cleaning stages do (compare against a tick, multiply price by size).
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import per_call_ns

from mdp.model import decimal_from_wire, parse_decimal
from mdp.model._numbers import wire_decimals

rng = random.Random(7)
PRICES = [f"{rng.randint(6_000_000, 7_000_000) / 100:.2f}" for _ in range(1000)]
SIZES = [f"{rng.randint(1, 500_000) / 100_000:.5f}" for _ in range(1000)]


def mantissa_exponent(text: str) -> tuple[int, int]:
    """The fastest pure-Python exact split of a plain decimal string."""
    whole, _dot, fraction = text.partition(".")
    if "e" in text or "E" in text:
        value = Decimal(text).as_tuple()
        digits = int("".join(map(str, value.digits)))
        return (-digits if value.sign else digits), int(value.exponent)
    return int(whole + fraction), -len(fraction)


def me_to_string(m: int, e: int) -> str:
    if e >= 0:
        return str(m * 10**e)
    sign = "-" if m < 0 else ""
    digits = str(abs(m)).rjust(-e + 1, "0")
    return f"{sign}{digits[:e]}.{digits[e:]}"


def main() -> None:
    decimals = [parse_decimal(p) for p in PRICES]
    sizes = [parse_decimal(s) for s in SIZES]
    pairs = [mantissa_exponent(p) for p in PRICES]
    size_pairs = [mantissa_exponent(s) for s in SIZES]
    tick = Decimal("0.01")
    n = len(PRICES)

    def dec_parse() -> None:
        for p in PRICES:
            parse_decimal(p)

    def me_parse() -> None:
        for p in PRICES:
            mantissa_exponent(p)

    def dec_to_wire() -> None:
        for d in decimals:
            str(d)

    def me_to_wire() -> None:
        for m, e in pairs:
            me_to_string(m, e)

    def dec_from_wire_uncached() -> None:
        wire_decimals.clear()
        for p in PRICES:
            decimal_from_wire(p)

    def dec_from_wire_cached() -> None:
        for p in PRICES:
            decimal_from_wire(p)

    def dec_notional_and_tick() -> None:
        total = Decimal(0)
        for d, s in zip(decimals, sizes, strict=True):
            total += d * s
            _ = d % tick == 0

    def me_notional_and_tick() -> None:
        total_m, total_e = 0, 0
        for (m, e), (sm, se) in zip(pairs, size_pairs, strict=True):
            pm, pe = m * sm, e + se
            if pe < total_e:
                total_m, total_e = total_m * 10 ** (total_e - pe), pe
            total_m += pm * 10 ** (pe - total_e)
            _ = True if e + 2 >= 0 else m % 10 ** -(e + 2) == 0

    rows = [
        ("parse exchange string", dec_parse, me_parse),
        ("to wire string", dec_to_wire, me_to_wire),
        ("notional += price × size, tick check", dec_notional_and_tick, me_notional_and_tick),
    ]
    print("| per value | Decimal (ns) | mantissa + exponent (ns) | ratio |")
    print("|---|---:|---:|---:|")
    for name, dec_fn, me_fn in rows:
        d_ns = per_call_ns(dec_fn, items=n)
        m_ns = per_call_ns(me_fn, items=n)
        print(f"| {name} | {d_ns:.0f} | {m_ns:.0f} | {m_ns / d_ns:.2f}× |")
    print(
        f"| from wire string, uncached | {per_call_ns(dec_from_wire_uncached, items=n):.0f} | "
        "(= parse) | |"
    )
    print(f"| from wire string, cached | {per_call_ns(dec_from_wire_cached, items=n):.0f} | | |")


if __name__ == "__main__":
    main()
