"""One role as one process: the root supervisor plus what systemd and operators talk to.

``mdp run <role>`` calls :func:`run_role`: it builds the tree from the role file, binds the
control socket, serves ``/metrics`` if configured, reports ``READY=1`` once every child
has started, pings the watchdog from the Trio loop, and turns SIGTERM/SIGINT (or a
``stop`` request) into a bounded graceful drain. It returns the process exit code: 0 after
a clean stop, 1 when the root supervisor gave up, so that systemd restarts the role.
"""

from __future__ import annotations

import gc
import importlib
import logging
import random
import signal
from collections.abc import Callable
from pathlib import Path

import attrs
import trio

from mdp._exceptions import ConfigError, MdpError, SupervisionError
from mdp.control import ControlServer, socket_path
from mdp.metrics import MetricsServer, serve_metrics
from mdp.supervision._deadletter import JsonLinesDeadLetters
from mdp.supervision._node import NodeState
from mdp.supervision._notify import Notifier, watchdog_interval
from mdp.supervision._role import Role
from mdp.supervision._supervisor import Supervisor

__all__ = ["RunningRole", "build_tree", "run_role"]

log = logging.getLogger("mdp.run")

# After the drain bound, this long again for the reverse-order stop before giving up.
_STOP_GRACE = 5.0


@attrs.frozen
class RunningRole:
    """What :func:`run_role` reports once the tree is up (for in-process callers)."""

    root: Supervisor
    control_socket: Path
    metrics_url: str | None


def build_tree(role: Role, *, rng: random.Random | None = None) -> Supervisor:
    """The role's root supervisor, fully checked (``mdp run --check`` stops here)."""
    for i, module in enumerate(role.spec.run.imports):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(
                f"{role.source}: run.imports[{i}]: cannot import {module!r}: {exc}"
            ) from None
    dead = Path(str(role.spec.run.dead_letters).replace("{role}", role.name))
    return Supervisor(
        role.spec.supervisor,
        dead_letters=JsonLinesDeadLetters(dead),
        rng=rng,
        source=str(role.source),
    )


def _status(root: Supervisor) -> str:
    nodes = root.walk()
    up = sum(1 for n in nodes if n.state is NodeState.RUNNING)
    restarts = sum(n.restarts for n in nodes)
    return (
        f"running: {up}/{len(nodes)} nodes up, {restarts} restarts, "
        f"{root.dead_letters.count} dead letters"
    )


_GC_THRESHOLDS = (50_000, 20, 100)


class _ReportReady:
    """The root's ``task_status``: READY=1 the moment the whole tree has started."""

    def __init__(
        self, on_ready: trio.Event, notifier: Notifier, root: Supervisor, freeze: bool
    ) -> None:
        self._on_ready, self._notifier, self._root = on_ready, notifier, root
        self._freeze = freeze

    def started(self, value: object = None) -> None:
        if self._freeze:
            # What start-up made (modules, configuration, the tree) lives as long as the
            # role: out of the collector's reach, a full collection no longer walks it (a
            # pause of 25–46 ms otherwise: docs/benchmarks.md, "Kafka bus").
            gc.freeze()
            # Records are acyclic and live milliseconds, but thousands sit in the channels
            # at once: with the default gen-0 threshold (700) each is walked while it waits,
            # promoted, walked again, and full collections of 57–137 ms came twice a
            # second in the collector role (about 9 % of its CPU; docs/benchmarks.md,
            # "Collector role end to end"). At 50,000 most records are gone before a
            # collection looks. Cycles (tracebacks, Trio's tasks) are still collected.
            gc.set_threshold(*_GC_THRESHOLDS)
        self._notifier.ready(_status(self._root))
        self._on_ready.set()


async def run_role(
    role: Role,
    *,
    control_dir: Path | None = None,
    metrics: str | None = None,
    drain_timeout: float | None = None,
    notifier: Notifier | None = None,
    handle_signals: bool = True,
    rng: random.Random | None = None,
    freeze_gc: bool = False,
    task_status: trio.TaskStatus[RunningRole] = trio.TASK_STATUS_IGNORED,
) -> int:
    """Run ``role`` until it is stopped or its root gives up; returns the exit code.
    ``freeze_gc``: ``gc.freeze()`` once the tree is up (``mdp run``, a process of its own).

    An :class:`MdpError` while setting up (the control socket is taken, the metrics port
    is in use) is raised as itself, not inside an exception group, so that ``mdp run``
    can print it as one line.
    """
    notifier = notifier if notifier is not None else Notifier()
    root = build_tree(role, rng=rng)
    try:
        failure = await _supervise(
            role,
            root,
            notifier,
            control_dir,
            metrics,
            drain_timeout,
            handle_signals,
            task_status,
            freeze_gc=freeze_gc,
        )
    except BaseExceptionGroup as group:
        mdp_errors, rest = group.split(MdpError)
        if mdp_errors is None or rest is not None:
            raise
        raise _first_leaf(mdp_errors) from None
    if failure is not None:
        log.error("%s: the root supervisor gave up: %s", role.name, failure)
        notifier.stopping(f"failed: {failure}")
        return 1
    log.info("%s: stopped", role.name)
    return 0


