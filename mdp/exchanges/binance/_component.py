"""The supervised pieces: ``binance.streams`` (one stream group, a worker) and
``binance.count`` (a sink that only counts, for running the collector alone).

A ``binance.streams`` worker sends model records to its first output channel, one record
per item and one ``send_batch`` per WebSocket read (the channel keeps a batch as one
chunk); the channel is supervisor-owned, so it outlives a restart, and it is what the
cleaning stages (``cleaning.stage``) take as input. Its :class:`GroupState` (trade positions,
books) is kept in ``ctx.memo``: a restarted worker goes on from the last trade id it
delivered and backfills what it missed. The REST client (and so the weight budget) is one
per market and REST URL for the whole process, shared by every group of that market.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import trio

from mdp.exchanges._ws import Payload
from mdp.exchanges.binance import _metrics as m
from mdp.exchanges.binance._config import StreamGroupArgs
from mdp.exchanges.binance._dispatch import GroupState
from mdp.exchanges.binance._group import StreamGroup
from mdp.exchanges.binance._instruments import fetch_instruments
from mdp.exchanges.binance._rest import RestClient
from mdp.model import MarketType, Record
from mdp.supervision import Context, component

__all__ = ["CountArgs", "rest_client"]

_clients: trio.lowlevel.RunVar[dict[tuple[str, MarketType], list[Any]]] = trio.lowlevel.RunVar(
    "binance_rest_clients"
)


@contextlib.asynccontextmanager
async def rest_client(args: StreamGroupArgs) -> AsyncIterator[RestClient]:
    """The process's (this Trio run's) REST client for the group's market, shared by
    every group using it and closed when the last one is done with it."""
    try:
        clients = _clients.get()
    except LookupError:
        clients = {}
        _clients.set(clients)
    key = (args.rest_endpoint(), args.market)
    entry = clients.get(key)
    if entry is None:
        limit = args.weight_limit or (2400 if args.futures else 6000)
        client = RestClient(
            key[0], args.market.value, weight_limit=limit, window_s=args.weight_window_s
        )
        entry = clients[key] = [client, 0]
    entry[1] += 1
    try:
        yield entry[0]
    finally:
        entry[1] -= 1
        if not entry[1]:
            del clients[key]
            with trio.move_on_after(1.0, shield=True):
                await entry[0].aclose()


@component("binance.streams", args=StreamGroupArgs)
async def streams(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """One stream group: connect, subscribe, parse, check continuity, publish."""
    args: StreamGroupArgs = ctx.args
    async with rest_client(args) as rest:
        await _run_group(ctx, args, rest, task_status)


async def _run_group(
    ctx: Context, args: StreamGroupArgs, rest: RestClient, task_status: trio.TaskStatus[None]
) -> None:
    out = ctx.outputs[0]
    state: GroupState | None = ctx.memo.get("state")
    if state is None or state.broken:
        instruments = await fetch_instruments(
            rest, args.market, args.symbols, Path(args.symbols_file)
        )
        state = ctx.memo["state"] = GroupState(args, instruments)
    dead_letters = ctx.supervisor.dead_letters

    def dead_letter(raw: Payload, exc: Exception) -> None:
        dead_letters.put(ctx.path, [bytes(raw).decode("utf-8", "replace")], exc, 1)

    async def send(records: list[Record]) -> None:
        await out.send_batch(records)  # one record per channel item, a read's worth at once

    group = StreamGroup(args, state, rest, send, dead_letter)
    ctx.memo["group"] = group
    await group.run(task_status=task_status)


@attrs.frozen(kw_only=True)
class CountArgs:
    batch: int = 4096  # records taken at most per receive


@component("binance.count", args=CountArgs)
async def count(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """Take records and count them by kind into ``ctx.memo['kinds']`` (and the
    ``records`` total); the stand-in consumer until cleaning and Kafka plug in."""
    inbox = ctx.inputs[0]
    kinds: dict[str, int] = ctx.memo.setdefault("kinds", {})
    task_status.started()
    while True:
        records: list[Any] = await inbox.receive_batch(ctx.args.batch)
        for r in records:
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        m.totals["records"] += len(records)
