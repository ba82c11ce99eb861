"""Stage 6, anomaly flags: price jumps against a rolling reference, sizes far above the
rolling average, duplicate, out-of-order and missing ids. Flags only, never drops.

State per instrument is small (see ``_anomaly_state.py``) and is rebuilt from the records
that follow when the stage restarts.

- Price: a price beyond ``price_jump`` (a fraction) from the reference is flagged; after
  ``price_jump_confirm`` jumps in a row the market has moved and the reference follows.
- Size: flagged above ``size_spike`` times the average of the last ``size_window``
  unflagged sizes, once ``size_min_samples`` sizes are known.
- Ids (trade ids; book delta update ids): a repeat is a duplicate, a lower id that fills
  a hole is out of order (unless the record was backfilled on purpose), a jump past the
  next id is a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from mdp.cleaning._anomaly_state import Ids, PriceReference, SizeWindow
from mdp.cleaning._rules import Rules, RulesBook
from mdp.cleaning._stage import Rejection, StageStats, flag
from mdp.instruments import InstrumentCache
from mdp.model import BookDelta, Instrument, Kind, MarkPrice, QualityLevel, Reason, Record, Trade

__all__ = ["AnomalyStage"]

_SUSPICIOUS = QualityLevel.SUSPICIOUS


class _Track:
    """Everything the stage keeps about one stream (instrument and kind)."""

    __slots__ = ("ids", "price", "rules", "sizes")

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.price = PriceReference()
        self.sizes = SizeWindow(rules)
        self.ids = Ids()


class AnomalyStage:
    name: ClassVar[str] = "anomalies"

    def __init__(self, rules: RulesBook) -> None:
        self.rules = rules
        self.stats = StageStats()
        self._tracks: dict[tuple[Instrument, Kind], _Track] = {}
        self._trade_tracks: InstrumentCache[_Track] = InstrumentCache(self._new_trade_track)

    def _new_trade_track(self, instrument: Instrument) -> _Track:
        track = self._tracks.get((instrument, Kind.TRADE))
        if track is None:
            track = self._tracks[(instrument, Kind.TRADE)] = _Track(
                self.rules.for_instrument(instrument)
            )
        return track

    def _track(self, record: Record) -> _Track:
        key = (record.instrument, record.kind)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(self.rules.for_instrument(record.instrument))
        return track

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        append = out.append
        tracks = self._trade_tracks
        refresh, block = PriceReference.REFRESH, SizeWindow.BLOCK
        for record in batch:
            if type(record) is not Trade:
                append(self._other(record))
                continue
            instrument = record.instrument
            entry = tracks.get(id(instrument))
            track = (
                entry[1]
                if entry is not None and entry[0] is instrument
                else tracks.miss(instrument)
            )
            ids, price, sizes = track.ids, track.price, track.sizes
            # The hot path: the next id, no reasons yet, a price inside the band, a size
            # under the threshold. Anything else takes the full, flagging path.
            value = record.price
            threshold = sizes.threshold
            if (
                ids.last is not None
                and record.trade_id == ids.last + 1
                and price.lo <= value <= price.hi
                and (threshold is None or record.size <= threshold)
                and not record.quality.reasons
            ):
                ids.last += 1
                price.jumps = 0
                price.age += 1
                if price.age >= refresh:
                    price.set(value, track.rules)
                if threshold is None:  # warming up: the window decides when it is ready
                    sizes.add(record.size, track.rules)
                else:  # SizeWindow.add, inlined
                    sizes.block += record.size
                    sizes.block_count += 1
                    if sizes.block_count >= block:
                        sizes.close_block(track.rules)
                append(record)
                continue
            append(self._trade(record, track))
        self.stats.records_in += len(batch)
        self.stats.records_out += len(out)
        return out, []

    def _trade(self, trade: Trade, track: _Track) -> Trade:
        rules = track.rules
        backfilled = Reason.BACKFILLED in trade.quality.reasons
        id_reason = track.ids.classify(trade.trade_id, trade.trade_id, backfilled=backfilled)
        if id_reason is not None:
            trade = flag(trade, _SUSPICIOUS, id_reason, self.stats)
        if id_reason is Reason.DUPLICATE_ID:
            return trade  # a repeat says nothing new about prices or sizes
        if track.price.is_jump(trade.price, rules):
            trade = flag(trade, _SUSPICIOUS, Reason.PRICE_JUMP, self.stats)
        if track.sizes.is_spike(trade.size, rules):
            trade = flag(trade, _SUSPICIOUS, Reason.SIZE_SPIKE, self.stats)
        return trade

    def _other(self, record: Record) -> Record:
        if type(record) is BookDelta:
            reason = self._track(record).ids.classify(
                record.first_update_id,
                record.final_update_id,
                previous=record.prev_final_update_id,
            )
            if reason is not None:
                return flag(record, _SUSPICIOUS, reason, self.stats)
        elif type(record) is MarkPrice:
            track = self._track(record)
            if track.price.is_jump(record.mark_price, track.rules):
                return flag(record, _SUSPICIOUS, Reason.PRICE_JUMP, self.stats)
        return record
