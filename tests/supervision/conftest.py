"""Helpers for supervision tests: scripted workers that log what happens to them."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import attrs
import trio

from mdp.supervision import Context, WorkerSpec, component

_ids = itertools.count()


@attrs.define
class Log:
    """What scripted workers did, with Trio-clock times."""

    events: list[tuple[float, str, str, int]] = attrs.Factory(list)

    def add(self, ctx: Context, what: str) -> None:
        self.events.append((trio.current_time(), ctx.name, what, ctx.instance))

    def names(self, what: str) -> list[str]:
        return [name for _, name, w, _ in self.events if w == what]

    def times(self, name: str, what: str) -> list[float]:
        return [t for t, n, w, _ in self.events if n == name and w == what]

    def kinds(self) -> list[tuple[str, str]]:
        return [(name, w) for _, name, w, _ in self.events]


def worker(name: str, fn: Callable[..., Any], **kw: Any) -> WorkerSpec:
    """A spec for ``fn`` registered under a fresh component name."""
    cname = f"tests.supervision.{name}.{next(_ids)}"
    component(cname)(fn)
    return WorkerSpec(name=name, component=cname, **kw)


def scripted(
    log: Log,
    name: str,
    *,
    start_delay: float = 0.0,
    fail_start: Callable[[int], bool] = lambda _: False,
    crash_after: Callable[[int], float | None] = lambda _: None,
    exit_after: Callable[[int], float | None] = lambda _: None,
    stop_delay: float = 0.0,
    **kw: Any,
) -> WorkerSpec:
    """A worker that logs start/started/stop and crashes, returns or fails to start when
    told to (per instance number)."""

    async def fn(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        log.add(ctx, "start")
        if start_delay:
            await trio.sleep(start_delay)
        if fail_start(ctx.instance):
            log.add(ctx, "start-failed")
            raise ValueError(f"{ctx.name} cannot start")
        task_status.started()
        log.add(ctx, "started")
        try:
            crash = crash_after(ctx.instance)
            leave = exit_after(ctx.instance)
            if crash is not None:
                await trio.sleep(crash)
                log.add(ctx, "crash")
                raise ValueError(f"{ctx.name} crashed")
            if leave is not None:
                await trio.sleep(leave)
                log.add(ctx, "return")
                return
            await trio.sleep_forever()
        finally:
            if stop_delay:
                with trio.move_on_after(stop_delay * 2, shield=True):
                    await trio.sleep(stop_delay)
            log.add(ctx, "stop")

    return worker(name, fn, **kw)
