"""Every error mdp raises on purpose.

    MdpError
    ├── ConfigError (ValueError)      a configuration file or value is wrong
    ├── InvalidNumber (ValueError)    a string is not an exact finite decimal
    └── WireError (ValueError)        bytes are not a message mdp can decode
        └── UnsupportedSchemaVersion  a message from a schema this reader does not know

Errors are translated into these types where they cross a boundary (a file, the wire, an
exchange), with a message that tells the operator what is wrong and what to do.
"""

from __future__ import annotations

__all__ = ["ConfigError", "InvalidNumber", "MdpError", "UnsupportedSchemaVersion", "WireError"]


class MdpError(Exception):
    """The base of every error mdp raises on purpose."""


class ConfigError(MdpError, ValueError):
    """A configuration file or value is wrong; the message names the file and the key."""


class InvalidNumber(MdpError, ValueError):
    """A string that should hold an exact decimal number does not."""


class WireError(MdpError, ValueError):
    """Bytes that are not an mdp message (garbage, truncated, or missing required parts)."""


class UnsupportedSchemaVersion(WireError):
    """A message written with a schema version this reader does not support."""

    def __init__(self, version: int, supported: int) -> None:
        super().__init__(
            f"message has schema version {version}, this reader supports up to {supported}; "
            "upgrade mdp on the reading side"
        )
        self.version = version
        self.supported = supported
