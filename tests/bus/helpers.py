"""What the bus tests share: the broker's address, unique instruments (so that every test
has its own topics), trades with known ids, and a check of what arrived."""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs
import trio

from mdp.bus import TopicsConfig, delete_topics, ensure_topics_sync
from mdp.model import Instrument, Kind, MarketType, Record, Side, Trade
from mdp.wire import topic_for

KAFKA = os.environ.get("MDP_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


def unique_instruments(count: int = 3, exchange: str = "") -> list[Instrument]:
    """Instruments on an exchange tag of their own: their topics belong to one test."""
    exchange = exchange or "t" + uuid.uuid4().hex[:10]
    return [
        Instrument(
            exchange=exchange,
            market=MarketType.SPOT,
            native_symbol=symbol.replace("/", ""),
            symbol=symbol,
            tick=Decimal("0.01"),
            lot=Decimal("0.0001"),
        )
        for symbol in SYMBOLS[:count]
    ]


def trade_topics(instruments: Iterable[Instrument]) -> list[str]:
    return [topic_for(Kind.TRADE, instrument) for instrument in instruments]


def make_topics(names: Sequence[str]) -> None:
    ensure_topics_sync(KAFKA, names, TopicsConfig(retention_ms=3_600_000))


def drop_topics(names: Sequence[str]) -> None:
    delete_topics(KAFKA, names)


_PRICE = Decimal("65000.25")
_SIZE = Decimal("0.0125")


def trades(instruments: Sequence[Instrument], start: int, stop: int) -> list[Trade]:
    """Trades ``start..stop-1`` interleaved over ``instruments``: trade ``n`` is about
    instrument ``n % len`` and has id ``n // len`` there, so ids are 0, 1, 2… per symbol."""
    k = len(instruments)
    return [
        Trade(
            instrument=instruments[n % k],
            receive_time_ns=1_764_000_000_000_000_000 + n,
            exchange_time_ns=1_764_000_000_000_000_000 + n,
            sequence=n // k,
            trade_id=n // k,
            price=_PRICE,
            size=_SIZE,
            side=Side.BUY if n % 2 else Side.SELL,
        )
        for n in range(start, stop)
    ]


def per_symbol_count(total: int, k: int, index: int) -> int:
    return total // k + (1 if index < total % k else 0)


@attrs.define
class Arrivals:
    """Trade ids as they arrived, per symbol."""

    ids: dict[str, list[int]] = attrs.Factory(lambda: defaultdict(list))

    def add(self, records: Iterable[Record]) -> None:
        ids = self.ids
        for record in records:
            assert isinstance(record, Trade)
            ids[record.instrument.symbol].append(record.trade_id)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.ids.values())

    def unique(self) -> int:
        return sum(len(set(v)) for v in self.ids.values())

    def replays(self, symbol: str) -> list[tuple[int, int]]:
        """(where a replay went back to, how many ids it repeated) for each time the ids
        of ``symbol`` went backwards."""
        out = []
        seq = self.ids[symbol]
        high = -1
        for i, n in enumerate(seq):
            if n <= high:
                if i == 0 or seq[i - 1] >= n:
                    out.append((n, high - n + 1))
            else:
                assert n == high + 1, f"{symbol}: gap: {high} then {n}"
            high = max(high, n)
        return out


async def wait_until(condition: Callable[[], bool], interval: float = 0.05) -> None:
    """Poll ``condition``: what the bus tests wait for (another member's fetch thread, a
    broker coming back) has no trio.Event to wait on."""
    while not condition():  # noqa: ASYNC110 - nothing to wait on but the condition itself
        await trio.sleep(interval)


def symbols_file(instruments: Sequence[Instrument]) -> str:
    """``instruments`` as an etc/mdp/symbols.toml."""
    return "".join(
        f'[[instrument]]\nexchange = "{i.exchange}"\nmarket = "spot"\n'
        f'native_symbol = "{i.native_symbol}"\nbase = "{i.symbol.split("/")[0]}"\n'
        f'quote = "{i.symbol.split("/")[1]}"\ntick = "{i.tick}"\nlot = "{i.lot}"\n\n'
        for i in instruments
    )
