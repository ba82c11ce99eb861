"""/metrics: the tree's figures in Prometheus format, served by prometheus-client."""

from __future__ import annotations

import urllib.request

import pytest
import trio
import trio.testing
from prometheus_client import CollectorRegistry, generate_latest

from mdp._exceptions import ConfigError
from mdp.metrics import TreeCollector, parse_address, serve_metrics
from mdp.supervision import (
    Backoff,
    ChannelSpec,
    Context,
    MemoryDeadLetters,
    OverflowPolicy,
    Supervisor,
    SupervisorSpec,
)
from tests.supervision.conftest import worker


async def crashing(ctx: Context, *, task_status: trio.TaskStatus[None]) -> None:
    task_status.started()
    await ctx.inputs[0].receive()
    raise ValueError("poison")


def spec() -> SupervisorSpec:
    return SupervisorSpec(
        name="r",
        backoff=Backoff(initial=0.0),
        channels=(ChannelSpec(name="live", capacity=2, policy=OverflowPolicy.DROP_OLDEST),),
        children=(worker("w", crashing, inputs=["live"], max_attempts=1),),
    )


def scrape(sup: Supervisor) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TreeCollector(sup, "r"))
    return generate_latest(registry).decode()


async def test_restarts_channels_and_dead_letters_are_exported(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sup = Supervisor(spec(), dead_letters=MemoryDeadLetters())
    async with trio.open_nursery() as nursery:
        await nursery.start(sup.run)
        await sup.channels["live"].send_batch([1, 2, 3, 4])  # 2 dropped, then 2 poison
        await trio.sleep(1)
        text = scrape(sup)
        nursery.cancel_scope.cancel()
    assert 'mdp_node_restarts_total{path="r/w",role="r"} 2.0' in text
    assert 'mdp_node_up{path="r/w",role="r"} 1.0' in text
    assert 'mdp_channel_dropped_items_total{channel="r/live",role="r"} 2.0' in text
    assert 'mdp_channel_items_in_total{channel="r/live",role="r"} 4.0' in text
    assert 'mdp_channel_items_out_total{channel="r/live",role="r"} 2.0' in text
    assert 'mdp_channel_peak_depth{channel="r/live",role="r"} 2.0' in text
    assert 'mdp_channel_capacity{channel="r/live",role="r"} 2.0' in text
    assert 'mdp_channel_blocked_seconds_total{channel="r/live",role="r"} 0.0' in text
    assert 'mdp_dead_letters_total{role="r"} 2.0' in text


def fetch(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


async def test_served_over_http_on_loopback() -> None:
    sup = Supervisor(spec())
    server = serve_metrics(sup, "r", "127.0.0.1:0")
    try:
        assert server.port > 0
        content_type, body = await trio.to_thread.run_sync(fetch, server.url)
    finally:
        await server.aclose()
    assert content_type.startswith("text/plain")
    assert 'mdp_channel_depth{channel="r/live",role="r"} 0.0' in body


@pytest.mark.parametrize("address", ["9464", "localhost", ":9464", "host:port"])
def test_bad_addresses_are_config_errors(address: str) -> None:
    with pytest.raises(ConfigError, match="expected HOST:PORT"):
        parse_address(address)


def test_addresses() -> None:
    assert parse_address("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_address("[::1]:0") == ("::1", 0)
