"""A cache of what is derived from an instrument, keyed by the Instrument object itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["InstrumentCache"]

V = TypeVar("V")


class InstrumentCache(dict[int, tuple[Any, V]], Generic[V]):
    """What a stage derives from an instrument (its rules, its state), by ``id`` of the
    Instrument object a record carries.

    Records of one instrument share one Instrument object, so the lookup by identity is
    one dictionary probe where hashing the instrument would call into Python; the entry
    keeps the instrument alive, so its id cannot be reused while it is cached. Hot loops
    use it as ``entry = cache.get(id(instrument))`` and check ``entry[0] is instrument``,
    falling back to :meth:`miss`.
    """

    def __init__(self, derive: Callable[[Any], V], limit: int = 65_536) -> None:
        super().__init__()
        self._derive = derive
        self._limit = limit

    def lookup(self, instrument: Any) -> V:
        """The derived value, from the cache when it is there (for code off the hot path)."""
        entry = self.get(id(instrument))
        return entry[1] if entry is not None and entry[0] is instrument else self.miss(instrument)

    def miss(self, instrument: Any) -> V:
        if len(self) >= self._limit:
            self.clear()
        value = self._derive(instrument)
        self[id(instrument)] = (instrument, value)
        return value
