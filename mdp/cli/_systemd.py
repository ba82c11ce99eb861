"""``mdp systemd install|verify``: the systemd units, installed and checked."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from mdp.deploy import ROLES, exposure, install, verify


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("systemd", help="install or check the systemd units")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    inst = actions.add_parser("install", help="write the units under ROOT (default /)")
    inst.add_argument("--root", type=Path, default=Path("/"), metavar="DIR")
    inst.add_argument(
        "--exec",
        dest="executable",
        metavar="PATH",
        help="the mdp executable the units run (default: this one)",
    )
    inst.add_argument(
        "--roles-dir",
        type=Path,
        metavar="DIR",
        help="where the role files are (default: this checkout's supervisors/)",
    )
    inst.set_defaults(handler=run_install)
    check = actions.add_parser(
        "verify", help="systemd-analyze verify (no message allowed) and security (≤ 3.0)"
    )
    check.add_argument(
        "--root",
        type=Path,
        metavar="DIR",
        help="check units already installed there (default: install to a temp dir)",
    )
    check.set_defaults(handler=run_verify)


def run_install(args: argparse.Namespace) -> int:
    result = install(args.root, executable=args.executable, roles_dir=args.roles_dir)
    for path in result.files:
        print(f"wrote {path}")
    if args.root == Path("/"):
        print("next: systemd-sysusers; systemctl daemon-reload; systemctl enable --now mdp.target")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="mdp-units-") as tmp:
        root = args.root or Path(tmp)
        if args.root is None:
            install(root)
        unit_dir = root / "etc" / "systemd" / "system"
        problems = verify(unit_dir)
        for line in problems:
            print(line)
        if problems:
            print(f"systemd units: {len(problems)} problem(s)")
            return 1
        scores = ", ".join(f"mdp@{role} {exposure(unit_dir, role):.1f}" for role in ROLES)
        print(f"systemd units: verify clean; exposure {scores}")
    return 0
