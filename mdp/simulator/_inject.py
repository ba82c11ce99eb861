"""Applying a fault to the running simulator: one function shared by the Python API, the
control endpoint and the fault schedule, so all three behave the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdp.simulator._config import Fault, FaultKind
from mdp.simulator._faults import FRAME_FAULTS
from mdp.simulator._hub import Hub
from mdp.simulator._instruments import Market

if TYPE_CHECKING:
    from mdp.simulator._ws import WsConnection

__all__ = ["apply_to", "inject"]


def inject(hub: Hub, fault: Fault) -> int:
    """Apply ``fault`` now; returns how many connections (or REST limiters) it touched."""
    markets = [fault.market] if fault.market is not None else list(Market)
    hub.stats[f"fault_{fault.kind.value}"] += 1
    if fault.kind in (FaultKind.HTTP_429, FaultKind.HTTP_418):
        status = 429 if fault.kind is FaultKind.HTTP_429 else 418
        for market in markets:
            hub.limiters[market].force(status, fault.count)
        return len(markets)
    if fault.kind is FaultKind.CONNECTION_LIMIT and not fault.next_connection:
        hub.max_connection_s = fault.seconds
    if fault.next_connection:
        for market in markets:
            hub.pending_faults[market].append(fault)
        return 0
    touched = 0
    for market in markets:
        for conn in list(hub.connections[market]):
            touched += 1
            apply_to(hub, conn, fault)
    return touched


def apply_to(hub: Hub, conn: WsConnection, fault: Fault) -> None:
    """One connection-level fault on one connection."""
    kind = fault.kind
    if kind is FaultKind.DISCONNECT:
        conn.kill("disconnect fault", abrupt=fault.abrupt)
    elif kind is FaultKind.STALL:
        conn.stall(fault.seconds)
    elif kind in FRAME_FAULTS:
        conn.faults.add(kind, fault.count, fault.stream)
    elif kind is FaultKind.SERVER_SHUTDOWN:
        grace = fault.seconds if fault.seconds else hub.config.shutdown_grace_s
        conn.server_shutdown(grace, hub.now_ms(conn.market))
    elif kind is FaultKind.CONNECTION_LIMIT:
        conn.set_lifetime(fault.seconds)
