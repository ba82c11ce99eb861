"""The OKX hub: advances every instrument's market on a fixed tick and fans each tick's
pushes out to every connection as one batch (each connection keeps the channels it
subscribed to). Also the wall-clock parts of the protocol: books heartbeats while a
book does not change (a paused market), and liquidation pushes by ``instType``."""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

import orjson
import trio

from mdp.simulator.okx._config import OkxSimulatorConfig
from mdp.simulator.okx._instruments import OkxInstrument, okx_instruments
from mdp.simulator.okx._market import Frame, OkxMarket, channel_key

if TYPE_CHECKING:
    from mdp.simulator._config import Fault
    from mdp.simulator.okx._ws import OkxConnection

__all__ = ["LIQUIDATIONS", "OkxHub"]

LIQUIDATIONS = channel_key("liquidation-orders", "SWAP")
_MAX_STEPS_PER_TICK = 250
_RECENT_LIQUIDATIONS = 5  # what the first push after subscribing replays


class OkxHub:
    """Markets, connections, limits and the counters the control endpoint reports."""

    def __init__(self, config: OkxSimulatorConfig) -> None:
        self.config = config
        start_ms = config.start_ms if config.start_ms is not None else int(time.time() * 1000)
        self.start_ms = start_ms
        self.instruments: list[OkxInstrument] = okx_instruments(config.symbols)
        self.markets: dict[str, OkxMarket] = {
            inst.inst_id: OkxMarket(
                inst,
                seed=config.seed,
                rate=config.rate,
                start_ms=start_ms,
                history=config.history,
                checkpoints=config.checkpoints,
                checksum=config.checksum,
                funding_push_ms=config.funding_push_ms,
            )
            for inst in self.instruments
        }
        self.connections: set[OkxConnection] = set()
        self.pending_faults: list[Fault] = []
        self.max_connection_s = math.inf
        self.rest_forced: deque[int] = deque()  # 429s injected by a fault
        self.rest_calls: dict[str, deque[float]] = {}
        self.recent_liquidations: deque[dict[str, Any]] = deque(maxlen=_RECENT_LIQUIDATIONS)
        for market in self.markets.values():
            if market.inst.swap:
                self.recent_liquidations.append(market.old_liquidation())
        self.stats: Counter[str] = Counter()
        self.close_reasons: Counter[str] = Counter()
        self.paused = False
        self.first_connection = trio.Event()
        self.first_subscription = trio.Event()  # a replay starts here: pushes need subscribers
        self._attempts: deque[float] = deque()
        self._dirty = True
        self.wanted: frozenset[str] = frozenset()
        self._last_books: dict[str, float] = {}
        self._pushed: dict[str, int] = {}

    # -- connections --------------------------------------------------------------------

    def register(self, conn: OkxConnection) -> None:
        self.connections.add(conn)
        self.first_connection.set()
        self.stats["connections_opened"] += 1
        self._dirty = True

    def unregister(self, conn: OkxConnection) -> None:
        self.connections.discard(conn)
        self.stats["connections_closed"] += 1
        self._dirty = True

    def mark_dirty(self) -> None:
        self._dirty = True

    def connect_attempt(self, now: float) -> bool:
        """OKX: 3 connection requests per second per IP (here: per port)."""
        attempts = self._attempts
        while attempts and attempts[0] <= now - 1.0:
            attempts.popleft()
        if len(attempts) >= self.config.max_connects_per_s:
            return False
        attempts.append(now)
        return True

    def rest_admit(self, path: str, now: float) -> bool:
        """Per endpoint: ``rest_per_2s`` requests per 2 s (OKX's public limits)."""
        if self.rest_forced:
            self.rest_forced.popleft()
            return False
        calls = self.rest_calls.setdefault(path, deque())
        while calls and calls[0] <= now - 2.0:
            calls.popleft()
        if len(calls) >= self.config.rest_per_2s:
            return False
        calls.append(now)
        return True

    def now_ms(self) -> int:
        if self.markets:
            return max(m.now_ms() for m in self.markets.values())
        return self.start_ms

    def _refresh_wanted(self) -> None:
        conns = self.connections
        wanted = frozenset().union(*(c.delivered for c in conns)) if conns else frozenset()
        self.wanted = wanted
        for market in self.markets.values():
            market.set_wanted(wanted)
        self._dirty = False

    def publish(self, batch: list[Frame]) -> None:
        if batch:
            self.stats["frames_generated"] += len(batch)
            for conn in list(self.connections):
                conn.post(batch)

    def reset_sequences(self) -> None:
        for market in self.markets.values():
            market.reset_sequence()
        self.stats["sequence_resets"] += 1

    # -- the tick loop ------------------------------------------------------------------

    def _side_pushes(self, now: float, batch: list[Frame]) -> None:
        """Heartbeats for books that did not change for ``heartbeat_s`` (none while a
        change waits for its window: the heartbeat's checksum is the pushed book's); the
        tick's liquidations as one push."""
        rows: list[dict[str, Any]] = []
        for inst_id, market in self.markets.items():
            if self._pushed.get(inst_id) != market.pushed_seq or inst_id not in self._last_books:
                self._pushed[inst_id] = market.pushed_seq
                self._last_books[inst_id] = now
            elif now - self._last_books[inst_id] >= self.config.heartbeat_s and not market.pending:
                self._last_books[inst_id] = now
                if market.k_books in market.wanted:
                    batch.append((market.k_books, market.heartbeat()))
                    self.stats["heartbeats"] += 1
            rows += market.liquidations
            market.liquidations.clear()
        if rows:
            self.recent_liquidations.extend(rows)
            if LIQUIDATIONS in self.wanted:
                arg = {"channel": "liquidation-orders", "instType": "SWAP"}
                batch.append((LIQUIDATIONS, orjson.dumps({"arg": arg, "data": rows})))

    def _clock_lag(self) -> float:
        """As the Binance hub's: the first ticks catch up on the time the markets took to
        build, so that event times are the wall time a frame was made at."""
        if self.config.start_ms is not None:
            return 0.0
        return max(0.0, time.time() - self.start_ms / 1000)

    async def run_market(self) -> None:
        """Advance the markets with the wall clock, one batch a tick (as the Binance hub:
        a late tick catches up by at most 4 ticks' worth of steps)."""
        rate, tick = self.config.rate, self.config.tick_s
        cap = max(1, min(_MAX_STEPS_PER_TICK, math.ceil(rate * tick * 4)))
        next_tick = trio.current_time()
        t0 = next_tick - self._clock_lag()
        steps = 0
        while True:
            next_tick += tick
            await trio.sleep_until(next_tick)
            now = trio.current_time()
            if next_tick < now - 1:
                next_tick = now
            if self._dirty:
                self._refresh_wanted()
            batch: list[Frame] = []
            if self.paused:
                t0 += tick
                for market in self.markets.values():
                    market.flush_pending(batch)
            else:
                steps = min(int((now - t0) * rate), steps + cap)
                for market in self.markets.values():
                    market.advance(steps, batch)
            self._side_pushes(now, batch)
            self.publish(batch)
