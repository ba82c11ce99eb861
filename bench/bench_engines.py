"""Raw frames/s of the candidate WebSocket protocol engines, driven from Trio.

    python bench/bench_engines.py [--frames 400000] [--runs 5]

A sender subprocess (bench/_ws_sender.py, pinned to CPU 0) streams pre-framed
combined-stream trade frames (168 bytes each on the wire, header included); each candidate
client receives them on one core (CPU 1) and counts complete frames (no JSON parse):

- trio-websocket: ``get_message`` per frame (its reader task hands each message over);
- wsproto: ``receive_some(65536)`` → ``receive_data`` → ``events()``, no hand-off;
- websockets: its sans-I/O ``ClientProtocol`` the same way (``receive_data``,
  ``events_received``, ``data_to_send``) — the engine of ``mdp.exchanges._ws``;
- mdp.exchanges._ws.WsClient.receive_batch with ``fast_path=False``: the layer on
  websockets alone (every frame through the protocol's parser);
- mdp.exchanges._ws.WsClient.receive_batch: the layer as the collectors run it, plain
  data frames split out of the read buffer by its fast path, the rest to websockets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio
import trio_websocket
import wsproto
from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.uri import parse_uri
from wsproto.events import AcceptConnection, Message, Request

from mdp._exceptions import ExchangeConnectionError
from mdp.exchanges._ws import connect

HERE = Path(__file__).parent


def _pin() -> bool:
    """Pin sender and receiver to CPUs 0 and 1 (``MDP_BENCH_NO_PIN=1``: let the scheduler
    place them, better when another process already holds one of the CPUs)."""
    if os.environ.get("MDP_BENCH_NO_PIN"):
        return False
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


async def via_trio_websocket(url: str, total: int) -> int:
    n = 0
    async with trio_websocket.open_websocket_url(url) as ws:
        try:
            while n < total:
                await ws.get_message()
                n += 1
        except trio_websocket.ConnectionClosed:
            pass
    return n


async def via_wsproto(url: str, total: int) -> int:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host="127.0.0.1", target="/stream")))
    n = 0
    while n < total:
        data = await stream.receive_some(65536)
        if not data:
            break
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, Message) and event.message_finished:
                n += 1
            elif isinstance(event, AcceptConnection):
                pass
    await stream.aclose()
    return n


async def via_websockets(url: str, total: int) -> int:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    protocol = ClientProtocol(parse_uri(url), max_size=None)
    protocol.send_request(protocol.connect())
    for data in protocol.data_to_send():
        await stream.send_all(data)
    n = 0
    while n < total:
        data = await stream.receive_some(65536)
        if not data:
            break
        protocol.receive_data(data)
        n += sum(1 for e in protocol.events_received() if isinstance(e, Frame))
    await stream.aclose()
    return n


async def _via_mdp_ws(url: str, total: int, fast_path: bool) -> int:
    client = await connect(url, fast_path=fast_path)
    n = 0
    try:
        while n < total:
            n += len(await client.receive_batch())
    except ExchangeConnectionError:  # closed by the sender at the end
        pass
    await client.aclose()
    return n


async def via_mdp_ws(url: str, total: int) -> int:
    return await _via_mdp_ws(url, total, True)


async def via_mdp_ws_alone(url: str, total: int) -> int:
    return await _via_mdp_ws(url, total, False)


ENGINES: dict[str, Callable[[str, int], Awaitable[int]]] = {
    "trio-websocket": via_trio_websocket,
    "wsproto": via_wsproto,
    "websockets": via_websockets,
    "mdp WsClient, fast_path=False": via_mdp_ws_alone,
    "mdp WsClient (fast path)": via_mdp_ws,
}


def run_one(engine: str, url: str, total: int) -> tuple[float, float]:
    """Frames per wall second and per CPU-second of this process (connect included)."""
    fn = ENGINES[engine]
    start, cpu = time.perf_counter(), time.process_time()
    n = trio.run(fn, url, total)
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        cmd = [sys.executable, str(HERE / "_ws_sender.py"), str(port_file), str(args.frames)]
        pin = _pin()
        if pin:  # sender on CPU 0, the client under test here on CPU 1
            cmd = ["taskset", "-c", "0", *cmd]
            os.sched_setaffinity(0, {1})
        sender = subprocess.Popen(cmd)
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            url = f"ws://127.0.0.1:{port_file.read_text()}/stream"
            load = os.getloadavg()[0]
            walls: dict[str, list[float]] = {e: [] for e in ENGINES}
            cpus: dict[str, list[float]] = {e: [] for e in ENGINES}
            for _ in range(args.runs):  # interleaved, so noise hits every engine alike
                for engine in ENGINES:
                    wall, cpu = run_one(engine, url, args.frames)
                    walls[engine].append(wall)
                    cpus[engine].append(cpu)
        finally:
            sender.terminate()
            sender.wait()

    def cell(rates: list[float]) -> str:
        spread = f"{min(rates) / 1000:.0f}k–{max(rates) / 1000:.0f}k"
        return f"{statistics.median(rates) / 1000:.0f}k ({spread})"

    print(f"| engine (Trio, one core, {args.frames} frames, {args.runs} runs) | frames/s wall "
          "| frames per CPU-second |")  # fmt: skip
    print("|---|---:|---:|")
    for engine in ENGINES:
        print(f"| {engine} | {cell(walls[engine])} | {cell(cpus[engine])} |")
    print(f"\nload average before/after: {load:.2f}/{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
