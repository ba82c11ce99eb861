"""The producer's latency samples against the real broker: one per record when asked for,
measured to the acknowledgement of the record's own message, and none when not."""

from __future__ import annotations

import time
from collections import deque

import attrs

from mdp.bus import ProducerConfig, open_kafka_producer
from tests.bus.helpers import (
    KAFKA,
    drop_topics,
    make_topics,
    trade_topics,
    trades,
    unique_instruments,
)


async def test_one_sample_per_record_to_its_own_message_ack() -> None:
    instruments = unique_instruments(3)
    topics = trade_topics(instruments)
    make_topics(topics)
    try:
        config = ProducerConfig(records_per_message=10)
        now = time.time_ns()
        records = [
            attrs.evolve(
                t,
                receive_time_ns=now - 2_000_000,
                exchange_time_ns=None if i % 5 else now - 3_000_000,
            )
            for i, t in enumerate(trades(instruments, 0, 95))
        ]
        async with open_kafka_producer(config, KAFKA) as producer:
            await producer.send(records[:5])  # topic metadata, outside the samples
            producer.stats.record_latencies = samples = deque()
            await producer.send(records[5:])
            elapsed_ns = time.time_ns() - now
            producer.stats.record_latencies = None
            await producer.send(records[:5])
        assert len(samples) == 90
        events = [e for e, _ in samples if e is not None]
        assert len(events) == 18, "one in five records has an exchange time"
        receives = [r for _, r in samples]
        assert all(2_000_000 <= r <= elapsed_ns + 2_000_000 for r in receives)
        assert all(3_000_000 <= e <= elapsed_ns + 3_000_000 for e in events)
        assert len(samples) == 90, "no samples once switched off"
    finally:
        drop_topics(topics)
