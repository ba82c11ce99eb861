"""Applying a :class:`~mdp.simulator.Fault` to the OKX simulator, the OKX way: one
function for the Python API, the control endpoint and the schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdp.simulator._config import Fault, FaultKind
from mdp.simulator._faults import FRAME_FAULTS
from mdp.simulator.okx._hub import OkxHub

if TYPE_CHECKING:
    from mdp.simulator.okx._ws import OkxConnection

__all__ = ["apply_to", "inject"]


def inject(hub: OkxHub, fault: Fault) -> int:
    """Apply ``fault`` now; returns how many connections it touched (REST faults: 1).
    ``market`` is ignored: the public endpoint carries every instrument type."""
    hub.stats[f"fault_{fault.kind.value}"] += 1
    if fault.kind in (FaultKind.HTTP_429, FaultKind.HTTP_418):
        hub.rest_forced.extend([429] * fault.count)
        return 1
    if fault.kind is FaultKind.CONNECTION_LIMIT and not fault.next_connection:
        hub.max_connection_s = fault.seconds
    if fault.next_connection:
        hub.pending_faults.append(fault)
        return 0
    if fault.kind is FaultKind.SERVER_SHUTDOWN:
        hub.reset_sequences()  # maintenance: the books' seqIds restart lower
    conns = list(hub.connections)
    for conn in conns:
        apply_to(hub, conn, fault)
    return len(conns)


def apply_to(hub: OkxHub, conn: OkxConnection, fault: Fault) -> None:
    kind = fault.kind
    if kind is FaultKind.DISCONNECT:
        conn.kill("disconnect fault", abrupt=fault.abrupt)
    elif kind is FaultKind.STALL:
        conn.stall(fault.seconds)
    elif kind in FRAME_FAULTS:
        conn.faults.add(kind, fault.count, fault.stream)
    elif kind is FaultKind.SERVER_SHUTDOWN:
        conn.maintenance(fault.seconds if fault.seconds else hub.config.shutdown_grace_s)
    elif kind is FaultKind.CONNECTION_LIMIT:
        conn.set_lifetime(fault.seconds)
