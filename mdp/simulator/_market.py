"""The deterministic market model of one symbol: sans-I/O, pure Python, seeded.

A *step* is one taker order hitting the best level on one side: it makes 1–3 raw trades
(consecutive ids, one per resting maker order) at one price, i.e. exactly one aggregate
trade, followed by 1–3 maker changes (adds, cancels) elsewhere in the book. Every book
change takes an update id; depth frames carry the final quantity of every level changed in
their window, so a REST snapshot plus the following diffs gives exactly the next
checkpoint. Times are derived from the step number, never from the wall clock, so the same
seed gives byte-identical frames however the steps are scheduled.

Frames are rendered with orjson once, as bytes, and only for streams someone is
subscribed to (``wanted``); the history (ground truth, REST backfill) is kept regardless.
"""

from __future__ import annotations

import random
from array import array
from typing import Any

import orjson

from mdp.simulator._book import ASK, BID, Book
from mdp.simulator._instruments import Instrument, Market, NumberScale
from mdp.simulator._tape import AggTape, CheckpointLog, TradeTape

__all__ = ["ALL_MARKET_STREAMS", "DEPTH_INTERVALS", "Frame", "SymbolMarket", "stream_names"]

Frame = tuple[str, bytes]
"""(stream name, rendered payload) — the unit the hub fans out."""

# depth stream suffix → window in ms, per market (Binance: spot @depth is 1000 ms,
# futures @depth is 250 ms).
DEPTH_INTERVALS: dict[Market, dict[str, int]] = {
    Market.SPOT: {"@depth": 1000, "@depth@1000ms": 1000, "@depth@100ms": 100},
    Market.FUTURES: {
        "@depth": 250,
        "@depth@100ms": 100,
        "@depth@250ms": 250,
        "@depth@500ms": 500,
    },
}
_MARK_INTERVALS = {"@markPrice": 3000, "@markPrice@1s": 1000}
FORCE_ARR = "!forceOrder@arr"
ALL_MARKET_STREAMS = ("!markPrice@arr", "!markPrice@arr@1s", FORCE_ARR)  # futures only
_FUNDING_MS = 8 * 3600 * 1000
_MIN_LEVELS = 20
_dumps = orjson.dumps


def stream_names(inst: Instrument) -> list[str]:
    """Every stream this simulator serves for ``inst``."""
    s = inst.stream_symbol
    names = [f"{s}@aggTrade", f"{s}@bookTicker"]
    names += [s + suffix for suffix in DEPTH_INTERVALS[inst.market]]
    if inst.market is Market.SPOT:
        names.append(f"{s}@trade")
    else:
        names += [s + suffix for suffix in _MARK_INTERVALS]
        names.append(f"{s}@forceOrder")
    return names


