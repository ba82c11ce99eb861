"""The supervisor: a Trio task that owns a nursery, its children's records and channels.

Everything that changes the tree (a child ended, a backoff ran out, an operator asked for
a restart, a dynamic child was added) goes through one loop per supervisor, so there is
never more than one restart decision in progress and a group restart can wait until the
old instances are fully gone before the new ones start. Children never raise into the
nursery: each instance runs in a wrapper (``_instance.py``) that catches its failure and
reports it as an event, so one child's crash does not cancel its siblings unless the
strategy says so.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from mdp._exceptions import ConfigError, Escalation, NodeNotFound, StartFailed, SupervisionError
from mdp.supervision._channel import Channel
from mdp.supervision._component import lookup
from mdp.supervision._deadletter import DeadLetterStore, MemoryDeadLetters
from mdp.supervision._inbox import Inbox
from mdp.supervision._instance import Instance, run_instance
from mdp.supervision._node import Node, NodeState, describe
from mdp.supervision._spec import RestartType, Strategy, SupervisorSpec, WorkerSpec

__all__ = ["Supervisor"]

log = logging.getLogger("mdp.supervision")


@attrs.define(eq=False)
class _Exited:
    node: Node
    instance: Instance


@attrs.define(eq=False)
class _Command:
    run: Callable[[], Awaitable[Any]]
    done: trio.Event = attrs.Factory(trio.Event)
    result: Any = None
    error: BaseException | None = None


@attrs.define(eq=False)
class _Stop:
    deadline: float  # drain until then (Trio clock); then stop what is left


_Event = _Exited | _Command | _Stop


class Supervisor:
    """Runs the children of a :class:`SupervisorSpec` and keeps them running.

    Build the root with ``Supervisor(spec)`` and run it with ``await nursery.start(sup.run)``
    (it reports started once every child has); inner supervisors are built by their parent.
    The object outlives its runs: when a parent restarts it, its channels, in-flight items
    and counters are still there.
    """

    def __init__(
        self,
        spec: SupervisorSpec,
        *,
        parent: Supervisor | None = None,
        path: str | None = None,
        dead_letters: DeadLetterStore | None = None,
        rng: random.Random | None = None,
        source: str = "<python>",
        key: str = "supervisor",
    ) -> None:
        self.spec = spec
        self.parent = parent
        self.path = path if path is not None else spec.name
        self.dead_letters: DeadLetterStore = (
            dead_letters
            if dead_letters is not None
            else (parent.dead_letters if parent is not None else MemoryDeadLetters())
        )
        self.rng: random.Random = (
            rng if rng is not None else (parent.rng if parent is not None else random.Random())
        )
        self._source = source
        self.channels: dict[str, Channel] = {}
        for i, cs in enumerate(spec.channels):
            if cs.name in self.channels:
                raise ConfigError(f"{source}: {key}.channels[{i}].name: duplicate name {cs.name!r}")
            self.channels[cs.name] = Channel(
                cs.name, cs.capacity, cs.policy, path=f"{self.path}/{cs.name}"
            )
        self.nodes: list[Node] = []
        for i, child in enumerate(spec.children):
            self._check_new_name(child.name, f"{key}.children[{i}].name")
            self.nodes.append(self._make_node(child, f"{key}.children[{i}]"))
        self._events: trio.MemorySendChannel[_Event] | None = None
        self._nursery: trio.Nursery | None = None
        self._window: deque[float] = deque()
        self._starting_all = False
        self._starting_due = False
        self.running = False
        self.started_at: float | None = None
        self.total_restarts = 0

    def __repr__(self) -> str:
        return f"<Supervisor {self.path} {self.spec.strategy}>"

    # -- building --------------------------------------------------------------------------

    def _check_new_name(self, name: str, key: str) -> None:
        if any(n.name == name for n in self.nodes):
            raise ConfigError(f"{self._source}: {key}: {self.path} already has a child {name!r}")

    def channel(self, name: str, *, key: str = "") -> Channel:
        """The channel ``name`` of this supervisor or the nearest one above it."""
        sup: Supervisor | None = self
        while sup is not None:
            if name in sup.channels:
                return sup.channels[name]
            sup = sup.parent
        raise ConfigError(
            f"{self._source}: {key or 'channel'}: no channel {name!r} in {self.path} "
            "or above it; declare it in a [[...channels]] table of this supervisor or a parent"
        )

    def _make_node(self, spec: WorkerSpec | SupervisorSpec, key: str) -> Node:
        path = f"{self.path}/{spec.name}"
        if isinstance(spec, SupervisorSpec):
            sub = Supervisor(spec, parent=self, path=path, source=self._source, key=key)
            return Node(spec, path, sub=sub)
        try:
            comp = lookup(spec.component)
        except ConfigError as exc:
            raise ConfigError(f"{self._source}: {key}.component: {exc}") from None
        args = comp.structure_args(spec.args, source=f"{self._source}: {key}.args")
        inboxes = tuple(
            Inbox(
                self.channel(name, key=f"{key}.inputs[{i}]"),
                path=path,
                max_attempts=spec.max_attempts,
                dead_letters=self.dead_letters,
            )
            for i, name in enumerate(spec.inputs)
        )
        outputs = tuple(
            self.channel(name, key=f"{key}.outputs[{i}]") for i, name in enumerate(spec.outputs)
        )
        return Node(spec, path, component=comp, args=args, inboxes=inboxes, outputs=outputs)

    # -- running ---------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start the children in order, report started, then supervise until stopped.

        Raises :class:`StartFailed` if a child fails to start, :class:`Escalation` once
        restarts pass the intensity; either way the children are stopped first, in
        reverse order.
        """
        if self.running:
            raise SupervisionError(f"{self.path} is already running")
        send, receive = trio.open_memory_channel[_Event](math.inf)
        self._events, self._window = send, deque()
        self.running, self.started_at = True, trio.current_time()
        failure: SupervisionError | None = None
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    await self._start_all()
                    task_status.started()
                    await self._loop(receive)
                except SupervisionError as exc:
                    failure = exc
                finally:
                    await self._stop_all()
                    send.close()
                    self._fail_pending(receive)
                    receive.close()
        finally:
            self.running, self._nursery, self._events = False, None, None
        if failure is not None:
            raise failure

    async def _start_all(self) -> None:
        self._starting_all = True
        try:
            for node in list(self.nodes):
                await self._start_node(node)
        finally:
            self._starting_all = False

    async def _loop(self, events: trio.MemoryReceiveChannel[_Event]) -> None:
        while True:
            deadline = min(
                (n.restart_at for n in self.nodes if n.restart_at is not None), default=math.inf
            )
            event: _Event | None = None
            with trio.move_on_at(deadline):
                event = await events.receive()
            if event is None:
                await self._start_due()
            elif isinstance(event, _Exited):
                await self._on_exit(event.node, event.instance)
            elif isinstance(event, _Command):
                try:
                    event.result = await event.run()
                except Exception as exc:
                    event.error = exc
                finally:
                    event.done.set()
            else:
                await self._drain_and_stop(event.deadline)
                return

    def _fail_pending(self, events: trio.MemoryReceiveChannel[_Event]) -> None:
        while True:
            try:
                event = events.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel):
                return
            if isinstance(event, _Command):
                event.error = SupervisionError(f"{self.path} stopped before doing this")
                event.done.set()

    # -- one child -------------------------------------------------------------------------

    async def _start_node(self, node: Node) -> None:
        assert self._nursery is not None
        node.starts += 1
        instance = Instance(node.starts)
        node.instance, node.state, node.restart_at = instance, NodeState.STARTING, None
        try:
            await self._nursery.start(run_instance, self, node, instance, self._report_exit)
        except StartFailed as exc:
            if node.instance is instance:
                node.instance = None
            node.state, node.last_error = NodeState.FAILED, str(exc)
            log.warning("%s", exc)
            if self._starting_all:
                raise
            await self._after_end(node, failed=True, uptime=0.0)

    def _report_exit(self, node: Node, instance: Instance) -> None:
        if self._events is not None:
            with contextlib.suppress(trio.ClosedResourceError):
                self._events.send_nowait(_Exited(node, instance))

    async def _on_exit(self, node: Node, instance: Instance) -> None:
        if node.instance is not instance or instance.stopping:
            return  # stale: this instance was stopped or replaced on purpose
        node.instance = None
        failed = instance.error is not None or instance.killed
        uptime = trio.current_time() - node.started_at if node.started_at is not None else 0.0
        if instance.error is not None:
            node.last_error = describe(instance.error)
        elif instance.killed:
            node.last_error = "killed"
        node.state = NodeState.FAILED if failed else NodeState.EXITED
        if instance.error is not None:
            log.warning("%s failed: %s", node.path, node.last_error)
        elif instance.killed:
            log.info("%s was killed", node.path)
        await self._after_end(node, failed=failed, uptime=uptime)

    async def _after_end(self, node: Node, *, failed: bool, uptime: float) -> None:
        restart = node.spec.restart
        if restart is RestartType.TEMPORARY or (restart is RestartType.TRANSIENT and not failed):
            if self.spec.strategy is Strategy.DYNAMIC and restart is RestartType.TEMPORARY:
                self._forget(node)
            return
        self._count_restart(node)
        backoff = self.spec.backoff
        if uptime >= backoff.reset_after:
            node.consecutive = 0
        node.consecutive += 1
        delay = backoff.delay(node.consecutive, self.rng.random())
        group = self._group(node)
        for other in reversed(group):
            if other is not node:
                await self._stop_node(other)
        restart_at = trio.current_time() + delay
        for member in group:
            if member is not node and member.spec.restart is RestartType.TEMPORARY:
                continue
            member.state, member.restart_at = NodeState.BACKOFF, restart_at
            member.restarts += 1
        if delay <= 0 and not self._starting_due:
            await self._start_due()  # no backoff: restart now rather than on the next turn

    def _group(self, node: Node) -> list[Node]:
        """The children that restart with ``node``, in start order."""
        strategy = self.spec.strategy
        if strategy is Strategy.ONE_FOR_ALL:
            return list(self.nodes)
        if strategy is Strategy.REST_FOR_ONE:
            return self.nodes[self.nodes.index(node) :]
        return [node]

    def _count_restart(self, node: Node) -> None:
        now = trio.current_time()
        intensity = self.spec.intensity
        window = self._window
        window.append(now)
        while window and window[0] <= now - intensity.period:
            window.popleft()
        self.total_restarts += 1
        if len(window) > intensity.max_restarts:
            raise Escalation(
                f"{self.path}: {len(window)} restarts within {intensity.period:g}s, more than "
                f"the {intensity.max_restarts} allowed; last: {node.path}: {node.last_error}"
            )

    async def _start_due(self) -> None:
        # A start that fails schedules a restart (see _after_end); the guard keeps that
        # from recursing back into here, the loop picks it up instead.
        self._starting_due = True
        try:
            ordered = self.spec.strategy in (Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE)
            now = trio.current_time()
            for node in list(self.nodes):
                if node.state is not NodeState.BACKOFF or node.restart_at is None:
                    continue
                if node.restart_at > now:
                    if ordered:
                        return  # a later child waits for the earlier ones
                    continue
                await self._start_node(node)
        finally:
            self._starting_due = False

    async def _stop_node(self, node: Node) -> None:
        """Cancel the node's task and wait (bounded) until it is gone."""
        node.restart_at = None
        instance = node.instance
        if instance is None:
            if node.state in (NodeState.BACKOFF, NodeState.STARTING):
                node.state = NodeState.STOPPED
            return
        instance.stopping = True
        node.state = NodeState.STOPPING
        instance.scope.cancel()
        timeout = node.spec.shutdown_timeout
        with trio.move_on_after(timeout, shield=True):
            await instance.done.wait()
        if not instance.done.is_set():
            node.last_error = f"did not stop within {timeout:g}s of being cancelled"
            log.error("%s %s", node.path, node.last_error)
        node.instance = None
        node.state = NodeState.STOPPED

    async def _stop_all(self) -> None:
        # First bound every child's shield in time: the child stopped k-th may stay until
        # the sum of the first k shutdown timeouts, even if this task never got to it.
        bound = trio.current_time()
        for node in reversed(self.nodes):
            bound += node.spec.shutdown_timeout
            if node.instance is not None:
                scope = node.instance.scope
                scope.deadline = min(scope.deadline, bound)
        for node in reversed(self.nodes):
            await self._stop_node(node)

    async def _drain_and_stop(self, deadline: float) -> None:
        """Stop in reverse start order, letting each worker empty its inputs first."""
        for node in reversed(self.nodes):
            instance = node.instance
            if instance is not None and node.sub is not None and node.sub.running:
                node.sub.request_stop(deadline)
                with trio.move_on_at(deadline + node.spec.shutdown_timeout):
                    await instance.done.wait()
            elif instance is not None:
                with trio.move_on_at(deadline):
                    for inbox in node.inboxes:
                        await inbox.wait_drained()
            await self._stop_node(node)

    def _forget(self, node: Node) -> None:
        for inbox in node.inboxes:
            inbox.give_back()
        self.nodes.remove(node)

    # -- requests from outside (control socket, dynamic children) -------------------------

    async def _call(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        if self._events is None:
            raise SupervisionError(f"{self.path} is not running")
        command = _Command(fn)
        try:
            self._events.send_nowait(command)
        except trio.ClosedResourceError:
            raise SupervisionError(f"{self.path} is stopping") from None
        await command.done.wait()
        if command.error is not None:
            raise command.error
        return command.result

    def request_stop(self, deadline: float | None = None) -> None:
        """Ask the loop to drain until ``deadline`` (Trio clock; now if omitted), stop the
        children in reverse order and return from :meth:`run`."""
        if self._events is not None:
            self._events.send_nowait(_Stop(trio.current_time() if deadline is None else deadline))

    def find(self, path: str) -> Node | Supervisor:
        """The node at ``path`` (the root's own path gives the root)."""
        if path == self.path:
            return self
        prefix = self.path + "/"
        if not path.startswith(prefix):
            raise NodeNotFound(f"no node {path!r}: paths start with {prefix!r}")
        sup: Supervisor = self
        node: Node | None = None
        for part in path[len(prefix) :].split("/"):
            node = next((n for n in sup.nodes if n.name == part), None)
            if node is None:
                names = ", ".join(n.path for n in sup.nodes) or "none"
                raise NodeNotFound(f"no node {path!r}; children of {sup.path}: {names}")
            if node.sub is not None:
                sup = node.sub
        assert node is not None
        return node

    def _owner(self, path: str) -> tuple[Supervisor, Node]:
        found = self.find(path)
        if isinstance(found, Supervisor):
            raise SupervisionError(f"{path} is the root; use stop to end the role")
        owner = self.find(path.rsplit("/", 1)[0])
        assert isinstance(owner, Node | Supervisor)
        sup = owner if isinstance(owner, Supervisor) else owner.sub
        assert sup is not None
        return sup, found

    def kill(self, path: str) -> None:
        """Cancel the node's task as a crash would end it: its supervisor sees a failure,
        its in-flight items go to the next instance."""
        _, node = self._owner(path)
        instance = node.instance
        if instance is None:
            raise SupervisionError(f"{path} is not running (it is {node.state})")
        instance.killed = True
        node.last_error = "killed"
        instance.scope.cancel()

    async def restart(self, path: str) -> None:
        """Stop the node gracefully and start it again at once (no backoff; an operator's
        restart does not count against the intensity)."""
        sup, node = self._owner(path)

        async def restart_node() -> None:
            await sup._stop_node(node)
            node.restarts += 1
            await sup._start_node(node)

        await sup._call(restart_node)

    async def add_child(self, spec: WorkerSpec | SupervisorSpec) -> Node:
        """Add and start a child of a ``dynamic`` supervisor; raises if it fails to start."""
        if self.spec.strategy is not Strategy.DYNAMIC:
            raise SupervisionError(f"{self.path} is {self.spec.strategy}, not dynamic")

        async def add() -> Node:
            self._check_new_name(spec.name, f"add_child({spec.name!r})")
            node = self._make_node(spec, f"add_child({spec.name!r})")
            self.nodes.append(node)
            self._starting_all = True
            try:
                await self._start_node(node)
            except StartFailed:
                self._forget(node)
                raise
            finally:
                self._starting_all = False
            return node

        node: Node = await self._call(add)
        return node

    async def remove_child(self, name: str) -> None:
        """Stop a child of a ``dynamic`` supervisor and forget it; what it had in flight
        goes back to the head of its channel."""
        if self.spec.strategy is not Strategy.DYNAMIC:
            raise SupervisionError(f"{self.path} is {self.spec.strategy}, not dynamic")

        async def remove() -> None:
            node = self.find(f"{self.path}/{name}")
            assert isinstance(node, Node)
            await self._stop_node(node)
            self._forget(node)

        await self._call(remove)

    # -- looking -------------------------------------------------------------------------

    def walk(self) -> list[Node]:
        """Every node below this supervisor, depth first, in start order."""
        out: list[Node] = []
        for node in self.nodes:
            out.append(node)
            if node.sub is not None:
                out.extend(node.sub.walk())
        return out

    def all_channels(self) -> list[Channel]:
        out = list(self.channels.values())
        for node in self.nodes:
            if node.sub is not None:
                out.extend(node.sub.all_channels())
        return out

    def snapshot(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": "supervisor",
            "state": "running" if self.running else "stopped",
            "restart": str(self.spec.restart),
            "restarts": self.total_restarts,
            "uptime": round(trio.current_time() - self.started_at, 3)
            if self.running and self.started_at is not None
            else 0.0,
            "last_error": None,
            "strategy": str(self.spec.strategy),
        }

    def tree(self) -> list[dict[str, Any]]:
        return [self.snapshot(), *(node.snapshot() for node in self.walk())]
