"""OKX simulator configuration (attrs, structured by cattrs like the Binance side's).

Faults are the Binance simulator's :class:`~mdp.simulator.Fault` kinds, read the OKX way:
``server_shutdown`` is the ``64008`` maintenance notice (and a sequence reset of every
book), ``http_418`` is answered as a 429 like ``http_429`` (OKX has no ban status).
"""

from __future__ import annotations

import enum

import attrs

from mdp.simulator._config import Fault, ReplayConfig, _loopback

__all__ = ["Checksum", "OkxSimulatorConfig"]


class Checksum(enum.Enum):
    """What the ``checksum`` field of ``books`` carries."""

    CRC32 = "crc32"  # the legacy signed CRC32 of the top 25 levels
    ZERO = "zero"  # always 0, as OKX sends from 23 Jun 2026


@attrs.define
class OkxSimulatorConfig:
    """Everything :class:`~mdp.simulator.okx.OkxSimulator` takes."""

    symbols: list[str] = attrs.Factory(lambda: ["BTC-USDT", "BTC-USDT-SWAP"])
    rate: int = 100  # taker orders per second per instrument
    seed: int = 1
    start_ms: int | None = None
    host: str = attrs.field(default="127.0.0.1", validator=_loopback)
    port: int = 0
    tick_s: float = 0.005
    history: int = 1_000_000  # trade messages kept per instrument (truth, REST backfill)
    checkpoints: int = 600
    checksum: Checksum = Checksum.CRC32
    book_snapshot: bool = True  # the WS snapshot on subscribe (OKX drops it "early Aug 2026")
    idle_timeout_s: float = 30.0  # closed after this long with no traffic either way
    heartbeat_s: float = 60.0  # books: an empty update when the book did not change
    funding_push_ms: int = 30_000  # simulated ms between funding-rate pushes
    max_connects_per_s: float = 3.0  # per port (OKX: per IP)
    max_ops_per_hour: int = 480  # subscribe/unsubscribe per connection
    ops_window_s: float = 3600.0
    rest_per_2s: int = 20  # requests per 2 s per endpoint before 429 (code 50011)
    send_queue: int = 512
    shutdown_grace_s: float = 30.0  # 64008 notice → close, when the fault gives no seconds
    replay: ReplayConfig | None = None
    faults: list[Fault] = attrs.Factory(list)

    def __attrs_post_init__(self) -> None:
        if self.rate < 1:
            raise ValueError("rate must be at least 1")
        if self.tick_s <= 0:
            raise ValueError("tick_s must be positive")
