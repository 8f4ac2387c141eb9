"""pv stage add/list, pv remove STAGE, pv freeze/unfreeze, pv commit and pv checkout of stage
outputs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import PvRunner, gen, git

EXISTING = """\
# the pipeline of this project
vars:
- n: 3

stages:
  # first step
  prepare:
    cmd: cp in.txt prepared.txt   # keep it simple
    deps: [in.txt]
    outs: [prepared.txt]

artifacts:
  model: {path: model.txt, type: model}
"""


def test_stage_add_appends_and_keeps_the_file_as_written(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": EXISTING, "in.txt": "x\n"})
    res = pv.ok("stage", "add", "-n", "train", "-d", "prepared.txt", "-p", "lr,epochs", "-p", "cfg.yaml:depth",
                "-o", "model.txt", "-M", "metrics.json", "--plots", "loss.csv",
                "python", "train.py", "--name", "my model")
    assert res.stdout == "Added stage 'train' to pv.yaml\nStaged in Git: pv.yaml\n"
    text = (pv_repo / "pv.yaml").read_text()
    assert text == EXISTING.replace("\nartifacts:", (
        "  train:\n"
        "    cmd: python train.py --name \"my model\"\n"
        "    deps:\n    - prepared.txt\n"
        "    params:\n    - lr\n    - epochs\n    - cfg.yaml:\n      - depth\n"
        "    outs:\n    - model.txt\n"
        "    metrics:\n    - metrics.json:\n        cache: false\n"
        "    plots:\n    - loss.csv\n"
        "\nartifacts:"))
    assert "pv.yaml" in git("diff", "--cached", "--name-only").split()
    listed = json.loads(pv.ok("stage", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["prepare", "train"]
    assert listed[1]["outs"] == ["model.txt", "metrics.json", "loss.csv"]
    # DVC 3's wording: metrics and plots are "Reports"
    assert pv.ok("stage", "list").stdout == ("prepare  Outputs prepared.txt\n"
                                             "train    Outputs model.txt; Reports metrics.json, loss.csv\n")


def test_stage_add_into_an_empty_repo_and_run(pv_repo: Path, pv: PvRunner) -> None:
    gen({"in.txt": "x\n"})
    res = pv.ok("stage", "add", "--run", "-n", "copy", "-d", "in.txt", "-o", "out.txt", "cp in.txt out.txt")
    assert "Running stage 'copy':\n> cp in.txt out.txt\n" in res.stdout
    assert (pv_repo / "pv.yaml").read_text() == (
        "stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps:\n    - in.txt\n    outs:\n    - out.txt\n")
    assert "copy:" in (pv_repo / "pv.lock").read_text()
    assert (pv_repo / "out.txt").read_text() == "x\n"


def test_stage_add_keeps_the_commands_own_flags(pv_repo: Path, pv: PvRunner) -> None:
    """``-v`` is pv's global verbose flag among pv's words, but part of the user's command after
    them: ``grep -v`` must not lose its ``-v``."""
    gen({"in.txt": "keep\ndrop x\n"})
    pv.ok("stage", "add", "-n", "filter", "-d", "in.txt", "-o", "out.txt", "grep", "-v", "x", "in.txt", ">", "out.txt")
    pv.ok("stage", "add", "-f", "-v", "-n", "other", "-o", "o.txt", "--", "grep", "--verbose", "-v", "x")
    stages = (pv_repo / "pv.yaml").read_text()
    assert "cmd: grep -v x in.txt > out.txt\n" in stages
    assert "cmd: grep --verbose -v x\n" in stages
    pv.ok("repro", "filter")
    assert (pv_repo / "out.txt").read_text() == "keep\n"


def test_stage_add_refuses_bad_stages_and_writes_nothing(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": EXISTING, "in.txt": "x\n", "tracked.txt": "t\n"})
    pv.ok("add", "tracked.txt")
    cases: list[tuple[list[str], str]] = [
        (["-n", "prepare", "-o", "x.txt", "echo"], "ERROR: stage 'prepare' already exists in 'pv.yaml' — use -f to overwrite it\n"),
        (["-n", "twice", "-o", "prepared.txt", "echo"],
         "ERROR: output 'prepared.txt' is produced by more than one stage: 'prepare', 'twice' — give each output to exactly one stage\n"),
        (["-n", "back", "-d", "prepared.txt", "-o", "in.txt", "echo"],
         "ERROR: pipeline has a cycle: prepare -> back -> prepare — remove a dependency so that no stage depends on its own outputs\n"),
        (["-n", "dup", "-o", "tracked.txt", "echo"],
         "ERROR: output 'tracked.txt' is already tracked by 'tracked.txt.pv' — stop tracking it first: 'pv remove tracked.txt.pv'\n"),
    ]
    for args, message in cases:
        res = pv("stage", "add", *args)
        assert res.exit_code == 1, res
        assert res.stderr == message
    assert (pv_repo / "pv.yaml").read_text().startswith(EXISTING[:-1])
    res = pv("stage", "add", "-n", "bad name", "echo")
    assert res.exit_code == 1 and res.stderr == (  # no line of a pv.yaml that was never written
        "ERROR: stage 'bad name' cannot be added: invalid stage name 'bad name': no spaces or any of / \\ @ : , — "
        "fix the name, paths or options given to 'pv stage add'; pv.yaml is unchanged\n")
    assert "bad name" not in (pv_repo / "pv.yaml").read_text()


def test_stage_add_force_replaces_the_stage_in_place(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": EXISTING, "in.txt": "x\n"})
    pv.ok("stage", "add", "-f", "-n", "prepare", "-d", "in.txt", "-o", "prepared.txt", "tac in.txt > prepared.txt")
    text = (pv_repo / "pv.yaml").read_text()
    assert "  # first step\n  prepare:\n    cmd: tac in.txt > prepared.txt\n" in text
    assert text.endswith("\nartifacts:\n  model: {path: model.txt, type: model}\n")


def test_remove_stage_drops_it_from_pv_yaml_and_pv_lock(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": EXISTING, "in.txt": "x\n"})
    pv.ok("stage", "add", "-n", "copy", "-d", "prepared.txt", "-o", "copy.txt", "cp prepared.txt copy.txt")
    pv.ok("repro")
    res = pv.ok("remove", "prepare")
    assert res.stdout.startswith("Removed stage 'prepare' from pv.yaml\n")
    assert "prepare" not in (pv_repo / "pv.yaml").read_text().split("# first step")[0]
    assert "  prepare:" not in (pv_repo / "pv.yaml").read_text()
    lock = (pv_repo / "pv.lock").read_text()
    assert "prepare:" not in lock and "copy:" in lock
    assert (pv_repo / ".gitignore").read_text() == "/pv_plots\n/copy.txt\n"
    assert (pv_repo / "prepared.txt").exists()  # data stays without --outs
    pv.ok("remove", "--outs", "copy")
    assert not (pv_repo / "copy.txt").exists() and (pv_repo / ".gitignore").read_text() == "/pv_plots\n"
    res = pv("remove", "nothing")
    assert res.exit_code == 1 and "is not a pointer file or a stage" in res.stderr


def test_freeze_and_unfreeze_edit_the_stage(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": EXISTING, "in.txt": "x\n"})
    pv.ok("freeze", "prepare")
    assert "    outs: [prepared.txt]\n    frozen: true\n\nartifacts:" in (pv_repo / "pv.yaml").read_text()
    assert json.loads(pv.ok("stage", "list", "--json").stdout)[0]["frozen"] is True
    pv.ok("unfreeze", "prepare")
    assert (pv_repo / "pv.yaml").read_text() == EXISTING
    res = pv("freeze", "nope")
    assert res.exit_code == 1 and res.stderr == "ERROR: stage 'nope' does not exist in 'pv.yaml' — see 'pv stage list'\n"


def test_freeze_a_foreach_group(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": "stages:\n  s:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n"})
    res = pv("freeze", "s@a")
    assert res.exit_code == 1 and res.stderr == (
        "ERROR: cannot freeze 's@a' alone: it is generated by 's' — freeze the whole group: 'pv freeze s'\n")
    pv.ok("freeze", "s")
    assert (pv_repo / "pv.yaml").read_text().endswith("      cmd: echo ${item}\n      frozen: true\n")


def test_status_lists_stale_stages_and_commit_records_them(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": EXISTING, "in.txt": "x\n"})
    assert json.loads(pv.ok("status", "--json").stdout) == {"prepare": ["never run"]}
    (pv_repo / "prepared.txt").write_text("made by hand\n")
    res = pv.ok("commit")
    assert res.stdout == "Committed stage 'prepare' to pv.lock\n"
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    (pv_repo / "prepared.txt").write_text("edited\n")
    assert json.loads(pv.ok("status", "prepare", "--json").stdout) == {
        "prepare": [{"changed outs": {"prepared.txt": "modified"}}]}
    pv.ok("commit", "prepare")
    (pv_repo / "in.txt").write_text("changed\n")
    res = pv("commit", "prepare")
    assert res.exit_code == 1 and "stage 'prepare' changed since it was recorded" in res.stderr
    pv.ok("commit", "-f", "prepare")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_checkout_restores_stage_outputs_from_pv_lock(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": EXISTING, "in.txt": "x\n"})
    pv.ok("repro")
    (pv_repo / "prepared.txt").unlink()
    assert json.loads(pv.ok("status", "--json").stdout) == {"prepare": [{"changed outs": {"prepared.txt": "deleted"}}]}
    assert pv.ok("checkout").stdout == "Checkout: 1 added\n"
    assert (pv_repo / "prepared.txt").read_text() == "x\n"
    (pv_repo / "prepared.txt").unlink()
    pv.ok("checkout", "prepare")
    assert (pv_repo / "prepared.txt").read_text() == "x\n"


def test_stage_add_from_a_subdirectory_runs_the_stage_there(pv_repo: Path, pv: PvRunner) -> None:
    # as DVC, whose 'stage add' in a subdirectory writes a dvc.yaml there: the paths given and
    # the command are relative to the current directory
    gen({"sub": {"in.txt": "x\n", "deeper": {}}})
    pv.ok("stage", "add", "-n", "a", "-d", "in.txt", "-o", "out.txt", "--run", "cp in.txt out.txt", cwd=pv_repo / "sub")
    assert (pv_repo / "sub/out.txt").read_text() == "x\n"
    assert "    wdir: sub\n" in (pv_repo / "pv.yaml").read_text()
    pv.ok("stage", "add", "-n", "b", "-w", "..", "-d", "out.txt", "-o", "b.txt", "--run", "cp out.txt b.txt",
          cwd=pv_repo / "sub/deeper")
    assert (pv_repo / "sub/b.txt").read_text() == "x\n"
    pv.ok("stage", "add", "-n", "c", "-d", "in.txt", "-o", "c.txt", "cp in.txt c.txt")  # at the root: no wdir
    assert "  c:\n    cmd: cp in.txt c.txt\n    deps:" in (pv_repo / "pv.yaml").read_text()


def test_output_targets_are_relative_to_the_current_directory(pv_repo: Path, pv: PvRunner) -> None:
    gen({"sub": {"in.txt": "x\n"}, "pv.yaml": (
        "stages:\n  a:\n    wdir: sub\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n")})
    sub = pv_repo / "sub"
    # named from the current folder, as DVC does ('../dvc.yaml:a' there)
    assert json.loads(pv.ok("status", "--json", "out.txt", cwd=sub).stdout) == {"../pv.yaml:a": ["never run"]}
    pv.ok("repro", "out.txt", cwd=sub)
    assert (sub / "out.txt").read_text() == "x\n"
    assert pv.ok("repro", "sub/out.txt").stdout.startswith("Stage 'a' didn't change")  # from the root
    assert pv.ok("dag", "out.txt", cwd=sub).stdout.count("| ../pv.yaml:a |") == 1
