"""pv repro: staleness for each cause, no-op runs, failures and -k, parallel stages, Ctrl-C,
targets (-s, --downstream, --dry, -f), foreach/matrix and interpolation, the example project."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git

TWO_STAGES = """\
stages:
  upper:
    cmd: tr a-z A-Z < in.txt > up.txt && echo ran upper >> log.txt
    deps: [in.txt]
    params: [upper.n]
    outs: [up.txt]
  count:
    cmd: wc -c < up.txt > count.txt && echo ran count >> log.txt
    deps: [up.txt]
    outs: [count.txt]
"""


def runs(root: Path) -> list[str]:
    """Commands run so far (each stage appends to log.txt, which no stage declares)."""
    log = root / "log.txt"
    return log.read_text().split("\n")[:-1] if log.exists() else []


def lock(root: Path) -> str:
    return (root / "pv.lock").read_text()


@pytest.fixture
def two(pv_repo: Path, pv: PvRunner) -> Path:
    gen({"pv.yaml": TWO_STAGES, "in.txt": "hello\n", "params.yaml": "upper:\n  n: 1\n  other: 1\n"})
    pv.ok("repro")
    (pv_repo / "log.txt").unlink()
    return pv_repo


def test_repro_runs_stages_in_order_and_records_them(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": TWO_STAGES, "in.txt": "hello\n", "params.yaml": "upper:\n  n: 1\n"})
    res = pv.ok("repro")
    assert runs(pv_repo) == ["ran upper", "ran count"]
    assert res.stdout.index("Running stage 'upper':\n> tr a-z") < res.stdout.index("Running stage 'count':")
    assert (pv_repo / "up.txt").read_text() == "HELLO\n"
    text = lock(pv_repo)
    assert text.startswith("schema: '1'\nstages:\n  upper:\n    cmd: tr a-z A-Z < in.txt > up.txt")
    assert "params:\n      params.yaml:\n        upper.n: 1\n" in text
    assert "- path: up.txt\n      oid: blake3:" in text
    assert set((pv_repo / ".gitignore").read_text().split()) == {"/pv_plots", "/up.txt", "/count.txt"}
    assert "Staged in Git: .gitignore pv.lock" in res.stdout
    assert {"pv.lock", ".gitignore"} <= set(git("diff", "--cached", "--name-only").split())


def test_noop_repro_runs_nothing(two: Path, pv: PvRunner) -> None:
    res = pv.ok("repro")
    assert runs(two) == []
    assert res.stdout == ("Stage 'upper' didn't change, skipping\nStage 'count' didn't change, skipping\n"
                          "Data and pipelines are up to date.\n")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: (r / "pv.yaml").write_text(TWO_STAGES.replace("tr a-z A-Z", "tr a-y A-Y")), "changed cmd"),
        (lambda r: (r / "in.txt").write_text("bye\n"), {"changed deps": {"in.txt": "modified"}}),
        (lambda r: (r / "params.yaml").write_text("upper:\n  n: 2\n  other: 1\n"),
         {"changed params": {"params.yaml": {"upper.n": "modified"}}}),
    ],
    ids=["cmd", "dep", "param"],
)
def test_a_changed_input_reruns_the_stage_and_what_depends_on_it(two: Path, pv: PvRunner, change: object,
                                                                  reason: object) -> None:
    change(two)  # type: ignore[operator]
    status = pv("status", "--json")
    assert status.exit_code == 0
    import json

    assert json.loads(status.stdout)["upper"] == [reason]
    pv.ok("repro")
    expected = ["ran upper"] if reason == {"changed params": {"params.yaml": {"upper.n": "modified"}}} else None
    if expected:  # a param change leaves up.txt as it was: count is not stale then
        assert runs(two) == expected
    else:
        assert runs(two)[0] == "ran upper"
    assert pv.ok("repro").stdout.endswith("Data and pipelines are up to date.\n")


def test_an_untracked_param_does_not_make_the_stage_stale(two: Path, pv: PvRunner) -> None:
    (two / "params.yaml").write_text("upper:\n  n: 1\n  other: 2\n")
    pv.ok("repro")
    assert runs(two) == []


@pytest.mark.parametrize("how", ["deleted", "modified"])
def test_a_missing_or_changed_output_reruns_the_stage(two: Path, pv: PvRunner, how: str) -> None:
    if how == "deleted":
        (two / "count.txt").unlink()
    else:
        (two / "count.txt").write_text("42\n")
    assert f'"count.txt": "{how}"' in pv.ok("status", "--json").stdout
    pv.ok("repro", "--no-run-cache")
    assert runs(two) == ["ran count"]
    assert (two / "count.txt").read_text().strip() == "6"


def test_allow_missing_skips_stages_whose_only_change_is_missing_data(two: Path, pv: PvRunner) -> None:
    (two / "count.txt").unlink()
    res = pv.ok("repro", "--allow-missing", "--no-run-cache")
    assert "Stage 'count' has missing data but no other changes, skipping\n" in res.stdout
    assert runs(two) == []
    (two / "in.txt").write_text("other\n")
    pv.ok("repro", "--allow-missing", "--no-run-cache")
    assert runs(two) == ["ran upper", "ran count"]


def test_outputs_missing_only_from_the_cache_are_stored_without_rerunning(two: Path, pv: PvRunner) -> None:
    shutil.rmtree(two / ".pv/cache/blake3")
    status = json.loads(pv.ok("status", "--json").stdout)
    assert status["upper"] == [{"changed outs": {"up.txt": "not in cache"}}]
    pv.ok("repro", "--dry")
    assert not (two / ".pv/cache/blake3").exists()  # a dry run writes nothing
    res = pv.ok("repro")
    assert "Stage 'upper' didn't change, skipping" in res.stdout
    assert runs(two) == []  # nothing reran: the outputs were as recorded
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert pv.ok("fsck").exit_code == 0
    (two / "up.txt").unlink()
    pv.ok("checkout")  # the stored copy is the recorded one
    assert (two / "up.txt").read_text() == "HELLO\n"


def test_always_changed_stage_runs_every_time(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": "stages:\n  tick:\n    cmd: echo ran >> log.txt\n    always_changed: true\n"})
    pv.ok("repro")
    assert "always changed" in pv.ok("status").stdout
    pv.ok("repro")
    assert runs(pv_repo) == ["ran", "ran"]


def test_frozen_stage_is_skipped(two: Path, pv: PvRunner) -> None:
    pv.ok("freeze", "upper")
    (two / "in.txt").write_text("changed\n")
    res = pv.ok("repro")
    assert "Stage 'upper' is frozen, skipping" in res.stdout
    assert runs(two) == []
    pv.ok("unfreeze", "upper")
    pv.ok("repro")
    assert runs(two) == ["ran upper", "ran count"]


def test_force_single_downstream_and_dry(two: Path, pv: PvRunner) -> None:
    pv.ok("repro", "-f", "-s", "count")
    assert runs(two) == ["ran count"]
    (two / "in.txt").write_text("again\n")
    res = pv.ok("repro", "--dry")
    # SPEC §8.1: the stages stale now (as DVC lists them), then the ones that may follow
    assert res.stdout == ("Would run stage 'upper':\n> tr a-z A-Z < in.txt > up.txt && echo ran upper >> log.txt\n"
                          "May also run stage 'count' (if upstream outputs change)\n")
    assert runs(two) == ["ran count"]
    pv.ok("repro", "upper")  # a target with what it needs, not what needs it
    assert runs(two) == ["ran count", "ran upper"]
    pv.ok("repro", "--downstream", "-f", "upper")
    assert runs(two)[2:] == ["ran upper", "ran count"]


def test_unknown_target_is_an_error(two: Path, pv: PvRunner) -> None:
    res = pv("repro", "nope")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: stage 'nope' does not exist in 'pv.yaml' — see 'pv stage list'\n"


FAILING = """\
stages:
  bad:
    cmd: echo partial > bad.txt && echo oops >&2 && exit 3
    deps: [in.txt]
    outs: [bad.txt]
  after:
    cmd: cp bad.txt after.txt
    deps: [bad.txt]
    outs: [after.txt]
  other:
    cmd: sleep 0.3 && echo fine > other.txt
    deps: [in.txt]
    outs: [other.txt]
