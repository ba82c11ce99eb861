"""The hub: advances every symbol's market on a fixed tick and fans each tick's frames
out to the connections of that market as one batch (never one task switch per frame)."""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson
import trio

from mdp.simulator._config import Fault, SimulatorConfig
from mdp.simulator._instruments import Instrument, Market, instruments_for
from mdp.simulator._limits import WeightLimiter
from mdp.simulator._market import ALL_MARKET_STREAMS, Frame, SymbolMarket, stream_names

if TYPE_CHECKING:
    from mdp.simulator._ws import WsConnection

__all__ = ["Hub"]

_MAX_STEPS_PER_TICK = 250  # per symbol: bounds a batch, and how long the writers wait on it


class Hub:
    """Markets, connections and the counters the control endpoint reports."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        start_ms = config.start_ms if config.start_ms is not None else int(time.time() * 1000)
        self.start_ms = start_ms
        self.instruments: dict[Market, list[Instrument]] = {
            Market.SPOT: instruments_for(Market.SPOT, config.symbols, config.extra_symbols),
            Market.FUTURES: instruments_for(
                Market.FUTURES, config.futures_list(), config.extra_symbols
            ),
        }
        self.markets: dict[Market, dict[str, SymbolMarket]] = {
            market: {
                inst.symbol: SymbolMarket(
                    inst,
                    seed=config.seed,
                    rate=config.rate,
                    start_ms=start_ms,
                    history=config.history,
                    checkpoints=config.checkpoints,
                )
                for inst in insts
            }
            for market, insts in self.instruments.items()
        }
        self.known: dict[Market, set[str]] = {
            market: {name for inst in insts for name in stream_names(inst)}
            for market, insts in self.instruments.items()
        }
        self.known[Market.FUTURES].update(ALL_MARKET_STREAMS)
        self.prefixes: dict[str, bytes] = {}
        for names in self.known.values():
            for name in names:
                self.prefixes[name] = b'{"stream":"' + name.encode() + b'","data":'
        self.connections: dict[Market, set[WsConnection]] = {m: set() for m in Market}
        rest = config.rest
        self.limiters = {
            market: WeightLimiter(limit, rest.window_s, rest.ban_after, rest.ban_s)
            for market, limit in (
                (Market.SPOT, rest.spot_weight),
                (Market.FUTURES, rest.futures_weight),
            )
        }
        self.max_connection_s = config.max_connection_s
        self.pending_faults: dict[Market, list[Fault]] = {m: [] for m in Market}
        self._attempts: dict[Market, deque[float]] = {m: deque() for m in Market}
        self.stats: Counter[str] = Counter()
        self.close_reasons: Counter[str] = Counter()
        self.paused = False
        self.first_connection = trio.Event()
        self._dirty = True
        self._t0 = 0.0

    # -- connections ----------------------------------------------------------------------

    def register(self, conn: WsConnection) -> None:
        self.connections[conn.market].add(conn)
        self.first_connection.set()
        self.stats["connections_opened"] += 1
        self._dirty = True

    def unregister(self, conn: WsConnection) -> None:
        self.connections[conn.market].discard(conn)
        self.stats["connections_closed"] += 1
        self._dirty = True

    def connect_attempt(self, market: Market, now: float) -> float:
        """Count a handshake; 0 if allowed, else seconds until one would be (Binance:
        300 connection attempts per 5 minutes per IP; the simulator counts per port)."""
        attempts = self._attempts[market]
        window = self.config.connect_window_s
        while attempts and attempts[0] <= now - window:
            attempts.popleft()
        if len(attempts) >= self.config.max_connect_attempts:
            return max(0.001, attempts[0] + window - now)
        attempts.append(now)
        return 0.0

    def mark_dirty(self) -> None:
        self._dirty = True

    def add_prefix(self, name: str) -> None:
        if name not in self.prefixes:  # replayed streams need not be known ones
            self.prefixes[name] = b'{"stream":"' + name.encode() + b'","data":'

    def _refresh_wanted(self) -> None:
        for market, conns in self.connections.items():
            wanted = frozenset().union(*(c.delivered for c in conns)) if conns else frozenset()
            for symbol_market in self.markets[market].values():
                symbol_market.set_wanted(wanted)
        self._dirty = False

    def now_ms(self, market: Market) -> int:
        """The simulated clock (the latest step's time) of ``market``."""
        markets = self.markets[market]
        if markets:
            return max(m.now_ms() for m in markets.values())
        return self.start_ms

    # -- the tick loop --------------------------------------------------------------------

    def _clock_lag(self) -> float:
        """Seconds the wall clock is past the simulated clock's origin as the market starts
        (the markets were built first): the first ticks catch up on them, so that a frame's
        event time is the wall time it was made at, give or take a tick, as on an exchange.
        A configured origin is a replay of another time and is left where it is."""
        if self.config.start_ms is not None:
            return 0.0
        return max(0.0, time.time() - self.start_ms / 1000)

    @staticmethod
    def _all_market(symbols: Iterable[SymbolMarket], batch: list[Frame]) -> None:
        """``!markPrice@arr``: one frame per second with every symbol's update (the
        symbols cross a second in the same tick: they share rate and clock)."""
        merged: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for symbol_market in symbols:
            for key, updates in symbol_market.all_market.items():
                merged.setdefault(key, []).extend(updates)
            symbol_market.all_market.clear()
        for (stream, _), updates in sorted(merged.items(), key=lambda kv: kv[0][1]):
            batch.append((stream, orjson.dumps(updates)))

    def publish(self, market: Market, batch: list[Frame]) -> None:
        """Hand one batch to every connection of ``market`` (slow ones get cut off)."""
        if batch:
            self.stats[f"frames_generated_{market.value}"] += len(batch)
            for conn in list(self.connections[market]):
                conn.post(batch)

    async def run_market(self) -> None:
        """Advance the generated markets in step with the wall clock, one batch a tick.

        A tick that falls behind (a loaded machine, or a rate beyond what one core can
        generate) catches up by at most 4 ticks' worth of steps (and never more than
        ``_MAX_STEPS_PER_TICK``), so a batch stays bounded; the simulated clock then lags
        the wall clock.
        """
        rate, tick = self.config.rate, self.config.tick_s
        cap = max(1, min(_MAX_STEPS_PER_TICK, math.ceil(rate * tick * 4)))
        self._t0 = trio.current_time() - self._clock_lag()
        next_tick = trio.current_time()
        steps = 0
        while True:
            next_tick += tick
            await trio.sleep_until(next_tick)
            now = trio.current_time()
            if next_tick < now - 1:
                next_tick = now  # do not try to make up for a long pause
            if self.paused:
                self._t0 += tick  # a paused market does not catch up afterwards
                continue
            if self._dirty:
                self._refresh_wanted()
            due = int((now - self._t0) * rate)
            steps = min(due, steps + cap)
            for market, symbols in self.markets.items():
                batch: list[Frame] = []
                for symbol_market in symbols.values():
                    symbol_market.advance(steps, batch)
                if market is Market.FUTURES:
                    self._all_market(symbols.values(), batch)
                self.publish(market, batch)
