"""What a running worker gets from its supervisor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from mdp.supervision._channel import Channel
from mdp.supervision._inbox import Inbox

if TYPE_CHECKING:
    from mdp.supervision._supervisor import Supervisor

__all__ = ["Context"]


@attrs.frozen(kw_only=True)
class Context:
    """One instance's view of its node; built by the supervisor, not by users.

    ``inputs`` and ``outputs`` are the channels named in the spec, in order; ``memo`` is a
    dict that belongs to the node and survives restarts (a source's position, a counter);
    ``instance`` counts the starts of this node from 1; ``supervisor`` is the owning
    supervisor (a dynamic one accepts ``add_child``/``remove_child``).
    """

    path: str
    name: str
    args: Any
    inputs: tuple[Inbox, ...]
    outputs: tuple[Channel, ...]
    memo: dict[str, Any]
    instance: int
    supervisor: Supervisor
