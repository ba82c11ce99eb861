"""PostgreSQL / TimescaleDB: COPY into a staging table, then one idempotent INSERT.

Per kind and batch: the frame is written as CSV by polars (in Rust: decimals as their exact
strings, NULL as an empty field) and streamed with ``COPY ... FROM STDIN`` into a temporary
staging table that empties at commit; ``INSERT INTO t SELECT ... ON CONFLICT DO NOTHING``
then adds the rows whose natural key is new, and computes ``time`` (timestamptz, µs) from
``time_ns`` in integer arithmetic. Candles, which are revised until they close, take the
newest version instead (``DO UPDATE ... WHERE`` older). One transaction per kind and batch:
a failure leaves nothing behind, and a retry is harmless.

CSV text rather than binary COPY: psycopg's per-row ``write_row`` costs more Python time than
the whole frame build here (docs/bench-sinks.md), and NUMERIC parses the decimal strings
as given, so scale and digits stay exactly what the exchange sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import psycopg
import trio

from mdp.model import Record
from mdp.sinks._ddl import pg_key, pg_type
from mdp.sinks._errors import StoreUnavailable
from mdp.sinks._frames import Rejected, build_frame, group_by_kind
from mdp.sinks._migrate import migrate_postgres
from mdp.sinks._schema import TABLES, Table
from mdp.sinks._sink import WriteResult, write_bisecting

__all__ = ["PostgresSink"]

# Exact: whole seconds and the microseconds below them, each well inside float8's 2^53.
_TIME = (
    "(timestamptz 'epoch' + (time_ns / 1000000000) * interval '1 second'"
    " + ((time_ns % 1000000000) / 1000) * interval '1 microsecond')"
)


def _insert_sql(table: Table) -> str:
    names = [c.name for c in table.columns]
    stage = f"_stage_{table.name}"
    columns = ", ".join(names)
    select = f"SELECT {columns}, {_TIME} FROM {stage}"
    if table.version is None:
        return f"INSERT INTO {table.name} ({columns}, time) {select} ON CONFLICT DO NOTHING"
    key = pg_key(table)
    natural = ", ".join(table.natural_key)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in [*names, "time"] if n not in key)
    return (
        f"INSERT INTO {table.name} ({columns}, time) "
        f"SELECT DISTINCT ON ({natural}) * FROM ({select}) s "
        f"ORDER BY {natural}, {table.version} DESC "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} "
        f"WHERE {table.name}.{table.version} < EXCLUDED.{table.version}"
    )


def _csv_frame(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Arrays as PostgreSQL array literals ({1.5,2}); CSV has no list type."""
    arrays = [
        pl.concat_str([pl.lit("{"), pl.col(c.name).list.join(","), pl.lit("}")]).alias(c.name)
        for c in table.columns
        if c.type == "decs"
    ]
    return frame.with_columns(arrays) if arrays else frame


def _rejection(exc: BaseException) -> str | None:
    """The reason when PostgreSQL refused the data itself (SQLSTATE classes 22 and 23)."""
    if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
        return f"PostgreSQL: {exc.sqlstate}: {str(exc).splitlines()[0]}"
    return None


class PostgresSink:
    """Writes batches to PostgreSQL (TimescaleDB hypertables when the extension exists)."""

    name = "postgres"

    def __init__(self, dsn: str, *, connect_timeout: float = 5.0) -> None:
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._inserts = {kind: _insert_sql(table) for kind, table in TABLES.items()}

    async def open(self) -> None:
        await trio.to_thread.run_sync(self._connection)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = None
        try:
            conn = psycopg.connect(
                self.dsn, connect_timeout=max(1, int(self.connect_timeout)), autocommit=True
            )
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL at {self.dsn} cannot be reached: {exc}") from exc
        try:
            migrate_postgres(conn)
            for table in TABLES.values():
                columns = ", ".join(f"{c.name} {pg_type(c)}" for c in table.columns)
                conn.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS _stage_{table.name} ({columns}) "
                    "ON COMMIT DELETE ROWS"
                )
        except psycopg.OperationalError as exc:
            conn.close()
            raise StoreUnavailable(f"PostgreSQL at {self.dsn} went away: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    async def write(self, records: Sequence[Record]) -> WriteResult:
        return await trio.to_thread.run_sync(self.write_sync, records)

    def write_sync(self, records: Sequence[Record]) -> WriteResult:
        """:meth:`write` on the calling thread (the benchmark and the CLI use it)."""
        conn = self._connection()
        rejected: list[Rejected] = []
        written = 0
        try:
            for kind, group in group_by_kind(records).items():
                table = TABLES[kind]
                frame, kept, bad = build_frame(table, group)
                rejected += bad
                insert = self._inserts[kind]

                def copy(part: pl.DataFrame, table: Table = table, insert: str = insert) -> None:
                    data = _csv_frame(table, part).write_csv(None, include_header=False)
                    with conn.transaction(), conn.cursor() as cur:
                        with cur.copy(f"COPY _stage_{table.name} FROM STDIN (FORMAT csv)") as cp:
                            cp.write(data)
                        cur.execute(insert)

                failed = write_bisecting(frame, kept, copy, _rejection)
                rejected += failed
                written += len(kept) - len(failed)
        except psycopg.OperationalError as exc:
            self.close()
            raise StoreUnavailable(f"PostgreSQL at {self.dsn} went away: {exc}") from exc
        return WriteResult(written, tuple(rejected))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
