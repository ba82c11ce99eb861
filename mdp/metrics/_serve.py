"""Serving ``/metrics`` with prometheus-client's own HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs
import trio
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.registry import Collector

from mdp._exceptions import ConfigError
from mdp.metrics._tree import TreeCollector
from mdp.supervision import Supervisor

__all__ = ["MetricsServer", "parse_address", "register_collector", "serve_metrics"]

CollectorFactory = Callable[[Supervisor, str], Collector]
_factories: list[CollectorFactory] = []


def register_collector(factory: CollectorFactory) -> CollectorFactory:
    """Have every role's ``/metrics`` include ``factory(root, role)`` as well: the way a
    layer (cleaning, bus, sinks) exports the figures its workers keep in their nodes."""
    if factory not in _factories:
        _factories.append(factory)
    return factory


def parse_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:9464"`` → ``("127.0.0.1", 9464)``; port 0 picks a free one."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError(f"metrics address {address!r}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    return host.strip("[]"), int(port)


@attrs.define
class MetricsServer:
    """A running /metrics endpoint; ``aclose`` stops it."""

    host: str
    port: int
    _server: Any
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    async def aclose(self) -> None:
        # shutdown() waits for the serving thread's poll loop; keep that off the Trio loop.
        await trio.to_thread.run_sync(self._server.shutdown)
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics(root: Supervisor, role: str, address: str) -> MetricsServer:
    """Start serving ``root``'s metrics (and only those) at ``address``."""
    host, port = parse_address(address)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TreeCollector(root, role))
    for factory in _factories:
        registry.register(factory(root, role))
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigError(f"metrics address {address}: cannot listen: {exc.strerror}") from None
    return MetricsServer(host, server.server_address[1], server, thread)
