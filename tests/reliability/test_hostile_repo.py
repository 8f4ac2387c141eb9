"""A repository whose content comes from someone else's commit (issue 16): pipelines, configs,
``.pv`` itself. pv never deletes what it cannot get back, never uses data outside the work tree
as its own, and never trusts a committed file with what only the machine's owner may set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit


# -- case 1: repro never deletes files Git tracks ----------------------------------------------
def test_repro_refuses_to_clear_an_output_directory_whose_files_git_tracks(pv_repo: Path, pv: PvRunner) -> None:
    gen({"src": {"main.py": "print(1)\n", "util.py": "x = 1\n"}})
    git_commit("source code")
    (pv_repo / "src" / "main.py").write_text("print(2)  # not committed yet\n")
    gen({"pv.yaml": "stages:\n  build:\n    cmd: mkdir -p src && touch src/built\n    outs: [src]\n"})
    git_commit("a stage whose output is the source folder")
    res = pv("repro")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("Stage 'build' failed: output 'src' of stage 'build' holds files tracked by Git: "
                                 "'src/main.py', 'src/util.py' (outputs are deleted before their stage runs: "
                                 "'git rm -r --cached src' hands them to pv, or fix the stage's outs)\nERROR: "), res
    assert (pv_repo / "src" / "main.py").read_text() == "print(2)  # not committed yet\n"
    assert not (pv_repo / "src" / "built").exists()


def test_repro_still_rewrites_an_uncached_output_kept_in_git(pv_repo: Path, pv: PvRunner) -> None:
    """``cache: false`` outputs committed to Git (metrics) are the usual DVC workflow: no refusal."""
    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo two > m.txt\n    outs: [{m.txt: {cache: false}}]\n", "m.txt": "one\n"})
    git_commit("output committed to Git")
    pv.ok("repro")
    assert (pv_repo / "m.txt").read_text() == "two\n"
    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo three > m.txt\n    outs: [{m.txt: {cache: false}}]\n"})
    pv.ok("repro")
    assert (pv_repo / "m.txt").read_text() == "three\n"


def test_repro_refuses_a_cached_output_file_git_tracks(pv_repo: Path, pv: PvRunner) -> None:
    gen({"notes.txt": "my notes\n"})
    git_commit("notes")
    (pv_repo / "notes.txt").write_text("my notes, edited\n")
    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo gen > notes.txt\n    outs: [notes.txt]\n"})
    res = pv("repro")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("Stage 's' failed: output 'notes.txt' of stage 's' holds files tracked by Git: 'notes.txt'"), res
    assert (pv_repo / "notes.txt").read_text() == "my notes, edited\n"


# -- cases 2, 3, 17: .pv, its local config and the cache are this work tree's own ----------------
def other_project(tmp_path: Path, pv: PvRunner) -> tuple[Path, list[Path]]:
    """Another pv repository next to the current one, with one object in its cache."""
    other = tmp_path / "other"
    other.mkdir()
    git("init", "-q", "-b", "main", cwd=other)
    pv.ok("init", cwd=other)
    gen({"precious.csv": "only copy\n"}, other)
    pv.ok("add", "precious.csv", cwd=other)
    objects = [p for p in (other / ".pv" / "cache").rglob("*") if p.is_file()]
    assert objects
    return other, objects


def test_a_pv_folder_that_is_a_symlink_is_refused(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    other, objects = other_project(tmp_path, pv)
    git("rm", "-rq", ".pv")
    shutil.rmtree(pv_repo / ".pv")
    os.symlink(other / ".pv", pv_repo / ".pv")
    git_commit("a .pv borrowed from another project")
    for args in (("status",), ("gc", "-w", "-f"), ("add", "x")):
        res = pv(*args)
        assert res.exit_code == 1, res
        assert res.stderr.startswith(f"ERROR: '.pv' in '{pv_repo}' is a symlink"), res
    assert all(p.exists() for p in objects)


def test_a_committed_cache_symlink_is_refused(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    other, objects = other_project(tmp_path, pv)
    shutil.rmtree(pv_repo / ".pv" / "cache", ignore_errors=True)
    os.symlink(other / ".pv" / "cache", pv_repo / ".pv" / "cache")
    git("add", "-f", ".pv/cache")
    git_commit("a cache borrowed from another project")
    res = pv("gc", "-w", "-f")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("ERROR: '.pv/cache' is a symlink committed to Git"), res
    assert all(p.exists() for p in objects)
    # the owner's own symlink (not in Git) is the owner's choice
    git("rm", "-q", "--cached", ".pv/cache")
    git("commit", "-qm", "drop it")
    assert pv("status").exit_code == 0


def test_a_committed_cache_dir_outside_the_work_tree_is_ignored(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    other, objects = other_project(tmp_path, pv)
    gen({".pv/config.yaml": f"cache:\n  dir: {other / '.pv' / 'cache'}\n"})
    git_commit("use another project's cache")
    res = pv("gc", "-w", "-f")
    assert res.exit_code == 0, res
    assert (f"WARNING: 'cache.dir' in the committed .pv/config.yaml points outside the work tree "
            f"('{other / '.pv' / 'cache'}'): ignored") in res.stderr, res
    assert all(p.exists() for p in objects)
    gen({"mine.csv": "mine\n"})
    pv.ok("add", "mine.csv")
    assert any((pv_repo / ".pv" / "cache").rglob("*")), "the default cache is used"
    # relative too, and through a symlink inside the work tree
    gen({".pv/config.yaml": "cache:\n  dir: ../../other/.pv/cache\n"})
    assert "points outside the work tree" in pv.ok("status").stderr
    os.symlink(other, pv_repo / "link")
    gen({".pv/config.yaml": "cache:\n  dir: ../link/.pv/cache\n"})
    assert "points outside the work tree" in pv.ok("gc", "-w", "-f").stderr
    assert all(p.exists() for p in objects)


def test_a_cache_dir_outside_from_local_or_global_config_or_env_is_honoured(
    pv_repo: Path, pv: PvRunner, tmp_path: Path, monkeypatch: object,
) -> None:
    shared = tmp_path / "shared-cache"
    pv.ok("config", "--local", "cache.dir", str(shared))
    gen({"a.csv": "a\n"})
    res = pv.ok("add", "a.csv")
    assert "WARNING" not in res.stderr
    assert any(shared.rglob("*"))
    # the committed config may keep the cache inside the work tree
    pv.ok("config", "--local", "--unset", "cache.dir")
    pv.ok("config", "cache.dir", "cache2")
    gen({"b.csv": "b\n"})
    assert "WARNING" not in pv.ok("add", "b.csv").stderr
    assert any((pv_repo / ".pv" / "cache2").rglob("*"))


def test_a_committed_config_local_yaml_is_ignored_with_a_warning(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    other, objects = other_project(tmp_path, pv)
    gen({".pv/config.local.yaml": f"cache:\n  dir: {other / '.pv' / 'cache'}\n"})
    git("add", "-f", ".pv/config.local.yaml")
    git_commit("a 'local' config from a commit")
    res = pv("gc", "-w", "-f")
    assert res.exit_code == 0, res
    assert ("WARNING: '.pv/config.local.yaml' is tracked by Git, so it may come from anyone's commit: "
            "ignored — run 'git rm --cached .pv/config.local.yaml' to use it as your local config") in res.stderr, res
    assert all(p.exists() for p in objects)
    git("rm", "-q", "--cached", ".pv/config.local.yaml")
    git_commit("untrack it")
    res = pv.ok("status")
    assert "WARNING" not in res.stderr


# -- case 11: a YAML alias bomb in params/metrics ----------------------------------------------
def test_a_yaml_alias_bomb_is_a_clear_error_not_a_hang(pv_repo: Path, pv: PvRunner) -> None:
    import resource

    from tests.reliability import harness as h
    from tests.unit.test_yamlio import bomb

    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo\n    params: [a0]\nmetrics: [metrics.yaml]\n",
         "params.yaml": "a0: [1]\n", "metrics.yaml": "acc: 1\n"})
    git_commit("baseline")

    def one_gb() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    for args, file in ((["params", "diff"], "params.yaml"), (["metrics", "show"], "metrics.yaml"),
                       (["exp", "show"], "params.yaml")):
        git("checkout", "--", ".")
        gen({file: bomb()})
        res = h.run_pv(args, pv_repo, timeout=60, preexec_fn=one_gb)
        assert res.returncode in (0, 1), (args, res)
        assert f"{file}:7: its aliases expand to more than 1000000 values" in res.stderr, (args, res)
        assert "Traceback" not in res.stderr and "MemoryError" not in res.stderr


# -- case 5: checkout never deletes files .pvignore hides from pv -------------------------------
def test_checkout_of_a_file_over_a_directory_keeps_pvignored_files(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": "*.log\n", "out": "a file version\n"})
    pv.ok("add", "out")
    git_commit("out is a file")
    os.unlink("out")
    gen({"out": {"part.csv": "a directory version\n"}})
    pv.ok("add", "out")
    git_commit("out is a directory")
    gen({"out": {"notes.log": "the user's own notes, never added\n"}})
    git("checkout", "-q", "HEAD~1", "--", "out.pv")
    res = pv("checkout", "out")
    assert res.exit_code == 1, res
    assert "out/notes.log" in res.stderr and res.stderr.startswith("ERROR: "), res
    assert Path("out/notes.log").read_text() == "the user's own notes, never added\n"
    res = pv("checkout", "--force", "out")
    assert res.exit_code == 0, res
    assert Path("out").read_text() == "a file version\n"


def test_checkout_of_a_file_over_a_subdirectory_keeps_pvignored_files(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": "*.log\n", "d": {"sub": "a file version\n", "x": "x\n"}})
    pv.ok("add", "d")
    git_commit("d/sub is a file")
    pv.ok("unprotect", "d")
    os.unlink("d/sub")
    gen({"d": {"sub": {"part.csv": "a directory version\n"}}})
    pv.ok("add", "d")
    git_commit("d/sub is a directory")
    gen({"d": {"sub": {"notes.log": "the user's own notes\n"}}})
    git("checkout", "-q", "HEAD~1", "--", "d.pv")
    res = pv("checkout", "d")
    assert res.exit_code == 1, res
    assert "Traceback" not in res.stderr and "unexpected" not in res.stderr, res
    assert "d/sub/notes.log" in res.stderr, res
    assert Path("d/sub/notes.log").read_text() == "the user's own notes\n"


# -- case 7: two pointers for one output --------------------------------------------------------
def test_two_pointer_files_naming_the_same_output_are_refused_naming_both(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data": {"a.csv": "a\n"}, "other": "other\n"})
    pv.ok("add", "data", "other")
    text = Path("other.pv").read_text()
    gen({"copy.pv": text.replace("path: other", "path: data")})
    git_commit("a second pointer for data")
    for args in (("status",), ("checkout", "--force"), ("gc", "-w", "-f"), ("commit",)):
        res = pv(*args)
        assert res.exit_code == 1, (args, res)
        assert res.stderr.startswith("ERROR: output 'data' is named by more than one pointer file: "
                                     "'copy.pv', 'data.pv' — "), (args, res)
    assert Path("data/a.csv").read_text() == "a\n"


# -- found: .pvignore files are the work tree's own ---------------------------------------------
def test_a_pvignore_symlinked_out_of_the_work_tree_is_not_read(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("TOP-SECRET-line\n")
    os.symlink(secret, pv_repo / ".pvignore")
    git("add", ".pvignore")
    git("commit", "-qm", "a .pvignore that is a link out of the work tree")
    gen({"TOP-SECRET-line": "x\n", "d": {"a": "a\n"}})
    for args in (("check-ignore", "-d", "TOP-SECRET-line"), ("add", "d")):
        res = pv(*args)
        assert res.exit_code == 1, (args, res)
        assert "TOP-SECRET" not in res.stdout, (args, res)
        assert res.stderr.startswith("ERROR: path '.pvignore' is a symlink to"), (args, res)


def test_a_pvignore_that_is_not_utf8_is_a_clear_error(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": b"*.log\n\xff\xfe\n", "d": {"a": "a\n"}})
    res = pv("add", "d")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("ERROR: .pvignore: not UTF-8 text"), res


# -- found: .pv/tmp and .pv/config.yaml are the work tree's own too ------------------------------
def test_a_committed_tmp_symlink_is_refused(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(pv_repo / ".pv" / "tmp", ignore_errors=True)
    os.symlink(elsewhere, pv_repo / ".pv" / "tmp")
    git("add", "-f", ".pv/tmp")
    git("commit", "-qm", "state and locks somewhere else")
    gen({"a.csv": "a\n"})
    res = pv("add", "a.csv")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("ERROR: '.pv/tmp' is a symlink committed to Git"), res
    assert list(elsewhere.iterdir()) == []


def test_a_committed_config_that_is_a_symlink_is_refused(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    other = tmp_path / "other-config.yaml"
    other.write_text("core:\n  autostage: false\nremote:\n  theirs:\n    url: /somewhere\n")
    os.unlink(pv_repo / ".pv" / "config.yaml")
    os.symlink(other, pv_repo / ".pv" / "config.yaml")
    git_commit("config from elsewhere")
    for args in (("status",), ("remote", "list")):
        res = pv(*args)
        assert res.exit_code == 1, (args, res)
        assert res.stderr.startswith(f"ERROR: '.pv/config.yaml' is a symlink (to '{other}')"), (args, res)
        assert "/somewhere" not in res.stdout


# -- found: JSON nested deeper than Python recurses ----------------------------------------------
def test_json_nested_too_deep_is_a_clear_error(pv_repo: Path, pv: PvRunner) -> None:
    from pipever.objects.hashing import hash_bytes

    deep = "[" * 100_000 + "]" * 100_000
    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo\n    params: [{params.json: [a]}]\nmetrics: [metrics.json]\n",
         "params.json": '{"a": 1}\n', "metrics.json": '{"acc": 1}\n'})
    git_commit("baseline")
    gen({"metrics.json": deep})
    res = pv("metrics", "show")
    assert "metrics.json: nested too deeply" in res.stderr and "Traceback" not in res.stderr, res
    assert "unexpected" not in res.stderr, res
    git("checkout", "--", ".")
    gen({"params.json": '{"a": ' + deep + "}"})
    res = pv("params", "diff")
    assert res.exit_code == 1 and "params.json: nested too deeply" in res.stderr, res
    # a manifest (from a commit's remote, or planted in the cache) named by a pointer
    data = deep.encode()
    oid = hash_bytes(data)
    obj = pv_repo / ".pv" / "cache" / (oid.relpath() + ".dir")
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(data)
    gen({"d.pv": f"outs:\n- path: d\n  oid: {oid}\n  size: 1\n  nfiles: 1\n"})
    res = pv("checkout", "d")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: ") and "unexpected" not in res.stderr, res
    assert "nested too deeply" in res.stderr, res
