"""The e2e test's book check on a hand-made chain: it compares where the stored chain
holds, and names the checkpoints it cannot reach unless a stored Resync spans them."""

from __future__ import annotations

from decimal import Decimal as D

from tests.e2e._books import check_books

# (id, order, kind, first, final, prev, bid prices, bid sizes, ask prices, ask sizes)
EVENTS = [
    (10, 1, "snapshot", 10, 10, None, [D(1)], [D(1)], [D(3)], [D(1)]),
    (12, 0, "delta", 11, 12, None, [D(1)], [D(2)], [], []),
    (21, 0, "delta", 20, 21, None, [D(2)], [D(1)], [], []),  # 13..19 missing: chain breaks
    (30, 1, "snapshot", 30, 30, None, [D(1)], [D(5)], [D(3)], [D(1)]),
    (31, 0, "delta", 31, 31, None, [], [], [D(3)], [D(0)]),
]
TRUTH = {
    12: ([(D(1), D(2))], [(D(3), D(1))]),
    15: ([(D(9), D(9))], []),  # never reached: in the break
    25: ([(D(9), D(9))], []),  # never reached: in the break
    31: ([(D(1), D(5))], []),
}


def test_compares_where_the_chain_holds_and_names_what_no_resync_declares() -> None:
    check = check_books(EVENTS, TRUTH, chain="spot")
    assert (check.compared, check.not_covered, check.mismatches) == (2, 2, [])
    assert check.undeclared == [15, 25]


def test_a_resync_span_declares_the_break() -> None:
    check = check_books(EVENTS, TRUTH, chain="spot", resyncs=[(12, 30)])
    assert check.undeclared == []
    partial = check_books(EVENTS, TRUTH, chain="spot", resyncs=[(20, 30)])
    assert partial.undeclared == [15]


def test_a_wrong_book_is_a_mismatch() -> None:
    truth = {**TRUTH, 31: ([(D(1), D(4))], [])}
    assert check_books(EVENTS, truth, chain="spot", resyncs=[(12, 30)]).mismatches == [31]


# OKX: prev is the collector's seqId when it applied the update (the snapshot's for the
# first after one), first = the wire prevSeqId + 1; heartbeats are not stored.
OKX_EVENTS = [
    (10, 1, "snapshot", 10, 10, None, [D(1)], [D(1)], [D(3)], [D(1)]),
    (14, 0, "delta", 11, 14, 10, [D(1)], [D(2)], [], []),
    (20, 0, "delta", 15, 20, 14, [D(2)], [D(1)], [], []),
    (27, 0, "delta", 26, 27, 25, [D(2)], [D(0)], [], []),  # 25 never stored: the chain breaks
    (30, 1, "snapshot", 30, 30, None, [D(1)], [D(5)], [D(3)], [D(1)]),
    (33, 0, "delta", 29, 33, 30, [], [], [D(3)], [D(0)]),  # bridges: prevSeqId 28 < 30 < 33
]
OKX_TRUTH = {
    14: ([(D(1), D(2))], [(D(3), D(1))]),
    20: ([(D(2), D(1)), (D(1), D(2))], [(D(3), D(1))]),
    27: ([(D(9), D(9))], []),  # never reached
    33: ([(D(1), D(5))], []),
}


def test_okx_chain_follows_the_stored_prev() -> None:
    check = check_books(OKX_EVENTS, OKX_TRUTH, chain="okx", resyncs=[(20, 30)])
    assert (check.compared, check.not_covered, check.mismatches) == (3, 1, [])
    assert check.undeclared == []
    assert check_books(OKX_EVENTS, OKX_TRUTH, chain="okx").undeclared == [27]


def test_futures_bridge_by_pu() -> None:
    """Binance futures: after a snapshot at 10, an event 11–12 with ``pu`` 10 bridges (the
    collector accepts ``pu == lastUpdateId`` as well as ``U <= lastUpdateId <= u``)."""
    events = [
        (10, 1, "snapshot", 10, 10, None, [D(1)], [D(1)], [D(3)], [D(1)]),
        (12, 0, "delta", 11, 12, 10, [D(1)], [D(2)], [], []),
        (14, 0, "delta", 13, 14, 12, [D(2)], [D(1)], [], []),
    ]
    truth = {14: ([(D(2), D(1)), (D(1), D(2))], [(D(3), D(1))])}
    check = check_books(events, truth, chain="futures")
    assert (check.compared, check.not_covered, check.mismatches) == (1, 0, [])


def test_a_checkpoint_inside_one_stored_delta_is_passed_over_not_lost() -> None:
    """The stream went from 12 to 14 in one delta: a checkpoint at 13 is no state it ever
    showed (not compared, not lost); 14 is compared."""
    events = [
        (10, 1, "snapshot", 10, 10, None, [D(1)], [D(1)], [D(3)], [D(1)]),
        (12, 0, "delta", 11, 12, 10, [D(1)], [D(2)], [], []),
        (14, 0, "delta", 13, 14, 12, [D(2)], [D(1)], [], []),
    ]
    truth = {13: ([(D(9), D(9))], []), 14: ([(D(2), D(1)), (D(1), D(2))], [(D(3), D(1))])}
    check = check_books(events, truth, chain="futures")
    assert (check.compared, check.between, check.not_covered, check.undeclared) == (1, 1, 0, [])
