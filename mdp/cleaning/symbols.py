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
from mdp.instruments import InstrumentCache, InstrumentRegistry
from mdp.model import Instrument, Reason, Record

__all__ = ["SymbolStage"]


class SymbolStage:
    name: ClassVar[str] = "symbols"

    def __init__(self, registry: InstrumentRegistry) -> None:
        self.registry = registry
        self.stats = StageStats()
        self._resolved: InstrumentCache[Instrument | None] = InstrumentCache(self._resolve)
        self._registry_version = registry.version

    def _resolve(self, instrument: Instrument) -> Instrument | None:
        canonical = self.registry.canonical(instrument)
        # An equal copy (decoded in another process, read from another file) is as good.
        return instrument if canonical == instrument else canonical

    def process(self, batch: Sequence[Any]) -> tuple[list[Record], list[Rejection]]:
        out: list[Record] = []
        rejected: list[Rejection] = []
        resolved = self._resolved
        if self._registry_version != self.registry.version:  # instrument metadata changed
            resolved.clear()
            self._registry_version = self.registry.version
        for record in batch:
            instrument = record.instrument
            entry = resolved.get(id(instrument))
            canonical = (
                entry[1]
                if entry is not None and entry[0] is instrument
                else resolved.miss(instrument)
            )
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
