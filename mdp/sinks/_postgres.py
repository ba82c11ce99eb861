"""PostgreSQL / TimescaleDB: COPY, idempotent on the natural key.

Per kind and batch, one transaction, under a per-instrument advisory lock (``copy`` in
:meth:`PostgresSink.write_frame_sync`); the frame is written as CSV by polars (in Rust:
decimals as their exact strings, NULL as an empty field):

* **new data** — nothing of the batch's instruments stored at or after the batch's first
  time (one probe per instrument through the index on time; under the lock nobody else
  writes them): no row can be a twin of a stored one, so the CSV goes with ``COPY`` straight
  into the table, ``time`` formatted by the client (the µs ``_time`` computes). No staging
  table, no anti-join: about a fifth less server CPU per row (docs/benchmarks.md).
* **otherwise** (a redelivery, a backfill, a batch that shares an instant with the last one)
  ``COPY`` into a temporary staging table that empties at commit, then ``INSERT INTO t
  SELECT ... WHERE NOT EXISTS`` the rows whose natural key is not stored in the batch's time
  window, ``time`` computed from ``time_ns`` in integer arithmetic (see ``_insert_sql``).

Candles, which are revised until they close, always take the staging path and the newest
version (``ON CONFLICT DO UPDATE ... WHERE`` older). A failure leaves nothing behind, and a
retry is harmless.

CSV text rather than binary COPY: psycopg's per-row ``write_row`` cost about 5 µs per row
of Python time for just four columns here, more than the whole frame build
(docs/benchmarks.md), and NUMERIC parses the decimal strings as given, so scale and digits
stay exactly what the exchange sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import psycopg
import trio

from mdp.model import Kind
from mdp.sinks._ddl import pg_key, pg_type
from mdp.sinks._errors import SinkError, StoreUnavailable
from mdp.sinks._migrate import migrate_postgres
from mdp.sinks._schema import TABLES, Table
from mdp.sinks._sink import FrameRows, Item, WriteResult, write_bisecting, write_items

__all__ = ["PostgresSink"]

_INSTRUMENT = ["exchange", "market", "symbol"]


def _time(ns: str) -> str:
    """timestamptz from integer ns, exactly: whole seconds and the microseconds below them,
    each well inside float8's 2^53 (``to_timestamp(ns / 1e9)`` could be 1 µs off)."""
    return (
        f"(timestamptz 'epoch' + ({ns} / 1000000000) * interval '1 second'"
        f" + (mod({ns}, 1000000000) / 1000) * interval '1 microsecond')"
    )


def _insert_sql(table: Table) -> str:
    names = [c.name for c in table.columns]
    stage = f"_stage_{table.name}"
    columns = ", ".join(names)
    select = f"SELECT {columns}, {_time('time_ns')} FROM {stage}"
    if table.version is None:
        # Only rows whose natural key is not stored yet, looked for in the batch's own time
        # window (a few chunks at most, through the index on time): about half the server CPU of ON
        # CONFLICT on a unique index here (docs/benchmarks.md). Writers of one instrument
        # take its advisory lock first, so two of them cannot both find a key absent.
        match = " AND ".join(f"d.{k} = s.{k}" for k in table.natural_key)
        window = f"d.time BETWEEN {_time('%(lo)s::bigint')} AND {_time('%(hi)s::bigint')}"
        return (
            f"INSERT INTO {table.name} ({columns}, time) {select} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table.name} d WHERE {window} AND {match})"
        )
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


def _stored_since_sql(table: Table) -> str:
    """Does the table hold a row of this instrument at or after the batch's first time?"""
    return (
        f"SELECT EXISTS (SELECT 1 FROM {table.name} WHERE time >= {_time('%(lo)s::bigint')}"
        " AND exchange = %(exchange)s AND market = %(market)s AND symbol = %(symbol)s)"
    )


