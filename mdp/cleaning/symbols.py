"""Stage 3, symbol normalization: every record carries its registry's canonical instrument
(normalized symbol such as ``BTC/USDT`` or ``BTC/USDT:USDT``, tick and lot).

A record whose instrument the registry does not know is unrepairable: without the
instrument, neither its symbol nor its precision can be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from mdp.cleaning._stage import Rejection, StageStats
from mdp.instruments import InstrumentRegistry
from mdp.model import Reason, Record

__all__ = ["SymbolStage"]


class SymbolStage:
    name: ClassVar[str] = "symbols"

    def __init__(self, registry: InstrumentRegistry) -> None:
        self.registry = registry
        self.stats = StageStats()

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        rejected: list[Rejection] = []
        canonical_of = self.registry.canonical
        last_instrument = canonical = None
        for record in batch:
            instrument = record.instrument
            if instrument is not last_instrument:  # batches mostly hold one instrument
                last_instrument = instrument
                canonical = canonical_of(instrument)
                if canonical == instrument:  # an equal copy (another process, another file)
                    canonical = instrument
            if canonical is instrument:
                out.append(record)
            elif canonical is None:
                rejected.append(
                    Rejection(
                        record,
                        self.name,
                        Reason.UNKNOWN_SYMBOL,
                        f"{instrument.exchange} {instrument.market.value} "
                        f"{instrument.native_symbol!r} is not a known instrument",
                    )
                )
                self.stats.flagged[Reason.UNKNOWN_SYMBOL.value] += 1
            else:  # the same instrument, not yet normalized: not a defect of the data
                out.append(attrs.evolve(record, instrument=canonical))
        self.stats.records_in += len(batch)
        self.stats.records_out += len(out)
        self.stats.dead_lettered += len(rejected)
        return out, rejected
