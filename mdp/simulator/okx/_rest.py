"""OKX v5 public REST, as the exchange answers it (sans-I/O): ``public/instruments``,
``market/books`` (with ``seqId``, for the REST bootstrap) and ``market/history-trades``
(pagination by ``tradeId``: ``after`` = older than). Every answer is
``{"code":"0","msg":"","data":[…]}``; errors keep the envelope with OKX's codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mdp.simulator.okx._hub import OkxHub
from mdp.simulator.okx._market import OkxMarket

__all__ = ["ENDPOINTS", "OkxRestError"]

Params = dict[str, str]


class OkxRestError(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _market(hub: OkxHub, params: Params) -> OkxMarket:
    inst_id = params.get("instId", "")
    if not inst_id:
        raise OkxRestError(400, "50014", "Parameter instId can not be empty.")
    market = hub.markets.get(inst_id)
    if market is None:
        raise OkxRestError(400, "51001", "Instrument ID does not exist.")
    return market


def _int(params: Params, key: str, default: int, low: int, high: int) -> int:
    raw = params.get(key, "")
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise OkxRestError(400, "51000", f"Parameter {key} error")
    return int(raw)


def instruments(hub: OkxHub, params: Params) -> list[dict[str, Any]]:
    inst_type = params.get("instType", "")
    if inst_type not in ("SPOT", "SWAP"):
        raise OkxRestError(400, "51000", "Parameter instType error")
    out = []
    for inst in hub.instruments:
        if inst.inst_type != inst_type:
            continue
        if params.get("instId") and params["instId"] != inst.inst_id:
            continue
        swap = inst.swap
        out.append(
            {
                "instType": inst.inst_type, "instId": inst.inst_id,
                "uly": inst.family if swap else "", "instFamily": inst.family if swap else "",
                "baseCcy": "" if swap else inst.base, "quoteCcy": "" if swap else inst.quote,
                "settleCcy": inst.quote if swap else "",
                "ctVal": str(inst.ct_val) if swap else "",
                "ctValCcy": inst.base if swap else "", "ctType": "linear" if swap else "",
                "tickSz": str(inst.tick), "lotSz": str(inst.lot), "minSz": str(inst.lot),
                "state": "live",
            }
        )  # fmt: skip
    return out


def books(hub: OkxHub, params: Params) -> list[dict[str, Any]]:
    market = _market(hub, params)
    depth = _int(params, "sz", 1, 1, 400)
    row = market.snapshot_row(depth)
    del row["checksum"], row["prevSeqId"]
    return [row]


def history_trades(hub: OkxHub, params: Params) -> list[dict[str, Any]]:
    market = _market(hub, params)
    limit = _int(params, "limit", 100, 1, 100)
    after = params.get("after", "")
    if params.get("type", "1") != "1":
        raise OkxRestError(400, "51000", "Parameter type error (only 1, by tradeId)")
    if after and not after.isdigit():
        raise OkxRestError(400, "51000", "Parameter after error")
    inst = market.inst
    rows = []
    for t in market.tape.before(int(after) if after else None, limit):
        rows.append(
            {
                "instId": inst.inst_id, "side": "buy" if t.taker_buy else "sell",
                "sz": inst.qty.render(t.qty), "px": inst.price.render(t.price),
                "source": "0", "tradeId": str(t.trade_id), "count": str(t.count),
                "ts": str(t.time_ms),
            }
        )  # fmt: skip
    return rows


ENDPOINTS: dict[str, Callable[[OkxHub, Params], list[dict[str, Any]]]] = {
    "/api/v5/public/instruments": instruments,
    "/api/v5/market/books": books,
    "/api/v5/market/history-trades": history_trades,
}
