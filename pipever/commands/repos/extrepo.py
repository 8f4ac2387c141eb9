"""Another pv repository, read at one commit: the base of ``pv ls/get/import/update`` and of
``pipever.api`` with ``repo=``.

The repository (a local path or a Git URL) is cloned into a temp directory without a checkout and
without running anything of it (``pipever.gitclone``). Its ``.pv/config.yaml`` at that commit is
put in place so that ``RepoContext`` reads its remotes as committed config, where options that could run
programs are ignored; a local config written here sets the cache (the caller's cache, or one in
the temp directory, never a path the other repository chose). Objects come from the source's own
cache when it is a local repository, then from its remotes (its default remote for most outs).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipever import fsutil, yamlio
from pipever.errors import PvError, RemoteNotFoundError, TargetError
from pipever.gitclone import check_url, clone, is_local
from pipever.objects.manifest import Manifest
from pipever.objects.odb import ObjectRef
from pipever.services import cloud
from pipever.services.used import UsedOut, outs_at_rev
from pipever.paths import check_relpath, is_inside
from pipever.remote.url import mask_url
from pipever.context import RepoContext

CONFIG = ".pv/config.yaml"


class NotAPvRepositoryError(PvError):
    def __init__(self, url: str, rev: str) -> None:
        super().__init__(f"'{url}' is not a pipever repository at '{rev}' (it has no {CONFIG})",
                         hint="check the URL and the revision")
        self.url = url


@dataclass(frozen=True)
class Located:
    """What a path names in the other repository."""

    rel: str  # repo-relative path asked for
    out: UsedOut | None = None  # the pv-tracked out holding it (None: a file Git tracks)


@dataclass
class External:
    url: str  # as given (local paths made absolute, a password masked)
    rev: str | None  # as asked
    sha: str  # the commit read
    repo: RepoContext  # the clone, reading the other repository's config
    source: Path | None  # the repository's own root when it is on this machine

    @property
    def label(self) -> str:
        return self.url + (f"@{self.rev}" if self.rev else "")

    def outs(self) -> list[UsedOut]:
        return outs_at_rev(self.repo, self.sha)

    def git_files(self) -> dict[str, tuple[int, bool]]:
        """Files Git tracks at the commit: path -> (size, executable)."""
        out = self.repo.git.run("ls-tree", "-r", "-z", "--long", "--full-tree", self.sha)
        files: dict[str, tuple[int, bool]] = {}
        for item in out.decode("utf-8", errors="surrogateescape").split("\0"):
            if not item:
                continue
            meta, path = item.split("\t", 1)
            mode, kind, _sha, size = meta.split()
            if kind == "blob":
                files[path] = (int(size) if size.isdigit() else 0, mode == "100755")
        return files

    def read_git_file(self, rel: str) -> bytes:
        data = self.repo.git.read_file(self.sha, rel)
        if data is None:
            raise TargetError(f"'{rel}' does not exist in '{self.label}'", hint="check the path with 'pv ls'")
        return data

    def locate(self, path: str) -> Located:
        """The out or Git file ``path`` names; TargetError when neither exists."""
        rel = check_relpath(path.strip("/"))
        for out in self.outs():
            if is_inside(rel, out.rel):
                return Located(rel, out)
        files = self.git_files()
        if rel in files:
            return Located(rel)
        if any(f.startswith(rel + "/") for f in files):
            raise TargetError(f"'{rel}' is a directory tracked by Git in '{self.label}', not by pipever",
                              hint="get the files inside it one by one, or use 'git clone'")
        raise TargetError(f"'{rel}' does not exist in '{self.label}'", hint=f"list what is there with 'pv ls {self.url}'")

    def fetch(self, outs: Sequence[UsedOut], *, jobs: int | None = None) -> None:
        """Bring the objects ``outs`` need into this repository's cache."""
        odb = self.repo.odb
        need = cloud.needed(odb, outs)
        if self.source is not None:
            _copy_from(self.source, odb, [o.ref for o in need.unknown_dirs])
            need = cloud.needed(odb, outs)
            _copy_from(self.source, odb, list(need.names))
            need = cloud.needed(odb, outs)
        if not need.unknown_dirs and all(odb.exists(r.oid, is_dir=r.is_dir) for r in need.names):
            return
        from pipever.commands.remotes.fetch import fetch

        try:
            res = fetch(self.repo, [str(self.repo.root / o.rel) for o in outs], revs=[self.sha], workspace=False,
                        jobs=jobs)
        except RemoteNotFoundError as exc:
            raise PvError(f"'{self.url}' has no default remote to download its data from",
                          hint="ask its maintainers to set one with 'pv remote add -d' and 'pv push'") from exc
        missing = sorted({m for names in res.missing.values() for m in names})
        if missing:
            raise PvError(f"the remote of '{self.url}' lacks {len(missing)} object(s): " + ", ".join(missing[:10]),
                          hint="ask its maintainers to 'pv push' them")

    def manifest(self, out: UsedOut) -> Manifest | None:
        """The manifest of a tracked directory: from the cache, the source's cache, or its remote
        (that one object only); None when none of them has it."""
        odb = self.repo.odb
        if self.source is not None:
            _copy_from(self.source, odb, [out.ref])
        if not odb.exists(out.oid, is_dir=True):
            try:
                remote = cloud.open_remote(self.repo, out.remote)
                try:
                    remote.download(out.ref, odb)
                finally:
                    remote.close()
            except PvError:
                return None
        try:
            return odb.read_manifest(out.oid)
        except PvError:
            return None


