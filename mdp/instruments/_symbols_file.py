"""``etc/mdp/symbols.toml``: the configured instruments, the fallback when an exchange's
instrument endpoint cannot be reached.

    [[instrument]]
    exchange = "binance"
    market = "spot"
    native_symbol = "BTCUSDT"
    base = "BTC"
    quote = "USDT"
    tick = "0.01"
    lot = "0.00001"

``settle`` (absent for spot), ``expiry``, ``strike`` and ``option_type`` build the
normalized symbol as :func:`mdp.model.normalized_symbol` describes.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs

from mdp._exceptions import ConfigError
from mdp.config import load_toml
from mdp.instruments._registry import InstrumentRegistry
from mdp.model import Instrument, MarketType, normalized_symbol

__all__ = ["InstrumentEntry", "SymbolsFile", "load_symbols"]


@attrs.frozen(kw_only=True)
class InstrumentEntry:
    exchange: str
    market: MarketType
    native_symbol: str
    base: str
    quote: str
    settle: str | None = None
    expiry: str | None = None
    strike: str | None = None
    option_type: str | None = None
    tick: Decimal
    lot: Decimal

    def instrument(self) -> Instrument:
        symbol = normalized_symbol(
            self.base,
            self.quote,
            settle=self.settle,
            expiry=self.expiry,
            strike=self.strike,
            option_type=self.option_type,
        )
        return Instrument(
            exchange=self.exchange,
            market=self.market,
            native_symbol=self.native_symbol,
            symbol=symbol,
            tick=self.tick,
            lot=self.lot,
        )


@attrs.frozen
class SymbolsFile:
    instrument: list[InstrumentEntry] = attrs.Factory(list)


def load_symbols(path: Path | str) -> InstrumentRegistry:
    """A registry holding every instrument of a symbols file."""
    symbols = load_toml(path, SymbolsFile)
    registry = InstrumentRegistry()
    for index, entry in enumerate(symbols.instrument):
        try:
            instrument = entry.instrument()
        except ValueError as exc:
            raise ConfigError(
                f"{path}: instrument[{index}] ({entry.native_symbol}): {exc}"
            ) from None
        if entry.tick <= 0 or entry.lot <= 0:
            raise ConfigError(
                f"{path}: instrument[{index}] ({entry.native_symbol}): tick and "
                "lot must be positive decimals"
            )
        registry.add(instrument)
    return registry
