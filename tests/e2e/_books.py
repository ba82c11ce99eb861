"""Rebuild books from what a store holds — snapshots and deltas — and compare them with
the simulator's book at its checkpoints.

One pass over a symbol's snapshots and deltas in update-id order, applying the exchange's
own continuity rules to the *stored* records (Binance spot: ``U <= local + 1 <= u``
bridges, then ``U == local + 1``; Binance futures: ``U <= local <= u`` or ``pu == local`` bridges,
then ``pu == local``; OKX: a delta's ``prev_final_update_id`` — the collector's ``seqId`` when it
applied the update, the snapshot's right after one — is ``local``, bridging or not). Where the
chain breaks (a gap the collector published as a Gap event, whose diffs it rightly did not
publish) nothing is compared until the next stored snapshot: a checkpoint in there is not
covered. The platform must have said so: every checkpoint not covered has to fall in the
span of a stored Resync (``old_sequence`` — the last id of the old book — to
``new_sequence``, the snapshot that rebuilt it), or it is counted as *undeclared*.
How many checkpoints fall in such spans depends only on how often the chaos hit the
book's connection, so the test asks for none undeclared rather than for a share covered.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Any, Literal

import attrs
import psycopg

Levels = dict[Decimal, Decimal]
Chain = Literal["spot", "futures", "okx"]  # whose continuity rule the stored chain follows


@attrs.define
class BookCheck:
    compared: int = 0
    not_covered: int = 0
    mismatches: list[int] = attrs.Factory(list)
    undeclared: list[int] = attrs.Factory(list)  # not covered, and in no stored Resync span
    between: int = 0  # passed over inside one stored delta: never a state the stream shows


def _levels(prices: list[Decimal], sizes: list[Decimal]) -> Levels:
    return dict(zip(prices, sizes, strict=True))


def _apply(side: Levels, prices: list[Decimal], sizes: list[Decimal]) -> None:
    for price, size in zip(prices, sizes, strict=True):
        if size:
            side[price] = size
        else:
            side.pop(price, None)


def stored_events(
    dsn: str, market: str, symbol: str, exchange: str = "binance"
) -> list[tuple[Any, ...]]:
    """(update id, order, kind, first, final, prev, bid prices, bid sizes, ask prices, ask
    sizes), a snapshot sorting after the delta that ends at the same id."""
    with psycopg.connect(dsn) as conn:
        snaps = conn.execute(
            "SELECT last_update_id, bid_prices, bid_sizes, ask_prices, ask_sizes"
            " FROM book_snapshots WHERE exchange = %s AND market = %s AND symbol = %s",
            (exchange, market, symbol),
        ).fetchall()
        deltas = conn.execute(
            "SELECT first_update_id, final_update_id, prev_final_update_id,"
            " bid_prices, bid_sizes, ask_prices, ask_sizes"
            " FROM book_deltas WHERE exchange = %s AND market = %s AND symbol = %s",
            (exchange, market, symbol),
        ).fetchall()
    events = [(s[0], 1, "snapshot", s[0], s[0], None, *s[1:]) for s in snaps]
    events += [(d[1], 0, "delta", d[0], d[1], d[2], *d[3:]) for d in deltas]
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def stored_resyncs(
    dsn: str, market: str, symbol: str, exchange: str = "binance"
) -> list[tuple[int, int]]:
    """(old_sequence, new_sequence) of the stored book Resyncs of one symbol (Binance's
    book streams are ``…@depth…``, OKX's ``books:<instId>``)."""
    stream = "books:%%" if exchange == "okx" else "%%depth%%"
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT old_sequence, new_sequence FROM resyncs WHERE exchange = %s"
            f" AND market = %s AND symbol = %s AND stream LIKE '{stream}'"
            " AND old_sequence IS NOT NULL AND new_sequence IS NOT NULL",
            (exchange, market, symbol),
        ).fetchall()
    return [(int(old), int(new)) for old, new in rows]


def check_books(
    events: list[tuple[Any, ...]],
    truth: dict[int, tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]],
    *,
    chain: Chain,
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
    passed: set[int] = set()
    ids = sorted(truth)
    for _, _, kind, first, final, prev, bp, bs, ap, as_ in events:
        if kind == "snapshot":
            bids, asks, local, bridging = _levels(bp, bs), _levels(ap, as_), final, True
        elif local is not None:
            if final <= local:
                continue  # already covered by the snapshot
            if chain == "okx":
                joined = prev == local
            elif bridging and chain == "futures":
                # ``U <= lastUpdateId <= u``, or ``pu == lastUpdateId``: the collector takes
                # both (as tardis-node does), and the simulator's next event after a REST
                # snapshot often starts at lastUpdateId + 1 with ``pu`` = lastUpdateId.
                joined = first <= local <= final or prev == local
            elif bridging:
                joined = first <= local + 1 <= final
            else:
                joined = prev == local if chain == "futures" else first == local + 1
            if not joined:
                local = None
                continue
            _apply(bids, bp, bs)
            _apply(asks, ap, as_)
            # Checkpoints strictly between the book before and after this delta are states
            # the stream never showed: the Binance futures simulator also checkpoints its
            # 250 ms windows, which a @depth@100ms subscriber passes over.
            passed.update(ids[bisect.bisect_right(ids, local) : bisect.bisect_left(ids, final)])
            local, bridging = final, False
        if local is not None and local in truth:
            covered.add(local)
            want_bids, want_asks = truth[local]
            got_bids = sorted(bids.items(), reverse=True)
            got_asks = sorted(asks.items())
            check.compared += 1
            if (got_bids, got_asks) != (want_bids, want_asks):
                check.mismatches.append(local)
    check.between = len(passed - covered)
    missed = sorted(set(truth) - covered - passed)
    check.not_covered = len(missed)
    first_snapshot = next((e[0] for e in events if e[2] == "snapshot"), None)
    check.undeclared = [
        c
        for c in missed
        if not (first_snapshot is not None and c < first_snapshot)  # before the collector began
        and not any(old <= c < new for old, new in resyncs)
    ]
    return check
