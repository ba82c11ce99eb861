"""Replay of a recorded capture instead of the generated market.

Format: JSON lines ``{"ts": <ns or ms>, "stream": "btcusdt@trade", "frame": <text or
object>, "market": "spot"|"futures"}`` (``market`` optional, default spot). ``frame`` is
the stream's payload; a combined-stream wrapper (``{"stream":…,"data":…}``) is unwrapped.
A text frame is sent byte for byte (so a captured malformed frame stays malformed). ``ts``
above 10^15 is read as nanoseconds, otherwise as milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import orjson
import trio

from mdp._exceptions import ConfigError
from mdp.simulator._config import ReplayConfig
from mdp.simulator._hub import Hub
from mdp.simulator._instruments import Market
from mdp.simulator._market import Frame

__all__ = ["ReplayFrame", "load_capture", "record_capture", "run_replay"]


@attrs.frozen
class ReplayFrame:
    ts_ns: int
    market: Market
    stream: str
    payload: bytes


def _payload(frame: object, where: str) -> bytes:
    if isinstance(frame, str):
        if frame.startswith('{"stream":'):
            try:
                wrapped = orjson.loads(frame)
            except orjson.JSONDecodeError:
                return frame.encode()
            if isinstance(wrapped, dict) and "data" in wrapped:
                return orjson.dumps(wrapped["data"])
        return frame.encode()
    if isinstance(frame, dict) and set(frame) == {"stream", "data"}:
        frame = frame["data"]
    if isinstance(frame, dict | list):
        return orjson.dumps(frame)
    raise ConfigError(f"{where}: frame must be a JSON text or object")


def load_capture(path: Path) -> list[ReplayFrame]:
    """Every frame of a capture, in file order (captures are read whole)."""
    frames: list[ReplayFrame] = []
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such capture file") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = orjson.loads(line)
            ts, stream = int(row["ts"]), str(row["stream"])
            market = Market(row.get("market", "spot"))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: not a capture line ({exc})") from None
        ts_ns = ts if ts > 10**15 else ts * 1_000_000
        frames.append(ReplayFrame(ts_ns, market, stream, _payload(row.get("frame"), where)))
    return frames


async def run_replay(hub: Hub, config: ReplayConfig) -> None:
    """Publish the capture at ``speed`` × recorded pace (0: as fast as possible)."""
    frames = load_capture(config.file)
    for f in frames:
        hub.known[f.market].add(f.stream)
        hub.add_prefix(f.stream)
    hub.stats["replay_frames"] = len(frames)
    if config.wait_for_client:
        await hub.first_connection.wait()
    while True:
        if frames:
            await _play(hub, frames, config.speed)
        if not config.loop or not frames:
            return
        await trio.lowlevel.checkpoint()


async def _play(hub: Hub, frames: list[ReplayFrame], speed: float) -> None:
    start = trio.current_time()
    ts0 = frames[0].ts_ns
    i = 0
    while i < len(frames):
        await trio.lowlevel.checkpoint()  # let new clients subscribe between batches
        now = trio.current_time()
        batches: dict[Market, list[Frame]] = {m: [] for m in Market}
        while i < len(frames):
            f = frames[i]
            due = start + (f.ts_ns - ts0) / 1e9 / speed if speed > 0 else now
            if due > now:
                break
            batches[f.market].append((f.stream, f.payload))
            i += 1
            if speed <= 0 and len(batches[f.market]) >= 1000:
                break
        for market, batch in batches.items():
            hub.publish(market, batch)
            hub.stats["replayed"] += len(batch)
        if i < len(frames) and speed > 0:
            f = frames[i]
            await trio.sleep_until(start + (f.ts_ns - ts0) / 1e9 / speed)


def record_capture(
    path: Path,
    *,
    frames: int,
    streams: list[str],
    market: Market = Market.SPOT,
    seed: int = 1,
    rate: int = 100_000,
    start_ms: int = 1_770_000_000_000,
) -> int:
    """Write ``frames`` frames of the generated market (only ``streams``, e.g.
    ``["btcusdt@trade"]``) as a capture, timestamps at the model's times: a long,
    gap-free, pre-rendered feed to replay at ``speed=0`` when the live model (a few µs
    per frame) cannot generate fast enough, as in a collector benchmark. Returns the
    number of frames written (whole steps, so slightly more than asked)."""
    from mdp.simulator._instruments import instruments_for
    from mdp.simulator._market import SymbolMarket

    symbols = sorted({s.split("@")[0].upper() for s in streams})
    markets = [
        SymbolMarket(inst, seed=seed, rate=rate, start_ms=start_ms, history=1000, checkpoints=0)
        for inst in instruments_for(market, symbols)
    ]
    for m in markets:
        m.set_wanted(frozenset(streams))
    tag = b',"market":"' + market.value.encode() + b'"}\n'
    written = 0
    with path.open("wb") as out:
        while written < frames:
            for m in markets:
                batch: list[Frame] = []
                m.advance(m.step + 1000, batch)
                ts = str(m.now_ms()).encode()
                for stream, payload in batch:
                    out.write(b'{"ts":' + ts + b',"stream":"' + stream.encode() + b'","frame":')
                    out.write(payload + tag)
                written += len(batch)
    return written
