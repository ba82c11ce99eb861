"""Role files: the shipped ones are valid; bad ones get errors naming file, key and choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdp._exceptions import ConfigError
from mdp.cli import main
from mdp.supervision import OverflowPolicy, Strategy, SupervisorSpec, WorkerSpec
from mdp.supervision._role import load_role
from mdp.supervision._runtime import build_tree

REPO = Path(__file__).resolve().parents[2]
TEST_ROLES = Path(__file__).parent / "roles"


@pytest.mark.parametrize(
    "path", [*sorted((REPO / "supervisors").glob("*.toml")), *sorted(TEST_ROLES.glob("*.toml"))]
)
def test_shipped_role_files_are_valid(path: Path) -> None:
    role = load_role(str(path))
    root = build_tree(role)
    assert root.path == path.stem
    assert root.walk()


def test_demo_role_is_source_two_stages_and_a_counting_sink() -> None:
    role = load_role("demo", REPO / "supervisors")
    sup = role.spec.supervisor
    assert sup.strategy is Strategy.REST_FOR_ONE
    sink, stages, source = sup.children
    assert isinstance(sink, WorkerSpec)
    assert sink.component == "demo.sink"
    assert isinstance(stages, SupervisorSpec)
    assert [c.component for c in stages.children if isinstance(c, WorkerSpec)] == ["demo.add"] * 2
    assert isinstance(source, WorkerSpec)
    assert source.component == "demo.counter"
    assert {c.policy for c in sup.channels} == {OverflowPolicy.BLOCK}


def write(tmp_path: Path, text: str, name: str = "r.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[supervisor]\nstrategy = "one_for_some"\n',
            "supervisor.strategy: 'one_for_some' is not a valid Strategy; expected one of "
            "'one_for_one', 'one_for_all', 'rest_for_one', 'dynamic'",
        ),
        (
            '[supervisor]\n[[supervisor.children]]\nname = "a"\ncomponent = "demo.add"\n'
            'restrat = "permanent"\n',
            "supervisor.children[0]: unknown key(s) restrat; allowed: a table with keys name, "
            "component, restart",
        ),
        (
            '[supervisor]\n[[supervisor.children]]\nname = "a"\n',
            "supervisor.children[0]: it has neither 'component' nor 'children'; expected a "
            "worker (a table with 'component') or a supervisor (with 'children')",
        ),
        (
            '[supervisor]\n[[supervisor.channels]]\nname = "c"\npolicy = "drop"\n',
            "supervisor.channels[0].policy: 'drop' is not a valid OverflowPolicy; expected one "
            "of 'block', 'drop_oldest'",
        ),
        (
            '[supervisor]\n[[supervisor.children]]\nname = "a"\ncomponent = "demo.nope"\n',
            # (the list goes on with whatever else is registered in this process)
            "supervisor.children[0].component: unknown component 'demo.nope'; registered: ",
        ),
        (
            '[supervisor]\n[[supervisor.children]]\nname = "a"\ncomponent = "demo.add"\n'
            'inputs = ["missing"]\n',
            "supervisor.children[0].inputs[0]: no channel 'missing' in r or above it",
        ),
        (
            '[supervisor]\nchannels = [{name = "x"}]\n[[supervisor.children]]\nname = "a"\n'
            'component = "demo.add"\ninputs = ["x"]\noutputs = ["x"]\nargs = { ad = 1 }\n',
            "supervisor.children[0].args: unknown argument(s) ad for 'demo.add'; allowed: add, "
            "batch",
        ),
        (
            '[supervisor]\n[[supervisor.children]]\nname = "a"\ncomponent = "demo.crash"\n'
            '[[supervisor.children]]\nname = "a"\ncomponent = "demo.crash"\n',
            "supervisor.children[1].name: r already has a child 'a'",
        ),
        (
            '[supervisor]\nname = "other"\n',
            "supervisor.name: the root supervisor is named after the role ('r'), got 'other'",
        ),
        ("[run]\ndrain_timeout = 'soon'\n[supervisor]\n", "run.drain_timeout: could not convert"),
        ("[supervisor\n", "not valid TOML"),
        (
            '[run]\nimports = ["mdp.no_such_module"]\n[supervisor]\n',
            "run.imports[0]: cannot import 'mdp.no_such_module'",
        ),
    ],
)
def test_bad_role_files_name_file_key_and_what_is_allowed(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        build_tree(load_role(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_a_missing_role_lists_the_roles_there(tmp_path: Path) -> None:
    write(tmp_path, "[supervisor]\n", "alpha.toml")
    with pytest.raises(ConfigError, match=r"no such role file; roles in .*: alpha"):
        load_role("beta", tmp_path)


def test_mdp_run_check_validates_without_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["run", "--check", "--roles-dir", str(REPO / "supervisors"), "demo"]) == 0
    assert "demo.toml: ok: 2 supervisors, 4 workers, 3 channels" in capsys.readouterr().out
    bad = write(tmp_path, '[supervisor]\nstrategy = "nope"\n')
    assert main(["run", "--check", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mdp run: {bad}: supervisor.strategy: 'nope' is not a valid Strategy")


def test_imports_register_components_and_dynamic_supervisors_need_no_children(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        '[run]\nimports = ["tests.supervision.conftest"]\n[supervisor]\n'
        '[[supervisor.children]]\nname = "symbols"\nstrategy = "dynamic"\n',
    )
    root = build_tree(load_role(path))
    (symbols,) = root.walk()
    assert symbols.sub is not None
    assert symbols.sub.spec.strategy is Strategy.DYNAMIC


def test_an_unknown_component_error_lists_the_registered_ones(tmp_path: Path) -> None:
    path = write(tmp_path, '[supervisor]\n[[supervisor.children]]\nname = "a"\ncomponent = "x"\n')
    with pytest.raises(ConfigError) as caught:
        build_tree(load_role(path))
    listed = str(caught.value).split("registered: ", 1)[1].split(", ")
    assert {"demo.add", "demo.counter", "demo.crash", "demo.sink"} <= set(listed)
    assert listed == sorted(listed)
