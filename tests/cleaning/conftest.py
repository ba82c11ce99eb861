"""Exchange-shaped inputs for the cleaning stages: what the Binance and OKX parsers produce."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from mdp.instruments import InstrumentRegistry
from mdp.model import (
    BookSnapshot,
    Instrument,
    MarketType,
    Side,
    Trade,
)

D = Decimal
NOW = 1_764_547_200_000_000_000  # receive times sit here
MS = 1_000_000

BTC = Instrument(
    exchange="binance",
    market=MarketType.SPOT,
    native_symbol="BTCUSDT",
    symbol="BTC/USDT",
    tick=D("0.01"),
    lot=D("0.00001"),
)
ETH_SWAP = Instrument(
    exchange="okx",
    market=MarketType.PERPETUAL,
    native_symbol="ETH-USDT-SWAP",
    symbol="ETH/USDT:USDT",
    tick=D("0.01"),
    lot=D("0.01"),
)
REGISTRY = InstrumentRegistry([BTC, ETH_SWAP])


def trade(i: int = 1, **changes: Any) -> Trade:
    """Binance trade ``t=i`` as parsed from ``{"e":"trade","E":..,"t":i,"p":"68000.10",..}``."""
    base = Trade(
        instrument=BTC,
        receive_time_ns=NOW + i * MS,
        exchange_time_ns=NOW + i * MS - 2 * MS,
        match_time_ns=NOW + i * MS - 3 * MS,
        trade_id=i,
        price=D("68000.10"),
        size=D("0.01000"),
        side=Side.SELL,
    )
    return attrs.evolve(base, **changes) if changes else base


def snapshot(**changes: Any) -> BookSnapshot:
    base = BookSnapshot(
        instrument=BTC,
        receive_time_ns=NOW,
        last_update_id=100,
        bids=((D("68000.10"), D("1.5")), (D("68000.00"), D("2"))),
        asks=((D("68000.20"), D("0.75")),),
    )
    return attrs.evolve(base, **changes) if changes else base
