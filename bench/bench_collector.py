"""Frames/s one Binance collector sustains on one core against the simulator in another
process, parsed to model batches with continuity checks on.

    python bench/bench_collector.py [--frames 400000] [--runs 5] [--mixed]
    python bench/bench_collector.py --costs         # per-layer CPU time per frame, no sockets
    python bench/bench_collector.py --instructions  # the same layers in instructions (valgrind)
    python bench/bench_collector.py --parse         # JSON decode + record build, per frame

The simulator is ``mdp simulate --replay CAPTURE --speed 0`` in a child process (pinned
to CPU 0): a capture of ~185-byte combined-stream ``@trade`` frames for two symbols,
consecutive trade ids, written here, replayed as fast as it can send. The live market
model generates a few tens of thousands of frames/s, which would measure the simulator,
not the collector. The collector runs here (pinned to CPU 1): the real ``StreamGroup``
of ``mdp.exchanges.binance`` — WebSocket layer, msgspec parse, trade-id continuity,
``Trade`` records — sending lists of records into a supervisor ``Channel`` drained by a
second task. The group subscribes ``@trade`` only, so it decodes envelope and trade in
one pass; ``--mixed`` also subscribes ``@bookTicker`` (which the capture does not carry),
so the trade frames take the general path of a mixed group. ``--rcvbuf BYTES`` sets the
group's ``receive_buffer`` (the socket's ``SO_RCVBUF``). Per run:

- *wall*: frames parsed / wall time from the first frame to the last;
- *per CPU-second*: frames parsed / CPU time of this process over the same span — the
  capacity of one core even when the sender or a shared machine is the limit;
- *busy* and *waiting for a CPU*: the share of the span each process ran, and was ready
  to run but had no CPU (``/proc/<pid>/schedstat``): which of the two, if either, or the
  machine, was the limit on the wall clock.

``--instructions`` counts instructions per frame for each layer under valgrind
(cachegrind, no cache simulation): slow, but the same on a loaded machine as on an idle
one, where the timings of ``--costs`` are not.
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


class OnePass(msgspec.Struct):
    stream: str
    data: TradeMsg


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


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` so far, from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _waited_s(pid: int) -> float:
    """Seconds the main thread of ``pid`` was ready to run but had no CPU (schedstat)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


