"""The column path (``bus.consumer`` with ``deliver = "columns"``: a Kafka message of trades
goes to the sink as its wire columns) stores exactly what the record path stores: the
stores' own dumps of the rows are compared byte for byte, for random trades with extreme
decimals, ids past int64 and missing times (hypothesis), and end to end through a real
Kafka topic into each store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdp.bus import ProducerConfig, open_kafka_producer
from mdp.bus._codec import HEADERS, columns_from_message, from_message, to_messages
from mdp.model import Kind, Trade
from mdp.sinks import TABLES, ClickHouseSink, ParquetLake, PostgresSink, connect_clickhouse
from mdp.sinks._sink import Item
from mdp.supervision import Backoff, ChannelSpec, Intensity, Supervisor, SupervisorSpec, WorkerSpec
from mdp.wire._columns import ColumnBatch
from tests import strategies as s
from tests.bus.helpers import (
    KAFKA,
    drop_topics,
    make_topics,
    trade_topics,
    unique_instruments,
    wait_until,
)
from tests.sinks.conftest import trades as some_trades

_COLUMNS = ", ".join(c.name for c in TABLES[Kind.TRADE].columns)
# Decimals at the edges of what the stores hold exactly, and just past them.
_EXTREMES = [
    "1E-18",
    "1E-19",
    "999999999999999999.999999999999999999",
    "99999999999999999999.1",
    "123456789012345678901234567890",
    "0.000000",
    "0E-7",
    "-0",
    "68000.10",
    "1E+3",
]
_DECIMALS = st.sampled_from([Decimal(x) for x in _EXTREMES]) | s.PRICES | s.SIZES
_TRADES = st.builds(
    Trade, **s.header(), trade_id=s.UINT64, price=_DECIMALS, size=_DECIMALS, side=s.sides
)


def _wire(trades: list[Trade], per_message: int) -> list[bytes]:
    return [m.value for m in to_messages(trades, per_message)]


def _items(values: list[bytes], deliver: str) -> list[Item]:
    """What ``bus.consumer`` puts into its channel for these message values."""
    items: list[Item] = []
    for value in values:
        if deliver == "records":
            items += from_message(value, HEADERS)  # type: ignore[arg-type]
            continue
        decoded = columns_from_message(value, HEADERS)  # type: ignore[arg-type]
        if isinstance(decoded, list):
            items += decoded
        else:
            items.append(decoded)
    return items


class _Dumps:
    """A store's rows as bytes in a fixed order, and a way to empty it."""

    def __init__(self, sink: Any, dump: Callable[[], bytes], empty: Callable[[], None]) -> None:
        self.sink, self.dump, self.empty = sink, dump, empty


def _postgres(dsn: str) -> _Dumps:
    def dump() -> bytes:
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(f"SELECT t::text FROM trades t ORDER BY {_COLUMNS}").fetchall()
        return "\n".join(r[0] for r in rows).encode()

    def empty() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("TRUNCATE trades")

    return _Dumps(PostgresSink(dsn), dump, empty)


def _clickhouse(dsn: str) -> _Dumps:
    def dump() -> bytes:
        client = connect_clickhouse(dsn)
        try:
            sql = f"SELECT * FROM trades ORDER BY {_COLUMNS} FORMAT TabSeparated"
            return bytes(client.raw_query(sql))
        finally:
            client.close()

    def empty() -> None:
        client = connect_clickhouse(dsn)
        try:
            client.command("TRUNCATE TABLE trades")
        finally:
            client.close()

    return _Dumps(ClickHouseSink(dsn), dump, empty)


def _lake(root: Path) -> _Dumps:
    lake = ParquetLake(root, fsync=False, compact_every_s=3600)

    def dump() -> bytes:
        frame = lake.read(Kind.TRADE, dedup=False)
        if frame.is_empty():
            return b""
        return frame.sort(pl.all()).write_csv(None).encode()

    def empty() -> None:
        for f in root.rglob("*.parquet"):
            f.unlink()

    return _Dumps(lake, dump, empty)


