"""The bus against the real broker: producer and consumer records/s per core, and the
produce→consume latency at a steady 10k records/s.

    scripts/services start kafka && eval "$(scripts/services env)"
    python bench/bench_bus.py [--runs 5] [--trades 300000] [--batch 10000]

Per core = records / CPU seconds of this process (``time.process_time``: every thread,
librdkafka's included), so the figure does not depend on how many cores the machine has
or how busy the other ones are; wall-clock records/s is printed beside it. The trades are
built before the clock starts (building them is the collector's cost, not the bus's).

Latency: a source task makes 10 trades every millisecond, stamped with the wall clock; a
sender task takes whatever has piled up and publishes it with ``publish_pipelined``, up
to ``--in-flight`` batches awaiting the broker (as ``bus.producer`` does with its inbox;
1, the default: the next batch only once the previous one is acknowledged); a consumer in
the same process notes ``time.time_ns()`` minus the stamp for every trade it receives.
Every figure is the median of ``--runs`` runs, each on fresh topics (deleted at the end);
the machines are shared, so the load average is printed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from decimal import Decimal
from typing import Any

import attrs
import trio

from mdp.bus import (
    ConsumerConfig,
    KafkaConsumer,
    KafkaProducer,
    ProducerConfig,
    TopicsConfig,
    delete_topics,
    ensure_topics_sync,
    open_kafka_consumer,
    open_kafka_producer,
)
from mdp.bus._codec import to_messages
from mdp.bus._pipeline import publish_pipelined
from mdp.bus._workers import ProducerArgs
from mdp.model import Instrument, Kind, MarketType, Side, Trade
from mdp.wire import topic_for

KAFKA = os.environ.get("MDP_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
WARM_UP = 1.0  # seconds of the latency run not counted: the group's first fetches


def _instruments() -> list[Instrument]:
    exchange = "bench" + uuid.uuid4().hex[:8]
    return [
        Instrument(
            exchange=exchange,
            market=MarketType.SPOT,
            native_symbol=s.replace("/", ""),
            symbol=s,
            tick=Decimal("0.01"),
            lot=Decimal("0.0001"),
        )
        for s in SYMBOLS
    ]


def _trades(instruments: list[Instrument], start: int, stop: int, stamp: int = 0) -> list[Trade]:
    k = len(instruments)
    price, size = Decimal("65000.25"), Decimal("0.0125")
    return [
        Trade(
            instrument=instruments[n % k],
            receive_time_ns=stamp or 1_764_000_000_000_000_000 + n,
            exchange_time_ns=1_764_000_000_000_000_000 + n,
            trade_id=n // k,
            price=price,
            size=size,
            side=Side.BUY,
        )
        for n in range(start, stop)
    ]


def _topics(instruments: list[Instrument]) -> list[str]:
    names = [topic_for(Kind.TRADE, i) for i in instruments]
    # LogAppendTime: the broker stamps each message as it appends it (for --trace).
    extra = {"message.timestamp.type": "LogAppendTime"}
    ensure_topics_sync(KAFKA, names, TopicsConfig(retention_ms=3_600_000, extra=extra))
    return names


async def _throughput(count: int, batch: int) -> dict[str, float]:
    instruments = _instruments()
    topics = await trio.to_thread.run_sync(_topics, instruments)
    records = _trades(instruments, 0, count)
    batches = [records[i : i + batch] for i in range(0, count, batch)]
    out: dict[str, float] = {}
    try:
        start, cpu = time.perf_counter(), time.process_time()
        to_messages(records, ProducerConfig().records_per_message)
        out["encode_core"] = count / (time.process_time() - cpu)

        async with open_kafka_producer(ProducerConfig(), KAFKA) as producer:
            start, cpu = time.perf_counter(), time.process_time()
            for chunk in batches:
                await producer.send(chunk)
            out["produce_core"] = count / (time.process_time() - cpu)
            out["produce_wall"] = count / (time.perf_counter() - start)
        del records, batches

        got = 0
        async with open_kafka_consumer(
            ConsumerConfig(max_messages=500), KAFKA, topics, group="bench-" + uuid.uuid4().hex
        ) as consumer:
            fetched = await consumer.receive()  # the group is joined: start the clock here
            got += len(fetched.records)
            consumer.ack(fetched)
            start, cpu = time.perf_counter(), time.process_time()
            first = got
            while got < count:
                fetched = await consumer.receive()
                got += len(fetched.records)
                consumer.ack(fetched)
            out["consume_core"] = (got - first) / (time.process_time() - cpu)
            out["consume_wall"] = (got - first) / (time.perf_counter() - start)
    finally:
        await trio.to_thread.run_sync(delete_topics, KAFKA, topics)
    return out


class _Stages:
    """The stage tracer (``--trace``): wraps the producer's and the consumer's librdkafka
    objects and notes, per Kafka message, the oldest record's stamp, when ``send`` was
    called, when ``produce()`` was called and returned, when the delivery report came
    (poller thread) and reached Trio, the broker's append time (the bench's topics use
    ``LogAppendTime``: whole milliseconds, taken as the middle, so ±0.5 ms), when
    ``poll``/``consume`` returned it in the consumer's thread, and when ``receive`` handed
    it to the reader. Producer and consumer sides are matched by (topic, offset)."""

    def __init__(self) -> None:
        self.by_value: dict[int, list[int]] = {}  # id(value) -> times, while in flight
        self.delivered: dict[tuple[str, int], list[int]] = {}  # (topic, offset) -> times
        self.fetched: list[tuple[Any, int]] = []  # (message, when poll/consume returned)
        self.consumed: list[tuple[str, int, int, int, int]] = []
        self._send = (0, 0)  # the current send: (oldest stamp, when it was called)

    def wrap_producer(self, producer: KafkaProducer) -> None:
        stages, real = self, producer._kafka
        publish, report = producer.publish, producer._report

        class Traced:
            def __len__(self) -> int:
                return len(real)

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def produce(self, topic: str, *, value: bytes, on_delivery: Any, **kw: Any) -> None:
                # oldest stamp, send called, produce(), returned, report, report in Trio
                times = [*stages._send, time.time_ns(), 0, 0, 0]
                stages.by_value[id(value)] = times

                def delivered(error: Any, msg: Any) -> None:
                    times[4] = time.time_ns()
                    stages.delivered[(msg.topic(), msg.offset())] = times
                    on_delivery(error, msg)

                real.produce(topic, value=value, on_delivery=delivered, **kw)
                times[3] = time.time_ns()

        async def traced_publish(records: Any) -> Any:
            stages._send = (min(r.receive_time_ns for r in records), time.time_ns())
            return await publish(records)

        def traced_report(pending: Any, index: int, message: Any, error: Any) -> None:
            stages.by_value.pop(id(message.value))[5] = time.time_ns()
            report(pending, index, message, error)

        producer._kafka = Traced()  # type: ignore[assignment]
        producer.publish = traced_publish  # type: ignore[method-assign]
        producer._report = traced_report  # type: ignore[method-assign]

    def wrap_consumer(self, consumer: KafkaConsumer) -> None:
        stages, real = self, consumer._kafka

        class Traced:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def poll(self, timeout: float) -> Any:
                msg = real.poll(timeout)
                if msg is not None:
                    stages.fetched.append((msg, time.time_ns()))
                return msg

            def consume(self, count: int, timeout: float) -> list[Any]:
                msgs = real.consume(count, timeout)
                now = time.time_ns()
                stages.fetched.extend((m, now) for m in msgs)
                return msgs

        consumer._kafka = Traced()  # type: ignore[assignment]

    def received(self) -> None:
        """The reader has what ``receive`` just returned (and what was dropped)."""
        now = time.time_ns()
        fetched, self.fetched = self.fetched, []
        for msg, at in fetched:
            if msg.error() is None:
                self.consumed.append((msg.topic(), msg.offset(), msg.timestamp()[1], at, now))

    def table(self, since_ns: int, late_ms: float = 10.0) -> list[str]:
        rows: list[dict[str, int]] = []
        for topic, offset, append_ms, fetched, received in self.consumed:
            times = self.delivered.get((topic, offset))
            if times is None or not times[5] or times[0] < since_ns:
                continue
            oldest, called, produce, produced, report, in_trio = times
            append = append_ms * 1_000_000 + 500_000
            rows.append(
                {
                    "oldest record → handed to the reader": received - oldest,
                    "record → publish called (waiting for a slot)": called - oldest,
                    "send called → produce() (encode)": produce - called,
                    "produce() returned → broker append": append - produced,
                    "broker append → delivery report (poller thread)": report - append,
                    "delivery report → Trio": in_trio - report,
                    "broker append → poll() returns (consumer thread)": fetched - append,
                    "poll() returns → receive() returns": received - fetched,
                }
            )
        if not rows:
            return ["no messages traced"]
        late = [r for r in rows if r["oldest record → handed to the reader"] > late_ms * 1e6]
        out = [
            f"{len(rows)} Kafka messages traced, {len(late)} with a record later than "
            f"{late_ms:g} ms",
            "",
            f"| stage (ms) | p50 | p90 | p99 | max | mean when > {late_ms:g} ms |",
            "|---|---|---|---|---|---|",
        ]
        for key in rows[0]:
            values = sorted(r[key] for r in rows)
            mean = statistics.mean(r[key] for r in late) / 1e6 if late else float("nan")
            cells = [_pct(values, q) / 1e6 for q in (0.5, 0.9, 0.99)] + [values[-1] / 1e6]
            out.append(f"| {key} | " + " | ".join(f"{c:.2f}" for c in cells) + f" | {mean:.2f} |")
        return out


def _pct(values: list[float] | list[int], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


class _Pauses:
    """Collections of the oldest generation (``gc`` callbacks): every Python thread stops
    for them, the poller's and the consumer's included."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._start)


