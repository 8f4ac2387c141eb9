"""pv dag renderings, and the pipeline errors of SPEC §8: each a clear message, exit 1, nothing
written and nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen

ERRORS = {
    "cycle": (
        "stages:\n  a:\n    cmd: touch ran a.txt\n    deps: [b.txt]\n    outs: [a.txt]\n"
        "  b:\n    cmd: touch ran b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n",
        "ERROR: pipeline has a cycle: a -> b -> a — remove a dependency so that no stage depends on its own outputs\n",
    ),
    "duplicate out": (
        "stages:\n  a:\n    cmd: touch ran x.txt\n    outs: [x.txt]\n  b:\n    cmd: touch ran x.txt\n    outs: [x.txt]\n",
        "ERROR: output 'x.txt' is produced by more than one stage: 'a', 'b' — give each output to exactly one stage\n",
    ),
    "out inside out": (
        "stages:\n  a:\n    cmd: touch ran\n    outs: [data]\n  b:\n    cmd: touch ran\n    outs: [data/x.txt]\n",
        "ERROR: output 'data/x.txt' is inside output 'data' (stages 'b', 'a') — outputs must not overlap; "
        "track the enclosing directory only\n",
    ),
    "missing dep": (
        "stages:\n  ok:\n    cmd: touch ran ok.txt\n    outs: [ok.txt]\n"
        "  a:\n    cmd: touch ran\n    deps: [ok.txt, nope.txt]\n",
        "ERROR: dependency 'nope.txt' of stage 'a' does not exist and no stage produces it — create it, "
        "'pv pull' it, or fix the stage's deps\n",
    ),
    "unknown var": (
        "stages:\n  a:\n    cmd: touch ran ${nope.key}\n",
        "ERROR: pv.yaml:3: stage 'a': undefined variable '${nope.key}' — fix 'pv.yaml'\n",
    ),
    "invalid yaml": (
        "stages:\n  a:\n    cmd: touch ran\n    outs: [a.txt\n  b:\n    cmd: x\n",
        "ERROR: pv.yaml:5: invalid YAML: did not find expected ',' or ']' — fix 'pv.yaml'\n",
    ),
    "unknown key": (
        "stages:\n  a:\n    cmd: touch ran\n    outz: [a.txt]\n",
        "ERROR: pv.yaml:4: stage 'a': unknown key 'outz' (allowed: always_changed, cmd, deps, desc, frozen, meta, "
        "metrics, outs, params, plots, vars, wdir) — fix 'pv.yaml'\n",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_pipeline_errors_exit_1_and_write_nothing(pv_repo: Path, pv: PvRunner, case: str) -> None:
    text, message = ERRORS[case]
    gen({"pv.yaml": text})
    before = sorted(p.name for p in pv_repo.iterdir())
    for args in (["repro"], ["repro", "-j", "4"], ["status"], ["dag"]):
        res = pv(*args)
        if case == "missing dep" and args[0] != "repro":
            continue  # a missing input is only an error for running
        assert res.exit_code == 1, (args, res)
        assert res.stderr == message, args
    assert sorted(p.name for p in pv_repo.iterdir()) == before  # no pv.lock, no outputs, nothing ran


FAN = """\
stages:
  prep:
    cmd: echo p > prep.txt
    outs: [prep.txt]
  left:
    cmd: cp prep.txt left.txt
    deps: [prep.txt]
    outs: [left.txt]
  right:
    cmd: cp prep.txt right.txt
    deps: [prep.txt]
    outs: [right.txt]
  join:
    cmd: cat left.txt right.txt > join.txt
    deps: [left.txt, right.txt]
    outs: [join.txt]
  alone:
    cmd: echo alone > alone.txt
    outs: [alone.txt]
"""


def test_dag_renders_the_stage_graph(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": FAN})
    ascii_art = pv.ok("dag").stdout
    for name in ("prep", "left", "right", "join", "alone"):
        assert f"| {name} |" in ascii_art
    assert ascii_art.index("| prep |") < ascii_art.index("| left |") < ascii_art.index("| join |")
    assert pv.ok("dag", "--dot").stdout == (
        'strict digraph  {\n"prep";\n"left";\n"right";\n"join";\n"alone";\n'
        '"prep" -> "left";\n"prep" -> "right";\n"left" -> "join";\n"right" -> "join";\n}\n')
    mermaid = pv.ok("dag", "--mermaid").stdout
    assert mermaid.startswith('flowchart TD\n\tnode1["prep"]\n') and "\tnode2-->node4\n" in mermaid
    assert pv.ok("dag", "--md").stdout == "```mermaid\n" + mermaid + "```\n"


def test_dag_of_a_target_and_of_outputs(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": FAN})
    assert pv.ok("dag", "--dot", "left").stdout == 'strict digraph  {\n"prep";\n"left";\n"prep" -> "left";\n}\n'
    dot = pv.ok("dag", "--dot", "--outs").stdout
    assert '"prep.txt" -> "left.txt";' in dot and '"right.txt" -> "join.txt";' in dot and '"alone.txt";' in dot
    res = pv("dag", "--dot", "--mermaid")
    assert res.exit_code == 2


def test_no_pipeline_is_not_an_error(pv_repo: Path, pv: PvRunner) -> None:
    assert pv.ok("dag").stdout == ""
    assert pv.ok("repro").stdout == "Data and pipelines are up to date.\n"
    assert pv.ok("stage", "list").stdout == ""
