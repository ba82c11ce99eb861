"""What the collector role's latency figure cannot go below on this machine: the two parts
of "exchange event → Kafka acknowledgement" that are not mdp's code.

    python bench/bench_latency_floor.py [--rate 10000] [--topics 8] [--seconds 10]
        [--runs 3] [--pin-broker]

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

The two add up to roughly the best that exchange event → ack could be with the simulator,
the broker and the role sharing this machine's two cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_collector_role import SYMBOLS, _free_pair, _simulator, pinned

_RECORD_BYTES = 60  # about what an encoded trade or bbo takes in a message
_TICK_S = 0.001  # the simulator's tick in the latency runs: records come a tick at a time


def _cuts(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


def simulator_lateness(rate: int, seconds: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="mdp-bench-floor-") as tmp:
        home = Path(tmp)
        (home / "sim.toml").write_text("tick_s = 0.001\n")
        port = _free_pair()
        steps = max(1, round(rate / (4 * 2.3)))  # as bench_collector_role --latency
        args = ["--rate", str(steps), "--port", str(port), "--config", str(home / "sim.toml")]
        sim = _simulator(args, home)
        try:
            streams = "/".join(f"{s.lower()}@{k}" for s in SYMBOLS for k in ("trade", "bookTicker"))
            deadline = time.monotonic() + 20
            while True:
                try:
                    ws = connect(f"ws://127.0.0.1:{port}/stream?streams={streams}")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            late: list[float] = []
            with ws:
                warm = time.monotonic() + 1.0
                end = warm + seconds
                while (now := time.monotonic()) < end:
                    message = ws.recv()
                    wall_ms = time.time() * 1000
                    event_ms = orjson.loads(message)["data"].get("E")  # spot bookTicker: none
                    if now >= warm and event_ms is not None:
                        late.append(wall_ms - event_ms)
            return _cuts(late)
        finally:
            sim.kill()
            sim.wait()


def broker_alone(rate: int, topics: int, seconds: float) -> tuple[float, float]:
    bootstrap = os.environ["MDP_KAFKA_BOOTSTRAP"]
    names = [f"bench.floor.{os.getpid()}.{i}" for i in range(topics)]
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

    def poll() -> None:  # delivery reports on their own thread, as bus.producer serves them
        while not stop.is_set():
            producer.poll(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    latencies: list[float] = []
    try:
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
    finally:
        stop.set()
        poller.join()
        producer.flush(10)
        for future in admin.delete_topics(names).values():
            future.result()
    return _cuts(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=10_000, help="frames (records) per second")
    parser.add_argument("--topics", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pin-broker", action="store_true", help="the broker on CPU 0")
    args = parser.parse_args()
    if "MDP_KAFKA_BOOTSTRAP" not in os.environ:
        sys.exit("set MDP_KAFKA_BOOTSTRAP (scripts/services start kafka; . its env.sh)")
    print(f"load average {os.getloadavg()[0]:.1f} at {time.strftime('%H:%M UTC', time.gmtime())}")
    with pinned(args.pin_broker):
        sim, broker = [], []
        for run in range(args.runs):
            sim.append(simulator_lateness(args.rate, args.seconds))
            broker.append(broker_alone(args.rate, args.topics, args.seconds))
            print(
                f"run {run + 1}: simulator wall − E p50 {sim[-1][0]:.2f} p99 {sim[-1][1]:.2f} ms; "
                f"broker alone, {args.topics} topics, arrival → ack p50 {broker[-1][0]:.2f} "
                f"p99 {broker[-1][1]:.2f} ms"
            )
        for name, rows in (("simulator wall − E", sim), ("broker arrival → ack", broker)):
            p50 = statistics.median(r[0] for r in rows)
            p99 = statistics.median(r[1] for r in rows)
            print(f"median {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
