"""pv ls / get / import / update against another pv repository (a local path or a file:// Git URL)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipever.data import pointer as ptr
from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git

DATA = {"data": {"images": {"a.png": "A", "sub": {"b.png": "B"}}, "table.csv": "x,y\n1,2\n"}, "train.py": "print(1)\n"}


@dataclass
class Source:
    root: Path
    store: Path

    @property
    def url(self) -> str:  # a Git URL: nothing of the source's own cache can be used
        return self.root.as_uri()

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.root).strip()


def _commit(root: Path, msg: str) -> None:
    git("add", "-A", cwd=root)
    git("commit", "-qm", msg, cwd=root)


def _publish(pv: PvRunner, source: Source, files: dict[str, object], *targets: str) -> None:
    """A new version of ``targets`` in the source repo: written, added, committed as v2, pushed."""
    gen(files, source.root)
    pv.ok("add", *targets, cwd=source.root)
    _commit(source.root, "v2")
    pv.ok("push", cwd=source.root)


@pytest.fixture
def source(tmp_path: Path, pv: PvRunner) -> Source:
    """Another pv repository whose data is pushed to its default remote (a local folder)."""
    root, store = tmp_path / "source", tmp_path / "store"
    git("init", "-q", "-b", "main", str(root))
    pv.ok("init", cwd=root)
    pv.ok("config", "remote.store.url", str(store), cwd=root)
    pv.ok("config", "core.remote", "store", cwd=root)
    gen(DATA, root)
    pv.ok("add", "data/images", "data/table.csv", cwd=root)
    _commit(root, "data")
    pv.ok("push", cwd=root)
    return Source(root, store)


def _tree(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): p.read_text() for p in sorted(path.rglob("*")) if p.is_file()}


# -- ls ------------------------------------------------------------------------------------------
def _ls(pv: PvRunner, *args: str) -> list[tuple[str, bool, bool, int | None]]:
    res = pv.ok("ls", *args, "--json")
    return [(e["path"], e["isout"], e["isdir"], e["size"]) for e in json.loads(res.stdout)]


def test_ls_marks_pv_tracked_entries(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    assert _ls(pv, source.url, "data") == [
        (".gitignore", False, False, len("/images\n/table.csv\n")),
        ("images", True, True, 2),
        ("images.pv", False, False, (source.root / "data/images.pv").stat().st_size),
        ("table.csv", True, False, 8),
        ("table.csv.pv", False, False, (source.root / "data/table.csv.pv").stat().st_size),
    ]
    assert [e[0] for e in _ls(pv, source.url)] == [".gitignore", ".pv", "data", "train.py"]  # .gitignore: pv_plots


def test_ls_recursive_reads_manifests_from_the_remote(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    entries = _ls(pv, source.url, "data/images", "-R")
    assert entries == [("a.png", True, False, 1), ("sub/b.png", True, False, 1)]
    assert [e[:3] for e in _ls(pv, source.url, "data/images")] == [("a.png", True, False), ("sub", True, True)]
    text = pv.ok("ls", source.url, "data/images/sub/b.png").stdout
    assert "b.png" in text and "pv" in text


def test_ls_at_a_revision_and_of_a_missing_path(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    first = source.head()
    gen({"new.csv": "n"}, source.root)
    pv.ok("add", "new.csv", cwd=source.root)
    _commit(source.root, "new")
    assert "new.csv" in [e[0] for e in _ls(pv, source.url)]
    assert "new.csv" not in [e[0] for e in _ls(pv, source.url, "--rev", first)]
    res = pv("ls", source.url, "nope")
    assert res.exit_code == 1 and res.stderr.startswith(f"ERROR: 'nope' does not exist in '{source.url}'")


# -- get -----------------------------------------------------------------------------------------
def test_get_a_directory_from_the_remote(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    res = pv.ok("get", source.url, "data/images")
    assert res.stdout.startswith("Downloaded data/images (2 files, 2 B) at ")
    assert _tree(pv_repo / "images") == {"a.png": "A", "sub/b.png": "B"}
    assert (pv_repo / "images/a.png").stat().st_mode & stat.S_IWUSR  # a plain writable copy
    assert not (pv_repo / "images.pv").exists()


def test_get_a_file_inside_a_directory_and_a_git_file(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    pv.ok("get", source.url, "data/images/sub/b.png", "-o", "b.png")
    pv.ok("get", source.url, "train.py", "-o", "scripts/train.py")
    pv.ok("get", source.url, "data/images/sub")
    assert (pv_repo / "b.png").read_text() == "B"
    assert (pv_repo / "scripts/train.py").read_text() == "print(1)\n"
    assert _tree(pv_repo / "sub") == {"b.png": "B"}


def test_get_an_older_revision(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    first = source.head()
    _publish(pv, source, {"data": {"table.csv": "x,y\n3,4\n"}}, "data/table.csv")
    pv.ok("get", source.url, "data/table.csv", "-o", "new.csv")
    pv.ok("get", source.url, "data/table.csv", "-o", "old.csv", "--rev", first)
    assert (pv_repo / "new.csv").read_text() == "x,y\n3,4\n"
    assert (pv_repo / "old.csv").read_text() == "x,y\n1,2\n"


def test_get_refuses_to_overwrite(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    gen({"table.csv": "mine"})
    res = pv("get", source.url, "data/table.csv")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'table.csv' already exists — remove it, or choose another path with -o\n"
    assert (pv_repo / "table.csv").read_text() == "mine"


def test_get_and_import_into_an_existing_directory_put_the_data_inside(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    # as DVC's get/import (and cp): 'already exists' was the answer
    gen({"downloads": {"x": "x"}, "vendor": {"y": "y"}})
    pv.ok("get", source.url, "data/table.csv", "-o", "downloads")
    assert (pv_repo / "downloads/table.csv").read_text() == "x,y\n1,2\n"
    pv.ok("import", source.url, "data/images", "-o", "vendor")
    assert _tree(pv_repo / "vendor/images") == {"a.png": "A", "sub/b.png": "B"}
    assert (pv_repo / "vendor/.gitignore").read_text() == "/images\n"
    p = ptr.parse((pv_repo / "vendor/images.pv").read_text(), "images.pv")
    assert p.outs[0].path == "images"
    res = pv("get", source.url, "data/table.csv", "-o", "downloads")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'downloads/table.csv' already exists — remove it, or choose another path with -o\n"


def test_get_works_outside_a_pv_repository(tmp_dir: Path, pv: PvRunner, source: Source) -> None:
    pv.ok("get", source.url, "data/table.csv")
    assert (tmp_dir / "table.csv").read_text() == "x,y\n1,2\n"


def test_get_from_a_local_path_uses_its_cache_for_data_not_pushed(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    gen({"local.bin": "only here"}, source.root)
    pv.ok("add", "local.bin", cwd=source.root)
    _commit(source.root, "unpushed")
    res = pv("get", source.url, "local.bin")
    assert res.exit_code == 1
    assert "ERROR: the remote of " in res.stderr and "lacks 1 object(s): local.bin" in res.stderr
    pv.ok("get", str(source.root), "local.bin")
    assert (pv_repo / "local.bin").read_text() == "only here"


@pytest.mark.parametrize("url", ["ext::sh -c touch% {marker}", "--upload-pack=touch {marker}", "-"])
def test_get_refuses_urls_that_could_run_commands(pv_repo: Path, pv: PvRunner, tmp_path: Path, url: str) -> None:
    marker = tmp_path / "pwned"
    res = pv("get", "--", url.format(marker=marker), "x")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: refusing the repository URL")
    assert not marker.exists()


def test_get_of_a_repository_without_pv_names_it(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    git("init", "-q", "-b", "main", str(plain))
    gen({"f.txt": "x"}, plain)
    _commit(plain, "plain")
    res = pv("get", str(plain), "f.txt")
    assert res.exit_code == 1
    assert res.stderr.startswith(f"ERROR: '{plain}' is not a pipever repository at 'HEAD'")


def test_a_path_that_is_no_repository_names_gits_reason(pv_repo: Path, pv: PvRunner) -> None:
    # git's last line ('and the repository exists.') was shown as the reason
    gen({"sub": {"f": "x"}})
    res = pv("ls", ".", cwd=pv_repo / "sub")
    assert res.exit_code == 1
    assert res.stderr.startswith(f"ERROR: cannot clone '.': '{pv_repo / 'sub'}' does not appear to be a git repository — ")


def test_a_repository_that_cannot_be_cloned_is_named_with_gits_reason(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    """The message took git's last stderr line: "cannot clone '…': and the repository exists."."""
    missing = (tmp_path / "nowhere").as_uri()
    res = pv("get", missing, "f.txt")
    assert res.exit_code == 1
    assert res.stderr == (f"ERROR: cannot clone '{missing}': '{tmp_path / 'nowhere'}' does not appear to be a git "
                          "repository — check the URL and that you can access it with 'git ls-remote URL'\n")
    from pipever import api
    from pipever.errors import GitError

    with pytest.raises(GitError, match="does not appear to be a git repository"):
        api.read("f.txt", repo=missing)