"""


def test_failing_stage_records_nothing_and_stops_downstream(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": FAILING, "in.txt": "x\n"})
    res = pv("repro", "bad", "after")
    assert res.exit_code == 1
    assert res.stderr.endswith("ERROR: failed to reproduce 'bad': command 'echo partial > bad.txt && echo oops >&2 "
                               "&& exit 3' exited with code 3 — fix it and rerun 'pv repro'; the stages that "
                               "succeeded are recorded in pv.lock\n")
    assert "oops\n" in res.stderr
    assert (pv_repo / "bad.txt").read_text() == "partial\n"  # left for inspection, not cached
    assert not (pv_repo / "pv.lock").exists()
    assert not (pv_repo / "after.txt").exists()
    from pipever.objects.hashing import hash_bytes

    oid = hash_bytes(b"partial\n")
    assert not (pv_repo / ".pv/cache" / oid.relpath()).exists()


def test_keep_going_runs_independent_branches(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": FAILING, "in.txt": "x\n"})
    res = pv("repro", "-k")
    assert res.exit_code == 1
    assert "Stage 'after' skipped: a stage it depends on failed" in res.stdout
    assert (pv_repo / "other.txt").read_text() == "fine\n"
    text = lock(pv_repo)
    assert "other:" in text and "bad:" not in text and "after:" not in text
    res = pv("repro")  # without -k the run stops at the failure: other is not needed anymore
    assert res.exit_code == 1 and "Stage 'other' didn't change" in res.stdout


def test_a_stage_whose_inputs_cannot_be_read_fails_alone(pv_repo: Path, pv: PvRunner) -> None:
    gen({"other.yaml": "k: [unclosed\n", "in.txt": "x\n", "pv.yaml": (
        "stages:\n  a:\n    cmd: echo a > a.txt\n    params: [{other.yaml: [k]}]\n    outs: [a.txt]\n"
        "  b:\n    cmd: echo b > b.txt\n    deps: [in.txt]\n    outs: [b.txt]\n")})
    res = pv("repro", "-k")
    assert res.exit_code == 1
    assert "ERROR: failed to reproduce 'a': other.yaml:2: invalid YAML" in res.stderr
    assert (pv_repo / "b.txt").exists() and "b:" in lock(pv_repo)


@pytest.mark.parametrize(("params", "files", "why"), [
    ("[nokey]", {"params.yaml": "n: 1\n"}, "param 'nokey' is not in 'params.yaml'"),
    ("[{other.yaml: [k]}]", {}, "params file 'other.yaml' does not exist"),
    ("[{other.yaml: }]", {}, "params file 'other.yaml' does not exist"),
], ids=["key", "file", "whole-file"])
def test_a_stage_whose_params_are_missing_fails_and_is_not_recorded(
        pv_repo: Path, pv: PvRunner, params: str, files: dict[str, str], why: str) -> None:
    # as DVC (MissingParamsError): a typo in a param name must not run the stage and leave it
    # stale forever ('deleted' in pv status after every repro)
    gen({**files, "pv.yaml": f"stages:\n  a:\n    cmd: echo a > a.txt\n    params: {params}\n    outs: [a.txt]\n"})
    for _ in range(2):  # nor restore it from the run cache of a run that should not have happened
        res = pv("repro")
        assert res.exit_code == 1
        assert f"ERROR: failed to reproduce 'a': {why} — " in res.stderr
        assert not (pv_repo / "a.txt").exists() and not (pv_repo / "pv.lock").exists()
    assert pv("repro", "-f").exit_code == 1 and not (pv_repo / "a.txt").exists()


PARALLEL = """\
stages:
  left:
    cmd: {py} -c "import time; print(time.time()); time.sleep(0.6); print(time.time())" > left.txt && echo left says hi
    deps: [in.txt]
    outs: [left.txt]
  right:
    cmd: {py} -c "import time; print(time.time()); time.sleep(0.6); print(time.time())" > right.txt && echo right says hi
    deps: [in.txt]
    outs: [right.txt]
  join:
    cmd: cat left.txt right.txt > join.txt
    deps: [left.txt, right.txt]
    outs: [join.txt]
