"""The simulated instruments: tick, lot, assets and how their numbers are rendered.

Prices and sizes are integers (ticks and lots) inside the simulator, so every value is
exact and cheap to compute; they become strings only when a frame is rendered. Binance spot
renders every number with 8 decimals (``"25.35190000"``); USD-M futures render with the
instrument's own precision (``"11794.10"``), so the scale is part of the instrument.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

__all__ = ["Instrument", "Market", "NumberScale", "instruments_for"]


class Market(enum.Enum):
    """Which Binance product a stream or endpoint belongs to."""

    SPOT = "spot"
    FUTURES = "futures"


@attrs.frozen
class NumberScale:
    """Renders an integer count of ``step`` as a fixed-point string with ``decimals``.

    ``step`` = ``mantissa`` × 10^-``exponent``; the rendered value is
    ``count × mantissa`` units of 10^-``decimals``.
    """

    step: Decimal
    decimals: int
    _factor: int = attrs.field(init=False)
    _unit: int = attrs.field(init=False)
    _cache: dict[int, str] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        exponent = -int(self.step.as_tuple().exponent)
        if exponent > self.decimals:
            raise ValueError(f"step {self.step} needs more than {self.decimals} decimals")
        scaled = self.step.scaleb(self.decimals)
        object.__setattr__(self, "_factor", int(scaled))
        object.__setattr__(self, "_unit", 10**self.decimals)

    def render(self, count: int) -> str:
        """``count`` steps as a Binance number string (exact). Prices and sizes repeat
        a lot, so rendered strings are cached (the hot path of frame generation)."""
        text = self._cache.get(count)
        if text is None:
            value = count * self._factor
            if self.decimals == 0:
                text = str(value)
            else:
                text = f"{value // self._unit}.{value % self._unit:0{self.decimals}d}"
            if len(self._cache) >= 200_000:
                self._cache.clear()
            self._cache[count] = text
        return text

    def decimal(self, count: int) -> Decimal:
        return self.step * count


@attrs.frozen
class Instrument:
    """One simulated symbol on one market."""

    market: Market
    symbol: str
    base: str
    quote: str
    tick: Decimal
    lot: Decimal
    start_price: Decimal
    price: NumberScale
    qty: NumberScale

    @property
    def stream_symbol(self) -> str:
        """Symbols in stream names are lowercase."""
        return self.symbol.lower()

    @property
    def start_ticks(self) -> int:
        return int(self.start_price / self.tick)


# symbol: (base, quote, spot tick, spot lot, futures tick, futures lot, start price)
_KNOWN: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "BTCUSDT": ("BTC", "USDT", "0.01", "0.00001", "0.10", "0.001", "68000.00"),
    "ETHUSDT": ("ETH", "USDT", "0.01", "0.0001", "0.01", "0.001", "3400.00"),
    "BNBUSDT": ("BNB", "USDT", "0.01", "0.001", "0.010", "0.01", "610.00"),
    "SOLUSDT": ("SOL", "USDT", "0.01", "0.001", "0.0100", "1", "150.00"),
    "XRPUSDT": ("XRP", "USDT", "0.0001", "0.1", "0.0001", "0.1", "0.6000"),
}


def _generated(index: int) -> tuple[str, str, str, str, str, str, str, str]:
    """A made-up symbol for large symbol counts: ``SIM0001USDT`` and so on."""
    base = f"SIM{index:04d}"
    start = f"{1 + (index * 37) % 500}.{index % 100:02d}"
    return (f"{base}USDT", base, "USDT", "0.01", "0.01", "0.01", "0.01", start)


def _make(market: Market, symbol: str, fields: tuple[str, ...]) -> Instrument:
    base, quote, s_tick, s_lot, f_tick, f_lot, start = fields
    tick, lot = (s_tick, s_lot) if market is Market.SPOT else (f_tick, f_lot)
    tick_d, lot_d = Decimal(tick), Decimal(lot)
    if market is Market.SPOT:
        price_dec = qty_dec = 8
    else:
        price_dec = -int(tick_d.as_tuple().exponent)
        qty_dec = -int(lot_d.as_tuple().exponent)
    return Instrument(
        market=market,
        symbol=symbol,
        base=base,
        quote=quote,
        tick=tick_d,
        lot=lot_d,
        start_price=Decimal(start),
        price=NumberScale(tick_d, price_dec),
        qty=NumberScale(lot_d, qty_dec),
    )


def instruments_for(market: Market, symbols: list[str], extra: int = 0) -> list[Instrument]:
    """The named symbols (known ones get realistic tick/lot/price) plus ``extra``
    generated ones; an unknown name gets the generated defaults under its own name."""
    out: list[Instrument] = []
    for i, name in enumerate(symbols):
        name = name.upper()
        if name in _KNOWN:
            out.append(_make(market, name, _KNOWN[name]))
        else:
            quote = "USDT" if name.endswith("USDT") else name[-4:]
            fields = (name[: -len(quote)] or name, quote, *_generated(i + 1)[3:])
            out.append(_make(market, name, fields))
    for i in range(extra):
        gen = _generated(i + 1)
        out.append(_make(market, gen[0], gen[1:]))
    return out
