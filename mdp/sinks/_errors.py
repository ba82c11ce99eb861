"""The sinks' errors (to move into ``mdp/_exceptions.py``'s tree; see docs/storage.md).

MdpError
├── SinkError (RuntimeError)        a store failed in a way the sink reports
│   ├── StoreUnavailable (ConnectionError)  the store cannot be reached: retried
│   └── MigrationError              the store's schema could not be brought up to date
└── RowRejected (ValueError)        a store refused a row: the dead-letter entry's error
"""

from __future__ import annotations

from mdp._exceptions import MdpError

__all__ = ["MigrationError", "RowRejected", "SinkError", "StoreUnavailable"]


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