def _summary(latencies: list[int], pauses: list[float]) -> dict[str, float]:
    latencies.sort()
    return {
        "p50_ms": _pct(latencies, 0.5) / 1e6,
        "p99_ms": _pct(latencies, 0.99) / 1e6,
        "p999_ms": _pct(latencies, 0.999) / 1e6,
        "max_ms": latencies[-1] / 1e6,
        "gc2_count": len(pauses),
        "gc2_max_ms": max(pauses, default=0.0) * 1e3,
    }


async def _read_until(
    consumer: KafkaConsumer, total: int, since: Callable[[], int], stages: _Stages | None
) -> list[int]:
    """Receive ``total`` records; the latencies of those stamped at ``since()`` or later."""
    latencies: list[int] = []
    received = 0
    while received < total:
        fetched = await consumer.receive()
        now = time.time_ns()
        if stages is not None:
            stages.received()
        received += len(fetched.records)
        start = since()
        latencies.extend(
            now - r.receive_time_ns for r in fetched.records if r.receive_time_ns >= start
        )
        consumer.ack(fetched)
    return latencies


async def _latency(
    rate: int,
    seconds: float,
    producer_config: ProducerConfig,
    consumer_config: ConsumerConfig,
    stages: _Stages | None = None,
    split: bool = False,
    in_flight: int = 1,
) -> dict[str, float]:
    """One run. ``split``: the consumer runs in a child process (as a sink role would),
    so that it shares neither the GIL nor the Trio loop with the producer."""
    instruments = _instruments()
    topics = await trio.to_thread.run_sync(_topics, instruments)
    per_tick = rate // 1000
    total = int(rate * (seconds + WARM_UP))
    pile: list[Trade] = []
    more = trio.Event()
    since = 1 << 62  # stamps before this are the warm-up's
    since_known = trio.Event()
    pauses = _Pauses()
    result: dict[str, float] = {}
    group = "bench-" + uuid.uuid4().hex
    try:
        async with (
            open_kafka_producer(producer_config, KAFKA) as producer,
            trio.open_nursery() as nursery,
        ):

            async def source() -> None:
                nonlocal more
                next_tick = time.perf_counter()
                for n in range(0, total, per_tick):
                    pile.extend(_trades(instruments, n, n + per_tick, time.time_ns()))
                    more.set()
                    next_tick += 0.001
                    await trio.sleep(max(0.0, next_tick - time.perf_counter()))

            async def take() -> list[Trade]:
                nonlocal more
                while not pile:
                    await more.wait()
                    more = trio.Event()
                batch = pile[:]
                del pile[:]
                return batch

            async def sender() -> None:  # as bus.producer takes its inbox
                await publish_pipelined(producer, take, lambda _: None, in_flight=in_flight)

            async def in_process(*, task_status: trio.TaskStatus[None]) -> None:
                async with open_kafka_consumer(
                    consumer_config, KAFKA, topics, group=group
                ) as consumer:
                    if stages is not None:
                        stages.wrap_producer(producer)
                        stages.wrap_consumer(consumer)
                    async with trio.open_nursery() as inner:
                        got: list[list[int]] = []

                        async def read() -> None:
                            got.append(await _read_until(consumer, total, lambda: since, stages))

                        # The group is joined inside a fetch, in the consumer's thread.
                        inner.start_soon(read)
                        while not consumer.assignment:  # noqa: ASYNC110 - set by a callback
                            await trio.sleep(0.05)
                        task_status.started()
                result.update(_summary(got[0], []))
                nursery.cancel_scope.cancel()

            async def child(*, task_status: trio.TaskStatus[None]) -> None:
                command = [sys.executable, __file__, "--reader", json.dumps([topics, total, group])]
                config = json.dumps(attrs.asdict(consumer_config)).encode()
                process = await trio.lowlevel.open_process(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
                assert process.stdin is not None
                assert process.stdout is not None
                lines = _Lines(process.stdout)
                await process.stdin.send_all(config + b"\n")
                assert await lines.next() == "ready"
                task_status.started()
                await since_known.wait()
                await process.stdin.send_all(b"%d\n" % since)
                done = json.loads(await lines.next())
                await process.wait()
                done["gc2_count"] += len(pauses.pauses)
                done["gc2_max_ms"] = max(done["gc2_max_ms"], max(pauses.pauses, default=0) * 1e3)
                result.update(done)
                nursery.cancel_scope.cancel()

            gc.callbacks.append(pauses)
            await nursery.start(child if split else in_process)  # the group is joined
            since = time.time_ns() + int(WARM_UP * 1e9)
            since_known.set()
            nursery.start_soon(source)
            nursery.start_soon(sender)
    finally:
        with suppress(ValueError):
            gc.callbacks.remove(pauses)
        await trio.to_thread.run_sync(delete_topics, KAFKA, topics)
    if stages is not None:
        print("\n".join(stages.table(since)), flush=True)
    if not split:
        result["gc2_count"] = len(pauses.pauses)
        result["gc2_max_ms"] = max(pauses.pauses, default=0.0) * 1e3
    return result


class _Lines:
    """Lines of a child's stdout."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def next(self) -> str:
        while b"\n" not in self._buffer:
            chunk = await self._stream.receive_some()
            if not chunk:
                raise RuntimeError("the reader process ended early")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()


async def _reader_process(topics: list[str], total: int, group: str) -> None:
    """The child of a ``--split`` run: config on stdin, "ready" once in the group, then
    ``since`` on stdin, and the summary as JSON at the end."""
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    lines = _Lines(stdin)
    config = ConsumerConfig(**json.loads(await lines.next()))
    since = 1 << 62
    pauses = _Pauses()
    gc.callbacks.append(pauses)
    async with (
        open_kafka_consumer(config, KAFKA, topics, group=group) as consumer,
        trio.open_nursery() as nursery,
    ):
        got: list[list[int]] = []

        async def read() -> None:
            got.append(await _read_until(consumer, total, lambda: since, None))

        nursery.start_soon(read)
        while not consumer.assignment:  # noqa: ASYNC110 - set by librdkafka's callback
            await trio.sleep(0.05)
        print("ready", flush=True)
        since = int(await lines.next())
    gc.callbacks.remove(pauses)
    print(json.dumps(_summary(got[0], pauses.pauses)), flush=True)


async def _timer_lateness(seconds: float) -> dict[str, float]:
    """How late a 1 ms trio.sleep wakes up on this machine right now: the floor under any
    latency figure measured here (another process holding the core shows up in it)."""
    late: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        await trio.sleep(0.001)
        late.append(time.perf_counter() - start - 0.001)
    late.sort()
    return {"p50_ms": late[len(late) // 2] * 1e3, "p99_ms": late[int(len(late) * 0.99)] * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trades", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--linger-ms", type=float, help="producer linger.ms (default: config's)")
    parser.add_argument("--fetch-wait-ms", type=int, help="consumer fetch.wait.max.ms")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SIDE.PROPERTY=VALUE",
        help="a librdkafka property, e.g. producer.socket.nagle.disable=true",
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=ProducerArgs().in_flight,
        help="latency: batches awaiting the broker at once (bus.producer's in_flight)",
    )
    parser.add_argument(
        "--warm-runs",
        type=int,
        default=0,
        help="latency runs first made and not counted (a broker just started is slower "
        "for its first minute: class loading, the JIT)",
    )
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument(
        "--split",
        action="store_true",
        help="latency: the consumer in a child process, as a sink role would be",
    )
    parser.add_argument("--reader", help=argparse.SUPPRESS)  # the child of --split
    parser.add_argument("--trace", action="store_true", help="time every stage (see _Stages)")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() before each latency run (the start-up objects leave the collector)",
    )
    args = parser.parse_args()
    if args.reader:
        trio.run(_reader_process, *json.loads(args.reader))
        return
    producer_config, consumer_config = ProducerConfig(), ConsumerConfig()
    if args.linger_ms is not None:
        producer_config = attrs.evolve(producer_config, linger_ms=args.linger_ms)
    if args.fetch_wait_ms is not None:
        consumer_config = attrs.evolve(consumer_config, fetch_wait_ms=args.fetch_wait_ms)
    for setting in args.set:
        side, _, rest = setting.partition(".")
        name, _, value = rest.partition("=")
        if side == "producer":
            extra = {**producer_config.extra, name: value}
            producer_config = attrs.evolve(producer_config, extra=extra)
        elif side == "consumer":
            extra = {**consumer_config.extra, name: value}
            consumer_config = attrs.evolve(consumer_config, extra=extra)
        else:
            parser.error(f"--set {setting}: begin with producer. or consumer.")
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores, shared)")
    print(f"producer: {producer_config}\nconsumer: {consumer_config}")
    runs = []
    if not args.latency_only:
        runs = [trio.run(_throughput, args.trades, args.batch) for _ in range(args.runs)]
    lat = []
    for run in range(args.warm_runs + args.runs):
        if args.gc_freeze:
            gc.collect()
            gc.freeze()
        stages = _Stages() if args.trace else None
        lat.append(
            trio.run(
                _latency,
                args.rate,
                args.seconds,
                producer_config,
                consumer_config,
                stages,
                args.split,
                args.in_flight,
            )
        )
        shown = ", ".join(f"{k} {v:.2f}" for k, v in lat[-1].items())
        warm = " — warm-up, not counted" if run < args.warm_runs else ""
        print(f"latency run: {shown} (load {os.getloadavg()[0]:.2f}){warm}", flush=True)
        if args.gc_freeze:
            gc.unfreeze()
    del lat[: args.warm_runs]
    floor = [trio.run(_timer_lateness, 3.0) for _ in range(args.runs)]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print()
    print("| figure | median | runs |")
    print("|---|---|---|")
    for key, label in [
        ("encode_core", "encode only (to_messages), trades/s per core"),
        ("produce_core", f"producer, batches of {args.batch}, trades/s per core"),
        ("produce_wall", "producer, trades/s wall clock"),
        ("consume_core", "consumer, trades/s per core"),
        ("consume_wall", "consumer, trades/s wall clock"),
    ]:
        values = [r[key] for r in runs]
        if not values:
            continue
        shown = ", ".join(f"{v / 1000:.0f}k" for v in values)
        print(f"| {label} | {statistics.median(values) / 1000:.0f}k | {shown} |")
    for key in ("p50_ms", "p99_ms", "p999_ms", "max_ms", "gc2_count", "gc2_max_ms"):
        values = [r[key] for r in lat]
        shown = ", ".join(f"{v:.2f}" for v in values)
        what = {"gc2_count": "gen-2 collections", "gc2_max_ms": "longest gen-2 collection"}
        label = f"produce→consume latency at {args.rate} trades/s, " + what.get(
            key, f"{key[:-3]} (ms)"
        )
        print(f"| {label} | {statistics.median(values):.2f} | {shown} |")
    for key in ("p50_ms", "p99_ms"):
        values = [r[key] for r in floor]
        shown = ", ".join(f"{v:.2f}" for v in values)
        label = f"for scale: lateness of a 1 ms trio.sleep, {key[:-3]} (ms)"
        print(f"| {label} | {statistics.median(values):.2f} | {shown} |")


if __name__ == "__main__":
    main()
