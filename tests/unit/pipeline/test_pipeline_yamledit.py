"""pv.yaml text edits keep everything else as written; flow-style parts are re-dumped."""

from __future__ import annotations

from pipever.pipeline import yamledit

TEXT = """\
# my pipeline
stages:
  prepare:   # comment
    cmd: python prep.py
    deps: [a]

  # train it
  train:
    cmd: python train.py
    outs:
    - model.pkl

artifacts:
  m: {path: model.pkl}
"""


def test_add_appends_after_the_last_stage() -> None:
    out = yamledit.add_stage(TEXT, "eval", {"cmd": "python eval.py", "deps": ["model.pkl"]})
    assert out == TEXT.replace("    - model.pkl\n\n", (
        "    - model.pkl\n  eval:\n    cmd: python eval.py\n    deps:\n    - model.pkl\n\n"))


def test_add_replaces_a_stage_in_place_keeping_the_next_comment() -> None:
    out = yamledit.add_stage(TEXT, "prepare", {"cmd": "new"})
    assert out == TEXT.replace("  prepare:   # comment\n    cmd: python prep.py\n    deps: [a]\n",
                               "  prepare:\n    cmd: new\n")


def test_add_to_empty_missing_null_and_flow_stages() -> None:
    expected = "stages:\n  a:\n    cmd: x\n"
    assert yamledit.add_stage("", "a", {"cmd": "x"}) == expected
    assert yamledit.add_stage("stages:\n", "a", {"cmd": "x"}) == expected
    assert yamledit.add_stage("stages: {}\n", "a", {"cmd": "x"}) == expected
    assert yamledit.add_stage("vars: [p.yaml]\n", "a", {"cmd": "x"}) == "vars: [p.yaml]\n" + expected
    assert yamledit.add_stage("stages:\n  p:\n    cmd: y", "a", {"cmd": "x"}) == "stages:\n  p:\n    cmd: y\n  a:\n    cmd: x\n"


def test_remove_stages() -> None:
    assert yamledit.remove_stages(TEXT, ["prepare"]) == TEXT.replace(
        "  prepare:   # comment\n    cmd: python prep.py\n    deps: [a]\n", "")
    out = yamledit.remove_stages(TEXT, ["prepare", "train"])
    assert "cmd" not in out and out.endswith("artifacts:\n  m: {path: model.pkl}\n")
    assert yamledit.remove_stages("stages: {a: {cmd: x}, b: {cmd: y}}\n", ["a"]) == "stages:\n  b:\n    cmd: y\n"


def test_set_and_clear_a_flag() -> None:
    frozen = yamledit.set_flag(TEXT, "train", "frozen", True)
    assert frozen == TEXT.replace("    - model.pkl\n", "    - model.pkl\n    frozen: true\n")
    assert yamledit.set_flag(frozen, "train", "frozen", True) == frozen
    assert yamledit.set_flag(frozen, "train", "frozen", False) == TEXT


def test_flag_of_a_foreach_group_goes_into_do() -> None:
    text = "stages:\n  s:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n"
    assert yamledit.set_flag(text, "s", "frozen", True) == text + "      frozen: true\n"
