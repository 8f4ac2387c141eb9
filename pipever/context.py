"""``RepoContext``: where a pipever repository is and its handles (config, cache, state, Git, lock).

Every command takes one; the public facade ``pipever.Repo`` (``pipever/repo.py``) is a context
with the verbs of SPEC §12 on top. Nothing in this module imports a command."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pipever import fsutil, notices
from pipever.config import Config
from pipever.errors import ConfigError, NotARepoError, UnsafeRepoError
from pipever.objects.build import Workspace
from pipever.objects.odb import ObjectDB
from pipever.objects.state import StateDB, StateNoop

if TYPE_CHECKING:
    from pipever.data.ignore import PvIgnore
    from pipever.git import Git
    from pipever.objects.checkout import Linker

PV_DIR = ".pv"


def find_root(start: Path) -> Path | None:
    cur = start.resolve()
    for d in (cur, *cur.parents):
        if (d / PV_DIR).is_dir():
            return d
    return None


def _check_can_be_dir(path: Path, source: str, fix: str) -> None:
    """ConfigError when ``path`` (the cache) is, or is below, something that is no directory:
    a write would fail with 'Not a directory', which reads like a race ("changed while pv was
    working"). One stat when the cache exists."""
    if path.is_dir():
        return
    for p in (path, *path.parents):
        if os.path.lexists(p):
            if not p.is_dir():
                what = "is a file" if p == path else f"is below '{p}', which is no directory"
                raise ConfigError(f"the cache directory '{path}' from {source} cannot be a directory: it {what}", hint=fix)
            return


def _refuse_committed_link(root: Path, rel: str, what: str) -> None:
    """UnsafeRepoError when ``rel`` (a folder of ``.pv``) is a symlink Git tracks: a commit would
    lead pv's writes (or gc's deletions) into another folder. The owner's own link is fine. One
    lstat; Git is asked only about a link."""
    link = root / rel
    if not link.is_symlink():
        return
    from pipever.errors import GitError
    from pipever.git import Git

    try:
        tracked = Git(root).tracked([rel])
    except GitError:  # no Git here: nothing can have committed it
        return
    if tracked:
        raise UnsafeRepoError(f"'{rel}' is a symlink committed to Git (to '{os.readlink(link)}')",
                              hint=f"{what} belong to this machine: run 'git rm --cached {rel}' and remove the link"
                                   + (", or set 'pv config --local cache.dir PATH'" if rel.endswith("cache") else ""))


class RepoContext:
    """A pipever repository rooted at ``root`` (the directory holding ``.pv``)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        start = Path(root) if root is not None else Path.cwd()
        found = find_root(start)
        if found is None:
            raise NotARepoError(str(start))
        self.root = found
        self.pv_dir = found / PV_DIR
        if self.pv_dir.is_symlink():  # a commit's .pv pointing at another project's config and cache
            raise UnsafeRepoError(f"'{PV_DIR}' in '{found}' is a symlink (to '{os.readlink(self.pv_dir)}')",
                                  hint=f"pv uses only a real '{PV_DIR}' folder: remove the link and run 'pv init'")
        self.tmp_dir = self.pv_dir / "tmp"
        _refuse_committed_link(found, f"{PV_DIR}/tmp", "the state database and the repo lock")
        self.wait_for_lock = False
        self.command = "pv"
        self._lock_depth = 0

    # -- handles ---------------------------------------------------------------------------------
    @cached_property
    def config(self) -> Config:
        return Config.load(self.pv_dir)

    @property
    def scm(self) -> bool:
        return not self.config.get("core.no_scm", False) and (self.root / ".git").exists()

    @cached_property
    def git(self) -> Git:
        from pipever.git import Git

        return Git(self.root)

    @cached_property
    def cache_dir(self) -> Path:
        """``PV_CACHE_DIR``, else ``cache.dir`` (relative to ``.pv``), else ``.pv/cache``. The
        committed config may only name a cache inside the work tree: one outside (another
        project's cache, which gc would empty) is ignored with a warning."""
        path, source, fix = self._cache_setting()
        _check_can_be_dir(path, source, fix)
        return path

    def _cache_setting(self) -> tuple[Path, str, str]:
        """(the cache directory, where the setting comes from, how to change it)."""
        env = os.environ.get("PV_CACHE_DIR")
        if env:
            return Path(env).resolve(), "PV_CACHE_DIR", "set PV_CACHE_DIR to a directory, or unset it"
        level = next((lvl for lvl in ("local", "repo", "global") if self.config.get("cache.dir", level=lvl)), None)
        if level is not None:
            conf = str(self.config.get("cache.dir", level=level))
            path = (self.pv_dir / conf).resolve()
            inside = path == self.root or self.root in path.parents and (self.root / ".git") not in (path, *path.parents)
            if level != "repo" or inside:
                flag = {"local": "--local ", "global": "--global ", "repo": ""}[level]
                return path, f"'cache.dir' ({level} config)", f"change it: 'pv config {flag}cache.dir PATH'"
            notices.warn(f"'cache.dir' in the committed .pv/config.yaml points outside the work tree ('{conf}'): "
                         "ignored — set it with 'pv config --local cache.dir PATH' to use a cache there")
        default = self.pv_dir / "cache"
        _refuse_committed_link(self.root, f"{PV_DIR}/cache", "the cache")
        return default, "the default cache", f"remove the file '{PV_DIR}/cache', or set 'pv config --local cache.dir PATH'"

    @cached_property
    def odb(self) -> ObjectDB:
        return ObjectDB(self.cache_dir, shared_group=self.config.get("cache.shared") == "group")

    @cached_property
    def state(self) -> StateDB:
        if self.config.get("state.enabled", True) is False:
            return StateNoop()
        return StateDB(self.tmp_dir / "state.db", cache_dir=lambda: self.cache_dir)

    @cached_property
    def workspace(self) -> Workspace:
        return Workspace(self.root, self.cache_dir, self.state)

    @cached_property
    def ignore(self) -> PvIgnore:
        from pipever.data.ignore import PvIgnore

        return PvIgnore(self.root)

    def linker(self) -> Linker:
        from pipever.objects.checkout import Linker, parse_link_types  # not on read-only paths

        return Linker(self.root, self.odb, self.state, parse_link_types(self.config.get("cache.type", ["reflink", "copy"])))

    @property
    def autostage(self) -> bool:
        return self.scm and self.config.get("core.autostage", True) is not False

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the repo lock (re-entrant: an op may call another op that locks)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        from pipever.lock import repo_lock

        with repo_lock(self.tmp_dir, command=self.command, wait=self.wait_for_lock) as holder_died:
            if holder_died:  # a pv process was killed mid-write: remove its temp files
                fsutil.remove_tmp_files(self.root, skip=(self.cache_dir, self.tmp_dir))
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0

    def close(self) -> None:
        if "state" in self.__dict__:
            self.state.close()

    def __enter__(self) -> RepoContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
