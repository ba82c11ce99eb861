"""The collector role end to end — exchange frame → six cleaning stages → Kafka ack — as
`mdp run collector` runs it (the shipped supervisors/collector.toml), against the
simulator in another process and the real broker.

    python bench/bench_collector_role.py --throughput [--trades 300000] [--runs 3]
    python bench/bench_collector_role.py --latency [--rate 10000] [--seconds 20] [--runs 3]
        [--pin-broker]

The role runs in this process (pinned to CPU 1; the simulator to CPU 0 unless
``MDP_BENCH_NO_PIN=1``), so its figures can be read from the tree itself:

The role collects OKX too; an OKX simulator feeds it a trickle (``OKX_RATE``), so the
figures are Binance's.

* ``--throughput``: the simulator replays a capture of combined-stream ``@trade`` frames
  of BTCUSDT and ETHUSDT as fast as it can send; trades acknowledged by the broker per
  CPU-second of this process (every thread: the Trio loop and librdkafka's), from the
  first acknowledgement to the last, and per wall second.
* ``--latency``: the live simulator at about ``--rate`` frames per second over all the
  role's connections (spot trade/depth/bookTicker, USD-M aggTrade/markPrice/forceOrder and
  depth/bookTicker, two symbols), with a 1 ms market tick. *Per record*: the time from its
  exchange event time (the simulator's ``E``, whole milliseconds) and from its receive time
  to the broker's acknowledgement of the Kafka message that carries it. *Per batch*: for
  each batch the producer took, from its oldest record to the acknowledgement of the
  batch's last message — an upper bound for every record in it. The first 2 s are not
  counted (topic metadata, the group's first snapshot).

``--pin-broker`` moves the test broker (``scripts/services``' Kafka) to CPU 0 with the
simulator for the run, so that the role's CPU is its own: on two cores the three otherwise
take turns on both, and a record waits for a CPU as often as for the broker.

Needs a broker: ``scripts/services start kafka`` and ``$MDP_KAFKA_BOOTSTRAP``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import trio

REPO = Path(__file__).resolve().parents[1]
SYMBOLS = ["BTCUSDT", "ETHUSDT"]
OKX_SYMBOLS = ["BTC-USDT", "BTC-USDT-SWAP"]
OKX_RATE = 1


def _pin() -> bool:
    if os.environ.get("MDP_BENCH_NO_PIN"):
        return False
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def _broker_threads() -> list[int]:
    """The test broker's threads (``scripts/services``' pid file), for ``--pin-broker``."""
    pid_file = Path(os.environ.get("MDP_SERVICES_DIR", "/var/tmp/mdp-services")) / "kafka/kafka.pid"
    try:
        pid = int(pid_file.read_text())
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except (OSError, ValueError):
        sys.exit(f"--pin-broker: no running broker found from {pid_file}")


def _pin_broker(cpus: set[int]) -> None:
    for thread in _broker_threads():
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.sched_setaffinity(thread, cpus)


@contextlib.contextmanager
def pinned(pin_broker: bool) -> Iterator[None]:
    """This process on CPU 1 (unless ``MDP_BENCH_NO_PIN``), and with ``pin_broker`` the
    test broker on CPU 0 beside the simulator until the block ends."""
    if _pin():
        os.sched_setaffinity(0, {1})
    if pin_broker:
        if not _pin():
            sys.exit("--pin-broker pins this process too: unset MDP_BENCH_NO_PIN")
        _pin_broker({0})
    try:
        yield
    finally:
        if pin_broker:
            _pin_broker(set(range(os.cpu_count() or 1)))


def _free_pair() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def _simulator(
    args: list[str], home: Path, symbols: list[str] = SYMBOLS
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "mdp", "simulate", "--symbols", ",".join(symbols), *args]
    if _pin():
        cmd = ["taskset", "-c", "0", *cmd]
    return subprocess.Popen(cmd, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _okx_simulator(home: Path) -> subprocess.Popen[bytes]:
    """The role also collects OKX: its own simulator at a trickle (OKX_RATE taker orders a
    second per instrument), so that the figures are Binance's and the role dials no real
    exchange."""
    port = _free_pair()
    os.environ["MDP_EXCHANGES__OKX__WS_URL"] = f"ws://127.0.0.1:{port}/ws/v5/public"
    os.environ["MDP_EXCHANGES__OKX__REST_URL"] = f"http://127.0.0.1:{port}"
    args = ["--exchange", "okx", "--rate", str(OKX_RATE), "--port", str(port)]
    return _simulator(args, home, OKX_SYMBOLS)


def _point_at(port: int) -> None:
    for market, p in (("SPOT", port), ("USDM", port + 1)):
        os.environ[f"MDP_EXCHANGES__BINANCE__{market}__WS_URL"] = f"ws://127.0.0.1:{p}"
        os.environ[f"MDP_EXCHANGES__BINANCE__{market}__REST_URL"] = f"http://127.0.0.1:{p}"


def _reset_topics() -> None:
    """No ``binance`` topics from an earlier run: every acknowledgement is this run's."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": os.environ["MDP_KAFKA_BOOTSTRAP"]})
    names = [t for t in admin.list_topics(timeout=15).topics if ".binance." in t or ".okx." in t]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()
        time.sleep(2.0)


