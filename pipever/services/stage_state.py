"""The present state of stage inputs and outputs, measured for staleness and for ``pv.lock``.

Oids come through the state db (unchanged files are never re-hashed) and, for directories, through
the fingerprint shortcut of ``services.outstate.dir_oid``. Params files are parsed once per content.
A ``Probe`` lives for one command and runs on one thread (the state db is not shared across threads).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from pipever.errors import StageError
from pipever.objects.oid import Oid
from pipever.services.save import save_path
from pipever.services.outstate import dir_oid
from pipever.pipeline.lockfile import LockedPath, LockedUrl, LockEntry
from pipever.pipeline.params import MISSING, current_params, get_value, parse_params
from pipever.pipeline.stage import Stage
from pipever.pipeline.status import Change, StageStatus, stage_status
from pipever.paths import resolve_inside
from pipever.context import RepoContext


class Probe:
    def __init__(self, repo: RepoContext) -> None:
        self.repo = repo
        self._params: dict[str, tuple[tuple[int, int, int], dict[str, Any] | None]] = {}
        from pipever.services.url_deps import UrlProbe

        self.urls = UrlProbe(repo)

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.repo.root / rel)

    def oid(self, rel: str) -> Oid | None:
        """Current oid of a file or directory (manifest oid), None when it does not exist."""
        full = self.repo.root / rel
        if os.path.isdir(full) and not os.path.islink(full):
            return dir_oid(self.repo, rel)
        fs = self.repo.workspace.stat_file(rel)
        if fs is None:
            return None
        return self.repo.workspace.hash_files([fs])[0].oid

    def measure(self, rel: str) -> LockedPath | None:
        """``rel`` as pv.lock records a dep (oid, size, nfiles), without storing it."""
        if not self.exists(rel):
            return None
        saved = save_path(self.repo, rel, store=False, link=False)
        return LockedPath(rel, saved.oid, saved.size, saved.nfiles)

    def params_file(self, rel: str) -> dict[str, Any] | None:
        full = resolve_inside(self.repo.root, rel)  # never a params file out of the work tree
        try:
            st = os.stat(full)
        except (FileNotFoundError, NotADirectoryError):
            return None
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        known = self._params.get(rel)
        if known is not None and known[0] == key:
            return known[1]
        data = parse_params(full.read_text(encoding="utf-8"), rel)
        self._params[rel] = (key, data)
        return data

    def params(self, stage: Stage) -> dict[str, dict[str, Any]]:
        files = {dep.file: self.params_file(dep.file) for dep in stage.params}
        return current_params(stage.params, files)

    def check_params(self, stage: Stage) -> None:
        """StageError for the first params file or tracked key of ``stage`` that is not there (as
        DVC's MissingParamsError: a stage run without it would stay stale for ever)."""
        for dep in stage.params:
            data = self.params_file(dep.file)
            if data is None:
                raise StageError(f"params file '{dep.file}' does not exist",
                                 hint="create it, or remove it from the stage's params")
            for key in dep.keys or ():
                if get_value(data, key) is MISSING:
                    raise StageError(f"param '{key}' is not in '{dep.file}'",
                                     hint=f"add it to '{dep.file}', or remove it from the stage's params")

    def in_cache(self, oid: Oid, *, is_dir: bool) -> bool:
        """Whether the cache holds the object (and, for a directory, every file it lists)."""
        repo = self.repo
        if not repo.odb.exists(oid, is_dir=is_dir):
            return False
        if not is_dir or repo.state.is_complete(oid):
            return True
        try:
            manifest = repo.odb.read_manifest(oid)
        except Exception:  # noqa: BLE001 - unreadable counts as not in the cache
            return False
        if all(repo.odb.exists(e.oid) for e in manifest.entries):
            repo.state.mark_complete(oid)
            return True
        return False

    def status(self, stage: Stage, entry: LockEntry | None) -> StageStatus:
        """Compare ``stage`` and its lock entry with the workspace."""
        if entry is None:
            return stage_status(stage, None, deps={}, outs={}, params={})
        deps = {} if stage.frozen else {d: self.oid(d) for d in stage.deps}
        outs = {o.path: self.oid(o.path) for o in stage.all_outs}
        dirs = {o.oid: o.is_dir for o in entry.outs}

        def cached(oid: Oid) -> bool:
            return self.in_cache(oid, is_dir=dirs.get(oid, False))

        params = {} if stage.frozen else self.params(stage)
        status = stage_status(stage, entry, deps=deps, outs=outs, params=params, cached=cached)
        if stage.url_deps and not stage.frozen:
            changed = self.url_changes(stage, entry)
            if changed:
                status = dataclasses.replace(status, deps={**status.deps, **changed})
        return status

    def url_changes(self, stage: Stage, entry: LockEntry) -> dict[str, Change]:
        """URL deps whose identity differs from the recorded one (SPEC §8.1)."""
        from pipever.services.url_deps import same

        changes: dict[str, Change] = {}
        for url in stage.url_deps:
            now = self.urls.identity(url)
            recorded = entry.url_dep(url)
            if now is None:
                changes[url] = Change.DELETED
            elif recorded is None:
                changes[url] = Change.NEW
            elif not same(now, recorded):
                changes[url] = Change.MODIFIED
        return changes

    def locked_urls(self, stage: Stage) -> list[LockedUrl]:
        """The URL deps of ``stage`` as pv.lock records them; StageError when one is gone."""
        found = []
        for url in stage.url_deps:
            now = self.urls.identity(url)
            if now is None:
                raise StageError(f"dependency '{url}' of stage '{stage.name}' does not exist",
                                 hint="check the URL, or remove it from the stage's deps")
            found.append(now)
        return found

    def locked_deps(self, stage: Stage) -> list[LockedPath]:
        """The deps of ``stage`` as pv.lock records them; missing ones are left out."""
        return [p for p in (self.measure(d) for d in stage.deps) if p is not None]