def _copy_from(source: Path, odb: Any, refs: list[ObjectRef]) -> None:
    """Copy objects found in a local source repository's cache, verifying each one."""
    base = source / ".pv" / "cache"
    if not base.is_dir():
        return
    for ref in refs:
        src = base / ref.relpath
        if odb.exists(ref.oid, is_dir=ref.is_dir) or not src.is_file():
            continue
        tmp = odb.tmp_path_for(ref.oid, is_dir=ref.is_dir)
        try:
            fsutil.copy_file(src, tmp)
            odb.insert_verified(tmp, ref.oid, is_dir=ref.is_dir)
        except (OSError, PvError):
            continue  # unreadable or corrupt there: the remote may have a good copy


def _local_config(repo_config: dict[str, Any], cache_dir: Path, source: Path | None) -> dict[str, Any]:
    local: dict[str, Any] = {"cache": {"dir": str(cache_dir)}}
    remotes = repo_config.get("remote") if isinstance(repo_config.get("remote"), dict) else {}
    for name, opts in (remotes or {}).items():
        url = opts.get("url") if isinstance(opts, dict) else None
        if source is not None and isinstance(url, str) and "://" not in url and not os.path.isabs(url):
            local.setdefault("remote", {})[name] = {"url": os.path.normpath(source / url)}
    return local


@contextlib.contextmanager
def open_external(
    url: str, *, rev: str | None = None, cache_dir: Path | None = None, checkout: bool = False, history: bool = False,
) -> Iterator[External]:
    """Clone ``url`` at ``rev`` (default: its default branch) into a temp directory, removed after.

    ``cache_dir`` is where its objects go (default: a cache inside the temp directory). With
    ``checkout`` the files Git tracks are checked out too (hooks and filters still off), so the
    clone's workspace is that commit. ``history``: all commits and tags (a partial clone)."""
    check_url(url)  # before the URL is used as a path, too
    local = is_local(url) and "://" not in url
    shown = str(Path(url).resolve()) if local else mask_url(url)  # a password in the URL is never shown
    tmp = Path(tempfile.mkdtemp(prefix="pv-repo-"))
    try:
        root = tmp / "repo"
        sha = clone(url, root, rev=rev, checkout=checkout, history=history)
        from pipever.git import Git

        text = Git(root).read_file(sha, CONFIG)
        if text is None:
            raise NotAPvRepositoryError(shown, rev or "HEAD")
        (root / ".pv").mkdir(exist_ok=True)
        (root / CONFIG).write_bytes(text)
        committed = yamlio.load(text, f"{shown}:{CONFIG}") or {}
        source = Path(shown) if local else None
        local_cfg = _local_config(committed if isinstance(committed, dict) else {}, cache_dir or tmp / "cache", source)
        (root / ".pv" / "config.local.yaml").write_text(yamlio.dump(local_cfg), encoding="utf-8")
        repo = RepoContext(root)
        try:
            yield External(shown, rev, sha, repo, source)
        finally:
            repo.close()
    finally:
        fsutil.remove(tmp)

