"""``simulator.serve``: the simulator as a worker of a role, for role ``all`` (``mdp up``).

It listens on fixed loopback ports so that the collector groups of the same role file can
name them (``okx_port`` set: the OKX simulator too, on that port). A restart generates a
new market from the same seed.
"""

from __future__ import annotations

import attrs
import trio

from mdp.simulator._config import SimulatorConfig
from mdp.simulator._simulator import Simulator
from mdp.simulator.okx import OkxSimulator, OkxSimulatorConfig
from mdp.supervision import Context, component

__all__ = ["SimulatorArgs"]


@attrs.frozen(kw_only=True)
class SimulatorArgs:
    symbols: list[str] = attrs.Factory(lambda: ["BTCUSDT", "ETHUSDT"])
    rate: int = 100  # taker orders per second per symbol
    seed: int = 1
    spot_port: int = 19100
    futures_port: int = 19101
    okx_port: int | None = None  # e.g. 19102: also serve OKX there (docs/okx.md)
    okx_symbols: list[str] = attrs.Factory(lambda: ["BTC-USDT", "BTC-USDT-SWAP"])


@component("simulator.serve", args=SimulatorArgs)
async def serve(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: SimulatorArgs = ctx.args
    config = SimulatorConfig(
        symbols=list(args.symbols),
        rate=args.rate,
        seed=args.seed,
        spot_port=args.spot_port,
        futures_port=args.futures_port,
    )
    async with trio.open_nursery() as nursery:
        address = await nursery.start(Simulator(config).serve)
        ctx.memo["address"] = address
        if args.okx_port is not None:
            okx = OkxSimulatorConfig(
                symbols=list(args.okx_symbols), rate=args.rate, seed=args.seed, port=args.okx_port
            )
            ctx.memo["okx_address"] = await nursery.start(OkxSimulator(okx).serve)
        task_status.started()
