"""Binance REST market-data endpoints, as the exchange answers them (sans-I/O).

Every endpoint has its Binance request weight; bodies and error objects
(``{"code":-1121,"msg":"Invalid symbol."}``) follow the exchange's REST docs.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

import attrs

from mdp.simulator._hub import Hub
from mdp.simulator._instruments import Instrument, Market
from mdp.simulator._market import SymbolMarket

__all__ = ["ENDPOINTS", "Endpoint", "RestError"]

Params = dict[str, str]


class RestError(Exception):
    """Answered as ``status`` with Binance's error object."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@attrs.frozen
class Endpoint:
    market: Market
    weight: Callable[[Params], int]
    handle: Callable[[Hub, Params], Any]


def _symbol(hub: Hub, market: Market, params: Params) -> SymbolMarket:
    name = params.get("symbol")
    if not name:
        raise RestError(
            400,
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        )
    found = hub.markets[market].get(name)
    if found is None:
        raise RestError(400, -1121, "Invalid symbol.")
    return found


def _int(params: Params, key: str, default: int | None, low: int, high: int) -> int | None:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        legal = "'^[0-9]{1,20}$'"
        raise RestError(
            400, -1100, f"Illegal characters found in parameter '{key}'; legal range is {legal}."
        )
    value = int(raw)
    if not low <= value <= high:
        raise RestError(400, -1130, f"Invalid data sent for a parameter: '{key}' out of range.")
    return value


# -- exchangeInfo -------------------------------------------------------------------------


def _rate_limits(hub: Hub, market: Market) -> list[dict[str, Any]]:
    rest = hub.config.rest
    limit = rest.spot_weight if market is Market.SPOT else rest.futures_weight
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limit}
    ]


def _filters(inst: Instrument) -> list[dict[str, Any]]:
    price, qty = inst.price, inst.qty
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": price.render(1),
            "maxPrice": price.render(int(Decimal(1_000_000) / inst.tick)),
            "tickSize": price.render(1),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": qty.render(1),
            "maxQty": qty.render(int(Decimal(9_000) / inst.lot)),
            "stepSize": qty.render(1),
        },
    ]


def _selected(hub: Hub, market: Market, params: Params) -> list[Instrument]:
    insts = hub.instruments[market]
    if "symbol" in params:
        return [_symbol(hub, market, params).inst]
    if "symbols" in params:
        names = [n.strip('"[] ') for n in params["symbols"].split(",")]
        return [_symbol(hub, market, {"symbol": n}).inst for n in names if n]
    return insts


def spot_exchange_info(hub: Hub, params: Params) -> Any:
    symbols = [
        {
            "symbol": i.symbol,
            "status": "TRADING",
            "baseAsset": i.base,
            "baseAssetPrecision": 8,
            "quoteAsset": i.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": _filters(i),
            "permissions": [],
        }
        for i in _selected(hub, Market.SPOT, params)
    ]
    return {
        "timezone": "UTC",
        "serverTime": hub.now_ms(Market.SPOT),
        "rateLimits": _rate_limits(hub, Market.SPOT),
        "exchangeFilters": [],
        "symbols": symbols,
    }


def futures_exchange_info(hub: Hub, params: Params) -> Any:
    symbols = [
        {
            "symbol": i.symbol,
            "pair": i.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "baseAsset": i.base,
            "quoteAsset": i.quote,
            "marginAsset": i.quote,
            "pricePrecision": i.price.decimals,
            "quantityPrecision": i.qty.decimals,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "filters": _filters(i),
        }
        for i in _selected(hub, Market.FUTURES, params)
    ]
    return {
        "timezone": "UTC",
        "serverTime": hub.now_ms(Market.FUTURES),
        "futuresType": "U_MARGINED",
        "rateLimits": _rate_limits(hub, Market.FUTURES),
        "exchangeFilters": [],
        "assets": [],
        "symbols": symbols,
    }


# -- depth --------------------------------------------------------------------------------


def _spot_depth_weight(params: Params) -> int:
    limit = params.get("limit", "100")
    n = int(limit) if limit.isdigit() else 100
    return 5 if n <= 100 else 25 if n <= 500 else 50 if n <= 1000 else 250


def spot_depth(hub: Hub, params: Params) -> Any:
    market = _symbol(hub, Market.SPOT, params)
    limit = _int(params, "limit", 100, 1, 5000) or 100
    last, bids, asks = market.snapshot(limit)
    return {"lastUpdateId": last, "bids": bids, "asks": asks}


