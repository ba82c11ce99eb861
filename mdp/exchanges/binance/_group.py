"""A stream group at run time: its connection (two during a rollover), reconnects with
capped jittered backoff, the backfill and snapshot tasks, and the liveness watch.

Everything a group publishes goes out under one FIFO lock, taken around "turn frames into
records" *and* "send them", so a backfill finishing on another task can never slip its
trades behind later ones: downstream sees each symbol's trade ids in order.

Rollover: at ``max_connection_s`` (Binance closes connections at 24 h) or on a
``serverShutdown`` notice, a new connection is opened and subscribed first; only once it
is acknowledged is the old one closed. Both feed the same trackers, so the overlap is
dropped by trade id and update id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import trio

from mdp._exceptions import ExchangeConnectionError, ExchangeError
from mdp.exchanges._backoff import ReconnectBackoff
from mdp.exchanges._connections import serve_connections
from mdp.exchanges._ws import Payload, WsClient, connect
from mdp.exchanges.binance import _metrics as m
from mdp.exchanges.binance._book import BookSync
from mdp.exchanges.binance._config import StreamGroupArgs, cadence_s
from mdp.exchanges.binance._dispatch import GroupState
from mdp.exchanges.binance._parse import rest_trade
from mdp.exchanges.binance._rest import RestClient
from mdp.exchanges.binance._trades import TradeTracker
from mdp.model import Record, SourceState, SourceStatus, Trade

__all__ = ["StreamGroup"]

log = logging.getLogger("mdp.exchanges.binance")
Send = Callable[[list[Record]], Any]
DeadLetter = Callable[[Payload, Exception], None]
_ids = iter(range(1, 1 << 62))


class _Connection:
    def __init__(self, group: StreamGroup) -> None:
        self.group = group
        self.scope = trio.CancelScope()
        self.attention = trio.Event()  # ended, or wants a rollover
        self.ended = False
        self.reason = ""
        self.opened = 0.0
        self.shutdown_notice = False

    async def run(self, *, task_status: trio.TaskStatus[None]) -> None:
        g = self.group
        ws: WsClient | None = None
        started = False
        with self.scope:
            try:
                ws = await connect(g.url, receive_buffer=g.args.receive_buffer or None)
                sub_id = next(_ids)
                names = g.args.stream_names()
                await ws.send_text(
                    orjson.dumps({"method": "SUBSCRIBE", "params": names, "id": sub_id}).decode()
                )
                with trio.fail_after(10):
                    while sub_id not in g.state.acks:
                        await g.handle(await ws.receive_batch(), self)
                        refused = [e for e in g.state.errors if e.get("id") == sub_id]
                        if refused:  # a configuration error: retrying cannot help
                            raise ExchangeError(
                                f"{g.url}: SUBSCRIBE refused: {refused[0].get('msg')}; "
                                "check the group's streams and symbols"
                            )
                now = trio.current_time()
                self.opened = now
                for name in names:
                    g.acked_at.setdefault(name, now)
                started = True
                task_status.started()
                silence = g.args.receive_timeout_s
                while True:
                    with trio.move_on_after(silence) as wait:
                        payloads = await ws.receive_batch()
                    if wait.cancelled_caught:  # not even a ping: the connection is dead
                        raise ExchangeConnectionError(f"nothing received for {silence:g} s")
                    await g.handle(payloads, self)
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

    def close(self) -> None:
        self.scope.cancel()


class StreamGroup:
    """Run with ``await nursery.start(group.run)``; it reports started once subscribed."""

    def __init__(
        self,
        args: StreamGroupArgs,
        state: GroupState,
        rest: RestClient,
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
        self._nursery: trio.Nursery | None = None
        self._in_flight: set[int] = set()
        self._resume_work()

    def _resume_work(self) -> None:
        """A restarted worker gets its state back from the memo, but not the tasks that
        were filling its gaps and fetching its snapshots: they died with the old instance.
        Queue that work again (the first read starts it), or a gap would hold its trades
        back for ever and a book would buffer diffs for a snapshot nobody fetches."""
        state = self.state
        for tracker in state.trackers.values():
            if tracker.gap is not None and tracker not in state.backfills:
                state.backfills.append(tracker)
        for book in state.books.values():
            if not book.live:
                book.need_snapshot = True
                if book not in state.snapshots:
                    state.snapshots.append(book)

    async def _publish(self, records: list[Record]) -> None:
        """Send what the trackers already count as delivered, shielded: a cancellation
        (a rollover closing this connection) must not lose records that continuity state
        has moved past. Bounded, as every shield; past the bound the group's state is no
        longer true, so the group fails and its memo state is dropped."""
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
        notices = state.shutdown_notices
        async with self.lock:
            out: list[Record] = []
            counts = state.process(payloads, recv_ns, trio.current_time(), out)
            if out:
                await self._publish(out)
        m.totals["messages"] += len(payloads)
        market = self.market
        for stream, n in counts.items():
            m.MESSAGES.labels("binance", market, stream).inc(n)
        lag = state.lag_ns(out, recv_ns)
        if lag is not None:
            m.LAG.labels("binance", market).observe(lag / 1e9)
        if state.malformed:
            self._dead_letters()
        if state.shutdown_notices != notices:  # serverShutdown on this connection
            conn.shutdown_notice = True
            conn.attention.set()
        if state.backfills or state.snapshots:
            self._start_work()

    def _dead_letters(self) -> None:
        bad, self.state.malformed = self.state.malformed, []
        m.totals["malformed"] += len(bad)
        m.MALFORMED.labels("binance", self.market).inc(len(bad))
        for raw, exc in bad:
            self.dead_letter(raw, exc)

    def _start_work(self) -> None:
        nursery = self._nursery
        assert nursery is not None
        for tracker in self.state.backfills:
            m.totals["gaps"] += 1
            m.GAPS.labels("binance", self.market, "trade").inc()
            nursery.start_soon(self._backfill, tracker)
        self.state.backfills.clear()
        for book in self.state.snapshots:
            if id(book) not in self._in_flight and book.buffer:
                self._in_flight.add(id(book))
                nursery.start_soon(self._snapshot, book)
        self.state.snapshots.clear()

    # -- REST work --------------------------------------------------------------------------

    async def _backfill(self, tracker: TradeTracker) -> None:
        while True:
            assert tracker.gap is not None
            lo, hi = tracker.gap
            trades = await self._fetch_trades(tracker, lo, hi)
            async with self.lock:
                out: list[Record] = []
                again = tracker.backfilled(trades, time.time_ns(), out)
                await self._publish(out)
            filled = sum(1 for r in out if isinstance(r, Trade) and r.quality.reasons)
            m.totals["backfilled"] += filled
            m.BACKFILLED.labels("binance", self.market).inc(filled)
            unfilled = sum(1 for r in out if r.kind == "gap")
            if unfilled:
                m.totals["unfilled_gaps"] += unfilled
            if not again:
                return
            m.totals["gaps"] += 1
            m.GAPS.labels("binance", self.market, "trade").inc()

    def _trades_endpoint(self, tracker: TradeTracker) -> tuple[str, int, str]:
        """Where REST has a tracker's trades: path, request weight, and the id's key."""
        if self.args.futures:
            return "/fapi/v1/aggTrades", 20, "a"
        if tracker.id_key == "a":
            return "/api/v3/aggTrades", 4, "a"
        return "/api/v3/historicalTrades", 25, "id"

    async def _fetch_trades(self, tracker: TradeTracker, lo: int, hi: int) -> list[Trade]:
        """What REST has of ids ``lo..hi`` (whatever it cannot give shows as holes)."""
        agg = tracker.id_key == "a"
        path, weight, key = self._trades_endpoint(tracker)
        trades: list[Trade] = []
        next_id = lo
        while next_id <= hi:
            params = {"symbol": tracker.inst.native_symbol, "fromId": next_id, "limit": 1000}
            try:
                rows = await self.rest.get(path, params, weight)
            except ExchangeError as exc:
                log.warning("%s: backfill %d..%d failed: %s", tracker.stream, next_id, hi, exc)
                break
            if not rows:
                break
            recv_ns = time.time_ns()
            for row in rows:
                if row[key] > hi:
                    break
                trades.append(rest_trade(tracker.inst, row, recv_ns, agg))
            next_id = max(next_id, rows[-1][key] + 1)
            if len(rows) < 1000:
                break
        return trades

    async def _snapshot(self, book: BookSync) -> None:
        path = "/fapi/v1/depth" if self.args.futures else "/api/v3/depth"
        limit = self.args.snapshot_limit
        if self.args.futures:
            weight = 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20
        else:
            weight = 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
        try:
            while book.need_snapshot and book.buffer:
                book.need_snapshot = False
                symbol = book.inst.native_symbol
                try:
                    body = await self.rest.get(path, {"symbol": symbol, "limit": limit}, weight)
                except ExchangeError as exc:
                    log.warning("%s: snapshot failed: %s", book.stream, exc)
                    book.need_snapshot = True
                    await trio.sleep(1.0)
                    continue
                async with self.lock:
                    out: list[Record] = []
                    resyncs = book.resyncs
                    book.on_snapshot(body, time.time_ns(), out)
                    if out:
                        await self._publish(out)
                gaps = sum(1 for r in out if r.kind == "gap")
                if book.resyncs != resyncs:
                    m.totals["resyncs"] += 1
                    m.RESYNCS.labels("binance", self.market).inc()
                if gaps:
                    m.totals["gaps"] += gaps
                if book.need_snapshot:
                    await trio.sleep(0.05)  # too old, or not bridgeable: fetch again
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
                suffix = name.split("@", 1)[1]
                last = self.state.last_frame.get(name)
                cadence = cadence_s(suffix)
                if last is None:
                    if cadence is None or now - acked < args.first_frame_timeout_s:
                        continue
                    new, detail = (
                        SourceState.SILENT,
                        (
                            f"subscribed {now - acked:.1f} s ago, no frame yet (on USD-M, is the "
                            "stream on its route: /public or /market?)"
                        ),
                    )
                elif cadence is not None and now - last > cadence * args.stale_factor:
                    new, detail = SourceState.STALE, f"no frame for {now - last:.1f} s"
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

    def _opened(self) -> None:
        self.connections += 1

    async def _anchor_trades(self) -> None:
        """Before the first subscription, each tracker that has seen no trade yet learns
        the newest id from REST: the trades after it are this group's to deliver, so those
        a connection lost before its first frame missed are backfilled rather than skipped
        (a tracker trusts its first frame only when it has no anchor)."""
        for tracker in self.state.trackers.values():
            if tracker.next_id is not None or tracker.floor_id is not None:
                continue
            path, weight, key = self._trades_endpoint(tracker)
            params = {"symbol": tracker.inst.native_symbol, "limit": 1}
            try:
                rows = await self.rest.get(path, params, weight)
                if rows:  # none yet: the first frame starts the tape
                    tracker.floor_id = int(rows[-1][key]) + 1
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
                exchange="binance",
                market=self.market,
                backoff=self.backoff,
                max_age_s=self.args.max_connection_s,
                url=self.url,
                totals=m.totals,
                log=log,
                on_open=self._opened,
                task_status=task_status,
            )
