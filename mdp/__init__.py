"""mdp — a crypto market-data platform on Trio."""

from mdp._exceptions import (
    ConfigError,
    InvalidNumber,
    MdpError,
    UnsupportedSchemaVersion,
    WireError,
)
from mdp._version import SCHEMA_VERSION, __version__

__all__ = [
    "SCHEMA_VERSION",
    "ConfigError",
    "InvalidNumber",
    "MdpError",
    "UnsupportedSchemaVersion",
    "WireError",
    "__version__",
]
