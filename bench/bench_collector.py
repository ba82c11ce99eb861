"""Frames/s one Binance collector sustains on one core against the simulator in another
process, parsed to model batches with continuity checks on.

    python bench/bench_collector.py [--frames 400000] [--runs 5]
    python bench/bench_collector.py --parse      # JSON decode + record build, per frame
    python bench/bench_collector.py --costs      # per-layer CPU cost per frame, no sockets

The simulator is ``mdp simulate --replay CAPTURE --speed 0`` in a child process (pinned
to CPU 0): a capture of ~185-byte combined-stream ``@trade`` frames for two symbols,
consecutive trade ids, written here, replayed as fast as it can send. The live market
model generates a few tens of thousands of frames/s, which would measure the simulator,
not the collector. The collector runs here (pinned to CPU 1): the real ``StreamGroup``
of ``mdp.exchanges.binance`` — WebSocket layer, orjson parse, trade-id continuity,
``Trade`` records — sending lists of records into a supervisor ``Channel`` drained by a
second task. Two figures per run:

- *wall*: frames parsed / wall time from the first frame to the last;
- *per CPU-second*: frames parsed / CPU time of this process over the same span — the
  capacity of one core even when the sender or a shared machine is the limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import orjson
import trio

HERE = Path(__file__).parent


def _pin() -> bool:
    """Pin sender and receiver to CPUs 0 and 1 (``MDP_BENCH_NO_PIN=1``: let the scheduler
    place them, better when another process already holds one of the CPUs)."""
    if os.environ.get("MDP_BENCH_NO_PIN"):
        return False
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


SYMBOLS = ["BTCUSDT", "ETHUSDT"]


class Wrapper(msgspec.Struct):
    stream: str
    data: msgspec.Raw


class TradeMsg(msgspec.Struct):
    E: int
    t: int
    p: str
    q: str
    T: int
    m: bool


def write_capture(path: Path, frames: int) -> float:
    """Write the capture; returns the mean size of its frames on the wire (the combined
    wrapper and the WebSocket header included)."""
    start_ms = 1_770_000_000_000
    wire = 0
    with path.open("wb") as out:
        for i in range(frames):
            symbol = SYMBOLS[i & 1]
            n = i >> 1
            t = start_ms + n // 50
            data = {
                "e": "trade", "E": t + 1, "s": symbol, "t": 4_812_345_678 + n,
                "p": f"{68000 + n % 500}.{n % 100:02d}000000", "q": f"0.0{n % 9 + 1}230000",
                "T": t, "m": bool(n % 3 == 0), "M": True,
            }  # fmt: skip
            stream = f"{symbol.lower()}@trade"
            payload = orjson.dumps(data)
            wire += len(b'{"stream":"","data":}') + len(stream) + len(payload) + 2
            out.write(orjson.dumps({"ts": t, "stream": stream, "frame": data}) + b"\n")
    return wire / frames


def start_simulator(capture: Path, port_base: int) -> subprocess.Popen[bytes]:
    cmd = [
        str(Path(sys.executable).parent / "mdp"), "simulate", "--symbols", ",".join(SYMBOLS),
        "--replay", str(capture), "--speed", "0", "--port", str(port_base),
    ]  # fmt: skip
    if _pin():
        cmd = ["taskset", "-c", "0", *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


async def collect(port: int, frames: int) -> tuple[int, float, float, int]:
    from mdp.exchanges.binance import GroupState, StreamGroup, StreamGroupArgs
    from mdp.exchanges.binance import _metrics as metrics
    from mdp.exchanges.binance._component import rest_client
    from mdp.exchanges.binance._instruments import fetch_instruments
    from mdp.model import MarketType
    from mdp.supervision import Channel

    args = StreamGroupArgs(
        market=MarketType.SPOT,
        symbols=SYMBOLS,
        streams=["trade"],
        ws_url=f"ws://127.0.0.1:{port}",
        rest_url=f"http://127.0.0.1:{port}",
    )
    channel = Channel("records", 65536)
    done = trio.Event()
    marks: dict[str, Any] = {}
    start_msgs = metrics.totals["messages"]

    async with rest_client(args) as rest, trio.open_nursery() as nursery:
        instruments = await fetch_instruments(rest, args.market, SYMBOLS, None)
        state = GroupState(args, instruments)
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
    wall = marks["t1"] - marks["t0"]
    cpu = marks["cpu1"] - marks["cpu0"]
    assert records[0] >= frames * 0.99, "records missing"
    return n, wall, cpu, gaps


def run_once(capture: Path, frames: int, port: int) -> tuple[float, float]:
    sim = start_simulator(capture, port)
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()  # the simulator prints where it listens once it is up
        if not line:
            raise RuntimeError("mdp simulate did not start")
        n, wall, cpu, gaps = trio.run(collect, port, frames)
    finally:
        sim.terminate()
        sim.wait()
    if gaps:
        print(f"  (run had {gaps} trade gaps)", file=sys.stderr)
    return n / wall, n / cpu


def parse_figures() -> None:
    """Per-frame cost of decoding a combined ``@trade`` frame and building its Trade."""
    from mdp.model import Instrument, MarketType

    sys.path.insert(0, str(HERE))
    from _timing import per_call_ns

    inst = Instrument(exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT",
                      symbol="BTC/USDT")  # fmt: skip
    frames = [
        b'{"stream":"btcusdt@trade","data":' + orjson.dumps({
            "e": "trade", "E": 1770000000000 + i, "s": "BTCUSDT", "t": 100000 + i,
            "p": f"{68000 + i % 500}.{i % 100:02d}000000", "q": "0.01230000",
            "T": 1770000000000 + i, "m": bool(i & 1), "M": True,
        }) + b"}"
        for i in range(1000)
    ]  # fmt: skip

    wrapper = msgspec.json.Decoder(Wrapper)
    typed = msgspec.json.Decoder(TradeMsg)
    loads = orjson.loads

    from mdp.model import PERFECT, Side, Trade
    from mdp.model import _records as _r
    from mdp.model._numbers import wire_decimals

    new, fields, dec = object.__new__, _r._TradeFields, wire_decimals.__getitem__

    def via_orjson() -> None:  # the twin-class build of the hot path, from the dict
        for f in frames:
            x = loads(f)["data"]
            o: Any = new(fields)
            o.instrument = inst
            o.receive_time_ns = 0
            e = x.get("E")
            o.exchange_time_ns = None if e is None else e * 1_000_000
            o.match_time_ns = x["T"] * 1_000_000
            o.sequence = x["t"]
            o.quality = PERFECT
            o.extra = ()
            o.trade_id = x["t"]
            o.price = dec(x["p"])
            o.size = dec(x["q"])
            o.side = Side.SELL if x["m"] else Side.BUY
            o.__class__ = Trade

    def via_msgspec() -> None:  # the same twin-class build, from the struct's attributes
        for f in frames:
            x = typed.decode(wrapper.decode(f).data)
            o: Any = new(fields)
            o.instrument = inst
            o.receive_time_ns = 0
            o.exchange_time_ns = x.E * 1_000_000
            o.match_time_ns = x.T * 1_000_000
            o.sequence = x.t
            o.quality = PERFECT
            o.extra = ()
            o.trade_id = x.t
            o.price = dec(x.p)
            o.size = dec(x.q)
            o.side = Side.SELL if x.m else Side.BUY
            o.__class__ = Trade

    def orjson_only() -> None:
        for f in frames:
            loads(f)

    def msgspec_only() -> None:
        for f in frames:
            typed.decode(wrapper.decode(f).data)

    print("| per combined @trade frame | ns |")
    print("|---|---:|")
    for name, fn in (
        ("orjson.loads", orjson_only),
        ("msgspec wrapper(Raw) + typed struct", msgspec_only),
        ("orjson + build Trade (twin class swap)", via_orjson),
        ("msgspec + build Trade", via_msgspec),
    ):
        print(f"| {name} | {per_call_ns(fn, items=len(frames)):.0f} |")


def cost_figures() -> None:
    """Per-frame CPU cost of each layer, in process and without sockets: the websockets
    protocol parsing 64 KiB reads, then GroupState.process (msgspec, dispatch, continuity,
    Trade). Median and best of 15 passes over 4096 frames (the best is what a quiet core
    gives; the median what this machine gave)."""
    import base64
    import hashlib

    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    from mdp.exchanges.binance import GroupState, StreamGroupArgs
    from mdp.model import Instrument, MarketType

    sys.path.insert(0, str(HERE))
    from _ws_sender import chunk

    n = 4096
    data = chunk(0, n)
    reads = [data[i : i + 65536] for i in range(0, len(data), 65536)]

    def protocol() -> ClientProtocol:
        p = ClientProtocol(parse_uri("ws://127.0.0.1/stream"), max_size=None)
        request = p.connect()
        p.send_request(request)
        p.data_to_send()
        key = request.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        accept = base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()
        p.receive_data(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
        )
        p.events_received()
        return p

    engine = protocol()

    def parse_frames() -> None:
        for r in reads:
            engine.receive_data(r)
            engine.events_received()

    inst = Instrument(exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT",
                      symbol="BTC/USDT")  # fmt: skip
    state = GroupState(StreamGroupArgs(symbols=["BTCUSDT"], streams=["trade"]), {"BTCUSDT": inst})
    feeder = protocol()
    batches = []
    for r in reads:
        feeder.receive_data(r)
        batches.append([f.data for f in feeder.events_received()])
    tracker = state.trackers["btcusdt@trade"]
    flat = [f for b in batches for f in b]
    loads = orjson.loads

    def process() -> None:
        tracker.next_id = None
        out: list[Any] = []
        for b in batches:
            out.clear()
            state.process(b, 0, 0.0, out)

    def decode() -> None:
        for f in flat:
            loads(f)

    print("| per frame, in process | median µs | best µs |")
    print("|---|---:|---:|")
    total = 0.0
    for name, fn in (
        ("websockets protocol: 64 KiB reads → frames", parse_frames),
        ("GroupState.process: msgspec + dispatch + continuity + Trade", process),
        ("(for scale: orjson.loads of the same frames)", decode),
    ):
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) / n * 1e6)
        if not name.startswith("("):
            total += min(samples)
        print(f"| {name} | {statistics.median(samples):.2f} | {min(samples):.2f} |")
    print(f"\nsum of the best: {total:.2f} µs → {1e6 / total / 1000:.0f}k frames per CPU-second")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=9310)
    parser.add_argument("--parse", action="store_true", help="only the parse figures")
    parser.add_argument("--costs", action="store_true", help="only the per-layer costs")
    args = parser.parse_args()
    if args.parse:
        parse_figures()
        return
    if args.costs:
        cost_figures()
        return
    if _pin():
        os.sched_setaffinity(0, {1})
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "trades.jsonl"
        size = write_capture(capture, args.frames + 20_000)
        print(f"capture: {args.frames + 20_000} @trade frames, {size:.0f} bytes each on the wire")
        walls, cpus = [], []
        for i in range(args.runs):
            wall, cpu = run_once(capture, args.frames, args.port + 2 * i)
            walls.append(wall)
            cpus.append(cpu)
            print(f"run {i + 1}: {wall / 1000:.0f}k frames/s wall, {cpu / 1000:.0f}k per CPU-s")
    print(f"\n| collector, one core, {args.frames} frames, {args.runs} runs | median | range |")
    print("|---|---:|---:|")
    for name, rates in (("frames/s (wall)", walls), ("frames per CPU-second", cpus)):
        spread = f"{min(rates) / 1000:.0f}k–{max(rates) / 1000:.0f}k"
        print(f"| {name} | {statistics.median(rates) / 1000:.0f}k | {spread} |")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
