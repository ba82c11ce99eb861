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
    check = check_books(EVENTS, TRUTH, futures=False)
    assert (check.compared, check.not_covered, check.mismatches) == (2, 2, [])
    assert check.undeclared == [15, 25]


def test_a_resync_span_declares_the_break() -> None:
    check = check_books(EVENTS, TRUTH, futures=False, resyncs=[(12, 30)])
    assert check.undeclared == []
    partial = check_books(EVENTS, TRUTH, futures=False, resyncs=[(20, 30)])
    assert partial.undeclared == [15]


def test_a_wrong_book_is_a_mismatch() -> None:
    truth = {**TRUTH, 31: ([(D(1), D(4))], [])}
    assert check_books(EVENTS, truth, futures=False, resyncs=[(12, 30)]).mismatches == [31]
