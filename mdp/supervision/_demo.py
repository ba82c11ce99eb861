"""The ``demo`` role's components: a counter source, transform stages, a counting sink.

Small enough to read in one sitting, and exact enough to test the runtime with: the source
emits 0, 1, 2, … with its position in the node's memo (so a restarted source goes on where
it stopped), and the sink checks that every number arrives exactly once and in order.
``demo.crash`` fails on purpose, to watch restarts and escalation.
"""

from __future__ import annotations

import attrs
import trio

from mdp.supervision._component import component
from mdp.supervision._context import Context

__all__ = ["CounterArgs", "CrashArgs", "SinkArgs", "StageArgs"]


@attrs.frozen(kw_only=True)
class CounterArgs:
    count: int = 0  # stop sending after this many numbers (0: never)
    batch: int = 100  # numbers per send
    interval: float = 0.0  # seconds between batches (0: as fast as the pipeline takes them)


@attrs.frozen(kw_only=True)
class StageArgs:
    add: int = 1  # added to every number
    batch: int = 100  # numbers taken at most per receive


@attrs.frozen(kw_only=True)
class SinkArgs:
    start: int = 0  # the first number expected
    batch: int = 100


@attrs.frozen(kw_only=True)
class CrashArgs:
    after: float = 0.1  # seconds of running before the crash


@component("demo.counter", args=CounterArgs)
async def counter(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """Send ``count`` consecutive numbers in batches, then idle."""
    args: CounterArgs = ctx.args
    out = ctx.outputs[0]
    memo = ctx.memo
    memo.setdefault("next", 0)
    task_status.started()
    while not args.count or memo["next"] < args.count:
        start = memo["next"]
        stop = start + args.batch if not args.count else min(start + args.batch, args.count)
        await out.send_batch(range(start, stop))
        # send_batch is all-or-nothing, and nothing can interrupt us before this line.
        memo["next"] = stop
        if args.interval:
            await trio.sleep(args.interval)
    await trio.sleep_forever()


@component("demo.add", args=StageArgs)
async def add(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """Add ``add`` to every number, batch in, batch out."""
    args: StageArgs = ctx.args
    inbox, out = ctx.inputs[0], ctx.outputs[0]
    task_status.started()
    while True:
        batch = await inbox.receive_batch(args.batch)
        await out.send_batch([n + args.add for n in batch])


@component("demo.sink", args=SinkArgs)
async def sink(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """Count numbers and check that each is the one expected next.

    ``memo`` holds ``received``, ``expected`` (the next number), ``duplicates`` and
    ``gaps``: with no loss and no duplicate, the last two stay 0.
    """
    args: SinkArgs = ctx.args
    inbox = ctx.inputs[0]
    memo = ctx.memo
    for key in ("received", "duplicates", "gaps"):
        memo.setdefault(key, 0)
    memo.setdefault("expected", args.start)
    task_status.started()
    while True:
        batch = await inbox.receive_batch(args.batch)
        # Accounted for synchronously: the batch is acknowledged by the next receive.
        expected = memo["expected"]
        for n in batch:
            if n == expected:
                expected += 1
            elif n < expected:
                memo["duplicates"] += 1
            else:
                memo["gaps"] += n - expected
                expected = n + 1
        memo["expected"] = expected
        memo["received"] += len(batch)


@component("demo.crash", args=CrashArgs)
async def crash(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """Run ``after`` seconds, then fail."""
    task_status.started()
    await trio.sleep(ctx.args.after)
    raise RuntimeError(f"{ctx.path} crashed on purpose (demo.crash, instance {ctx.instance})")
