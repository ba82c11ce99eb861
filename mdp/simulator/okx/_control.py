"""``/_sim/…`` on the OKX port: faults, pause/resume, a sequence reset, stats, truth."""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from mdp._exceptions import ConfigError
from mdp.simulator._config import fault_from_json
from mdp.simulator.okx import _truth
from mdp.simulator.okx._hub import OkxHub
from mdp.simulator.okx._inject import inject

__all__ = ["control", "stats"]


def stats(hub: OkxHub) -> dict[str, Any]:
    return {
        "counters": dict(hub.stats),
        "close_reasons": dict(hub.close_reasons),
        "connections": [
            {
                "connId": c.conn_id,
                "subscriptions": list(c.subs),
                "frames_sent": c.frames_sent,
                "faults_applied": c.faults.applied,
            }
            for c in hub.connections
        ],
        "simulated_time_ms": hub.now_ms(),
        "instruments": list(hub.markets),
        "paused": hub.paused,
    }


def control(
    hub: OkxHub, method: str, path: str, params: dict[str, str], body: bytes
) -> tuple[int, Any]:
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
        if path == "/_sim/reset_sequences" and method == "POST":
            hub.reset_sequences()
            return 200, {"reset": len(hub.markets)}
        if path == "/_sim/stats" and method == "GET":
            return 200, stats(hub)
        inst_id = params.get("instId", "")
        if method == "GET" and path == "/_sim/truth/trades":
            # fromId: only what a reader polling the truth has not seen (the whole tape,
            # a million messages at most, is too much to render on every look)
            raw_from = params.get("fromId", "")
            if raw_from and not raw_from.isdigit():
                raise ConfigError("fromId: an integer")
            from_id = int(raw_from) if raw_from else None
            return 200, [attrs.asdict(t) for t in _truth.trades(hub, inst_id, from_id)]
        if method == "GET" and path == "/_sim/truth/book":
            raw = params.get("seqId", "")
            if not raw.isdigit():
                raise ConfigError("seqId: required, an integer")
            found = _truth.book(hub, inst_id, int(raw))
            if found is None:
                return 404, {"error": f"no checkpoint at {raw}"}
            return 200, attrs.asdict(found)
        if method == "GET" and path == "/_sim/truth/checkpoints":
            return 200, _truth.checkpoint_ids(hub, inst_id)
        return 404, {"error": f"no control endpoint {method} {path}"}
    except (ConfigError, LookupError) as exc:
        return 400, {"error": str(exc)}
