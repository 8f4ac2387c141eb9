"""Run-cache keys and entries."""

from __future__ import annotations

from pathlib import Path

from pipever.objects.oid import Oid
from pipever.pipeline.lockfile import LockedPath
from pipever.pipeline.runcache import RunCache, cacheable, run_key
from pipever.pipeline.stage import Out, Stage

A = Oid("a" * 64)
B = Oid("b" * 64)
STAGE = Stage("train", ("python train.py",), deps=("data",), outs=(Out("model.pkl"),))


def test_key_depends_on_cmd_deps_params_and_outs() -> None:
    deps = [LockedPath("data", A, 1)]
    key = run_key(STAGE, deps, {"params.yaml": {"lr": 1}})
    assert key is not None and len(key) == 64
    assert run_key(STAGE, deps, {"params.yaml": {"lr": 1}}) == key
    assert run_key(STAGE, [LockedPath("data", B, 1)], {"params.yaml": {"lr": 1}}) != key
    assert run_key(STAGE, deps, {"params.yaml": {"lr": 2}}) != key
    assert run_key(Stage("train", ("python train.py -v",), deps=("data",), outs=(Out("model.pkl"),)), deps,
                   {"params.yaml": {"lr": 1}}) != key
    assert run_key(Stage("train", ("python train.py",), deps=("data",), outs=(Out("model.pkl", cache=False),)),
                   deps, {"params.yaml": {"lr": 1}}) != key
    assert run_key(STAGE, [LockedPath("data", A, 99)], {"params.yaml": {"lr": 1}, "other.yaml": {}}) == key


def test_what_is_not_cacheable() -> None:
    assert cacheable(STAGE)
    assert not cacheable(Stage("s", ("x",), outs=(Out("o"),)))  # no deps
    assert not cacheable(Stage("s", ("x",), deps=("d",)))  # no outs
    assert not cacheable(Stage("s", ("x",), deps=("d",), outs=(Out("o", persist=True),)))
    assert not cacheable(Stage("s", ("x",), deps=("d",), outs=(Out("o"),), always_changed=True))
    assert run_key(Stage("s", ("x",), outs=(Out("o"),)), [], {}) is None


def test_entries_round_trip_and_bad_ones_are_ignored(tmp_path: Path) -> None:
    runs = RunCache(tmp_path / "runs")
    key = "c" * 64
    assert runs.get(key) is None
    outs = (LockedPath("model.pkl", A, 3), LockedPath("plots", B, 10, 2))
    runs.put(key, outs)
    assert runs.get(key) == outs
    assert (tmp_path / "runs" / "cc" / ("c" * 62)).is_file()
    (tmp_path / "runs" / "cc" / ("c" * 62)).write_text('{"format": 1, "outs": [{"path": "../x", "oid": "blake3:' + "a" * 64 + '", "size": 1}]}')
    assert runs.get(key) is None
    (tmp_path / "runs" / "cc" / ("c" * 62)).write_text("not json")
    assert runs.get(key) is None