def _with_time(frame: pl.DataFrame) -> pl.DataFrame:
    """``time`` as timestamptz text, the µs ``_time`` computes (ns / 1000 toward zero)."""
    ns = pl.col("time_ns")
    us = pl.when(ns >= 0).then(ns // 1000).otherwise((ns + 999) // 1000)  # // floors
    text = us.cast(pl.Datetime("us", "UTC")).dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00")
    return frame.with_columns(text.alias("time"))


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


def _fetch(cur: psycopg.Cursor[Any], sql: str, params: dict[str, Any]) -> bool:
    row = cur.execute(sql, params).fetchone()
    return bool(row and row[0])


class PostgresSink:
    """Writes batches to PostgreSQL (TimescaleDB hypertables when the extension exists)."""

    name = "postgres"

    def __init__(self, dsn: str, *, connect_timeout: float = 5.0) -> None:
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._inserts = {kind: _insert_sql(table) for kind, table in TABLES.items()}
        self._direct_copies = {
            kind: f"COPY {t.name} ({', '.join(c.name for c in t.columns)}, time) "
            "FROM STDIN (FORMAT csv)"
            for kind, t in TABLES.items()
        }

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

    async def write(self, items: Sequence[Item]) -> WriteResult:
        return await trio.to_thread.run_sync(self.write_sync, items)

    async def write_frame(self, kind: Kind, frame: pl.DataFrame) -> WriteResult:
        return await trio.to_thread.run_sync(self.write_frame_sync, kind, frame)

    def write_sync(self, items: Sequence[Item]) -> WriteResult:
        """:meth:`write` on the calling thread (the benchmark and the CLI use it)."""
        return write_items(items, self.write_frame_sync)

    def write_frame_sync(
        self, kind: Kind, frame: pl.DataFrame, items: Sequence[Any] | None = None
    ) -> WriteResult:
        """:meth:`write_frame` on the calling thread; ``items[i]`` is what row i is."""
        conn = self._connection()
        table = TABLES[kind]
        insert = self._inserts[kind]
        stored_since = _stored_since_sql(table)
        direct = self._direct_copies[kind]

        rows: Sequence[Any] = FrameRows(frame) if items is None else items
        total = frame.height
        if table.version is None:
            # The anti-join finds keys already stored, not twins inside the batch: drop those
            # here (a redelivered record can share a batch with its first copy).
            key = list(table.natural_key)
            if frame.select(key).is_duplicated().any():
                first = frame.with_row_index("_i").unique(subset=key, keep="first")
                keep = first["_i"].sort().to_list()
                frame, rows = frame[keep], [rows[i] for i in keep]

        def copy(part: pl.DataFrame) -> None:
            window = part.select(lo=pl.col("time_ns").min(), hi=pl.col("time_ns").max()).row(
                0, named=True
            )
            starts = part.group_by(_INSTRUMENT).agg(lo=pl.col("time_ns").min()).sort(_INSTRUMENT)
            with conn.transaction(), conn.cursor() as cur:
                for exchange, market, symbol, _ in starts.iter_rows():
                    lock = f"{table.name}/{exchange}/{market}/{symbol}"
                    cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
                if table.version is None:
                    # Look for stored rows through the index on time, never by scanning
                    # the chunk: fresh chunks have no statistics, and a scan grows with the
                    # day. No JIT: it costs more than these statements take.
                    cur.execute("SET LOCAL enable_seqscan = off; SET LOCAL jit = off")
                    if not any(_fetch(cur, stored_since, p) for p in starts.iter_rows(named=True)):
                        # Nothing of these instruments stored at or after the batch's first
                        # time (the usual case: new data), so no row can be a twin: COPY
                        # straight into the table, no staging, no anti-join.
                        data = _csv_frame(table, _with_time(part)).write_csv(
                            None, include_header=False
                        )
                        with cur.copy(direct) as cp:
                            cp.write(data)
                        return
                data = _csv_frame(table, part).write_csv(None, include_header=False)
                with cur.copy(f"COPY _stage_{table.name} FROM STDIN (FORMAT csv)") as cp:
                    cp.write(data)
                cur.execute(insert, window if table.version is None else None)

        try:
            failed = write_bisecting(frame, rows, copy, _rejection)
        except psycopg.OperationalError as exc:
            self.close()
            raise StoreUnavailable(f"PostgreSQL at {self.dsn} went away: {exc}") from exc
        except psycopg.Error as exc:  # not the data's fault (a schema changed under us...)
            self.close()
            raise SinkError(
                f"PostgreSQL at {self.dsn} failed a write: {exc}; check the schema "
                "(mdp db status) and the server log"
            ) from exc
        return WriteResult(total - len(failed), tuple(failed))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
