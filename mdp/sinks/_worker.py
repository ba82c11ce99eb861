"""The sinks as supervised workers: ``sink.postgres``, ``sink.clickhouse``, ``sink.parquet``.

    [[supervisor.children]]
    name = "timescale"
    component = "sink.postgres"
    inputs = ["records"]
    args = { dsn = "postgresql://mdp@127.0.0.1:5432/mdp", flush_rows = 50000 }

Fed by ``bus.consumer`` with ``deliver = "columns"`` (the fast way: no record per trade),
the channel carries a column batch per Kafka message of trades, and a column batch counts
as **one item** for the channel's capacity and for ``flush_rows`` and ``max_rows``: set
them in messages (``records_per_message`` trades each, 1000 by default), e.g.
``flush_rows = 50, max_rows = 100`` for writes of 50 000–100 000 trades.

Order of work, which is what makes "offsets are committed after the write" hold: wait
until ``flush_rows`` items are queued or ``flush_interval_s`` has passed since the first
one; take at most ``max_rows``; write them — while the store is down, wait with capped,
jittered backoff and write the *same* batch again, for as long as it takes (the channel
fills and the consumer upstream stops: backpressure, nothing dropped); dead-letter the rows
the store rejected, with the reason; only then acknowledge the batch (``inbox.done()``,
which taking the next one would also do) — never before it is stored. A kill at any
point redelivers the unacknowledged batch to the next instance, and the idempotent writes
store it once.

A store failing for a reason that is not the rows' (a migration that cannot be applied, a
table changed under the sink) is waited out the same way, with ``last_error`` saying why:
crashing instead would make the supervisor count the batch as poison and dead-letter good
rows after a few attempts.

The figures live in the node's memo (``ctx.memo["sink"]``) and survive restarts.
"""

from __future__ import annotations

import random

import attrs
import trio

from mdp.sinks._clickhouse import ClickHouseSink
from mdp.sinks._errors import RowRejected, SinkError
from mdp.sinks._lake import ParquetLake
from mdp.sinks._postgres import PostgresSink
from mdp.sinks._sink import Sink
from mdp.supervision import Context, Inbox, component

__all__ = ["ClickHouseArgs", "ParquetArgs", "PostgresArgs", "SinkStats", "run_sink"]


@attrs.define
class SinkStats:
    batches: int = 0
    written: int = 0
    rejected: int = 0
    retries: int = 0
    last_error: str = ""
    store_down_s: float = 0.0


@attrs.frozen(kw_only=True)
class _FlushArgs:
    flush_rows: int = 50_000  # write once this many items are queued...
    flush_interval_s: float = 1.0  # ...or this long after the first one arrived
    max_rows: int = 100_000  # items per write at most (a record, or a column batch: one each)
    retry_initial_s: float = 0.1
    retry_max_s: float = 10.0


@attrs.frozen(kw_only=True)
class PostgresArgs(_FlushArgs):
    dsn: str


@attrs.frozen(kw_only=True)
class ClickHouseArgs(_FlushArgs):
    dsn: str  # chdb://DIR or http(s)://host:port


@attrs.frozen(kw_only=True)
class ParquetArgs(_FlushArgs):
    root: str
    fsync: bool = True
    compact_min_files: int = 8
    compact_every_s: float = 60.0


async def _wait_to_flush(inbox: Inbox, args: _FlushArgs) -> None:
    """Return when a write is due. Polls the depth (the inbox has no "wait for n items"),
    at most every 5 ms: a few hundred wake-ups a second at worst, none per record."""
    if inbox.pending_redelivery:
        return
    channel = inbox.channel
    enough = min(args.flush_rows, channel.capacity)
    poll = min(0.005, args.flush_interval_s / 4)
    # ASYNC110 ignored below: the supervision Inbox has no wait-for-n-items (proposed to its owner);
    # a bounded poll is the honest substitute until it does.
    while channel.depth == 0 and not channel.closed:  # noqa: ASYNC110
        await trio.sleep(poll)
    deadline = trio.current_time() + args.flush_interval_s
    while channel.depth < enough and trio.current_time() < deadline:  # noqa: ASYNC110
        await trio.sleep(poll)


async def run_sink(
    ctx: Context, sink: Sink, args: _FlushArgs, *, task_status: trio.TaskStatus[None]
) -> None:
    """The loop every sink worker runs (see the module docstring)."""
    inbox = ctx.inputs[0]
    stats: SinkStats = ctx.memo.setdefault("sink", SinkStats())
    dead_letters = ctx.supervisor.dead_letters
    rng = random.Random()
    task_status.started()  # a store that is down is waited for below, not a failed start
    try:
        while True:
            await _wait_to_flush(inbox, args)
            batch = await inbox.receive_batch(args.max_rows)
            delay = args.retry_initial_s
            while True:
                try:
                    result = await sink.write(batch)
                    break
                except SinkError as exc:  # down, or failing for a reason not the rows'
                    stats.retries += 1
                    stats.last_error = str(exc)
                    pause = delay * rng.uniform(0.5, 1.5)
                    stats.store_down_s += pause
                    await trio.sleep(pause)
                    delay = min(args.retry_max_s, delay * 2)
            for record, reason in result.rejected:
                dead_letters.put(ctx.path, [record], RowRejected(sink.name, reason), 1)
            # Acknowledge now rather than at the next receive: the batch is stored, and a
            # quiet stream must not hold the consumer's commit back until more data comes.
            inbox.done()
            stats.batches += 1
            stats.written += result.written
            stats.rejected += len(result.rejected)
    finally:
        sink.close()


@component("sink.postgres", args=PostgresArgs)
async def postgres_worker(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: PostgresArgs = ctx.args
    await run_sink(ctx, PostgresSink(args.dsn), args, task_status=task_status)


@component("sink.clickhouse", args=ClickHouseArgs)
async def clickhouse_worker(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: ClickHouseArgs = ctx.args
    await run_sink(ctx, ClickHouseSink(args.dsn), args, task_status=task_status)


@component("sink.parquet", args=ParquetArgs)
async def parquet_worker(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: ParquetArgs = ctx.args
    lake = ParquetLake(
        args.root,
        fsync=args.fsync,
        compact_min_files=args.compact_min_files,
        compact_every_s=args.compact_every_s,
    )
    await run_sink(ctx, lake, args, task_status=task_status)
