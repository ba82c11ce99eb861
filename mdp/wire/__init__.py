"""The wire format: model records ↔ versioned protobuf envelopes, and topic names."""

from mdp.wire._batch import decode_batch, encode_batch
from mdp.wire._envelope import decode, encode
from mdp.wire._topics import TopicName, parse_topic, symbol_slug, topic_for

__all__ = [
    "TopicName",
    "decode",
    "decode_batch",
    "encode",
    "encode_batch",
    "parse_topic",
    "symbol_slug",
    "topic_for",
]
