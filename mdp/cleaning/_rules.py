"""Cleaning rules and thresholds (``etc/mdp/cleaning.toml``), with per-symbol overrides.

    [defaults]
    price_jump = "0.05"

    [symbols."binance:BTCUSDT"]          # every market of that native symbol
    price_jump = "0.10"

    [symbols."binance:perpetual:BTCUSDT"]  # one market only; wins over the line above
    off_tick = "repair"

Decimals are written as strings so that they stay exact.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from mdp.config import converter, load_toml, structure
from mdp.instruments import InstrumentCache
from mdp.model import Instrument

__all__ = ["CleaningConfig", "OffIncrement", "Rules", "RulesBook", "load_rules"]


class OffIncrement(enum.StrEnum):
    """What to do with a price off the tick or a size off the lot."""

    FLAG = "flag"  # keep the value, mark the record suspicious
    REPAIR = "repair"  # round to the nearest increment, mark the record repaired


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be positive, not {value}")


@attrs.frozen(kw_only=True)
class Rules:
    """Thresholds for one instrument. Times are in milliseconds as exchanges give them."""

    # stage 2: field validity
    earliest_time_ms: int = attrs.field(default=1_230_768_000_000, validator=_positive)  # 2009
    max_ahead_ms: int = attrs.field(default=86_400_000, validator=_positive)
    # stage 4: precision
    off_tick: OffIncrement = OffIncrement.FLAG
    off_lot: OffIncrement = OffIncrement.FLAG
    # stage 5: receive timestamp
    ahead_tolerance_ms: int = attrs.field(default=1_000, validator=_positive)
    staleness_ms: int = attrs.field(default=60_000, validator=_positive)
    # stage 6: anomalies
    price_jump: Decimal = attrs.field(default=Decimal("0.05"), validator=_positive)
    price_jump_confirm: int = attrs.field(default=3, validator=_positive)
    size_spike: Decimal = attrs.field(default=Decimal(10), validator=_positive)
    size_window: int = attrs.field(default=100, validator=_positive)
    size_min_samples: int = attrs.field(default=20, validator=_positive)


@attrs.frozen
class CleaningConfig:
    defaults: dict[str, Any] = attrs.Factory(dict)
    symbols: dict[str, dict[str, Any]] = attrs.Factory(dict)


class RulesBook:
    """The rules for each instrument: defaults, then ``exchange:SYMBOL``, then
    ``exchange:market:SYMBOL`` overrides."""

    def __init__(self, config: CleaningConfig | None = None, *, source: str = "rules") -> None:
        config = config or CleaningConfig()
        self.defaults = structure(config.defaults, Rules, source=f"{source} [defaults]")
        base = converter.unstructure(self.defaults)
        self._overrides: dict[str, Rules] = {}
        # Wider overrides first, so that a market-specific one builds on them.
        for key in sorted(config.symbols, key=lambda k: k.count(":")):
            parts = key.split(":")
            if len(parts) not in (2, 3) or not all(parts):
                raise ValueError(
                    f"{source}: symbols.{key!r}: a key is exchange:SYMBOL or exchange:market:SYMBOL"
                )
            wider = self._overrides.get(f"{parts[0]}:{parts[-1]}") if len(parts) == 3 else None
            start = converter.unstructure(wider) if wider else base
            merged = {**start, **config.symbols[key]}
            self._overrides[key] = structure(merged, Rules, source=f'{source} [symbols."{key}"]')
        self._cache: InstrumentCache[Rules] = InstrumentCache(self._resolve)

    def for_instrument(self, instrument: Instrument) -> Rules:
        return self._cache.lookup(instrument)

    def _resolve(self, instrument: Instrument) -> Rules:
        native = instrument.native_symbol
        return (
            self._overrides.get(f"{instrument.exchange}:{instrument.market.value}:{native}")
            or self._overrides.get(f"{instrument.exchange}:{native}")
            or self.defaults
        )


def load_rules(path: Path | str) -> RulesBook:
    """Read and validate a cleaning rules file; errors name the file, table and key."""
    return RulesBook(load_toml(path, CleaningConfig), source=str(path))
