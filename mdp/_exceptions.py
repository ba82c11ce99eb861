"""Every error mdp raises on purpose.

    MdpError
    ├── ConfigError (ValueError)      a configuration file or value is wrong
    ├── InvalidNumber (ValueError)    a string is not an exact finite decimal
    ├── SupervisionError (RuntimeError)  the supervision tree could not keep a node running
    │   ├── StartFailed               a child failed (or returned) before reporting started
    │   ├── Escalation                a supervisor passed its restart intensity and gave up
    │   └── NodeNotFound (LookupError)  no node at the path given (control socket, API)
    ├── ControlError (RuntimeError)   a control-socket request failed or got an error reply
    ├── WireError (ValueError)        bytes are not a message mdp can decode
    │   └── UnsupportedSchemaVersion  a message from a schema this reader does not know
    ├── BusError (RuntimeError)       Kafka (or the in-process bus) refused or failed a request
    ├── DeployError (RuntimeError)    installing or checking the systemd units failed
    ├── SinkError (RuntimeError)      a store failed in a way the sink reports
    │   ├── StoreUnavailable (ConnectionError)  the store cannot be reached: retried
    │   └── MigrationError            the store's schema could not be brought up to date
    ├── RowRejected (ValueError)      a store refused a row: what its dead-letter entry says
    └── ExchangeError (RuntimeError)  an exchange could not be talked to as expected
        ├── ExchangeConnectionError (ConnectionError)  a WebSocket could not open or was lost
        └── RestError                 a REST request failed (status, Binance code, message)

Errors are translated into these types where they cross a boundary (a file, the wire, an
exchange), with a message that tells the operator what is wrong and what to do.
"""

from __future__ import annotations

__all__ = [
    "BusError",
    "ConfigError",
    "ControlError",
    "DeployError",
    "Escalation",
    "ExchangeConnectionError",
    "ExchangeError",
    "InvalidNumber",
    "MdpError",
    "MigrationError",
    "NodeNotFound",
    "RestError",
    "RowRejected",
    "SinkError",
    "StartFailed",
    "StoreUnavailable",
    "SupervisionError",
    "UnsupportedSchemaVersion",
    "WireError",
]


class MdpError(Exception):
    """The base of every error mdp raises on purpose."""


class ConfigError(MdpError, ValueError):
    """A configuration file or value is wrong; the message names the file and the key."""


class InvalidNumber(MdpError, ValueError):
    """A string that should hold an exact decimal number does not."""


class SupervisionError(MdpError, RuntimeError):
    """The supervision tree could not keep a node running."""


class StartFailed(SupervisionError):
    """A child raised, returned or was killed before it reported ``task_status.started()``."""


class Escalation(SupervisionError):
    """A supervisor restarted its children more often than its intensity allows, stopped
    them and gave up; its parent handles it like any failed child, and at the root the
    process exits non-zero so that systemd restarts the role."""


class NodeNotFound(SupervisionError, LookupError):
    """No node at the path given; the message lists the paths that exist nearby."""


class ControlError(MdpError, RuntimeError):
    """A control-socket request could not be made or got an error reply."""


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


class BusError(MdpError, RuntimeError):
    """Kafka or the in-process bus failed a request that retrying will not fix (a fatal
    producer error, a topic that cannot be created); the message says which and why."""


class ExchangeError(MdpError, RuntimeError):
    """An exchange could not be talked to as expected (the collector retries with backoff)."""


class ExchangeConnectionError(ExchangeError, ConnectionError):
    """A WebSocket could not be opened, or it was lost; the message says which URL and why."""


class RestError(ExchangeError):
    """A REST request failed: ``status`` is the HTTP status, ``code`` the exchange's own."""

    def __init__(self, url: str, status: int, code: int | None, message: str) -> None:
        super().__init__(f"{url}: HTTP {status} (code {code}): {message}")
        self.url = url
        self.status = status
        self.code = code


class DeployError(MdpError, RuntimeError):
    """Installing or checking the systemd units failed (a tool missing, a bad unit)."""


class SinkError(MdpError, RuntimeError):
    """A store failed in a way the sink reports; the message names the store."""


class StoreUnavailable(SinkError, ConnectionError):
    """The store cannot be reached (down, restarting, network): the sink worker waits and
    writes the same batch again, so nothing is lost; the batch is not acknowledged."""


class MigrationError(SinkError):
    """The schema could not be brought to the version this mdp needs; the message says
    which migration failed and why. Fix the store (or the file) and run ``mdp db migrate``."""


class RowRejected(MdpError, ValueError):
    """Why a store refused a row (not raised: it is what the dead-letter entry says)."""

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(f"{store} rejected the row: {reason}")
        self.store = store
        self.reason = reason
