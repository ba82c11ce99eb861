"""A sink for the bus role tests: it keeps every trade id it receives, per symbol, in its
node's memo (which survives its restarts). ``pause`` makes it slow on purpose, so that
the consumers upstream spend their time blocked on a full channel with a fetch in hand:
the moment a kill leaves an uncommitted tail."""

from __future__ import annotations

import attrs
import trio

from mdp.supervision import Context, component
from tests.bus.helpers import Arrivals, trades, unique_instruments


@attrs.frozen(kw_only=True)
class SinkArgs:
    batch: int = 500
    pause: float = 0.0  # seconds after each batch


@component("bustest.sink", args=SinkArgs)
async def sink(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    args: SinkArgs = ctx.args
    arrived: Arrivals = ctx.memo.setdefault("arrived", Arrivals())
    inbox = ctx.inputs[0]
    task_status.started()
    while True:
        batch = await inbox.receive_batch(args.batch)
        arrived.add(batch)  # synchronous: acknowledged by the next receive
        if args.pause:
            await trio.sleep(args.pause)


@attrs.frozen(kw_only=True)
class TradesArgs:
    exchange: str
    count: int
    batch: int = 1000
    interval: float = 0.005


@component("bustest.trades", args=TradesArgs)
async def trade_source(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """``count`` trades over three symbols (ids 0, 1, 2… per symbol), position in memo."""
    args: TradesArgs = ctx.args
    instruments = unique_instruments(3, args.exchange)
    out = ctx.outputs[0]
    ctx.memo.setdefault("next", 0)
    task_status.started()
    while ctx.memo["next"] < args.count:
        start = ctx.memo["next"]
        stop = min(start + args.batch, args.count)
        await out.send_batch(trades(instruments, start, stop))
        ctx.memo["next"] = stop  # send_batch is all or nothing
        await trio.sleep(args.interval)
    await trio.sleep_forever()
