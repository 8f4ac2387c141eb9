"""``pv migrate dvc`` (SPEC §15) on DVC-format repositories the tests write themselves (see
``tests/dvcfixture.py``; DVC is no test dependency)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipever.objects.hashing import hash_bytes
from tests.dvcfixture import DvcRepo, md5
from tests.helpers import PvRunner, git, git_commit
from tests.httpserve import serve_dir

CSV = b"id,value\n1,10\n2,20\n"
IMAGES = {"a.png": b"\x89PNG fake one", "sub/b.png": b"\x89PNG fake two", "c.txt": b"three\n"}


def oid(data: bytes) -> str:
    return str(hash_bytes(data))


def staged() -> dict[str, str]:
    """Path -> status letter of what is staged in Git."""
    out = git("diff", "--cached", "--name-status", "--no-renames")
    return {line.split("\t")[1]: line.split("\t")[0] for line in out.splitlines()}


@pytest.fixture
def dvc(git_repo: Path) -> DvcRepo:
    return DvcRepo(git_repo, git_repo.parent / "dvcstore")


def _pointer(rel: str) -> dict:
    return yaml.safe_load(Path(rel).read_text())


def _status_clean(pv: PvRunner) -> None:
    res = pv.ok("status")
    assert "Data and pipelines are up to date." in res.stdout, res


def test_files_and_directories_become_pointers_staged_not_committed(dvc: DvcRepo, pv: PvRunner) -> None:
    dvc.add_file("data/raw.csv", CSV)
    dvc.add_dir("images", IMAGES)
    head = git_commit("dvc project")
    res = pv.ok("migrate", "dvc")
    assert "Migrated data/raw.csv.dvc -> data/raw.csv.pv" in res.stdout
    assert "each checked against its DVC md5" in res.stdout
    raw = _pointer("data/raw.csv.pv")["outs"][0]
    assert raw == {"path": "raw.csv", "oid": oid(CSV), "size": len(CSV)}
    images = _pointer("images.pv")["outs"][0]
    assert images["nfiles"] == 3 and images["size"] == sum(map(len, IMAGES.values()))
    # the same oid pv itself gives the directory
    os.rename("images.pv", "images.pv.bak")
    git("rm", "-q", "--cached", "images.pv")
    assert pv.ok("add", "images") and _pointer("images.pv")["outs"][0]["oid"] == images["oid"]
    os.replace("images.pv.bak", "images.pv")
    git("add", "images.pv")
    _status_clean(pv)
    assert git("rev-parse", "HEAD").strip() == head  # nothing committed
    index = staged()
    for rel in ("data/raw.csv.dvc", "images.dvc", ".dvc/config", ".dvcignore"):
        assert index.get(rel) == "D" and not Path(rel).exists()
    for rel in ("data/raw.csv.pv", "images.pv", ".pv/config.yaml", ".pvignore"):
        assert index.get(rel) == "A"
    assert "/raw.csv" in Path("data/.gitignore").read_text().splitlines()
    # the data is in pv's cache (read-only) and pv can check it out again
    obj = Path(".pv/cache/blake3") / oid(CSV)[7:9] / oid(CSV)[9:]
    assert obj.read_bytes() == CSV and not os.access(obj, os.W_OK) or os.geteuid() == 0
    os.unlink("data/raw.csv")
    pv.ok("checkout")
    assert Path("data/raw.csv").read_bytes() == CSV
    # DVC's cache is left on disk, still hidden from Git
    assert Path(".dvc/cache").is_dir() and "cache" not in git("status", "--porcelain")


def test_dvc_symlinks_into_its_cache_become_pv_checkouts(dvc: DvcRepo, pv: PvRunner) -> None:
    h = dvc.add_file("data.csv", CSV, workspace=False)
    dvc.add_dir("images", IMAGES)
    (dvc.root / ".dvc" / "config").write_text((dvc.root / ".dvc" / "config").read_text() + "[cache]\n    type = symlink\n")
    os.symlink(dvc.root / ".dvc" / "cache" / "files" / "md5" / h[:2] / h[2:], "data.csv")
    os.unlink("images/c.txt")
    os.symlink(dvc.root / ".dvc" / "cache" / "files" / "md5" / md5(b"three\n")[:2] / md5(b"three\n")[2:], "images/c.txt")
    git_commit("dvc project with symlinks")
    pv.ok("migrate", "dvc")
    dvc_cache = os.path.realpath(".dvc/cache")
    for rel in ("data.csv", "images/c.txt"):
        assert not os.path.realpath(rel).startswith(dvc_cache), rel
    assert Path("data.csv").read_bytes() == CSV and Path("images/c.txt").read_bytes() == b"three\n"
    assert yaml.safe_load(Path(".pv/config.yaml").read_text())["cache"] == {"type": "symlink"}
    _status_clean(pv)


PIPELINE = """\
stages:
  prepare:
    cmd: python -c "import shutil; shutil.copy('data/raw.csv', 'prepared.csv')"
    deps: [data/raw.csv, src/prepare.py]
    params: [prepare.seed]
    outs: [prepared.csv]
  train:
    cmd: python -c "open('model.bin', 'w').write('m'); open('metrics.json', 'w').write('{\\"acc\\"'+chr(58)+' 0.9}')"
    deps: [prepared.csv, src]
    params: [train]
    outs: [model.bin]
    metrics: [{metrics.json: {cache: false}}]
  report:
    cmd: python -c "open('report.txt', 'w').write('r')"
    wdir: reports
    deps: [../model.bin]
    params: [{../params.yaml: [train.lr]}]
    outs: [report.txt]
