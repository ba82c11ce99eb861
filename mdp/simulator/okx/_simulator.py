"""The running OKX simulator: ``await nursery.start(sim.serve)`` listens on one loopback
port (REST, ``/ws/v5/public``, ``/_sim/``) and reports an :class:`OkxAddress`; its
methods give tests the ground truth and inject faults."""

from __future__ import annotations

import functools
from typing import Any

import attrs
import trio

from mdp.simulator._config import Fault
from mdp.simulator._truth import TruthBook
from mdp.simulator.okx import _truth
from mdp.simulator.okx._config import OkxSimulatorConfig
from mdp.simulator.okx._control import stats
from mdp.simulator.okx._hub import OkxHub
from mdp.simulator.okx._inject import inject
from mdp.simulator.okx._replay import run_okx_replay
from mdp.simulator.okx._server import WS_PATH, handle_connection

__all__ = ["OkxAddress", "OkxSimulator"]


@attrs.frozen
class OkxAddress:
    host: str
    port: int

    @property
    def rest(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def ws(self) -> str:
        """The public endpoint's URL (``wss://ws.okx.com:8443/ws/v5/public`` on OKX)."""
        return self.rest.replace("http://", "ws://", 1) + WS_PATH


class OkxSimulator:
    """OKX v5 public market data on loopback; see docs/okx.md."""

    def __init__(self, config: OkxSimulatorConfig | None = None) -> None:
        self.config = config if config is not None else OkxSimulatorConfig()
        self.hub = OkxHub(self.config)
        self.address: OkxAddress | None = None

    async def serve(
        self, *, task_status: trio.TaskStatus[OkxAddress] = trio.TASK_STATUS_IGNORED
    ) -> None:
        cfg = self.config
        host = "127.0.0.1" if cfg.host == "localhost" else cfg.host
        async with trio.open_nursery() as nursery:
            listeners = await trio.open_tcp_listeners(cfg.port, host=host)
            handler = functools.partial(handle_connection, self.hub)
            await nursery.start(trio.serve_listeners, handler, listeners)
            if cfg.replay is not None:
                nursery.start_soon(run_okx_replay, self.hub, cfg.replay)
            else:
                nursery.start_soon(self.hub.run_market)
            nursery.start_soon(self._schedule, cfg.faults)
            self.address = OkxAddress(host, listeners[0].socket.getsockname()[1])
            task_status.started(self.address)

    async def _schedule(self, faults: list[Fault]) -> None:
        start = trio.current_time()
        for fault in sorted(faults, key=lambda f: f.at_s or 0.0):
            await trio.sleep_until(start + (fault.at_s or 0.0))
            inject(self.hub, fault)

    def inject(self, fault: Fault) -> int:
        return inject(self.hub, fault)

    def pause(self) -> None:
        self.hub.paused = True

    def resume(self) -> None:
        self.hub.paused = False

    def reset_sequences(self) -> None:
        """Every book's ``seqId`` restarts lower (as in maintenance)."""
        self.hub.reset_sequences()

    def trades(self, inst_id: str, from_id: int | None = None) -> list[_truth.OkxTruthTrade]:
        return _truth.trades(self.hub, inst_id, from_id)

    def book(self, inst_id: str, seq_id: int) -> TruthBook | None:
        return _truth.book(self.hub, inst_id, seq_id)

    def checkpoint_ids(self, inst_id: str) -> list[int]:
        return _truth.checkpoint_ids(self.hub, inst_id)

    def liquidations(self, inst_id: str) -> list[dict[str, Any]]:
        return _truth.liquidations(self.hub, inst_id)

    def funding(self, inst_id: str) -> list[dict[str, Any]]:
        return _truth.funding(self.hub, inst_id)

    def stats(self) -> dict[str, Any]:
        return stats(self.hub)
