"""Book rules: OKX's documented checksum examples, the documented sequence example
(snapshot, update, heartbeat, reset, update), checksum 0, and against the simulator the
heartbeat, reset, checksum-0 and REST-bootstrap cases."""

from __future__ import annotations

import binascii
import struct
from decimal import Decimal
from typing import Any

import trio

from mdp.exchanges.okx import BookSync, checksum, checksum_string
from mdp.exchanges.okx._parse import BookEvent, Sizes
from mdp.model import BookDelta, BookSnapshot, Gap, Instrument, MarketType, Record
from mdp.simulator.okx import Checksum, OkxSimulator
from tests.exchanges.okx._harness import SPOT, SWAP, group_spec, sim_config, start

INST = Instrument(exchange="okx", market=MarketType.SPOT, native_symbol=SPOT, symbol="BTC/USDT")


def _signed_crc(text: str) -> int:
    """CRC32 as a signed 32-bit integer, computed another way than the module does."""
    unsigned = binascii.crc32(text.encode()) & 0xFFFFFFFF
    value: int = struct.unpack("<i", struct.pack("<I", unsigned))[0]
    return value


def test_checksum_strings_of_okx_examples() -> None:
    bids = [("3366.1", "7"), ("3366", "6")]
    asks = [("3366.8", "9"), ("3368", "8")]
    assert checksum_string(bids, asks) == "3366.1:7:3366.8:9:3366:6:3368:8"
    one_bid = [("3366.1", "7")]
    three_asks = [("3366.8", "9"), ("3368", "8"), ("3372", "8")]
    assert checksum_string(one_bid, three_asks) == "3366.1:7:3366.8:9:3368:8:3372:8"
    for b, a in ((bids, asks), (one_bid, three_asks)):
        assert checksum(b, a) == _signed_crc(checksum_string(b, a))
    # The original strings count: "3366.10" is another string, so another checksum.
    assert checksum([("3366.10", "7")], asks) != checksum([("3366.1", "7")], asks)


def test_checksum_takes_at_most_25_levels_a_side() -> None:
    bids = [(str(1000 - i), "1") for i in range(30)]
    asks = [(str(1001 + i), "2") for i in range(30)]
    text = checksum_string(bids, asks)
    assert text.count(":") == 25 * 4 - 1
    assert text.endswith("976:1:1025:2")


def _event(
    action: str, prev: int, seq: int, bids: Any = (), asks: Any = (), cs: int = 0
) -> BookEvent:
    row = {"bids": [list(b) for b in bids], "asks": [list(a) for a in asks], "ts": "1",
           "checksum": cs, "prevSeqId": prev, "seqId": seq}  # fmt: skip
    return BookEvent(row, action == "snapshot", 0)


def _with_checksum(book: BookSync, ev: BookEvent) -> BookEvent:
    """``ev`` carrying the checksum of the book it leads to (as OKX computes it)."""
    bids = dict(book.bids)
    asks = dict(book.asks)
    for side, changes in ((bids, ev.bids), (asks, ev.asks)):
        for px, sz, *_ in changes:
            if Decimal(sz):
                side[Decimal(px)] = (px, sz)
            else:
                side.pop(Decimal(px), None)
    top_b = [bids[p] for p in sorted(bids, reverse=True)[:25]]
    top_a = [asks[p] for p in sorted(asks)[:25]]
    ev.checksum = _signed_crc(checksum_string(top_b, top_a))
    return ev


def test_documented_sequence_example() -> None:
    """snapshot (−1 → 10), update (10 → 15), heartbeat (15 → 15), reset (15 → 3),
    update (3 → 5): no gap, one heartbeat, one reset, every checksum verified."""
    book = BookSync(INST, Sizes(None), "books:BTC-USDT", rest_bootstrap=False)
    out: list[Record] = []
    snap = _event("snapshot", -1, 10, [("3366.1", "7", "0", "1")], [("3366.8", "9", "0", "1")])
    book.on_event(_with_checksum(book, snap), out)
    steps = [
        _event("update", 10, 15, [("3366", "6", "0", "2")], [("3368", "8", "0", "1")]),
        _event("update", 15, 15),
        _event("update", 15, 3, [], [("3366.8", "0", "0", "0")]),
        _event("update", 3, 5, [("3366.1", "8", "0", "3")]),
    ]
    for ev in steps:
        book.on_event(_with_checksum(book, ev), out)
    assert [type(r) for r in out] == [BookSnapshot, BookDelta, BookDelta, BookDelta]
    assert (book.local, book.heartbeats, book.resets, book.checksums) == (5, 1, 1, 3)
    assert [r.final_update_id for r in out if isinstance(r, BookDelta)] == [15, 3, 5]


