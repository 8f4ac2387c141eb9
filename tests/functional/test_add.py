from __future__ import annotations

import os
import stat
from pathlib import Path

from pipever.data import pointer as ptr
from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git


def _pointer(path: Path) -> ptr.Pointer:
    return ptr.parse(path.read_text(), path.name)


def test_add_file_writes_pointer_cache_gitignore_and_stages(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data.csv": "a,b\n1,2\n"})
    res = pv.ok("add", "data.csv")
    assert "Added data.csv" in res.stdout
    p = _pointer(pv_repo / "data.csv.pv")
    oid = hash_bytes(b"a,b\n1,2\n")
    assert (p.outs[0].path, p.outs[0].oid, p.outs[0].size, p.outs[0].nfiles) == ("data.csv", oid, 8, None)
    obj = pv_repo / ".pv/cache" / oid.relpath()
    assert obj.read_bytes() == b"a,b\n1,2\n"
    assert not os.stat(obj).st_mode & stat.S_IWUSR  # cache objects are read-only
    assert (pv_repo / "data.csv").read_text() == "a,b\n1,2\n"
    assert os.stat(pv_repo / "data.csv").st_mode & stat.S_IWUSR  # copy: workspace stays writable
    assert "/data.csv" in (pv_repo / ".gitignore").read_text().splitlines()
    assert set(git("diff", "--cached", "--name-only").split()) == {".gitignore", "data.csv.pv"}
    assert git("check-ignore", "data.csv").strip() == "data.csv"


def test_add_directory_stores_each_file_once(pv_repo: Path, pv: PvRunner) -> None:
    gen({"dir": {"a.txt": "same", "sub": {"b.txt": "same", "c.txt": "other"}}})
    pv.ok("add", "dir")
    p = _pointer(pv_repo / "dir.pv")
    assert p.outs[0].nfiles == 3 and p.outs[0].size == 13
    objects = [f for f in (pv_repo / ".pv/cache").rglob("*") if f.is_file()]
    assert len(objects) == 3  # 'same' once, 'other', and the manifest
    assert sum(1 for f in objects if f.name.endswith(".dir")) == 1


def test_add_in_subdirectory_writes_pointer_next_to_data(pv_repo: Path, pv: PvRunner) -> None:
    gen({"sub": {"x.bin": b"\x00\x01"}})
    pv.ok("add", "x.bin", cwd=pv_repo / "sub")
    assert _pointer(pv_repo / "sub/x.bin.pv").outs[0].path == "x.bin"
    assert (pv_repo / "sub/.gitignore").read_text() == "/x.bin\n"


def test_readd_changed_file_updates_pointer_and_keeps_extra_keys(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f.txt": "v1"})
    pv.ok("add", "f.txt")
    text = (pv_repo / "f.txt.pv").read_text().replace("  size: 2\n", "  size: 2\n  desc: first\n")
    (pv_repo / "f.txt.pv").write_text(text + "meta:\n  k: v\n")
    gen({"f.txt": "v2!"})
    pv.ok("add", "f.txt")
    p = _pointer(pv_repo / "f.txt.pv")
    assert p.outs[0].oid == hash_bytes(b"v2!")
    assert p.outs[0].extra == {"desc": "first"} and p.extra == {"meta": {"k": "v"}}


def test_add_refuses_path_tracked_by_git(pv_repo: Path, pv: PvRunner) -> None:
    gen({"code.py": "print(1)"})
    git("add", "code.py")
    res = pv("add", "code.py")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'code.py' is tracked by Git — run 'git rm -r --cached code.py' first\n"
    assert not (pv_repo / "code.py.pv").exists()


def test_add_refuses_target_whose_pointer_git_ignores(pv_repo: Path, pv: PvRunner) -> None:
    # the pointer would be invisible to pv (status, push, gc -w deleted its data) and 'git add' failed
    gen({".gitignore": "logs/\n", "logs": {"l.txt": "hello"}})
    res = pv("add", "logs/l.txt")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: 'logs/l.txt.pv' would be ignored by Git — change the .gitignore rule that ignores it"
        " ('git check-ignore -v logs/l.txt.pv' shows which)\n"
    )
    assert not (pv_repo / "logs/l.txt.pv").exists() and not (pv_repo / "logs/.gitignore").exists()
    assert not [f for f in (pv_repo / ".pv/cache").rglob("*") if f.is_file()]


def test_add_refuses_missing_and_outside_paths(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    res = pv("add", "nope.csv")
    assert res.exit_code == 1 and res.stderr == "ERROR: 'nope.csv' does not exist — check the path\n"
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    res = pv("add", str(outside))
    assert res.exit_code == 1
    assert res.stderr.startswith(f"ERROR: path '{outside}' is outside the repository")
    for bad in (".git/config", ".pv/config.yaml"):
        res = pv("add", bad)
        assert res.exit_code == 1 and "points into" in res.stderr, res


def test_add_refuses_file_inside_tracked_directory(pv_repo: Path, pv: PvRunner) -> None:
    gen({"dir": {"a.txt": "a"}})
    pv.ok("add", "dir")
    res = pv("add", "dir/a.txt")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'dir/a.txt' is inside the tracked directory 'dir' — re-add the whole directory: 'pv add dir'\n"
    assert not (pv_repo / "dir/a.txt.pv").exists()


def test_add_glob(pv_repo: Path, pv: PvRunner) -> None:
    gen({"a.csv": "1", "b.csv": "2", "c.txt": "3"})
    pv.ok("add", "--glob", "*.csv")
    assert (pv_repo / "a.csv.pv").exists() and (pv_repo / "b.csv.pv").exists()
    assert not (pv_repo / "c.txt.pv").exists()


def test_add_without_autostage(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "core.autostage", "false")
    gen({"f": "x"})
    gen({"sub": {"g": "y"}})
    res = pv.ok("add", "f", "sub/g")
    # the .gitignore files too, as DVC says: without them a clone's 'git add -A' commits the data
    assert "To track the changes with Git, run: git add .gitignore f.pv sub/.gitignore sub/g.pv\n" in res.stdout
    assert "f.pv" not in git("diff", "--cached", "--name-only")


def test_add_with_hardlink_cache_type_protects_workspace(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "cache.type", "hardlink,copy")
    gen({"f": "x"})
    pv.ok("add", "f")
    st = os.stat(pv_repo / "f")
    assert st.st_nlink == 2 and not st.st_mode & stat.S_IWUSR


def test_add_with_hardlink_cache_type_keeps_a_file_executable(pv_repo: Path, pv: PvRunner) -> None:
    """A shared inode cannot carry the execute bit: the executable stays a copy, as in a directory."""
    pv.ok("config", "cache.type", "hardlink,copy")
    gen({"run.sh": "#!/bin/sh\necho hi\n"})
    os.chmod(pv_repo / "run.sh", 0o755)
    pv.ok("add", "run.sh")
    st = os.stat(pv_repo / "run.sh")
    assert st.st_nlink == 1 and st.st_mode & stat.S_IXUSR
    assert not os.stat(pv_repo / ".pv/cache" / hash_bytes(b"#!/bin/sh\necho hi\n").relpath()).st_mode & 0o111


def test_execute_bit_of_a_file_is_recorded_and_checked_out(pv_repo: Path, pv: PvRunner) -> None:
    """As in a directory's manifest (and DVC's ``isexec``): a clone's checkout gets a runnable script."""
    gen({"run.sh": "#!/bin/sh\necho hi\n", "plain.txt": "p"})
    os.chmod(pv_repo / "run.sh", 0o755)
    pv.ok("add", "run.sh", "plain.txt")
    assert _pointer(pv_repo / "run.sh.pv").outs[0].extra == {"isexec": True}
    assert "isexec" not in (pv_repo / "plain.txt.pv").read_text()
    (pv_repo / "run.sh").unlink()
    pv.ok("checkout")
    assert os.stat(pv_repo / "run.sh").st_mode & stat.S_IXUSR
    os.chmod(pv_repo / "run.sh", 0o644)
    pv.ok("add", "run.sh")
    assert _pointer(pv_repo / "run.sh.pv").outs[0].extra == {}


def test_gitignore_entries_match_names_git_would_trim_or_expand(pv_repo: Path, pv: PvRunner) -> None:
    """Git drops unescaped trailing spaces of a .gitignore line: 'trail ' was left unignored, so
    'git add -A' would commit the data itself."""
    names = ["trail ", "two  ", "br[ack]et", "#hash", "!bang", "st*r"]
    gen({n: "x" for n in names})
    pv.ok("add", *names)
    assert git("check-ignore", *names).splitlines() == names
    pv.ok("remove", *(n + ".pv" for n in names))
    assert (pv_repo / ".gitignore").read_text() == "/pv_plots\n"  # only pv init's entry is left


def test_add_warns_of_symlinks_to_nothing_it_leaves_out(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a": "a\n"}})
    os.symlink("nonexistent", "d/dangling")
    res = pv.ok("add", "d")
    assert res.stderr == "WARNING: left out 1 symlink(s) to nothing: d/dangling\n"
    assert "Added d (1 files, 2 B) -> d.pv" in res.stdout
    os.unlink("d/dangling")
    assert pv.ok("add", "d").stderr == ""


def test_add_refuses_symlink_in_directory_pointing_outside(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    gen({"dir": {"ok.txt": "ok"}})
    os.symlink(secret, pv_repo / "dir/link")
    res = pv("add", "dir")
    assert res.exit_code == 1
    assert "ERROR: path 'dir/link' is a symlink to" in res.stderr and "outside the work tree" in res.stderr
    assert not (pv_repo / "dir.pv").exists()
    assert not any(f.is_file() for f in (pv_repo / ".pv/cache").rglob("*"))