async def _run_role(home: Path, measure: object) -> object:
    from mdp.exchanges._endpoints import endpoints
    from mdp.supervision._role import load_role
    from mdp.supervision._runtime import RunningRole, run_role

    endpoints.cache_clear()
    role = load_role("collector", REPO / "supervisors")
    async with trio.open_nursery() as nursery:
        running: RunningRole = await nursery.start(
            lambda task_status: run_role(
                role,
                control_dir=home / "run",
                metrics="",
                handle_signals=False,
                freeze_gc=True,  # as `mdp run` does
                task_status=task_status,
            )
        )
        result = await measure(running.root)  # type: ignore[operator]
        nursery.cancel_scope.cancel()
    return result


def _producer_stats(root: object):  # type: ignore[no-untyped-def]
    node = next(n for n in root.walk() if n.name == "producer")  # type: ignore[attr-defined]
    return node.memo["stats"]


async def _throughput_run(home: Path, trades: int, capture: Path) -> tuple[float, float]:
    port = _free_pair()
    _point_at(port)
    sim = _simulator(["--replay", str(capture), "--speed", "0", "--port", str(port)], home)
    okx = _okx_simulator(home)
    try:

        async def measure(root: object) -> tuple[float, float]:
            stats = _producer_stats(root)
            while stats.records == 0:  # noqa: ASYNC110 (a figure, not an event)
                await trio.sleep(0.005)
            start_n, start_cpu, start_wall = stats.records, time.process_time(), time.monotonic()
            with trio.fail_after(300):
                while stats.records < trades:  # noqa: ASYNC110
                    await trio.sleep(0.01)
            n = stats.records - start_n
            return n / (time.process_time() - start_cpu), n / (time.monotonic() - start_wall)

        result = await _run_role(home, measure)
        assert isinstance(result, tuple)
        return result
    finally:
        for process in (sim, okx):
            process.kill()
            process.wait()


async def _latency_run(home: Path, rate: int, seconds: float) -> dict[str, float]:
    port = _free_pair()
    _point_at(port)
    config = home / "sim.toml"
    config.write_text("tick_s = 0.001\n")
    # About 2.3 frames per step on each of the 4 symbol-markets (measured).
    steps = max(1, round(rate / (4 * 2.3)))
    sim = _simulator(["--rate", str(steps), "--port", str(port), "--config", str(config)], home)
    okx = _okx_simulator(home)
    try:

        async def measure(root: object) -> dict[str, float]:
            stats = _producer_stats(root)
            await trio.sleep(2.0)
            stats.latencies.clear()
            stats.record_latencies = deque(maxlen=5_000_000)
            frames0 = await trio.to_thread.run_sync(_frames, port)  # not on the role's loop
            await trio.sleep(seconds)
            frames = (await trio.to_thread.run_sync(_frames, port) - frames0) / seconds
            per_batch = list(stats.latencies)
            per_record = list(stats.record_latencies)
            stats.record_latencies = None
            result: dict[str, float] = {
                "frames_per_s": frames,
                "batches": len(per_batch),
                "records": len(per_record),
            }
            for name, samples in (("", per_record), ("batch_", per_batch)):
                event = [e / 1e6 for e, _ in samples if e is not None]
                recv = [r / 1e6 for _, r in samples]
                for what, values in (("event", event), ("recv", recv)):
                    cuts = statistics.quantiles(values, n=100)
                    result[f"{name}{what}_p50"] = cuts[49]
                    result[f"{name}{what}_p99"] = cuts[98]
            return result

        result = await _run_role(home, measure)
        assert isinstance(result, dict)
        return result
    finally:
        for process in (sim, okx):
            process.kill()
            process.wait()


