"""Replay of captures at accelerated speed, the ``mdp simulate`` command, and the error
messages of the simulator's configuration files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest
import trio
from trio_websocket import open_websocket_url

from mdp._exceptions import ConfigError
from mdp.simulator import ReplayConfig, load_config, load_faults
from tests.simulator.conftest import START_MS, Start, raw_client

TRADE = {"e": "trade", "E": START_MS, "s": "BTCUSDT", "t": 1, "p": "1.00000000", "q": "2.00000000",
         "T": START_MS, "m": True, "M": True}  # fmt: skip


def _capture(path: Path) -> list[bytes]:
    """Four spot frames 1 s apart (ms and ns timestamps, object, text, wrapper,
    malformed) and one futures frame; returns the spot payloads as they must arrive."""
    second = orjson.dumps({**TRADE, "t": 2})
    wrapped = orjson.dumps({"stream": "btcusdt@trade", "data": {**TRADE, "t": 3}}).decode()
    lines = [
        {"ts": START_MS, "stream": "btcusdt@trade", "frame": TRADE},
        {"ts": (START_MS + 1000) * 1_000_000, "stream": "btcusdt@trade", "frame": second.decode()},
        {"ts": START_MS + 2000, "stream": "btcusdt@trade", "frame": wrapped},
        {"ts": START_MS + 3000, "stream": "btcusdt@trade", "frame": '{"e":"tra'},
        {"ts": START_MS + 3000, "stream": "btcusdt@aggTrade", "frame": TRADE, "market": "futures"},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    return [orjson.dumps(TRADE), second, orjson.dumps({**TRADE, "t": 3}), b'{"e":"tra']


async def test_replay_at_ten_times_speed(start: Start, tmp_path: Path) -> None:
    expected = _capture(tmp_path / "capture.jsonl")
    _, address = await start(replay=ReplayConfig(tmp_path / "capture.jsonl", speed=10))
    async with raw_client(address.spot_port, "/ws/btcusdt@trade") as client:
        got, times = [], []
        with trio.fail_after(5):
            for _ in expected:
                got.append(await client.message())
                times.append(trio.current_time())
    assert [g.encode() for g in got if g is not None] == expected  # byte for byte, in order
    assert 0.25 <= times[-1] - times[0] < 1.5  # 3 s recorded, played in ~0.3 s


async def test_replay_futures_frames_go_to_the_futures_port(start: Start, tmp_path: Path) -> None:
    _capture(tmp_path / "capture.jsonl")
    replay = ReplayConfig(tmp_path / "capture.jsonl", speed=0)
    _, address = await start(replay=replay)
    async with open_websocket_url(address.futures_ws + "/market/ws/btcusdt@aggTrade") as ws:
        with trio.fail_after(5):
            assert orjson.loads(await ws.get_message()) == TRADE


def test_config_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "faults.toml"
    bad.write_text('[[fault]]\nat_s = 1\nkind = "explode"\n')
    with pytest.raises(ConfigError, match=r"faults\.toml.*fault\[0\]\.kind"):
        load_faults(bad)
    bad.write_text('[[fault]]\nkind = "drop"\n')
    with pytest.raises(ConfigError, match=r"at_s"):
        load_faults(bad)
    cfg = tmp_path / "sim.toml"
    cfg.write_text('host = "10.0.0.1"\n')
    with pytest.raises(ConfigError, match="loopback"):
        load_config(cfg)
    cfg.write_text("rate = 5\nsend_qeue = 3\n")
    with pytest.raises(ConfigError, match="send_qeue"):
        load_config(cfg)
    good = tmp_path / "ok.toml"
    good.write_text('rate = 5\nsymbols = ["BTCUSDT"]\n[rest]\nspot_weight = 10\n')
    loaded = load_config(good)
    assert (loaded.rate, loaded.symbols, loaded.rest.spot_weight) == (5, ["BTCUSDT"], 10)


def test_cli_prints_urls_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    faults = tmp_path / "faults.toml"
    faults.write_text('[[fault]]\nat_s = 60\nkind = "disconnect"\n')
    cmd = [sys.executable, "-m", "mdp", "simulate", "--symbols", "BTCUSDT", "--rate", "50",
           "--port", "0", "--seed", "2", "--faults", str(faults)]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        control = lines[4].split()[1]
        assert control.startswith("http://127.0.0.1:")
        stats = httpx.get(control, timeout=5).json()
        assert stats["symbols"]["spot"] == ["BTCUSDT"]
        assert lines[0].split()[2].startswith("ws://127.0.0.1:")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


async def test_recorded_capture_replays_gap_free(start: Start, tmp_path: Path) -> None:
    from mdp.simulator import record_capture

    path = tmp_path / "generated.jsonl"
    written = record_capture(path, frames=2000, streams=["btcusdt@trade"])
    assert written >= 2000
    _, address = await start(replay=ReplayConfig(path, speed=0))
    async with raw_client(address.spot_port, "/ws/btcusdt@trade") as client:
        with trio.fail_after(10):
            frames = [orjson.loads(await client.message() or "null") for _ in range(written)]
    ids = [f["t"] for f in frames]
    assert ids == list(range(ids[0], ids[0] + written))  # every frame, in order, no gap
