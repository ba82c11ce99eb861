"""``mdp ctl COMMAND``: talk to a running role's control socket.

Readable tables by default, the role's JSON reply with ``--json`` (for scripts).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from mdp.control import COMMANDS, ControlClient, socket_path


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--role",
        help="role to talk to (default: the first part of PATH, else $MDP_ROLE, else demo)",
    )
    common.add_argument(
        "--control-dir",
        type=Path,
        default=Path("var/run/mdp"),
        metavar="DIR",
        help="where the role's socket is ($RUNTIME_DIRECTORY wins)",
    )
    common.add_argument("--socket", type=Path, metavar="PATH", help="the socket itself")
    common.add_argument("--json", action="store_true", help="print the JSON reply")
    parser = subparsers.add_parser("ctl", help="inspect or control a running role")
    actions = parser.add_subparsers(dest="action", metavar="COMMAND", required=True)
    helps = {
        "tree": "every node: path, state, restarts, uptime, last error",
        "channels": "every channel: capacity, depth, peak, items in/out, blocked time",
        "stats": "role totals",
        "restart": "stop a node gracefully and start it again",
        "kill": "cancel a node as a crash would (chaos testing)",
        "stop": "drain and stop the role",
    }
    for name, takes_path in COMMANDS.items():
        sub = actions.add_parser(name, parents=[common], help=helps[name])
        if takes_path:
            sub.add_argument("path", help="node path, e.g. demo/stages/add-1")
        sub.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    node = getattr(args, "path", None)
    role = args.role or (node.split("/", 1)[0] if node else None)
    role = role or os.environ.get("MDP_ROLE") or "demo"
    path = args.socket or socket_path(role, args.control_dir)
    reply = trio.run(_request, path, args.action, node)
    if args.json:
        print(json.dumps(reply, indent=2))
    else:
        print(render(args.action, reply))
    return 0


async def _request(path: Path, cmd: str, node: str | None) -> dict[str, Any]:
    async with await ControlClient.connect(path) as client:
        return await client.request(cmd, node)


def render(cmd: str, reply: dict[str, Any]) -> str:
    """The reply as a table (or a line) for a person."""
    if cmd == "tree":
        return table(
            reply["nodes"],
            ["path", "kind", "state", "restart", "restarts", "uptime", "last_error"],
        )
    if cmd == "channels":
        return table(
            reply["channels"],
            ["path", "capacity", "policy", "depth", "peak", "items_in", "items_out", "dropped",
             "blocked_seconds"],
        )  # fmt: skip
    if cmd == "stats":
        stats = reply["stats"]
        width = max(len(k) for k in stats)
        return "\n".join(f"{k.ljust(width)}  {_cell(v)}" for k, v in stats.items())
    rest = {k: v for k, v in reply.items() if k != "ok"}
    return "ok" + "".join(f"  {k}: {v}" for k, v in rest.items())


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[c.upper().replace("_", " ") for c in columns]]
    cells += [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    numeric = [all(_is_number(row.get(c)) for row in rows) for c in columns]
    lines = []
    for r in cells:
        parts = [
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(r, widths, numeric, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
