"""ClickHouse: Arrow inserts into ReplacingMergeTree tables.

The frame's decimal strings become Decimal(38, 18) in Rust (``_decimals.py``, rows that
would not fit exactly are rejected first), ``time`` becomes DateTime64(9, 'UTC') from
``time_ns``, and the batch goes in as one Arrow block per kind, its LowCardinality columns
as Arrow dictionaries (the engine takes the dictionary instead of hashing every string). A
redelivered row is a second copy with the same sort key, which the merge removes; readers
that need exactly one copy before the merge read with ``FINAL``. Inserts skip
``optimize_on_insert`` (the in-block replacing): the merge does it, and it halved the
engine's CPU per row (docs/benchmarks.md).

Same code for the embedded engine and a server: ``chdb://DIR`` (clickhouse-connect runs
chdb in this process; one data directory per process) or ``http(s)://host:port``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import clickhouse_connect
import polars as pl
import trio

from mdp.model import Kind
from mdp.sinks._decimals import cast_decimals
from mdp.sinks._errors import StoreUnavailable
from mdp.sinks._frames import Rejected
from mdp.sinks._migrate import migrate_clickhouse
from mdp.sinks._schema import TABLES
from mdp.sinks._sink import FrameRows, Item, WriteResult, write_bisecting, write_items

__all__ = ["ClickHouseSink", "connect_clickhouse"]


def connect_clickhouse(dsn: str) -> Any:
    """A clickhouse-connect client for a ``chdb://`` DSN or an ``http(s)://`` URL."""
    try:
        return clickhouse_connect.get_client(dsn=dsn)
    except Exception as exc:
        raise StoreUnavailable(f"ClickHouse at {dsn} cannot be reached: {exc}") from exc


# The merge removes copies anyway (readers that need one use FINAL), so do not also sort
# out a block's own twins at insert time: that doubled the engine's CPU per row here.
_INSERT_SETTINGS = {"optimize_on_insert": 0}


def _rejection(exc: BaseException) -> str | None:
    """Serialization errors (a value the column type cannot hold) are the data's fault."""
    if isinstance(exc, OverflowError | ValueError | TypeError):
        return f"ClickHouse: {type(exc).__name__}: {exc}"
    return None


class ClickHouseSink:
    """Writes batches to ClickHouse (a server, or chdb embedded)."""

    name = "clickhouse"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._client: Any = None

    async def open(self) -> None:
        await trio.to_thread.run_sync(self._connection)

    def _connection(self) -> Any:
        if self._client is None:
            client = connect_clickhouse(self.dsn)
            try:
                migrate_clickhouse(client)
            except BaseException:
                client.close()
                raise
            self._client = client
        return self._client

    async def write(self, items: Sequence[Item]) -> WriteResult:
        return await trio.to_thread.run_sync(self.write_sync, items)

    async def write_frame(self, kind: Kind, frame: pl.DataFrame) -> WriteResult:
        return await trio.to_thread.run_sync(self.write_frame_sync, kind, frame)

    def write_sync(self, items: Sequence[Item]) -> WriteResult:
        """:meth:`write` on the calling thread (the benchmark uses it)."""
        return write_items(items, self.write_frame_sync)

    def write_frame_sync(
        self, kind: Kind, frame: pl.DataFrame, items: Sequence[Any] | None = None
    ) -> WriteResult:
        """:meth:`write_frame` on the calling thread; ``items[i]`` is what row i is."""
        client = self._connection()
        table = TABLES[kind]
        rows: Sequence[Any] = FrameRows(frame) if items is None else items
        frame, unfit = cast_decimals(table, frame)
        rejected: list[Rejected] = []
        if unfit:
            rejected += [(rows[i], reason) for i, reason in sorted(unfit.items())]
            rows = [r for i, r in enumerate(rows) if i not in unfit]
        frame = frame.with_columns(pl.col("time_ns").cast(pl.Datetime("ns", "UTC")).alias("time"))
        lc = [c.name for c in table.columns if c.type == "lc"]

        def insert(part: pl.DataFrame) -> None:
            try:
                arrow = part.with_columns(pl.col(lc).cast(pl.Categorical)).to_arrow()
                client.insert_arrow(table.name, arrow, settings=_INSERT_SETTINGS)
            except (OverflowError, ValueError, TypeError):
                raise
            except Exception as exc:
                raise StoreUnavailable(f"ClickHouse at {self.dsn}: {exc}") from exc

        failed = write_bisecting(frame, rows, insert, _rejection)
        return WriteResult(frame.height - len(failed), (*rejected, *failed))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
