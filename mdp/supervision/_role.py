"""Role files: ``supervisors/<role>.toml`` structured into specs, with clear errors.

cattrs does the structuring (so unknown keys, wrong types and bad enum values name the
file and the key); building the :class:`Supervisor` then checks what only the tree knows:
unique names, channel references, registered components and their arguments. ``mdp run
--check`` does both and runs nothing. The environment applies as to every configuration
file (``mdp/config/_env.py``): ``${VAR}`` references in values, ``MDP_<ROLE>__RUN__KEY``
overrides of the plain tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from cattrs.errors import IterableValidationError, IterableValidationNote

from mdp._exceptions import ConfigError
from mdp.config import converter, read_toml, structure
from mdp.supervision._spec import SupervisorSpec, WorkerSpec

__all__ = ["Role", "RunSpec", "load_role", "role_path"]


@attrs.frozen(kw_only=True)
class RunSpec:
    """How ``mdp run`` runs the role (the ``[run]`` table)."""

    # Seconds a SIGTERM/SIGINT/stop may spend draining before what is left is cancelled.
    drain_timeout: float = 10.0
    # Where the control socket goes when systemd does not set $RUNTIME_DIRECTORY.
    control_dir: Path = Path("var/run/mdp")
    # Dead-letter file (JSON lines); "{role}" is replaced by the role name.
    dead_letters: Path = Path("var/lib/mdp/dead-letters/{role}.jsonl")
    # host:port for Prometheus /metrics; empty to serve none.
    metrics: str = ""
    # Modules to import before the tree is built, so that their components register
    # (components named "demo.*" need none: their module is imported on first use).
    imports: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class RoleSpec:
    run: RunSpec = RunSpec()
    supervisor: SupervisorSpec


@attrs.frozen
class Role:
    name: str
    source: Path
    spec: RoleSpec


# What the error formatter prints after "expected" for a bad child.
_CHILD = type("a worker (a table with 'component') or a supervisor (with 'children')", (), {})


def _structure_child(data: Any, _: Any) -> WorkerSpec | SupervisorSpec:
    if not isinstance(data, dict):
        raise ValueError(f"a child must be a table, got {type(data).__name__}")
    if "component" in data:
        worker: WorkerSpec = converter.structure(data, WorkerSpec)
        return worker
    if "children" in data or "strategy" in data:
        sup: SupervisorSpec = converter.structure(data, SupervisorSpec)
        return sup
    raise ValueError("it has neither 'component' nor 'children'")


def _structure_children(data: Any, _: Any) -> tuple[WorkerSpec | SupervisorSpec, ...]:
    if not isinstance(data, list):
        raise ValueError("children must be an array of tables ([[...children]])")
    out: list[WorkerSpec | SupervisorSpec] = []
    errors: list[Exception] = []
    for i, item in enumerate(data):
        try:
            out.append(_structure_child(item, None))
        except Exception as exc:
            # The same note cattrs puts on list items, so errors read "children[2].name".
            note = IterableValidationNote(f"Structuring child @ index {i}", i, _CHILD)
            exc.__notes__ = [note, *getattr(exc, "__notes__", [])]
            errors.append(exc)
    if errors:
        raise IterableValidationError("bad children", errors, tuple)
    return tuple(out)


converter.register_structure_hook_func(
    lambda t: t == tuple[WorkerSpec | SupervisorSpec, ...], _structure_children
)


def role_path(role: str, roles_dir: Path) -> Path:
    """A role name means ``<roles_dir>/<role>.toml``; anything with a ``/`` or ending in
    ``.toml`` is a path to a role file."""
    if "/" in role or role.endswith(".toml"):
        return Path(role)
    return roles_dir / f"{role}.toml"


def load_role(role: str, roles_dir: Path = Path("supervisors")) -> Role:
    """Read and structure a role file; :class:`ConfigError` naming file and key if bad."""
    path = role_path(role, roles_dir)
    name = path.stem
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.toml")) if path.parent.is_dir() else []
        hint = f"; roles in {path.parent}: {', '.join(known)}" if known else ""
        raise ConfigError(f"{path}: no such role file{hint}")
    data, source = read_toml(path, what="role file")
    sup = data.get("supervisor")
    if isinstance(sup, dict):
        sup.setdefault("name", name)
        if sup["name"] != name:
            raise ConfigError(
                f"{path}: supervisor.name: the root supervisor is named after the role "
                f"({name!r}), got {sup['name']!r}"
            )
    spec = structure(data, RoleSpec, source=source)
    return Role(name=name, source=path, spec=spec)