def test_a_password_in_a_repository_url_is_never_shown_nor_recorded(pv_repo: Path, pv: PvRunner) -> None:
    """'cannot clone 'https://user:TOKEN@…'' printed the token; 'pv import' would have written it
    into the committed pointer file."""
    token = "ghp-s3cr3t-T0KEN"
    url = f"https://user:{token}@127.0.0.1:1/org/data.git"
    masked = "https://user:******@127.0.0.1:1/org/data.git"
    for args in (["get", url, "f.txt"], ["ls", url]):
        res = pv(*args)
        assert res.exit_code == 1, res
        assert res.stderr.startswith(f"ERROR: cannot clone '{masked}': ")
        assert token not in res.stderr + res.stdout
    res = pv("import", url, "f.txt")
    assert res.exit_code == 1
    assert res.stderr == (f"ERROR: the repository URL '{masked}' contains a password, which 'pv import' would "
                          "record in the committed pointer file — give Git the credentials another way "
                          "(a credential helper, or an SSH URL)\n")
    assert not (pv_repo / "f.txt.pv").exists()
    from pipever import api
    from pipever.errors import GitError

    with pytest.raises(GitError) as exc:
        api.read("f.txt", repo=url)
    assert token not in str(exc.value) and masked in str(exc.value)


# -- import / update -----------------------------------------------------------------------------
def test_import_tracks_the_source_and_checks_the_data_out(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    res = pv.ok("import", source.url, "data/images", "-o", "imgs")
    assert "-> imgs.pv" in res.stdout and "Staged in Git: .gitignore imgs.pv" in res.stdout
    p = ptr.parse((pv_repo / "imgs.pv").read_text(), "imgs.pv")
    assert (p.outs[0].path, p.outs[0].nfiles, p.outs[0].size) == ("imgs", 2, 2)
    assert p.extra == {"deps": [{"path": "data/images", "repo": {"url": source.url, "rev_lock": source.head()}}]}
    assert _tree(pv_repo / "imgs") == {"a.png": "A", "sub/b.png": "B"}
    assert "/imgs" in (pv_repo / ".gitignore").read_text().splitlines()
    assert pv.ok("status").stdout.strip() == "Data and pipelines are up to date."
    assert (pv_repo / ".pv/cache" / hash_bytes(b"A").relpath()).exists()  # in this repo's cache


def test_import_with_rev_records_it(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    git("tag", "v1", cwd=source.root)
    pv.ok("import", source.url, "data/table.csv", "--rev", "v1")
    p = ptr.parse((pv_repo / "table.csv.pv").read_text(), "table.csv.pv")
    assert p.extra["deps"][0]["repo"] == {"url": source.url, "rev": "v1", "rev_lock": source.head()}


def test_import_refuses_an_existing_path(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    gen({"table.csv": "mine"})
    res = pv("import", source.url, "data/table.csv")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: 'table.csv' already exists")


def test_import_refuses_a_destination_whose_pointer_git_ignores(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    gen({".gitignore": "ext/\n"})
    res = pv("import", source.url, "data/table.csv", "-o", "ext/table.csv")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: 'ext/table.csv.pv' would be ignored by Git — ")
    assert not (pv_repo / "ext").exists()


def test_update_follows_the_source(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    pv.ok("import", source.url, "data/images")
    git("commit", "-qm", "import")
    assert pv.ok("update").stdout.strip() == "images.pv is up to date"

    gen({"data": {"images": {"a.png": "A2", "c.png": "C"}}}, source.root)
    pv.ok("add", "data/images", cwd=source.root)
    _commit(source.root, "more images")
    pv.ok("push", cwd=source.root)
    res = pv.ok("update", "images.pv")
    assert f"Updated images (3 files, 4 B) to {source.head()[:10]}" in res.stdout
    assert _tree(pv_repo / "images") == {"a.png": "A2", "c.png": "C", "sub/b.png": "B"}
    p = ptr.parse((pv_repo / "images.pv").read_text(), "images.pv")
    assert p.extra["deps"][0]["repo"]["rev_lock"] == source.head()
    assert "images.pv" in git("diff", "--cached", "--name-only").split()


def test_update_keeps_local_changes_and_the_pointer(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    pv.ok("import", source.url, "data/table.csv")
    before = (pv_repo / "table.csv.pv").read_text()
    _publish(pv, source, {"data": {"table.csv": "changed\n"}}, "data/table.csv")
    os.chmod(pv_repo / "table.csv", 0o644)
    gen({"table.csv": "my edits\n"})
    res = pv("update")
    assert res.exit_code == 1 and "would be lost: 'table.csv'" in res.stderr
    assert (pv_repo / "table.csv").read_text() == "my edits\n"
    assert (pv_repo / "table.csv.pv").read_text() == before
    assert "rerun with --force to discard the changes" in res.stderr
    pv.ok("update", "--force")  # the hint's flag exists ('No such option: --force', exit 2)
    assert (pv_repo / "table.csv").read_text() == "changed\n"
    assert (pv_repo / "table.csv.pv").read_text() != before


def test_update_stages_what_it_updated_before_a_later_import_failed(pv_repo: Path, pv: PvRunner, source: Source) -> None:
    pv.ok("import", source.url, "data/images", "-o", "a_images")
    pv.ok("import", source.url, "data/table.csv", "-o", "b_table.csv")
    git("commit", "-qm", "imports")
    _publish(pv, source, {"data": {"images": {"a.png": "A2"}, "table.csv": "changed\n"}}, "data/images", "data/table.csv")
    os.chmod(pv_repo / "b_table.csv", 0o644)
    gen({"b_table.csv": "my edits\n"})
    res = pv("update")
    assert res.exit_code == 1 and "would be lost: 'b_table.csv'" in res.stderr
    assert (pv_repo / "a_images/a.png").read_text() == "A2"
    # the rewritten a_images.pv was left unstaged, and a rerun said 'up to date' without staging it
    assert git("diff", "--name-only").split() == []
    assert "a_images.pv" in git("diff", "--cached", "--name-only").split()


def test_update_refuses_data_that_is_not_imported(pv_repo: Path, pv: PvRunner) -> None:
    gen({"mine.csv": "m"})
    pv.ok("add", "mine.csv")
    res = pv("update", "mine.csv.pv")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: 'mine.csv.pv' is not an import — 'pv update' refreshes data brought in by 'pv import'")


def test_no_hook_planted_in_the_shared_temp_folder_runs_when_cloning(
    pv_repo: Path, pv: PvRunner, source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Any local user can create folders in /tmp first: the clone's hooks must come from nowhere."""
    import tempfile

    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.setenv("TMPDIR", str(shared))
    canary = tmp_path / "hook-ran"
    for folder in ("pipever-no-hooks", "pv-no-hooks", "pipever-hooks"):
        for hook in ("reference-transaction", "post-checkout", "pre-auto-gc", "post-index-change"):
            script = shared / folder / hook
            script.parent.mkdir(exist_ok=True)
            script.write_text(f"#!/bin/sh\necho {folder}/{hook} >> '{canary}'\n")
            script.chmod(0o755)
    pv.ok("ls", source.url)
    pv.ok("get", source.url, "data/table.csv")
    pv.ok("import", source.url, "data/images")
    pv.ok("update", "images.pv")
    from pipever import api

    assert api.read("data/table.csv", repo=source.url) == "x,y\n1,2\n"
    assert not canary.exists(), canary.read_text()
