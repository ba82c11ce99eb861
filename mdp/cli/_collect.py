"""``mdp collect binance|okx``: run one exchange's collector alone and print one line a
second.

    mdp collect binance --symbols BTCUSDT,ETHUSDT --simulator
    mdp collect okx --symbols BTC-USDT,BTC-USDT-SWAP --simulator

``--simulator`` starts the built-in exchange simulator in this process on loopback and
points the collector at it; without it the collector connects to Binance itself. The
records go to a counting sink (cleaning and Kafka plug in with the ``collector`` role).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections import Counter
from typing import Any

import trio

from mdp.exchanges.binance import totals
from mdp.exchanges.binance._tree import collector_spec
from mdp.exchanges.okx import totals as okx_totals
from mdp.exchanges.okx._tree import collector_spec as okx_collector_spec
from mdp.metrics import serve_metrics
from mdp.simulator import Simulator, SimulatorConfig
from mdp.simulator.okx import OkxSimulator, OkxSimulatorConfig
from mdp.supervision import Supervisor

_SHOWN = ("gaps", "backfilled", "resyncs", "reconnects", "rollovers", "malformed")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "collect",
        help="run one exchange's collector alone, with a live summary",
        description="Collect market data from an exchange (or the built-in simulator) and "
        "print msgs/s, gaps, backfilled trades and resyncs once a second.",
    )
    parser.add_argument("exchange", choices=["binance", "okx"])
    parser.add_argument(
        "--symbols",
        default="",
        help="comma-separated (BTCUSDT,ETHUSDT; okx: BTC-USDT,BTC-USDT-SWAP)",
    )
    parser.add_argument(
        "--markets", default="spot,perpetual", help="binance: spot, perpetual (USD-M) or both"
    )
    parser.add_argument("--simulator", action="store_true", help="collect from the simulator")
    parser.add_argument("--rate", type=int, default=200, help="simulator: steps/s per symbol")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    parser.add_argument("--metrics", default="", metavar="HOST:PORT", help="serve /metrics")
    parser.set_defaults(handler=run)


def summary(
    elapsed: float, previous: dict[str, int], unhealthy: int, totals: Counter[str] = totals
) -> str:
    rate = (totals["messages"] - previous.get("messages", 0)) / max(elapsed, 1e-9)
    parts = [f"{rate:9.0f} msgs/s", f"{totals['records']:>10} records"]
    parts += [f"{name} {totals[name]}" for name in _SHOWN]
    parts.append(f"unhealthy streams {unhealthy}")
    return "  ".join(parts)


async def _main(args: argparse.Namespace) -> int:
    if args.exchange == "okx":
        return await _main_okx(args)
    symbols = [
        s.strip().upper() for s in (args.symbols or "BTCUSDT,ETHUSDT").split(",") if s.strip()
    ]
    markets = tuple(m.strip() for m in args.markets.split(",") if m.strip())
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            urls: dict[str, tuple[str, str]] | None = None
            if args.simulator:
                sim = Simulator(SimulatorConfig(symbols=symbols, rate=args.rate))
                a = await nursery.start(sim.serve)
                urls = {
                    "spot": (a.spot_ws, a.spot_rest),
                    "perpetual": (a.futures_ws, a.futures_rest),
                }
                print(f"simulator on {a.spot_ws} (spot), {a.futures_ws} (USD-M)", flush=True)
            root = Supervisor(collector_spec(symbols, markets=markets, urls=urls))
            server = None
            if args.metrics:  # the tree's figures and the collector's (register_collector)
                server = serve_metrics(root, "collector-binance", args.metrics)
                print(f"metrics on {server.url}", flush=True)
            try:
                await nursery.start(root.run)
                nursery.start_soon(_print_summaries, root, totals)
                with trio.move_on_after(args.seconds or float("inf")):
                    async for _ in signals:
                        break
                nursery.cancel_scope.cancel()
            finally:
                if server is not None:
                    with trio.move_on_after(5, shield=True):
                        await server.aclose()
    return 0


async def _main_okx(args: argparse.Namespace) -> int:
    names = args.symbols or "BTC-USDT,BTC-USDT-SWAP"
    symbols = [s.strip().upper() for s in names.split(",") if s.strip()]
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            urls: tuple[str, str] | None = None
            if args.simulator:
                sim = OkxSimulator(OkxSimulatorConfig(symbols=symbols, rate=args.rate))
                a = await nursery.start(sim.serve)
                urls = (a.ws, a.rest)
                print(f"okx simulator on {a.ws}", flush=True)
            root = Supervisor(okx_collector_spec(symbols, urls=urls))
            server = None
            if args.metrics:
                server = serve_metrics(root, "collector-okx", args.metrics)
                print(f"metrics on {server.url}", flush=True)
            try:
                await nursery.start(root.run)
                nursery.start_soon(_print_summaries, root, okx_totals)
                with trio.move_on_after(args.seconds or float("inf")):
                    async for _ in signals:
                        break
                nursery.cancel_scope.cancel()
            finally:
                if server is not None:
                    with trio.move_on_after(5, shield=True):
                        await server.aclose()
    return 0


async def _print_summaries(root: Supervisor, totals: Counter[str]) -> None:
    previous = dict(totals)
    last = time.monotonic()
    while True:
        await trio.sleep(1.0)
        now = time.monotonic()
        unhealthy = 0
        for node in root.nodes:
            group = node.memo.get("group")
            if group is not None:
                unhealthy += sum(1 for s in group.health.values() if s.value != "live")
        print(summary(now - last, previous, unhealthy, totals), flush=True)
        previous, last = dict(totals), now


def run(args: argparse.Namespace) -> int:
    try:
        return trio.run(_main, args)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 0
