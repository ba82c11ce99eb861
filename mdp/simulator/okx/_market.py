"""One OKX instrument's market: the same model as the Binance simulator's
(:mod:`mdp.simulator._market`: a taker order per step hitting the best level with 1–3
fills, then 1–3 maker changes), on the shared :class:`~mdp.simulator._book.Book`, rendered
as OKX v5 pushes. Sans-I/O and seeded: times come from the step number.

Books: every change takes a ``seqId`` (increasing, not consecutive); each 100 ms window
that changed the book goes out as one ``update`` with ``prevSeqId`` the previous push's
``seqId`` and the changed levels' final sizes, and the book after it is kept as a
checkpoint. A sequence *reset* (maintenance) moves ``seqId`` to a fresh, lower range, so
the next push has ``seqId < prevSeqId``; ranges never overlap, so a checkpoint id is
unique. The checksum is the legacy signed CRC32 of the top 25 levels (computed here
independently of the collector's code, so that one checks the other) or 0.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from typing import Any

import orjson

from mdp.simulator._book import ASK, BID, Book
from mdp.simulator._tape import CheckpointLog
from mdp.simulator.okx._config import Checksum
from mdp.simulator.okx._instruments import OkxInstrument
from mdp.simulator.okx._tape import OkxTradeTape

__all__ = ["BOOKS_MS", "Frame", "OkxMarket", "channel_key"]

Frame = tuple[str, bytes]
"""(channel key such as ``books:BTC-USDT``, rendered push) — what the hub fans out."""

BOOKS_MS = 100
_MIN_LEVELS = 20
_SEQ_BASE = 1_000_000_000
_RESET_SPAN = 10_000_000  # seqIds one reset epoch may use before reaching the one above
_dumps = orjson.dumps
Levels = Sequence[tuple[int, int]]


def channel_key(channel: str, arg: str) -> str:
    return f"{channel}:{arg}"


class OkxMarket:
    """Drive it with :meth:`advance`; REST and truth read its book, tape and logs."""

    def __init__(
        self,
        inst: OkxInstrument,
        *,
        seed: int,
        rate: int,
        start_ms: int,
        history: int,
        checkpoints: int,
        checksum: Checksum,
        funding_push_ms: int,
        max_levels: int = 200,
    ) -> None:
        self.inst = inst
        self.rate = rate
        self.start_ms = start_ms
        self.max_levels = max_levels
        self.checksum_mode = checksum
        self.rng = rng = random.Random(f"{seed}/okx/{inst.inst_id}")
        self.step = 0
        self.book = Book()
        self.seq_id = _SEQ_BASE + rng.randrange(1_000_000)
        self.resets = 0
        self.tape = OkxTradeTape(history, first_id=100_000 + rng.randrange(100_000))
        self.checkpoints = CheckpointLog(checkpoints)
        self.fill_scale = max(1, int(5000 / (inst.start_price * inst.lot * (inst.ct_val or 1))))
        self.wanted: frozenset[str] = frozenset()
        arg = {"instId": inst.inst_id}
        self.k_trades = channel_key("trades", inst.inst_id)
        self.k_books = channel_key("books", inst.inst_id)
        self.k_bbo = channel_key("bbo-tbt", inst.inst_id)
        self.k_funding = channel_key("funding-rate", inst.inst_id)
        self._head = {
            key: _dumps({"arg": {"channel": channel, **arg}})[:-1]
            for key, channel in (
                (self.k_trades, "trades"),
                (self.k_books, "books"),
                (self.k_bbo, "bbo-tbt"),
                (self.k_funding, "funding-rate"),
            )
        }
        self._changed: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.pushed_seq = self.seq_id  # seqId of the last books push (the next prevSeqId)
        self.last_push_ms = start_ms
        self.next_books_ms = (start_ms // BOOKS_MS + 1) * BOOKS_MS
        self.next_second = (start_ms // 1000 + 1) * 1000
        self.next_funding_ms = start_ms + funding_push_ms
        self.funding_push_ms = funding_push_ms
        self.funding = rng.randrange(-2000, 8000)  # in 1e-8
        self.liquidations: list[dict[str, Any]] = []  # this tick's, framed by the hub
        self.liquidation_log: list[dict[str, Any]] = []  # everything, for truth
        self.funding_log: list[dict[str, Any]] = []
        self._top: tuple[int, int, int, int] = (0, 0, 0, 0)
        self._seed_book()

    def _seed_book(self) -> None:
        rng, book, mid = self.rng, self.book, self.inst.start_ticks
        for i in range(2 * _MIN_LEVELS):
            book.set(BID, mid - 1 - i, 1 + int(rng.random() * self.fill_scale * 3))
            book.set(ASK, mid + 1 + i, 1 + int(rng.random() * self.fill_scale * 3))
        self.checkpoints.add(self.seq_id, book.bids, book.asks)

    def set_wanted(self, keys: frozenset[str]) -> None:
        self.wanted = keys

    def now_ms(self) -> int:
        return self.start_ms + self.step * 1000 // self.rate

    def push(self, key: str, data: list[Any], action: str | None = None) -> bytes:
        """A push of channel ``key``: ``{"arg":…,["action":…,]"data":[…]}``."""
        body = _dumps({"data": data} if action is None else {"action": action, "data": data})
        return self._head[key] + b"," + body[1:]

    # -- the step loop ------------------------------------------------------------------

    def advance(self, until_step: int, out: list[Frame]) -> None:
        while self.step < until_step:
            t = self.start_ms + self.step * 1000 // self.rate
            if t >= self.next_books_ms:
                self._flush_books(t, out)
            if t >= self.next_second:
                self._second(t, out)
            self._taker(t, out)
            self._makers()
            self._bbo(t, out)
            self.step += 1

    def _change(self, side: int, price: int, qty: int) -> None:
        self.book.set(side, price, qty)
        self.seq_id += 1 if self.rng.random() < 0.7 else 3
        self._changed[side][price] = qty

    def _taker(self, t: int, out: list[Frame]) -> None:
        rng, book, inst = self.rng, self.book, self.inst
        taker_buy = rng.random() >= 0.5
        side = ASK if taker_buy else BID
        price = book.best_ask if taker_buy else book.best_bid
        available = (book.asks if taker_buy else book.bids)[price]
        r = rng.random()
        makers = min(1 if r < 0.7 else (2 if r < 0.9 else 3), available)
        total = min(available, makers + int(rng.random() * self.fill_scale))
        trade_id = self.tape.append(makers, price, total, t, taker_buy)
        self._change(side, price, available - total)
        if self.k_trades in self.wanted:
            row = {
                "instId": inst.inst_id, "tradeId": str(trade_id),
                "px": inst.price.render(price), "sz": inst.qty.render(total),
                "side": "buy" if taker_buy else "sell", "ts": str(t),
                "count": str(makers), "source": "0", "seqId": self.seq_id,
            }  # fmt: skip
            out.append((self.k_trades, self.push(self.k_trades, [row])))

    def _makers(self) -> None:
        """1–3 maker changes near the top, as in the Binance model."""
        rng, book = self.rng, self.book
        for _ in range(1 + int(rng.random() * 3)):
            bid = rng.random() < 0.5
            r = rng.random()
            d = int(r * r * 40)
            if rng.random() < 0.65:
                if bid:
                    levels, price = book.bids, book.best_ask - 1 - d
                else:
                    levels, price = book.asks, book.best_bid + 1 + d
                if price > 0:
                    size = levels.get(price, 0) + 1 + int(rng.random() * self.fill_scale * 2)
                    self._change(BID if bid else ASK, price, size)
                continue
            levels, price = (
                (book.bids, book.best_bid - d) if bid else (book.asks, book.best_ask + d)
            )
            current = levels.get(price, 0)
            if current and len(levels) > _MIN_LEVELS:
                self._change(BID if bid else ASK, price, current // 2 if r < 0.5 else 0)
        for side, levels in ((BID, book.bids), (ASK, book.asks)):
            while len(levels) < _MIN_LEVELS:
                if side == BID:
                    price = min(levels) - 1 if levels else book.best_ask - 1
                else:
                    price = max(levels) + 1 if levels else book.best_bid + 1
                if price <= 0:
                    break
                self._change(side, price, 1 + int(rng.random() * self.fill_scale * 3))
            if len(levels) > self.max_levels + 16:
                for price in book.far_levels(side, self.max_levels):
                    self._change(side, price, 0)

    def level(self, price: int, qty: int) -> list[str]:
        """``[px, sz, "0", orderCount]``; the order count is derived from the size."""
        return [self.inst.price.render(price), self.inst.qty.render(qty), "0", str(1 + qty % 7)]

    def _bbo(self, t: int, out: list[Frame]) -> None:
        book = self.book
        bid, ask = book.best_bid, book.best_ask
        top = (bid, book.bids[bid], ask, book.asks[ask])
        if top == self._top:
            return
        self._top = top
        if self.k_bbo in self.wanted:
            row = {
                "asks": [self.level(ask, top[3])], "bids": [self.level(bid, top[1])],
                "ts": str(t), "seqId": self.seq_id,
            }  # fmt: skip
            out.append((self.k_bbo, self.push(self.k_bbo, [row])))

    # -- books --------------------------------------------------------------------------

    def checksum(self) -> int:
        """The current book's checksum (0 in ``Checksum.ZERO`` mode)."""
        book = self.book
        return self._checksum_of(
            sorted(book.bids.items(), reverse=True)[:25], sorted(book.asks.items())[:25]
        )

    def _checksum_of(self, bids: Levels, asks: Levels) -> int:
        """Interleave ``bid:size:ask:size`` over the top 25, skipping an exhausted side;
        CRC32 read as a signed 32-bit integer."""
        if self.checksum_mode is Checksum.ZERO:
            return 0
        pr, qr = self.inst.price.render, self.inst.qty.render
        parts: list[str] = []
        for i in range(min(25, max(len(bids), len(asks)))):
            for levels in (bids, asks):
                if i < len(levels):
                    parts += (pr(levels[i][0]), qr(levels[i][1]))
        crc = zlib.crc32(":".join(parts).encode())
        return crc - (1 << 32) if crc >= 1 << 31 else crc

    def _flush_books(self, t: int, out: list[Frame]) -> None:
        self.next_books_ms = (t // BOOKS_MS + 1) * BOOKS_MS
        bids, asks = self._changed
        if not bids and not asks:
            return
        self._changed = ({}, {})
        book = self.book
        self.checkpoints.add(self.seq_id, book.bids, book.asks)
        if self.k_books in self.wanted:
            row = {
                "asks": [self.level(p, q) for p, q in sorted(asks.items())],
                "bids": [self.level(p, q) for p, q in sorted(bids.items(), reverse=True)],
                "ts": str(t), "checksum": self.checksum(),
                "prevSeqId": self.pushed_seq, "seqId": self.seq_id,
            }  # fmt: skip
            out.append((self.k_books, self.push(self.k_books, [row], "update")))
        self.pushed_seq = self.seq_id
        self.last_push_ms = t

    @property
    def pending(self) -> bool:
        """Changes not pushed yet (the open window's)."""
        return bool(self._changed[0] or self._changed[1])

    def flush_pending(self, out: list[Frame]) -> None:
        """Push the open window's changes now (the market is paused: its window would
        otherwise never close, and a heartbeat must describe the whole book)."""
        self._flush_books(self.now_ms(), out)

    def heartbeat(self) -> bytes:
        """An update with no levels and ``prevSeqId == seqId`` (the book did not change)."""
        row = {
            "asks": [], "bids": [], "ts": str(self.now_ms()), "checksum": self.checksum(),
            "prevSeqId": self.pushed_seq, "seqId": self.pushed_seq,
        }  # fmt: skip
        return self.push(self.k_books, [row], "update")

    def snapshot_row(self, depth: int = 400) -> dict[str, Any]:
        """The book as of the last push (what a new subscriber's updates continue from),
        as the WS snapshot and REST ``market/books`` render it."""
        cp = self.checkpoints.get(self.pushed_seq)
        if cp is None:  # never pushed yet, or checkpoints off: keep one now
            self.checkpoints.add(self.pushed_seq, self.book.bids, self.book.asks)
            cp = self.book.checkpoint(self.pushed_seq)
        return {
            "asks": [self.level(p, q) for p, q in cp.asks[:depth]],
            "bids": [self.level(p, q) for p, q in cp.bids[:depth]],
            "ts": str(self.now_ms()),
            "checksum": self._checksum_of(cp.bids[:25], cp.asks[:25]),
            "prevSeqId": -1,
            "seqId": self.pushed_seq,
        }

    def reset_sequence(self) -> None:
        """Maintenance: ``seqId`` continues from a fresh, lower range."""
        self.resets += 1
        self.seq_id = _SEQ_BASE - self.resets * _RESET_SPAN + self.rng.randrange(1000)
        self._change(BID, self.book.best_bid, self.book.bids[self.book.best_bid])

    def old_liquidation(self) -> dict[str, Any]:
        """A liquidation from before the simulation started: what the first push after
        subscribing replays."""
        inst = self.inst
        return {
            "details": [{
                "bkLoss": "0", "bkPx": inst.price.render(inst.start_ticks), "ccy": "",
                "posSide": "long", "side": "sell", "sz": inst.qty.render(1),
                "ts": str(self.start_ms - 60_000),
            }],
            "instFamily": inst.family, "instId": inst.inst_id, "instType": "SWAP",
            "uly": inst.family,
        }  # fmt: skip

    # -- once a simulated second: funding and liquidations (SWAP) --------------------------

    def _second(self, t: int, out: list[Frame]) -> None:
        self.next_second = (t // 1000 + 1) * 1000
        if not self.inst.swap:
            return
        rng, inst, book = self.rng, self.inst, self.book
        self.funding = max(-75000, min(75000, self.funding + rng.randrange(-50, 51)))
        if rng.random() < 0.3:
            sell = rng.random() < 0.5  # a long position liquidated: the order sells
            price = book.best_bid - 3 if sell else book.best_ask + 3
            row = {
                "details": [{
                    "bkLoss": "0", "bkPx": inst.price.render(price), "ccy": "",
                    "posSide": "long" if sell else "short", "side": "sell" if sell else "buy",
                    "sz": inst.qty.render(1 + int(rng.random() * self.fill_scale)),
                    "ts": str(t - 1),
                }],
                "instFamily": inst.family, "instId": inst.inst_id, "instType": "SWAP",
                "uly": inst.family,
            }  # fmt: skip
            self.liquidations.append(row)
            self.liquidation_log.append(row)
        if t >= self.next_funding_ms:
            self.next_funding_ms = t + self.funding_push_ms
            interval = inst.funding_interval_h * 3_600_000
            funding_time = (t // interval + 1) * interval
            predicted = "" if rng.random() < 0.5 else _rate8(self.funding + 7)
            row = {
                "fundingRate": _rate8(self.funding), "fundingTime": str(funding_time),
                "instId": inst.inst_id, "instType": "SWAP", "method": "current_period",
                "maxFundingRate": "0.00375", "minFundingRate": "-0.00375",
                "nextFundingRate": predicted, "nextFundingTime": str(funding_time + interval),
                "premium": _rate8(self.funding // 2), "settFundingRate": _rate8(self.funding),
                "settState": "settled", "ts": str(t),
            }  # fmt: skip
            self.funding_log.append(row)
            if self.k_funding in self.wanted:
                out.append((self.k_funding, self.push(self.k_funding, [row])))


def _rate8(value: int) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 10**8}.{value % 10**8:08d}"
