"""Golden fixtures: bytes written by schema version 1 decode in every later version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mdp import wire
from tests.golden.records import MIXED_BATCH, SINGLE, TRADE_BATCH
from tests.golden.write import fixtures

GOLDEN = Path(__file__).resolve().parent / "golden" / "v1"


def same(a: Any, b: Any) -> bool:
    return a == b and repr(a) == repr(b)


def test_every_kind_has_a_fixture() -> None:
    kinds = {record.kind for record in SINGLE.values()}
    assert len(kinds) == 11
    assert {path.name for path in GOLDEN.glob("*.bin")} == set(fixtures())


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_single_fixture_decodes(name: str) -> None:
    record = wire.decode((GOLDEN / f"{name}.bin").read_bytes())
    assert same(record, SINGLE[name])


@pytest.mark.parametrize(
    ("name", "expected"), [("batch_mixed", MIXED_BATCH), ("batch_trades", TRADE_BATCH)]
)
def test_batch_fixture_decodes(name: str, expected: list[Any]) -> None:
    records = wire.decode_batch((GOLDEN / f"{name}.bin").read_bytes())
    assert len(records) == len(expected)
    for a, b in zip(records, expected, strict=True):
        assert same(a, b)
