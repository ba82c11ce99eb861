"""``mdp version``: the package version and the wire schema version."""

from __future__ import annotations

import argparse
from typing import Any

from mdp._version import SCHEMA_VERSION, __version__


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("version", help="print the version and the schema version")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(f"mdp {__version__} (wire schema version {SCHEMA_VERSION})")
    return 0
