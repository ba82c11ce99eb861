"""When has downstream acknowledged what ``bus.consumer`` put into its output channel?

The channel is a FIFO whose readers are workers with an :class:`~mdp.supervision.Inbox`:
a reader acknowledges a batch by asking for the next one. So, counting items through the
channel, everything up to ``items_out - (in flight + waiting for redelivery)`` is done
when the channel has one reader. With several readers an older batch may still be in one
reader's hands while another acknowledged a newer one, so only an empty channel with
nothing in any reader's hands proves everything done. A ``drop_oldest`` channel (a live
view, where losing is allowed) or a channel nobody reads counts as done once the records
are in it.

Positions are the channel's ``items_in`` right after the put: another writer's put can
only make that larger, which makes the wait longer, never shorter.
"""

from __future__ import annotations

from collections import deque

from mdp.bus._fetched import Fetched
from mdp.supervision import Channel, Context, Inbox, OverflowPolicy

__all__ = ["DownstreamAcks"]


class DownstreamAcks:
    """Fetches in the output channel, acknowledged to the consumer once downstream has
    finished with them."""

    def __init__(self, ctx: Context, channel: Channel) -> None:
        self._ctx = ctx
        self._channel = channel
        self._pending: deque[tuple[int, Fetched]] = deque()

    def __len__(self) -> int:
        return len(self._pending)

    def sent(self, fetched: Fetched) -> None:
        """``fetched`` records were just put into the channel (call with no checkpoint
        between the put and this)."""
        self._pending.append((self._channel.items_in, fetched))

    def settled(self) -> list[Fetched]:
        """The fetches downstream has acknowledged since the last call, oldest first."""
        pending = self._pending
        if not pending:
            return []
        done = self._done_position()
        out: list[Fetched] = []
        while pending and pending[0][0] <= done:
            out.append(pending.popleft()[1])
        return out

    def _readers(self) -> list[Inbox]:
        root = self._ctx.supervisor
        while root.parent is not None:
            root = root.parent
        channel = self._channel
        return [inbox for node in root.walk() for inbox in node.inboxes if inbox.channel is channel]

    def _done_position(self) -> int:
        channel = self._channel
        readers = self._readers()
        if channel.policy is OverflowPolicy.DROP_OLDEST or not readers:
            return channel.items_in
        held = sum(len(r.in_flight) + r.pending_redelivery for r in readers)
        if len(readers) == 1:
            return channel.items_out - held
        return channel.items_in if not held and not channel.depth else -1
