from __future__ import annotations

import io
from pathlib import Path

from benchmarks.dedup import CASES, SCENARIOS, _edit, first_version
from benchmarks.goals import Figures, evaluate
from benchmarks.scenario import QUICK, Ctx, Results, Runner, Scenario, Step
from benchmarks.tools import PV, Tool


def test_first_versions_are_chunkable_and_deterministic() -> None:
    binary = first_version("W13-overwrite", QUICK.big_file)
    assert len(binary) == 8 << 20 and binary == first_version("W13-insert", QUICK.big_file)
    csv = first_version("W13-append", QUICK.big_file)
    assert len(csv) >= 8 << 20 and csv.count(b"\n") > 100_000 and csv.endswith(b"\n")


def test_edits_are_the_issues() -> None:
    v1 = first_version("W13-overwrite", QUICK.big_file)
    v2 = _edit("W13-overwrite", v1)
    assert len(v2) == len(v1)
    changed = sum(a != b for a, b in zip(v1[::97], v2[::97])) / len(v1[::97])
    assert 0.07 < changed <= 0.1  # 10 runs of 1%, some may overlap
    inserted = _edit("W13-insert", v1)
    assert len(inserted) == len(v1) + (1 << 20)
    assert inserted[:4096] == v1[:4096] and inserted[4096 + (1 << 20):] == v1[4096:]
    csv = first_version("W13-append", QUICK.big_file)
    appended = _edit("W13-append", csv)
    assert appended.startswith(csv)
    assert appended.count(b"\n") == csv.count(b"\n") + csv.count(b"\n") // 100
    assert _edit("W13-insert", v1) == inserted  # seeded


def test_every_case_reports_growth_sent_pull_and_clone_with_goals() -> None:
    for case, scenario in zip(CASES, SCENARIOS):
        ids = [step.id for step in scenario.steps]
        assert ids == [case, f"{case}-sent", f"{case}-pull", f"{case}-clone"]
        assert scenario.needs_s3 and all(step.unit == "%" for step in scenario.steps)
    within = Figures(pv=1.4, pv_rss_mb=None, ratio=0.014, multiple=None)
    assert evaluate("W13-insert-pull", within)[1] == "PASS"
    assert evaluate("W13-insert-sent", Figures(2.5, None, None, None))[1] == "MISS"
    assert evaluate("W13-overwrite", Figures(14.0, None, None, None))[1] == "PASS*"
    assert evaluate("W1-push-ratio", Figures(1.25, None, None, None))[1] == "MISS"


def test_a_failed_check_is_an_error_on_its_step_and_a_number_is_kept(tmp_path: Path) -> None:
    def body(ctx: Ctx) -> None:
        ctx.record("X", 1.5, requests=3)
        ctx.fail("X-clone", "model.bin pulled by `pv pull` differs")

    steps = (Step("X", "growth", unit="%"), Step("X-clone", "clone", unit="%"), Step("X-after", "never"))
    results: Results = {}
    Runner([Tool(PV, tmp_path / "pv")], QUICK, results, io.StringIO(), tmp_path).run(
        Scenario("X", steps, body, requires=(), max_reps=1)
    )
    assert results[("X", "pv")].values == [1.5] and results[("X", "pv")].requests == [3]
    assert results[("X-clone", "pv")].error == "error: model.bin pulled by `pv pull` differs"
    assert results[("X-after", "pv")].error == "error: not run, `X-clone` failed"
