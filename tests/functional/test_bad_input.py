"""Bad input gets a clear error, and nothing is written (issue 2): every case exits 1 with the
exact ``ERROR:`` text naming the culprit, and the work tree, the cache and the Git index are
exactly as they were."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_commit

X_OID = str(hash_bytes(b"x\n"))
HINT = " — fix or restore it (e.g. 'git checkout -- x.pv')\n"
PATH_HINT = " — use a path inside the work tree, not in .git or .pv\n"


def snapshot() -> dict[str, object]:
    """Every file and link outside .git and .pv/tmp (the state db and lock live there), with its
    content, plus the Git index."""
    out: dict[str, object] = {}
    for p in sorted(Path(".").rglob("*")):
        rel = p.as_posix()
        if rel == ".git" or rel.startswith((".git/", ".pv/tmp")):
            continue
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = (p.read_bytes(), os.stat(p).st_mode)
        else:
            out[rel] = "dir"
    out["<index>"] = git("ls-files", "--stage")
    return out


def fails_cleanly(pv: PvRunner, args: tuple[str, ...], error: str) -> None:
    before = snapshot()
    res = pv(*args)
    assert (res.exit_code, res.stderr) == (1, error), (args, res)
    assert snapshot() == before, args


@pytest.fixture
def tracked_x(pv_repo: Path, pv: PvRunner) -> Path:
    gen({"x": "x\n", "y": "y\n"})
    pv.ok("add", "x")
    git_commit("track x")
    return pv_repo


POINTERS = [
    ("outs: [\n", "line 2: invalid YAML: did not find expected node content"),
    ("foo: 1\n", "unknown key(s) 'foo'"),
    (f"outs:\n- path: x\n  oid: {X_OID}\n  colour: red\n", "unknown key(s) 'colour' in an out"),
    ("outs:\n- path: x\n", "an out is missing 'oid'"),
    (f"outs:\n- oid: {X_OID}\n", "an out is missing 'path'"),
    ("outs: []\n", "'outs' must be a non-empty list"),
    ("- just a list\n", "expected a mapping with 'outs'"),
    (f"outs:\n- path: /etc/passwd\n  oid: {X_OID}\n", "path '/etc/passwd' (in 'x.pv') is absolute"),
    (f"outs:\n- path: ../x\n  oid: {X_OID}\n", "path '../x' (in 'x.pv') contains '..'"),
    (f"outs:\n- path: .git/config\n  oid: {X_OID}\n", "path '.git/config' (in 'x.pv') points into '.git'"),
    (f"outs:\n- path: .pv/config.yaml\n  oid: {X_OID}\n", "path '.pv/config.yaml' (in 'x.pv') points into '.pv'"),
    ("outs:\n- path: x\n  oid: md5:abc\n", "oid must look like 'blake3:<64 hex digits>', got 'md5:abc'"),
    (f"outs:\n- path: x\n  oid: {X_OID.upper().replace('BLAKE3', 'blake3')}\n",
     f"not a 64-digit lowercase hex digest: '{X_OID[7:].upper()}'"),
    ("outs:\n- path: x\n  oid: blake3:44c7\n", "not a 64-digit lowercase hex digest: '44c7'"),
    (f"outs:\n- path: x\n  oid: {X_OID}\n  size: -1\n", "'size' and 'nfiles' must be non-negative integers"),
]
COMMANDS = [
    ("status",), ("checkout",), ("checkout", "--force"), ("diff",), ("commit",), ("gc", "-w", "-f"),
    ("remove", "x.pv"), ("remove", "x.pv", "--outs"), ("move", "x", "z"), ("unprotect", "x"), ("add", "y"),
]


@pytest.mark.parametrize(("text", "problem"), POINTERS, ids=[p for _, p in POINTERS])
def test_invalid_pointer(tracked_x: Path, pv: PvRunner, text: str, problem: str) -> None:
    Path("x.pv").write_text(text)
    for args in COMMANDS:
        fails_cleanly(pv, args, f"ERROR: invalid pointer file 'x.pv': {problem}{HINT}")


def test_invalid_pointer_in_a_subdirectory_is_named_by_its_repo_path(pv_repo: Path, pv: PvRunner) -> None:
    gen({"sub": {"x.pv": "outs: 3\n"}})
    fails_cleanly(
        pv, ("status",),
        "ERROR: invalid pointer file 'sub/x.pv': 'outs' must be a non-empty list — fix or restore it (e.g. 'git checkout -- sub/x.pv')\n",
    )


# -- manifests --------------------------------------------------------------------------------------
def plant_manifest(entries: list[dict[str, object]]) -> str:
    """Put a manifest with a valid hash but hostile content in the cache; returns its oid."""
    data = json.dumps(entries, separators=(",", ":")).encode()
    oid = hash_bytes(data)
    shard = Path(".pv/cache/blake3") / oid.hex[:2]
    shard.mkdir(parents=True, exist_ok=True)
    (shard / (oid.hex[2:] + ".dir")).write_bytes(data)
    return str(oid)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("../evil", "entry path '../evil' contains '..'"),
        ("a/../../evil", "entry path 'a/../../evil' contains '..'"),
        ("/etc/evil", "entry path '/etc/evil' is absolute"),
        ("a/.git/hooks/post-checkout", "entry path 'a/.git/hooks/post-checkout' points into '.git'"),
    ],
)
def test_manifest_entry_escaping_its_directory(pv_repo: Path, pv: PvRunner, entry: str, problem: str) -> None:
    gen({"x": "x\n"})
    pv.ok("add", "x")  # puts the file object in the cache
    oid = plant_manifest([{"path": entry, "oid": X_OID, "size": 2, "isexec": False}])
    Path("d.pv").write_text(f"outs:\n- path: d\n  oid: {oid}\n  size: 2\n  nfiles: 1\n")
    git_commit("hostile directory")
    error = (
        f"ERROR: invalid directory manifest 'd' ({oid}): {problem.format(oid=oid)}"
        " — run 'pv fsck' and re-add or re-fetch the directory\n"
    )
    fails_cleanly(pv, ("checkout",), error)
    fails_cleanly(pv, ("checkout", "--force", "d"), error)
    fails_cleanly(pv, ("diff", "HEAD~1", "HEAD"), error)
    fails_cleanly(
        pv, ("gc", "-w", "-f"),
        f"ERROR: cannot tell which files 'd' needs: its manifest {oid} is unreadable ({problem.format(oid=oid)})"
        " — run 'pv fsck --repair' first; nothing was deleted\n",
    )
    assert not Path("evil").exists() and not Path("../evil").exists()


# -- add --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["/etc/hostname", "../../outside", "../.git/config", "../.pv/config.yaml"])
def test_add_never_follows_symlinks_out_of_the_repository(pv_repo: Path, pv: PvRunner, target: str) -> None:
    gen({"d": {"a": "a\n"}})
    os.symlink(target, "d/link")
    real = os.path.realpath("d/link")
    fails_cleanly(pv, ("add", "d"), f"ERROR: path 'd/link' is a symlink to '{real}', outside the work tree{PATH_HINT}")
    assert not list(Path(".pv/cache").rglob("*.dir"))


def test_add_refuses_a_symlink_to_a_directory(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a": "a\n"}, "other": {"b": "b\n"}})
    os.symlink("../other", "d/dirlink")
    fails_cleanly(
        pv, ("add", "d"),
        "ERROR: 'd/dirlink' is a symlink to a directory — pipever does not follow directory symlinks;"
        " replace it with the directory or remove it\n",
    )


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("in_git.txt", "ERROR: 'in_git.txt' is tracked by Git — run 'git rm -r --cached in_git.txt' first\n"),
        ("/tmp", f"ERROR: path '/tmp' is outside the repository{PATH_HINT}"),
        ("..", f"ERROR: path '..' is outside the repository{PATH_HINT}"),
        (".git/config", f"ERROR: path '.git/config' points into '.git'{PATH_HINT}"),
        (".pv/config.yaml", f"ERROR: path '.pv/config.yaml' points into '.pv'{PATH_HINT}"),
        ("missing.csv", "ERROR: 'missing.csv' does not exist — check the path\n"),
        ("d/a", "ERROR: 'd/a' is inside the tracked directory 'd' — re-add the whole directory: 'pv add d'\n"),
    ],
)
def test_add_refuses_bad_targets(pv_repo: Path, pv: PvRunner, target: str, error: str) -> None:
    gen({"in_git.txt": "g\n", "d": {"a": "a\n"}})
    git("add", "in_git.txt")
    pv.ok("add", "d")
    fails_cleanly(pv, ("add", target), error)
