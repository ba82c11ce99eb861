"""Frames/s one OKX collector sustains on one core against the OKX simulator in another
process, parsed to model batches with continuity checks on (as bench_collector.py does
for Binance).

    python bench/bench_okx.py [--frames 300000] [--runs 5]
    python bench/bench_okx.py --costs      # CPU per frame of the hot loop, no sockets

The simulator is ``mdp simulate --exchange okx --replay CAPTURE --speed 0`` in a child
process (pinned to CPU 0): a capture of ``trades`` pushes for BTC-USDT and ETH-USDT
recorded from the market model (gap-free ``tradeId``/``count``), replayed as fast as it
can send. The collector runs here (pinned to CPU 1): the real ``StreamGroup`` of
``mdp.exchanges.okx`` — WebSocket layer, msgspec parse of push and rows, dispatch,
``tradeId``/``count`` continuity, ``Trade`` records — sending each read's records into a
supervisor ``Channel`` drained by a second task. *Wall* is frames over wall time from the
first frame to the last; *per CPU-second* is frames over this process's CPU time in the
same span, the capacity of one core whatever share of it a shared machine left.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

SYMBOLS = ["BTC-USDT", "ETH-USDT"]


def _pin() -> bool:
    if os.environ.get("MDP_BENCH_NO_PIN"):
        return False
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def write_capture(path: Path, frames: int) -> float:
    """Record the capture; returns the mean payload size of its frames."""
    from mdp.simulator.okx import record_okx_capture

    written = record_okx_capture(path, frames=frames, keys=[f"trades:{s}" for s in SYMBOLS])
    return (path.stat().st_size / written) - len(
        b'{"ts":1770000000000,"stream":"trades:BTC-USDT","frame":}\n'
    )


def start_simulator(capture: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = [
        str(Path(sys.executable).parent / "mdp"), "simulate", "--exchange", "okx",
        "--symbols", ",".join(SYMBOLS), "--replay", str(capture), "--speed", "0",
        "--port", str(port),
    ]  # fmt: skip
    if _pin():
        cmd = ["taskset", "-c", "0", *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


async def collect(port: int, frames: int) -> tuple[int, float, float, int]:
    from mdp.exchanges.okx import GroupState, OkxStreamsArgs, StreamGroup, fetch_instruments
    from mdp.exchanges.okx import _metrics as metrics
    from mdp.exchanges.okx._component import rest_client
    from mdp.supervision import Channel

    args = OkxStreamsArgs(
        inst_type="SPOT",
        symbols=SYMBOLS,
        channels=["trades"],
        ws_url=f"ws://127.0.0.1:{port}/ws/v5/public",
        rest_url=f"http://127.0.0.1:{port}",
    )
    channel = Channel("records", 65536)
    done = trio.Event()
    marks: dict[str, Any] = {}
    start_msgs = metrics.totals["messages"]
    async with rest_client(args) as rest, trio.open_nursery() as nursery:
        instruments, ct_vals = await fetch_instruments(rest, "SPOT", SYMBOLS, None)
        state = GroupState(args, instruments, ct_vals)
        records = [0]

        async def send(batch: list[Any]) -> None:
            if "t0" not in marks:
                marks["t0"], marks["cpu0"] = time.perf_counter(), time.process_time()
            await channel.send_batch(batch)

        async def drain() -> None:
            while True:
                records[0] += len(await channel.receive_batch(4096))
                if metrics.totals["messages"] - start_msgs >= frames:
                    marks["t1"], marks["cpu1"] = time.perf_counter(), time.process_time()
                    done.set()
                    return

        group = StreamGroup(args, state, rest, send, lambda raw, exc: None)
        nursery.start_soon(drain)
        nursery.start_soon(group.run)
        with trio.fail_after(120):
            await done.wait()
        nursery.cancel_scope.cancel()
    gaps = sum(t.gaps for t in state.trackers.values())
    n = metrics.totals["messages"] - start_msgs
    assert records[0] >= frames * 0.99, "records missing"
    return n, marks["t1"] - marks["t0"], marks["cpu1"] - marks["cpu0"], gaps


def run_once(capture: Path, frames: int, port: int) -> tuple[float, float]:
    sim = start_simulator(capture, port)
    try:
        assert sim.stdout is not None
        if not sim.stdout.readline():
            raise RuntimeError("mdp simulate --exchange okx did not start")
        n, wall, cpu, gaps = trio.run(collect, port, frames)
    finally:
        sim.terminate()
        sim.wait()
    if gaps:
        print(f"  (run had {gaps} trade gaps)", file=sys.stderr)
    return n / wall, n / cpu


def cost_figures() -> None:
    """Per-frame CPU of ``GroupState.process`` (envelope, dispatch, rows, continuity,
    records) on one read's worth of pushes, and of the msgspec decodes alone."""
    import orjson

    from mdp.exchanges.okx import GroupState, OkxStreamsArgs, instruments_from_okx
    from mdp.exchanges.okx._dispatch import ConnectionView
    from mdp.exchanges.okx._parse import push_decoder, trade_rows
    from mdp.simulator.okx import record_okx_capture

    sys.path.insert(0, str(Path(__file__).parent))
    from _timing import per_call_ns

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.jsonl"
        record_okx_capture(path, frames=20_000, keys=[f"trades:{s}" for s in SYMBOLS])
        payloads = [
            orjson.dumps(orjson.loads(line)["frame"]) for line in path.read_bytes().splitlines()
        ]
    rows = [
        {"instType": "SPOT", "instId": s, "baseCcy": s.split("-")[0], "quoteCcy": "USDT",
         "tickSz": "0.1", "lotSz": "0.00000001"}
        for s in SYMBOLS
    ]  # fmt: skip
    known = instruments_from_okx(rows)
    args = OkxStreamsArgs(symbols=SYMBOLS, channels=["trades"])
    batch = 100
    chunks = [payloads[i : i + batch] for i in range(0, len(payloads) - batch, batch)]

    def fresh() -> GroupState:
        return GroupState(args, {k: v[0] for k, v in known.items()}, {})

    view = ConnectionView(set())

    def hot_loop(chunks: list[list[bytes]]) -> float:
        state = fresh()
        index = [0]

        def process() -> None:
            i = index[0]
            if i == len(chunks):
                state.__dict__.update(fresh().__dict__)  # from the start: no duplicates
                i = 0
            state.process(chunks[i], 0, 0.0, [], view)
            index[0] = i + 1

        return per_call_ns(process, items=batch)

    # The model's sizes hardly repeat (a Decimal is parsed for nearly every frame); the
    # Binance benchmark's capture cycles 9 sizes. Both, to compare like with like.
    cycled = [
        re.sub(rb'"sz":"[^"]*"', b'"sz":"0.0%d230000"' % (i % 9 + 1), p)
        for i, p in enumerate(payloads)
    ]
    cycled_chunks = [cycled[i : i + batch] for i in range(0, len(cycled) - batch, batch)]

    one = payloads[0]
    data = bytes(push_decoder.decode(one).data)
    print("| step (per frame) | ns |")
    print("|---|---:|")
    print(
        f"| push envelope decode (msgspec) | {per_call_ns(lambda: push_decoder.decode(one)):.0f} |"
    )
    print(f"| trade rows decode (msgspec) | {per_call_ns(lambda: trade_rows.decode(data)):.0f} |")
    print(f"| GroupState.process, model sizes (hardly repeat) | {hot_loop(chunks):.0f} |")
    cycled_ns = hot_loop(cycled_chunks)
    print(f"| GroupState.process, 9 sizes cycled (as bench_collector) | {cycled_ns:.0f} |")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=9410)
    parser.add_argument("--costs", action="store_true", help="only the per-frame CPU costs")
    args = parser.parse_args()
    if args.costs:
        cost_figures()
        return
    if _pin():
        os.sched_setaffinity(0, {1})
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "okx-trades.jsonl"
        size = write_capture(capture, args.frames + 20_000)
        print(f"capture: {args.frames + 20_000}+ trades pushes, ~{size:.0f} bytes each")
        walls, cpus = [], []
        for i in range(args.runs):
            wall, cpu = run_once(capture, args.frames, args.port + i)
            walls.append(wall)
            cpus.append(cpu)
            print(f"run {i + 1}: {wall / 1000:.0f}k frames/s wall, {cpu / 1000:.0f}k per CPU-s")
    print(f"\n| OKX collector, one core, {args.frames} frames, {args.runs} runs | median | range |")
    print("|---|---:|---:|")
    for name, rates in (("frames/s (wall)", walls), ("frames per CPU-second", cpus)):
        spread = f"{min(rates) / 1000:.0f}k–{max(rates) / 1000:.0f}k"
        print(f"| {name} | {statistics.median(rates) / 1000:.0f}k | {spread} |")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
