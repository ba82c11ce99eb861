"""What a supervision tree is made of, as plain data.

Specs are frozen attrs classes so that a role file (``supervisors/<role>.toml``) and Python
code describe trees the same way; :mod:`mdp.supervision._role` structures them from TOML
with cattrs and checks what cattrs cannot (unique names, channel references, components).
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from mdp.supervision._channel import OverflowPolicy

__all__ = [
    "Backoff",
    "ChannelSpec",
    "ChildSpec",
    "Intensity",
    "RestartType",
    "Strategy",
    "SupervisorSpec",
    "WorkerSpec",
]


class Strategy(enum.StrEnum):
    """What else a supervisor restarts when one child ends and is to be restarted."""

    ONE_FOR_ONE = "one_for_one"  # only that child
    ONE_FOR_ALL = "one_for_all"  # every child (they share state or a connection)
    REST_FOR_ONE = "rest_for_one"  # that child and every child started after it
    DYNAMIC = "dynamic"  # like one_for_one; children are added and removed at run time


class RestartType(enum.StrEnum):
    """When a child that ended is started again."""

    PERMANENT = "permanent"  # always, even after a normal return
    TRANSIENT = "transient"  # only after a failure (an exception or a kill)
    TEMPORARY = "temporary"  # never


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be greater than 0, got {value!r}")


def _not_negative(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be 0 or more, got {value!r}")


def _fraction(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{attribute.name} must be at least 0 and below 1, got {value!r}")


def _node_name(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value or "/" in value or value.strip() != value:
        raise ValueError(
            f"{attribute.name} must be a non-empty name without '/' or spaces around it, "
            f"got {value!r}"
        )


@attrs.frozen(kw_only=True)
class Intensity:
    """At most ``max_restarts`` restarts within ``period`` seconds; one more and the
    supervisor gives up, stops its children and fails upward."""

    max_restarts: int = attrs.field(default=3, validator=_not_negative)
    period: float = attrs.field(default=5.0, validator=_positive)


@attrs.frozen(kw_only=True)
class Backoff:
    """Delay before the n-th consecutive restart of one child: ``initial * factor**(n-1)``,
    capped at ``max``, spread by ±``jitter`` (a fraction) so that children that died
    together do not all come back in the same instant. A child that stayed up for
    ``reset_after`` seconds starts again from ``initial``."""

    initial: float = attrs.field(default=0.01, validator=_not_negative)
    max: float = attrs.field(default=2.0, validator=_not_negative)
    factor: float = attrs.field(default=2.0, validator=_positive)
    jitter: float = attrs.field(default=0.1, validator=_fraction)
    reset_after: float = attrs.field(default=5.0, validator=_not_negative)

    def delay(self, consecutive: int, unit_random: float) -> float:
        """The delay before restart number ``consecutive`` (1-based); ``unit_random`` is
        a number in [0, 1) from the supervisor's random source."""
        if consecutive <= 0 or self.initial == 0:
            return 0.0
        base = min(self.max, self.initial * self.factor ** min(consecutive - 1, 64))
        return base * (1 + self.jitter * (2 * unit_random - 1))


@attrs.frozen(kw_only=True)
class ChannelSpec:
    """A bounded channel the supervisor owns; children name it in ``inputs``/``outputs``."""

    name: str = attrs.field(validator=_node_name)
    capacity: int = attrs.field(default=1024, validator=_positive)
    policy: OverflowPolicy = OverflowPolicy.BLOCK


@attrs.frozen(kw_only=True)
class WorkerSpec:
    """A leaf: a registered component run as one Trio task.

    ``inputs`` and ``outputs`` name channels of this supervisor or of any supervisor above
    it (the nearest wins). An item that was in flight through ``max_attempts`` crashes goes
    to the dead-letter store instead of a next attempt.
    """

    name: str = attrs.field(validator=_node_name)
    component: str
    restart: RestartType = RestartType.PERMANENT
    shutdown_timeout: float = attrs.field(default=5.0, validator=_positive)
    inputs: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    outputs: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    max_attempts: int = attrs.field(default=3, validator=_positive)
    args: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class SupervisorSpec:
    """An inner node: a supervisor with its strategy, limits, channels and children."""

    name: str = attrs.field(validator=_node_name)
    strategy: Strategy = Strategy.ONE_FOR_ONE
    restart: RestartType = RestartType.PERMANENT
    intensity: Intensity = Intensity()
    backoff: Backoff = Backoff()
    shutdown_timeout: float = attrs.field(default=10.0, validator=_positive)
    channels: tuple[ChannelSpec, ...] = attrs.field(default=(), converter=tuple)
    children: tuple[WorkerSpec | SupervisorSpec, ...] = attrs.field(default=(), converter=tuple)


ChildSpec = WorkerSpec | SupervisorSpec
