"""`pv params diff`, `pv metrics show`, `pv metrics diff` between real commits and the workspace."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pipever.objects.hashing import hash_bytes
from tests.helpers import gen, git, git_commit

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    params: [train.lr]
    metrics: [{metrics.json: {cache: false}}]
"""


def setup_two_commits(pv) -> None:  # type: ignore[no-untyped-def]
    gen({
        "pv.yaml": PIPELINE,
        "params.yaml": "train:\n  lr: 0.1\n  epochs: 10\nseed: 1\n",
        "metrics.json": json.dumps({"auc": 0.763981, "loss": {"train": 0.5, "val": 0.6}, "name": "a"}),
    })
    git_commit("v1")
    git("tag", "v1")
    gen({
        "params.yaml": "train:\n  lr: 0.2\n  epochs: 10\nseed: 1\nnew: [1, 2]\n",
        "metrics.json": json.dumps({"auc": 0.801807, "loss": {"train": 0.4, "val": 0.6}, "name": "b"}),
    })


def test_params_diff_head_vs_workspace(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    setup_two_commits(pv)
    res = pv("params", "diff")
    assert (res.exit_code, res.stderr) == (0, ""), res
    assert res.stdout == (
        "Path         Param     HEAD  workspace\n"
        "params.yaml  new       -     [1, 2]\n"
        "params.yaml  train.lr  0.1   0.2\n"
    )
    assert json.loads(pv("params", "diff", "--json").stdout) == {
        "params.yaml": {"new": {"old": None, "new": [1, 2]}, "train.lr": {"old": 0.1, "new": 0.2}},
    }


def test_params_diff_all_md_and_deps(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    setup_two_commits(pv)
    assert pv("params", "diff", "--all", "--md").stdout == (
        "| Path | Param | HEAD | workspace |\n"
        "|---|---|---|---|\n"
        "| params.yaml | new | - | [1, 2] |\n"
        "| params.yaml | seed | 1 | 1 |\n"
        "| params.yaml | train.epochs | 10 | 10 |\n"
        "| params.yaml | train.lr | 0.1 | 0.2 |\n"
    )
    assert json.loads(pv("params", "diff", "--deps", "--json").stdout) == {
        "params.yaml": {"train.lr": {"old": 0.1, "new": 0.2}},
    }


def test_params_diff_between_commits_and_nothing_when_equal(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    setup_two_commits(pv)
    git_commit("v2")
    res = pv("params", "diff", "v1", "HEAD", "--json")
    assert json.loads(res.stdout)["params.yaml"]["train.lr"] == {"old": 0.1, "new": 0.2}
    assert pv("params", "diff", "v1").stdout.splitlines()[0].split() == ["Path", "Param", "v1", "workspace"]
    res = pv("params", "diff")
    assert (res.exit_code, res.stdout, res.stderr) == (0, "", "")
    assert pv("params", "diff", "--json").stdout == "{}\n"


def test_params_without_pipeline_use_params_yaml(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"params.yaml": "a: 1\n"})
    git_commit("params")
    gen({"params.yaml": "a: 2\n"})
    assert json.loads(pv("params", "diff", "--json").stdout) == {"params.yaml": {"a": {"old": 1, "new": 2}}}


def test_metrics_diff_absolute_and_percent_change(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    setup_two_commits(pv)
    res = pv("metrics", "diff")
    assert (res.exit_code, res.stderr) == (0, ""), res
    assert res.stdout == (
        "Path          Metric      HEAD     workspace  Change\n"
        "metrics.json  auc         0.76398  0.80181    +0.03783 (+4.95%)\n"
        "metrics.json  loss.train  0.5      0.4        -0.1 (-20.00%)\n"
        "metrics.json  name        a        b          -\n"
    )
    assert json.loads(pv("metrics", "diff", "--json").stdout) == {"metrics.json": {
        "auc": {"old": 0.763981, "new": 0.801807, "diff": 0.037826, "pct": 4.95117},
        "loss.train": {"old": 0.5, "new": 0.4, "diff": -0.1, "pct": -20.0},
        "name": {"old": "a", "new": "b", "diff": None, "pct": None},
    }}


def test_metrics_diff_all_md_precision_and_revisions(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    setup_two_commits(pv)
    git_commit("v2")
    assert pv("metrics", "diff", "v1", "HEAD", "--all", "--md", "--precision", "2").stdout == (
        "| Path | Metric | v1 | HEAD | Change |\n"
        "|---|---|---|---|---|\n"
        "| metrics.json | auc | 0.76 | 0.8 | +0.04 (+4.95%) |\n"
        "| metrics.json | loss.train | 0.5 | 0.4 | -0.1 (-20.00%) |\n"
        "| metrics.json | loss.val | 0.6 | 0.6 | 0 (0.00%) |\n"
        "| metrics.json | name | a | b | - |\n"
    )
    res = pv("metrics", "diff")
    assert (res.exit_code, res.stdout) == (0, "")


def test_metrics_added_and_removed_keys_and_zero_base(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": "metrics: [m.yaml]\n", "m.yaml": "errors: 0\nold: 3\n"})
    git_commit("v1")
    gen({"m.yaml": "errors: 4\nfresh: 1.5\n"})
    assert pv("metrics", "diff").stdout == (
        "Path    Metric  HEAD  workspace  Change\n"
        "m.yaml  errors  0     4          +4\n"
        "m.yaml  fresh   -     1.5        -\n"
        "m.yaml  old     3     -          -\n"
    )


def test_metrics_show_workspace_json_md(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    setup_two_commits(pv)
    res = pv("metrics", "show")
    assert (res.exit_code, res.stderr) == (0, ""), res
    assert res.stdout == (
        "Path          auc      loss.train  loss.val  name\n"
        "metrics.json  0.80181  0.4         0.6       b\n"
    )
    assert json.loads(pv("metrics", "show", "--json").stdout) == {
        "workspace": {"metrics.json": {"auc": 0.801807, "loss": {"train": 0.4, "val": 0.6}, "name": "b"}},
    }
    assert pv("metrics", "show", "--md").stdout == (
        "| Path | auc | loss.train | loss.val | name |\n"
        "|---|---|---|---|---|\n"
        "| metrics.json | 0.80181 | 0.4 | 0.6 | b |\n"
    )


def test_metrics_show_all_branches_tags_commits(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    setup_two_commits(pv)
    head = git_commit("v2")
    git("branch", "exp", "v1")
    res = pv("metrics", "show", "-a", "-T")
    assert res.stdout == (
        "Revision   Path          auc      loss.train  loss.val  name\n"
        "workspace  metrics.json  0.80181  0.4         0.6       b\n"
        "exp,v1     metrics.json  0.76398  0.5         0.6       a\n"
        "main       metrics.json  0.80181  0.4         0.6       b\n"
    )
    doc = json.loads(pv("metrics", "show", "-A", "--json").stdout)
    assert list(doc) == ["workspace", head[:7], git("rev-parse", "--short=7", "v1").strip(),
                         git("rev-parse", "--short=7", "HEAD~2").strip()]
    assert doc[head[:7]] == doc["workspace"]
    assert doc[list(doc)[-1]] == {}  # `pv init` commit: no pv.yaml, no metrics


def test_csv_toml_metrics_and_targets(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({
        "pv.yaml": "metrics: [log.csv, m.toml]\n",
        "log.csv": "epoch,loss,when\n1,0.5,mon\n2,0.25,tue\n",
        "m.toml": "[test]\nacc = 0.9\n",
    })
    assert json.loads(pv("metrics", "show", "--json").stdout) == {
        "workspace": {"log.csv": {"epoch": 2, "loss": 0.25}, "m.toml": {"test": {"acc": 0.9}}},
    }
    assert pv("metrics", "show", "m.toml").stdout == "Path    test.acc\nm.toml  0.9\n"


def test_cached_metrics_file_read_at_revision_from_cache(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": "metrics: [eval/scores.json]\n", "eval": {"scores.json": '{"acc": 0.5}'}})
    pv.ok("add", "eval/scores.json")
    git_commit("v1")
    gen({"eval": {"scores.json": '{"acc": 0.75}'}})
    pv.ok("add", "eval/scores.json")
    git_commit("v2")
    assert git("ls-files", "eval").split() == ["eval/.gitignore", "eval/scores.json.pv"]
    res = pv("metrics", "diff", "HEAD~1", "HEAD", "--json")
    assert json.loads(res.stdout) == {"eval/scores.json": {"acc": {"old": 0.5, "new": 0.75, "diff": 0.25, "pct": 50.0}}}


def test_metrics_from_pv_lock_out_and_missing_cache_object(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    from pipever.pipeline.lockfile import Lockfile, LockEntry, LockedPath, write_lockfile
    from pipever.repo import Repo

    data = b'{"f1": 0.8}'
    with Repo(".") as repo:
        oid = repo.odb.add_bytes(data)
    gen({"pv.yaml": "stages:\n  ev:\n    cmd: python ev.py\n    metrics: [m.json]\n", ".gitignore": "/m.json\n"})
    write_lockfile(Path("pv.lock"), Lockfile({"ev": LockEntry("python ev.py", outs=(LockedPath("m.json", oid, 11),))}))
    git_commit("v1")
    assert json.loads(pv("metrics", "show", "-a", "--json").stdout)["main"] == {"m.json": {"f1": 0.8}}
    os.chmod(repo.odb.path(oid), 0o644)
    repo.odb.path(oid).unlink()
    res = pv("metrics", "show", "-a", "--json")
    assert res.exit_code == 0
    assert "not in the cache" in json.loads(res.stdout)["main"]["m.json"]["error"]
    assert res.stderr == f"WARNING: main: object 'm.json' ({oid}) is not in the cache — run 'pv pull' to fetch it\n"
    assert str(hash_bytes(data)) == str(oid)


def test_invalid_metrics_file_is_reported_and_others_shown(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": "metrics: [a.json, b.json]\n", "a.json": "{oops", "b.json": '{"x": 1}'})
    res = pv("metrics", "show")
    assert res.exit_code == 0
    assert res.stdout == "Path    x\nb.json  1\n"
    assert res.stderr.startswith("WARNING: workspace: a.json:1: invalid JSON")


def test_unknown_revision_is_an_error(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    for args in (("params", "diff", "nope"), ("metrics", "diff", "HEAD", "nope")):
        res = pv(*args)
        assert res.exit_code == 1
        assert res.stderr == "ERROR: unknown revision 'nope' — use a branch, tag or commit that exists ('git log')\n"
        assert res.stdout == ""


def test_no_metrics_says_how_to_declare_them(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    res = pv("metrics", "show")
    assert (res.exit_code, res.stdout) == (0, "")
    assert res.stderr.startswith("WARNING: no metrics found")


def test_metrics_inside_a_tracked_directory_at_a_revision(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": "metrics: [eval/m.json]\n", "eval": {"m.json": '{"acc": 0.5}', "other.bin": "x"}})
    pv.ok("add", "eval")
    git_commit("v1")
    shutil.rmtree("eval")
    assert json.loads(pv("metrics", "show", "-a", "--json").stdout) == {
        "workspace": {}, "main": {"eval/m.json": {"acc": 0.5}},
    }


def test_file_targets_are_relative_to_the_current_directory(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"sub": {"m.json": '{"acc": 1}', "p.yaml": "lr: 1\n", "loss.csv": "step,loss\n1,0.5\n"}})
    git_commit("files")
    gen({"sub": {"m.json": '{"acc": 2}', "p.yaml": "lr: 2\n"}})
    sub = pv_repo / "sub"
    assert json.loads(pv.ok("metrics", "show", "--json", "m.json", cwd=sub).stdout) == {
        "workspace": {"sub/m.json": {"acc": 2}}}
    assert json.loads(pv.ok("metrics", "diff", "--json", "--targets", "m.json", cwd=sub).stdout) == {
        "sub/m.json": {"acc": {"old": 1, "new": 2, "diff": 1, "pct": 100.0}}}
    assert json.loads(pv.ok("params", "diff", "--json", "--targets", "p.yaml", cwd=sub).stdout) == {
        "sub/p.yaml": {"lr": {"old": 1, "new": 2}}}
    assert list(json.loads(pv.ok("plots", "show", "--json", "loss.csv", cwd=sub).stdout)) == ["sub/loss.csv"]
