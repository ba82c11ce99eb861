"""What one stream group is: market, symbols, streams, where to connect, how to watch it.

A group is one WebSocket connection (one at a time; two during a rollover). On USD-M
futures the URL route decides what is delivered since 2026-04-23: ``/public`` carries
depth and bookTicker, ``/market`` aggTrade, markPrice and forceOrder; a ``/market``
stream on the unrouted URL is acknowledged and then silent. ``route = "auto"`` picks the
route from the streams and refuses a mix (split it into two groups).
"""

from __future__ import annotations

import attrs

from mdp._exceptions import ConfigError
from mdp.exchanges._endpoints import Endpoint, endpoints
from mdp.model import MarketType

__all__ = ["StreamGroupArgs", "cadence_s", "is_market_class"]


_MARKET_CLASS = ("aggTrade", "markPrice", "forceOrder", "kline")
_KNOWN = ("trade", "aggTrade", "depth", "bookTicker", "markPrice", "forceOrder")


def is_market_class(suffix: str) -> bool:
    return suffix.split("@", 1)[0] in _MARKET_CLASS


def cadence_s(suffix: str) -> float | None:
    """Silence (seconds) after which a stream counts as stale; None: it may be silent."""
    kind, _, speed = suffix.partition("@")
    if kind == "depth":
        return 2.0 if speed == "100ms" else 5.0
    if kind == "markPrice":
        return 5.0 if speed == "1s" else 10.0
    if kind == "bookTicker":
        return 30.0
    if kind in ("trade", "aggTrade"):
        return 120.0
    return None  # forceOrder: a snapshot stream, silent while nobody is liquidated


@attrs.frozen(kw_only=True)
class StreamGroupArgs:
    """The ``args`` of a ``binance.streams`` worker."""

    market: MarketType = MarketType.SPOT  # spot or perpetual (USD-M)
    symbols: list[str] = attrs.Factory(lambda: ["BTCUSDT"])
    streams: list[str] = attrs.Factory(lambda: ["trade", "depth@100ms", "bookTicker"])
    ws_url: str = ""  # base URL; empty: the exchanges file's (Binance's own by default)
    rest_url: str = ""
    exchanges: str = "etc/mdp/exchanges.toml"
    route: str = "auto"  # futures: auto, public, market or unrouted
    symbols_file: str = "etc/mdp/symbols.toml"
    max_connection_s: float = 23.5 * 3600  # roll over before Binance's 24 h limit
    receive_timeout_s: float = 60.0  # nothing at all (Binance pings every 20 s): reconnect
    receive_buffer: int = 0  # SO_RCVBUF of the WebSocket, bytes; 0: the kernel's (autotuned)
    first_frame_timeout_s: float = 10.0  # acknowledged but no frame: SILENT
    stale_factor: float = 1.0  # scales cadence_s()
    liveness_interval_s: float = 1.0
    snapshot_limit: int = 1000
    backoff_initial_s: float = 0.05
    backoff_max_s: float = 30.0
    publish_timeout_s: float = 60.0  # the output channel blocked this long: fail
    weight_limit: int = 0  # 0: 6000 spot, 2400 futures (Binance's per-minute limits)
    weight_window_s: float = 60.0

    def __attrs_post_init__(self) -> None:
        endpoints(self.exchanges)  # read (and so checked) at `mdp run --check`
        if self.market not in (MarketType.SPOT, MarketType.PERPETUAL):
            raise ValueError(f"market must be spot or perpetual, got {self.market}")
        for s in self.streams:
            if s.split("@", 1)[0] not in _KNOWN:
                raise ValueError(f"unknown stream {s!r}; known: {', '.join(_KNOWN)}")
        if self.route not in ("auto", "public", "market", "unrouted"):
            raise ValueError(f"route must be auto, public, market or unrouted, not {self.route}")

    @property
    def futures(self) -> bool:
        return self.market is MarketType.PERPETUAL

    def ws_endpoint(self) -> str:
        """The combined-stream URL this group connects to, streams included: they flow
        from the first moment; the SUBSCRIBE sent after connecting is what gets an
        acknowledgement (the start of the liveness clock)."""
        return f"{self._ws_path()}?streams={'/'.join(self.stream_names())}"

    def _endpoint(self) -> Endpoint:
        binance = endpoints(self.exchanges).binance
        return binance.usdm if self.futures else binance.spot

    def _ws_path(self) -> str:
        base = (self.ws_url or self._endpoint().ws_url).rstrip("/")
        if not self.futures:
            return f"{base}/stream"
        route = self.route
        if route == "auto":
            kinds = {is_market_class(s) for s in self.streams}
            if len(kinds) > 1:
                raise ConfigError(
                    "binance futures: streams "
                    f"{', '.join(self.streams)} need two routes (/public for depth and "
                    "bookTicker, /market for aggTrade, markPrice, forceOrder): split them "
                    "into two stream groups"
                )
            route = "market" if kinds == {True} else "public"
        return f"{base}/stream" if route == "unrouted" else f"{base}/{route}/stream"

    def rest_endpoint(self) -> str:
        return (self.rest_url or self._endpoint().rest_url).rstrip("/")

    def stream_names(self) -> list[str]:
        return [f"{sym.lower()}@{s}" for sym in self.symbols for s in self.streams]