"""
TRAIN_CMD = yaml.safe_load(PIPELINE)["stages"]["train"]["cmd"]
PARAMS = "prepare:\n  seed: 7\ntrain:\n  lr: 0.1\n  epochs: 3\n"
SRC = {"src/prepare.py": b"print('prepare')\n", "src/util/helpers.py": b"X = 1\n"}


def _pipeline(dvc: DvcRepo, *, where: str = "cache") -> None:
    root = dvc.root
    dvc.add_file("data/raw.csv", CSV)
    (root / "params.yaml").write_text(PARAMS)
    for rel, data in SRC.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "prepared.csv").write_bytes(CSV)
    (root / "model.bin").write_bytes(b"m")
    (root / "metrics.json").write_bytes(b'{"acc": 0.9}')
    (root / "reports").mkdir()
    (root / "reports" / "report.txt").write_bytes(b"r")
    for data in (CSV, b"m", b"r"):
        dvc.put(data, dvc.hash_of(data), where=where)
    src_files = {"prepare.py": SRC["src/prepare.py"], "util/helpers.py": SRC["src/util/helpers.py"]}
    lp = dvc.lock_path
    dvc.write_pipeline(PIPELINE, {
        "prepare": {"cmd": "python -c \"import shutil; shutil.copy('data/raw.csv', 'prepared.csv')\"",
                    "deps": [lp("data/raw.csv", data=CSV), lp("src/prepare.py", data=SRC["src/prepare.py"])],
                    "params": {"params.yaml": {"prepare.seed": 7}},
                    "outs": [lp("prepared.csv", data=CSV)]},
        "train": {"cmd": TRAIN_CMD,
                  "deps": [lp("prepared.csv", data=CSV), lp("src", files=src_files)],
                  "params": {"params.yaml": {"train": {"lr": 0.1, "epochs": 3}}},
                  "outs": [lp("metrics.json", data=b'{"acc": 0.9}'), lp("model.bin", data=b"m")]},
        "report": {"cmd": "python -c \"open('report.txt', 'w').write('r')\"",
                   "deps": [lp("../model.bin", data=b"m")],
                   "params": {"../params.yaml": {"train.lr": 0.1}},
                   "outs": [lp("report.txt", data=b"r")]},
    })
    (root / ".gitignore").write_text("/prepared.csv\n/model.bin\n")
    (root / "reports" / ".gitignore").write_text("/report.txt\n")


def test_pipeline_with_params_and_metrics_runs_nothing_after_migration(dvc: DvcRepo, pv: PvRunner) -> None:
    _pipeline(dvc)
    git_commit("dvc pipeline")
    res = pv.ok("migrate", "dvc")
    assert "Migrated dvc.lock -> pv.lock" in res.stdout
    assert Path("pv.yaml").read_text() == PIPELINE and not Path("dvc.yaml").exists()
    lock = yaml.safe_load(Path("pv.lock").read_text())
    train = lock["stages"]["train"]
    assert train["params"] == {"params.yaml": {"train": {"lr": 0.1, "epochs": 3}}}
    assert {"path": "metrics.json", "oid": oid(b'{"acc": 0.9}'), "size": 12} in train["outs"]
    report = lock["stages"]["report"]
    assert report["deps"] == [{"path": "model.bin", "oid": oid(b"m"), "size": 1}]  # wdir-relative -> repo paths
    assert report["params"] == {"params.yaml": {"train.lr": 0.1}}
    assert report["outs"][0]["path"] == "reports/report.txt"
    _status_clean(pv)
    dry = pv.ok("repro", "--dry")
    assert "Would run" not in dry.stdout and "May also run" not in dry.stdout
    # the lock is live: a changed param makes exactly its stages stale
    Path("params.yaml").write_text(PARAMS.replace("lr: 0.1", "lr: 0.2"))
    dry = pv.ok("repro", "--dry")
    assert "Would run stage 'train'" in dry.stdout and "Would run stage 'prepare'" not in dry.stdout


def test_stage_stale_for_dvc_stays_stale_for_pv(dvc: DvcRepo, pv: PvRunner) -> None:
    _pipeline(dvc)
    Path("src/prepare.py").write_text("print('changed')\n")  # DVC would run 'prepare' and 'train' again
    git_commit("dvc pipeline, edited code")
    pv.ok("migrate", "dvc")
    dry = pv.ok("repro", "--dry")
    assert "Would run stage 'prepare'" in dry.stdout and "Would run stage 'train'" in dry.stdout
    status = pv("status").stdout
    assert "prepare:" in status and "train:" in status and "report:" not in status
    run = pv.ok("repro").stdout
    assert "Stage 'report' didn't change, skipping" in run  # train's output came out the same


def test_data_only_on_the_remote_is_fetched_verified_and_checked_out(dvc: DvcRepo, pv: PvRunner) -> None:
    dvc.add_file("data/raw.csv", CSV, where="remote", workspace=False)
    dvc.add_dir("images", IMAGES, where="remote", workspace=False)
    git_commit("dvc project, data pushed")
    assert "Would copy 4 file(s)" in pv.ok("migrate", "dvc", "--dry").stdout
    assert not Path(".pv").exists()  # the plan read the .dir manifest from the remote into memory
    res = pv.ok("migrate", "dvc")
    assert "4 from DVC's remote" in res.stdout
    assert Path("data/raw.csv").read_bytes() == CSV
    assert Path("images/sub/b.png").read_bytes() == IMAGES["sub/b.png"]
    _status_clean(pv)


def test_pipeline_outputs_only_on_the_remote(dvc: DvcRepo, pv: PvRunner) -> None:
    _pipeline(dvc, where="remote")
    for rel in ("prepared.csv", "model.bin", "reports/report.txt"):
        os.unlink(rel)
    git_commit("dvc pipeline, outputs pushed")
    pv.ok("migrate", "dvc")
    assert Path("model.bin").read_bytes() == b"m"
    _status_clean(pv)
    assert "Would run" not in pv.ok("repro", "--dry").stdout


def test_corrupt_object_in_cache_is_read_from_the_remote_instead(dvc: DvcRepo, pv: PvRunner) -> None:
    h = dvc.add_file("data/raw.csv", CSV, where="both", workspace=False)
    dvc.put(b"bit rot", h, where="cache")
    git_commit("dvc project")
    pv.ok("migrate", "dvc")
    assert Path("data/raw.csv").read_bytes() == CSV
    assert _pointer("data/raw.csv.pv")["outs"][0]["oid"] == oid(CSV)


def test_corrupt_object_is_named_and_not_migrated(dvc: DvcRepo, pv: PvRunner) -> None:
    h = dvc.add_file("data/raw.csv", CSV, workspace=False)
    dvc.put(b"bit rot", h, where="cache")
    dvc.add_file("ok.csv", b"fine\n")
    git_commit("dvc project")
    res = pv("migrate", "dvc")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: 1 object(s) cannot be migrated")
    assert f"data/raw.csv (md5 {h}: corrupt in DVC's cache (md5 mismatch))" in res.stderr
    assert Path("data/raw.csv.dvc").exists() and not Path("data/raw.csv.pv").exists()
    assert not Path("ok.csv.pv").exists() and staged() == {}
    res = pv.ok("migrate", "dvc", "--allow-missing")
    assert "left as it is: data/raw.csv.dvc (its data is missing)" in res.stderr
    assert Path("ok.csv.pv").exists() and Path("data/raw.csv.dvc").exists()
    assert not any(p.read_bytes() == b"bit rot" for p in Path(".pv/cache").rglob("*") if p.is_file())


def test_missing_data_changes_nothing_unless_allow_missing(dvc: DvcRepo, pv: PvRunner) -> None:
    dvc.add_file("data/raw.csv", CSV)
    lost = dvc.add_file("lost.bin", b"\x00gone", workspace=False)
    for p in Path(".dvc/cache").rglob(lost[2:]):
        os.chmod(p, 0o644)
        p.unlink()
    git_commit("dvc project")
    res = pv("migrate", "dvc")
    assert res.exit_code == 1
    assert "ERROR: 1 object(s) cannot be migrated, nothing was changed: lost.bin (md5 " in res.stderr
    assert "in neither DVC's cache nor its remote" in res.stderr and "--allow-missing" in res.stderr
    assert not Path(".pv").exists() and staged() == {} and Path("data/raw.csv.dvc").exists()
    res = pv.ok("migrate", "dvc", "--allow-missing")
    assert "not migrated: lost.bin" in res.stderr and "left as it is: lost.bin.dvc" in res.stderr
    assert Path("lost.bin.dvc").exists() and not Path("lost.bin.pv").exists()
    assert Path(".dvc/config").exists()  # DVC still needs it for what it keeps
    assert staged().get("data/raw.csv.dvc") == "D" and staged().get("data/raw.csv.pv") == "A"


def test_keep_dvc_leaves_dvc_files_for_both_tools(dvc: DvcRepo, pv: PvRunner) -> None:
    _pipeline(dvc)
    git_commit("dvc pipeline")
    pv.ok("migrate", "dvc", "--keep-dvc")
    for rel in ("data/raw.csv.dvc", "dvc.yaml", "dvc.lock", ".dvc/config", ".dvcignore"):
        assert Path(rel).exists()
    index = staged()
    assert not any(v == "D" for v in index.values())
    assert {"data/raw.csv.pv", "pv.yaml", "pv.lock", ".pvignore"} <= set(index)
    _status_clean(pv)


def test_dry_prints_the_plan_and_changes_nothing(dvc: DvcRepo, pv: PvRunner) -> None:
    _pipeline(dvc)
    git_commit("dvc pipeline")
    before = sorted(str(p) for p in Path(".").rglob("*") if ".git/" not in str(p))
    res = pv.ok("migrate", "dvc", "--dry")
    assert "Would migrate data/raw.csv.dvc -> data/raw.csv.pv" in res.stdout
    assert "Would migrate dvc.lock -> pv.lock" in res.stdout
    assert "Would copy 3 file(s) into pv's cache" in res.stdout
    assert "Would remove DVC's files: data/raw.csv.dvc .dvcignore dvc.yaml dvc.lock" in res.stdout
    assert sorted(str(p) for p in Path(".").rglob("*") if ".git/" not in str(p)) == before
    assert staged() == {}


def test_pv_remote_receives_the_migrated_data(dvc: DvcRepo, pv: PvRunner, tmp_path: Path) -> None:
    dvc.add_file("data/raw.csv", CSV)
    dvc.add_dir("images", IMAGES)
    git_commit("dvc project")
    res = pv("migrate", "dvc", "--pv-remote", "nowhere")
    assert res.exit_code == 1 and "nowhere" in res.stderr and not Path(".pv").exists()
    res = pv.ok("migrate", "dvc", "--pv-remote", "store")  # the DVC remote, carried over
    assert "Pushed 5 object(s) to pv remote 'store'" in res.stdout
    assert "Cache and remote 'store' are in sync." in pv.ok("status", "-c").stdout
    # pv's objects sit beside DVC's in the same folder
    store = dvc.remote
    assert store is not None
    assert [p for p in store.rglob("*") if p.is_file()]  # pv's objects, in pv's layout, beside DVC's


def test_interrupted_migration_completes_on_rerun(dvc: DvcRepo, pv: PvRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    _pipeline(dvc)
    dvc.add_dir("images", IMAGES)
    git_commit("dvc project")
    from pipever.commands.migrate import sources

    real = sources.DvcObjects.ingest
    calls = {"n": 0}

    def interrupted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(sources.DvcObjects, "ingest", interrupted)
    assert pv("migrate", "dvc").exit_code == 130
    assert Path("dvc.lock").exists() and Path("images.dvc").exists()
    monkeypatch.setattr(sources.DvcObjects, "ingest", real)
    # interrupted again while DVC's files are removed: the second .dvc file is still there
    import pipever.commands.migrate.dvc as cmd

    real_unlink = os.unlink
    removed: list[str] = []

    def unlink_twice(path, *a, **k):  # type: ignore[no-untyped-def]
        if str(path).endswith((".dvc", "dvc.yaml", "dvc.lock", ".dvcignore")):
            removed.append(str(path))
            if len(removed) == 2:
                raise KeyboardInterrupt
        return real_unlink(path, *a, **k)

    monkeypatch.setattr(cmd.os, "unlink", unlink_twice)
    assert pv("migrate", "dvc").exit_code == 130
    monkeypatch.setattr(cmd.os, "unlink", real_unlink)
    assert Path("dvc.yaml").exists()
    pv.ok("migrate", "dvc")
    for rel in ("images.dvc", "data/raw.csv.dvc", "dvc.yaml", "dvc.lock", ".dvc/config"):
        assert not Path(rel).exists(), rel
    _status_clean(pv)
    assert "Would run" not in pv.ok("repro", "--dry").stdout
    assert pv("migrate", "dvc").exit_code == 1  # nothing left to migrate


def test_dvc2_repository_with_crlf_text_files(git_repo: Path, pv: PvRunner) -> None:
    dvc = DvcRepo(git_repo, git_repo.parent / "store2", legacy=True)
    crlf = b"a,b\r\n1,2\r\n"
    h = dvc.add_file("table.csv", crlf)
    assert h != md5(crlf)  # DVC 2 recorded the md5 of 'a,b\n1,2\n'
    dvc.add_dir("docs", {"x.txt": b"x\r\ny\r\n", "bin.dat": b"\x00\r\n\x01"})
    dvc.add_file("run.sh", b"#!/bin/sh\r\necho hi\r\n")
    os.chmod("run.sh", 0o755)  # DVC 2 did not record the execute bit
    git_commit("dvc 2 project")
    os.unlink("table.csv")  # only in DVC 2's cache layout now
    pv.ok("migrate", "dvc")
    assert Path("table.csv").read_bytes() == crlf  # the bytes as they were, CRLF kept
    assert _pointer("table.csv.pv")["outs"][0]["oid"] == oid(crlf)
    assert _pointer("run.sh.pv")["outs"][0]["isexec"] is True
    _status_clean(pv)


def test_dvc_import_becomes_a_pv_import_pointer(dvc: DvcRepo, pv: PvRunner) -> None:
    sha = "f31f5c4cdae787b4bdeb97a717687d44667d9e62"
    dvc.add_import("data.xml", b"<xml/>", url="https://github.com/org/registry", path="data/data.xml",
                   rev_lock=sha, rev="v2")
    git_commit("dvc import")
    pv.ok("migrate", "dvc")
    p = _pointer("data.xml.pv")
    assert p["deps"] == [{"path": "data/data.xml",
                          "repo": {"url": "https://github.com/org/registry", "rev": "v2", "rev_lock": sha}}]
    assert p["outs"][0]["oid"] == oid(b"<xml/>") and "md5" not in p
    _status_clean(pv)


def test_config_is_mapped_and_secrets_go_to_local_config(dvc: DvcRepo, pv: PvRunner, tmp_path: Path) -> None:
    dvc.add_file("data.csv", CSV)
    Path(".dvc/config").write_text(
        "[core]\n    remote = s3store\n    autostage = true\n"
        "['remote \"s3store\"']\n    url = s3://bucket/path\n    endpointurl = http://127.0.0.1:9\n"
        "    region = eu-west-1\n    checksum_jobs = 4\n"
        "['remote \"local\"']\n    url = ../../shared/store\n"
        "[cache]\n    type = \"reflink,copy\"\n"
    )
    Path(".dvc/config.local").write_text(
        "['remote \"s3store\"']\n    access_key_id = AKIAXX\n    secret_access_key = s3cr3t\n"
        f"[cache]\n    dir = {tmp_path / 'shared-cache'}\n"
    )
    git_commit("dvc project")
    res = pv.ok("migrate", "dvc")
    repo_conf = yaml.safe_load(Path(".pv/config.yaml").read_text())
    local_conf = yaml.safe_load(Path(".pv/config.local.yaml").read_text())
    assert repo_conf["remote"]["s3store"] == {"url": "s3://bucket/path", "endpoint_url": "http://127.0.0.1:9",
                                               "region": "eu-west-1"}
    assert repo_conf["remote"]["local"] == {"url": "../shared/store"}  # rebased from .dvc/ to the root
    assert repo_conf["core"] == {"remote": "s3store", "autostage": True}
    assert repo_conf["cache"] == {"type": "reflink,copy"}
    assert local_conf["remote"]["s3store"] == {"access_key_id": "AKIAXX", "secret_access_key": "s3cr3t"}
    assert local_conf["cache"]["dir"] == str(tmp_path / "shared-cache")
    assert "s3cr3t" not in res.stdout + res.stderr
    assert "pv honours these only from local config" in res.stdout
    assert "'checksum_jobs' is not carried over" in res.stderr
    assert (tmp_path / "shared-cache" / "blake3").is_dir()  # the data went to the configured cache
    assert ".pv/config.local.yaml" not in staged()
    _status_clean(pv)


def test_not_a_dvc_repository(git_repo: Path, pv: PvRunner) -> None:
    res = pv("migrate", "dvc")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: ") and "is not a DVC repository" in res.stderr


def test_stage_never_run_and_stage_with_lost_outputs(dvc: DvcRepo, pv: PvRunner) -> None:
    _pipeline(dvc)
    lock = yaml.safe_load(Path("dvc.lock").read_text())
    del lock["stages"]["report"]  # never run: its output does not exist
    Path("dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    os.unlink("reports/report.txt")
    os.unlink("model.bin")  # train's output: in neither cache nor remote
    for p in Path(".dvc/cache").rglob(md5(b"m")[2:]):
        os.chmod(p, 0o644)
        p.unlink()
    git_commit("dvc pipeline, model lost")
    res = pv("migrate", "dvc")
    assert res.exit_code == 1 and "model.bin (md5 " in res.stderr
    res = pv.ok("migrate", "dvc", "--allow-missing")
    assert "no pv.lock entry for dvc.yaml:train (its outputs' data was not found): 'pv repro' will run it" in res.stderr
    assert set(yaml.safe_load(Path("pv.lock").read_text())["stages"]) == {"prepare"}
    dry = pv.ok("repro", "--dry").stdout
    assert "Would run stage 'train'" in dry and "Would run stage 'prepare'" not in dry


def test_unknown_dvc_remote_is_an_error(dvc: DvcRepo, pv: PvRunner) -> None:
    dvc.add_file("data.csv", CSV)
    git_commit("dvc project")
    res = pv("migrate", "dvc", "--remote", "elsewhere")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: DVC remote 'elsewhere' is not in .dvc/config — name one of store with --remote\n"
    assert not Path(".pv").exists()


def test_dvc_remote_pv_cannot_read_is_not_needed_when_the_cache_has_everything(dvc: DvcRepo, pv: PvRunner) -> None:
    dvc.add_file("data.csv", CSV)
    Path(".dvc/config").write_text("[core]\n    remote = drive\n['remote \"drive\"']\n    url = gdrive://folder-id\n")
    git_commit("dvc project on google drive")
    res = pv.ok("migrate", "dvc")
    assert "DVC remote 'drive' cannot be read by pv" in res.stderr
    assert "remote 'drive' is not carried over" in res.stderr
    assert yaml.safe_load(Path(".pv/config.yaml").read_text()) is None  # no remote, no default remote
    assert "core.remote is not carried over (remote 'drive' was not)" in res.stderr
    _status_clean(pv)


def test_pipeline_in_a_subfolder_keeps_its_lock_beside_it(dvc: DvcRepo, pv: PvRunner) -> None:
    """A ``sub/dvc.yaml`` becomes ``sub/pv.yaml`` with ``sub/pv.lock`` whose paths are relative to
    ``sub/`` (as pv reads a lock beside a pipeline file in a subfolder): status clean, nothing to run."""
    root = dvc.root
    (root / "sub").mkdir()
    (root / "sub" / "in.txt").write_bytes(b"in")
    (root / "sub" / "out.txt").write_bytes(b"in")
    (root / "sub" / ".gitignore").write_text("/out.txt\n")
    dvc.put(b"in", dvc.hash_of(b"in"), where="cache")
    lp = dvc.lock_path
    dvc.write_pipeline(
        "stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n",
        {"copy": {"cmd": "cp in.txt out.txt", "deps": [lp("in.txt", data=b"in")], "outs": [lp("out.txt", data=b"in")]}},
        where="sub",
    )
    git_commit("dvc pipeline in a subfolder")
    pv.ok("migrate", "dvc")
    assert Path("sub/pv.yaml").exists() and not Path("sub/dvc.yaml").exists()
    lock = yaml.safe_load(Path("sub/pv.lock").read_text())
    assert [d["path"] for d in lock["stages"]["copy"]["deps"]] == ["in.txt"]
    assert [o["path"] for o in lock["stages"]["copy"]["outs"]] == ["out.txt"]
    _status_clean(pv)
    dry = pv.ok("repro", "--dry", "-P")
    assert "Would run" not in dry.stdout and "May also run" not in dry.stdout


def test_dvc_import_url_becomes_a_pv_url_import_that_pv_update_refreshes(dvc: DvcRepo, pv: PvRunner,
                                                                          tmp_path: Path) -> None:
    """A ``dvc import-url`` file becomes pv's URL import pointer, which ``pv update`` understands:
    after the served file changes, the update downloads the new version."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "data.csv").write_bytes(CSV)
    with serve_dir(served) as base:
        url = f"{base}/data.csv"
        h = dvc.hash_of(CSV)
        Path("data.csv").write_bytes(CSV)
        dvc.put(CSV, h, where="cache")
        doc = {"md5": "0" * 32, "frozen": True, "deps": [{"checksum": md5(CSV), "size": len(CSV), "path": url}],
               "outs": [{"md5": h, "size": len(CSV), "hash": "md5", "path": "data.csv"}]}
        Path("data.csv.dvc").write_text(yaml.safe_dump(doc, sort_keys=False))
        Path(".gitignore").write_text("/data.csv\n")
        git_commit("dvc import-url")
        pv.ok("migrate", "dvc")
        p = _pointer("data.csv.pv")
        assert p["deps"][0]["path"] == url and p["outs"][0]["oid"] == oid(CSV)
        _status_clean(pv)
        new = CSV + b"3,30\n"
        (served / "data.csv").write_bytes(new)
        pv.ok("update", "data.csv.pv")
        assert Path("data.csv").read_bytes() == new
        assert _pointer("data.csv.pv")["outs"][0]["oid"] == oid(new)


