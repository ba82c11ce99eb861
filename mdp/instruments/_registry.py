"""Instrument metadata: what the platform knows about each instrument it collects.

The registry maps an exchange's native symbol to the canonical :class:`Instrument` (its
normalized symbol, tick and lot). Collectors fill it from the exchange's instrument
endpoints and fall back to ``etc/mdp/symbols.toml``; the cleaning pipeline's symbol stage
checks every record against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from mdp.instruments._cache import InstrumentCache
from mdp.model import Instrument, MarketType

__all__ = ["LIVE", "InstrumentKey", "InstrumentRegistry"]


@attrs.frozen
class InstrumentKey:
    exchange: str
    market: MarketType
    native_symbol: str


class InstrumentRegistry:
    """Canonical instruments by (exchange, market, native symbol).

    ``canonical`` is on the hot path of the cleaning pipeline: records normally carry the
    registry's own Instrument object, so the lookup is first tried by identity.
    """

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_key: dict[tuple[str, MarketType, str], Instrument] = {}
        self._by_identity: InstrumentCache[Instrument | None] = InstrumentCache(self._by_fields)
        self.version = 0  # bumped on every change, so that users' caches know to forget
        for instrument in instruments:
            self.add(instrument)

    def add(self, instrument: Instrument) -> None:
        """Add or replace an instrument (metadata refreshes replace, they never merge)."""
        if not instrument.symbol:
            raise ValueError(
                f"{instrument.native_symbol}: a canonical instrument needs its normalized symbol"
            )
        key = (instrument.exchange, instrument.market, instrument.native_symbol)
        self._by_key[key] = instrument
        self._by_identity.clear()  # an earlier answer may be stale now
        self.version += 1

    def get(self, key: InstrumentKey) -> Instrument | None:
        return self._by_key.get((key.exchange, key.market, key.native_symbol))

    def canonical(self, instrument: Instrument) -> Instrument | None:
        """The registry's instrument for the one a record carries, ``None`` when unknown."""
        return self._by_identity.lookup(instrument)

    def _by_fields(self, instrument: Instrument) -> Instrument | None:
        return self._by_key.get((instrument.exchange, instrument.market, instrument.native_symbol))

    def __iter__(self) -> Iterator[Instrument]:
        return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)


LIVE = InstrumentRegistry()
"""Every instrument the collectors of this process learned from their exchanges (each
adapter adds to it; the keys include the exchange): what the ``symbols`` cleaning stage
checks against in a role that collects (``symbols = "live"``)."""