def _frames(port: int) -> int:
    import httpx

    stats = httpx.get(f"http://127.0.0.1:{port}/_sim/stats", timeout=10).json()
    return int(stats["counters"].get("frames_sent", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--throughput", action="store_true")
    mode.add_argument("--latency", action="store_true")
    parser.add_argument("--trades", type=int, default=300_000)
    parser.add_argument("--rate", type=int, default=10_000, help="frames/s (latency)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--profile", help="throughput: cProfile each run into PROFILE.<run> (slows it down)"
    )
    parser.add_argument(
        "--pin-broker",
        action="store_true",
        help="pin the test broker to CPU 0 beside the simulator while this runs, so that "
        "the role has CPU 1 to itself (restored to every CPU afterwards)",
    )
    args = parser.parse_args()
    if "MDP_KAFKA_BOOTSTRAP" not in os.environ:
        sys.exit("set MDP_KAFKA_BOOTSTRAP (scripts/services start kafka; . its env.sh)")
    with pinned(args.pin_broker):
        _run(args)


def _run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="mdp-bench-role-") as tmp:
        home = Path(tmp)
        (home / "etc").symlink_to(REPO / "etc")
        os.chdir(home)
        started = time.strftime("%H:%M UTC", time.gmtime())
        print(f"load average {os.getloadavg()[0]:.1f} at {started}")
        if args.throughput:
            from mdp.simulator import record_capture

            capture = home / "trades.jsonl"
            streams = [f"{s.lower()}@trade" for s in SYMBOLS]
            cpu_rates, wall_rates = [], []
            for run in range(args.runs):
                # Times from now on, so that the receive-time stage sees a live feed (an
                # old capture would be flagged stale, record by record).
                now_ms = int(time.time() * 1000)
                record_capture(
                    capture, frames=args.trades + 20_000, streams=streams, start_ms=now_ms
                )
                _reset_topics()
                if args.profile:
                    import cProfile

                    with cProfile.Profile() as profile:
                        per_cpu, per_wall = trio.run(_throughput_run, home, args.trades, capture)
                    profile.dump_stats(f"{args.profile}.{run + 1}")
                else:
                    per_cpu, per_wall = trio.run(_throughput_run, home, args.trades, capture)
                cpu_rates.append(per_cpu)
                wall_rates.append(per_wall)
                print(f"run {run + 1}: {per_cpu:,.0f} trades per CPU-s, {per_wall:,.0f} per wall s")
            print(
                f"median: {statistics.median(cpu_rates):,.0f} trades per CPU-s "
                f"({min(cpu_rates):,.0f}–{max(cpu_rates):,.0f}), "
                f"{statistics.median(wall_rates):,.0f} per wall s"
            )
        else:
            rows = []
            for run in range(args.runs):
                _reset_topics()
                r = trio.run(_latency_run, home, args.rate, args.seconds)
                rows.append(r)
                print(
                    f"run {run + 1}: {r['frames_per_s']:,.0f} frames/s, {r['records']:,.0f} "
                    f"records in {r['batches']:,.0f} batches; per record: "
                    f"event→ack p50 {r['event_p50']:.2f} ms p99 {r['event_p99']:.2f} ms, "
                    f"receive→ack p50 {r['recv_p50']:.2f} ms p99 {r['recv_p99']:.2f} ms; "
                    f"per batch (oldest record → last ack): event→ack p50 "
                    f"{r['batch_event_p50']:.2f} p99 {r['batch_event_p99']:.2f} ms"
                )
            for key in ("event_p50", "event_p99", "recv_p50", "recv_p99"):
                for prefix, label in (("", "per record"), ("batch_", "per batch")):
                    value = statistics.median(r[prefix + key] for r in rows)
                    print(f"median {key} ({label}): {value:.2f} ms")


if __name__ == "__main__":
    main()
