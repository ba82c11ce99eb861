"""Simulator configuration: attrs classes structured by cattrs (``mdp.config``), so a bad
file or control request gets an error naming the key and what is allowed."""

from __future__ import annotations

import enum
import ipaddress
from pathlib import Path
from typing import Any

import attrs

from mdp._exceptions import ConfigError
from mdp.config import load_toml, structure
from mdp.simulator._instruments import Market

__all__ = ["Fault", "FaultKind", "FaultSchedule", "ReplayConfig", "RestLimits", "SimulatorConfig"]


class FaultKind(enum.Enum):
    """What can go wrong, on purpose. See docs/simulator.md for what a client sees."""

    DISCONNECT = "disconnect"  # close every connection (close frame, or abrupt)
    STALL = "stall"  # socket stays open, no frames (and no pings) for ``seconds``
    DROP = "drop"  # the next ``count`` data frames are not sent
    DUPLICATE = "duplicate"  # the next ``count`` data frames are sent twice
    REORDER = "reorder"  # ``count`` pairs of adjacent frames are swapped
    MALFORMED = "malformed"  # the next ``count`` data frames are cut in half (bad JSON)
    SERVER_SHUTDOWN = "server_shutdown"  # serverShutdown event, close after ``seconds``
    CONNECTION_LIMIT = "connection_limit"  # connections now live at most ``seconds``
    HTTP_429 = "http_429"  # the next ``count`` REST requests get 429 + Retry-After
    HTTP_418 = "http_418"  # the next ``count`` REST requests get 418 + Retry-After


@attrs.define
class Fault:
    """One fault. ``market`` None means both markets; ``stream`` limits the frame faults
    (drop, duplicate, reorder, malformed) to one stream name, e.g. ``btcusdt@trade``."""

    kind: FaultKind
    market: Market | None = None
    count: int = 1
    seconds: float = 1.0
    stream: str | None = None
    abrupt: bool = False
    at_s: float | None = None  # in a schedule: seconds after the simulator started
    next_connection: bool = False  # apply to the next connection that opens instead

    def __attrs_post_init__(self) -> None:
        if self.count < 0 or self.seconds < 0:
            raise ValueError("count and seconds must not be negative")


@attrs.define
class FaultSchedule:
    """The ``--faults FILE`` format: ``[[fault]]`` tables, each with ``at_s``."""

    fault: list[Fault] = attrs.Factory(list)


@attrs.define
class RestLimits:
    """Request-weight limits (Binance: 6000/min spot, 2400/min futures)."""

    spot_weight: int = 6000
    futures_weight: int = 2400
    window_s: float = 60.0
    ban_after: int = 3  # 429s within one ban window before the IP gets 418
    ban_s: float = 120.0


@attrs.define
class ReplayConfig:
    """Replay a capture instead of generating a market (see docs/simulator.md)."""

    file: Path
    speed: float = 1.0  # 10 = ten times faster than recorded; 0 = as fast as possible
    loop: bool = False
    wait_for_client: bool = True  # start when the first WebSocket client is connected


def _loopback(_: Any, attribute: Any, value: str) -> None:
    try:
        ok = value == "localhost" or ipaddress.ip_address(value).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{attribute.name} must be a loopback address, not {value!r}")


@attrs.define
class SimulatorConfig:
    """Everything ``mdp simulate`` and :class:`Simulator` take."""

    symbols: list[str] = attrs.Factory(lambda: ["BTCUSDT", "ETHUSDT"])
    futures_symbols: list[str] | None = None  # None: the same as ``symbols``
    extra_symbols: int = 0  # generated SIM0001USDT… on both markets
    rate: int = 100  # steps (taker orders) per second per symbol; see docs
    seed: int = 1
    start_ms: int | None = None  # simulated clock origin; None: the wall clock at start
    host: str = attrs.field(default="127.0.0.1", validator=_loopback)
    spot_port: int = 0
    futures_port: int = 0
    tick_s: float = 0.005  # how often the market advances and frames go out
    history: int = 1_000_000  # trades kept per symbol (ground truth and REST backfill)
    checkpoints: int = 600  # book checkpoints kept per symbol
    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    max_connection_s: float = 86400.0
    max_incoming_per_s: int = 5
    max_connect_attempts: int = 300  # WebSocket handshakes per connect_window_s, per port
    connect_window_s: float = 300.0
    max_streams: int = 1024
    send_queue: int = 512  # batches queued per connection before it is cut off as slow
    shutdown_grace_s: float = 1.0  # serverShutdown notice → close, when not given
    rest: RestLimits = attrs.Factory(RestLimits)
    replay: ReplayConfig | None = None
    faults: list[Fault] = attrs.Factory(list)

    def __attrs_post_init__(self) -> None:
        if self.rate < 1:
            raise ValueError("rate must be at least 1")
        if self.tick_s <= 0:
            raise ValueError("tick_s must be positive")

    def futures_list(self) -> list[str]:
        return self.symbols if self.futures_symbols is None else self.futures_symbols


def load_config(path: Path | str) -> SimulatorConfig:
    return load_toml(path, SimulatorConfig)


def load_faults(path: Path | str) -> list[Fault]:
    """A fault schedule file; every entry needs ``at_s``."""
    faults = load_toml(path, FaultSchedule).fault
    for i, fault in enumerate(faults):
        if fault.at_s is None:
            raise ConfigError(f"{path}: fault[{i}].at_s: required in a schedule file")
    return faults


def fault_from_json(data: Any) -> Fault:
    """A control-endpoint request body into a :class:`Fault` (raises ConfigError)."""
    return structure(data, Fault, source="POST /_sim/fault")
