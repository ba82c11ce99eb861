"""Rebuild books from what a store holds — snapshots and deltas — and compare them with
the simulator's book at its checkpoints.

One pass over a symbol's snapshots and deltas in update-id order, applying Binance's own
continuity rules to the *stored* records (spot: ``U <= local + 1 <= u`` bridges, then
``U == local + 1``; futures: ``U <= local <= u`` bridges, then ``pu == local``). Where the
chain breaks (a gap the collector published as a Gap event, whose diffs it rightly did not
publish) nothing is compared until the next stored snapshot: a checkpoint in there is not
covered. The platform must have said so: every checkpoint not covered has to fall in the
span of a stored Resync (``old_sequence`` — the last id of the old book — to
``new_sequence``, the snapshot that rebuilt it), or it is counted as *undeclared*.
How many checkpoints fall in such spans depends only on how often the chaos hit the
book's connection, so the test asks for none undeclared rather than for a share covered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import psycopg

Levels = dict[Decimal, Decimal]


@attrs.define
class BookCheck:
    compared: int = 0
    not_covered: int = 0
    mismatches: list[int] = attrs.Factory(list)
    undeclared: list[int] = attrs.Factory(list)  # not covered, and in no stored Resync span


def _levels(prices: list[Decimal], sizes: list[Decimal]) -> Levels:
    return dict(zip(prices, sizes, strict=True))


def _apply(side: Levels, prices: list[Decimal], sizes: list[Decimal]) -> None:
    for price, size in zip(prices, sizes, strict=True):
        if size:
            side[price] = size
        else:
            side.pop(price, None)


def stored_events(dsn: str, market: str, symbol: str) -> list[tuple[Any, ...]]:
    """(update id, order, kind, first, final, prev, bid prices, bid sizes, ask prices, ask
    sizes), a snapshot sorting after the delta that ends at the same id."""
    with psycopg.connect(dsn) as conn:
        snaps = conn.execute(
            "SELECT last_update_id, bid_prices, bid_sizes, ask_prices, ask_sizes"
            " FROM book_snapshots WHERE exchange = 'binance' AND market = %s AND symbol = %s",
            (market, symbol),
        ).fetchall()
        deltas = conn.execute(
            "SELECT first_update_id, final_update_id, prev_final_update_id,"
            " bid_prices, bid_sizes, ask_prices, ask_sizes"
            " FROM book_deltas WHERE exchange = 'binance' AND market = %s AND symbol = %s",
            (market, symbol),
        ).fetchall()
    events = [(s[0], 1, "snapshot", s[0], s[0], None, *s[1:]) for s in snaps]
    events += [(d[1], 0, "delta", d[0], d[1], d[2], *d[3:]) for d in deltas]
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def stored_resyncs(dsn: str, market: str, symbol: str) -> list[tuple[int, int]]:
    """(old_sequence, new_sequence) of the stored book Resyncs of one symbol."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT old_sequence, new_sequence FROM resyncs WHERE exchange = 'binance'"
            " AND market = %s AND symbol = %s AND stream LIKE '%%depth%%'"
            " AND old_sequence IS NOT NULL AND new_sequence IS NOT NULL",
            (market, symbol),
        ).fetchall()
    return [(int(old), int(new)) for old, new in rows]


def check_books(
    events: list[tuple[Any, ...]],
    truth: dict[int, tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]],
    *,
    futures: bool,
    resyncs: list[tuple[int, int]] = [],  # noqa: B006 - read only
) -> BookCheck:
    """Walk ``events``; at every checkpoint id in ``truth`` the rebuilt book must equal it,
    and every checkpoint it never reaches must lie in one of ``resyncs``' spans."""
    check = BookCheck()
    bids: Levels = {}
    asks: Levels = {}
    local: int | None = None  # None: no joined book
    bridging = False
    covered: set[int] = set()
    for _, _, kind, first, final, prev, bp, bs, ap, as_ in events:
        if kind == "snapshot":
            bids, asks, local, bridging = _levels(bp, bs), _levels(ap, as_), final, True
        elif local is not None:
            if final <= local:
                continue  # already covered by the snapshot
            if bridging:
                joined = first <= local <= final if futures else first <= local + 1 <= final
            else:
                joined = prev == local if futures else first == local + 1
            if not joined:
                local = None
                continue
            _apply(bids, bp, bs)
            _apply(asks, ap, as_)
            local, bridging = final, False
        if local is not None and local in truth:
            covered.add(local)
            want_bids, want_asks = truth[local]
            got_bids = sorted(bids.items(), reverse=True)
            got_asks = sorted(asks.items())
            check.compared += 1
            if (got_bids, got_asks) != (want_bids, want_asks):
                check.mismatches.append(local)
    missed = sorted(set(truth) - covered)
    check.not_covered = len(missed)
    first_snapshot = next((e[0] for e in events if e[2] == "snapshot"), None)
    check.undeclared = [
        c
        for c in missed
        if not (first_snapshot is not None and c < first_snapshot)  # before the collector began
        and not any(old <= c < new for old, new in resyncs)
    ]
    return check
