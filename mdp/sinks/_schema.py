"""One table per record kind, described once and rendered for every store.

The stores differ in types, not in shape: every store has the same tables with the same
column names, so the query layer asks each the same question. A column's ``type`` is a
logical type (``dec`` = exact decimal, ``ns`` = integer nanoseconds, ``lc`` = a short
repeated string); ``_ddl.py`` maps it to NUMERIC / Decimal(38, 18) / LowCardinality and so
on. ``key`` is the natural key a redelivered row is recognised by; ``version`` names the
column that decides which of two rows with one key wins (candles are revised until they
close; every other kind is immutable, so the first copy is kept).

``time`` is the event time every table is partitioned and queried by: the candle's open
time, else the exchange's match time, else its event time, else the local receive time.
It is derived, never a substitute: the three raw times are stored as they came.
"""

from __future__ import annotations

import attrs

from mdp.model import Kind

__all__ = ["HEADER", "TABLES", "Column", "Table"]


@attrs.frozen
class Column:
    name: str
    type: str  # lc, text, int, dec, decs, ns, bool, level
    nullable: bool = False


def _c(name: str, type: str) -> Column:
    if type.endswith("?"):
        return Column(name, type[:-1], True)
    return Column(name, type)


@attrs.frozen
class Table:
    kind: Kind
    name: str
    fields: tuple[Column, ...]  # the kind's own columns, after the header
    key: tuple[str, ...]  # after (exchange, market, symbol)
    version: str | None = None

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every stored column except the derived ``time``, in table order."""
        return (*HEADER, *self.fields)

    @property
    def natural_key(self) -> tuple[str, ...]:
        return ("exchange", "market", "symbol", *self.key)


HEADER: tuple[Column, ...] = tuple(
    _c(n, t)
    for n, t in [
        ("exchange", "lc"),
        ("market", "lc"),
        ("symbol", "lc"),
        ("native_symbol", "lc"),
        ("time_ns", "ns"),
        ("receive_time_ns", "ns"),
        ("exchange_time_ns", "ns?"),
        ("match_time_ns", "ns?"),
        ("sequence", "int"),
        ("quality_level", "level"),
        ("quality_reasons", "text"),
        ("extra", "text"),
    ]
)


def _table(kind: Kind, name: str, fields: str, key: str, version: str | None = None) -> Table:
    cols = tuple(_c(*f.split(":")) for f in fields.split())
    return Table(kind, name, cols, tuple(key.split()), version)


TABLES: dict[Kind, Table] = {
    t.kind: t
    for t in [
        _table(Kind.TRADE, "trades", "trade_id:int price:dec size:dec side:lc", "trade_id"),
        _table(
            Kind.BOOK_SNAPSHOT,
            "book_snapshots",
            "last_update_id:int bid_prices:decs bid_sizes:decs ask_prices:decs "
            "ask_sizes:decs checksum:int?",
            "last_update_id",
        ),
        _table(
            Kind.BOOK_DELTA,
            "book_deltas",
            "first_update_id:int final_update_id:int prev_final_update_id:int? "
            "bid_prices:decs bid_sizes:decs ask_prices:decs ask_sizes:decs checksum:int?",
            "final_update_id",
        ),
        _table(
            Kind.BEST_BID_OFFER,
            "bbo",
            "bid_price:dec bid_size:dec ask_price:dec ask_size:dec update_id:int?",
            "time_ns",
        ),
        _table(
            Kind.FUNDING_RATE,
            "funding",
            "rate:dec predicted_rate:dec? funding_time_ns:ns? next_funding_time_ns:ns?",
            "time_ns",
        ),
        _table(
            Kind.MARK_PRICE,
            "mark_prices",
            "mark_price:dec index_price:dec? estimated_settle_price:dec?",
            "time_ns",
        ),
        _table(
            Kind.LIQUIDATION,
            "liquidations",
            "side:lc price:dec size:dec average_price:dec? filled_size:dec? status:text",
            "time_ns side price size",
        ),
        _table(
            Kind.CANDLE,
            "candles",
            "interval_ns:int open_time_ns:ns open:dec high:dec low:dec close:dec volume:dec "
            "quote_volume:dec? trade_count:int? closed:bool",
            "interval_ns open_time_ns",
            version="receive_time_ns",
        ),
        _table(
            Kind.GAP,
            "gaps",
            "stream:text first_missing:int last_missing:int reason:text",
            "stream first_missing last_missing",
        ),
        _table(
            Kind.RESYNC,
            "resyncs",
            "stream:text reason:text old_sequence:int? new_sequence:int?",
            "stream time_ns",
        ),
        _table(
            Kind.SOURCE_STATUS,
            "source_status",
            "stream:text state:lc detail:text",
            "stream time_ns state",
        ),
    ]
}
