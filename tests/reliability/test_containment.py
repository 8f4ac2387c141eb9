"""No pointer, manifest, symlink, ``pv.yaml``/``pv.lock`` path or remote URL from a commit makes
pv read or write outside the work tree or into ``.git``/``.pv`` (issue 6, guarantee 3).

Every crafted case runs under a ``Guard`` (``containment.py``): a canary directory outside the
work tree holding a secret, ``$HOME``, ``.git`` and ``.pv`` must be exactly as they were; the
secret must appear in no output, no file of the work tree and not in the Git index; and the
command that would act on the hostile input ends with a clean ``ERROR:`` (exit 1).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_commit
from tests.reliability.containment import ESCAPE_ABS, HOSTILE_PATHS, Guard
from tests.reliability.harness import FULL

X = b"x\n"
X_OID = str(hash_bytes(X))
POINTER_COMMANDS = [
    ("status",), ("checkout",), ("checkout", "--force"), ("diff",), ("commit",), ("gc", "-w", "-f"),
    ("add", "other"), ("push",), ("fetch",), ("pull",), ("pull", "--force"), ("remove", "evil.pv", "--outs"),
]
# the default run tries every hostile path with the commands that write, and every command with a
# sample of the paths; the full run (PV_RELIABILITY_FULL=1) every path with every command
CORE_COMMANDS = [("checkout", "--force"), ("pull", "--force"), ("commit",)]
SAMPLE = {"a/../../x", ESCAPE_ABS, "~/x", ".git/hooks/post-checkout", ".PV/config.yaml", "x\x00y"}


def commands_for(path: str, commands: list[tuple[str, ...]], core: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return commands if FULL or path in SAMPLE else core


@pytest.fixture
def guard(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> Guard:
    """A repo with ``x`` tracked and pushed to a remote (both in place), and the canary."""
    if os.path.lexists(ESCAPE_ABS):
        os.remove(ESCAPE_ABS)
    gen({"x": X.decode(), "other": "o\n"})
    pv.ok("add", "x")
    pv.ok("remote", "add", "-d", "storage", str(tmp_path / "remote"))
    pv.ok("push")
    git_commit("x")
    return Guard(pv_repo, tmp_path / "outside")


def yaml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a YAML double-quoted scalar (NUL as \u0000)


@pytest.mark.parametrize("where", ["evil.pv", "sub/evil.pv"])
def test_hostile_pointer_paths_are_refused_by_every_command(guard: Guard, pv: PvRunner, where: str) -> None:
    for path in HOSTILE_PATHS:
        gen({where: f"outs:\n- path: {yaml_str(path)}\n  oid: {X_OID}\n  size: 2\n"})
        git_commit(f"hostile {path!r}")
        everything = POINTER_COMMANDS if where == "evil.pv" else [("checkout", "--force"), ("commit",)]
        for args in commands_for(path, everything, CORE_COMMANDS[::2]):
            args = tuple(a.replace("evil.pv", where) for a in args)
            guard.run(pv, f"pointer path {path!r} in {where}", *args)
    guard.check()


def plant_manifest(store: Path, entries: list[dict[str, object]]) -> str:
    data = json.dumps(entries, separators=(",", ":")).encode()
    oid = hash_bytes(data)
    p = store / "blake3" / oid.hex[:2] / (oid.hex[2:] + ".dir")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return str(oid)


def test_hostile_manifest_entries_are_refused_from_the_cache_and_from_a_remote(
    guard: Guard, pv: PvRunner, tmp_path: Path,
) -> None:
    for path in HOSTILE_PATHS:
        entries = [{"path": path, "oid": X_OID, "size": 2, "isexec": False}]
        oid = plant_manifest(guard.repo / ".pv/cache", entries)
        gen({"d.pv": f"outs:\n- path: d\n  oid: {oid}\n  size: 2\n  nfiles: 1\n"})
        git_commit(f"hostile entry {path!r}")
        what = f"manifest entry {path!r}"
        for args in commands_for(path, [("checkout",), ("checkout", "--force", "d"), ("pull", "--force")], [("checkout", "--force", "d")]):
            guard.run(pv, what, *args)
        for args in commands_for(path, [("status",), ("diff", "HEAD~1"), ("gc", "-w", "-f"), ("push",)], []):
            guard.run(pv, what, *args, must_fail=False)
        # the same manifest coming from a remote: verified, refused, never kept
        plant_manifest(tmp_path / "remote", entries)
        for p in (guard.repo / ".pv/cache/blake3").glob("*/*.dir"):
            p.unlink()
        for args in [("fetch",), ("pull",)]:
            guard.run(pv, what + " (from the remote)", *args)
        assert not list((guard.repo / ".pv/cache/blake3").glob("*/*.dir"))
        assert not os.path.lexists(guard.repo / "d")
    guard.check()


def test_symlinked_parents_are_never_written_through(guard: Guard, pv: PvRunner) -> None:
    drop = guard.outside / "drop"
    os.symlink(drop, "sub")
    os.symlink(os.path.relpath(drop, guard.repo), "rel")
    gen({"file.pv": f"outs:\n- path: sub/x\n  oid: {X_OID}\n  size: 2\n",
         "rel.pv": f"outs:\n- path: rel/x\n  oid: {X_OID}\n  size: 2\n"})
    git_commit("symlinked parents")
    for args in [("checkout",), ("checkout", "--force"), ("checkout", "file.pv"), ("pull",), ("pull", "--force"),
                 ("commit",), ("add", "sub/x"), ("add", "rel"), ("add", "sub")]:
        guard.run(pv, "symlinked parent of a pointer's out", *args)
    guard.check()


def test_symlink_inside_a_tracked_directory_is_never_written_through(guard: Guard, pv: PvRunner) -> None:
    oid = plant_manifest(guard.repo / ".pv/cache", [
        {"path": "a", "oid": X_OID, "size": 2, "isexec": False},
        {"path": "sub/x", "oid": X_OID, "size": 2, "isexec": False},
    ])
    gen({"d.pv": f"outs:\n- path: d\n  oid: {oid}\n  size: 4\n  nfiles: 2\n"})
    os.mkdir("d")
    os.symlink(guard.outside / "drop", "d/sub")
    git("add", "-f", "d/sub", "d.pv")
    git("commit", "-qm", "a symlink where a tracked directory has a subdirectory")
    for args in [("checkout",), ("checkout", "--force"), ("checkout", "d"), ("pull", "--force"), ("add", "d"),
                 ("commit",)]:
        guard.run(pv, "symlink inside a tracked directory", *args)
    guard.check()


def test_pipeline_stage_outputs_through_a_symlinked_parent(guard: Guard, pv: PvRunner) -> None:
    os.symlink(guard.outside / "drop", "sub")
    gen({
        "pv.yaml": "stages:\n  s:\n    cmd: echo hi > sub/out\n    deps: [x]\n    outs: [sub/out]\n",
        "pv.lock": (f"schema: '1'\nstages:\n  s:\n    cmd: echo hi > sub/out\n    deps:\n    - path: x\n"
                    f"      oid: {X_OID}\n      size: 2\n    outs:\n    - path: sub/out\n      oid: {X_OID}\n"
                    "      size: 2\n"),
    })
    git_commit("stage output through a symlink")
    for args in [("checkout",), ("checkout", "--force"), ("checkout", "s"), ("pull",), ("repro",), ("repro", "-f")]:
        guard.run(pv, "stage output through a symlinked parent", *args)
    guard.run(pv, "stage output through a symlinked parent", "commit", "-f", must_fail=False)  # nothing there
    guard.check()


def test_stage_wdir_through_a_symlink_never_runs_there(guard: Guard, pv: PvRunner) -> None:
    os.symlink(guard.outside / "drop", "sub")
    os.symlink("sub", "inner")  # a symlink to a symlink that leads out
    for wdir in ("sub", "inner", "inner/."):
        gen({"pv.yaml": f"stages:\n  s:\n    cmd: touch ran\n    wdir: {wdir}\n"})
        git_commit(f"wdir {wdir}")
        for args in [("repro",), ("repro", "-f"), ("repro", "s")]:
            guard.run(pv, f"wdir {wdir} symlinked out of the work tree", *args)
    assert not (guard.outside / "drop/ran").exists()
    guard.check()


# -- files pv reads that a commit can turn into symlinks out of the work tree -----------------------
def test_committed_gitignore_symlink_never_copies_outside_content_into_the_repo(guard: Guard, pv: PvRunner) -> None:
    os.remove(".gitignore")
    os.symlink(guard.outside / "secret.txt", ".gitignore")
    git_commit("a .gitignore that is a symlink")
    gen({"data": "d\n"})
    guard.run(pv, ".gitignore symlinked out of the work tree", "add", "data", must_fail=False)
    assert Path(".gitignore").read_text() == "/data\n"  # a regular file now, as Git ignores the link
    guard.run(pv, ".gitignore symlinked out of the work tree", "remove", "data.pv", must_fail=False)
    guard.check()


READERS = {  # the commands that read each file
    "evil.pv": [("status",), ("checkout",), ("commit", "-f"), ("push",), ("gc", "-w", "-f"), ("add", "other")],
    "pv.yaml": [("status",), ("checkout",), ("repro",), ("commit", "-f"), ("params", "diff"), ("dag",)],
    "pv.lock": [("status",), ("checkout",), ("repro",), ("commit", "-f"), ("push",), ("gc", "-w", "-f")],
    "params.yaml": [("status",), ("repro",), ("commit", "-f"), ("params", "diff")],
}


@pytest.mark.parametrize("name", list(READERS))
def test_committed_symlinks_to_outside_files_are_not_read(guard: Guard, pv: PvRunner, name: str) -> None:
    target = guard.outside / ("secret.yaml" if name != "evil.pv" else "secret.txt")
    if name in ("params.yaml", "pv.lock"):
        gen({"pv.yaml": "stages:\n  s:\n    cmd: echo ran > out\n    deps: [x]\n    params: [token]\n    outs: [out]\n"})
    os.symlink(target, name)
    git_commit(f"{name} is a symlink out of the work tree")
    for args in READERS[name]:
        guard.run(pv, f"{name} symlinked out of the work tree", *args)
    assert not Path("out").exists()
    guard.check()


def test_metrics_and_plots_symlinked_out_of_the_work_tree_are_not_read(guard: Guard, pv: PvRunner) -> None:
    os.symlink(guard.outside / "metrics.json", "m.json")
    os.symlink(guard.outside, "dir")
    gen({"pv.yaml": "metrics: [m.json, dir/metrics.json]\nplots: [m.json]\n"})
    git_commit("metrics out of the work tree")
    for args in [("metrics", "show"), ("metrics", "show", "--json"), ("metrics", "diff"), ("plots", "show", "--json")]:
        guard.run(pv, "metrics symlinked out of the work tree", *args)
    guard.check()


# -- pv.yaml and pv.lock fields ----------------------------------------------------------------------
FIELD_PATHS = ["../x", "a/../../x", ESCAPE_ABS, "~/x", "C:\\x", "\\\\srv\\x", ".git/hooks/post-checkout",
               ".GIT/config", ".pv/x", "x\x00y"]
STAGE_FIELDS = {
    "wdir": "    wdir: {p}\n",
    "deps": "    deps: [{p}]\n",
    "outs": "    outs: [{p}]\n",
    "metrics": "    metrics: [{p}]\n",
    "plots": "    plots: [{p}]\n",
    "params file": "    params: [{{{p}: [seed]}}]\n",
    "vars": "    vars: [{p}]\n",
}


@pytest.mark.parametrize("field", list(STAGE_FIELDS))
def test_hostile_pv_yaml_paths_stop_every_pipeline_command(guard: Guard, pv: PvRunner, field: str) -> None:
    for path in FIELD_PATHS + (["", ".git", ".pv", ".."] if field == "wdir" else ["", "."]):
        line = STAGE_FIELDS[field].format(p=yaml_str(path))
        gen({"pv.yaml": "stages:\n  s:\n    cmd: touch ran\n" + line})
        git_commit(f"hostile {field} {path!r}")
        everything = [("repro",), ("repro", "-f"), ("status",), ("checkout",), ("commit", "-f"), ("dag",), ("stage", "list")]
        for args in commands_for(path, everything, [("repro",), ("status",)]):
            guard.run(pv, f"pv.yaml {field} {path!r}", *args)
        assert not Path("ran").exists()
    guard.check()


def test_hostile_top_level_vars_and_params_files(guard: Guard, pv: PvRunner) -> None:
    for path in FIELD_PATHS:
        for text in (f"vars: [{yaml_str(path)}]\nstages:\n  s:\n    cmd: touch ran\n",
                     f"params: [{yaml_str(path)}]\nstages:\n  s:\n    cmd: touch ran\n",
                     f"metrics: [{yaml_str(path)}]\n", f"plots: [{yaml_str(path)}]\n"):
            gen({"pv.yaml": text})
            git_commit(f"hostile top-level {path!r}")
            for args in commands_for(path, [("repro",), ("status",), ("metrics", "show"), ("params", "diff")], [("repro",)]):
                guard.run(pv, f"pv.yaml top level {text.split(':')[0]} {path!r}", *args)
    assert not Path("ran").exists()
    guard.check()


def test_vars_and_params_files_behind_a_symlinked_parent_are_not_read(guard: Guard, pv: PvRunner) -> None:
    os.symlink(guard.outside, "sub")
    for text in ("vars: [sub/secret.yaml]\nstages:\n  s:\n    cmd: echo ${token} > out\n    outs: [out]\n",
                 "stages:\n  s:\n    cmd: touch out\n    params: [{sub/secret.yaml: [token]}]\n    outs: [out]\n"):
        gen({"pv.yaml": text})
        git_commit("params behind a symlink")
        for args in [("repro",), ("status",), ("params", "diff"), ("dag",)]:
            # a never-run stage's params are read once it ran (to record them): then it fails
            reads = "vars" in text or args in (("repro",), ("params", "diff"))
            guard.run(pv, f"pv.yaml reading through a symlink: {text.splitlines()[0]}", *args, must_fail=reads)
    guard.check()


def test_hostile_pv_lock_paths(guard: Guard, pv: PvRunner) -> None:
    gen({"pv.yaml": "stages:\n  s:\n    cmd: touch out\n    deps: [x]\n    outs: [out]\n"})
    for path in HOSTILE_PATHS:
        for key in ("deps", "outs") if FULL or path in SAMPLE else ("outs",):
            gen({"pv.lock": (f"schema: '1'\nstages:\n  s:\n    cmd: touch out\n    {key}:\n"
                             f"    - path: {yaml_str(path)}\n      oid: {X_OID}\n      size: 2\n")})
            git_commit(f"hostile pv.lock {key} {path!r}")
            everything = [("checkout",), ("checkout", "--force"), ("status",), ("repro",), ("push",),
                          ("gc", "-w", "-f"), ("commit", "-f")]
            for args in commands_for(path, everything, [("checkout", "--force"), ("repro",)]):
                guard.run(pv, f"pv.lock {key} {path!r}", *args)
    assert not Path("out").exists()
    guard.check()


# -- remote URLs from the committed config ---------------------------------------------------------
@pytest.mark.parametrize("url", [
    ".git", ".git/objects", ".pv", ".pv/cache", ".pv/tmp", "./.git/../.pv", ".GIT",
    "file://{root}/.git", "file://{root}/.pv/cache",
])
def test_committed_remote_url_into_git_or_pv_is_refused(guard: Guard, pv: PvRunner, url: str) -> None:
    config = guard.repo / ".pv/config.yaml"
    config.write_text(f"core:\n  remote: evil\nremote:\n  evil:\n    url: {yaml_str(url.format(root=guard.repo))}\n")
    git_commit("remote into .git")
    # the guard watches .pv/config.yaml too: it is written by this test, before the snapshot
    for args in [("push",), ("fetch",), ("pull",), ("status", "-c"), ("gc", "-w", "--cloud", "-f"), ("fsck", "-r", "evil")]:
        guard.run(pv, f"remote url {url!r}", *args)
    guard.check()


@pytest.mark.parametrize("url", [
    "ext::sh -c touch% {drop}/ran", "-oProxyCommand=touch {drop}/ran", "ssh://-oProxyCommand=touch%20{drop}%2Fran/x",
    "ssh://host;touch {drop}/ran/x", "s3://`touch {drop}/ran`/x", "--upload-pack=touch {drop}/ran",
])
def test_option_like_remote_urls_run_nothing(guard: Guard, pv: PvRunner, url: str) -> None:
    (guard.repo / ".pv/config.yaml").write_text(
        f"core:\n  remote: evil\nremote:\n  evil:\n    url: {yaml_str(url.format(drop=guard.outside / 'drop'))}\n"
        "    connect_timeout: 1\n    retries: 1\n"
    )
    git_commit("option-like remote")
    for args in [("push",), ("fetch",), ("status", "-c")]:
        # pipever runs no program for a remote: such a URL is at worst a strange local path
        guard.run(pv, f"remote url {url!r}", *args, must_fail=False)
    assert not (guard.outside / "drop/ran").exists()
    guard.check()


# -- other repositories: pv get / import / update / ls ------------------------------------------------
@pytest.fixture
def source(tmp_path: Path, pv: PvRunner, guard: Guard) -> Path:
    """Another pv repository, with data pushed to its own (committed, relative) remote."""
    from tests.conftest import _git_init

    src = tmp_path / "source"
    src.mkdir()
    _git_init(src)
    pv.ok("init", cwd=src)
    gen({"data": {"a": "source a\n"}, "x": "source x\n"}, src)  # not in the guard repo's cache
    pv.ok("add", "data", "x", cwd=src)
    pv.ok("remote", "add", "-d", "origin", "../source-remote", cwd=src)
    pv.ok("push", cwd=src)
    git_commit("data", cwd=src)
    return src


def test_option_like_and_helper_repository_urls_are_refused(guard: Guard, pv: PvRunner, source: Path) -> None:
    ran = guard.outside / "drop/ran"
    for url in [f"ext::sh -c touch% {ran}", f"fd::3", f"--upload-pack=touch {ran}", f"-uhelp", f"-oProxyCommand=touch {ran}",
                f"ssh://-oProxyCommand=touch%20{ran}/x", f"git@-oProxyCommand=x:repo", f"{source}\nx", f"{source}\x00x",
                f"file::{source}", "transport::x"]:
        for args in [("get", "--", url, "x"), ("import", "--", url, "x"), ("ls", "--", url)]:
            guard.run(pv, f"repository URL {url!r}", *args)
    for rev in ["--upload-pack=touch x", "-h", "--output=/tmp/pv-escape-canary-7f3a"]:
        guard.run(pv, f"revision {rev!r}", "get", str(source), "x", f"--rev={rev}")
    assert not ran.exists()
    guard.check()


def test_hostile_paths_into_another_repository_are_refused(guard: Guard, pv: PvRunner, source: Path) -> None:
    for path in [*HOSTILE_PATHS, ".pv/config.local.yaml", ".git/config", "../source/x"]:
        if path in ("", ".", "./", "./."):
            continue  # the whole repository: a usage question, not an escape
        for args in [("get", str(source), path, "-o", "got"), ("import", str(source), path, "-o", "imported")]:
            guard.run(pv, f"path {path!r} of another repository", *args)
    guard.check()


def test_hostile_manifest_in_another_repository_is_refused(guard: Guard, pv: PvRunner, source: Path, tmp_path: Path) -> None:
    for path in ["../../escaped", "/tmp/pv-escape-canary-7f3a", ".git/hooks/post-checkout", "a/../../x"]:
        entries = [{"path": path, "oid": X_OID, "size": 2, "isexec": False}]
        oid = plant_manifest(source / ".pv/cache", entries)
        plant_manifest(tmp_path / "source-remote", entries)
        gen({"evil.pv": f"outs:\n- path: evil\n  oid: {oid}\n  size: 2\n  nfiles: 1\n"}, source)
        git_commit(f"hostile {path!r}", cwd=source)
        for args in [("get", str(source), "evil", "-o", "got"), ("import", str(source), "evil", "-o", "imported")]:
            guard.run(pv, f"manifest entry {path!r} in another repository", *args)
        assert not Path("got").exists() and not Path("imported").exists()
    guard.check()


def test_another_repositorys_committed_remote_options_are_not_honoured(guard: Guard, pv: PvRunner, source: Path) -> None:
    ran = guard.outside / "drop/ran"
    (source / ".pv/config.yaml").write_text(
        "core:\n  remote: origin\nremote:\n  origin:\n    url: ssh://me@127.0.0.1:1/store\n    connect_timeout: 1\n"
        f"    proxy_command: touch {ran}\n"
    )
    git_commit("an ssh remote with a proxy command", cwd=source)
    shutil.rmtree(source / ".pv/cache")  # so the data must come from that remote
    for args in [("get", str(source), "x", "-o", "got"), ("import", str(source), "x", "-o", "imported")]:
        guard.run(pv, "another repository's proxy_command", *args)
    assert not ran.exists()
    guard.check()


def test_committed_import_pointer_with_a_hostile_source_is_refused(guard: Guard, pv: PvRunner, source: Path) -> None:
    pv.ok("import", str(source), "x", "-o", "imp")
    git_commit("import")
    original = Path("imp.pv").read_text()
    ran = guard.outside / "drop/ran"
    for url in [f"ext::sh -c touch% {ran}", f"--upload-pack=touch {ran}", "-oProxyCommand=x"]:
        Path("imp.pv").write_text(original.replace(str(source), url))
        git_commit(f"import from {url!r}")
        guard.run(pv, f"import source {url!r}", "update", "imp.pv")
    for path in ["../../x", ".pv/config.local.yaml", "/etc/passwd"]:
        Path("imp.pv").write_text(original.replace("path: x", f"path: {yaml_str(path)}", 1))
        git_commit(f"import path {path!r}")
        guard.run(pv, f"import path {path!r}", "update", "imp.pv")
    assert not ran.exists()
    guard.check()
