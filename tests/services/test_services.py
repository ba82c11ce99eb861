"""Smoke tests of the servers that `scripts/services start` runs: real servers, no mocks.

Addresses come from the environment (`. $MDP_SERVICES_DIR/env.sh`, written by the script)
with the script's defaults. Each test makes its own topic, schema or database and removes it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import clickhouse_connect
import psycopg
import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

_WORK = os.environ.get("MDP_SERVICES_DIR", "/var/tmp/mdp-services")
KAFKA = os.environ.get("MDP_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
PG_DSN = os.environ.get("MDP_PG_DSN", "postgresql://mdp@127.0.0.1:15432/mdp")
CLICKHOUSE_DSN = os.environ.get("MDP_CLICKHOUSE_DSN", f"chdb://{_WORK}/chdb")


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# --- Kafka -------------------------------------------------------------------------------------


def test_kafka_produce_consume_round_trip() -> None:
    admin = AdminClient({"bootstrap.servers": KAFKA})
    topic = _unique("mdp-services-smoke").replace("_", "-")
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(10)
    try:
        producer = Producer(
            {"bootstrap.servers": KAFKA, "enable.idempotence": True, "acks": "all", "linger.ms": 5}
        )
        reports: list[tuple[KafkaError | None, int]] = []
        sent = [(f"BTC/USDT:{i}".encode(), f"trade {i}".encode()) for i in range(5)]
        for key, value in sent:
            producer.produce(
                topic,
                value=value,
                key=key,
                headers={"schema-version": b"1"},
                on_delivery=lambda err, msg: reports.append((err, msg.offset())),
            )
        assert producer.flush(10) == 0
        assert [err for err, _ in reports] == [None] * 5
        assert [offset for _, offset in reports] == [0, 1, 2, 3, 4]

        consumer = Consumer(
            {
                "bootstrap.servers": KAFKA,
                "group.id": _unique("mdp-services-smoke"),
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        try:
            consumer.subscribe([topic])
            got: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]] | None]] = []
            deadline = time.monotonic() + 20
            while len(got) < len(sent) and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                assert msg.error() is None, msg.error()
                got.append((msg.key(), msg.value(), msg.headers()))
            consumer.commit(asynchronous=False)
        finally:
            consumer.close()
        assert [(k, v) for k, v, _ in got] == sent
        assert all(h == [("schema-version", b"1")] for _, _, h in got)
    finally:
        admin.delete_topics([topic])[topic].result(10)


# --- PostgreSQL + TimescaleDB ------------------------------------------------------------------


@pytest.fixture
def pg() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    schema = _unique("smoke")
    with psycopg.connect(PG_DSN, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}, public")
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
            conn.commit()


def test_timescaledb_extension_present(pg: psycopg.Connection[tuple[object, ...]]) -> None:
    row = pg.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    assert row is not None
    assert str(row[0]).startswith("2.")
    preload = pg.execute("SHOW shared_preload_libraries").fetchone()
    assert preload is not None
    assert "timescaledb" in str(preload[0])


def test_hypertable_copy_and_on_conflict(pg: psycopg.Connection[tuple[object, ...]]) -> None:
    pg.execute(
        """
        CREATE TABLE trades (
            exchange text NOT NULL,
            symbol text NOT NULL,
            trade_id bigint NOT NULL,
            ts timestamptz NOT NULL,
            price numeric NOT NULL,
            size numeric NOT NULL,
            PRIMARY KEY (exchange, symbol, trade_id, ts)
        )
        """
    )
    pg.execute("SELECT create_hypertable('trades', 'ts', chunk_time_interval => INTERVAL '1 hour')")
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        (
            "binance",
            "BTC/USDT",
            i,
            t0 + dt.timedelta(minutes=20 * i),
            Decimal(f"65000.{i:02d}"),
            Decimal("0.001"),
        )
        for i in range(6)
    ]
    with (
        pg.cursor() as cur,
        cur.copy("COPY trades (exchange, symbol, trade_id, ts, price, size) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    # The same rows again plus a new one: an idempotent write keeps exactly one of each.
    pg.execute("CREATE TEMP TABLE incoming (LIKE trades) ON COMMIT DROP")
    buf = io.StringIO()
    for ex, sym, tid, ts, px, sz in [
        *rows,
        ("binance", "BTC/USDT", 6, t0 + dt.timedelta(hours=2), Decimal("1"), Decimal("2")),
    ]:
        buf.write(f"{ex}\t{sym}\t{tid}\t{ts.isoformat()}\t{px}\t{sz}\n")
    with pg.cursor() as cur, cur.copy("COPY incoming FROM STDIN") as copy:
        copy.write(buf.getvalue())
    inserted = pg.execute(
        "INSERT INTO trades SELECT * FROM incoming"
        " ON CONFLICT (exchange, symbol, trade_id, ts) DO NOTHING"
    ).rowcount
    assert inserted == 1
    pg.execute(
        "INSERT INTO trades VALUES ('binance', 'BTC/USDT', 0, %s, 1, 1) "
        "ON CONFLICT (exchange, symbol, trade_id, ts) DO UPDATE SET price = EXCLUDED.price",
        (t0,),
    )
    got = pg.execute("SELECT trade_id, price FROM trades ORDER BY trade_id").fetchall()
    assert [tid for tid, _ in got] == list(range(7))
    assert got[0][1] == Decimal("1")
    assert got[5][1] == Decimal("65000.05")
    chunks = pg.execute("SELECT count(*) FROM show_chunks('trades')").fetchone()
    assert chunks is not None
    assert chunks[0] == 3  # 0:00, 1:00 and 2:00 hours
    buckets = pg.execute(
        "SELECT time_bucket(INTERVAL '1 hour', ts) AS b, count(*) FROM trades GROUP BY b ORDER BY b"
    ).fetchall()
    assert [n for _, n in buckets] == [3, 3, 1]
    pg.commit()


# --- ClickHouse (chdb behind clickhouse-connect) -----------------------------------------------


def test_chdb_replacing_merge_tree_exact_round_trip() -> None:
    client = clickhouse_connect.get_client(dsn=CLICKHOUSE_DSN)
    db = _unique("smoke")
    try:
        client.command(f"CREATE DATABASE {db}")
        client.command(
            f"""
            CREATE TABLE {db}.trades (
                symbol LowCardinality(String),
                trade_id UInt64,
                ts DateTime64(9, 'UTC'),
                price Decimal(38, 18),
                size Decimal(38, 18),
                version UInt64
            ) ENGINE = ReplacingMergeTree(version) ORDER BY (symbol, trade_id)
            """
        )
        ns = 1_767_225_600_123_456_789  # 2026-01-01T00:00:00.123456789Z
        columns = ["symbol", "trade_id", "ts", "price", "size", "version"]
        first = [
            [
                "BTC/USDT",
                1,
                ns,
                Decimal("65000.123456789012345678"),
                Decimal("0.000000000000000001"),
                1,
            ],
            [
                "BTC/USDT",
                2,
                ns + 1,
                Decimal("99999999999999999999.999999999999999999"),
                Decimal("1"),
                1,
            ],
        ]
        client.insert(f"{db}.trades", first, column_names=columns)
        # A replay of trade 1 with a newer version replaces it; ReplacingMergeTree keeps one row.
        client.insert(
            f"{db}.trades",
            [["BTC/USDT", 1, ns, Decimal("65000.123456789012345679"), Decimal("2.5"), 2]],
            column_names=columns,
        )
        result = client.query(
            f"SELECT symbol, trade_id, ts, price, size, version"
            f" FROM {db}.trades FINAL ORDER BY trade_id",
            query_formats={"DateTime64": "int"},
        )
        assert result.result_rows == [
            ("BTC/USDT", 1, ns, Decimal("65000.123456789012345679"), Decimal("2.5"), 2),
            (
                "BTC/USDT",
                2,
                ns + 1,
                Decimal("99999999999999999999.999999999999999999"),
                Decimal("1"),
                1,
            ),
        ]
        text = client.query(
            f"SELECT toString(ts) FROM {db}.trades FINAL ORDER BY trade_id"
        ).result_rows
        assert text == [("2026-01-01 00:00:00.123456789",), ("2026-01-01 00:00:00.123456790",)]
    finally:
        client.command(f"DROP DATABASE IF EXISTS {db}")
        client.close()
