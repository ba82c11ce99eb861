"""The book-sync rules, sans-I/O, case by case (spot U/u as corrected; futures pu)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mdp.exchanges.binance import BookSync
from mdp.exchanges.binance._parse import DepthEvent
from mdp.model import BookDelta, BookSnapshot, Gap, Instrument, MarketType, Record, Resync

INST = Instrument(exchange="binance", market=MarketType.SPOT, native_symbol="X", symbol="X/Y")


def ev(first: int, last: int, bids: Any = (), asks: Any = (), prev: int | None = None) -> Any:
    data: dict[str, Any] = {"U": first, "u": last, "E": 1, "b": list(bids), "a": list(asks)}
    if prev is not None:
        data["pu"] = prev
    return DepthEvent(data, 5)


SNAP = {"lastUpdateId": 100, "bids": [["10", "1"]], "asks": [["11", "1"]]}


def kinds(out: list[Record]) -> list[str]:
    return [r.kind.value for r in out]


def test_spot_snapshot_older_than_first_event_is_fetched_again() -> None:
    book, out = BookSync(INST, "x@depth", futures=False), []
    book.on_event(ev(105, 110), out)
    book.on_snapshot(SNAP, 0, out)  # lastUpdateId 100 < first U 105
    assert book.need_snapshot
    assert not book.live
    assert out == []


def test_spot_bridge_drops_old_events_and_applies_the_rest() -> None:
    book, out = BookSync(INST, "x@depth", futures=False), []
    book.on_event(ev(90, 95), out)
    book.on_event(ev(96, 103, bids=[["10", "2"]]), out)
    book.on_event(ev(104, 104, asks=[["11", "0"], ["12", "3"]]), out)
    book.need_snapshot = False
    book.on_snapshot(SNAP, 0, out)
    assert kinds(out) == ["book_snapshot", "book_delta", "book_delta"]
    assert book.local_id == 104
    assert book.bids == {Decimal("10"): Decimal("2")}
    assert book.asks == {Decimal("12"): Decimal("3")}
    snap = out[0]
    assert isinstance(snap, BookSnapshot)
    assert snap.last_update_id == 100


def test_spot_gap_publishes_gap_keeps_old_book_and_resyncs() -> None:
    book, out = BookSync(INST, "x@depth", futures=False), []
    book.on_event(ev(100, 101), out)
    book.on_snapshot(SNAP, 0, out)
    out.clear()
    book.on_event(ev(102, 105, bids=[["9", "1"]]), out)
    book.on_event(ev(108, 110, bids=[["8", "1"]]), out)  # 106..107 missing
    assert kinds(out) == ["book_delta", "gap"]
    gap = out[1]
    assert isinstance(gap, Gap)
    assert (gap.first_missing, gap.last_missing) == (106, 107)
    assert book.need_snapshot
    assert not book.live
    out.clear()
    book.on_snapshot({"lastUpdateId": 109, "bids": [["9", "1"]], "asks": [["11", "1"]]}, 0, out)
    assert kinds(out) == ["resync", "book_snapshot", "book_delta"]
    resync = out[0]
    assert isinstance(resync, Resync)
    assert (resync.old_sequence, resync.new_sequence) == (105, 109)


def test_crossed_book_is_a_gap_and_is_never_published() -> None:
    book, out = BookSync(INST, "x@depth", futures=False), []
    book.on_event(ev(100, 101), out)
    book.on_snapshot(SNAP, 0, out)
    out.clear()
    book.on_event(ev(102, 102, bids=[["12", "1"]]), out)  # bid above the best ask
    assert kinds(out) == ["gap"]
    assert "crossed" in out[0].reason  # type: ignore[union-attr]
    assert Decimal("12") not in book.bids  # rolled back: consumers keep the old book


def test_futures_pu_chain_and_bridge() -> None:
    book, out = BookSync(INST, "x@depth", futures=True), []
    book.on_event(ev(95, 99, prev=90), out)
    book.on_event(ev(100, 103, prev=99, bids=[["10", "5"]]), out)  # U <= 100 <= u: the bridge
    book.on_event(ev(104, 107, prev=103), out)
    book.on_snapshot(SNAP, 0, out)
    assert kinds(out) == ["book_snapshot", "book_delta", "book_delta"]
    assert book.local_id == 107
    out.clear()
    book.on_event(ev(104, 107, prev=103), out)  # a duplicate (rollover overlap)
    assert out == []
    book.on_event(ev(110, 112, prev=109), out)  # pu 109 != 107
    assert kinds(out) == ["gap"]


def test_duplicate_and_old_events_are_ignored_when_live() -> None:
    book, out = BookSync(INST, "x@depth", futures=False), []
    book.on_event(ev(100, 101), out)
    book.on_snapshot(SNAP, 0, out)
    out.clear()
    book.on_event(ev(100, 101), out)
    assert out == []
    assert isinstance(BookDelta, type)
