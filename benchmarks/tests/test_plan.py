from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.pipelines import fan_pipeline, trivial_pipeline
from benchmarks.run import ALL_SCENARIOS, select
from benchmarks.tools import DVC, PV, Tool


def test_every_goal_step_belongs_to_a_scenario() -> None:
    from benchmarks.goals import GOALS

    ids = [step.id for scenario in ALL_SCENARIOS for step in scenario.steps]
    assert len(ids) == len(set(ids))
    assert set(GOALS) <= set(ids)


def test_select_by_id_prefix() -> None:
    assert [s.name for s in select(ALL_SCENARIOS, "W1")] == ["W1", "W1-push"]
    assert [s.name for s in select(ALL_SCENARIOS, "W1-push")] == ["W1-push"]
    assert [s.name for s in select(ALL_SCENARIOS, "W13")] == ["W13-overwrite", "W13-insert", "W13-append"]
    assert [s.name for s in select(ALL_SCENARIOS, "w3,W9")] == ["W2-W5", "W9"]
    assert len(select(ALL_SCENARIOS, "W8")) == 2
    assert select(ALL_SCENARIOS, None) == list(ALL_SCENARIOS)


def test_pipelines_parse_as_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    fan = yaml.safe_load(fan_pipeline(1.0))["stages"]
    assert len(fan) == 8
    assert fan["final"]["deps"] == ["merge_a.out", "merge_b.out"]
    assert fan["w3"]["cmd"] == "sleep 1 && cat prep.out in/w3.txt > w3.out"
    trivial = yaml.safe_load(trivial_pipeline(100))["stages"]
    assert len(trivial) == 100 and trivial["s007"]["outs"] == ["outs/s007.txt"]


def test_tool_spelling(tmp_path: Path) -> None:
    pv = Tool(PV, tmp_path / "pv")
    assert pv.argv("add", "x") == [str(tmp_path / "pv"), "add", "x"]
    assert PV.pipeline_file == "pv.yaml" and DVC.pipeline_file == "dvc.yaml"
    assert DVC.endpoint_option == "endpointurl"
    assert pv.missing(("init",), {"PATH": ""}) == "skipped: pv has no `init` command yet"


def test_many_file_runs_keep_their_temp_dirs_until_the_end_of_the_run(tmp_path: Path) -> None:
    """Deleting tens of thousands of files slows the next file creations on a journal-less ext4
    for minutes; those temp dirs go when the run ends, others after each repetition."""
    import io

    from benchmarks.scenario import QUICK, Ctx, Results, Runner, Scenario, Step

    roots: list[Path] = []

    def body(ctx: Ctx) -> None:
        roots.append(ctx.root)
        ctx.record(next(iter(ctx.steps)), 1.0)

    runner = Runner([Tool(PV, tmp_path / "pv")], QUICK, {}, io.StringIO(), tmp_path)
    runner.run(Scenario("few", (Step("F", "few files"),), body, requires=(), max_reps=2))
    assert len(roots) == 2 and not any(r.exists() for r in roots)
    runner.run(Scenario("many", (Step("M", "many files"),), body, requires=(), max_reps=2, many_files=True))
    assert len(roots) == 4 and all(r.exists() for r in roots[2:])
    runner.cleanup()
    assert not any(r.exists() for r in roots)


def test_tools_run_with_bytecode_files_as_users_have_them() -> None:
    from benchmarks.sandbox import isolated_env

    env = isolated_env(Path("/h"), {"PYTHONDONTWRITEBYTECODE": "1", "PV_X": "1", "PATH": "/bin"})
    assert "PYTHONDONTWRITEBYTECODE" not in env and "PV_X" not in env and env["PATH"] == "/bin"
