"""``mdp run ROLE``: run a role's supervision tree; ``--check`` only validates it."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import trio

from mdp.supervision._role import load_role
from mdp.supervision._runtime import build_tree, run_role


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a role's supervision tree (supervisors/ROLE.toml)",
        description="Run a role until SIGTERM/SIGINT or `mdp ctl stop`; exits 0 after a "
        "graceful stop, 1 when the root supervisor gives up (so systemd restarts it).",
    )
    parser.add_argument("role", help="role name (supervisors/ROLE.toml) or path to a role file")
    parser.add_argument("--check", action="store_true", help="validate the role file and exit")
    parser.add_argument(
        "--roles-dir",
        type=Path,
        default=Path("supervisors"),
        metavar="DIR",
        help="where role files are (default: supervisors)",
    )
    parser.add_argument(
        "--control-dir",
        type=Path,
        metavar="DIR",
        help="where the control socket goes ($RUNTIME_DIRECTORY wins; default from the file)",
    )
    parser.add_argument("--metrics", metavar="HOST:PORT", help="serve /metrics here ('' for none)")
    parser.add_argument(
        "--drain-timeout", type=float, metavar="SECONDS", help="bound on the graceful stop"
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    role = load_role(args.role, args.roles_dir)
    if args.check:
        root = build_tree(role)
        nodes = root.walk()
        workers = sum(1 for n in nodes if n.sub is None)
        print(
            f"{role.source}: ok: {len(nodes) - workers + 1} supervisors, {workers} workers, "
            f"{len(root.all_channels())} channels"
        )
        return 0
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return trio.run(
        lambda: run_role(
            role,
            control_dir=args.control_dir,
            metrics=args.metrics,
            drain_timeout=args.drain_timeout,
            freeze_gc=True,
        )
    )
