"""The sinks' errors; they live in ``mdp/_exceptions.py`` with the rest of the tree."""

from mdp._exceptions import MigrationError, RowRejected, SinkError, StoreUnavailable

__all__ = ["MigrationError", "RowRejected", "SinkError", "StoreUnavailable"]
