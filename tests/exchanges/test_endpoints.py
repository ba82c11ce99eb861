"""A stream group without URLs of its own connects where etc/mdp/exchanges.toml says, and
the environment can move it (how a role file serves production and a test bench alike)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mdp import ConfigError
from mdp.exchanges._endpoints import ExchangesConfig, endpoints
from mdp.exchanges.binance._config import StreamGroupArgs
from mdp.model import MarketType

REPO = Path(__file__).resolve().parents[2]
FILE = str(REPO / "etc/mdp/exchanges.toml")


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    endpoints.cache_clear()
    yield
    endpoints.cache_clear()


def test_the_shipped_file_is_the_exchanges_themselves() -> None:
    assert endpoints(FILE) == ExchangesConfig()
    spot = StreamGroupArgs(symbols=["BTCUSDT"], streams=["trade"], exchanges=FILE)
    assert spot.ws_endpoint() == "wss://stream.binance.com:9443/stream?streams=btcusdt@trade"
    assert spot.rest_endpoint() == "https://api.binance.com"


def test_the_environment_moves_a_market(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDP_EXCHANGES__BINANCE__USDM__WS_URL", "ws://127.0.0.1:9101")
    monkeypatch.setenv("MDP_EXCHANGES__BINANCE__USDM__REST_URL", "http://127.0.0.1:9101")
    futures = StreamGroupArgs(
        market=MarketType.PERPETUAL, symbols=["BTCUSDT"], streams=["aggTrade"], exchanges=FILE
    )
    assert futures.ws_endpoint() == "ws://127.0.0.1:9101/market/stream?streams=btcusdt@aggTrade"
    assert futures.rest_endpoint() == "http://127.0.0.1:9101"
    spot = StreamGroupArgs(symbols=["BTCUSDT"], streams=["trade"], exchanges=FILE)
    assert spot.rest_endpoint() == "https://api.binance.com"  # only USD-M moved


def test_a_group_s_own_urls_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDP_EXCHANGES__BINANCE__SPOT__WS_URL", "ws://127.0.0.1:1")
    spot = StreamGroupArgs(
        symbols=["BTCUSDT"], streams=["trade"], ws_url="ws://127.0.0.1:2", exchanges=FILE
    )
    assert spot.ws_endpoint().startswith("ws://127.0.0.1:2/stream")


def test_a_bad_file_is_refused_when_the_args_are_made(tmp_path: Path) -> None:
    bad = tmp_path / "exchanges.toml"
    bad.write_text('[binance.spot]\nws = "x"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        StreamGroupArgs(exchanges=str(bad))
