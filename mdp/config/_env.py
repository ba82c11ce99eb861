"""The environment's say in configuration: overrides of keys, and ``${VAR}`` in values.

Two mechanisms, both applied to the TOML data before it is structured (so a bad value
from the environment gets the same error a bad value in the file gets, naming the
variable):

* **Key overrides.** ``MDP_<FILE>__<KEY>[__<SUBKEY>...]=value`` sets ``key.subkey`` of
  ``etc/mdp/<file>.toml``: ``MDP_BUS__PRODUCER__LINGER_MS=2`` is ``[producer] linger_ms =
  2`` in ``bus.toml``. The platform file ``mdp.toml`` is the bare prefix:
  ``MDP__LOG_LEVEL=debug``. A role file is addressed by its role name:
  ``MDP_SINK__RUN__METRICS=127.0.0.1:9464``. The value is read as a TOML value when it is
  one (``2``, ``true``, ``"x"``, ``["a", "b"]``) and as a plain string otherwise. Keys in
  arrays of tables (a role's children, the symbols list) cannot be addressed this way.
* **References.** A string value may contain ``${NAME}`` or ``${NAME:-default}``; ``$$``
  is a literal ``$``. An unset variable without a default is an error naming the key, never
  an empty string that fails later somewhere else. This is how a role file takes what
  differs per machine — ``dsn = "${MDP_PG_DSN:-postgresql://mdp@127.0.0.1:5432/mdp}"``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mdp._exceptions import ConfigError

__all__ = ["apply_overrides", "expand_references", "override_prefix"]

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def override_prefix(path: Path | str) -> str:
    """``MDP__`` for ``mdp.toml``, ``MDP_BUS__`` for ``bus.toml`` (any directory)."""
    stem = Path(path).stem.upper().replace("-", "_")
    return "MDP__" if stem == "MDP" else f"MDP_{stem}__"


def _value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_overrides(
    data: dict[str, Any], prefix: str, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Set the keys named by the ``prefix`` variables in ``data`` (in place); the names of
    the variables used, for error messages."""
    env = os.environ if environ is None else environ
    used: list[str] = []
    for name in sorted(env):
        if not name.startswith(prefix) or len(name) == len(prefix):
            continue
        keys = name[len(prefix) :].lower().split("__")
        if not all(keys):
            raise ConfigError(f"${name}: an empty key between '__' separators")
        table = data
        for depth, key in enumerate(keys[:-1]):
            inner = table.setdefault(key, {})
            if not isinstance(inner, dict):
                dotted = ".".join(keys[: depth + 1])
                raise ConfigError(f"${name}: {dotted} is not a table, so it has no keys")
            table = inner
        table[keys[-1]] = _value(env[name])
        used.append(name)
    return used


def expand_references(
    data: Any, source: str, environ: Mapping[str, str] | None = None, _path: str = ""
) -> Any:
    """``data`` with every ``${NAME}`` / ``${NAME:-default}`` in its strings replaced."""
    env = os.environ if environ is None else environ
    if isinstance(data, str):
        if "$" not in data:
            return data

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name is None:
                return "$"
            value = env.get(name)
            if value is not None and (value or default is None):
                return value
            if default is not None:
                return default
            raise ConfigError(
                f"{source}: {_path or '(top level)'}: ${{{name}}} is not set "
                f"(set it, or write ${{{name}:-default}})"
            )

        return _REFERENCE.sub(replace, data)
    if isinstance(data, dict):
        return {
            k: expand_references(v, source, env, f"{_path}.{k}" if _path else k)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [expand_references(v, source, env, f"{_path}[{i}]") for i, v in enumerate(data)]
    return data