@pytest.fixture(params=["postgres", "clickhouse", "parquet"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Dumps]:
    if request.param == "postgres":
        dumps = _postgres(request.getfixturevalue("pg_dsn"))
    elif request.param == "clickhouse":
        dumps = _clickhouse(request.getfixturevalue("ch_dsn"))
    else:
        dumps = _lake(tmp_path / "lake")
    trio.run(dumps.sink.open)  # the tables exist before the first empty()
    yield dumps
    dumps.sink.close()


def _reasons(rejected: tuple[Any, ...]) -> list[str]:
    return sorted(reason for _, reason in rejected)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(trades=st.lists(_TRADES, min_size=1, max_size=60), per_message=st.integers(1, 25))
def test_columns_store_the_bytes_records_store(
    store: _Dumps, trades: list[Trade], per_message: int
) -> None:
    values = _wire(trades, per_message)
    dumps, rejections = [], []
    for deliver in ("records", "columns"):
        store.empty()
        result = store.sink.write_sync(_items(values, deliver))
        dumps.append(store.dump())
        rejections.append(_reasons(result.rejected))
    store.sink.close()
    assert dumps[0] or rejections[0]  # every trade is stored or rejected with a reason
    assert dumps[0] == dumps[1]
    assert rejections[0] == rejections[1]


def test_a_rejected_row_of_a_column_batch_comes_back_as_the_row(pg_dsn: str) -> None:
    good = some_trades(1, 4)
    bad = Trade(**{**_fields(good[0]), "trade_id": 2**63})  # past int64
    (item,) = _items(_wire([*good, bad], 100), "columns")
    assert isinstance(item, ColumnBatch)
    assert item.rows == 4
    sink = PostgresSink(pg_dsn)
    result = sink.write_sync([item])
    sink.close()
    assert result.written == 3
    ((row, reason),) = result.rejected
    assert row["trade_id"] == -(2**63)  # the stored column's type: the reason says why
    assert reason == f"trade_id: {2**63} does not fit a signed 64-bit integer"


def _fields(trade: Trade) -> dict[str, Any]:
    import attrs

    return attrs.asdict(trade, recurse=False)


# -- end to end: a real Kafka topic → bus.consumer → channel → sink ---------------------------

_COUNT = 20_000


def _tree(topic: str, deliver: str, component: str, args: dict[str, Any]) -> SupervisorSpec:
    consumer = {
        "config": "",
        "bootstrap": KAFKA,
        "topics": [topic],
        "group": f"colpath-{uuid.uuid4().hex[:8]}",
        "deliver": deliver,
    }
    return SupervisorSpec(
        name="s",
        backoff=Backoff(initial=0.0, max=0.01),
        intensity=Intensity(max_restarts=10, period=1.0),
        channels=(ChannelSpec(name="records", capacity=200),),
        children=(
            WorkerSpec(name="sink", component=component, inputs=("records",), args=args),
            WorkerSpec(
                name="consume", component="bus.consumer", outputs=("records",), args=consumer
            ),
        ),
    )


async def _consume_into(spec: SupervisorSpec) -> int:
    """Run the tree until the sink wrote every trade; the items that went through the
    channel."""
    sup = Supervisor(spec)
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        node: Any = sup.find("s/sink")
        with trio.fail_after(60):
            await wait_until(lambda: "sink" in node.memo and node.memo["sink"].written >= _COUNT)
        nursery.cancel_scope.cancel()
    return sup.channels["records"].items_in


_COMPONENTS = {
    "postgres": "sink.postgres",
    "clickhouse": "sink.clickhouse",
    "parquet": "sink.parquet",
}


async def test_through_kafka_columns_store_what_records_store(
    store: _Dumps, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    (instrument,) = unique_instruments(1)
    (topic,) = trade_topics([instrument])
    make_topics([topic])
    sent = [Trade(**{**_fields(t), "instrument": instrument}) for t in some_trades(1, _COUNT + 1)]
    name = request.node.callspec.params["store"]
    where: dict[str, Any] = (
        {"root": str(store.sink.root), "fsync": False}
        if name == "parquet"
        else {"dsn": store.sink.dsn}
    )
    # A column batch is one channel item: flush by messages (1000 trades each), not rows.
    flush = {
        "records": {"flush_rows": 10_000, "max_rows": 20_000},
        "columns": {"flush_rows": 10, "max_rows": 20},
    }
    dumps, items = [], []
    try:
        async with open_kafka_producer(ProducerConfig(), KAFKA) as producer:
            await producer.send(sent)
        for deliver in ("records", "columns"):
            store.empty()
            args = {**where, **flush[deliver], "flush_interval_s": 0.05}
            items.append(await _consume_into(_tree(topic, deliver, _COMPONENTS[name], args)))
            dumps.append(store.dump())
    finally:
        drop_topics([topic])
    assert dumps[0] == dumps[1]
    assert len(dumps[1].splitlines()) >= _COUNT
    assert items == [_COUNT, _COUNT // 1000]  # a record an item; a message (1000 trades) one
