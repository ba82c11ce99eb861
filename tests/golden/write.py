"""Write the golden fixtures that do not exist yet. Existing files are never rewritten:
they are what schema version 1 wrote, and later versions must keep decoding them.

    .venv/bin/python -m tests.golden.write
"""

from __future__ import annotations

from pathlib import Path

from mdp import wire
from tests.golden.records import MIXED_BATCH, SINGLE, TRADE_BATCH

HERE = Path(__file__).resolve().parent / "v1"


def fixtures() -> dict[str, bytes]:
    out = {f"{name}.bin": wire.encode(record) for name, record in SINGLE.items()}
    out["batch_mixed.bin"] = wire.encode_batch(MIXED_BATCH)
    out["batch_trades.bin"] = wire.encode_batch(TRADE_BATCH)
    return out


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, data in fixtures().items():
        path = HERE / name
        if path.exists():
            print(f"kept    {path.name}")
            continue
        path.write_bytes(data)
        print(f"wrote   {path.name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
