"""``mdp simulate``: run the Binance exchange simulator on loopback until Ctrl-C/SIGTERM
(``--exchange okx``: the OKX one, on one port; see docs/okx.md).

Options override the ``--config`` file (a TOML :class:`SimulatorConfig`); ``--port`` is
the spot port and the futures port is the next one (both ephemeral with ``--port 0``).
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
from pathlib import Path
from typing import Any

import attrs
import trio

from mdp.simulator import (
    ReplayConfig,
    Simulator,
    SimulatorAddress,
    SimulatorConfig,
    load_config,
    load_faults,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("simulate", help="run the exchange simulator on loopback")
    parser.add_argument(
        "--exchange", choices=["binance", "okx"], default="binance", help="whose protocol"
    )
    parser.add_argument("--config", type=Path, help="a simulator TOML file")
    parser.add_argument("--symbols", help="comma-separated: BTCUSDT,ETHUSDT (okx: BTC-USDT,…)")
    parser.add_argument("--futures-symbols", help="futures symbols if not the same ('' for none)")
    parser.add_argument("--extra-symbols", type=int, help="generated symbols to add")
    parser.add_argument("--rate", type=int, help="taker orders per second per symbol")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--start-ms", type=int, help="simulated clock origin (ms)")
    parser.add_argument("--host", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="spot port; futures uses port+1 (0: any)")
    parser.add_argument("--futures-port", type=int)
    parser.add_argument("--replay", type=Path, help="replay this capture (JSON lines)")
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed factor")
    parser.add_argument("--loop", action="store_true", help="replay in a loop")
    parser.add_argument("--faults", type=Path, help="a fault schedule (TOML [[fault]])")
    parser.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    config = load_config(args.config) if args.config else SimulatorConfig()
    changes: dict[str, Any] = {}
    if args.symbols:
        changes["symbols"] = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    if args.futures_symbols is not None:
        names = args.futures_symbols.split(",")
        changes["futures_symbols"] = [s.strip().upper() for s in names if s.strip()]
    for name in ("extra_symbols", "rate", "seed", "start_ms", "host"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.port is not None:
        changes["spot_port"] = args.port
        changes["futures_port"] = args.port + 1 if args.port else 0
    if args.futures_port is not None:
        changes["futures_port"] = args.futures_port
    if args.replay:
        changes["replay"] = ReplayConfig(args.replay, speed=args.speed, loop=args.loop)
    if args.faults:
        changes["faults"] = load_faults(args.faults)
    return attrs.evolve(config, **changes)


def describe(address: SimulatorAddress) -> list[str]:
    return [
        f"spot     ws   {address.spot_ws}/ws/<stream>  {address.spot_ws}/stream?streams=…",
        f"spot     rest {address.spot_rest}/api/v3/…",
        f"futures  ws   {address.futures_ws}/public/stream?streams=…  "
        f"{address.futures_ws}/market/stream?streams=…",
        f"futures  rest {address.futures_rest}/fapi/v1/…",
        f"control  {address.spot_rest}/_sim/stats  (also on the futures port)",
    ]


async def _main(config: SimulatorConfig) -> None:
    simulator = Simulator(config)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(simulator.serve)
            for line in describe(address):
                print(line, flush=True)
            async for _ in signals:
                nursery.cancel_scope.cancel()
                break
    print("simulator stopped", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.exchange == "okx":  # one port; --config and the Binance-only options do not apply
        from mdp.simulator.okx._main import run_okx

        return run_okx(args)
    config = config_from_args(args)
    # The send path allocates many short-lived dicts and tuples and creates no cycles
    # worth collecting quickly; frequent collections (each walking every live object)
    # cost more than the frames. Collect rarely, and never scan the start-up objects.
    gc.set_threshold(50_000, 20, 100)
    gc.freeze()
    trio.run(_main, config)
    return 0
