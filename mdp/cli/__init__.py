"""The ``mdp`` command.

Each subcommand lives in a module of this package with a ``register(subparsers)`` function
that adds its parser and sets ``handler`` (a function of the parsed arguments returning the
exit code). Adding a command = adding a module and one line in ``_COMMANDS``.

Some command modules import a lot (the collector, the stores' drivers): ``mdp ctl`` or
``mdp version`` should not wait for that, so a command named on the command line imports
only its own module; ``mdp --help`` (or anything unknown) imports them all.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from mdp._exceptions import MdpError

# command name -> module of this package, in the order `mdp --help` lists them
_COMMANDS: dict[str, str] = {
    "version": "_version",
    "up": "_up",
    "selfcheck": "_selfcheck",
    "config": "_config",
    "run": "_run",
    "ctl": "_ctl",
    "simulate": "_simulate",
    "collect": "_collect",
    "kafka": "_kafka",
    "systemd": "_systemd",
    "db": "_db",
}

Handler = Callable[[argparse.Namespace], int]


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``commands`` (all of them by default)."""
    parser = argparse.ArgumentParser(
        prog="mdp",
        description="mdp: a crypto market-data platform on Trio.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in commands or _COMMANDS:
        importlib.import_module(f"mdp.cli.{_COMMANDS[name]}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = argv[0] if argv else ""
    parser = build_parser([first] if first in _COMMANDS else None)
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except MdpError as exc:
        print(f"mdp {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