class _DepthWindow:
    """One depth interval: where its window starts in the change log, and the ``u`` of
    its previous frame (futures ``pu``)."""

    __slots__ = ("interval", "next_ms", "prev_u", "start", "stream")

    def __init__(self, stream: str, interval: int, start_ms: int, update_id: int) -> None:
        self.stream = stream
        self.interval = interval
        self.next_ms = (start_ms // interval + 1) * interval
        self.start = 0
        self.prev_u = update_id


class _ChangeLog:
    """Every book change since the oldest open depth window, in flat arrays (no object
    per change, so nothing for the garbage collector to walk); each window reads its
    slice when it closes, so a change costs four appends however many intervals exist."""

    __slots__ = ("price", "qty", "side", "uid")

    def __init__(self) -> None:
        self.uid = array("q")
        self.side = array("b")
        self.price = array("q")
        self.qty = array("q")

    def levels(self, start: int) -> tuple[dict[int, int], dict[int, int]]:
        """Final quantity per level changed from ``start`` on: (bids, asks)."""
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for side, price, qty in zip(
            self.side[start:], self.price[start:], self.qty[start:], strict=True
        ):
            (bids if side == BID else asks)[price] = qty
        return bids, asks

    def drop(self, n: int) -> None:
        for column in (self.uid, self.side, self.price, self.qty):
            del column[:n]


class SymbolMarket:
    """One symbol's book, trades and timers. Drive it with :meth:`advance`."""

    def __init__(
        self,
        inst: Instrument,
        *,
        seed: int,
        rate: int,
        start_ms: int,
        history: int,
        checkpoints: int,
        max_levels: int = 200,
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 step per second")
        self.inst = inst
        self.spot = inst.market is Market.SPOT
        self.rate = rate
        self.start_ms = start_ms
        self.max_levels = max_levels
        self.rng = rng = random.Random(f"{seed}/{inst.market.value}/{inst.symbol}")
        self.step = 0
        self.book = Book()
        self.update_id = 1_000_000 + rng.randrange(1_000_000)
        self.trades = TradeTape(history, first_id=100_000 + rng.randrange(100_000))
        self.aggs = AggTape(history, first_id=10_000 + rng.randrange(10_000))
        self.checkpoints = CheckpointLog(checkpoints)
        notional = max(1, int(5000 / (inst.start_price * inst.lot)))
        self.fill_scale = notional
        self.wanted: frozenset[str] = frozenset()
        s = inst.stream_symbol
        self.s_trade, self.s_agg, self.s_ticker = f"{s}@trade", f"{s}@aggTrade", f"{s}@bookTicker"
        self.s_force = f"{s}@forceOrder"
        self.log = _ChangeLog()
        self._last_change_ms = start_ms
        self.windows = [
            _DepthWindow(s + suffix, ms, start_ms, self.update_id)
            for suffix, ms in DEPTH_INTERVALS[inst.market].items()
        ]
        self.marks = (
            []
            if self.spot
            else [
                (s + k, v, "!markPrice@arr" + k[len("@markPrice") :])
                for k, v in _MARK_INTERVALS.items()
            ]
        )
        # all-market mark prices of this second, filled by every symbol, framed by the hub
        self.all_market: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.funding = rng.randrange(-2000, 8000)  # in 1e-8
        self._next_second = (start_ms // 1000 + 1) * 1000
        self._next_boundary = min([w.next_ms for w in self.windows] + [self._next_second])
        self._top: tuple[int, int, int, int] = (0, 0, 0, 0)
        self._mark8 = NumberScale(inst.tick, 8)
        self._seed_book()

    # -- set-up -------------------------------------------------------------------------

    def _seed_book(self) -> None:
        rng, book, mid = self.rng, self.book, self.inst.start_ticks
        for i in range(2 * _MIN_LEVELS):
            book.set(BID, mid - 1 - i, 1 + int(rng.random() * self.fill_scale * 3))
            book.set(ASK, mid + 1 + i, 1 + int(rng.random() * self.fill_scale * 3))
        self.checkpoints.add(self.update_id, book.bids, book.asks)

    def set_wanted(self, streams: frozenset[str]) -> None:
        """Streams with at least one subscriber: only these are rendered."""
        self.wanted = streams

    def time_ms(self, step: int) -> int:
        return self.start_ms + step * 1000 // self.rate

    # -- the step loop ------------------------------------------------------------------

    def advance(self, until_step: int, out: list[Frame]) -> None:
        """Run steps up to ``until_step`` (exclusive), appending rendered frames."""
        while self.step < until_step:
            t = self.start_ms + self.step * 1000 // self.rate
            if t >= self._next_boundary:
                self._timers(t, out)
            self._taker(t, out)
            self._makers(t)
            self._ticker(t, out)
            self.step += 1

    def _change(self, side: int, price: int, qty: int, t: int) -> None:
        self.book.set(side, price, qty)
        if self.spot:
            self.update_id += 1
        else:  # futures update ids are increasing but not consecutive
            self.update_id += 1 if self.rng.random() < 0.7 else 3
        log = self.log
        log.uid.append(self.update_id)
        log.side.append(side)
        log.price.append(price)
        log.qty.append(qty)
        self._last_change_ms = t

    def _taker(self, t: int, out: list[Frame]) -> None:
        rng, book, inst = self.rng, self.book, self.inst
        buyer_is_maker = rng.random() < 0.5  # the taker sells into the best bid
        side = BID if buyer_is_maker else ASK
        price = book.best_bid if buyer_is_maker else book.best_ask
        levels = book.bids if buyer_is_maker else book.asks
        available = levels[price]
        r = rng.random()
        makers = 1 if r < 0.7 else (2 if r < 0.9 else 3)
        makers = min(makers, available)
        total = min(available, makers + int(rng.random() * self.fill_scale))
        trades = self.trades
        first = trades.next_id
        p_str = inst.price.render(price)
        qty_str = inst.qty.render
        symbol, wanted = inst.symbol, self.wanted
        want_trades = self.s_trade in wanted
        left = total
        for k in range(makers):
            qty = left if k == makers - 1 else max(1, left // (makers - k) - k)
            left -= qty
            trades.append(price, qty, t, buyer_is_maker)
            if want_trades:
                tid = first + k
                out.append((self.s_trade, _dumps({
                    "e": "trade", "E": t + (tid & 1), "s": symbol, "t": tid,
                    "p": p_str, "q": qty_str(qty), "T": t, "m": buyer_is_maker, "M": True,
                })))  # fmt: skip
        self._change(side, price, available - total, t)
        last = first + makers - 1
        agg_id = self.aggs.append(price, total, first, last, t, buyer_is_maker)
        if self.s_agg in wanted:
            msg: dict[str, Any] = {
                "e": "aggTrade", "E": t + (agg_id & 1), "s": symbol, "a": agg_id,
                "p": p_str, "q": qty_str(total), "f": first, "l": last,
                "T": t, "m": buyer_is_maker,
            }  # fmt: skip
            if self.spot:
                msg["M"] = True
            out.append((self.s_agg, _dumps(msg)))

    def _makers(self, t: int) -> None:
        """1–3 maker changes: new orders a few ticks off the *opposite* best (so the
        spread keeps closing, mostly within a tick or two), cancels near the own best."""
        rng, book = self.rng, self.book
        for _ in range(1 + int(rng.random() * 3)):
            bid = rng.random() < 0.5
            r = rng.random()
            d = int(r * r * 40)  # mostly close to the top, sometimes 40 ticks away
            if rng.random() < 0.65:
                if bid:
                    levels, price = book.bids, book.best_ask - 1 - d
                else:
                    levels, price = book.asks, book.best_bid + 1 + d
                if price > 0:
                    size = levels.get(price, 0) + 1 + int(rng.random() * self.fill_scale * 2)
                    self._change(BID if bid else ASK, price, size, t)
                continue
            levels, price = (
                (book.bids, book.best_bid - d) if bid else (book.asks, book.best_ask + d)
            )
            current = levels.get(price, 0)
            if current and len(levels) > _MIN_LEVELS:
                self._change(BID if bid else ASK, price, current // 2 if r < 0.5 else 0, t)
        if len(book.bids) < _MIN_LEVELS or len(book.asks) < _MIN_LEVELS:
            self._refill(t)
        if len(book.bids) > self.max_levels + 16 or len(book.asks) > self.max_levels + 16:
            self._prune(t)

    def _refill(self, t: int) -> None:
        rng, book = self.rng, self.book
        for side, levels in ((BID, book.bids), (ASK, book.asks)):
            while len(levels) < _MIN_LEVELS:  # refill the far end of a thin side
                if side == BID:
                    price = min(levels) - 1 if levels else book.best_ask - 1
                else:
                    price = max(levels) + 1 if levels else book.best_bid + 1
                if price <= 0:
                    break
                self._change(side, price, 1 + int(rng.random() * self.fill_scale * 3), t)

    def _prune(self, t: int) -> None:
        """Drop the levels beyond ``max_levels`` (they go out as quantity 0)."""
        book = self.book
        for side, levels in ((BID, book.bids), (ASK, book.asks)):
            if len(levels) > self.max_levels + 16:
                for price in book.far_levels(side, self.max_levels):
                    self._change(side, price, 0, t)

    def _ticker(self, t: int, out: list[Frame]) -> None:
        book = self.book
        bid, ask = book.best_bid, book.best_ask
        top = (bid, book.bids[bid], ask, book.asks[ask])
        if top == self._top:
            return
        self._top = top
        if self.s_ticker not in self.wanted:
            return
        inst = self.inst
        pr, qr = inst.price.render, inst.qty.render
        if self.spot:
            msg: dict[str, Any] = {"u": self.update_id, "s": inst.symbol}
        else:
            msg = {"e": "bookTicker", "u": self.update_id, "E": t + 1, "T": t, "s": inst.symbol}
        msg["b"], msg["B"], msg["a"], msg["A"] = pr(bid), qr(top[1]), pr(ask), qr(top[3])
        out.append((self.s_ticker, _dumps(msg)))

    # -- windowed streams ---------------------------------------------------------------

    def _timers(self, t: int, out: list[Frame]) -> None:
        for w in self.windows:
            if t >= w.next_ms:
                self._flush_depth(w, out)
                w.next_ms = (t // w.interval + 1) * w.interval
        if not self.spot and t >= self._next_second:
            while self._next_second <= t:
                self._second(self._next_second, out)
                self._next_second += 1000
        self._next_second = max(self._next_second, (t // 1000) * 1000 + 1000)
        self._next_boundary = min([w.next_ms for w in self.windows] + [self._next_second])
        oldest = min(w.start for w in self.windows)
        if oldest > 50_000:
            self.log.drop(oldest)
            for w in self.windows:
                w.start -= oldest

    def _flush_depth(self, w: _DepthWindow, out: list[Frame]) -> None:
        log = self.log
        if len(log.uid) <= w.start:
            return  # no change in this window: no frame
        first, last = log.uid[w.start], log.uid[-1]
        book = self.book
        self.checkpoints.add(last, book.bids, book.asks)
        if w.stream in self.wanted:
            inst = self.inst
            pr, qr = inst.price.render, inst.qty.render
            changed_bids, changed_asks = log.levels(w.start)
            bids = [[pr(p), qr(q)] for p, q in sorted(changed_bids.items(), reverse=True)]
            asks = [[pr(p), qr(q)] for p, q in sorted(changed_asks.items())]
            e = w.next_ms
            if self.spot:
                msg: dict[str, Any] = {
                    "e": "depthUpdate", "E": e, "s": inst.symbol, "U": first, "u": last,
                    "b": bids, "a": asks,
                }  # fmt: skip
            else:
                msg = {
                    "e": "depthUpdate", "E": e, "T": self._last_change_ms, "s": inst.symbol,
                    "U": first, "u": last, "pu": w.prev_u, "b": bids, "a": asks,
                }  # fmt: skip
            out.append((w.stream, _dumps(msg)))
        w.prev_u = last
        w.start = len(log.uid)

    def _second(self, e: int, out: list[Frame]) -> None:
        """Once per simulated second on futures: mark price, funding, liquidations. The
        random draws never depend on who subscribed, so frames stay seed-determined."""
        rng, book, inst, wanted = self.rng, self.book, self.inst, self.wanted
        self.funding = max(-75000, min(75000, self.funding + rng.randrange(-50, 51)))
        liquidation = rng.random() < 0.3
        sell = rng.random() < 0.5
        size = 1 + int(rng.random() * self.fill_scale)
        mid2 = book.best_bid + book.best_ask  # twice the mid, in ticks
        for stream, interval, arr in self.marks:
            if e % interval or (stream not in wanted and arr not in wanted):
                continue
            m8 = self._mark8
            msg = {
                "e": "markPriceUpdate", "E": e, "s": inst.symbol,
                "p": _half(m8, mid2), "i": _half(m8, mid2 - 1), "P": _half(m8, mid2 + 1),
                "r": _rate8(self.funding), "T": (e // _FUNDING_MS + 1) * _FUNDING_MS,
            }  # fmt: skip
            if stream in wanted:
                out.append((stream, _dumps(msg)))
            if arr in wanted:
                self.all_market.setdefault((arr, e), []).append(msg)
        if liquidation and (self.s_force in wanted or FORCE_ARR in wanted):
            price = book.best_bid - 3 if sell else book.best_ask + 3
            qty = inst.qty.render(size)
            p = inst.price.render(price)
            payload = _dumps({"e": "forceOrder", "E": e, "o": {
                "s": inst.symbol, "S": "SELL" if sell else "BUY", "o": "LIMIT", "f": "IOC",
                "q": qty, "p": p, "ap": p, "X": "FILLED", "l": qty, "z": qty, "T": e - 1,
            }})  # fmt: skip
            if self.s_force in wanted:
                out.append((self.s_force, payload))
            if FORCE_ARR in wanted:
                out.append((FORCE_ARR, payload))

    # -- REST views -----------------------------------------------------------------------

    def snapshot(self, limit: int) -> tuple[int, list[list[str]], list[list[str]]]:
        """``lastUpdateId`` and the top ``limit`` levels; also kept as a checkpoint."""
        book, inst = self.book, self.inst
        self.checkpoints.add(self.update_id, book.bids, book.asks)
        cp = book.checkpoint(self.update_id, limit)
        pr, qr = inst.price.render, inst.qty.render
        return (
            self.update_id,
            [[pr(p), qr(q)] for p, q in cp.bids],
            [[pr(p), qr(q)] for p, q in cp.asks],
        )

    def now_ms(self) -> int:
        return self.time_ms(self.step)


def _half(scale: NumberScale, twice: int) -> str:
    """A price of ``twice / 2`` ticks, exact at the scale's decimals (mark prices may
    sit between ticks)."""
    return f"{scale.decimal(twice) / 2:.{scale.decimals}f}"


def _rate8(value: int) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 10**8}.{value % 10**8:08d}"
