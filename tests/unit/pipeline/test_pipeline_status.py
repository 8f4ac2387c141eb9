"""Staleness of a stage against its pv.lock entry, in pv status words."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipever.objects.oid import Oid
from pipever.pipeline.lockfile import LockedPath, LockEntry
from pipever.pipeline.stage import Out, ParamDep, Stage
from pipever.pipeline.status import Change, StageStatus, report, stage_status

A, B, C = Oid("a" * 64), Oid("b" * 64), Oid("c" * 64)

STAGE = Stage(
    name="train",
    cmd=("python train.py",),
    deps=("data", "train.py"),
    params=(ParamDep("params.yaml", ("train.lr", "train.epochs")), ParamDep("all.json", None)),
    outs=(Out("model.pkl"), Out("logs", cache=False)),
)
ENTRY = LockEntry(
    cmd="python train.py",
    deps=(LockedPath("data", A, 10, 2), LockedPath("train.py", B, 5)),
    params={"params.yaml": {"train.lr": 0.1, "train.epochs": 10}, "all.json": {"a": 1}},
    outs=(LockedPath("model.pkl", C, 7), LockedPath("logs", A, 1)),
)
DEPS: dict[str, Oid | None] = {"data": A, "train.py": B}
OUTS: dict[str, Oid | None] = {"model.pkl": C, "logs": A}
PARAMS: dict[str, dict[str, Any]] = {"params.yaml": {"train.lr": 0.1, "train.epochs": 10}, "all.json": {"a": 1}}


def status(stage: Stage = STAGE, entry: LockEntry | None = ENTRY, **changes: Any) -> StageStatus:
    args: dict[str, Any] = {"deps": DEPS, "outs": OUTS, "params": PARAMS, **changes}
    return stage_status(stage, entry, **args)


def test_up_to_date() -> None:
    s = status()
    assert s.clean and not s.stale and s.reasons() == []
    assert report([s]) == {}


def test_never_run() -> None:
    s = status(entry=None)
    assert s.stale and s.reasons() == ["never run"]
    assert report([s]) == {"train": ["never run"]}


def test_changed_cmd() -> None:
    s = status(replace(STAGE, cmd=("python train.py --fast",)))
    assert s.changed_cmd and s.reasons() == ["changed cmd"]


def test_cmd_list_matches_lock_list() -> None:
    stage = replace(STAGE, cmd=("a", "b"), cmd_is_list=True)
    assert status(stage, replace(ENTRY, cmd=("a", "b"))).clean
    assert status(stage, replace(ENTRY, cmd="a b")).changed_cmd


def test_changed_deps() -> None:
    stage = replace(STAGE, deps=("data", "train.py", "extra.csv"))
    s = status(stage, deps={"data": C, "extra.csv": A})
    assert s.deps == {"data": Change.MODIFIED, "train.py": Change.DELETED, "extra.csv": Change.NEW}
    assert s.reasons() == [{"changed deps": {"data": "modified", "train.py": "deleted", "extra.csv": "new"}}]


def test_dep_no_longer_declared_counts_as_deleted() -> None:
    assert status(replace(STAGE, deps=("data",))).deps == {"train.py": Change.DELETED}


def test_changed_params() -> None:
    s = status(params={"params.yaml": {"train.lr": 0.2}, "all.json": {"a": 1, "b": 2}})
    assert s.params == {
        "params.yaml": {"train.lr": Change.MODIFIED, "train.epochs": Change.DELETED},
        "all.json": {"b": Change.NEW},
    }
    assert s.stale and s.reasons() == [{"changed params": {
        "params.yaml": {"train.lr": "modified", "train.epochs": "deleted"}, "all.json": {"b": "new"}}}]


def test_param_type_change_counts() -> None:
    s = status(params={**PARAMS, "params.yaml": {"train.lr": 0.1, "train.epochs": 10.0}})
    assert s.params == {"params.yaml": {"train.epochs": Change.MODIFIED}}


def test_param_no_longer_tracked_and_new_param() -> None:
    stage = replace(STAGE, params=(ParamDep("params.yaml", ("train.lr", "seed")),))
    s = status(stage, params={"params.yaml": {"train.lr": 0.1, "seed": 3}})
    assert s.params == {"params.yaml": {"seed": Change.NEW, "train.epochs": Change.DELETED},
                        "all.json": {"a": Change.DELETED}}


def test_changed_outs_and_not_in_cache() -> None:
    s = status(outs={"model.pkl": A})
    assert s.outs == {"model.pkl": Change.MODIFIED, "logs": Change.DELETED} and s.stale
    only_cache = status(cached=lambda oid: oid != C)
    assert only_cache.outs == {"model.pkl": Change.NOT_IN_CACHE}
    assert not only_cache.stale and not only_cache.clean
    assert only_cache.reasons() == [{"changed outs": {"model.pkl": "not in cache"}}]
    assert status(cached=lambda oid: False).outs == {"model.pkl": Change.NOT_IN_CACHE}  # logs: cache false


def test_new_out() -> None:
    stage = replace(STAGE, metrics=(Out("m.json"),))
    assert status(stage, outs={**OUTS, "m.json": A}).outs == {"m.json": Change.NEW}


def test_always_changed() -> None:
    s = status(replace(STAGE, always_changed=True))
    assert s.stale and s.reasons() == ["always changed"]


def test_frozen_ignores_deps_params_and_always_changed() -> None:
    frozen = replace(STAGE, frozen=True, always_changed=True)
    s = status(frozen, deps={}, params={})
    assert s.clean
    assert status(frozen, outs={}).outs == {"model.pkl": Change.DELETED, "logs": Change.DELETED}
    assert status(replace(frozen, cmd=("other",))).changed_cmd


def test_reasons_order_and_report() -> None:
    s = status(replace(STAGE, cmd=("x",), always_changed=True), deps={"data": C, "train.py": B},
               outs={"model.pkl": None, "logs": A})
    assert s.reasons() == ["changed cmd", {"changed deps": {"data": "modified"}},
                           {"changed outs": {"model.pkl": "deleted"}}, "always changed"]
    assert list(report([s, status()])) == ["train"]
