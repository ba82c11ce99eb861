"""One run of a child's task: its cancel scope, its start report, its end.

The wrapper catches what the child raises so that a crash is an event for the supervisor,
not an exception in the supervisor's nursery; it also settles the child's inboxes on the
way out, synchronously, so that no item is ever in flight for a task that is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

from mdp._exceptions import StartFailed
from mdp.supervision._context import Context
from mdp.supervision._node import Node, NodeState, describe

if TYPE_CHECKING:
    from mdp.supervision._supervisor import Supervisor

__all__ = ["Instance", "run_instance"]


class Instance:
    """One run of a child's task; the supervisor cancels its scope to stop or kill it.

    Once the child reports started its scope shields it from cancellation coming from
    above: a cancelled supervisor must stop its children one by one in reverse order, not
    all at once. The shield is bounded: whenever its supervisor stops, for any reason, it
    first gives every shielded scope a deadline (the sum of the shutdown timeouts of the
    children stopped before it and its own), then cancels them in reverse order. Before it
    has started, a child is cancelled with its supervisor like any task.
    """

    __slots__ = ("done", "error", "killed", "number", "scope", "started", "stopping")

    def __init__(self, number: int) -> None:
        self.number = number
        self.scope = trio.CancelScope()
        self.done = trio.Event()
        self.started = False
        self.killed = False  # cancelled as a crash (control socket ``kill``)
        self.stopping = False  # cancelled on purpose by its supervisor
        self.error: BaseException | None = None


class _StartReporter:
    """The ``task_status`` a child gets: marks the node running, then passes it on."""

    def __init__(self, inner: trio.TaskStatus[None], node: Node, instance: Instance) -> None:
        self._inner = inner
        self._node = node
        self._instance = instance

    def started(self, value: object = None) -> None:
        if self._instance.started:
            raise RuntimeError(f"{self._node.path} called task_status.started() twice")
        self._instance.started = True
        # From now on only the supervisor cancels this instance (see Instance).
        self._instance.scope.shield = True
        self._node.state = NodeState.RUNNING
        self._node.started_at = trio.current_time()
        self._inner.started()


async def run_instance(
    supervisor: Supervisor,
    node: Node,
    instance: Instance,
    report_exit: Callable[[Node, Instance], None],
    *,
    task_status: trio.TaskStatus[None],
) -> None:
    """Run one instance of ``node``'s child until it ends, for ``nursery.start``.

    Its failure is caught and kept on ``instance`` (never raised into the nursery), its
    inboxes are settled (in-flight items acknowledged, handed on, or counted as a crash)
    and ``report_exit`` tells the supervisor. Failing before ``task_status.started()``
    raises :class:`StartFailed` instead, out of ``nursery.start``.
    """
    reporter = _StartReporter(task_status, node, instance)
    error: Exception | None = None
    returned = False
    try:
        with instance.scope:
            if node.sub is not None:
                await node.sub.run(task_status=reporter)
            else:
                assert node.component is not None
                ctx = Context(
                    path=node.path,
                    name=node.name,
                    args=node.args,
                    inputs=node.inboxes,
                    outputs=node.outputs,
                    memo=node.memo,
                    instance=instance.number,
                    supervisor=supervisor,
                )
                await node.component.fn(ctx, task_status=reporter)
            returned = True
    except Exception as exc:  # a crash: reported to the supervisor, not to the nursery
        error = exc
    finally:
        instance.error = error
        for inbox in node.inboxes:
            if error is not None:
                inbox.crashed(error)
            elif returned:
                inbox.done()
            else:
                inbox.release()
        instance.done.set()
        report_exit(node, instance)
    if not instance.started:
        how = "was killed" if instance.killed else "returned"
        if error is not None:
            how = f"failed ({describe(error)})"
        raise StartFailed(f"{node.path} {how} before reporting started") from error
