"""The chunked buffer behaves exactly like a plain FIFO of items, whatever the mix of ops."""

from __future__ import annotations

from collections import deque
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mdp.supervision._buffer import ChunkedBuffer

ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers()),
        st.tuples(st.just("extend"), st.lists(st.integers(), max_size=300)),
        st.tuples(st.just("take"), st.integers(min_value=1, max_value=400)),
        st.tuples(st.just("drop"), st.integers(min_value=0, max_value=50)),
        st.tuples(st.just("push_front"), st.lists(st.integers(), max_size=20)),
    ),
    max_size=60,
)


@given(ops)
def test_chunked_buffer_is_a_fifo(operations: list[tuple[str, Any]]) -> None:
    buffer, model = ChunkedBuffer(), deque[int]()
    for op, arg in operations:
        if op == "append":
            buffer.append(arg)
            model.append(arg)
        elif op == "extend":
            assert buffer.extend(arg) == len(arg)
            model.extend(arg)
        elif op == "take":
            expected = [model.popleft() for _ in range(min(arg, len(model)))]
            assert buffer.take(arg) == expected
        elif op == "drop":
            buffer.drop(arg)
            for _ in range(min(arg, len(model))):
                model.popleft()
        else:
            buffer.push_front(arg)
            model.extendleft(reversed(arg))
        assert len(buffer) == len(model)
        assert list(buffer) == list(model)
    buffer.clear()
    assert not buffer


def test_a_whole_batch_comes_back_without_copying() -> None:
    buffer = ChunkedBuffer()
    buffer.extend(range(100))
    buffer.extend(range(100, 200))
    first = buffer.take(100)
    assert first == list(range(100))
    assert buffer.take(1000) == list(range(100, 200))
