"""Before and after a stage runs: clear its outputs, record what it produced (outputs into the
cache, the lock entry written at once, the run cache updated), or restore its outputs from the
run cache instead of running it.

A ``StageRecorder`` lives for one command, under the repo lock, on one thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pipever import fsutil
from pipever.data import gitignore
from pipever.errors import CorruptObjectError, ManifestError, ObjectNotFoundError, StageError
from pipever.objects import checkout as co
from pipever.objects.checkout import Linker
from pipever.services.save import save_path
from pipever.services.stage_state import Probe
from pipever.services.lockio import LockWriter
from pipever.paths import check_physical
from pipever.pipeline.lockfile import LockedPath, LockEntry, Lockfile, make_entry
from pipever.pipeline.runcache import RUNS_DIR, RunCache, cacheable, run_key
from pipever.pipeline.stage import Pipeline, Stage
from pipever.context import RepoContext


class StageRecorder:
    def __init__(self, repo: RepoContext, pipeline: Pipeline, lock: Lockfile) -> None:
        self.repo = repo
        self.pipeline = pipeline
        self.lock = lock
        self.probe = Probe(repo)
        self.runs = RunCache(repo.cache_dir / RUNS_DIR)
        self.writer = LockWriter(repo, pipeline)

    # -- before running -------------------------------------------------------------------------
    def clear_outputs(self, stage: Stage) -> None:
        """Delete non-persistent outputs; make persistent ones writable copies (not cache links)."""
        self.check_not_in_git(stage)
        for out in stage.all_outs:
            full = check_physical(self.repo.root, out.path)
            if not os.path.lexists(full):
                continue
            if out.persist:
                from pipever.services.writable import unprotect_path

                unprotect_path(self.repo, out.path)
            else:
                fsutil.remove(full)

    def check_not_in_git(self, stage: Stage) -> None:
        """StageError when clearing an output would delete files Git tracks: a directory holding
        them, or a cached output Git tracks (a ``cache: false`` file kept in Git, e.g. metrics,
        is what Git restores, as DVC users expect)."""
        if not self.repo.scm:
            return
        present = [o for o in stage.all_outs if not o.persist and os.path.lexists(self.repo.root / o.path)]
        files = self.repo.git.tracked_files([o.path for o in present])
        for out in present:
            mine = [f for f in files if f == out.path or f.startswith(out.path + "/")]
            if mine and (out.cache or mine != [out.path]):
                shown = ", ".join(repr(f) for f in mine[:5]) + (f" and {len(mine) - 5} more" if len(mine) > 5 else "")
                raise StageError(f"output '{out.path}' of stage '{stage.name}' holds files tracked by Git: {shown} "
                                 f"(outputs are deleted before their stage runs: 'git rm -r --cached {out.path}' "
                                 "hands them to pv, or fix the stage's outs)", hint="nothing was deleted")

    # -- after a successful run -----------------------------------------------------------------
    def record(self, stage: Stage) -> LockEntry:
        """Cache the outputs of ``stage`` and write its lock entry; StageError when an output or
        dep is missing (nothing is recorded then)."""
        for out in stage.all_outs:
            if not os.path.lexists(self.repo.root / out.path):
                raise StageError(f"output '{out.path}' of stage '{stage.name}' was not created",
                                 hint="make the command write it, or remove it from the stage's outs")
        deps = self.probe.locked_deps(stage)
        found = {d.path for d in deps}
        gone = [d for d in stage.deps if d not in found]
        if gone:
            raise StageError(f"dependency '{gone[0]}' of stage '{stage.name}' does not exist",
                             hint="create it, or remove it from the stage's deps")
        urls = self.probe.locked_urls(stage)
        params = self.probe.params(stage)
        use_runs = cacheable(stage)
        outs = []
        for out in stage.all_outs:
            saved = save_path(self.repo, out.path, store=out.cache or use_runs, link=out.cache)
            outs.append(LockedPath(out.path, saved.oid, saved.size, saved.nfiles))
        return self._commit(stage, make_entry(stage, deps=deps, params=params, outs=outs, url_deps=urls),
                            run_key=use_runs)

    def _commit(self, stage: Stage, entry: LockEntry, *, run_key: bool) -> LockEntry:
        # .gitignore first: pv.lock is the commit point, and a stage it records as done is not
        # run again, so a kill between the two must not leave its outputs un-ignored
        for out in stage.all_outs:
            if out.cache:
                gitignore.add_entry(self.repo.root, out.path)
        self.lock = self.lock.with_entry(stage.name, entry)
        self.writer.write(self.lock)
        if run_key:
            self.save_run(stage, entry)
        return entry

    def record_remote(self, stage: Stage, deps: Sequence[LockedPath], outs: Sequence[LockedPath], *,
                      checkout: bool) -> LockEntry:
        """Record a run made elsewhere (a cluster) whose outputs are ``outs``: checked out from
        the cache (``checkout``), or only recorded, left on the remote. StageError when they
        cannot be put in place."""
        entry = make_entry(stage, deps=deps, params=self.probe.params(stage), outs=outs,
                           url_deps=self.probe.locked_urls(stage))
        if checkout and not self.restore(stage, list(deps), tuple(outs)):
            raise StageError(f"the outputs of stage '{stage.name}' could not be checked out from the cache",
                             hint="run 'pv fsck' and rerun the stage")
        if not checkout:
            self._commit(stage, entry, run_key=False)
        self.save_run(stage, entry)
        return entry

    def save_run(self, stage: Stage, entry: LockEntry) -> None:
        key = run_key(stage, entry.deps, entry.params)
        if key is not None:
            self.runs.put(key, entry.outs)

    # -- the run cache --------------------------------------------------------------------------
    def cached_run(self, stage: Stage) -> tuple[list[LockedPath], tuple[LockedPath, ...]] | None:
        """(deps, outs) of an earlier run of ``stage`` with the present inputs whose outputs are
        all in the cache, from the run cache or from ``pv.lock``; None when there is none."""
        if not cacheable(stage):
            return None
        deps = self.probe.locked_deps(stage)
        if len(deps) != len(stage.deps):
            return None
        key = run_key(stage, deps, self.probe.params(stage))
        if key is None:
            return None
        outs = self.runs.get(key)
        entry = self.lock.get(stage.name)
        if (outs is None and entry is not None and entry.commands == stage.cmd
                and run_key(stage, entry.deps, entry.params) == key):
            outs = entry.outs  # pv.lock records a run with these very inputs (e.g. in a fresh clone)
        if outs is None or [o.path for o in outs] != [o.path for o in stage.all_outs]:
            return None
        if not all(self._in_place(o) or self.probe.in_cache(o.oid, is_dir=o.is_dir) for o in outs):
            return None
        return deps, outs

    def _in_place(self, out: LockedPath) -> bool:
        return self.probe.oid(out.path) == out.oid

    def restore(self, stage: Stage, deps: list[LockedPath], outs: tuple[LockedPath, ...]) -> bool:
        """Put the outputs of a cached run in place (those not already there) and record it;
        False (outputs cleared) when an object turns out unreadable or corrupt, so the caller
        runs the stage instead."""
        flags = {o.path: o.cache for o in stage.all_outs}
        todo = [o for o in outs if not self._in_place(o)]
        if todo:
            self.check_not_in_git(stage)
        for o in todo:
            fsutil.remove(check_physical(self.repo.root, o.path))
        for cache in (True, False):
            plan = co.CheckoutPlan()
            try:
                for o in todo:
                    if flags[o.path] is cache:
                        self._plan(plan, o)
            except (ObjectNotFoundError, CorruptObjectError, ManifestError):
                self.clear_outputs(stage)
                return False
            linker = self.repo.linker() if cache else Linker(self.repo.root, self.repo.odb, self.repo.state, ["copy"])
            if plan.missing or co.apply(plan, linker):
                self.clear_outputs(stage)
                return False
        entry = make_entry(stage, deps=deps, params=self.probe.params(stage), outs=outs,
                           url_deps=self.probe.locked_urls(stage))
        self._commit(stage, entry, run_key=False)
        return True

    def _plan(self, plan: co.CheckoutPlan, out: LockedPath) -> None:
        in_cache = self.repo.odb.exists
        if out.is_dir:
            manifest = self.repo.odb.read_manifest(out.oid)
            entries = ((e.path, e.oid, e.isexec) for e in manifest.entries)
            co.plan_dir(plan, out.path, entries, {}, in_cache=in_cache, force=True, relink=False)
            if not manifest.entries:
                os.makedirs(self.repo.root / out.path, exist_ok=True)
        else:
            co.plan_file(plan, out.path, out.oid, None, in_cache=in_cache, force=True, relink=False)
