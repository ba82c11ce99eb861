"""``mdp simulate --exchange okx``: the OKX simulator on loopback until Ctrl-C/SIGTERM
(the option parsing stays in :mod:`mdp.cli._simulate`; this is what it runs)."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

import attrs
import trio

from mdp.simulator import ReplayConfig, load_faults
from mdp.simulator.okx._config import OkxSimulatorConfig
from mdp.simulator.okx._simulator import OkxAddress, OkxSimulator

__all__ = ["config_from_args", "describe", "run_okx"]


def config_from_args(args: argparse.Namespace) -> OkxSimulatorConfig:
    changes: dict[str, Any] = {}
    if args.symbols:
        changes["symbols"] = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    for name in ("rate", "seed", "start_ms", "host"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.port is not None:
        changes["port"] = args.port
    if args.replay:
        changes["replay"] = ReplayConfig(args.replay, speed=args.speed, loop=args.loop)
    if args.faults:
        changes["faults"] = load_faults(args.faults)
    return attrs.evolve(OkxSimulatorConfig(), **changes)


def describe(address: OkxAddress) -> list[str]:
    return [
        f"okx      ws   {address.ws}  (op subscribe; text ping/pong)",
        f"okx      rest {address.rest}/api/v5/public/instruments, /api/v5/market/books, "
        "/api/v5/market/history-trades",
        f"control  {address.rest}/_sim/stats",
    ]


async def _main(config: OkxSimulatorConfig) -> None:
    simulator = OkxSimulator(config)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(simulator.serve)
            for line in describe(address):
                print(line, flush=True)
            async for _ in signals:
                nursery.cancel_scope.cancel()
                break
    print("simulator stopped", file=sys.stderr, flush=True)


def run_okx(args: argparse.Namespace) -> int:
    trio.run(_main, config_from_args(args))
    return 0
