"""The package version and the wire schema version it reads and writes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mdp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

SCHEMA_VERSION = 1
"""The wire schema's major version. Additive changes keep it; a reader refuses a message
with a higher one (see docs/wire-format.md)."""