def test_stage_with_a_url_dep_stays_up_to_date_until_the_url_changes(dvc: DvcRepo, pv: PvRunner,
                                                                      tmp_path: Path) -> None:
    """DVC records an HTTP dep's ETag (as 'checksum'): while the server still gives that ETag the
    migrated stage is up to date, as for DVC; once the content (and ETag) changes it is stale."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "raw.csv").write_bytes(CSV)
    with serve_dir(served, etag=True) as base:
        url = f"{base}/raw.csv"
        Path("copy.csv").write_bytes(CSV)
        dvc.put(CSV, dvc.hash_of(CSV), where="cache")
        lp = dvc.lock_path
        dvc.write_pipeline(
            f"stages:\n  get:\n    cmd: curl -s {url} -o copy.csv\n    deps: [{url}]\n    outs: [copy.csv]\n",
            {"get": {"cmd": f"curl -s {url} -o copy.csv",
                     "deps": [{"path": url, "checksum": '"' + md5(CSV) + '"', "size": len(CSV)}],
                     "outs": [lp("copy.csv", data=CSV)]}},
        )
        Path(".gitignore").write_text("/copy.csv\n")
        git_commit("dvc pipeline with a URL dep")
        pv.ok("migrate", "dvc")
        assert "get" in yaml.safe_load(Path("pv.lock").read_text())["stages"]
        _status_clean(pv)
        assert "Would run" not in pv.ok("repro", "--dry").stdout
        (served / "raw.csv").write_bytes(CSV + b"3,30\n")
        assert "Would run stage 'get'" in pv.ok("repro", "--dry").stdout
