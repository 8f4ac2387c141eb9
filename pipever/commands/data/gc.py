"""``pv gc``: delete cache objects nothing asked to keep references, in two phases.

``plan_gc`` works out what would go: every object in the cache minus the kept set (the
workspace's pointers and ``pv.lock`` always, plus the revisions of ``-a/-T/-A``, ``--rev``/``-n`` and
``--date``, with directories expanded through their manifests, and any object a workspace symlink points at). ``apply_gc``
takes the repo lock, recomputes the kept set (so a ``pv add`` that ran while the user was asked
cannot lose data) and deletes only planned objects that are still unreferenced. With
``--not-in-remote`` an object the remote lacks is never planned (its only copy would go). Leftover temp
files (``*.pvtmp``) of killed processes are cleaned too. ``plan_cloud``/``apply_cloud`` do the
same for a remote (``--cloud``) through ``commands/remotes/gc_cloud.py``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipever import fsutil
from pipever.errors import CorruptObjectError, ManifestError, ObjectNotFoundError, PvError
from pipever.objects.checkout import parse_link_types
from pipever.objects.odb import ObjectRef
from pipever.services import used
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.commands.remotes.gc_cloud import CloudGcPlan, CloudGcResult

TMP_GRACE_S = 600  # temp files younger than this may belong to a running transfer


@dataclass(frozen=True)
class Scope:
    """What to keep besides the workspace (which is always kept)."""

    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    all_experiments: bool = False  # refs/exps/ (pv exp); -A keeps them too
    # a revision's pointer or pv.lock that cannot be read stops gc (it would delete what that
    # file references); with this the user accepts the risk and such files are skipped
    skip_unreadable: bool = False
    revs: tuple[str, ...] = ()  # --rev: these commits (and the num-1 before each)
    num: int = 1  # -n: commits kept from each --rev
    date: str | None = None  # --date YYYY-MM-DD: every commit made on or after that day
    not_in_remote: bool = False  # keep what the remote lacks (never the only copy)
    remote: str | None = None  # the remote of not_in_remote (default: the default one)


@dataclass(frozen=True)
class Doomed:
    ref: ObjectRef
    size: int


@dataclass(frozen=True)
class GcPlan:
    scope: Scope
    remove: tuple[Doomed, ...]
    kept: int  # objects in the cache that stay
    tmp_files: tuple[Path, ...] = ()
    unknown_dirs: tuple[str, ...] = ()  # kept directories whose manifest is not in the cache

    @property
    def size(self) -> int:
        return sum(d.size for d in self.remove)

    @property
    def empty(self) -> bool:
        return not self.remove and not self.tmp_files


@dataclass
class GcResult:
    removed: list[ObjectRef] = field(default_factory=list)
    freed: int = 0
    tmp_removed: int = 0
    spared: list[ObjectRef] = field(default_factory=list)  # planned, but referenced by now


def plan_gc(repo: RepoContext, scope: Scope) -> GcPlan:
    """What ``apply_gc`` would delete; deletes nothing."""
    kept, unknown = kept_objects(repo, scope)
    remove: list[Doomed] = []
    n_kept = 0
    for ref in repo.odb.iter_objects():
        if ref in kept:
            n_kept += 1
            continue
        try:
            size = os.stat(repo.odb.path(ref.oid, is_dir=ref.is_dir)).st_size
        except FileNotFoundError:
            continue
        remove.append(Doomed(ref, size))
    if scope.not_in_remote:
        remove, not_there = _only_on_remote(repo, remove, scope.remote)
        n_kept += not_there
    remove.sort(key=lambda d: d.ref.relpath)
    return GcPlan(scope, tuple(remove), n_kept, tuple(_stale_tmp_files(repo)), tuple(unknown))


def apply_gc(repo: RepoContext, plan: GcPlan) -> GcResult:
    """Delete what ``plan`` lists, except objects that became referenced since it was made."""
    result = GcResult()
    with repo.locked():
        kept, _unknown = kept_objects(repo, plan.scope)
        for doomed in plan.remove:
            if doomed.ref in kept:
                result.spared.append(doomed.ref)
                continue
            repo.odb.remove(doomed.ref.oid, is_dir=doomed.ref.is_dir)
            result.removed.append(doomed.ref)
            result.freed += doomed.size
        if result.removed:
            repo.state.clear_complete()  # "every file of this directory is cached" may be false now
        for tmp in plan.tmp_files:
            try:
                if os.path.isdir(tmp) and not os.path.islink(tmp):
                    fsutil.remove(tmp)  # a staging shard a killed pv left (ObjectDB.bulk_writes)
                else:
                    os.unlink(tmp)
            except FileNotFoundError:
                continue
            result.tmp_removed += 1
    return result


def kept_objects(repo: RepoContext, scope: Scope) -> tuple[set[ObjectRef], list[str]]:
    """Every object the workspace and the scope's revisions need, and the directories among them
    whose manifest is missing (their files cannot be known; nothing of theirs is in the cache by
    way of them). A corrupt or invalid kept manifest is an error: gc cannot tell what it needs."""
    outs = _used_outs(repo, scope)
    kept: set[ObjectRef] = set()
    unknown: list[str] = []
    for out in outs:
        kept.add(out.ref)
        if not out.is_dir:
            continue
        try:
            manifest = repo.odb.read_manifest(out.oid)
        except ObjectNotFoundError:
            unknown.append(out.rel + (f" ({out.rev[:8]})" if out.rev else ""))
            continue
        except (CorruptObjectError, ManifestError) as exc:
            raise PvError(
                f"cannot tell which files '{out.rel}' needs: its manifest {out.oid} is unreadable ({_why(exc)})",
                hint="run 'pv fsck --repair' first; nothing was deleted",
            ) from exc
        kept.update(ObjectRef(e.oid, False) for e in manifest.entries)
    kept.update(_symlinked_objects(repo, outs))
    return kept, sorted(set(unknown))


def _used_outs(repo: RepoContext, scope: Scope) -> list[used.UsedOut]:
    """What the scope uses. A revision's pointer or pv.lock that cannot be read stops gc (it
    would delete what that file references), or is skipped with a warning (``skip_unreadable``)."""
    def unreadable(exc: used.UnreadableRevisionError) -> None:
        if not scope.skip_unreadable:
            raise exc
        from pipever import notices

        notices.warn(f"skipped '{exc.path}' at revision {exc.rev[:8]} ({exc.name}): {exc.problem} — "
                     "the objects only it references are not kept")

    return used.used_outs(repo, all_branches=scope.all_branches, all_tags=scope.all_tags,
                          all_commits=scope.all_commits, all_experiments=scope.all_experiments,
                          revs=scope_revisions(repo, scope), unreadable=unreadable)


def scope_revisions(repo: RepoContext, scope: Scope) -> list[str]:
    """Commits ``--rev`` (with ``-n``) and ``--date`` keep, as DVC's ``gc --rev/-n/--date``."""
    if not repo.scm or not (scope.revs or scope.date):
        return []
    shas: set[str] = set()
    for rev in scope.revs:
        sha = repo.git.resolve(rev)
        shas.update(repo.git.run("rev-list", "-n", str(max(scope.num, 1)), sha, "--").decode().split())
    if scope.date:
        since = parse_date(scope.date)
        for line in repo.git.run("log", "--all", "--format=%H %ct").decode().splitlines():
            sha, _sp, when = line.partition(" ")
            if when.isdigit() and int(when) >= since:
                shas.add(sha)
    return sorted(shas)


