"""Frames per second the simulator sends to one raw reader on loopback, one core each.

    python bench/bench_simulator.py [--runs 3] [--seconds 3]

Three figures, each the median of ``--runs``:

- *model alone*: the sans-I/O market model generating those frames, per CPU-second;
- *live*: ``mdp simulate`` generating the market (one symbol, ``@trade``, ``@aggTrade``
  and ``@bookTicker`` on one combined-stream connection) as fast as it can — model,
  rendering and send path together;
- *replay*: ``mdp simulate --replay FILE --speed 0`` sending a capture of pre-rendered
  frames (written here by the same model) — the send path alone.

The simulator runs in a child process pinned to CPU 0, the reader here pinned to CPU 1.
The reader does the handshake with wsproto, then only walks the frame headers of what
it receives (no JSON parsing), so it is never the bottleneck.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request

ROOT = Path(__file__).resolve().parent.parent
STREAMS = "btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker"


def _pin(cpu: int) -> None:
    if os.environ.get("MDP_BENCH_NO_PIN"):
        return
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def _start_simulator(extra: list[str]) -> tuple[subprocess.Popen[str], int]:
    cmd = [sys.executable, "-m", "mdp", "simulate", "--symbols", "BTCUSDT", "--port", "0"]
    proc = subprocess.Popen(
        cmd + extra, stdout=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=lambda: _pin(0)
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # "spot ws ws://127.0.0.1:PORT/ws/<stream> ..."
    port = int(first.split()[2].rsplit(":", 1)[1].split("/")[0])
    return proc, port


def _connect(port: int) -> tuple[socket.socket, bytearray]:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host="127.0.0.1", target="/stream?streams=" + STREAMS)))
    head = bytearray()
    while b"\r\n\r\n" not in head:
        head += sock.recv(65536)
    end = head.index(b"\r\n\r\n") + 4
    ws.receive_data(bytes(head[:end]))
    assert any(isinstance(e, AcceptConnection) for e in ws.events())
    return sock, head[end:]


def _count(
    sock: socket.socket, rest: bytearray, *, seconds: float, stop_at: int = 0
) -> tuple[float, bytearray]:
    """Frames/s between the first and the last chunk read within ``seconds``, and the
    unparsed rest (a frame cut in two)."""
    buf, frames, first_t, last_t = rest, 0, 0.0, 0.0
    deadline = time.perf_counter() + seconds
    sock.settimeout(0.5)
    while time.perf_counter() < deadline and not (stop_at and frames >= stop_at):
        try:
            data = sock.recv(1 << 20)
        except TimeoutError:
            if frames:
                break
            continue
        if not data:
            break
        buf += data
        i, n = 0, len(buf)
        while n - i >= 2:
            length, header = buf[i + 1] & 0x7F, 2
            if length == 126:
                if n - i < 4:
                    break
                length, header = int.from_bytes(buf[i + 2 : i + 4], "big"), 4
            elif length == 127:
                if n - i < 10:
                    break
                length, header = int.from_bytes(buf[i + 2 : i + 10], "big"), 10
            if i + header + length > n:
                break
            i += header + length
            frames += 1
        del buf[:i]
        now = time.perf_counter()
        if not first_t:
            first_t, frames = now, 0  # start the clock at the first chunk
        last_t = now
    return (frames / (last_t - first_t) if last_t > first_t else 0.0), buf


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _live(seconds: float) -> tuple[float, float]:
    """(frames/s, frames per simulator CPU-second)."""
    proc, port = _start_simulator(["--rate", "1000000", "--seed", "1", "--futures-symbols", ""])
    try:
        sock, rest = _connect(port)
        with sock:
            _, rest = _count(sock, rest, seconds=0.5)  # warm-up
            cpu0, wall0 = _cpu_s(proc.pid), time.perf_counter()
            fps = _count(sock, rest, seconds=seconds)[0]
            cpu = _cpu_s(proc.pid) - cpu0
            return fps, fps * (time.perf_counter() - wall0) / cpu if cpu else 0.0
    finally:
        proc.terminate()
        proc.wait()


def _write_capture(path: Path, frames: int) -> int:
    from mdp.simulator import record_capture

    return record_capture(path, frames=frames, streams=STREAMS.split("/"))


def _replay(capture: Path, frames: int, seconds: float) -> tuple[float, float]:
    proc, port = _start_simulator(
        ["--replay", str(capture), "--speed", "0", "--futures-symbols", ""]
    )
    try:
        sock, rest = _connect(port)
        with sock:
            cpu0, wall0 = _cpu_s(proc.pid), time.perf_counter()
            fps = _count(sock, rest, seconds=seconds + 30, stop_at=frames)[0]
            cpu = _cpu_s(proc.pid) - cpu0
            return fps, fps * (time.perf_counter() - wall0) / cpu if cpu else 0.0
    finally:
        proc.terminate()
        proc.wait()


def _model() -> float:
    """Frames per CPU-second of the market model alone (no I/O), same three streams."""
    import gc

    from mdp.simulator._instruments import Market, instruments_for
    from mdp.simulator._market import SymbolMarket

    inst = instruments_for(Market.SPOT, ["BTCUSDT"])[0]
    market = SymbolMarket(
        inst, seed=1, rate=1_000_000, start_ms=1_770_000_000_000, history=1_000_000,
        checkpoints=600,
    )  # fmt: skip
    market.set_wanted(frozenset(STREAMS.split("/")))
    gc.collect()
    gc.freeze()
    frames, start = 0, time.process_time()
    while market.step < 60_000:
        batch: list[tuple[str, bytes]] = []
        market.advance(market.step + 2000, batch)  # one tick's worth, as the hub does
        frames += len(batch)
    return frames / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--frames", type=int, default=400_000, help="frames in the capture")
    args = parser.parse_args()
    _pin(1)
    model = [_model() for _ in range(args.runs)]
    live = [_live(args.seconds) for _ in range(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "capture.jsonl"
        n = _write_capture(capture, args.frames)
        replay = [_replay(capture, n, args.seconds) for _ in range(args.runs)]
    print(f"simulator → one raw reader, loopback, ~166-byte frames, median of {args.runs}:")
    rows = [
        ("model alone", [(m, m) for m in model], "frames per CPU-s"),
        ("live market", live, "frames/s"),
        ("replay (send)", replay, "frames/s"),
    ]
    for name, runs, unit in rows:
        rate = statistics.median(r[0] for r in runs)
        per_cpu = statistics.median(r[1] for r in runs)
        listed = ", ".join(f"{r[0]:,.0f}" for r in runs)
        print(f"  {name:<14}{rate:>9,.0f} {unit:<17} {per_cpu:>9,.0f}/simulator-CPU-s  ({listed})")


if __name__ == "__main__":
    main()
