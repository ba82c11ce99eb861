"""Garbage bytes and a message from an unknown schema version on a topic: both go to the
dead-letter store with topic, partition, offset and reason, and the consumer goes on to the
good messages around them."""

from __future__ import annotations

from pathlib import Path

import orjson
import trio
from confluent_kafka import Producer

from mdp.bus import ConsumerConfig, open_kafka_consumer
from mdp.supervision import JsonLinesDeadLetters
from mdp.v1 import envelope_pb2 as pb
from mdp.wire import encode_batch
from tests.bus.helpers import (
    KAFKA,
    Arrivals,
    drop_topics,
    make_topics,
    trade_topics,
    trades,
    unique_instruments,
)

BATCH_TYPE = b"application/x-protobuf; messageType=mdp.v1.EnvelopeBatch"


def _future_version(data: bytes) -> bytes:
    batch = pb.EnvelopeBatch()
    batch.ParseFromString(data)
    batch.schema_version = 2
    return batch.SerializeToString()


def _produce_raw(topic: str, messages: list[tuple[bytes, list[tuple[str, bytes]]]]) -> None:
    producer = Producer({"bootstrap.servers": KAFKA, "enable.idempotence": True})
    try:
        for value, headers in messages:
            producer.produce(topic, value=value, key=b"BTC/USDT", headers=headers)
        assert producer.flush(30) == 0
    finally:
        producer.close()


async def test_garbage_and_unknown_version_go_to_dead_letters_and_consumption_goes_on(
    tmp_path: Path,
) -> None:
    instruments = unique_instruments(1)
    (topic,) = trade_topics(instruments)
    await trio.to_thread.run_sync(make_topics, [topic])
    v1 = [("mdp-schema-version", b"1"), ("content-type", BATCH_TYPE)]
    good_1, good_2 = trades(instruments, 0, 10), trades(instruments, 10, 20)
    future = trades(instruments, 100, 105)
    messages = [
        (encode_batch(good_1), v1),  # offset 0
        (b"\x00\xffnot protobuf at all\x17", v1),  # 1: garbage
        (_future_version(encode_batch(future)), v1),  # 2: schema 2 inside, header says 1
        (_future_version(encode_batch(future)), [("mdp-schema-version", b"2")]),  # 3
        (encode_batch(good_2), v1),  # 4
    ]
    dead = JsonLinesDeadLetters(tmp_path / "dead.jsonl")
    arrived = Arrivals()
    try:
        await trio.to_thread.run_sync(_produce_raw, topic, messages)
        with trio.fail_after(30):
            async with open_kafka_consumer(
                ConsumerConfig(),
                KAFKA,
                [topic],
                group=f"dead-{instruments[0].exchange}",
                dead_letters=dead,
                path="test/consumer",
            ) as consumer:
                while arrived.total < 20:
                    fetched = await consumer.receive()
                    arrived.add(fetched.records)
                    consumer.ack(fetched)
                await consumer.commit()
                assert consumer.stats.dead_letters == 3
    finally:
        await trio.to_thread.run_sync(drop_topics, [topic])

    assert arrived.ids["BTC/USDT"] == list(range(20))
    entries = [orjson.loads(line) for line in (tmp_path / "dead.jsonl").read_bytes().splitlines()]
    assert dead.count == len(entries) == 3
    assert [e["path"] for e in entries] == ["test/consumer"] * 3
    items = [e["items"][0] for e in entries]
    assert [(i["topic"], i["partition"], i["offset"]) for i in items] == [
        (topic, 0, 1),
        (topic, 0, 2),
        (topic, 0, 3),
    ]
    assert entries[0]["error"].startswith("WireError")
    assert all(e["error"].startswith("UnsupportedSchemaVersion") for e in entries[1:])
    assert "schema version 2" in items[1]["reason"]
    assert items[0]["value_hex"] == b"\x00\xffnot protobuf at all\x17".hex()
