"""The collector's supervision tree for a set of symbols, built in Python (what
``mdp collect binance`` runs; ``supervisors/collector-binance.toml`` is the same tree as
a role file).

Stream groups: spot ``trade``, ``depth@100ms`` and ``bookTicker`` on one connection; USD-M
split by route, ``/market`` for ``aggTrade``, ``markPrice@1s`` and ``forceOrder`` and
``/public`` for ``depth@100ms`` and ``bookTicker``. Every group is a worker of one
one_for_one supervisor and sends to its ``records`` channel, drained by ``binance.count``
until cleaning and Kafka plug in there.
"""

from __future__ import annotations

from typing import Any

from mdp.supervision import Backoff, ChannelSpec, Intensity, SupervisorSpec, WorkerSpec

__all__ = ["GROUPS", "collector_spec"]

GROUPS: dict[str, tuple[str, list[str]]] = {
    "spot": ("spot", ["trade", "depth@100ms", "bookTicker"]),
    "usdm-market": ("perpetual", ["aggTrade", "markPrice@1s", "forceOrder"]),
    "usdm-public": ("perpetual", ["depth@100ms", "bookTicker"]),
}


def collector_spec(
    symbols: list[str],
    *,
    markets: tuple[str, ...] = ("spot", "perpetual"),
    urls: dict[str, tuple[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    name: str = "collector-binance",
) -> SupervisorSpec:
    """``urls`` maps a market to (ws base, rest base); absent: Binance's own."""
    children: list[WorkerSpec | SupervisorSpec] = [
        _worker(name="count", component="binance.count", inputs=("records",))
    ]
    for group, (market, streams) in GROUPS.items():
        if market not in markets:
            continue
        args: dict[str, Any] = {"market": market, "symbols": symbols, "streams": streams}
        if urls and market in urls:
            args["ws_url"], args["rest_url"] = urls[market]
        args.update(extra or {})
        children.append(
            _worker(name=group, component="binance.streams", outputs=("records",), args=args)
        )
    # (keyword dicts: mypy's attrs plugin cannot type the specs' tuple converters)
    spec: dict[str, Any] = dict(
        name=name,
        intensity=Intensity(max_restarts=20, period=60.0),
        backoff=Backoff(initial=0.5, max=30.0, jitter=0.3),
        channels=(ChannelSpec(name="records", capacity=65536),),
        children=tuple(children),
    )
    return SupervisorSpec(**spec)


def _worker(**fields: Any) -> WorkerSpec:
    return WorkerSpec(**fields)
