"""Each store behind the same test face: a sink, and reads of what it holds.

``read(kind)`` is what a reader sees with the store's own deduplication (PostgreSQL: the
rows; ClickHouse: ``FINAL``; the lake: its dedup read); ``raw_count(kind)`` counts the
stored copies without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mdp.model import Kind, Record
from mdp.sinks import (
    TABLES,
    ClickHouseSink,
    ParquetLake,
    PostgresSink,
    connect_clickhouse,
    record_from_row,
)


def _columns(kind: Kind) -> str:
    return ", ".join(c.name for c in TABLES[kind].columns)


class PostgresStore:
    def __init__(self, dsn: str) -> None:
        self.sink = PostgresSink(dsn)
        self.dsn = dsn

    def query(self, sql: str) -> list[dict[str, Any]]:
        with psycopg.connect(self.dsn, row_factory=dict_row) as conn:
            return conn.execute(sql).fetchall()

    def read(self, kind: Kind) -> list[Record]:
        rows = self.query(f"SELECT {_columns(kind)} FROM {TABLES[kind].name}")
        return [record_from_row(kind, row) for row in rows]

    def raw_count(self, kind: Kind) -> int:
        return int(self.query(f"SELECT count(*) AS n FROM {TABLES[kind].name}")[0]["n"])


class ClickHouseStore:
    def __init__(self, dsn: str) -> None:
        self.sink = ClickHouseSink(dsn)
        self.dsn = dsn

    def query(self, sql: str) -> list[dict[str, Any]]:
        client = connect_clickhouse(self.dsn)
        try:
            result = client.query(sql, query_formats={"DateTime64": "int"})
            return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
        finally:
            client.close()

    def read(self, kind: Kind) -> list[Record]:
        rows = self.query(f"SELECT {_columns(kind)} FROM {TABLES[kind].name} FINAL")
        return [record_from_row(kind, row) for row in rows]

    def raw_count(self, kind: Kind) -> int:
        return int(self.query(f"SELECT count() AS n FROM {TABLES[kind].name}")[0]["n"])


class LakeStore:
    def __init__(self, root: Path) -> None:
        self.sink = ParquetLake(root, compact_every_s=3600)
        self.lake = self.sink

    def read(self, kind: Kind) -> list[Record]:
        frame = self.lake.read(kind)
        return [record_from_row(kind, row) for row in frame.to_dicts()]

    def raw_count(self, kind: Kind) -> int:
        return self.lake.read(kind, dedup=False).height