async def collect(
    port: int, frames: int, streams: list[str], sim_pid: int, rcvbuf: int
) -> tuple[int, float, float, int, float, tuple[float, float]]:
    from mdp.exchanges.binance import GroupState, StreamGroup, StreamGroupArgs
    from mdp.exchanges.binance import _metrics as metrics
    from mdp.exchanges.binance._component import rest_client
    from mdp.exchanges.binance._instruments import fetch_instruments
    from mdp.model import MarketType
    from mdp.supervision import Channel

    args = StreamGroupArgs(
        market=MarketType.SPOT,
        symbols=SYMBOLS,
        streams=streams,
        ws_url=f"ws://127.0.0.1:{port}",
        receive_buffer=rcvbuf,
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
                marks["sim0"] = _cpu_s(sim_pid)
                marks["wait0"] = (_waited_s(os.getpid()), _waited_s(sim_pid))
            await channel.send_batch(batch)

        async def drain() -> None:
            while True:
                records[0] += len(await channel.receive_batch(4096))
                if metrics.totals["messages"] - start_msgs >= frames:
                    marks["t1"], marks["cpu1"] = time.perf_counter(), time.process_time()
                    marks["sim1"] = _cpu_s(sim_pid)
                    marks["wait1"] = (_waited_s(os.getpid()), _waited_s(sim_pid))
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
    waited = (marks["wait1"][0] - marks["wait0"][0], marks["wait1"][1] - marks["wait0"][1])
    return n, wall, cpu, gaps, marks["sim1"] - marks["sim0"], waited


def run_once(
    capture: Path, frames: int, port: int, streams: list[str], rcvbuf: int = 0
) -> tuple[float, float, tuple[float, float], tuple[float, float]]:
    """Frames/s (wall), frames per CPU-second, and for the collector and the simulator
    the share of the span each was busy, and the share each waited for a CPU."""
    sim = start_simulator(capture, port)
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()  # the simulator prints where it listens once it is up
        if not line:
            raise RuntimeError("mdp simulate did not start")
        run = trio.run(collect, port, frames, streams, sim.pid, rcvbuf)
        n, wall, cpu, gaps, sim_cpu, waited = run
    finally:
        sim.terminate()
        sim.wait()
    if gaps:
        print(f"  (run had {gaps} trade gaps)", file=sys.stderr)
    return n / wall, n / cpu, (cpu / wall, sim_cpu / wall), (waited[0] / wall, waited[1] / wall)


def parse_figures() -> None:
    """Per-frame cost of decoding a combined ``@trade`` frame and building its Trade:
    25 interleaved rounds, median and best."""
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
    one_pass = msgspec.json.Decoder(OnePass)
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

    def via_one_pass() -> None:  # the same build, envelope and trade decoded at once
        for f in frames:
            x = one_pass.decode(f).data
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

    def one_pass_only() -> None:
        for f in frames:
            one_pass.decode(f)

    def orjson_only() -> None:
        for f in frames:
            loads(f)

    def msgspec_only() -> None:
        for f in frames:
            typed.decode(wrapper.decode(f).data)

    cases = {
        "orjson.loads": orjson_only,
        "msgspec wrapper(Raw) + typed struct": msgspec_only,
        "msgspec one pass (wrapper with typed data)": one_pass_only,
        "orjson + build Trade (twin class swap)": via_orjson,
        "msgspec + build Trade": via_msgspec,
        "msgspec one pass + build Trade": via_one_pass,
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(25):  # interleaved, so a slow patch of the machine hits every case alike
        for name, fn in cases.items():
            samples[name].append(per_call_ns(fn, items=len(frames), repeat=1, min_s=0.02))
    print("| per combined @trade frame | median ns | best ns |")
    print("|---|---:|---:|")
    for name, ns in samples.items():
        print(f"| {name} | {statistics.median(ns):.0f} | {min(ns):.0f} |")


def _opened_protocol() -> Any:
    """A websockets client protocol past its handshake, as ``mdp.exchanges._ws.connect``
    leaves it."""
    import base64
    import hashlib

    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    p = ClientProtocol(parse_uri("ws://127.0.0.1/stream"), max_size=16 * 1024 * 1024)
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


LAYERS = {
    "alone": "websockets protocol alone: 64 KiB reads → payloads",
    "fast": "fast path (`_ws.Receiver`): 64 KiB reads → payloads",
    "one_pass": "GroupState.process, @trade-only group: one-pass msgspec + continuity + Trade",
    "mixed": "GroupState.process, mixed group: envelope, then trade + continuity + Trade",
    "orjson": "(for scale: orjson.loads of the same frames)",
}
N_FRAMES = 4096


def layers() -> dict[str, Any]:
    """One pass of each layer over the same 4096 frames (168 bytes on the wire)."""
    from mdp.exchanges._ws import Receiver
    from mdp.exchanges.binance import GroupState, StreamGroupArgs
    from mdp.model import Instrument, MarketType

    sys.path.insert(0, str(HERE))
    from _ws_sender import chunk

    data = chunk(0, N_FRAMES)
    reads = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    alone, fast = Receiver(_opened_protocol(), fast=False), Receiver(_opened_protocol())
    feeder = Receiver(_opened_protocol())
    batches = [feeder.receive_data(r) for r in reads]
    assert sum(map(len, batches)) == N_FRAMES
    inst = Instrument(exchange="binance", market=MarketType.SPOT, native_symbol="BTCUSDT",
                      symbol="BTC/USDT")  # fmt: skip

    def process(streams: list[str]) -> Any:
        args = StreamGroupArgs(symbols=["BTCUSDT"], streams=streams)
        state = GroupState(args, {"BTCUSDT": inst})
        tracker = state.trackers["btcusdt@trade"]

        def run() -> None:
            tracker.next_id = None
            for b in batches:
                out: list[Any] = []
                state.process(b, 0, 0.0, out)

        return run

    flat = [f for b in batches for f in b]
    loads = orjson.loads

    def receive(receiver: Any) -> Any:
        def run() -> None:
            for r in reads:
                receiver.receive_data(r)

        return run

    def decode() -> None:
        for f in flat:
            loads(f)

    return {
        "alone": receive(alone),
        "fast": receive(fast),
        "one_pass": process(["trade"]),
        "mixed": process(["trade", "bookTicker"]),
        "orjson": decode,
    }


def cost_figures() -> None:
    """Per-frame CPU time of each layer, in process and without sockets. Median and best
    of 15 interleaved passes over 4096 frames (the best is what a quiet core gives; the
    median what this machine gave)."""
    fns = layers()
    samples: dict[str, list[float]] = {key: [] for key in LAYERS}
    for fn in fns.values():
        fn()  # warm the caches (decimals, the decoders)
    for _ in range(15):  # interleaved, so a slow patch of the machine hits every layer alike
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[key].append((time.perf_counter() - start) / N_FRAMES * 1e6)
    best = {key: min(values) for key, values in samples.items()}
    print("| per frame, in process | median µs | best µs |")
    print("|---|---:|---:|")
    for key, name in LAYERS.items():
        print(f"| {name} | {statistics.median(samples[key]):.2f} | {best[key]:.2f} |")
    for ws, group in (("fast", "one_pass"), ("fast", "mixed"), ("alone", "one_pass")):
        total = best[ws] + best[group]
        print(f"\n{ws} + {group}, best: {total:.2f} µs → {1e6 / total / 1000:.0f}k frames/CPU-s")


def instruction_figures() -> None:
    """Instructions per frame of each layer: valgrind runs ``--layer KEY`` with 0 and 5
    passes; the difference over 5 × 4096 frames."""
    import re
    import shutil

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("--instructions needs valgrind")
    counts: dict[str, float] = {}

    def refs(key: str, rounds: int) -> int:
        cmd = [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, __file__, "--layer", key, "--rounds", str(rounds)]  # fmt: skip
        err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
        match = re.search(r"I\s+refs:\s+([\d,]+)", err)
        assert match, err
        return int(match.group(1).replace(",", ""))

    print("| per frame, in process | instructions |")
    print("|---|---:|")
    for key, name in LAYERS.items():
        counts[key] = (refs(key, 5) - refs(key, 0)) / (5 * N_FRAMES)
        print(f"| {name} | {counts[key]:,.0f} |", flush=True)
    for ws, group in (("fast", "one_pass"), ("fast", "mixed"), ("alone", "one_pass")):
        print(f"\n{ws} + {group}: {counts[ws] + counts[group]:,.0f} instructions a frame")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=9310)
    parser.add_argument("--mixed", action="store_true", help="subscribe @bookTicker as well")
    parser.add_argument("--rcvbuf", type=int, default=0, help="the socket's SO_RCVBUF")
    parser.add_argument("--parse", action="store_true", help="only the parse figures")
    parser.add_argument("--costs", action="store_true", help="only the per-layer costs")
    parser.add_argument("--instructions", action="store_true", help="per-layer instructions")
    parser.add_argument("--layer", choices=list(LAYERS), help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.layer:  # one layer, for --instructions (under valgrind)
        fn = layers()[args.layer]
        fn()
        for _ in range(args.rounds):
            fn()
        return
    if args.parse:
        parse_figures()
        return
    if args.costs:
        cost_figures()
        return
    if args.instructions:
        instruction_figures()
        return
    if _pin():
        os.sched_setaffinity(0, {1})
    streams = ["trade", "bookTicker"] if args.mixed else ["trade"]
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "trades.jsonl"
        size = write_capture(capture, args.frames + 20_000)
        print(f"capture: {args.frames + 20_000} @trade frames, {size:.0f} bytes each on the wire")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        walls, cpus, shares = [], [], []
        for i in range(args.runs):
            port = args.port + 2 * i
            wall, cpu, busy, waited = run_once(capture, args.frames, port, streams, args.rcvbuf)
            walls.append(wall)
            cpus.append(cpu)
            shares.append((*busy, *waited))
            print(f"run {i + 1}: {wall / 1000:.0f}k frames/s wall, {cpu / 1000:.0f}k per CPU-s; "
                  f"busy: collector {busy[0]:.0%}, simulator {busy[1]:.0%}; waiting for a CPU: "
                  f"collector {waited[0]:.0%}, simulator {waited[1]:.0%}")  # fmt: skip
    title = f"collector ({'/'.join(streams)}), one core, {args.frames} frames, {args.runs} runs"
    if args.rcvbuf:
        title += f", SO_RCVBUF {args.rcvbuf}"
    print(f"\n| {title} | median | range |")
    print("|---|---:|---:|")
    for name, rates in (("frames/s (wall)", walls), ("frames per CPU-second", cpus)):
        spread = f"{min(rates) / 1000:.0f}k–{max(rates) / 1000:.0f}k"
        print(f"| {name} | {statistics.median(rates) / 1000:.0f}k | {spread} |")
    for i, name in enumerate(("collector busy", "simulator busy", "collector waiting for a CPU",
                              "simulator waiting for a CPU")):  # fmt: skip
        column = [row[i] for row in shares]
        spread = f"{min(column):.0%}–{max(column):.0%}"
        print(f"| {name} (share of the span) | {statistics.median(column):.0%} | {spread} |")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
