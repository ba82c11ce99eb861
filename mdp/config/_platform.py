"""The platform's own settings (``etc/mdp/mdp.toml``)."""

from __future__ import annotations

import enum
from pathlib import Path

import attrs

__all__ = ["LogLevel", "PlatformConfig"]


class LogLevel(enum.StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@attrs.frozen(kw_only=True)
class PlatformConfig:
    """Where a role keeps its state and how loudly it logs.

    ``state_dir`` holds dead letters and the Parquet lake; ``runtime_dir`` the control
    sockets (systemd's ``$RUNTIME_DIRECTORY`` wins when it is set).
    """

    state_dir: Path = Path("var/lib/mdp")
    runtime_dir: Path = Path("var/run/mdp")
    log_level: LogLevel = LogLevel.INFO
