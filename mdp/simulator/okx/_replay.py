"""Replay of a capture through the OKX simulator, and recording one from its model.

The capture format is the Binance simulator's (:mod:`mdp.simulator._replay`: JSON lines
``{"ts", "stream", "frame"}``), with ``stream`` the channel key (``trades:BTC-USDT``,
``books:BTC-USDT``, ``liquidation-orders:SWAP``) and ``frame`` the whole push as sent."""

from __future__ import annotations

from pathlib import Path

import trio

from mdp.simulator._config import ReplayConfig
from mdp.simulator._replay import load_capture
from mdp.simulator.okx._config import Checksum
from mdp.simulator.okx._hub import OkxHub
from mdp.simulator.okx._instruments import okx_instruments
from mdp.simulator.okx._market import Frame, OkxMarket

__all__ = ["record_okx_capture", "run_okx_replay"]


async def run_okx_replay(hub: OkxHub, config: ReplayConfig) -> None:
    """Publish the capture at ``speed`` × recorded pace (0: as fast as possible)."""
    frames = load_capture(config.file)
    hub.stats["replay_frames"] = len(frames)
    if config.wait_for_client:  # a connection delivers nothing until it has subscribed
        await hub.first_subscription.wait()
    while frames:
        start, ts0, i = trio.current_time(), frames[0].ts_ns, 0
        while i < len(frames):
            await trio.lowlevel.checkpoint()
            now = trio.current_time()
            batch: list[Frame] = []
            while i < len(frames):
                f = frames[i]
                if config.speed > 0 and start + (f.ts_ns - ts0) / 1e9 / config.speed > now:
                    break
                batch.append((f.stream, f.payload))
                i += 1
                if config.speed <= 0 and len(batch) >= 1000:
                    break
            hub.publish(batch)
            hub.stats["replayed"] += len(batch)
            if i < len(frames) and config.speed > 0:
                due = start + (frames[i].ts_ns - ts0) / 1e9 / config.speed
                await trio.sleep_until(due)
        if not config.loop:
            return


def record_okx_capture(
    path: Path,
    *,
    frames: int,
    keys: list[str],
    seed: int = 1,
    rate: int = 100_000,
    start_ms: int = 1_770_000_000_000,
) -> int:
    """Write at least ``frames`` pushes of the generated market (channel ``keys``, e.g.
    ``["trades:BTC-USDT"]``) as a capture: a long, gap-free feed for a collector
    benchmark at ``speed=0``. Returns the number written."""
    inst_ids = sorted({k.split(":", 1)[1] for k in keys if not k.startswith("liquidation")})
    markets = [
        OkxMarket(
            inst,
            seed=seed,
            rate=rate,
            start_ms=start_ms,
            history=1000,
            checkpoints=0,
            checksum=Checksum.ZERO,
            funding_push_ms=30_000,
        )
        for inst in okx_instruments(inst_ids)
    ]
    for m in markets:
        m.set_wanted(frozenset(keys))
    written = 0
    with path.open("wb") as out:
        while written < frames:
            for m in markets:
                batch: list[Frame] = []
                m.advance(m.step + 1000, batch)
                ts = str(m.now_ms()).encode()
                for key, payload in batch:
                    out.write(b'{"ts":' + ts + b',"stream":"' + key.encode() + b'","frame":')
                    out.write(payload + b"}\n")
                written += len(batch)
    return written
