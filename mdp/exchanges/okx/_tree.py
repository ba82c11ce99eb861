"""The OKX collector's supervision tree for a set of instIds, built in Python (what
``mdp collect okx`` runs; ``supervisors/collector-okx.toml`` is the same tree as a role
file): one group per instrument type on the public endpoint, SPOT with ``trades``,
``books`` and ``bbo-tbt``, SWAP with those plus ``funding-rate`` and
``liquidation-orders``, all sending to one ``records`` channel drained by ``okx.count``.
"""

from __future__ import annotations

from typing import Any

from mdp.supervision import Backoff, ChannelSpec, Intensity, SupervisorSpec, WorkerSpec

__all__ = ["CHANNELS", "collector_spec", "split_symbols"]

CHANNELS: dict[str, list[str]] = {
    "SPOT": ["trades", "books", "bbo-tbt"],
    "SWAP": ["trades", "books", "bbo-tbt", "funding-rate", "liquidation-orders"],
}


def split_symbols(symbols: list[str]) -> dict[str, list[str]]:
    """instIds by instrument type (``-SWAP`` ends a SWAP's)."""
    out: dict[str, list[str]] = {}
    for s in symbols:
        out.setdefault("SWAP" if s.endswith("-SWAP") else "SPOT", []).append(s)
    return out


def collector_spec(
    symbols: list[str],
    *,
    urls: tuple[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    name: str = "collector-okx",
) -> SupervisorSpec:
    """``urls`` is (ws endpoint, rest base); absent: OKX's own."""
    children: list[WorkerSpec | SupervisorSpec] = [
        WorkerSpec(name="count", component="okx.count", inputs=("records",))  # type: ignore[arg-type]
    ]
    for inst_type, names in split_symbols(symbols).items():
        args: dict[str, Any] = {
            "inst_type": inst_type,
            "symbols": names,
            "channels": CHANNELS[inst_type],
        }
        if urls:
            args["ws_url"], args["rest_url"] = urls
        args.update(extra or {})
        children.append(
            WorkerSpec(
                name=inst_type.lower(),
                component="okx.streams",
                outputs=("records",),  # type: ignore[arg-type]
                args=args,
            )
        )
    spec: dict[str, Any] = dict(
        name=name,
        intensity=Intensity(max_restarts=20, period=60.0),
        backoff=Backoff(initial=0.5, max=30.0, jitter=0.3),
        channels=(ChannelSpec(name="records", capacity=65536),),
        children=tuple(children),
    )
    return SupervisorSpec(**spec)