"""


def test_parallel_stages_overlap_and_prefix_their_output(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": PARALLEL.format(py=sys.executable), "in.txt": "x\n"})
    res = pv.ok("repro", "-j", "2")
    (l0, l1), (r0, r1) = ([float(v) for v in (pv_repo / f).read_text().split()] for f in ("left.txt", "right.txt"))
    assert l0 < r1 and r0 < l1  # the two runs overlap in time
    assert "[left] left says hi\n" in res.stdout and "[right] right says hi\n" in res.stdout
    assert "[join] Running stage 'join':\n" in res.stdout
    assert "join:" in lock(pv_repo)


SIGINT_PIPELINE = """\
stages:
  quick:
    cmd: echo done > quick.txt
    deps: [in.txt]
    outs: [quick.txt]
  slow:
    cmd: echo $$ > slow.pid && sleep 30 && echo never > slow.txt
    deps: [in.txt]
    outs: [slow.txt]
"""


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "term"])
def test_ctrl_c_stops_running_commands_and_keeps_completed_stages(pv_repo: Path, pv: PvRunner, sig: int,
                                                                  code: int) -> None:
    gen({"pv.yaml": SIGINT_PIPELINE, "in.txt": "x\n"})
    proc = subprocess.Popen([sys.executable, "-m", "pipever", "repro", "-j", "2"], cwd=pv_repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not ((pv_repo / "slow.pid").exists() and (pv_repo / "pv.lock").exists()):
        time.sleep(0.02)
    time.sleep(0.1)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert err.endswith("ERROR: interrupted\n" if sig == signal.SIGINT else "failed: terminated\n")
    pid = int((pv_repo / "slow.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    text = lock(pv_repo)
    assert "quick:" in text and "slow:" not in text
    assert not (pv_repo / ".pv/tmp/lock.info").exists()
    res = pv.ok("repro", "--dry")
    assert res.stdout.startswith("Stage 'quick' didn't change, skipping\nWould run stage 'slow':")


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its reaper is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("watch", ["poll", "thread"])  # the stage guard's two ways of watching pv
def test_a_killed_pv_takes_its_running_commands_with_it(pv_repo: Path, pv: PvRunner, watch: str) -> None:
    gen({"pv.yaml": SIGINT_PIPELINE, "in.txt": "x\n"})
    env = {**os.environ, "PV_STAGE_GUARD_THREAD": "1" if watch == "thread" else ""}
    proc = subprocess.Popen([sys.executable, "-m", "pipever", "repro", "-j", "2"], cwd=pv_repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (pv_repo / "slow.pid").exists():
        time.sleep(0.02)
    time.sleep(0.1)
    proc.kill()  # SIGKILL: pv gets no chance to stop the command itself
    proc.communicate(timeout=30)
    pid = int((pv_repo / "slow.pid").read_text())
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not running(pid), "the stage's shell outlived pv"
    # the next run takes over the dead holder's lock and completes the stage
    pv.ok("repro", "quick")
    assert "slow:" not in lock(pv_repo) and not (pv_repo / "slow.txt").exists()


def test_foreach_matrix_and_interpolation(pv_repo: Path, pv: PvRunner) -> None:
    gen({
        "params.yaml": "greeting: hello\nsizes: [1, 2]\n",
        "pv.yaml": (
            "stages:\n"
            "  shard:\n    foreach: [a, b]\n    do:\n"
            "      cmd: echo ${greeting} ${item} > ${item}.txt\n      outs: ['${item}.txt']\n"
            "  grid:\n    matrix:\n      size: ${sizes}\n      kind: [x]\n"
            "    cmd: echo ${item.kind}${item.size} > grid-${item.kind}-${item.size}.txt\n"
            "    outs:\n    - grid-${item.kind}-${item.size}.txt\n"
        ),
    })
    pv.ok("repro", "shard")
    assert (pv_repo / "a.txt").read_text() == "hello a\n" and (pv_repo / "b.txt").read_text() == "hello b\n"
    assert not (pv_repo / "grid-x-1.txt").exists()
    pv.ok("repro")
    assert (pv_repo / "grid-x-2.txt").read_text() == "x2\n"
    listed = [line.split()[0] for line in pv.ok("stage", "list").stdout.splitlines()]
    assert listed == ["shard@a", "shard@b", "grid@1-x", "grid@2-x"]
    (pv_repo / "params.yaml").write_text("greeting: bye\nsizes: [1, 2]\n")
    res = pv.ok("repro")
    assert "Running stage 'shard@a'" in res.stdout and "Running stage 'grid@1-x'" not in res.stdout
    assert (pv_repo / "a.txt").read_text() == "bye a\n"


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "project"


def test_example_project_reruns_only_downstream_of_a_param(pv_repo: Path, pv: PvRunner,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    shutil.copytree(EXAMPLE, pv_repo, dirs_exist_ok=True)
    (pv_repo / "data").mkdir()
    subprocess.run([sys.executable, "src/make_data.py", "300", "1", "data/raw.csv"], check=True)
    pv.ok("add", "data/raw.csv")
    res = pv.ok("repro")
    for name in ("prepare", "featurize", "train", "evaluate"):
        assert f"Running stage '{name}'" in res.stdout
    assert (pv_repo / "metrics.json").exists() and (pv_repo / "model.json").exists()
    params = (pv_repo / "params.yaml").read_text()
    (pv_repo / "params.yaml").write_text(params.replace("epochs: 60", "epochs: 61"))
    res = pv.ok("repro")
    assert "Stage 'prepare' didn't change" in res.stdout and "Stage 'featurize' didn't change" in res.stdout
    assert "Running stage 'train'" in res.stdout and "Running stage 'evaluate'" in res.stdout
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_push_and_repro_pull_move_stage_outputs_through_the_remote(pv_repo: Path, pv: PvRunner,
                                                                   tmp_path: Path) -> None:
    gen({"data.txt": "data\n", "pv.yaml": (
        "stages:\n  copy:\n    cmd: tr a-z A-Z < data.txt > out.txt && echo 1 > m.json && echo ran >> log.txt\n"
        "    deps: [data.txt]\n    outs: [out.txt]\n    metrics: [{m.json: {cache: false}}]\n")})
    pv.ok("add", "data.txt")
    pv.ok("remote", "add", "-d", "storage", str(tmp_path / "remote"))
    pv.ok("repro")
    assert pv.ok("push").stdout.endswith("2 files pushed\n")  # data.txt and out.txt, not the uncached m.json
    shutil.rmtree(pv_repo / ".pv/cache")
    for rel in ("data.txt", "out.txt"):
        (pv_repo / rel).unlink()
    res = pv("repro")
    assert res.exit_code == 1 and "dependency 'data.txt' of stage 'copy' does not exist" in res.stderr
    res = pv.ok("repro", "--pull")
    assert "Stage 'copy' is cached: restored its outputs" in res.stdout  # from pv.lock: the run is not repeated
    assert runs(pv_repo) == ["ran"]
    assert (pv_repo / "out.txt").read_text() == "DATA\n"
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_python_api_repro(two: Path) -> None:
    from pipever import Repo
    from pipever.commands.pipeline.repro import Outcome, ReproFailedError

    (two / "in.txt").write_text("api\n")
    with Repo() as repo:
        res = repo.repro()
        assert res.outcomes == {"upper": Outcome.RAN, "count": Outcome.RAN}
        assert repo.repro(["count"]).outcomes == {"upper": Outcome.UNCHANGED, "count": Outcome.UNCHANGED}
    (two / "pv.yaml").write_text(TWO_STAGES.replace("wc -c < up.txt", "false"))
    with Repo() as repo, pytest.raises(ReproFailedError) as info:
        repo.repro()
    assert info.value.result.outcomes["count"] is Outcome.FAILED


def test_wdir_list_cmd_and_environment(pv_repo: Path, pv: PvRunner) -> None:
    gen({"sub": {"in.txt": "x\n"}})
    pv.ok("stage", "add", "-n", "env", "-w", "sub", "-d", "in.txt", "-o", "out.txt",
          'echo "$PV_STAGE $(basename $PV_ROOT) $(basename $PWD)" > out.txt')
    assert "    wdir: sub\n" in (pv_repo / "pv.yaml").read_text()
    pv.ok("repro")
    assert (pv_repo / "sub/out.txt").read_text() == f"env {pv_repo.name} sub\n"
    assert "- path: sub/in.txt\n" in lock(pv_repo) and (pv_repo / "sub/.gitignore").read_text() == "/out.txt\n"


def test_a_params_file_written_by_a_stage_makes_it_upstream(pv_repo: Path, pv: PvRunner) -> None:
    # as in DVC, a params file is a dependency: the stage that writes it runs first, and
    # 'pv repro train' brings it up to date; listed after train so pv.yaml order cannot help
    gen({"seed": "1\n", "pv.yaml": (
        "stages:\n  train:\n    cmd: cat cfg.yaml > model.txt\n    params:\n    - cfg.yaml: [lr]\n"
        "    outs: [model.txt]\n"
        "  gen:\n    cmd: sed 's/^/lr= /' seed | tr = ':' > cfg.yaml\n    deps: [seed]\n    outs: [cfg.yaml]\n")})
    res = pv.ok("repro")
    assert res.stdout.index("Running stage 'gen'") < res.stdout.index("Running stage 'train'")
    assert '"gen" -> "train";' in pv.ok("dag", "--dot").stdout
    (pv_repo / "seed").write_text("2\n")
    pv.ok("repro", "train")
    assert (pv_repo / "model.txt").read_text() == "lr: 2\n"


def test_a_missing_wdir_is_named_rather_than_the_command(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": "stages:\n  a:\n    cmd: echo a > a.txt\n    wdir: nodir\n    outs: [a.txt]\n"})
    res = pv("repro")
    assert res.exit_code == 1
    assert ("ERROR: failed to reproduce 'a': working directory 'nodir' does not exist — " in res.stderr), res
    assert not (pv_repo / "pv.lock").exists()