def test_rest_snapshot_inside_the_first_update_bridges() -> None:
    """OKX's REST bootstrap: drop what the snapshot covers; the first update left must
    satisfy ``prevSeqId <= snapshot.seqId < seqId``, and it applies on the snapshot even
    when its ``prevSeqId`` is below the snapshot's (not a gap), the rest chain on."""
    book = BookSync(INST, Sizes(None), "books:BTC-USDT", rest_bootstrap=True)
    out: list[Record] = []
    book.on_event(_event("update", 8, 10, [("99", "1", "0", "1")]), out)
    book.on_event(_event("update", 10, 15, [("99", "2", "0", "1")]), out)
    book.on_event(_event("update", 15, 18, [("98", "3", "0", "1")]), out)
    assert book.need_snapshot
    assert not book.live
    body = {"bids": [["99", "1", "0", "1"], ["97", "4", "0", "1"]],
            "asks": [["101", "1", "0", "1"]], "ts": "1", "seqId": "12"}  # fmt: skip
    book.on_rest_snapshot(body, 0, out)  # 10 <= 12 < 15
    assert book.live
    assert not book.need_snapshot
    assert not [r for r in out if isinstance(r, Gap)]
    assert book.local == 18
    deltas = [r for r in out if isinstance(r, BookDelta)]
    assert [(d.prev_final_update_id, d.final_update_id) for d in deltas] == [(12, 15), (15, 18)]
    assert book.bids == {
        Decimal("99"): ("99", "2"), Decimal("98"): ("98", "3"), Decimal("97"): ("97", "4")
    }  # fmt: skip


def test_checksum_zero_is_ignored_and_a_wrong_one_is_a_gap() -> None:
    book = BookSync(INST, Sizes(None), "books:BTC-USDT", rest_bootstrap=False)
    out: list[Record] = []
    book.on_event(
        _event("snapshot", -1, 10, [("100", "1", "0", "1")], [("101", "1", "0", "1")]), out
    )
    book.on_event(_event("update", 10, 11, [("99", "2", "0", "1")], cs=0), out)
    assert book.live
    assert book.checksums == 0
    book.on_event(_event("update", 11, 12, [("98", "2", "0", "1")], cs=12345), out)
    gaps = [r for r in out if isinstance(r, Gap)]
    assert [g.reason for g in gaps] == ["checksum mismatch"]
    assert not book.live
    assert Decimal("98") not in book.bids  # the bad update was undone
    assert book.need_snapshot


async def test_heartbeats_while_the_book_does_not_change(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config(heartbeat_s=0.2)))
    await h.wait_for(lambda: h.collected.snapshots >= 2)
    h.sim.pause()
    await h.wait_for(lambda: all(b.heartbeats >= 2 for b in h.state().books.values()))
    h.sim.resume()
    await h.wait_for(lambda: len(h.trade_ids(SPOT)) > 100)
    await h.settle([SPOT, "ETH-USDT"])
    assert not h.collected.gaps  # a heartbeat is neither a gap nor data
    for symbol in (SPOT, "ETH-USDT"):
        h.assert_books_match(symbol)


async def test_sequence_reset_is_followed(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config()))
    await h.wait_for(lambda: h.collected.deltas >= 20)
    h.sim.reset_sequences()
    await h.wait_for(lambda: all(b.resets >= 1 for b in h.state().books.values()))
    await h.wait_for(lambda: len(h.trade_ids(SPOT)) > 200)
    await h.settle([SPOT, "ETH-USDT"])
    assert not h.collected.gaps
    assert not h.collected.resyncs
    for symbol in (SPOT, "ETH-USDT"):
        h.assert_books_match(symbol)


async def test_checksum_zero_books_follow_seq_ids(nursery: trio.Nursery) -> None:
    h = await start(nursery, OkxSimulator(sim_config(checksum=Checksum.ZERO)))
    await h.wait_for(lambda: h.collected.deltas >= 40)
    await h.settle([SPOT, "ETH-USDT"])
    assert all(b.checksums == 0 for b in h.state().books.values())
    assert not h.collected.gaps
    h.assert_books_match(SPOT)


async def test_rest_bootstrap_without_ws_snapshot(nursery: trio.Nursery) -> None:
    h = await start(
        nursery,
        OkxSimulator(sim_config(book_snapshot=False, symbols=[SWAP])),
        lambda a: group_spec("swap", a, book_bootstrap="rest"),
    )
    await h.wait_for(lambda: h.collected.snapshots >= 1 and h.collected.deltas >= 20)
    await h.settle([SWAP])
    h.assert_books_match(SWAP)
    assert not h.collected.gaps
    assert h.group("swap").rest.requests >= 2  # instruments, then market/books
