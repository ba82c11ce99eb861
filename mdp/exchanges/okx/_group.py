"""An OKX stream group at run time: its connection (two during a rollover), keepalive,
reconnects with capped jittered backoff, the backfill and snapshot tasks, liveness.

Keepalive: OKX closes a connection after 30 s without traffic, so after ``ping_after_s``
with nothing received the text ``ping`` goes out; no answer (``pong``, or anything)
within ``pong_timeout_s`` and the connection is replaced. A ``64008`` notice (service
upgrade within 30 s) makes a new connection, subscribes it, and only then closes the old
one (make-before-break); both feed the same trackers, so the overlap is dropped by id.
Connections are opened at most 3 per second per process (OKX's per-IP limit), and a
connection sends one ``subscribe`` op (its limit is 480 per hour).

A subscription OKX refuses (a bad channel or instId) becomes a ``degraded``
:class:`SourceStatus` naming OKX's error, is not asked for again, and does not stop the
group: a configuration error must not turn into a crash loop.

Everything a group publishes goes out under one FIFO lock, around "turn frames into
records" and "send them", so a backfill can never slip its trades behind later ones.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
import trio

from mdp._exceptions import ExchangeConnectionError, ExchangeError
from mdp.exchanges._backoff import ReconnectBackoff
from mdp.exchanges._connections import serve_connections
from mdp.exchanges._ws import Payload, WsClient, connect
from mdp.exchanges.okx import _metrics as m
from mdp.exchanges.okx._book import BookSync
from mdp.exchanges.okx._config import OkxStreamsArgs, cadence_s
from mdp.exchanges.okx._dispatch import ConnectionView, GroupState
from mdp.exchanges.okx._parse import TradeRow, trade_rows
from mdp.exchanges.okx._rest import OkxRestClient
from mdp.exchanges.okx._trades import TradeTracker
from mdp.model import Record, SourceState, SourceStatus, Trade

__all__ = ["StreamGroup"]

log = logging.getLogger("mdp.exchanges.okx")
Send = Callable[[list[Record]], Any]
DeadLetter = Callable[[Payload, Exception], None]
_ids = iter(range(1, 1 << 62))
_connects: trio.lowlevel.RunVar[deque[float]] = trio.lowlevel.RunVar("okx_connects")
_CONNECTS_PER_S = 3


async def _connect_slot() -> None:
    """Wait until opening a connection keeps this process within 3 per second."""
    try:
        recent = _connects.get()
    except LookupError:
        recent = deque()
        _connects.set(recent)
    while True:
        now = trio.current_time()
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) < _CONNECTS_PER_S:
            recent.append(now)
            return
        await trio.sleep(recent[0] + 1.0 - now)


class _Connection:
    def __init__(self, group: StreamGroup) -> None:
        self.group = group
        self.scope = trio.CancelScope()
        self.attention = trio.Event()  # ended, or wants a rollover
        self.ended = False
        self.reason = ""
        self.opened = 0.0
        self.notice = False
        self.view = ConnectionView(set())

    async def run(self, *, task_status: trio.TaskStatus[None]) -> None:
        g = self.group
        ws: WsClient | None = None
        started = False
        with self.scope:
            try:
                await _connect_slot()
                ws = await connect(g.url)
                wanted = [(n, a) for n, a in g.args.subscription() if n not in g.state.refused]
                names = [n for n, _ in wanted]
                self.view.replaying = {n for n in names if n.startswith("liquidation-orders:")}
                for name in names:
                    g.state.acked.discard(name)
                request = {"id": str(next(_ids)), "op": "subscribe", "args": [a for _, a in wanted]}
                await ws.send_text(orjson.dumps(request).decode())
                with trio.fail_after(10):
                    while not all(n in g.state.acked or n in g.state.refused for n in names):
                        await g.handle(await ws.receive_batch(), self)
                        if g.state.unmatched_errors:
                            raise ExchangeError(
                                f"{g.url}: subscribe refused: {g.state.unmatched_errors[0]}"
                            )
                await g.report_refused()
                now = trio.current_time()
                self.opened = now
                for name in names:
                    if name in g.state.acked:
                        g.acked_at.setdefault(name, now)
                started = True
                task_status.started()
                await self._receive(ws)
            except (ExchangeConnectionError, trio.TooSlowError) as exc:
                if not started:
                    raise ExchangeConnectionError(f"{g.url}: {exc}") from None
                self.reason = str(exc)
            finally:
                self.ended = True
                self.attention.set()
                if ws is not None:
                    await ws.aclose(1000, "rollover" if not self.reason else "")
        if not self.reason:
            self.reason = "closed by the collector"

    async def _receive(self, ws: WsClient) -> None:
        """The receive loop with OKX's keepalive: ``ping`` after a quiet spell, and the
        connection is given up if nothing answers it."""
        g = self.group
        quiet, patience = g.args.ping_after_s, g.args.pong_timeout_s
        pinged = False
        while True:
            with trio.move_on_after(patience if pinged else quiet) as wait:
                payloads = await ws.receive_batch()
            if wait.cancelled_caught:
                if pinged:
                    raise ExchangeConnectionError(f"no pong within {patience:g} s of a ping")
                await ws.send_text("ping")
                m.totals["pings"] += 1
                pinged = True
                continue
            pinged = False
            await g.handle(payloads, self)

    def close(self) -> None:
        self.scope.cancel()


class StreamGroup:
    """Run with ``await nursery.start(group.run)``; it reports started once subscribed."""

    def __init__(
        self,
        args: OkxStreamsArgs,
        state: GroupState,
        rest: OkxRestClient,
        send: Send,
        dead_letter: DeadLetter,
    ) -> None:
        self.args = args
        self.state = state
        self.rest = rest
        self.send = send
        self.dead_letter = dead_letter
        self.url = args.ws_endpoint()
        self.market = args.market.value
        self.lock = trio.StrictFIFOLock()
        self.acked_at: dict[str, float] = {}
        self.health: dict[str, SourceState] = {}
        self.connections = 0  # opened and subscribed, rollovers included
        self.backoff = ReconnectBackoff(initial_s=args.backoff_initial_s, max_s=args.backoff_max_s)
        self._reported: set[str] = set()
        self._nursery: trio.Nursery | None = None
        self._in_flight: set[int] = set()
        self._resume_work()

    def _resume_work(self) -> None:
        """As on Binance: a restarted worker gets its state back from the memo, but not the
        tasks that were filling its gaps and fetching its REST snapshots. Queue that work
        again (the first read starts it), or a gap would hold its trades back for ever."""
        state = self.state
        for tracker in state.trackers.values():
            if tracker.gap is not None and tracker not in state.backfills:
                state.backfills.append(tracker)
        for book in state.books.values():
            if not book.live and book.rest_bootstrap:
                book.need_snapshot = True
                if book not in state.snapshots:
                    state.snapshots.append(book)

    async def _publish(self, records: list[Record]) -> None:
        """Shielded and bounded, as on Binance: records the trackers count as delivered
        must not be lost to a rollover's cancellation."""
        with trio.move_on_after(self.args.publish_timeout_s, shield=True) as scope:
            await self.send(records)
        if scope.cancelled_caught:
            self.state.broken = True
            raise ExchangeError(
                f"{self.url}: the output channel took no records for "
                f"{self.args.publish_timeout_s:g} s; is its consumer running?"
            )

    # -- the hot path ---------------------------------------------------------------------

    async def handle(self, payloads: list[Payload], conn: _Connection) -> None:
        recv_ns = time.time_ns()
        state = self.state
        notices = state.notices
        async with self.lock:
            out: list[Record] = []
            counts = state.process(payloads, recv_ns, trio.current_time(), out, conn.view)
            if out:
                await self._publish(out)
        m.totals["messages"] += len(payloads)
        for stream, n in counts.items():
            m.MESSAGES.labels("okx", self.market, stream).inc(n)
        lag = state.lag_ns(out, recv_ns)
        if lag is not None:
            m.LAG.labels("okx", self.market).observe(lag / 1e9)
        if state.malformed:
            bad, state.malformed = state.malformed, []
            m.totals["malformed"] += len(bad)
            m.MALFORMED.labels("okx", self.market).inc(len(bad))
            for raw, exc in bad:
                self.dead_letter(raw, exc)
        if state.notices != notices:
            conn.notice = True
            conn.attention.set()
        if state.backfills or state.snapshots:
            self._start_work()

    def _start_work(self) -> None:
        nursery = self._nursery
        assert nursery is not None
        for tracker in self.state.backfills:
            m.totals["gaps"] += 1
            m.GAPS.labels("okx", self.market, "trade").inc()
            nursery.start_soon(self._backfill, tracker)
        self.state.backfills.clear()
        for book in self.state.snapshots:
            if id(book) not in self._in_flight and book.need_snapshot:
                self._in_flight.add(id(book))
                nursery.start_soon(self._snapshot, book)
        self.state.snapshots.clear()

    async def report_refused(self) -> None:
        """A ``degraded`` SourceStatus for every stream OKX refused, once each."""
        events: list[Record] = []
        for name, error in self.state.refused.items():
            if name in self._reported:
                continue
            self._reported.add(name)
            self.health[name] = SourceState.DEGRADED
            m.totals["refused"] += 1
            log.error("%s: OKX refused the subscription to %s: %s", self.url, name, error)
            events.append(
                SourceStatus(
                    instrument=self.state.stream_instrument[name],
                    receive_time_ns=time.time_ns(),
                    stream=name,
                    state=SourceState.DEGRADED,
                    detail=f"subscription refused by OKX ({error}); check the group's "
                    "channels and instIds",
                )
            )
        if events:
            async with self.lock:
                await self._publish(events)

    # -- REST work --------------------------------------------------------------------------

    async def _backfill(self, tracker: TradeTracker) -> None:
        while True:
            assert tracker.gap is not None
            lo, hi = tracker.gap
            rows = await self._fetch_trades(tracker, lo, hi)
            async with self.lock:
                out: list[Record] = []
                again = tracker.backfilled(rows, time.time_ns(), out)
                await self._publish(out)
            filled = sum(1 for r in out if isinstance(r, Trade) and r.quality.reasons)
            m.totals["backfilled"] += filled
            m.BACKFILLED.labels("okx", self.market).inc(filled)
            m.totals["unfilled_gaps"] += sum(1 for r in out if r.kind == "gap")
            if not again:
                return
            m.totals["gaps"] += 1
            m.GAPS.labels("okx", self.market, "trade").inc()

    async def _fetch_trades(self, tracker: TradeTracker, lo: int, hi: int) -> list[TradeRow]:
        """``history-trades`` pages (newest first, 100 each) back from ``hi`` to ``lo``."""
        rows: list[TradeRow] = []
        after = hi + 1
        while after > lo:
            params = {"instId": tracker.inst.native_symbol, "type": "1", "after": after,
                      "limit": 100}  # fmt: skip
            try:
                page = await self.rest.get("/api/v5/market/history-trades", params)
            except ExchangeError as exc:
                log.warning("%s: backfill %d..%d failed: %s", tracker.stream, lo, hi, exc)
                break
            if not page:
                break
            decoded = trade_rows.decode(orjson.dumps(page))
            rows += decoded
            after = min(r.tradeId for r in decoded)
            if len(page) < 100:
                break
        return rows

    async def _snapshot(self, book: BookSync) -> None:
        try:
            while book.need_snapshot and not book.live:
                book.need_snapshot = False
                params = {"instId": book.inst.native_symbol, "sz": self.args.snapshot_depth}
                try:
                    data = await self.rest.get("/api/v5/market/books", params)
                except ExchangeError as exc:
                    log.warning("%s: snapshot failed: %s", book.stream, exc)
                    book.need_snapshot = True
                    await trio.sleep(1.0)
                    continue
                async with self.lock:
                    out: list[Record] = []
                    resyncs = book.resyncs
                    book.on_rest_snapshot(data[0], time.time_ns(), out)
                    if out:
                        await self._publish(out)
                if book.resyncs != resyncs:
                    m.totals["resyncs"] += 1
                    m.RESYNCS.labels("okx", self.market).inc()
                if book.need_snapshot:
                    await trio.sleep(0.05)
        finally:
            self._in_flight.discard(id(book))

    # -- liveness ---------------------------------------------------------------------------

    async def _liveness(self) -> None:
        args = self.args
        while True:
            await trio.sleep(args.liveness_interval_s)
            now = trio.current_time()
            events: list[Record] = []
            for name, acked in self.acked_at.items():
                channel = name.split(":", 1)[0]
                last = self.state.last_frame.get(name)
                cadence = cadence_s(channel)
                if last is None:
                    if cadence is None or now - acked < args.first_frame_timeout_s:
                        continue
                    new = SourceState.SILENT
                    detail = f"subscribed {now - acked:.1f} s ago, no push yet"
                elif cadence is not None and now - last > cadence * args.stale_factor:
                    new, detail = SourceState.STALE, f"no push for {now - last:.1f} s"
                else:
                    new, detail = SourceState.LIVE, ""
                old = self.health.get(name, SourceState.LIVE)
                if new is old:
                    continue
                self.health[name] = new
                m.STREAM_STATE.labels(self.market, name).set(1 if new is SourceState.LIVE else 0)
                if new is not SourceState.LIVE:
                    m.LIVENESS.labels(self.market, new.value).inc()
                    m.totals[f"stream_{new.value}"] += 1
                events.append(
                    SourceStatus(
                        instrument=self.state.stream_instrument[name],
                        receive_time_ns=time.time_ns(),
                        stream=name,
                        state=new,
                        detail=detail,
                    )
                )
            if events:
                async with self.lock:
                    await self._publish(events)

    # -- connections ------------------------------------------------------------------------

    def _lost(self) -> None:
        """The connection is gone: books start over from the next snapshot."""
        for book in self.state.books.values():
            book.reset()

    def _opened(self) -> None:
        self.connections += 1

    async def _anchor_trades(self) -> None:
        """Before the first subscription, each tracker that has seen no trade yet learns
        the newest trade id from REST: the trades after it are this group's to deliver, so
        those a connection lost before its first message missed are backfilled rather than
        skipped (a tracker trusts its first message only when it has no anchor)."""
        for tracker in self.state.trackers.values():
            if tracker.next_id is not None or tracker.floor_id is not None:
                continue
            params = {"instId": tracker.inst.native_symbol, "type": "1", "limit": 1}
            try:
                page = await self.rest.get("/api/v5/market/history-trades", params)
                if page:  # none yet: the first message starts the tape
                    tracker.floor_id = int(page[0]["tradeId"]) + 1
            except (ExchangeError, KeyError, TypeError, ValueError) as exc:
                log.warning("%s: no trade id to anchor at from REST: %r", tracker.stream, exc)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await self._anchor_trades()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._liveness)  # nothing to watch until a subscription
            await serve_connections(
                nursery,
                lambda: _Connection(self),
                exchange="okx",
                market=self.market,
                backoff=self.backoff,
                max_age_s=self.args.max_connection_s,
                url=self.url,
                totals=m.totals,
                log=log,
                on_open=self._opened,
                on_lost=self._lost,
                task_status=task_status,
            )
