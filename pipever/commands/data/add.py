"""``pv add``: hash targets, store them in the cache, link them back, write pointers, autostage."""

from __future__ import annotations

import glob as globmod
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.errors import TargetError
from pipever.objects.build import FileStat
from pipever.objects.oid import Oid
from pipever.services import tracked as trk
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.services.save import Saved, save_path, scan
from pipever.paths import is_inside
from pipever.context import RepoContext


@dataclass(frozen=True)
class Added:
    rel: str
    pointer: str
    oid: Oid
    size: int
    nfiles: int | None
    changed: bool  # False when the pointer already said so


@dataclass
class AddResult:
    added: list[Added] = field(default_factory=list)
    staged: list[str] = field(default_factory=list)
    to_track: list[str] = field(default_factory=list)  # pointers and .gitignore files for Git (staged or not)
    skipped: list[str] = field(default_factory=list)  # symlinks to nothing inside added directories


def expand_targets(repo: RepoContext, targets: list[str], *, use_glob: bool) -> list[str]:
    out: list[str] = []
    for t in targets:
        if use_glob:
            matches = sorted(globmod.glob(t, recursive=True))
            if not matches:
                raise TargetError(f"'{t}' matched no files", hint="check the pattern")
            out.extend(matches)
        else:
            out.append(t)
    rels = []
    for t in out:
        rel = trk.resolve_target(repo, t)
        if rel not in rels:
            rels.append(rel)
    return rels


def check_target(repo: RepoContext, rel: str, tracked: list[trk.Tracked], stage_outs: set[str]) -> None:
    if rel.endswith(ptr.SUFFIX):
        raise TargetError(f"'{rel}' is a pointer file", hint=f"add the data itself: 'pv add {rel[:-len(ptr.SUFFIX)]}'")
    full = repo.root / rel
    if not os.path.lexists(full):
        raise TargetError(f"'{rel}' does not exist", hint="check the path")
    if os.path.islink(full):
        raise TargetError(f"'{rel}' is a symlink", hint="add the file or directory it points to instead")
    from pipever.paths import check_physical

    check_physical(repo.root, rel)
    for t in tracked:
        if t.rel != rel and is_inside(rel, t.rel):
            raise TargetError(
                f"'{rel}' is inside the tracked directory '{t.rel}'",
                hint=f"re-add the whole directory: 'pv add {t.rel}'",
            )
        if t.rel != rel and is_inside(t.rel, rel):
            raise TargetError(
                f"'{rel}' contains the tracked '{t.rel}'",
                hint=f"stop tracking it first: 'pv remove {t.pointer.rel}'",
            )
    for out in stage_outs:
        if is_inside(rel, out) or is_inside(out, rel):
            raise TargetError(
                f"'{rel}' is an output of a stage in pv.yaml",
                hint="stage outputs are recorded by 'pv repro' / 'pv commit', not 'pv add'",
            )


def add(
    repo: RepoContext, targets: list[str], *, use_glob: bool = False, jobs: int = 0,
    progress: Progress = NO_PROGRESS,
) -> AddResult:
    if not targets:
        raise TargetError("nothing to add", hint="name files or directories: 'pv add data.csv'")
    rels = expand_targets(repo, targets, use_glob=use_glob)
    tracked = trk.all_tracked(repo)
    from pipever.services.stages import stage_out_paths

    stage_outs = stage_out_paths(repo)
    for rel in rels:
        check_target(repo, rel, tracked, stage_outs)
    if repo.scm:
        in_git = repo.git.tracked(rels)
        if in_git:
            raise TargetError(
                f"'{in_git[0]}' is tracked by Git",
                hint=f"run 'git rm -r --cached {in_git[0]}' first",
            )
        trk.refuse_ignored_pointers(repo, [ptr.pointer_rel_for(rel) for rel in rels])
    existing = {t.rel: t for t in tracked}
    result = AddResult()
    to_stage: list[str] = []
    with repo.locked():
        # look at every target before writing anything: a hostile symlink or a vanished file in
        # the last target must not leave the first ones half-added
        scans = {rel: scan(repo, rel) for rel in rels}
        result.skipped = sorted(set(repo.workspace.dangling))
        for rel in rels:
            added = _add_one(repo, rel, existing.get(rel), jobs=jobs, progress=progress, scanned=scans[rel])
            record_added(repo, result, to_stage, added)
        finish(repo, result, to_stage)
    return result


def record_added(repo: RepoContext, result: AddResult, to_stage: list[str], added: Added) -> None:
    """Note ``added`` in ``result``, ignore its data in Git, and list its pointer and ``.gitignore``
    for staging (``pv add`` and ``pv add --to-remote``)."""
    result.added.append(added)
    to_stage.append(added.pointer)
    changed_ignore = gitignore.add_entry(repo.root, added.rel)
    if changed_ignore:
        to_stage.append(changed_ignore)
    elif os.path.exists(repo.root / gitignore.gitignore_rel(added.rel)):
        to_stage.append(gitignore.gitignore_rel(added.rel))


def finish(repo: RepoContext, result: AddResult, to_stage: list[str]) -> None:
    """Flush the state db and stage what the adds changed (unless ``core.autostage`` is off)."""
    repo.state.flush()
    result.to_track = sorted(set(to_stage))
    if repo.autostage:
        repo.git.add(to_stage)
        result.staged = result.to_track


def _add_one(
    repo: RepoContext, rel: str, prev: trk.Tracked | None, *, jobs: int, progress: Progress,
    scanned: list[FileStat] | FileStat | None = None,
) -> Added:
    saved = save_path(repo, rel, jobs=jobs, progress=progress, scanned=scanned)
    return write_pointer(repo, rel, prev, saved)


def write_pointer(repo: RepoContext, rel: str, prev: trk.Tracked | None, saved: Saved) -> Added:
    """Write (or update) the pointer of ``rel`` for what ``saved`` says it is."""
    oid, size, nfiles = saved.oid, saved.size, saved.nfiles
    pointer_rel = ptr.pointer_rel_for(rel)
    name = rel.rsplit("/", 1)[-1]
    new_out = ptr.PointerOut(name, oid, size, nfiles, _with_isexec({}, saved.isexec))
    if prev is not None:
        old = prev.out
        new_out = replace(new_out, path=old.path, extra=_with_isexec(old.extra, saved.isexec))
        pointer = prev.pointer.with_out(prev.index, new_out)
        changed = (old.oid, old.size, old.nfiles, old.isexec) != (oid, size, nfiles, saved.isexec)
    else:
        pointer = ptr.Pointer(pointer_rel, (new_out,))
        changed = True
    from pipever.fsutil import atomic_write_text

    text = ptr.dump(pointer)
    target = repo.root / pointer.rel
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        atomic_write_text(target, text)
    return Added(rel, pointer.rel, oid, size, nfiles, changed)


def _with_isexec(extra: Mapping[str, Any], isexec: bool) -> dict[str, Any]:
    """An out's extra keys with ``isexec: true`` for an executable file, and without it otherwise."""
    kept = {k: v for k, v in extra.items() if k != "isexec"}
    return {**kept, "isexec": True} if isexec else kept
