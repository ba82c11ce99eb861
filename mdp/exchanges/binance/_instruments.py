"""Instrument metadata from ``exchangeInfo``, with ``etc/mdp/symbols.toml`` as fallback.

Tick is ``PRICE_FILTER.tickSize``, lot ``LOT_SIZE.stepSize``; the normalized symbol is
``BTC/USDT`` on spot and ``BTC/USDT:USDT`` for a USD-M perpetual (the margin asset is
the settlement currency). The answer is cached per REST base URL and market for the
process, so every stream group and every restart shares one request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mdp._exceptions import ExchangeError
from mdp.exchanges.binance._rest import RestClient
from mdp.instruments import LIVE, InstrumentKey, InstrumentRegistry, load_symbols
from mdp.model import Instrument, MarketType, normalized_symbol
from mdp.model._numbers import wire_decimals

__all__ = ["EXCHANGE", "REGISTRY", "fetch_instruments", "instruments_from_exchange_info"]

EXCHANGE = "binance"
log = logging.getLogger("mdp.exchanges.binance")
_cache: dict[tuple[str, MarketType], dict[str, Instrument]] = {}

REGISTRY = LIVE  # the process's one registry of collected instruments
"""Every Binance instrument this process collects, the very objects its records carry
(so the cleaning stages' identity lookups hit); filled by :func:`fetch_instruments`."""


def instruments_from_exchange_info(body: Any, market: MarketType) -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for row in body.get("symbols", []):
        if market is MarketType.PERPETUAL and row.get("contractType", "PERPETUAL") != "PERPETUAL":
            continue
        filters = {f.get("filterType"): f for f in row.get("filters", [])}
        tick = filters.get("PRICE_FILTER", {}).get("tickSize")
        lot = filters.get("LOT_SIZE", {}).get("stepSize")
        settle = (
            row.get("marginAsset", row["quoteAsset"]) if market is MarketType.PERPETUAL else None
        )
        out[row["symbol"]] = Instrument(
            exchange=EXCHANGE,
            market=market,
            native_symbol=row["symbol"],
            symbol=normalized_symbol(row["baseAsset"], row["quoteAsset"], settle=settle),
            tick=None if tick is None else wire_decimals[tick].normalize(),
            lot=None if lot is None else wire_decimals[lot].normalize(),
        )
    return out


async def fetch_instruments(
    rest: RestClient, market: MarketType, symbols: list[str], fallback: Path | None
) -> dict[str, Instrument]:
    """The instruments of ``symbols``: exchangeInfo (cached), else the symbols file;
    each is also added to :data:`REGISTRY`."""
    key = (rest.base_url, market)
    known = _cache.get(key)
    if known is None or any(s not in known for s in symbols):
        path = "/api/v3/exchangeInfo" if market is MarketType.SPOT else "/fapi/v1/exchangeInfo"
        weight = 20 if market is MarketType.SPOT else 1
        try:
            known = instruments_from_exchange_info(await rest.get(path, {}, weight), market)
            _cache[key] = known
        except ExchangeError as exc:
            log.warning("%s: exchangeInfo failed (%s); using the symbols file", market, exc)
            known = {}
    out: dict[str, Instrument] = {}
    registry = _fallback(fallback)
    for symbol in symbols:
        inst = known.get(symbol)
        if inst is None and registry is not None:
            inst = registry.get(InstrumentKey(EXCHANGE, market, symbol))
        if inst is None:
            raise ExchangeError(
                f"binance {market}: unknown symbol {symbol!r}: not in exchangeInfo and not in "
                f"{fallback}; check the name (e.g. BTCUSDT) or add it to the symbols file"
            )
        out[symbol] = inst
        REGISTRY.add(inst)
    return out


def _fallback(path: Path | None) -> InstrumentRegistry | None:
    if path is None or not path.exists():
        return None
    return load_symbols(path)