def parse_date(text: str) -> int:
    """The start of day ``YYYY-MM-DD`` (local time), as seconds since the epoch."""
    import datetime

    try:
        day = datetime.datetime.strptime(text, "%Y-%m-%d")
    except ValueError as exc:
        raise PvError(f"invalid date '{text}'", hint="write it as YYYY-MM-DD, e.g. 2024-01-31") from exc
    return int(day.timestamp())


def _only_on_remote(repo: RepoContext, remove: list[Doomed], remote: str | None) -> tuple[list[Doomed], int]:
    """The doomed objects the remote has (the others are kept: they would be lost); how many kept."""
    if not remove:
        return remove, 0
    from pipever.services.cloud import open_remote

    rem = open_remote(repo, remote)
    with rem.mapped_errors():
        there = rem.existing({d.ref for d in remove}, jobs=rem.jobs)
    kept = [d for d in remove if d.ref not in there]
    return [d for d in remove if d.ref in there], len(kept)


def _why(exc: CorruptObjectError | ManifestError) -> str:
    return exc.problem if isinstance(exc, ManifestError) else "its content does not match its hash"


def _symlinked_objects(repo: RepoContext, outs: list[used.UsedOut]) -> set[ObjectRef]:
    """Objects that workspace symlinks point at (cache.type symlink), even when the pointers
    changed since the workspace was checked out: deleting them would break those files."""
    if "symlink" not in parse_link_types(repo.config.get("cache.type", ["reflink", "copy"])):
        return set()
    found: set[ObjectRef] = set()
    for out in outs:
        if out.rev is not None:
            continue
        full = repo.root / out.rel
        paths = [full] if not full.is_dir() or full.is_symlink() else _walk_links(full)
        for p in paths:
            if not p.is_symlink():
                continue
            parsed = repo.odb.oid_of_cache_path(os.path.realpath(p))
            if parsed is not None:
                found.add(ObjectRef(*parsed))
    return found


def _walk_links(top: Path) -> list[Path]:
    links: list[Path] = []
    for dirpath, dirs, files in os.walk(top):
        links.extend(Path(dirpath) / name for name in [*files, *dirs] if os.path.islink(os.path.join(dirpath, name)))
    return links


def _stale_tmp_files(repo: RepoContext) -> list[Path]:
    if not repo.cache_dir.is_dir():
        return []
    cutoff = time.time() - TMP_GRACE_S
    stale = []
    for path in fsutil.cleanup_tmp_files(repo.cache_dir):
        try:
            if os.lstat(path).st_mtime < cutoff:
                stale.append(path)
        except FileNotFoundError:
            continue
    return sorted(stale)


def plan_cloud(repo: RepoContext, scope: Scope, *, remote: str | None, progress: Progress = NO_PROGRESS,
               grace: float | None = None) -> CloudGcPlan:
    """The remote half of ``pv gc --cloud`` (``commands/remotes/gc_cloud.py``), keeping what the
    scope keeps; ``grace``: seconds a pack stays marked before it is deleted (default 24 h)."""
    from pipever.commands.remotes import gc_cloud
    from pipever.remote.packgc import DEFAULT_GRACE

    kept, _unknown = kept_objects(repo, scope)
    return gc_cloud.plan_gc_cloud(repo, kept, remote=remote, progress=progress,
                                  grace=DEFAULT_GRACE if grace is None else grace)


def apply_cloud(repo: RepoContext, plan: CloudGcPlan, scope: Scope, *, progress: Progress = NO_PROGRESS) -> CloudGcResult:
    """Delete what ``plan`` lists on the remote, except objects that came into use meanwhile."""
    from pipever.commands.remotes import gc_cloud

    with repo.locked():
        kept, _unknown = kept_objects(repo, scope)
    plan = replace(plan, remove=tuple(r for r in plan.remove if r not in kept), keep=plan.keep | set(kept))
    return gc_cloud.apply_gc_cloud(repo, plan, progress=progress)
