"""The chaos killer shared by the chaos tests: kill random nodes through a role's control
socket until the work is done."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import attrs
import trio

from mdp._exceptions import ControlError
from mdp.control import ControlClient


@attrs.define
class KillCount:
    kills: int = 0
    refused: int = 0  # the node was in its backoff, not running: nothing to kill


async def kill_until(
    ctl: ControlClient,
    paths: Sequence[str],
    rng: random.Random,
    done: Callable[[], bool],
    *,
    max_pause: float,
    count: KillCount | None = None,
) -> KillCount:
    """Kill ``rng.choice(paths)`` every ``uniform(0, max_pause)`` seconds until ``done()``
    (bound it with ``trio.fail_after`` around the call); ``count``, when given, is kept up
    to date as it goes."""
    count = KillCount() if count is None else count
    while not done():
        try:
            await ctl.request("kill", rng.choice(paths))
        except ControlError as exc:
            if "is not running" not in str(exc):
                raise
            count.refused += 1
            await trio.sleep(max_pause / 10)
            continue
        count.kills += 1
        await trio.sleep(rng.uniform(0, max_pause))
    return count
