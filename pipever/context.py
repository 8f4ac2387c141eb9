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

from pipever import fsutil
from pipever.config import Config
from pipever.errors import NotARepoError
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


class RepoContext:
    """A pipever repository rooted at ``root`` (the directory holding ``.pv``)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        start = Path(root) if root is not None else Path.cwd()
        found = find_root(start)
        if found is None:
            raise NotARepoError(str(start))
        self.root = found
        self.pv_dir = found / PV_DIR
        self.tmp_dir = self.pv_dir / "tmp"
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
        env = os.environ.get("PV_CACHE_DIR")
        conf = self.config.get("cache.dir")
        if env:
            return Path(env).resolve()
        if conf:
            return (self.pv_dir / str(conf)).resolve() if not os.path.isabs(str(conf)) else Path(str(conf))
        return self.pv_dir / "cache"

    @cached_property
    def odb(self) -> ObjectDB:
        return ObjectDB(self.cache_dir, shared_group=self.config.get("cache.shared") == "group")

    @cached_property
    def state(self) -> StateDB:
        if self.config.get("state.enabled", True) is False:
            return StateNoop()
        return StateDB(self.tmp_dir / "state.db")

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