_FUTURES_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def _futures_depth_weight(params: Params) -> int:
    limit = params.get("limit", "500")
    n = int(limit) if limit.isdigit() else 500
    return 2 if n <= 50 else 5 if n <= 100 else 10 if n <= 500 else 20


def futures_depth(hub: Hub, params: Params) -> Any:
    market = _symbol(hub, Market.FUTURES, params)
    limit = _int(params, "limit", 500, 5, 1000) or 500
    if limit not in _FUTURES_LIMITS:
        raise RestError(400, -1130, "Invalid data sent for a parameter: 'limit'.")
    last, bids, asks = market.snapshot(limit)
    now = market.now_ms()
    return {"lastUpdateId": last, "E": now + 1, "T": now, "bids": bids, "asks": asks}


# -- trades -------------------------------------------------------------------------------


def _trades(hub: Hub, params: Params, *, backfill: bool) -> Any:
    market = _symbol(hub, Market.SPOT, params)
    limit = _int(params, "limit", 500, 1, 1000) or 500
    from_id = _int(params, "fromId", None, 0, 2**63) if backfill else None
    inst = market.inst
    out = []
    for t in market.trades.get(from_id, limit):
        price, qty = inst.price.decimal(t.price), inst.qty.decimal(t.qty)
        quote = (price * qty).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
        out.append(
            {
                "id": t.id,
                "price": inst.price.render(t.price),
                "qty": inst.qty.render(t.qty),
                "quoteQty": f"{quote:.8f}",
                "time": t.time_ms,
                "isBuyerMaker": t.buyer_is_maker,
                "isBestMatch": True,
            }
        )
    return out


def _agg_trades(hub: Hub, params: Params, market_kind: Market) -> Any:
    market = _symbol(hub, market_kind, params)
    limit = _int(params, "limit", 500, 1, 1000) or 500
    from_id = _int(params, "fromId", None, 0, 2**63)
    start = _int(params, "startTime", None, 0, 2**63)
    end = _int(params, "endTime", None, 0, 2**63)
    inst = market.inst
    out = []
    for a in market.aggs.get(from_id, limit, start, end):
        row: dict[str, Any] = {
            "a": a.id,
            "p": inst.price.render(a.price),
            "q": inst.qty.render(a.qty),
            "f": a.first_id,
            "l": a.last_id,
            "T": a.time_ms,
            "m": a.buyer_is_maker,
        }
        if market_kind is Market.SPOT:
            row["M"] = True
        out.append(row)
    return out


def _ping(hub: Hub, params: Params) -> Any:
    return {}


ENDPOINTS: dict[str, Endpoint] = {
    "/api/v3/ping": Endpoint(Market.SPOT, lambda p: 1, _ping),
    "/api/v3/time": Endpoint(
        Market.SPOT, lambda p: 1, lambda h, p: {"serverTime": h.now_ms(Market.SPOT)}
    ),
    "/api/v3/exchangeInfo": Endpoint(Market.SPOT, lambda p: 20, spot_exchange_info),
    "/api/v3/depth": Endpoint(Market.SPOT, _spot_depth_weight, spot_depth),
    "/api/v3/trades": Endpoint(
        Market.SPOT, lambda p: 25, lambda h, p: _trades(h, p, backfill=False)
    ),
    "/api/v3/historicalTrades": Endpoint(
        Market.SPOT, lambda p: 25, lambda h, p: _trades(h, p, backfill=True)
    ),
    "/api/v3/aggTrades": Endpoint(
        Market.SPOT, lambda p: 4, lambda h, p: _agg_trades(h, p, Market.SPOT)
    ),
    "/fapi/v1/ping": Endpoint(Market.FUTURES, lambda p: 1, _ping),
    "/fapi/v1/time": Endpoint(
        Market.FUTURES, lambda p: 1, lambda h, p: {"serverTime": h.now_ms(Market.FUTURES)}
    ),
    "/fapi/v1/exchangeInfo": Endpoint(Market.FUTURES, lambda p: 1, futures_exchange_info),
    "/fapi/v1/depth": Endpoint(Market.FUTURES, _futures_depth_weight, futures_depth),
    "/fapi/v1/aggTrades": Endpoint(
        Market.FUTURES, lambda p: 20, lambda h, p: _agg_trades(h, p, Market.FUTURES)
    ),
}
