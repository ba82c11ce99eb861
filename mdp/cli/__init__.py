"""The ``mdp`` command.

Each subcommand lives in a module of this package with a ``register(subparsers)`` function
that adds its parser and sets ``handler`` (a function of the parsed arguments returning the
exit code). Adding a command = adding a module and one line in ``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from mdp._exceptions import MdpError
from mdp.cli import (
    _collect,
    _config,
    _ctl,
    _db,
    _kafka,
    _run,
    _selfcheck,
    _simulate,
    _systemd,
    _up,
    _version,
)

_COMMANDS: tuple[ModuleType, ...] = (
    _version,
    _up,
    _selfcheck,
    _config,
    _run,
    _ctl,
    _simulate,
    _collect,
    _kafka,
    _systemd,
    _db,
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdp",
        description="mdp: a crypto market-data platform on Trio.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except MdpError as exc:
        print(f"mdp {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
