"""``mdp config check FILE``: validate a configuration file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import attrs

from mdp.config import PlatformConfig, load_toml


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("config", help="inspect configuration")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a platform configuration file")
    check.add_argument("file", type=Path, nargs="?", default=Path("etc/mdp/mdp.toml"))
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    config = load_toml(args.file, PlatformConfig)
    print(f"{args.file}: ok")
    for name, value in sorted(vars_of(config).items()):
        print(f"  {name} = {value}")
    return 0


def vars_of(config: PlatformConfig) -> dict[str, object]:
    return attrs.asdict(config, recurse=False)
