"""Instrument metadata: the registry and the symbols file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from mdp import ConfigError
from mdp.instruments import InstrumentKey, InstrumentRegistry, load_symbols
from mdp.model import Instrument, MarketType

REPO = Path(__file__).resolve().parent.parent


def test_shipped_symbols_file() -> None:
    registry = load_symbols(REPO / "etc/mdp/symbols.toml")
    swap = registry.get(InstrumentKey("okx", MarketType.PERPETUAL, "BTC-USDT-SWAP"))
    assert swap is not None
    assert swap.symbol == "BTC/USDT:USDT"
    assert swap.tick == Decimal("0.1")
    spot = registry.get(InstrumentKey("binance", MarketType.SPOT, "BTCUSDT"))
    assert spot is not None
    assert spot.symbol == "BTC/USDT"
    assert len(registry) == 5


def test_canonical_by_identity_and_by_key() -> None:
    canonical = Instrument(
        exchange="binance",
        market=MarketType.SPOT,
        native_symbol="BTCUSDT",
        symbol="BTC/USDT",
        tick=Decimal("0.01"),
        lot=Decimal("0.00001"),
    )
    registry = InstrumentRegistry([canonical])
    assert registry.canonical(canonical) is canonical
    raw = attrs.evolve(canonical, symbol="", tick=None, lot=None)
    assert registry.canonical(raw) is canonical
    assert registry.canonical(attrs.evolve(raw, native_symbol="ETHUSDT")) is None
    refreshed = attrs.evolve(canonical, tick=Decimal("0.1"))
    registry.add(refreshed)  # a metadata refresh replaces, and old answers are forgotten
    assert registry.canonical(raw) is refreshed


def test_a_canonical_instrument_needs_its_symbol() -> None:
    with pytest.raises(ValueError, match="normalized symbol"):
        InstrumentRegistry(
            [Instrument(exchange="x", market=MarketType.SPOT, native_symbol="AB", symbol="")]
        )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('tick = 0.01\nlot = "1"', "exact decimal"),
        ('tick = "0.01"\nlot = "0"', "tick and lot must be positive"),
        ('tick = "0.01"\nlot = "1"\nmarket = "margin"', "market"),
        ('tick = "0.01"\nlot = "1"\nexpiry = "261225"', "settlement currency"),
    ],
)
def test_bad_symbols_files(tmp_path: Path, body: str, needle: str) -> None:
    text = '[[instrument]]\nexchange = "x"\nnative_symbol = "AB"\nbase = "A"\nquote = "B"\n'
    if "market =" not in body:
        text += 'market = "spot"\n'
    path = tmp_path / "symbols.toml"
    path.write_text(text + body + "\n")
    with pytest.raises(ConfigError) as info:
        load_symbols(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)
