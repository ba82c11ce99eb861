"""Supervision trees on Trio: supervisors, channels, redelivery and dead letters.

See ARCHITECTURE.md ("Supervision"). A tree is described by specs (in Python or in
``supervisors/<role>.toml``) and run by :class:`Supervisor`; workers are registered
components that get a :class:`Context`::

    @component("demo.add", args=StageArgs)
    async def add(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
        inbox, out = ctx.inputs[0], ctx.outputs[0]
        task_status.started()              # the supervisor starts the next child now
        while True:
            batch = await inbox.receive_batch(100)     # acknowledges the previous batch
            await out.send_batch([n + 1 for n in batch])  # all or nothing

A worker written this way loses nothing when it is killed or crashes: what it received
and had not yet sent on goes to its next instance, because asking for the next batch is
the acknowledgement. See ``supervisors/demo.toml`` for a whole role.
"""

from mdp.supervision._channel import Channel, ChannelStats, OverflowPolicy
from mdp.supervision._component import Component, ComponentFn, component, lookup, registered
from mdp.supervision._context import Context
from mdp.supervision._deadletter import DeadLetterStore, JsonLinesDeadLetters, MemoryDeadLetters
from mdp.supervision._inbox import Inbox
from mdp.supervision._node import Node, NodeState
from mdp.supervision._spec import (
    Backoff,
    ChannelSpec,
    ChildSpec,
    Intensity,
    RestartType,
    Strategy,
    SupervisorSpec,
    WorkerSpec,
)
from mdp.supervision._supervisor import Supervisor

__all__ = [
    "Backoff",
    "Channel",
    "ChannelSpec",
    "ChannelStats",
    "ChildSpec",
    "Component",
    "ComponentFn",
    "Context",
    "DeadLetterStore",
    "Inbox",
    "Intensity",
    "JsonLinesDeadLetters",
    "MemoryDeadLetters",
    "Node",
    "NodeState",
    "OverflowPolicy",
    "RestartType",
    "Strategy",
    "Supervisor",
    "SupervisorSpec",
    "WorkerSpec",
    "component",
    "lookup",
    "registered",
]