def _first_leaf(group: BaseExceptionGroup[MdpError]) -> MdpError:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    assert isinstance(error, MdpError)
    return error


async def _supervise(
    role: Role,
    root: Supervisor,
    notifier: Notifier,
    control_dir: Path | None,
    metrics: str | None,
    drain_timeout: float | None,
    handle_signals: bool,
    task_status: trio.TaskStatus[RunningRole],
    *,
    freeze_gc: bool,
) -> SupervisionError | None:
    run = role.spec.run
    drain = run.drain_timeout if drain_timeout is None else drain_timeout
    address = run.metrics if metrics is None else metrics
    stopping = False
    metrics_server: MetricsServer | None = None
    failure: SupervisionError | None = None

    def extra_stats() -> dict[str, object]:
        return {"metrics": metrics_server.url if metrics_server else None, "stopping": stopping}

    async with trio.open_nursery() as nursery:

        def request_stop() -> None:
            nonlocal stopping
            if stopping:
                return
            stopping = True
            log.info("%s: stopping, draining for up to %gs", role.name, drain)
            notifier.stopping(f"stopping: draining for up to {drain:g}s")
            root.request_stop(trio.current_time() + drain)
            nursery.start_soon(_hard_stop_after, drain + _STOP_GRACE, nursery.cancel_scope)

        control = ControlServer(root, on_stop=request_stop, extra_stats=extra_stats)
        sock = await nursery.start(
            control.serve, socket_path(role.name, control_dir or run.control_dir)
        )
        if address:
            metrics_server = serve_metrics(root, role.name, address)
            log.info("%s: metrics on %s", role.name, metrics_server.url)
        if handle_signals:
            await nursery.start(_on_signals, request_stop, nursery.cancel_scope)
        interval = watchdog_interval()
        if interval is not None and notifier.enabled:
            nursery.start_soon(notifier.ping_watchdog, interval)
        ready = trio.Event()
        nursery.start_soon(_report_status, ready, notifier, root, lambda: stopping)

        async def announce() -> None:
            await ready.wait()
            log.info("%s: up; control socket %s", role.name, sock)
            task_status.started(
                RunningRole(root, sock, metrics_server.url if metrics_server else None)
            )

        nursery.start_soon(announce)
        try:
            await root.run(task_status=_ReportReady(ready, notifier, root, freeze_gc))
        except SupervisionError as exc:
            failure = exc
        finally:
            nursery.cancel_scope.cancel()
            for channel in root.all_channels():  # every worker is gone: nobody uses them
                channel.close()
            if metrics_server is not None:
                with trio.move_on_after(2, shield=True):
                    await metrics_server.aclose()
    return failure


async def _on_signals(
    request_stop: Callable[[], None],
    cancel_scope: trio.CancelScope,
    *,
    task_status: trio.TaskStatus[None],
) -> None:
    """First SIGTERM/SIGINT: graceful drain. Second: stop now."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        task_status.started()
        first = True
        async for signum in signals:
            if first:
                log.info("got %s", signal.Signals(signum).name)
                request_stop()
                first = False
            else:
                log.warning("got %s again: stopping without draining", signal.Signals(signum).name)
                cancel_scope.cancel()


async def _hard_stop_after(seconds: float, cancel_scope: trio.CancelScope) -> None:
    await trio.sleep(seconds)
    log.error("the graceful stop took more than %gs; cancelling what is left", seconds)
    cancel_scope.cancel()


async def _report_status(
    ready: trio.Event, notifier: Notifier, root: Supervisor, stopping: Callable[[], bool]
) -> None:
    """STATUS= whenever the summary changes (checked once a second)."""
    await ready.wait()
    last = ""
    while True:
        status = _status(root)
        if stopping():
            status = "stopping; " + status
        if status != last:
            notifier.status(status)
            last = status
        await trio.sleep(1)
