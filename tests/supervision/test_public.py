"""The public surface of the supervision runtime; a change here is a change users see."""

from __future__ import annotations

import mdp.control
import mdp.metrics
import mdp.supervision


def test_supervision_surface() -> None:
    assert sorted(mdp.supervision.__all__) == [
        "Backoff", "Channel", "ChannelSpec", "ChannelStats", "ChildSpec", "Component",
        "ComponentFn", "Context", "DeadLetterStore", "Inbox", "Intensity",
        "JsonLinesDeadLetters", "MemoryDeadLetters", "Node", "NodeState", "OverflowPolicy",
        "RestartType", "Strategy", "Supervisor", "SupervisorSpec", "WorkerSpec", "component",
        "lookup", "registered",
    ]  # fmt: skip


def test_control_and_metrics_surface() -> None:
    assert sorted(mdp.control.__all__) == [
        "COMMANDS", "ControlClient", "ControlServer", "MAX_LINE", "socket_path",
    ]  # fmt: skip
    assert sorted(mdp.metrics.__all__) == [
        "MetricsServer", "TreeCollector", "parse_address", "register_collector", "serve_metrics",
    ]  # fmt: skip
    for module in (mdp.supervision, mdp.control, mdp.metrics):
        for name in module.__all__:
            assert getattr(module, name).__doc__ or name.isupper() or name == "ChildSpec", name
