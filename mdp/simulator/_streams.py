"""Stream names, URL routes and the live-subscription protocol (sans-I/O).

USD-M futures routes streams by URL since 2026-04-23: ``/public`` carries depth and
bookTicker, ``/market`` carries aggTrade, markPrice and forceOrder. A stream of the other
class — and any ``/market`` stream on the unrouted URL — is acknowledged and listed like
any other, and then never delivers a frame, exactly as the real exchange does
(cryptofeed#1128); that silence is what a collector's liveness check must catch.
"""

from __future__ import annotations

import enum
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import orjson

from mdp.simulator._instruments import Market

__all__ = [
    "Request",
    "Route",
    "delivers",
    "in_microseconds",
    "parse_request",
    "parse_target",
    "reply_error",
]

_TIME_KEYS = ("E", "T")


def in_microseconds(payload: bytes) -> bytes:
    """A payload with its millisecond times (``E``, ``T``, and ``T`` of a liquidation's
    order) in microseconds, as Binance sends with ``timeUnit=MICROSECOND``. Only the
    connections that asked pay for this re-encoding; a payload that is not a JSON object
    (a malformed-frame fault) passes unchanged."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    if not isinstance(data, dict):
        return payload
    for obj in (data, data.get("o")):
        if isinstance(obj, dict):
            for key in _TIME_KEYS:
                if isinstance(obj.get(key), int):
                    obj[key] *= 1000
    return orjson.dumps(data)


class Route(enum.Enum):
    SPOT = "spot"
    FUTURES_UNROUTED = "futures"
    FUTURES_PUBLIC = "futures/public"
    FUTURES_MARKET = "futures/market"


_MARKET_CLASS = ("@aggTrade", "markPrice", "forceOrder", "@kline")  # also !…@arr


def delivers(route: Route, stream: str) -> bool:
    """Whether a subscription to ``stream`` on ``route`` gets frames."""
    if route is Route.SPOT:
        return True
    market_class = any(marker in stream for marker in _MARKET_CLASS)
    if route is Route.FUTURES_MARKET:
        return market_class
    return not market_class  # /public and unrouted carry the high-frequency streams only


@attrs.frozen
class Target:
    """A parsed WebSocket URL: route, initial streams, combined wrapper or not."""

    route: Route
    streams: tuple[str, ...]
    combined: bool
    microseconds: bool = False  # ``timeUnit=MICROSECOND``


def parse_target(market: Market, target: str) -> Target | None:
    """``/ws/a/b``, ``/stream?streams=a/b`` (futures also under /public, /market)."""
    parts = urlsplit(target)
    path = parts.path
    route = Route.SPOT
    if market is Market.FUTURES:
        route = Route.FUTURES_UNROUTED
        routes = (("/public", Route.FUTURES_PUBLIC), ("/market", Route.FUTURES_MARKET))
        for prefix, routed in routes:
            if path.startswith(prefix + "/"):
                path, route = path[len(prefix) :], routed
                break
    query = parse_qs(parts.query)
    micro = query.get("timeUnit", [""])[0].upper() in ("MICROSECOND", "MICROSECONDS")
    if path == "/stream":
        raw = query.get("streams", [""])[0]
        return Target(route, tuple(s for s in raw.split("/") if s), True, micro)
    if path == "/ws" or path.startswith("/ws/"):
        return Target(route, tuple(s for s in path[4:].split("/") if s), False, micro)
    return None


@attrs.frozen
class Request:
    """A valid client request: method, params, id."""

    method: str
    params: list[Any]
    id: Any


_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")


def reply_error(code: int, msg: str, id_: Any = None) -> bytes:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if id_ is not None:
        body["id"] = id_
    return orjson.dumps(body)


def parse_request(text: bytes | str) -> Request | bytes:
    """A request, or the error reply Binance sends for it (codes 0–3 of its docs)."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return reply_error(3, f"Invalid JSON: {exc}")
    if not isinstance(data, dict):
        return reply_error(2, "Invalid request: expected an object")
    id_ = data.get("id")
    valid_id = id_ is None or (isinstance(id_, int) and not isinstance(id_, bool) and id_ >= 0)
    if not valid_id and not (isinstance(id_, str) and len(id_) <= 36):
        return reply_error(2, "Invalid request: request ID must be an unsigned integer")
    method = data.get("method")
    if method is None:
        return reply_error(2, "Invalid request: missing field `method`", id_)
    if method not in _METHODS:
        expected = ", ".join(f"`{m}`" for m in _METHODS)
        return reply_error(
            2, f"Invalid request: unknown variant `{method}`, expected one of {expected}", id_
        )
    params = data.get("params", [])
    if not isinstance(params, list):
        return reply_error(2, "Invalid request: params must be an array", id_)
    if method in ("SUBSCRIBE", "UNSUBSCRIBE") and not all(isinstance(p, str) for p in params):
        return reply_error(2, "Invalid request: stream names must be strings", id_)
    if set(data) - {"method", "params", "id"}:
        return reply_error(2, "Invalid request: too many parameters", id_)
    return Request(method, params, id_)
