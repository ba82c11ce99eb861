"""PostgreSQL's two idempotent paths store the same rows: COPY straight into the table when
nothing of the batch's instruments is stored at or after its first time (new data), the
staging table and the anti-join otherwise (a redelivery, a backfill)."""

from __future__ import annotations

import polars as pl
import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from mdp.sinks import PostgresSink
from mdp.sinks._postgres import _time, _with_time
from tests.sinks.conftest import PG_DSN, trades


@settings(deadline=None, max_examples=200)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20))
def test_the_clients_time_text_is_the_time_sql_computes(values: list[int]) -> None:
    texts = _with_time(pl.DataFrame({"time_ns": values}))["time"].to_list()
    with psycopg.connect(PG_DSN) as conn:
        for ns, text in zip(values, texts, strict=True):
            row = conn.execute(
                f"SELECT %s::timestamptz = t, t::text FROM (SELECT {_time('v')} AS t"
                " FROM (SELECT %s::bigint AS v) x) y",
                (text, ns),
            ).fetchone()
            assert row is not None
            assert row[0], f"{ns}: client {text}, SQL {row[1]}"


def _dump(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        sql = "SELECT t::text FROM trades t WHERE quality_reasons <> 'later' ORDER BY time_ns"
        return [r[0] for r in conn.execute(sql).fetchall()]


def test_the_direct_copy_and_the_anti_join_store_the_same_rows(pg_dsn: str) -> None:
    batch = trades(1, 2001)
    sink = PostgresSink(pg_dsn)
    sink.write_sync(batch[:1000])  # new data: straight into the table
    direct = _dump(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("TRUNCATE trades")
    # A stored row of the instrument later than the batch: the batch takes the anti-join.
    sink.write_sync(trades(10**6, 10**6 + 1))
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("UPDATE trades SET quality_reasons = 'later'")
    result = sink.write_sync(batch[:1000])  # anti-join path
    sink.write_sync(batch[500:2000])  # half stored already: anti-join, the new half added
    sink.close()
    assert result.written == 1000
    stored = _dump(pg_dsn)
    assert stored[:1000] == direct
    assert len(stored) == 2000
    with psycopg.connect(pg_dsn) as conn:
        count = conn.execute("SELECT count(DISTINCT trade_id), count(*) FROM trades").fetchone()
    assert count == (2001, 2001)
