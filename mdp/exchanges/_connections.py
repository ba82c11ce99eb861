"""What every exchange's stream group does with its connections: open one (retrying with
capped, jittered backoff), replace it when it is lost, and roll it over before the
exchange's connection age limit — the new connection up and subscribed before the old
one closes, so that nothing is missed (the overlap is deduplicated by the group's
trackers). What a connection does once open (subscribing, keepalive, parsing) stays with
the exchange's own ``_Connection``.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from typing import NoReturn, Protocol, TypeVar

import trio

from mdp._exceptions import ExchangeConnectionError
from mdp.exchanges._backoff import ReconnectBackoff
from mdp.exchanges.binance._metrics import RECONNECTS

__all__ = ["Connection", "open_connection", "serve_connections"]


class Connection(Protocol):
    opened: float  # Trio time it was subscribed
    ended: bool
    reason: str  # why it ended
    attention: trio.Event  # set once it ended (or, for some exchanges, wants a rollover)

    async def run(self, *, task_status: trio.TaskStatus[None]) -> None:
        """Connect and subscribe, report started, then read until the connection ends;
        raise :class:`ExchangeConnectionError` if it never started."""

    def close(self) -> None: ...


C = TypeVar("C", bound=Connection)


async def open_connection(
    nursery: trio.Nursery,
    new: Callable[[], C],
    *,
    backoff: ReconnectBackoff,
    url: str,
    totals: Counter[str],
    log: logging.Logger,
) -> C:
    """A started connection from ``new()``, trying again after each failure to connect."""
    while True:
        conn = new()
        try:
            await nursery.start(conn.run)
        except ExchangeConnectionError as exc:
            delay = backoff.next_delay()
            log.warning("%s: %s; again in %.2f s", url, exc, delay)
            totals["connect_failures"] += 1
            await trio.sleep(delay)
            continue
        return conn


async def serve_connections(
    nursery: trio.Nursery,
    new: Callable[[], Connection],
    *,
    exchange: str,
    market: str,
    backoff: ReconnectBackoff,
    max_age_s: float,
    url: str,
    totals: Counter[str],
    log: logging.Logger,
    on_open: Callable[[], None] | None = None,
    on_lost: Callable[[], None] | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Open a connection from ``new()`` (``on_open()`` after each one is subscribed; the
    first reports started), then
    keep one for ever: when it ends, ``on_lost()``, wait out the backoff if it had not
    been healthy for long, and open another; when it reaches ``max_age_s`` (0: no limit),
    open the next one first and only then close it."""

    async def reopen() -> Connection:
        conn = await open_connection(nursery, new, backoff=backoff, url=url, totals=totals, log=log)
        if on_open is not None:
            on_open()
        return conn

    current = await reopen()
    task_status.started()
    age = max_age_s or math.inf
    while True:
        with trio.move_on_at(current.opened + age):
            await current.attention.wait()
        if current.ended:
            uptime = trio.current_time() - current.opened
            backoff.healthy_for(uptime)
            totals["reconnects"] += 1
            RECONNECTS.labels(exchange, market, "lost").inc()
            log.info("%s: lost after %.1f s (%s)", url, uptime, current.reason)
            if on_lost is not None:
                on_lost()
            if uptime < backoff.reset_after_s:
                await trio.sleep(backoff.next_delay())
            current = await reopen()
        else:
            totals["rollovers"] += 1
            RECONNECTS.labels(exchange, market, "rollover").inc()
            new_connection = await reopen()
            current.close()
            current = new_connection
