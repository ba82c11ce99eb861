"""What the collector role's latency figure cannot go below on this machine: the two parts
of "exchange event → Kafka acknowledgement" that are not mdp's code.

    python bench/bench_latency_floor.py [--rate 10000] [--topics 8] [--seconds 10]
        [--runs 3] [--pin-broker] [--forwarder]

* *simulator*: ``mdp simulate`` as ``bench_collector_role.py --latency`` runs it (same
  rate, 1 ms tick, pinned to CPU 0), read by a minimal client (websockets' sync client,
  ``E`` picked out with orjson) on CPU 1; wall clock at receipt − the frame's ``E``. This
  is how late the stand-in exchange's frames are when they arrive, with nothing behind.
* *broker*: no mdp code at all. Records "arrive" at ``--rate`` per second, a 1 ms tick's
  worth at a time as the simulator sends them, spread evenly over ``--topics`` topics
  (about as many as the role's batches touch at 10k frames/s);
  a loop takes whatever has arrived, produces one message per topic with librdkafka
  (idempotent, lz4, linger 0: the role's settings) and waits for every delivery report
  before it takes again, as ``bus.producer`` does with one batch in flight. Per record:
  arrival → the acknowledgement of its own message.

* *forwarder*: the two together with the least work a collector can do in Python: the
  Binance connections of the shipped ``supervisors/collector.toml`` (its stream groups'
  URLs, at the rate of ``bench_collector_role.py --latency``), each read on a thread of
  its own, and every frame, unparsed but for its
  stream and ``E``, produced as it is to a topic of its stream (librdkafka, the role's
  settings, batching whatever queues meanwhile). Per frame: ``E`` → its acknowledgement.
  No cleaning, no model, no Trio: what exchange event → ack is with an mdp that cost
  nothing.

The first two add up to roughly the best that exchange event → ack could be with the
simulator, the broker and the role sharing this machine's two cores; the third measures it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import orjson
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from websockets.sync.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collector_role import REPO, SYMBOLS, _free_pair, _simulator, pinned

from mdp.exchanges.binance._config import StreamGroupArgs
from mdp.model import MarketType

_RECORD_BYTES = 60  # about what an encoded trade or bbo takes in a message
_TICK_S = 0.001  # the simulator's tick in the latency runs: records come a tick at a time


def _cuts(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


@contextlib.contextmanager
def _live_simulator(rate: int) -> Iterator[int]:
    """``mdp simulate`` as ``bench_collector_role.py --latency`` runs it; its spot port."""
    with tempfile.TemporaryDirectory(prefix="mdp-bench-floor-") as tmp:
        home = Path(tmp)
        (home / "sim.toml").write_text("tick_s = 0.001\n")
        port = _free_pair()
        steps = max(1, round(rate / (4 * 2.3)))  # as bench_collector_role --latency
        args = ["--rate", str(steps), "--port", str(port), "--config", str(home / "sim.toml")]
        sim = _simulator(args, home)
        try:
            yield port
        finally:
            sim.kill()
            sim.wait()


def _connect(url: str) -> ClientConnection:
    deadline = time.monotonic() + 20
    while True:
        try:
            return connect(url, max_size=None)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def simulator_lateness(rate: int, seconds: float) -> tuple[float, float]:
    with _live_simulator(rate) as port:
        streams = "/".join(f"{s.lower()}@{k}" for s in SYMBOLS for k in ("trade", "bookTicker"))
        late: list[float] = []
        with _connect(f"ws://127.0.0.1:{port}/stream?streams={streams}") as ws:
            warm = time.monotonic() + 1.0
            end = warm + seconds
            while (now := time.monotonic()) < end:
                message = ws.recv()
                wall_ms = time.time() * 1000
                event_ms = orjson.loads(message)["data"].get("E")  # spot bookTicker: none
                if now >= warm and event_ms is not None:
                    late.append(wall_ms - event_ms)
        return _cuts(late)


@contextlib.contextmanager
def _producing(names: list[str]) -> Iterator[Producer]:
    """``names`` made as topics of one partition, and librdkafka as the role sets it up
    (idempotent, lz4, linger 0) with its delivery reports served on a thread of their own,
    as ``bus.producer`` serves them; the topics are deleted afterwards."""
    bootstrap = os.environ["MDP_KAFKA_BOOTSTRAP"]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(n, 1, 1) for n in names]).values():
        future.result()
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "compression.type": "lz4",
            "linger.ms": 0,
        }
    )
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            producer.poll(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        yield producer
    finally:
        stop.set()
        poller.join()
        producer.flush(10)
        for future in admin.delete_topics(names).values():
            future.result()


def broker_alone(rate: int, topics: int, seconds: float) -> tuple[float, float]:
    names = [f"bench.floor.{os.getpid()}.{i}" for i in range(topics)]
    latencies: list[float] = []
    with _producing(names) as producer:
        for name in names:  # metadata, outside the timing
            producer.produce(name, b"warm")
        producer.flush(10)
        per_tick = max(1, round(rate * _TICK_S))
        start = time.perf_counter()
        taken = 0
        while (now := time.perf_counter()) - start < seconds + 1.0:
            due = int((now - start) / _TICK_S) * per_tick
            if due == taken:
                time.sleep(0.0001)
                continue
            per_topic: dict[int, list[float]] = {}
            for i in range(taken, due):
                per_topic.setdefault(i % topics, []).append(start + (i // per_tick) * _TICK_S)
            taken = due
            acked: dict[int, float] = {}
            done = threading.Event()

            def report(
                topic: int, left: list[int], acked: dict[int, float], done: threading.Event
            ) -> object:
                def on_delivery(error: object, _message: object) -> None:
                    acked[topic] = time.perf_counter()
                    left[0] -= 1
                    if left[0] == 0:
                        done.set()

                return on_delivery

            left = [len(per_topic)]
            for topic, arrivals in per_topic.items():
                value = b"x" * (_RECORD_BYTES * len(arrivals))
                producer.produce(names[topic], value, on_delivery=report(topic, left, acked, done))
            done.wait()
            if now - start >= 1.0:  # the first second is a warm-up
                for topic, arrivals in per_topic.items():
                    latencies += [(acked[topic] - a) * 1000 for a in arrivals]
    return _cuts(latencies)


def _role_groups(port: int) -> list[StreamGroupArgs]:
    """The Binance stream groups of the shipped supervisors/collector.toml, pointed at the
    simulator on ``port`` (spot) and ``port + 1`` (USD-M)."""
    role = tomllib.loads((REPO / "supervisors" / "collector.toml").read_text())
    binance = next(c for c in role["supervisor"]["children"] if c["name"] == "binance")
    groups = []
    for child in binance["children"]:
        args = child["args"]
        market = MarketType(args["market"])
        groups.append(
            StreamGroupArgs(
                market=market,
                symbols=args["symbols"],
                streams=args["streams"],
                ws_url=f"ws://127.0.0.1:{port + (market is MarketType.PERPETUAL)}",
                exchanges=str(REPO / "etc" / "mdp" / "exchanges.toml"),
            )
        )
    return groups


def forwarder(rate: int, seconds: float) -> tuple[float, float]:
    prefix = f"bench.forward.{os.getpid()}"
    late: list[float] = []
    stop = threading.Event()
    warm = [float("inf")]  # the first 2 s are not counted, as in the role's bench

    def read(producer: Producer, group: int, url: str) -> None:
        def acked(event_ms: int) -> object:
            def on_delivery(error: object, _message: object) -> None:
                if error is None and time.monotonic() >= warm[0]:
                    late.append(time.time() * 1000 - event_ms)

            return on_delivery

        with _connect(url) as ws:
            while not stop.is_set():
                try:
                    message = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                frame = orjson.loads(message)
                event_ms = frame["data"].get("E")
                topic = f"{prefix}.{group}.{frame['stream'].replace('@', '-')}"
                if event_ms is None:  # spot bookTicker has no event time: sent, not timed
                    producer.produce(topic, message)
                else:
                    producer.produce(topic, message, on_delivery=acked(event_ms))

    with _live_simulator(rate) as port:
        groups = _role_groups(port)
        topics = [
            f"{prefix}.{i}.{name.replace('@', '-')}"
            for i, group in enumerate(groups)
            for name in group.stream_names()
        ]
        with _producing(topics) as producer:
            threads = [
                threading.Thread(target=read, args=(producer, i, group.ws_endpoint()))
                for i, group in enumerate(groups)
            ]
            for thread in threads:
                thread.start()
            warm[0] = time.monotonic() + 2.0
            time.sleep(2.0 + seconds)
            stop.set()
            for thread in threads:
                thread.join()
    return _cuts(late)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=10_000, help="frames (records) per second")
    parser.add_argument("--topics", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pin-broker", action="store_true", help="the broker on CPU 0")
    parser.add_argument(
        "--forwarder", action="store_true", help="also: simulator → Kafka with no mdp code"
    )
    args = parser.parse_args()
    if "MDP_KAFKA_BOOTSTRAP" not in os.environ:
        sys.exit("set MDP_KAFKA_BOOTSTRAP (scripts/services start kafka; . its env.sh)")
    print(f"load average {os.getloadavg()[0]:.1f} at {time.strftime('%H:%M UTC', time.gmtime())}")
    with pinned(args.pin_broker):
        sim, broker, forward = [], [], []
        for run in range(args.runs):
            sim.append(simulator_lateness(args.rate, args.seconds))
            broker.append(broker_alone(args.rate, args.topics, args.seconds))
            line = (
                f"run {run + 1}: simulator wall − E p50 {sim[-1][0]:.2f} p99 {sim[-1][1]:.2f} ms; "
                f"broker alone, {args.topics} topics, arrival → ack p50 {broker[-1][0]:.2f} "
                f"p99 {broker[-1][1]:.2f} ms"
            )
            if args.forwarder:
                forward.append(forwarder(args.rate, args.seconds))
                line += f"; forwarder E → ack p50 {forward[-1][0]:.2f} p99 {forward[-1][1]:.2f} ms"
            print(line)
        rows_by_name = [("simulator wall − E", sim), ("broker arrival → ack", broker)]
        if forward:
            rows_by_name.append(("forwarder E → ack", forward))
        for name, rows in rows_by_name:
            p50 = statistics.median(r[0] for r in rows)
            p99 = statistics.median(r[1] for r in rows)
            print(f"median {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
