"""What one OKX stream group is: instrument type, instruments, channels, where to
connect and how to watch it.

A group is one connection to the public endpoint (two during a make-before-break
rollover) carrying every channel of its instruments. Stream names are OKX's channel
and argument, ``trades:BTC-USDT``, ``books:BTC-USDT-SWAP``, ``liquidation-orders:SWAP``.
"""

from __future__ import annotations

from typing import Any

import attrs

from mdp.exchanges._endpoints import endpoints
from mdp.model import MarketType

__all__ = ["CHANNELS", "OkxStreamsArgs", "cadence_s"]

CHANNELS = ("trades", "books", "bbo-tbt", "funding-rate", "liquidation-orders")
_SWAP_ONLY = ("funding-rate", "liquidation-orders")


def cadence_s(channel: str) -> float | None:
    """Silence (seconds) after which a stream counts as stale; None: it may be silent."""
    return {"books": 5.0, "bbo-tbt": 30.0, "trades": 120.0, "funding-rate": 120.0}.get(channel)


@attrs.frozen(kw_only=True)
class OkxStreamsArgs:
    """The ``args`` of an ``okx.streams`` worker."""

    inst_type: str = "SPOT"  # SPOT or SWAP
    symbols: list[str] = attrs.Factory(lambda: ["BTC-USDT"])  # instIds
    channels: list[str] = attrs.Factory(lambda: ["trades", "books", "bbo-tbt"])
    ws_url: str = ""  # the public endpoint's URL; empty: the exchanges file's (OKX's own)
    rest_url: str = ""
    exchanges: str = "etc/mdp/exchanges.toml"
    symbols_file: str = "etc/mdp/symbols.toml"
    book_bootstrap: str = "ws"  # ws: the snapshot push; rest: market/books joined by seqId
    ping_after_s: float = 20.0  # OKX closes after 30 s without traffic
    pong_timeout_s: float = 5.0
    max_connection_s: float = 0.0  # 0: never roll over on age (OKX has no age limit)
    first_frame_timeout_s: float = 10.0
    stale_factor: float = 1.0
    liveness_interval_s: float = 1.0
    snapshot_depth: int = 400
    backoff_initial_s: float = 0.05
    backoff_max_s: float = 30.0
    publish_timeout_s: float = 60.0
    rest_per_2s: int = 10  # below OKX's 20 requests per 2 s per endpoint and IP

    def __attrs_post_init__(self) -> None:
        endpoints(self.exchanges)  # read (and so checked) at `mdp run --check`
        if self.inst_type not in ("SPOT", "SWAP"):
            raise ValueError(f"inst_type must be SPOT or SWAP, not {self.inst_type!r}")
        for channel in self.channels:
            if channel not in CHANNELS:
                raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
            if channel in _SWAP_ONLY and self.inst_type != "SWAP":
                raise ValueError(f"{channel} is a SWAP channel, not one of {self.inst_type}")
        for symbol in self.symbols:
            if symbol.endswith("-SWAP") != (self.inst_type == "SWAP"):
                raise ValueError(f"{symbol} is not a {self.inst_type} instId")
        if self.book_bootstrap not in ("ws", "rest"):
            raise ValueError(f"book_bootstrap must be ws or rest, not {self.book_bootstrap!r}")
        if not 0 < self.ping_after_s < 30:
            raise ValueError("ping_after_s must be below OKX's 30 s idle limit")

    @property
    def market(self) -> MarketType:
        return MarketType.PERPETUAL if self.inst_type == "SWAP" else MarketType.SPOT

    def ws_endpoint(self) -> str:
        return self.ws_url or endpoints(self.exchanges).okx.ws_url

    def rest_endpoint(self) -> str:
        return (self.rest_url or endpoints(self.exchanges).okx.rest_url).rstrip("/")

    def subscription(self) -> list[tuple[str, dict[str, Any]]]:
        """(stream name, subscribe argument) for every stream of the group."""
        out: list[tuple[str, dict[str, Any]]] = []
        for channel in self.channels:
            if channel == "liquidation-orders":
                out.append(
                    (f"{channel}:{self.inst_type}", {"channel": channel, "instType": "SWAP"})
                )
                continue
            for symbol in self.symbols:
                out.append((f"{channel}:{symbol}", {"channel": channel, "instId": symbol}))
        return out
