"""Where the exchanges are: ``etc/mdp/exchanges.toml``.

A collector's stream group connects to its own ``ws_url`` / ``rest_url`` when the role file
gives them, else to this file's, else to the exchange itself. So one role file serves
production and a test bench alike, and a deployment points at another endpoint (a proxy,
the simulator) with one setting:
``MDP_EXCHANGES__BINANCE__SPOT__WS_URL=ws://127.0.0.1:9100`` (see mdp/config/_env.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import attrs

from mdp.config import config_file, load_toml

__all__ = ["BinanceEndpoints", "Endpoint", "ExchangesConfig", "OkxEndpoint", "endpoints"]

DEFAULT_FILE = "etc/mdp/exchanges.toml"


@attrs.frozen(kw_only=True)
class Endpoint:
    ws_url: str  # WebSocket base URL
    rest_url: str


@attrs.frozen(kw_only=True)
class BinanceEndpoints:
    spot: Endpoint = Endpoint(
        ws_url="wss://stream.binance.com:9443", rest_url="https://api.binance.com"
    )
    usdm: Endpoint = Endpoint(
        ws_url="wss://fstream.binance.com", rest_url="https://fapi.binance.com"
    )


@attrs.frozen(kw_only=True)
class OkxEndpoint:
    ws_url: str = "wss://ws.okx.com:8443/ws/v5/public"  # the public endpoint itself
    rest_url: str = "https://www.okx.com"


@attrs.frozen(kw_only=True)
class ExchangesConfig:
    binance: BinanceEndpoints = BinanceEndpoints()
    okx: OkxEndpoint = OkxEndpoint()


@cache
def endpoints(path: str = DEFAULT_FILE) -> ExchangesConfig:
    """The file's endpoints (read once per process). Without the default file — mdp run
    from outside a checkout or an installation — the exchanges' own."""
    if path == DEFAULT_FILE and not config_file(Path(path)).exists():
        return ExchangesConfig()
    return load_toml(path, ExchangesConfig)
