"""A supervisor's record of one child: what stays the same while the child's task restarts.

The record holds the node's path, state, counters, last error, its inboxes (so in-flight
items survive the task) and its memo; an ``Instance`` (``_instance.py``) is one run.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import trio

from mdp.supervision._channel import Channel
from mdp.supervision._component import Component
from mdp.supervision._inbox import Inbox
from mdp.supervision._spec import SupervisorSpec, WorkerSpec

if TYPE_CHECKING:
    from mdp.supervision._instance import Instance
    from mdp.supervision._supervisor import Supervisor

__all__ = ["Node", "NodeState", "describe"]


class NodeState(enum.StrEnum):
    """Where a node is in its life; shown by ``mdp ctl tree``."""

    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"  # waiting out the delay before a restart
    STOPPING = "stopping"
    STOPPED = "stopped"  # stopped by its supervisor (shutdown, group restart)
    EXITED = "exited"  # returned normally and is not restarted
    FAILED = "failed"  # failed and is not (yet) restarted


def describe(error: BaseException) -> str:
    """One line for an operator; for a group, its first leaf, which is the usual cause."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Node:
    """One child of a supervisor, a worker or a supervisor; built by the supervisor."""

    def __init__(
        self,
        spec: WorkerSpec | SupervisorSpec,
        path: str,
        *,
        component: Component | None = None,
        args: Any = None,
        inboxes: tuple[Inbox, ...] = (),
        outputs: tuple[Channel, ...] = (),
        sub: Supervisor | None = None,
    ) -> None:
        self.spec = spec
        self.path = path
        self.name = spec.name
        self.component = component
        self.args = args
        self.inboxes = inboxes
        self.outputs = outputs
        self.sub = sub
        self.memo: dict[str, Any] = {}
        self.state = NodeState.STOPPED
        self.instance: Instance | None = None
        self.starts = 0
        self.restarts = 0
        self.consecutive = 0  # restarts in a row without staying up ``reset_after``
        self.restart_at: float | None = None
        self.started_at: float | None = None
        self.last_error: str | None = None

    def __repr__(self) -> str:
        return f"<Node {self.path} {self.state}>"

    @property
    def kind(self) -> str:
        return "supervisor" if self.sub is not None else "worker"

    def uptime(self) -> float:
        if self.state is not NodeState.RUNNING or self.started_at is None:
            return 0.0
        return trio.current_time() - self.started_at

    def snapshot(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "state": str(self.state),
            "restart": str(self.spec.restart),
            "restarts": self.restarts,
            "uptime": round(self.uptime(), 3),
            "last_error": self.last_error,
        }
        if self.sub is not None:
            row["strategy"] = str(self.sub.spec.strategy)
        else:
            assert isinstance(self.spec, WorkerSpec)
            row["component"] = self.spec.component
            row["redelivered"] = sum(i.redelivered for i in self.inboxes)
            row["dead_lettered"] = sum(i.dead_lettered for i in self.inboxes)
        return row
