"""Instrument metadata from ``public/instruments``, with ``etc/mdp/symbols.toml`` as the
fallback for SPOT.

Tick is ``tickSz``. Records carry sizes in base units, so a SWAP's lot is ``lotSz`` (in
contracts) × ``ctVal`` (base units per contract), and ``ctVal`` is kept beside the
instrument for converting every size on the way in. The symbols file has no ``ctVal``,
so a SWAP cannot fall back to it. Normalized symbols: ``BTC/USDT`` for SPOT,
``BTC/USDT:USDT`` for a USDT-margined SWAP. Answers are cached per REST URL and
instrument type for the process; :data:`REGISTRY` (``mdp.instruments.LIVE``) holds every
instrument collected, with the other exchanges' (the cleaning stage's ``live``).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

from mdp._exceptions import ExchangeError
from mdp.exchanges.okx._rest import OkxRestClient
from mdp.instruments import LIVE, InstrumentKey, InstrumentRegistry, load_symbols
from mdp.model import Instrument, MarketType, normalized_symbol
from mdp.model._numbers import wire_decimals

__all__ = ["EXCHANGE", "REGISTRY", "fetch_instruments", "instruments_from_okx"]

EXCHANGE = "okx"
log = logging.getLogger("mdp.exchanges.okx")
Known = dict[str, tuple[Instrument, Decimal | None]]
"""instId → (instrument, ctVal: None for SPOT)."""
REGISTRY = LIVE  # the process's one registry of collected instruments
_cache: dict[tuple[str, str], Known] = {}


def instruments_from_okx(
    rows: list[dict[str, Any]],
) -> dict[str, tuple[Instrument, Decimal | None]]:
    """instId → (instrument, ctVal or None) for the SPOT and linear SWAP rows."""
    out: Known = {}
    for row in rows:
        inst_id = row["instId"]
        tick = wire_decimals[row["tickSz"]].normalize()
        lot = wire_decimals[row["lotSz"]]
        if row["instType"] == "SWAP":
            if row.get("ctType", "linear") != "linear":
                continue  # inverse contracts: sizes in USD, not modelled here
            base, quote = (row.get("instFamily") or row["uly"]).split("-")[:2]
            ct_val = wire_decimals[row["ctVal"]]
            symbol = normalized_symbol(base, quote, settle=row["settleCcy"])
            out[inst_id] = (
                Instrument(
                    exchange=EXCHANGE, market=MarketType.PERPETUAL, native_symbol=inst_id,
                    symbol=symbol, tick=tick, lot=(lot * ct_val).normalize(),
                ),
                ct_val,
            )  # fmt: skip
        elif row["instType"] == "SPOT":
            symbol = normalized_symbol(row["baseCcy"], row["quoteCcy"])
            out[inst_id] = (
                Instrument(
                    exchange=EXCHANGE, market=MarketType.SPOT, native_symbol=inst_id,
                    symbol=symbol, tick=tick, lot=lot.normalize(),
                ),
                None,
            )  # fmt: skip
    return out


async def fetch_instruments(
    rest: OkxRestClient, inst_type: str, symbols: list[str], fallback: Path | None
) -> tuple[dict[str, Instrument], dict[str, Decimal | None]]:
    """(instruments, ctVals) of ``symbols``; each instrument is also added to
    :data:`REGISTRY`."""
    key = (rest.base_url, inst_type)
    known = _cache.get(key)
    if known is None or any(s not in known for s in symbols):
        try:
            rows = await rest.get("/api/v5/public/instruments", {"instType": inst_type})
            known = _cache[key] = instruments_from_okx(rows)
        except ExchangeError as exc:
            log.warning("okx %s: public/instruments failed (%s)", inst_type, exc)
            known = {}
    market = MarketType.PERPETUAL if inst_type == "SWAP" else MarketType.SPOT
    registry = _fallback(fallback)
    instruments: dict[str, Instrument] = {}
    ct_vals: dict[str, Decimal | None] = {}
    for symbol in symbols:
        found = known.get(symbol)
        if found is None and registry is not None and inst_type == "SPOT":
            inst = registry.get(InstrumentKey(EXCHANGE, market, symbol))
            found = None if inst is None else (inst, None)
        if found is None:
            raise ExchangeError(
                f"okx {inst_type}: unknown instrument {symbol!r}: not in public/instruments"
                + (" (a SWAP needs its ctVal from there)" if inst_type == "SWAP" else
                   f" and not in {fallback}")
                + "; check the instId (e.g. BTC-USDT, BTC-USDT-SWAP)"
            )  # fmt: skip
        instruments[symbol], ct_vals[symbol] = found
        REGISTRY.add(found[0])
    return instruments, ct_vals


def _fallback(path: Path | None) -> InstrumentRegistry | None:
    if path is None or not path.exists():
        return None
    return load_symbols(path)
