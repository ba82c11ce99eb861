"""The bus against the real broker: producer and consumer records/s per core, and the
produce→consume latency at a steady 10k records/s.

    scripts/services start kafka && eval "$(scripts/services env)"
    python bench/bench_bus.py [--runs 5] [--trades 300000] [--batch 10000]

Per core = records / CPU seconds of this process (``time.process_time``: every thread,
librdkafka's included), so the figure does not depend on how many cores the machine has
or how busy the other ones are; wall-clock records/s is printed beside it. The trades are
built before the clock starts (building them is the collector's cost, not the bus's).

Latency: a source task makes 10 trades every millisecond, stamped with the wall clock; a
sender task takes whatever has piled up and ``send``s it (as ``bus.producer`` does with
its inbox); a consumer in the same process notes ``time.time_ns()`` minus the stamp for
every trade it receives. Every figure is the median of ``--runs`` runs, each on fresh
topics (deleted at the end); the machines are shared, so the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from decimal import Decimal

import attrs
import trio

from mdp.bus import (
    ConsumerConfig,
    ProducerConfig,
    TopicsConfig,
    delete_topics,
    ensure_topics_sync,
    open_kafka_consumer,
    open_kafka_producer,
)
from mdp.bus._codec import to_messages
from mdp.model import Instrument, Kind, MarketType, Side, Trade
from mdp.wire import topic_for

KAFKA = os.environ.get("MDP_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


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
    ensure_topics_sync(KAFKA, names, TopicsConfig(retention_ms=3_600_000))
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


async def _latency(
    rate: int, seconds: float, producer_config: ProducerConfig, consumer_config: ConsumerConfig
) -> dict[str, float]:
    instruments = _instruments()
    topics = await trio.to_thread.run_sync(_topics, instruments)
    per_tick = rate // 1000
    total = int(rate * seconds)
    latencies: list[int] = []
    pile: list[Trade] = []
    more = trio.Event()
    try:
        async with (
            open_kafka_consumer(
                consumer_config, KAFKA, topics, group="bench-" + uuid.uuid4().hex
            ) as consumer,
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

            async def sender() -> None:
                nonlocal more
                while True:
                    await more.wait()
                    more = trio.Event()
                    batch = pile[:]
                    del pile[:]
                    await producer.send(batch)

            async def reader_then_stop(scope: trio.CancelScope) -> None:
                while len(latencies) < total:
                    fetched = await consumer.receive()
                    now = time.time_ns()
                    latencies.extend(now - r.receive_time_ns for r in fetched.records)
                    consumer.ack(fetched)
                scope.cancel()

            # The group is joined inside a fetch (librdkafka runs the callbacks there).
            nursery.start_soon(reader_then_stop, nursery.cancel_scope)
            while not consumer.assignment:  # noqa: ASYNC110 - set by librdkafka's callback
                await trio.sleep(0.05)
            nursery.start_soon(source)
            nursery.start_soon(sender)
    finally:
        await trio.to_thread.run_sync(delete_topics, KAFKA, topics)
    latencies.sort()
    warm = latencies
    return {
        "p50_ms": statistics.median(warm) / 1e6,
        "p99_ms": warm[int(len(warm) * 0.99)] / 1e6,
        "max_ms": warm[-1] / 1e6,
    }


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
    parser.add_argument("--latency-only", action="store_true")
    args = parser.parse_args()
    producer_config, consumer_config = ProducerConfig(), ConsumerConfig()
    if args.linger_ms is not None:
        producer_config = attrs.evolve(producer_config, linger_ms=args.linger_ms)
    if args.fetch_wait_ms is not None:
        consumer_config = attrs.evolve(consumer_config, fetch_wait_ms=args.fetch_wait_ms)
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores, shared)")
    print(f"producer: {producer_config}\nconsumer: {consumer_config}")
    runs = []
    if not args.latency_only:
        runs = [trio.run(_throughput, args.trades, args.batch) for _ in range(args.runs)]
    lat = [
        trio.run(_latency, args.rate, args.seconds, producer_config, consumer_config)
        for _ in range(args.runs)
    ]
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
    for key in ("p50_ms", "p99_ms", "max_ms"):
        values = [r[key] for r in lat]
        shown = ", ".join(f"{v:.2f}" for v in values)
        label = f"produce→consume latency at {args.rate} trades/s, {key[:-3]} (ms)"
        print(f"| {label} | {statistics.median(values):.2f} | {shown} |")
    for key in ("p50_ms", "p99_ms"):
        values = [r[key] for r in floor]
        shown = ", ".join(f"{v:.2f}" for v in values)
        label = f"for scale: lateness of a 1 ms trio.sleep, {key[:-3]} (ms)"
        print(f"| {label} | {statistics.median(values):.2f} | {shown} |")


if __name__ == "__main__":
    main()
