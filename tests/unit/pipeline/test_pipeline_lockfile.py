"""pv.lock: golden text, round trip, atomic write, untrusted input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipever.errors import SchemaError
from pipever.objects.oid import Oid
from pipever.pipeline.lockfile import (
    LockedPath,
    LockEntry,
    Lockfile,
    dump_lockfile,
    make_entry,
    parse_lockfile,
    write_lockfile,
)
from pipever.pipeline.stage import Stage

A = Oid("a" * 64)
B = Oid("b" * 64)

GOLDEN = f"""\
schema: '1'
stages:
  prepare:
    cmd: python src/prepare.py
    deps:
    - path: data/raw.csv
      oid: blake3:{"a" * 64}
      size: 12
    outs:
    - path: data/prepared
      oid: blake3:{"b" * 64}
      size: 8437363
      nfiles: 2
  train:
    cmd:
    - python src/train.py
    - echo done
    deps:
    - path: data/prepared
      oid: blake3:{"b" * 64}
      size: 8437363
      nfiles: 2
    params:
      params.yaml:
        train.seed: 20170428
        train.layers:
        - 64
        - 32
    outs:
    - path: model.pkl
      oid: blake3:{"a" * 64}
      size: 1024
"""

LOCK = Lockfile({
    "prepare": LockEntry(
        cmd="python src/prepare.py",
        deps=(LockedPath("data/raw.csv", A, 12),),
        outs=(LockedPath("data/prepared", B, 8437363, 2),),
    ),
    "train": LockEntry(
        cmd=("python src/train.py", "echo done"),
        deps=(LockedPath("data/prepared", B, 8437363, 2),),
        params={"params.yaml": {"train.seed": 20170428, "train.layers": [64, 32]}},
        outs=(LockedPath("model.pkl", A, 1024),),
    ),
})


def test_golden_text() -> None:
    assert dump_lockfile(LOCK) == GOLDEN


def test_round_trip() -> None:
    assert parse_lockfile(GOLDEN) == LOCK
    assert parse_lockfile(dump_lockfile(LOCK)) == LOCK


def test_empty_and_no_stages() -> None:
    assert parse_lockfile("") == Lockfile()
    assert dump_lockfile(Lockfile()) == "schema: '1'\nstages: {}\n"
    assert parse_lockfile("schema: '1'\nstages: {}\n") == Lockfile()


def test_write_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "pv.lock"
    target.write_text("old")
    write_lockfile(target, LOCK)
    assert target.read_text() == GOLDEN
    assert [p.name for p in tmp_path.iterdir()] == ["pv.lock"]


def test_entry_helpers() -> None:
    train = LOCK.get("train")
    assert train is not None and train.commands == ("python src/train.py", "echo done")
    assert train.dep("data/prepared") == LockedPath("data/prepared", B, 8437363, 2)
    assert train.out("nope") is None and train.deps[0].is_dir
    updated = LOCK.with_entry("prepare", LockEntry(cmd="new")).with_entry("extra", LockEntry(cmd="x"))
    assert list(updated.stages) == ["prepare", "train", "extra"] and updated.stages["prepare"].cmd == "new"
    assert list(updated.without(["train", "nope"]).stages) == ["prepare", "extra"]
    assert list(LOCK.stages) == ["prepare", "train"]  # unchanged


def test_make_entry_follows_the_stage_cmd_form() -> None:
    one = Stage("s", ("echo a",))
    many = Stage("s", ("echo a", "echo b"), cmd_is_list=True)
    out = LockedPath("o", A, 1)
    assert make_entry(one, deps=(), params={"params.yaml": {}}, outs=[out]) == LockEntry("echo a", outs=(out,))
    assert make_entry(many, deps=(), params={}, outs=()).cmd == ("echo a", "echo b")
    assert "cmd:\n    - echo a\n    - echo b\n" in dump_lockfile(Lockfile({"s": make_entry(many, deps=(), params={},
                                                                                               outs=())}))


@pytest.mark.parametrize("text, line, words", [
    ("schema: '2'\nstages: {}\n", 1, "unsupported schema '2'"),
    ("stages: {}\n", 1, "unsupported schema None"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    outs:\n    - path: ../evil\n      oid: blake3:" + "a" * 64
     + "\n      size: 1\n", 6, "contains '..'"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    outs:\n    - path: /etc/passwd\n      oid: blake3:" + "a" * 64
     + "\n      size: 1\n", 6, "is absolute"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    deps:\n    - path: a\n      oid: md5:123\n      size: 1\n", 7,
     "invalid oid for 'a'"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    deps:\n    - path: a\n      oid: blake3:" + "A" * 64
     + "\n      size: 1\n", 7, "invalid oid"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    deps:\n    - path: a\n      oid: blake3:" + "a" * 64
     + "\n      size: -1\n", 8, "'size' of 'a' must be a non-negative integer"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    deps:\n    - path: a\n      size: 1\n", 6, "missing 'oid'"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    deps:\n    - path: a\n      oid: blake3:" + "a" * 64
     + "\n      size: 1\n      md5: x\n", 9, "unknown key 'md5'"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    extra: 1\n", 5, "unknown key 'extra'"),
    ("schema: '1'\nstages:\n  s:\n    cmd: 1\n", 4, "'cmd' must be"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    params:\n      ../p.yaml: {a: 1}\n", 6, "contains '..'"),
    ("schema: '1'\nstages:\n  s:\n    cmd: x\n    params: [a]\n", 5, "'params' must map"),
    ("schema: '1'\nstages: [a]\n", 2, "'stages' must be a mapping"),
    ("<<<<<<< HEAD\nschema: '1'\n", 2, "invalid YAML"),
])
def test_untrusted_lockfile_errors(text: str, line: int, words: str) -> None:
    with pytest.raises(SchemaError) as info:
        parse_lockfile(text)
    assert info.value.file == "pv.lock" and info.value.line == line, info.value.message
    assert words in info.value.message
