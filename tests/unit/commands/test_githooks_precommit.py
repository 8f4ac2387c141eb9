from __future__ import annotations

from collections.abc import Sequence

from pipever.commands.githooks.precommit import Severity, classify
from pipever.pipeline.status import Change, StageStatus


def _one(entries: dict[str, Sequence[object]]) -> tuple[Severity, str]:
    (problem,) = classify(entries)
    return problem.severity, problem.render()


def test_modified_data_needs_pv_commit() -> None:
    assert _one({"data.csv.pv": [{"changed outs": {"data.csv": "modified"}}]}) == (
        Severity.ERROR,
        "'data.csv' changed but the change is not recorded in 'data.csv.pv' — run 'pv commit data.csv.pv' "
        "(or 'pv checkout data.csv.pv' to restore the recorded version)",
    )


def test_missing_or_uncached_data_only_warns() -> None:
    problems = classify({"a.pv": [{"changed outs": {"a": "deleted"}}], "b.pv": [{"changed outs": {"b": "not in cache"}}]})
    assert [p.severity for p in problems] == [Severity.WARNING, Severity.WARNING]
    assert problems[1].render() == "'b' is not in cache — run 'pv commit b.pv' to store it in the cache"


def test_stage_with_changed_inputs_needs_pv_repro() -> None:
    status = StageStatus("train", changed_cmd=True, deps={"data.csv": Change.MODIFIED},
                         params={"params.yaml": {"lr": Change.MODIFIED}}, outs={"model.pkl": Change.MODIFIED})
    assert _one({"train": status.reasons()}) == (
        Severity.ERROR,
        "stage 'train' is stale (changed cmd; changed deps 'data.csv'; changed params 'params.yaml') — run 'pv repro train'",
    )
    assert _one({"prep": StageStatus("prep", never_run=True).reasons()}) == (
        Severity.ERROR, "stage 'prep' is stale (never run) — run 'pv repro prep'")


def test_stage_with_only_edited_outputs_needs_pv_commit() -> None:
    status = StageStatus("train", outs={"model.pkl": Change.MODIFIED})
    severity, text = _one({"train": status.reasons()})
    assert severity is Severity.ERROR
    assert text.endswith("— run 'pv commit train' to record them (or 'pv repro -f train' to regenerate them)")


def test_always_changed_and_missing_outputs_do_not_block() -> None:
    assert classify({"s": StageStatus("s", always_changed=True).reasons()}) == []
    problems = classify({"s": StageStatus("s", outs={"o": Change.DELETED, "p": Change.NOT_IN_CACHE}).reasons()})
    assert [p.severity for p in problems] == [Severity.WARNING, Severity.WARNING]


def test_errors_come_first() -> None:
    problems = classify({"a.pv": [{"changed outs": {"a": "deleted"}}], "z.pv": [{"changed outs": {"z": "modified"}}]})
    assert [p.subject for p in problems] == ["z.pv", "a.pv"]
