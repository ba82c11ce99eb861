"""``mdp up``: the whole platform on its embedded default (role ``all``).

The built-in simulator, the Binance collector, the cleaning stages, the in-process bus and
the Parquet lake in one process, with nothing else to install. It runs from the checkout
(relative paths in the role file — the lake, dead letters, the control socket, etc/mdp —
resolve there), says where the data goes and how to look at it, and stops cleanly on
Ctrl-C. ``--live`` drops the simulator and points the collector at Binance itself.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import attrs
import trio

from mdp.supervision import SupervisorSpec, WorkerSpec
from mdp.supervision._role import Role, load_role
from mdp.supervision._runtime import run_role

CHECKOUT = Path(__file__).resolve().parents[2]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up", help="run the whole platform on its embedded default (simulator → Parquet lake)"
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="collect from Binance itself instead of the built-in simulator",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=CHECKOUT,
        metavar="DIR",
        help="where supervisors/, etc/ and var/ are (default: this checkout)",
    )
    parser.add_argument("--metrics", metavar="HOST:PORT", help="serve /metrics here")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=run)


def _live(spec: SupervisorSpec) -> SupervisorSpec:
    """The same tree without the simulator, its collector groups on Binance's own URLs."""
    children: list[WorkerSpec | SupervisorSpec] = []
    for child in spec.children:
        if isinstance(child, SupervisorSpec):
            children.append(_live(child))
        elif child.component == "simulator.serve":
            continue
        elif child.component == "binance.streams":
            args = {k: v for k, v in child.args.items() if k not in ("ws_url", "rest_url")}
            children.append(attrs.evolve(child, args=args))
        else:
            children.append(child)
    # The attrs plugin types a field with converter=tuple by the converter's generic
    # parameter, which it cannot solve here.
    return attrs.evolve(spec, children=tuple(children))  # type: ignore[arg-type]


def _find(spec: SupervisorSpec, component: str) -> WorkerSpec | None:
    for child in spec.children:
        found = (
            _find(child, component)
            if isinstance(child, SupervisorSpec)
            else (child if child.component == component else None)
        )
        if found is not None:
            return found
    return None


def describe(role: Role, home: Path) -> list[str]:
    lake = _find(role.spec.supervisor, "sink.parquet")
    run_spec = role.spec.run
    lines = [f"mdp up: role {role.name} from {role.source}"]
    if _find(role.spec.supervisor, "simulator.serve") is not None:
        lines.append(
            "  source:       the built-in Binance simulator on 127.0.0.1 (--live for Binance)"
        )
    if lake is not None:
        lines.append(f"  data:         Parquet lake in {home / str(lake.args['root'])}")
    dead = str(run_spec.dead_letters).replace("{role}", role.name)
    lines += [
        f"  dead letters: {home / dead}",
        f"  inspect:      mdp ctl tree --role {role.name} --control-dir "
        f"{home / run_spec.control_dir}   (also: channels, stats)",
        "  stop:         Ctrl-C",
    ]
    return lines


def run(args: argparse.Namespace) -> int:
    home = args.home.resolve()
    os.chdir(home)  # the role file's relative paths are the checkout's
    role = load_role("all", home / "supervisors")
    if args.live:
        role = attrs.evolve(
            role, spec=attrs.evolve(role.spec, supervisor=_live(role.spec.supervisor))
        )
    for line in describe(role, home):
        print(line, flush=True)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return trio.run(lambda: run_role(role, metrics=args.metrics, freeze_gc=True))
