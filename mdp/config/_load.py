"""Configuration files: TOML structured into attrs classes by cattrs.

Every error names the file, the key (as a dotted path) and what is allowed, so an operator
can fix the file without reading code.
"""

from __future__ import annotations

import enum
import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from mdp._exceptions import ConfigError, InvalidNumber
from mdp.config._env import apply_overrides, expand_references, override_prefix
from mdp.model._numbers import parse_decimal

__all__ = ["config_file", "converter", "load_toml", "read_toml", "structure"]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=True)


def _structure_path(value: Any, _: Any) -> Path:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a path")
    return Path(os.path.expandvars(value))


def _structure_decimal(value: Any, _: Any) -> Decimal:
    # A TOML float (tick = 0.01) is already inexact by the time we see it.
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f'{value!r} is not an exact decimal; write it as a string, e.g. "0.01"')
    try:
        return parse_decimal(str(value))
    except InvalidNumber as exc:
        raise ValueError(str(exc)) from None


converter.register_structure_hook(Path, _structure_path)
converter.register_structure_hook(Decimal, _structure_decimal)


def _allowed(type_: Any) -> str:
    if isinstance(type_, type) and issubclass(type_, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in type_)
    if attrs.has(type_):
        return "a table with keys " + ", ".join(f.name for f in attrs.fields(type_))
    name = getattr(type_, "__name__", None) or str(type_)
    return _PLAIN_NAMES.get(name, name)


_PLAIN_NAMES = {
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "float": "a number",
    "Path": "a path (a string)",
    "Decimal": 'a decimal as a string (e.g. "0.01")',
}


def _messages(exc: BaseException, path: str, type_: Any) -> list[str]:
    """Flatten a cattrs error tree into one line per problem."""
    if isinstance(exc, ForbiddenExtraKeysError):
        keys = ", ".join(sorted(exc.extra_fields))
        return [f"{path or '(top level)'}: unknown key(s) {keys}; allowed: {_allowed(exc.cl)}"]
    if isinstance(exc, ClassValidationError | IterableValidationError):
        lines: list[str] = []
        for sub in exc.exceptions:
            note = next(iter(getattr(sub, "__notes__", [])), None)
            sub_path, sub_type = path, type_
            if isinstance(note, AttributeValidationNote):
                sub_path = f"{path}.{note.name}" if path else note.name
                sub_type = note.type
            elif isinstance(note, IterableValidationNote):
                sub_path = f"{path}[{note.index}]"
                sub_type = note.type
            lines.extend(_messages(sub, sub_path, sub_type))
        return lines
    if isinstance(exc, KeyError):
        return [f"{path or exc.args[0]}: required key is missing"]
    detail = str(exc) or type(exc).__name__
    return [f"{path or '(top level)'}: {detail}; expected {_allowed(type_)}"]


def structure(data: Any, cls: type[T], *, source: str) -> T:
    """Structure ``data`` into ``cls``; errors become one :class:`ConfigError` naming
    ``source`` (a file name) and every bad key."""
    try:
        return converter.structure(data, cls)
    except (ClassValidationError, ForbiddenExtraKeysError, IterableValidationError) as exc:
        lines = _messages(exc, "", cls)
        raise ConfigError(f"{source}: " + "; ".join(lines)) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: {exc}") from None


def config_file(path: Path) -> Path:
    """Where ``etc/mdp/...`` is: under ``$MDP_CONFIG_DIR``, or systemd's
    ``$CONFIGURATION_DIRECTORY`` (``/etc/mdp`` for ``ConfigurationDirectory=mdp``) when
    either is set, else relative to the working directory (a checkout)."""
    if path.is_absolute() or path.parts[:2] != ("etc", "mdp"):
        return path
    base = os.environ.get("MDP_CONFIG_DIR") or os.environ.get("CONFIGURATION_DIRECTORY")
    if not base:
        return path
    return Path(base.split(":", 1)[0]).joinpath(*path.parts[2:])


def read_toml(path: Path, *, what: str = "configuration file") -> tuple[dict[str, Any], str]:
    """A TOML file's data with the environment applied (``_env.py``: ``MDP_<FILE>__KEY``
    overrides, then ``${VAR}`` references), and the name errors should give it."""
    path = config_file(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    used = apply_overrides(data, override_prefix(path))
    source = str(path)
    if used:
        source += " (with " + ", ".join(f"${name}" for name in used) + " from the environment)"
    expanded: dict[str, Any] = expand_references(data, source)
    return expanded, source


def load_toml(path: Path | str, cls: type[T]) -> T:
    """Read a TOML file into ``cls``, the environment applied."""
    data, source = read_toml(Path(path))
    return structure(data, cls, source=source)
