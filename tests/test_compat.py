"""Schema evolution, proven with a real newer schema.

The test builds "schema v1 + one release": the committed proto files with fields and a
payload kind added the way the evolution rules allow (new numbers only), compiles them with
protoc into a temporary package, and checks both directions:

- an older reader (this mdp) reads a newer message: the added fields are skipped, the
  record decodes exactly, and a pass-through re-encode keeps the added fields;
- a newer reader reads an older message: every old field reads back, the new ones are
  at their defaults.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from grpc_tools import protoc

from mdp import WireError, wire
from mdp.v1 import envelope_pb2 as pb
from tests.golden.records import SINGLE, TRADE_BATCH

PROTO = Path(__file__).resolve().parent.parent / "proto" / "mdp" / "v1"

ADDITIONS = {
    "market.proto": [
        ("message Trade {\n", "message Trade {\n  string buyer_order_id = 20;\n"),
    ],
    "envelope.proto": [
        ("  map<string, string> extra = 11;", "  map<string, string> extra = 11;\n"
         "  string region = 12;"),
        ("    SourceStatus source_status = 42;",
         "    SourceStatus source_status = 42;\n    Greeks greeks = 60;"),
        ("  KIND_SOURCE_STATUS = 11;", "  KIND_SOURCE_STATUS = 11;\n  KIND_GREEKS = 12;"),
        ("message EnvelopeBatch {", "message Greeks {\n  string delta = 1;\n}\n\n"
         "message EnvelopeBatch {"),
        ("  repeated RowExtra extra = 13;", "  repeated RowExtra extra = 13;\n"
         "  repeated string buyer_order_id = 14;"),
    ],
}


@pytest.fixture(scope="module")
def newer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The envelope module of the newer schema, as package ``mdpnext.v1``."""
    root = tmp_path_factory.mktemp("newer")
    src = root / "src" / "mdpnext" / "v1"
    src.mkdir(parents=True)
    for path in PROTO.glob("*.proto"):
        text = path.read_text().replace("package mdp.v1;", "package mdpnext.v1;")
        text = text.replace('import "mdp/v1/', 'import "mdpnext/v1/')
        for old, new in ADDITIONS.get(path.name, []):
            assert old in text, f"{path.name} no longer contains {old!r}"
            text = text.replace(old, new, 1)
        (src / path.name).write_text(text)
    out = root / "out"
    out.mkdir()
    args = ["protoc", f"-I{root / 'src'}", f"--python_out={out}"]
    assert protoc.main([*args, *map(str, sorted(src.glob("*.proto")))]) == 0
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("mdpnext.v1.envelope_pb2")
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n.startswith("mdpnext")]:
            del sys.modules[name]


def test_older_reader_skips_added_fields_and_keeps_them_on_reencode(newer: ModuleType) -> None:
    record = SINGLE["trade"]
    message = newer.Envelope.FromString(wire.encode(record))
    message.region = "ap-northeast-1"
    message.trade.buyer_order_id = "B-77"
    newer_bytes = message.SerializeToString()

    assert wire.decode(newer_bytes) == record  # the older reader: added fields skipped

    relayed = pb.Envelope.FromString(newer_bytes).SerializeToString()  # a pass-through hop
    again = newer.Envelope.FromString(relayed)
    assert again.region == "ap-northeast-1"
    assert again.trade.buyer_order_id == "B-77"


def test_older_reader_reads_a_newer_trade_batch(newer: ModuleType) -> None:
    batch = newer.EnvelopeBatch.FromString(wire.encode_batch(TRADE_BATCH))
    batch.trades.buyer_order_id.extend(f"B-{i}" for i in range(len(TRADE_BATCH)))
    assert wire.decode_batch(batch.SerializeToString()) == TRADE_BATCH


def test_older_reader_refuses_an_unknown_payload_clearly(newer: ModuleType) -> None:
    message = newer.Envelope.FromString(wire.encode(SINGLE["gap"]))
    message.greeks.delta = "0.5"  # replaces the oneof payload with a kind v1 does not know
    message.kind = newer.KIND_GREEKS
    with pytest.raises(WireError, match=r"payload this reader does not know \(kind 12\)"):
        wire.decode(message.SerializeToString())


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_newer_reader_reads_older_messages(newer: ModuleType, name: str) -> None:
    older_bytes = wire.encode(SINGLE[name])
    message = newer.Envelope.FromString(older_bytes)
    assert message.region == ""
    if message.WhichOneof("payload") == "trade":
        assert message.trade.buyer_order_id == ""
    # Every field the older writer set reads back the same through the newer schema.
    assert message.SerializeToString() == older_bytes
