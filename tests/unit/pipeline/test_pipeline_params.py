"""Params files by format, dotted-key lookup, and the params diff core."""

from __future__ import annotations

from typing import Any

import pytest

from pipever.errors import SchemaError
from pipever.pipeline.params import (
    MISSING,
    DiffKind,
    ParamRow,
    current_params,
    diff_params,
    flatten,
    get_value,
    parse_params,
    select,
)
from pipever.pipeline.stage import ParamDep

EXPECTED = {"train": {"lr": 0.1, "layers": [64, 32]}, "seed": 1}


@pytest.mark.parametrize("name, text", [
    ("params.yaml", "train:\n  lr: 0.1\n  layers: [64, 32]\nseed: 1\n"),
    ("p.yml", "train: {lr: 0.1, layers: [64, 32]}\nseed: 1\n"),
    ("p.json", '{"train": {"lr": 0.1, "layers": [64, 32]}, "seed": 1}'),
    ("p.toml", "seed = 1\n[train]\nlr = 0.1\nlayers = [64, 32]\n"),
    ("p.py", "import os\nseed = 1\nclass train:\n    lr = 0.1\n    layers: list = [64, 32]\n"
             "    path = os.getcwd()\n\ndef f():\n    x = 2\n"),
])
def test_parse_params_by_format(name: str, text: str) -> None:
    assert parse_params(text, name) == EXPECTED


def test_python_params_file_is_never_executed() -> None:
    assert parse_params("import os\nos.system('false')\nA = 1\nB = A + 1\n", "p.py") == {"A": 1}


def test_python_params_are_yaml_values() -> None:
    text = "T = (1, (2, 3))\nD = {'a': (1,)}\nS = {1, 2}\nB = b'x'\nK = {1: 2}\n"
    assert parse_params(text, "p.py") == {"T": [1, [2, 3]], "D": {"a": [1]}}


def test_empty_params_file() -> None:
    assert parse_params("", "params.yaml") == {}


@pytest.mark.parametrize("name, text, line", [
    ("params.yaml", "a: [1\n", 2),
    ("params.yaml", "- a\n- b\n", None),
    ("p.json", '{"a": 1,\n "b": }', 2),
    ("p.toml", "a = \n", None),
    ("p.py", "a = (\n", 1),
])
def test_invalid_params_files(name: str, text: str, line: int | None) -> None:
    with pytest.raises(SchemaError) as info:
        parse_params(text, name)
    assert info.value.file == name and info.value.line == line


def test_get_value_and_select() -> None:
    assert get_value(EXPECTED, "train.lr") == 0.1
    assert get_value(EXPECTED, "train.layers.1") == 32
    assert get_value(EXPECTED, "train.nope") is MISSING and get_value(EXPECTED, "seed.x") is MISSING
    assert get_value({"a": None}, "a") is None
    assert select(EXPECTED, ("train.lr", "nope", "seed")) == {"train.lr": 0.1, "seed": 1}
    assert select(EXPECTED, None) == EXPECTED
    assert select(None, ("a",)) == {}


def test_current_params_for_a_stage() -> None:
    deps = (ParamDep("params.yaml", ("train.lr", "gone")), ParamDep("all.json", None), ParamDep("missing.yaml", ("x",)))
    files = {"params.yaml": EXPECTED, "all.json": {"a": 1, "b": {"c": 2}}, "missing.yaml": None}
    assert current_params(deps, files) == {
        "params.yaml": {"train.lr": 0.1}, "all.json": {"a": 1, "b": {"c": 2}}, "missing.yaml": {}}


def test_flatten() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": [1]}}, "e": {}, "f": None}) == {"a.b": 1, "a.c.d": [1], "e": {}, "f": None}


def test_diff_params() -> None:
    old: dict[str, dict[str, Any]] = {
        "params.yaml": {"train": {"lr": 0.1, "epochs": 10}, "seed": 1, "flag": 1}, "gone.json": {"x": 1}}
    new: dict[str, dict[str, Any]] = {
        "params.yaml": {"train": {"lr": 0.2, "epochs": 10, "batch": 32}, "flag": True}, "new.toml": {"y": 2}}
    assert diff_params(old, new) == [
        ParamRow("gone.json", "x", 1, MISSING, DiffKind.DELETED),
        ParamRow("new.toml", "y", MISSING, 2, DiffKind.ADDED),
        ParamRow("params.yaml", "flag", 1, True, DiffKind.MODIFIED),
        ParamRow("params.yaml", "seed", 1, MISSING, DiffKind.DELETED),
        ParamRow("params.yaml", "train.batch", MISSING, 32, DiffKind.ADDED),
        ParamRow("params.yaml", "train.lr", 0.1, 0.2, DiffKind.MODIFIED),
    ]
    rows = diff_params(old, new, include_unchanged=True)
    assert ParamRow("params.yaml", "train.epochs", 10, 10, DiffKind.UNCHANGED) in rows


def test_diff_params_of_equal_snapshots_is_empty() -> None:
    assert diff_params({"p.yaml": EXPECTED}, {"p.yaml": EXPECTED}) == []
    assert diff_params({"p.yaml": {"l": [1, 2]}}, {"p.yaml": {"l": [1, 3]}})[0].change is DiffKind.MODIFIED
