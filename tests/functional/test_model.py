"""``pv model``: the registry on real Git tags, in a temp repo pushed to a bare clone."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import gen, git, git_commit

PV_YAML = """\
artifacts:
  model:
    path: model.pkl
    type: model
    desc: churn classifier
    gates:
      prod: ['metrics.json:acc>=0.9']
"""


def new_version(pv, content: str, *, acc: float = 0.95) -> str:  # type: ignore[no-untyped-def]
    """Train a 'model': write it and its metrics, pv add it, commit; the commit's sha."""
    if Path("model.pkl").exists():
        pv.ok("unprotect", "model.pkl")
    gen({"model.pkl": content, "metrics.json": json.dumps({"acc": acc})})
    pv.ok("add", "model.pkl")
    return git_commit(f"train {content}")


@pytest.fixture
def model_repo(pv_repo: Path, pv) -> Path:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": PV_YAML})
    new_version(pv, "m1")
    return pv_repo


def tag_names() -> list[str]:
    return git("tag", "--list").split()


def err(res) -> str:  # type: ignore[no-untyped-def]
    assert res.exit_code == 1, res
    assert res.stderr.startswith("ERROR: "), res
    return str(res.stderr[len("ERROR: "):].strip())


def show(pv, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(pv.ok("model", "show", *args, "--json").stdout)  # type: ignore[no-any-return]


# -- register ------------------------------------------------------------------------------------
def test_register_creates_an_annotated_tag_readable_by_git_tag_n(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    head = git("rev-parse", "HEAD").strip()
    res = pv.ok("model", "register", "model", "--version", "v1.0.0", "-m", "first release")
    assert res.stdout == (f"Created tag 'model@v1.0.0': registered model v1.0.0 at {head[:7]}\n"
                          "To share it, run: git push origin model@v1.0.0\n")
    assert git("cat-file", "-t", "model@v1.0.0").strip() == "tag"
    assert git("rev-parse", "model@v1.0.0^{commit}").strip() == head
    assert git("tag", "-n").split() == ["model@v1.0.0", "first", "release"]
    assert git("tag", "-l", "--format=%(taggername) %(taggeremail)", "model@v1.0.0").strip() == \
        "Test User <test@example.com>"


def test_versions_default_to_v0_0_1_then_bump(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model")
    new_version(pv, "m2")
    pv.ok("model", "register", "model", "--bump", "minor")
    new_version(pv, "m3")
    pv.ok("model", "register", "model")  # patch by default
    new_version(pv, "m4")
    pv.ok("model", "register", "model", "--bump", "major")
    new_version(pv, "m5")
    pv.ok("model", "register", "model", "--version", "2.0.0-rc.1")  # the 'v' is optional
    assert sorted(tag_names()) == ["model@v0.0.1", "model@v0.1.0", "model@v0.1.1", "model@v1.0.0", "model@v2.0.0-rc.1"]
    assert git("tag", "-n1", "model@v0.1.0").split(None, 1)[1].strip() == "Registering artifact model version v0.1.0"
    assert show(pv)["model"]["latest"] == "v2.0.0-rc.1"


def test_register_refuses_a_duplicate_version_naming_the_tag(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    new_version(pv, "m2")
    assert err(pv("model", "register", "model", "--version", "v1.0.0")) == (
        "version v1.0.0 of artifact 'model' is already registered (tag 'model@v1.0.0') "
        "— use a higher version, or --bump patch for v1.0.1"
    )
    assert tag_names() == ["model@v1.0.0"]


def test_register_refuses_a_lower_version(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v2.0.0")
    new_version(pv, "m2")
    assert err(pv("model", "register", "model", "--version", "v1.5.0")) == (
        "version v1.5.0 of artifact 'model' is lower than the latest registered v2.0.0 (tag 'model@v2.0.0') "
        "— versions must increase: use --version v2.0.1 or --bump minor|major"
    )
    assert tag_names() == ["model@v2.0.0"]


def test_register_refuses_a_second_version_at_the_same_commit(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    head = git("rev-parse", "HEAD").strip()
    assert err(pv("model", "register", "model", "--bump", "minor")) == (
        f"commit {head[:7]} already has version v1.0.0 of artifact 'model' (tag 'model@v1.0.0') "
        "— commit the new artifact first, or register at another --rev"
    )


def test_register_refuses_bad_input(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    assert err(pv("model", "register", "model", "--version", "1.0")) == (
        "'1.0' is not a semantic version — use vMAJOR.MINOR.PATCH, e.g. v1.0.0 or v1.2.0-rc.1")
    assert err(pv("model", "register", "model", "--version", "v1.0.0", "--bump", "patch")) == (
        "give either --version or --bump, not both — drop one of them")
    assert err(pv("model", "register", "other")).startswith("artifact 'other' is not declared in pv.yaml — add it under")
    assert err(pv("model", "register", "My_Model")).startswith("invalid artifact name 'My_Model' — use lowercase")
    assert err(pv("model", "register", "a@b")).startswith("invalid artifact name 'a@b'")
    assert pv("model", "register", "model", "--bump", "huge").exit_code == 2
    assert err(pv("model", "register", "model", "--rev", "nope")).startswith("unknown revision 'nope'")
    assert tag_names() == []


def test_register_at_an_older_revision(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    first = git("rev-parse", "HEAD").strip()
    new_version(pv, "m2")
    pv.ok("model", "register", "model", "--rev", "HEAD~1", "--version", "v1.0.0")
    assert git("rev-parse", "model@v1.0.0^{commit}").strip() == first


def test_register_refuses_a_commit_without_the_artifact(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    """A mistyped --rev must not make a 'latest' version that 'pv model get' can never deliver."""
    before = git("rev-parse", "--short=7", "HEAD~1").strip()
    assert err(pv("model", "register", "model", "--rev", "HEAD~1")) == (
        f"'model.pkl' is neither tracked by pv nor by Git at commit {before} — commit its pointer file or "
        "pv.lock (or the file) before registering a version there")
    assert tag_names() == []


# -- promote -------------------------------------------------------------------------------------
def test_promote_with_passing_checks_records_them_in_the_tag(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    res = pv.ok("model", "promote", "model", "v1.0.0", "staging", "--require", "metrics.json:acc>=0.9",
                "--require", "metrics.json:acc < 1")
    assert res.stdout.splitlines()[:3] == [
        "  'metrics.json:acc>=0.9' passed (acc = 0.95)",
        "  'metrics.json:acc<1' passed (acc = 0.95)",
        "Created tag 'model#staging#1': model v1.0.0 is now in 'staging'",
    ]
    assert git("tag", "-n1", "model#staging#1").split(None, 1)[1].strip() == \
        "Assigning stage staging to artifact model version v1.0.0"
    body = git("tag", "-l", "--format=%(contents)", "model#staging#1")
    assert "Checks passed:\n  metrics.json:acc>=0.9 (acc = 0.95)\n" in body
    assert show(pv)["model"]["stages"] == {"staging": "v1.0.0"}


def test_promote_refuses_a_failing_check_naming_it_and_the_actual_value(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    new_version(pv, "m2", acc=0.85)
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    assert err(pv("model", "promote", "model", "v1.0.0", "staging", "--require", "metrics.json:acc>=0.9")) == (
        "refusing to promote artifact 'model' v1.0.0 to 'staging': 'metrics.json:acc>=0.9' failed (acc = 0.85) "
        "— the metrics recorded at that version must pass every check"
    )
    assert err(pv("model", "promote", "model", "v1.0.0", "staging", "--require", "metrics.json:loss<0.1")) == (
        "refusing to promote artifact 'model' v1.0.0 to 'staging': 'metrics.json:loss<0.1' failed: "
        "'loss' is not in 'metrics.json' — the metrics recorded at that version must pass every check"
    )
    assert "'scores.json' does not exist at commit" in err(
        pv("model", "promote", "model", "v1.0.0", "staging", "--require", "scores.json:acc>0"))
    assert err(pv("model", "promote", "model", "v1.0.0", "staging", "--require", "acc>0.9")).startswith(
        "invalid metric check 'acc>0.9' in --require — write FILE:KEY OP VALUE")
    assert tag_names() == ["model@v1.0.0"]


def test_metrics_are_read_at_the_versions_commit_not_the_workspace(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    gen({"metrics.json": json.dumps({"acc": 0.1})})  # uncommitted, and a later commit
    git_commit("worse metrics")
    pv.ok("model", "promote", "model", "v1.0.0", "staging", "--require", "metrics.json:acc>=0.9")


def test_gates_declared_in_pv_yaml_apply_to_their_stage(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    new_version(pv, "m2", acc=0.8)
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    pv.ok("model", "promote", "model", "v1.0.0", "staging")  # no gates for staging
    assert err(pv("model", "promote", "model", "v1.0.0", "prod")).startswith(
        "refusing to promote artifact 'model' v1.0.0 to 'prod': 'metrics.json:acc>=0.9' failed (acc = 0.8)")
    new_version(pv, "m3", acc=0.92)
    pv.ok("model", "register", "model", "--bump", "minor")
    res = pv.ok("model", "promote", "model", "v1.1.0", "prod")
    assert "  'metrics.json:acc>=0.9' passed (acc = 0.92)\n" in res.stdout


def test_gates_read_pv_tracked_metrics_from_the_cache(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    git("rm", "-q", "--cached", "metrics.json")
    gen({"metrics.json": json.dumps({"eval": {"acc": 0.97}})})
    pv.ok("add", "metrics.json")
    git_commit("track metrics with pv")
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    os.chmod("metrics.json", 0o644)
    os.unlink("metrics.json")  # not needed in the workspace: it comes from the cache
    res = pv.ok("model", "promote", "model", "v1.0.0", "staging", "--require", "metrics.json:eval.acc>0.96")
    assert "'metrics.json:eval.acc>0.96' passed (eval.acc = 0.97)" in res.stdout
    assert err(pv("model", "promote", "model", "v1.0.0", "prod", "--require", "metrics.json:eval.acc>=0.99")) \
        .startswith("refusing to promote artifact 'model' v1.0.0 to 'prod': 'metrics.json:eval.acc>=0.99' failed "
                    "(eval.acc = 0.97)")
    assert err(pv("model", "promote", "model", "v1.0.0", "prod")).startswith(  # the pv.yaml gate
        "refusing to promote artifact 'model' v1.0.0 to 'prod': 'metrics.json:acc>=0.9' failed: 'acc' is not in")


def test_promote_refuses_unknown_or_current_versions(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    assert err(pv("model", "promote", "model", "v1.0.0", "prod")) == (
        "artifact 'model' has no registered versions — register one with 'pv model register model'")
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    assert err(pv("model", "promote", "model", "v9.0.0", "prod")) == (
        "version 'v9.0.0' of artifact 'model' is not registered (versions: v1.0.0) — see 'pv model show model'")
    pv.ok("model", "promote", "model", "latest", "prod")
    assert err(pv("model", "promote", "model", "1.0.0", "prod")) == (
        "version v1.0.0 of artifact 'model' is already in stage 'prod' — see 'pv model history model'")
    assert err(pv("model", "promote", "model", "v1.0.0", "Prod")).startswith("invalid stage name 'Prod'")


# -- rollback ------------------------------------------------------------------------------------
def three_in_prod(pv) -> list[str]:  # type: ignore[no-untyped-def]
    commits = [git("rev-parse", "HEAD").strip()]
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    pv.ok("model", "promote", "model", "v1.0.0", "prod")
    for i, content in ((2, "m2"), (3, "m3")):
        commits.append(new_version(pv, content))
        pv.ok("model", "register", "model", "--version", f"v{i}.0.0")
        pv.ok("model", "promote", "model", f"v{i}.0.0", "prod")
    return commits


def test_rollback_chain_goes_back_one_version_at_a_time(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    c1, c2, c3 = three_in_prod(pv)
    assert show(pv)["model"]["stages"] == {"prod": "v3.0.0"}
    res = pv.ok("model", "rollback", "model", "prod")
    assert res.stdout.splitlines()[0] == (
        "Rolled back 'prod' of model from v3.0.0 to v2.0.0 (tags 'model#prod!#4', 'model#prod#5')")
    assert git("rev-parse", "model#prod!#4^{commit}").strip() == c3
    assert git("rev-parse", "model#prod#5^{commit}").strip() == c2
    assert show(pv)["model"]["stages"] == {"prod": "v2.0.0"}
    pv.ok("model", "rollback", "model", "prod")
    assert show(pv)["model"]["stages"] == {"prod": "v1.0.0"}
    assert git("rev-parse", "model#prod#7^{commit}").strip() == c1
    assert err(pv("model", "rollback", "model", "prod")) == (
        "stage 'prod' of artifact 'model' has no earlier version to roll back to (v1.0.0 is the only one that "
        "held it) — promote another version with 'pv model promote model VERSION prod'"
    )
    # promoting again after rollbacks works as usual, and a rollback then returns to v1
    pv.ok("model", "promote", "model", "v3.0.0", "prod")
    pv.ok("model", "rollback", "model", "prod")
    assert show(pv)["model"]["stages"] == {"prod": "v1.0.0"}
    assert git("tag", "-n1", "model#prod!#4").split(None, 1)[1].strip() == \
        "Rolling back stage prod of artifact model from v3.0.0 to v2.0.0"


def test_rollback_needs_a_stage_holder(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    assert err(pv("model", "rollback", "model", "prod")) == (
        "no version of artifact 'model' is in stage 'prod' — promote one with 'pv model promote model VERSION prod'")


# -- show / history ------------------------------------------------------------------------------
def test_show_json_and_tables(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    c1, c2, c3 = three_in_prod(pv)
    pv.ok("model", "promote", "model", "v2.0.0", "staging")
    assert show(pv) == {"model": {  # GTO's keys ('gto show --json'), then pv's
        "version": "v3.0.0", "stage": {"prod": "v3.0.0", "staging": "v2.0.0"}, "registered": True, "active": True,
        "latest": "v3.0.0", "stages": {"prod": "v3.0.0", "staging": "v2.0.0"}, "deprecated": False}}
    one = show(pv, "model")  # a list of versions, as 'gto show model --json'
    assert [(v["version"], v["commit_hexsha"], [s["stage"] for s in v["stages"]], v["ref"]) for v in one] == [
        ("v3.0.0", c3, ["prod"], "model@v3.0.0"), ("v2.0.0", c2, ["staging"], "model@v2.0.0"),
        ("v1.0.0", c1, [], "model@v1.0.0"),
    ]
    assert [(v["commit"], v["stage_names"], v["tag"]) for v in one][0] == (c3, ["prod"], "model@v3.0.0")  # pv's
    assert one[0]["author"] == "Test User"
    assert pv.ok("model", "show").stdout.splitlines() == [
        "name   latest  #prod   #staging", "model  v3.0.0  v3.0.0  v2.0.0"]
    assert pv.ok("model", "show", "--md").stdout.splitlines()[:3] == [
        "| name | latest | #prod | #staging |", "|---|---|---|---|", "| model | v3.0.0 | v3.0.0 | v2.0.0 |"]
    assert pv.ok("model", "show", "model").stdout.splitlines()[0].split() == [
        "version", "stages", "commit", "created", "author", "status"]
    assert err(pv("model", "show", "nope")).startswith("artifact 'nope' has no registered versions")


def test_show_with_an_empty_registry(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    assert pv.ok("model", "show").stdout == "No artifacts are registered yet.\n"
    assert show(pv) == {}


def test_history_json_lists_every_event_newest_first(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    c1, c2, _ = three_in_prod(pv)
    pv.ok("model", "rollback", "model", "prod")
    events = json.loads(pv.ok("model", "history", "model", "--json").stdout)
    # tag times have one-second resolution: stage events are ordered by their counter, and a
    # registration comes before the stage events of the same second
    stage_events = [(e["event"], e["version"], e["tag"]) for e in events if e["stage"] is not None]
    assert stage_events == [
        ("assignment", "v2.0.0", "model#prod#5"), ("unassignment", "v3.0.0", "model#prod!#4"),
        ("assignment", "v3.0.0", "model#prod#3"), ("assignment", "v2.0.0", "model#prod#2"),
        ("assignment", "v1.0.0", "model#prod#1"),
    ]
    assert sorted((e["event"], e["version"], e["tag"]) for e in events if e["stage"] is None) == [
        ("registration", "v1.0.0", "model@v1.0.0"), ("registration", "v2.0.0", "model@v2.0.0"),
        ("registration", "v3.0.0", "model@v3.0.0"),
    ]
    assert [e["time"] for e in events] == sorted((e["time"] for e in events), reverse=True)
    assert events[-1]["tag"] == "model@v1.0.0"
    last = events[-1]
    assert (last["commit"], last["author"], last["author_email"], last["message"]) == (
        c1, "Test User", "test@example.com", "Registering artifact model version v1.0.0")
    assert events[0]["commit"] == c2 and events[0]["artifact"] == "model"
    assert last["time"][:4].isdigit() and last["time"][10] == "T"  # ISO 8601
    table = pv.ok("model", "history", "model").stdout.splitlines()
    assert table[0].split() == ["time", "event", "version", "stage", "tag", "author", "commit", "message"]
    assert len(table) == 9


# -- deprecate -----------------------------------------------------------------------------------
def test_deprecate_a_version_hands_its_stage_back(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    three_in_prod(pv)
    res = pv.ok("model", "deprecate", "model", "v3.0.0")
    assert res.stdout.splitlines()[0] == "Created tag 'model@v3.0.0!#4': deregistered model v3.0.0"
    assert {k: show(pv)["model"][k] for k in ("latest", "stages", "deprecated", "version", "stage")} == {
        "latest": "v2.0.0", "stages": {"prod": "v2.0.0"}, "deprecated": False, "version": "v2.0.0",
        "stage": {"prod": "v2.0.0"}}
    assert err(pv("model", "promote", "model", "v3.0.0", "staging")).startswith(
        "version v3.0.0 of artifact 'model' is deprecated (deregistered)")
    assert err(pv("model", "deprecate", "model", "v3.0.0")).startswith(
        "version v3.0.0 of artifact 'model' is not an active registered version")


def test_deprecate_the_artifact(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    pv.ok("model", "deprecate", "model", "-m", "replaced by churn-v2")
    assert "model@deprecated#1" in tag_names()
    assert git("tag", "-n1", "model@deprecated#1").split(None, 1)[1].strip() == "replaced by churn-v2"
    assert show(pv)["model"]["deprecated"] is True
    assert err(pv("model", "deprecate", "model")).startswith("artifact 'model' is already deprecated")
    assert err(pv("model", "promote", "model", "v1.0.0", "prod")).startswith("artifact 'model' is deprecated")


# -- tags written by GTO -------------------------------------------------------------------------
def test_reads_a_registry_written_by_gto(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    c1 = git("rev-parse", "HEAD").strip()
    c2 = new_version(pv, "m2")
    for name, rev in (("model@v0.0.1", c1), ("model@v0.0.2", c2), ("model#prod#1", c1), ("model#dev#2", c2),
                      ("model@v0.0.2!", c2), ("release-1", c2)):
        git("tag", "-a", name, "-m", f"gto {name}", rev)
    git("tag", "lightweight@v9.0.0", c2)  # GTO ignores lightweight tags, so does pv
    assert show(pv) == {"model": {"version": "v0.0.1", "stage": {"prod": "v0.0.1"}, "registered": True, "active": True,
                                  "latest": "v0.0.1", "stages": {"prod": "v0.0.1"}, "deprecated": False}}
    res = pv.ok("model", "promote", "model", "v0.0.1", "staging")
    assert "model#staging#3" in res.stdout  # GTO's counter continues


# -- push, and get from a fresh clone ------------------------------------------------------------
@pytest.fixture
def origin(model_repo: Path, tmp_path: Path, pv) -> Path:  # type: ignore[no-untyped-def]
    """A bare Git clone as 'origin', and a local pv remote as the default one (committed)."""
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    git_commit("pv remote")
    bare = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(model_repo), str(bare))
    git("remote", "add", "origin", str(bare))
    return bare


def test_push_sends_the_tags_to_origin_and_the_data_to_the_pv_remote(origin: Path, tmp_path: Path, pv) -> None:  # type: ignore[no-untyped-def]
    res = pv.ok("model", "register", "model", "--version", "v1.0.0", "--push")
    assert res.stdout.splitlines()[-1] == "Pushed to origin: model@v1.0.0"
    pv.ok("model", "promote", "model", "v1.0.0", "prod", "--push")
    remote_tags = git("ls-remote", "--tags", str(origin))
    assert "refs/tags/model@v1.0.0" in remote_tags and "refs/tags/model#prod#1" in remote_tags
    assert len(list((tmp_path / "store").rglob("*"))) > 0  # the model's object went to the pv remote
    assert git("cat-file", "-t", "model@v1.0.0", cwd=origin).strip() == "tag"


def test_push_needs_an_origin(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    assert err(pv("model", "register", "model", "--push")) == (
        "there is no Git remote 'origin' to push the tag to — add one with 'git remote add origin URL', or drop --push")
    assert tag_names() == []


def test_get_by_stage_from_a_fresh_clone_that_has_only_the_remote(origin: Path, tmp_path: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("model", "register", "model", "--version", "v1.0.0", "--push")
    pv.ok("model", "promote", "model", "v1.0.0", "prod", "--push")
    new_version(pv, "m2")
    git("push", "-q", "origin", "main")
    pv.ok("model", "register", "model", "--version", "v2.0.0", "--push")
    pv.ok("model", "promote", "model", "v2.0.0", "staging", "--push")
    clone = tmp_path / "deploy"
    git("clone", "-q", str(origin), str(clone))
    assert not (clone / "model.pkl").exists() and not (clone / ".pv" / "cache").exists()
    res = pv.ok("model", "get", "model", "--stage", "prod", "-o", "served.pkl", cwd=clone)
    assert res.stdout == "Got model v1.0.0 -> served.pkl (2 B)\n"
    assert (clone / "served.pkl").read_text() == "m1"
    pv.ok("model", "get", "model", cwd=clone)  # the latest version, to its file name
    assert (clone / "model.pkl").read_text() == "m2"
    assert err(pv("model", "get", "model", "--stage", "staging", cwd=clone)) == (
        f"'{clone / 'model.pkl'}' already exists — use --force to replace it, or -o PATH")
    pv.ok("model", "get", "model", "--version", "v1.0.0", "--force", cwd=clone)
    assert (clone / "model.pkl").read_text() == "m1"


def test_get_without_the_object_anywhere_says_so(model_repo: Path, tmp_path: Path, pv) -> None:  # type: ignore[no-untyped-def]
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "empty"))
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    subprocess.run(["chmod", "-R", "u+w", ".pv/cache"], check=True)
    subprocess.run(["rm", "-rf", ".pv/cache"], check=True)
    message = err(pv("model", "get", "model", "-o", "out.pkl"))
    assert message.startswith("'model.pkl' at commit ")
    assert "is not in the cache nor on 'store'" in message
    assert not Path("out.pkl").exists()


def test_get_a_directory_and_a_file_inside_it(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": "artifacts:\n  bundle: {path: models/bundle}\n  weights: {path: models/bundle/w.bin}\n",
         "models": {"bundle": {"w.bin": "weights", "cfg": {"a.json": "{}"}}}})
    os.chmod("models/bundle/w.bin", 0o755)
    pv.ok("add", "models/bundle")
    git_commit("bundle")
    pv.ok("model", "register", "bundle", "--version", "v1.0.0")
    pv.ok("model", "register", "weights", "--version", "v1.0.0")
    res = pv.ok("model", "get", "bundle", "-o", "out")
    assert res.stdout == "Got bundle v1.0.0 -> out (2 files, 9 B)\n"
    assert (Path("out/w.bin").read_text(), Path("out/cfg/a.json").read_text()) == ("weights", "{}")
    assert os.access("out/w.bin", os.X_OK) and os.access("out/cfg/a.json", os.W_OK)
    pv.ok("model", "get", "weights", "-o", "w.bin")
    assert Path("w.bin").read_text() == "weights"


def test_get_an_artifact_tracked_by_git(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": "artifacts:\n  tiny: {path: tiny.json}\n", "tiny.json": '{"w": 1}'})
    git_commit("tiny model in git")
    pv.ok("model", "register", "tiny")
    gen({"tiny.json": '{"w": 2}'})
    git_commit("tiny v2")
    pv.ok("model", "get", "tiny", "--version", "v0.0.1", "-o", "old.json")
    assert Path("old.json").read_text() == '{"w": 1}'


# -- Python API ----------------------------------------------------------------------------------
def test_api_model_path_and_open_model(model_repo: Path, tmp_path: Path, pv) -> None:  # type: ignore[no-untyped-def]
    import pipever.api as api

    pv.ok("model", "register", "model", "--version", "v1.0.0")
    pv.ok("model", "promote", "model", "v1.0.0", "prod")
    new_version(pv, "m2")
    pv.ok("model", "register", "model", "--version", "v2.0.0")
    path = api.model_path("model", stage="prod")
    assert Path(path).read_text() == "m1" and ".pv/cache" in path
    assert Path(api.model_path("model")).read_text() == "m2"
    with api.open_model("model", version="v1.0.0", mode="r") as f:
        assert f.read() == "m1"
    with api.open_model("model", stage="prod", repo=str(model_repo)) as fb:
        assert fb.read() == b"m1"
    with pytest.raises(Exception, match="no version of artifact 'model' is in stage 'staging'"):
        api.model_path("model", stage="staging")


def test_api_model_path_materializes_a_directory_once(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    import pipever.api as api

    gen({"pv.yaml": "artifacts:\n  bundle: {path: bundle}\n", "bundle": {"a.txt": "a", "b.txt": "b"}})
    pv.ok("add", "bundle")
    git_commit("bundle")
    pv.ok("model", "register", "bundle")
    first = api.model_path("bundle")
    assert sorted(p.name for p in Path(first).iterdir()) == ["a.txt", "b.txt"]
    assert api.model_path("bundle", version="v0.0.1") == first
    with pytest.raises(Exception, match="is a directory"):
        with api.open_model("bundle"):
            pass


def test_get_an_artifact_recorded_in_pv_lock(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    from pipever.objects.hashing import hash_bytes
    from pipever.repo import Repo

    with Repo() as r:
        oid = r.odb.add_bytes(b"trained weights")
    assert oid == hash_bytes(b"trained weights")
    gen({
        "pv.yaml": "stages:\n  train:\n    cmd: python train.py\n    outs: [out/model.bin]\n"
                   "artifacts:\n  net: {path: out/model.bin, type: model}\n",
        "pv.lock": f"schema: '1'\nstages:\n  train:\n    cmd: python train.py\n"
                   f"    outs: [{{path: out/model.bin, oid: '{oid}', size: 15}}]\n",
    })
    git_commit("trained by a stage")
    pv.ok("model", "register", "net", "--version", "v1.0.0")
    pv.ok("model", "get", "net", "-o", "net.bin")
    assert Path("net.bin").read_bytes() == b"trained weights"


def test_register_accepts_an_artifact_undeclared_at_the_commit_but_declared_now(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": PV_YAML + "  extra:\n    path: model.pkl\n"})
    pv.ok("model", "register", "extra", "--version", "v1.0.0")  # pv.yaml of HEAD lacks it
    pv.ok("model", "get", "extra", "-o", "x.pkl")
    assert Path("x.pkl").read_text() == "m1"


# -- GTO's JSON shape ----------------------------------------------------------------------------
# Keys of 'gto show --json', 'gto show NAME --json' and 'gto history NAME --json' (GTO 1.x), in order
GTO_REGISTRY_KEYS = ["version", "stage", "registered", "active"]
GTO_VERSION_KEYS = ["artifact", "commit_hexsha", "version", "enrichments", "registrations", "deregistrations", "stages",
                    "is_active", "activated_at", "created_at", "author", "author_email", "message", "ref", "discovered"]
GTO_REGISTRATION_KEYS = ["priority", "addition", "artifact", "created_at", "author", "author_email", "message",
                         "commit_hexsha", "tag", "version"]
GTO_STAGE_KEYS = ["artifact", "commit_hexsha", "version", "stage", "assignments", "unassignments", "is_active",
                  "activated_at", "created_at", "author", "author_email", "message", "ref"]
GTO_EVENT_KEYS = ["timestamp", "artifact", "event", "priority", "version", "stage", "commit", "author",
                  "author_email", "message", "ref"]


def test_show_and_history_json_have_gtos_shape(model_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    """What GTO prints for the same tags (checked side by side with GTO itself), pv's fields after."""
    c1 = git("rev-parse", "HEAD").strip()
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    pv.ok("model", "promote", "model", "v1.0.0", "staging")
    reg = show(pv)["model"]
    assert list(reg)[:4] == GTO_REGISTRY_KEYS and reg["stage"] == {"staging": "v1.0.0"}
    [version] = show(pv, "model")
    assert list(version)[:len(GTO_VERSION_KEYS)] == GTO_VERSION_KEYS
    assert (version["commit_hexsha"], version["is_active"], version["discovered"]) == (c1, True, False)
    [registration] = version["registrations"]
    assert list(registration) == GTO_REGISTRATION_KEYS
    assert (registration["priority"], registration["addition"], registration["tag"]) == (3, True, "model@v1.0.0")
    [stage] = version["stages"]
    assert list(stage) == GTO_STAGE_KEYS and stage["ref"] == "model#staging#1"
    assert [a["event"] for a in stage["assignments"]] == ["assignment"] and stage["assignments"][0]["priority"] == 5
    events = json.loads(pv.ok("model", "history", "model", "--json").stdout)
    assert [list(e)[:len(GTO_EVENT_KEYS)] for e in events] == [GTO_EVENT_KEYS] * 2
    assert [(e["event"], e["priority"], e["ref"]) for e in events] == [
        ("assignment", 5, "model#staging#1"), ("registration", 3, "model@v1.0.0")]
    assert events[0]["timestamp"][10] == "T"


# -- metrics of a fresh clone --------------------------------------------------------------------
PIPELINE = """stages:
  train:
    cmd: >-
      python -c "import json; open('model.pkl', 'w').write('m'); json.dump({'acc': 0.93}, open('metrics.json', 'w'))"
    outs: [model.pkl]
    metrics:
      - metrics.json:
          cache: false
artifacts:
  model:
    path: model.pkl
    type: model
"""


def test_promote_require_reads_uncached_metrics_from_git_in_a_fresh_clone(pv_repo: Path, pv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """'cache: false' metrics live in Git; a clone without the cache must still pass the gate."""
    gen({"pv.yaml": PIPELINE})
    pv.ok("repro")
    git_commit("train")
    pv.ok("model", "register", "model", "--version", "v1.0.0")
    clone = tmp_path / "clone"
    git("clone", "-q", str(pv_repo), str(clone))
    assert not (clone / ".pv/cache/blake3").exists()
    res = pv.ok("model", "promote", "model", "v1.0.0", "prod", "--require", "metrics.json:acc>=0.9", cwd=clone)
    assert "  'metrics.json:acc>=0.9' passed (acc = 0.93)\n" in res.stdout
    res = pv("model", "promote", "model", "v1.0.0", "staging", "--require", "metrics.json:acc>=0.95", cwd=clone)
    assert res.exit_code == 1 and "'metrics.json:acc>=0.95' failed (acc = 0.93)" in res.stderr


def test_get_with_repo_reads_another_repositorys_registry_in_a_temp_clone(origin: Path, tmp_path: Path, pv) -> None:  # type: ignore[no-untyped-def]
    """'pv model get NAME --repo URL' as 'pv get' does: nothing but OUT is left behind, and no
    pv repository is needed where it runs."""
    pv.ok("model", "register", "model", "--version", "v1.0.0", "--push")
    pv.ok("model", "promote", "model", "v1.0.0", "prod", "--push")
    new_version(pv, "m2")
    git("push", "-q", "origin", "main")
    pv.ok("model", "register", "model", "--version", "v2.0.0", "--push")
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    res = pv.ok("model", "get", "model", "--repo", str(origin), "--stage", "prod", "-o", "served.pkl", cwd=deploy)
    assert res.stdout == "Got model v1.0.0 -> served.pkl (2 B)\n"
    assert (deploy / "served.pkl").read_text() == "m1"
    pv.ok("model", "get", "model", "--repo", str(origin), cwd=deploy)  # latest, to its file name
    assert (deploy / "model.pkl").read_text() == "m2"
    assert sorted(p.name for p in deploy.iterdir()) == ["model.pkl", "served.pkl"]
    assert err(pv("model", "get", "nope", "--repo", str(origin), cwd=deploy)).startswith(
        "artifact 'nope' has no registered versions")
