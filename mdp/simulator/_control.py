"""The simulator's own control endpoint under ``/_sim/`` on both ports (no request
weight): inject faults, read ground truth, read counters. See docs/simulator.md."""

from __future__ import annotations

from typing import Any

import orjson

from mdp._exceptions import ConfigError
from mdp.simulator import _truth
from mdp.simulator._config import fault_from_json
from mdp.simulator._hub import Hub
from mdp.simulator._inject import inject
from mdp.simulator._instruments import Market

__all__ = ["control"]


def _market(params: dict[str, str], default: Market) -> Market:
    raw = params.get("market")
    if raw is None:
        return default
    try:
        return Market(raw)
    except ValueError:
        raise ConfigError(f"market: {raw!r} is not one of 'spot', 'futures'") from None


def _int(params: dict[str, str], key: str) -> int | None:
    raw = params.get(key)
    if raw is None:
        return None
    if not raw.lstrip("-").isdigit():
        raise ConfigError(f"{key}: {raw!r} is not an integer")
    return int(raw)


def stats(hub: Hub) -> dict[str, Any]:
    return {
        "counters": dict(hub.stats),
        "close_reasons": dict(hub.close_reasons),
        "connections": {
            m.value: [
                {
                    "id": c.id,
                    "route": c.route.value,
                    "subscriptions": list(c.subs),
                    "frames_sent": c.frames_sent,
                    "faults_applied": c.faults.applied,
                }
                for c in conns
            ]
            for m, conns in hub.connections.items()
        },
        "rest_weight_used": {m.value: lim.used for m, lim in hub.limiters.items()},
        "simulated_time_ms": {m.value: hub.now_ms(m) for m in Market},
        "symbols": {m.value: list(ms) for m, ms in hub.markets.items()},
        "paused": hub.paused,
    }


def control(
    hub: Hub, method: str, path: str, params: dict[str, str], body: bytes, default: Market
) -> tuple[int, Any]:
    """(status, JSON body) for a ``/_sim/…`` request."""
    try:
        if path == "/_sim/fault" and method == "POST":
            try:
                data = orjson.loads(body or b"{}")
            except orjson.JSONDecodeError as exc:
                raise ConfigError(f"body is not JSON: {exc}") from None
            fault = fault_from_json(data)
            return 200, {"applied": inject(hub, fault), "fault": fault.kind.value}
        if path in ("/_sim/pause", "/_sim/resume") and method == "POST":
            hub.paused = path == "/_sim/pause"
            return 200, {"paused": hub.paused}
        if path == "/_sim/stats" and method == "GET":
            return 200, stats(hub)
        if method == "GET" and path.startswith("/_sim/truth/"):
            market = _market(params, default)
            symbol = params.get("symbol", "")
            what = path.removeprefix("/_sim/truth/")
            if what == "trades":
                from_id, limit = _int(params, "fromId"), _int(params, "limit")
                rows = _truth.trades(hub, market, symbol, from_id, limit)
                return 200, [_truth.to_json(r) for r in rows]
            if what == "aggTrades":
                rows2 = _truth.agg_trades(
                    hub, market, symbol, _int(params, "fromId"), _int(params, "limit")
                )
                return 200, [_truth.to_json(r) for r in rows2]
            if what == "book":
                update_id = _int(params, "update_id")
                if update_id is None:
                    raise ConfigError("update_id: required")
                found = _truth.book(hub, market, symbol, update_id)
                if found is None:
                    ids = _truth.checkpoint_ids(hub, market, symbol)
                    return 404, {
                        "error": f"no checkpoint at {update_id}",
                        "kept": len(ids),
                        "first": ids[0] if ids else None,
                        "last": ids[-1] if ids else None,
                    }
                return 200, _truth.to_json(found)
            if what == "checkpoints":
                return 200, _truth.checkpoint_ids(hub, market, symbol)
        return 404, {"error": f"no control endpoint {method} {path}"}
    except (ConfigError, LookupError) as exc:
        return 400, {"error": str(exc)}
