"""The simulated OKX instruments: SPOT and SWAP, tick, lot and (SWAP) contract value.

Sizes of a SWAP are in contracts on the wire (``sz``), as on OKX; ``ct_val`` base units
per contract is what ``public/instruments`` reports as ``ctVal``.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from mdp.simulator._instruments import NumberScale

__all__ = ["OkxInstrument", "okx_instruments"]


@attrs.frozen
class OkxInstrument:
    inst_id: str
    inst_type: str  # SPOT or SWAP
    base: str
    quote: str
    tick: Decimal
    lot: Decimal
    ct_val: Decimal | None  # SWAP only
    start_price: Decimal
    funding_interval_h: int
    price: NumberScale
    qty: NumberScale

    @property
    def swap(self) -> bool:
        return self.inst_type == "SWAP"

    @property
    def family(self) -> str:
        return f"{self.base}-{self.quote}"

    @property
    def start_ticks(self) -> int:
        return int(self.start_price / self.tick)


# base-quote: (spot tick, spot lot, swap tick, swap lot, ctVal, start price, funding hours)
_KNOWN: dict[str, tuple[str, str, str, str, str, str, int]] = {
    "BTC-USDT": ("0.1", "0.00000001", "0.1", "0.01", "0.01", "68000.0", 8),
    "ETH-USDT": ("0.01", "0.000001", "0.01", "0.01", "0.1", "3400.00", 4),
    "SOL-USDT": ("0.01", "0.000001", "0.01", "0.01", "1", "150.00", 2),
}
_GENERATED = ("0.01", "0.0001", "0.01", "1", "1", "25.00", 1)


def _make(inst_id: str) -> OkxInstrument:
    parts = inst_id.upper().split("-")
    if len(parts) < 2 or (len(parts) == 3 and parts[2] != "SWAP") or len(parts) > 3:
        raise ValueError(f"not an OKX SPOT or SWAP instId: {inst_id!r} (BTC-USDT, BTC-USDT-SWAP)")
    swap = len(parts) == 3
    family = f"{parts[0]}-{parts[1]}"
    s_tick, s_lot, w_tick, w_lot, ct_val, start, hours = _KNOWN.get(family, _GENERATED)
    tick, lot = (Decimal(w_tick), Decimal(w_lot)) if swap else (Decimal(s_tick), Decimal(s_lot))
    return OkxInstrument(
        inst_id=inst_id.upper(),
        inst_type="SWAP" if swap else "SPOT",
        base=parts[0],
        quote=parts[1],
        tick=tick,
        lot=lot,
        ct_val=Decimal(ct_val) if swap else None,
        start_price=Decimal(start),
        funding_interval_h=hours,
        price=NumberScale(tick, -int(tick.as_tuple().exponent)),
        qty=NumberScale(lot, -int(lot.as_tuple().exponent)),
    )


def okx_instruments(inst_ids: list[str]) -> list[OkxInstrument]:
    return [_make(name) for name in inst_ids]
