"""Components: the code a worker runs, registered under a name a role file can use.

A component is ``async def run(ctx, *, task_status)``: it reports ``task_status.started()``
once it is ready (the supervisor starts the next child only then) and works until it is
cancelled. Its arguments come from the role file's ``args`` table, structured into the
attrs class it registered with, so a typo fails ``mdp run --check`` instead of a worker.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio

from mdp._exceptions import ConfigError
from mdp.config import structure

if TYPE_CHECKING:
    from mdp.supervision._context import Context

__all__ = ["Component", "ComponentFn", "component", "lookup", "registered"]


class ComponentFn(Protocol):
    """``async def run(ctx, *, task_status)``: what a worker runs."""

    def __call__(self, ctx: Context, *, task_status: trio.TaskStatus[None]) -> Awaitable[None]: ...


@attrs.frozen
class Component:
    """A registered component: its name, its function and the attrs class of its args."""

    name: str
    fn: ComponentFn
    args: type[Any] | None = None

    def structure_args(self, data: dict[str, Any], *, source: str) -> Any:
        if self.args is None:
            if data:
                raise ConfigError(
                    f"{source}: component {self.name!r} takes no arguments, "
                    f"got {', '.join(sorted(data))}"
                )
            return None
        allowed = [f.name for f in attrs.fields(self.args)]
        extra = sorted(set(data) - set(allowed))
        if extra:
            raise ConfigError(
                f"{source}: unknown argument(s) {', '.join(extra)} for {self.name!r}; "
                f"allowed: {', '.join(allowed)}"
            )
        return structure(data, self.args, source=source)


_REGISTRY: dict[str, Component] = {}

# Components that register themselves when their module is imported; a name with one of
# these prefixes imports the module on first use, so role files need no import list.
_BUILTIN_MODULES = {
    "demo": "mdp.supervision._demo",
    "cleaning": "mdp.cleaning._workers",
    "bus": "mdp.bus._workers",
    "binance": "mdp.exchanges.binance._component",
    "okx": "mdp.exchanges.okx._component",
    "sink": "mdp.sinks._worker",
    "simulator": "mdp.simulator._component",
}


def component(
    name: str, *, args: type[Any] | None = None, replace: bool = False
) -> Callable[[ComponentFn], ComponentFn]:
    """Register ``fn`` under ``name`` (dotted, e.g. ``demo.counter``); ``args`` is an attrs
    class its ``ctx.args`` is structured into."""

    def register(fn: ComponentFn) -> ComponentFn:
        if name in _REGISTRY and not replace and _REGISTRY[name].fn is not fn:
            raise ValueError(f"component {name!r} is already registered")
        _REGISTRY[name] = Component(name, fn, args)
        return fn

    return register


def lookup(name: str) -> Component:
    """The component registered as ``name``; :class:`ConfigError` listing the known ones."""
    if name not in _REGISTRY:
        module = _BUILTIN_MODULES.get(name.split(".", 1)[0])
        if module is not None:
            importlib.import_module(module)
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(registered())) or "none"
        raise ConfigError(f"unknown component {name!r}; registered: {known}") from None


def registered() -> list[str]:
    """Every registered component name (the built-in ones included)."""
    for module in _BUILTIN_MODULES.values():
        importlib.import_module(module)
    return sorted(_REGISTRY)
