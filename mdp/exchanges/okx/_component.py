"""The supervised pieces: ``okx.streams`` (one stream group, a worker) and ``okx.count``
(a sink that only counts, for running the collector alone).

As ``binance.streams``: records go to the first output channel, one ``send_batch`` per
WebSocket read; the :class:`GroupState` (trade positions, books) is kept in
``ctx.memo`` so a restarted worker goes on from the last trade id it delivered; one REST
client per REST URL for the whole process, so the per-endpoint pacing is shared.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import trio

from mdp.exchanges._ws import Payload
from mdp.exchanges.okx import _metrics as m
from mdp.exchanges.okx._config import OkxStreamsArgs
from mdp.exchanges.okx._dispatch import GroupState
from mdp.exchanges.okx._group import StreamGroup
from mdp.exchanges.okx._instruments import fetch_instruments
from mdp.exchanges.okx._rest import OkxRestClient
from mdp.model import Record
from mdp.supervision import Context, component

__all__ = ["CountArgs", "rest_client"]

_clients: trio.lowlevel.RunVar[dict[str, list[Any]]] = trio.lowlevel.RunVar("okx_rest_clients")


@contextlib.asynccontextmanager
async def rest_client(args: OkxStreamsArgs) -> AsyncIterator[OkxRestClient]:
    """This Trio run's REST client for the group's URL, closed with its last user."""
    try:
        clients = _clients.get()
    except LookupError:
        clients = {}
        _clients.set(clients)
    key = args.rest_endpoint()
    entry = clients.get(key)
    if entry is None:
        entry = clients[key] = [OkxRestClient(key, per_2s=args.rest_per_2s), 0]
    entry[1] += 1
    try:
        yield entry[0]
    finally:
        entry[1] -= 1
        if not entry[1]:
            del clients[key]
            with trio.move_on_after(1.0, shield=True):
                await entry[0].aclose()


@component("okx.streams", args=OkxStreamsArgs)
async def streams(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """One stream group: connect, subscribe, parse, check continuity, publish."""
    args: OkxStreamsArgs = ctx.args
    async with rest_client(args) as rest:
        state: GroupState | None = ctx.memo.get("state")
        if state is None or state.broken:
            instruments, ct_vals = await fetch_instruments(
                rest, args.inst_type, args.symbols, Path(args.symbols_file)
            )
            state = ctx.memo["state"] = GroupState(args, instruments, ct_vals)
        out = ctx.outputs[0]
        dead_letters = ctx.supervisor.dead_letters

        def dead_letter(raw: Payload, exc: Exception) -> None:
            dead_letters.put(ctx.path, [bytes(raw).decode("utf-8", "replace")], exc, 1)

        async def send(records: list[Record]) -> None:
            await out.send_batch(records)

        group = StreamGroup(args, state, rest, send, dead_letter)
        ctx.memo["group"] = group
        await group.run(task_status=task_status)


@attrs.frozen(kw_only=True)
class CountArgs:
    batch: int = 4096


@component("okx.count", args=CountArgs)
async def count(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    """Count records by kind into ``ctx.memo['kinds']`` and the ``records`` total."""
    inbox = ctx.inputs[0]
    kinds: dict[str, int] = ctx.memo.setdefault("kinds", {})
    task_status.started()
    while True:
        records: list[Any] = await inbox.receive_batch(ctx.args.batch)
        for r in records:
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
        m.totals["records"] += len(records)
