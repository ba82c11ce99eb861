"""The running simulator: ``await nursery.start(sim.serve)`` and it listens on loopback,
one port per market, and reports where; its methods give tests the ground truth and
inject faults (the same things the ``/_sim/`` control endpoint offers over HTTP)."""

from __future__ import annotations

import functools
from typing import Any

import attrs
import trio

from mdp.simulator import _truth
from mdp.simulator._config import Fault, SimulatorConfig
from mdp.simulator._control import stats
from mdp.simulator._hub import Hub
from mdp.simulator._inject import inject
from mdp.simulator._instruments import Market
from mdp.simulator._replay import run_replay
from mdp.simulator._server import handle_connection

__all__ = ["Simulator", "SimulatorAddress"]


@attrs.frozen
class SimulatorAddress:
    """Where a started simulator listens. Spot: ``/ws/…``, ``/stream?streams=…`` and
    ``/api/v3/…``; futures: ``/public/…``, ``/market/…``, unrouted ``/ws``, ``/stream``
    and ``/fapi/v1/…``; ``/_sim/…`` on both."""

    host: str
    spot_port: int
    futures_port: int

    @property
    def _netloc(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def spot_ws(self) -> str:
        return f"ws://{self._netloc}:{self.spot_port}"

    @property
    def spot_rest(self) -> str:
        return f"http://{self._netloc}:{self.spot_port}"

    @property
    def futures_ws(self) -> str:
        return f"ws://{self._netloc}:{self.futures_port}"

    @property
    def futures_rest(self) -> str:
        return f"http://{self._netloc}:{self.futures_port}"


class Simulator:
    """A Binance spot + USD-M futures exchange on loopback; see docs/simulator.md."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.hub = Hub(self.config)
        self.address: SimulatorAddress | None = None

    async def serve(
        self, *, task_status: trio.TaskStatus[SimulatorAddress] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen and run until cancelled; reports a :class:`SimulatorAddress`."""
        cfg = self.config
        host = "127.0.0.1" if cfg.host == "localhost" else cfg.host  # one address, one port
        async with trio.open_nursery() as nursery:
            ports: dict[Market, int] = {}
            for market, port in ((Market.SPOT, cfg.spot_port), (Market.FUTURES, cfg.futures_port)):
                listeners = await trio.open_tcp_listeners(port, host=host)
                handler = functools.partial(handle_connection, self.hub, market)
                await nursery.start(trio.serve_listeners, handler, listeners)
                ports[market] = listeners[0].socket.getsockname()[1]
            if cfg.replay is not None:
                nursery.start_soon(run_replay, self.hub, cfg.replay)
            else:
                nursery.start_soon(self.hub.run_market)
            nursery.start_soon(self._schedule, cfg.faults)
            self.address = SimulatorAddress(host, ports[Market.SPOT], ports[Market.FUTURES])
            task_status.started(self.address)

    async def _schedule(self, faults: list[Fault]) -> None:
        start = trio.current_time()
        for fault in sorted(faults, key=lambda f: f.at_s or 0.0):
            await trio.sleep_until(start + (fault.at_s or 0.0))
            inject(self.hub, fault)

    # -- faults -----------------------------------------------------------------------------

    def inject(self, fault: Fault) -> int:
        """Apply ``fault`` now to the open connections (or the REST limiter); returns how
        many it touched."""
        return inject(self.hub, fault)

    def pause(self) -> None:
        """Stop generating (connections stay up, silent); :meth:`resume` continues."""
        self.hub.paused = True

    def resume(self) -> None:
        self.hub.paused = False

    # -- ground truth -------------------------------------------------------------------------

    def trades(
        self,
        symbol: str,
        market: Market = Market.SPOT,
        from_id: int | None = None,
        limit: int | None = None,
    ) -> list[_truth.TruthTrade]:
        """Every raw trade still in the history (``history`` per symbol), oldest first."""
        return _truth.trades(self.hub, market, symbol, from_id, limit)

    def agg_trades(
        self,
        symbol: str,
        market: Market = Market.SPOT,
        from_id: int | None = None,
        limit: int | None = None,
    ) -> list[_truth.TruthAggTrade]:
        return _truth.agg_trades(self.hub, market, symbol, from_id, limit)

    def book(
        self, symbol: str, update_id: int, market: Market = Market.SPOT
    ) -> _truth.TruthBook | None:
        return _truth.book(self.hub, market, symbol, update_id)

    def checkpoint_ids(self, symbol: str, market: Market = Market.SPOT) -> list[int]:
        return _truth.checkpoint_ids(self.hub, market, symbol)

    def stats(self) -> dict[str, Any]:
        return stats(self.hub)
