"""``pv exp apply NAME``: bring an experiment into the workspace — the files it changed against its
baseline (params files, ``pv.yaml``, ``pv.lock``, pointers, uncached metrics) — and check out its
outputs from the cache. HEAD and the branch do not move; commit the result to keep it.

Nothing unsaved is lost: everything is checked before anything is written. A Git-tracked file
the experiment changes that has uncommitted changes of its own, or data in the workspace that is
not in the cache, stops the command unless ``force``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipever import fsutil
from pipever.data import pointer as ptr
from pipever.errors import CheckoutConflictError, ExperimentError
from pipever.services import tracked as trk
from pipever.commands.data.checkout import CheckoutResult, checkout, plan_outs
from pipever.commands.experiments.exp_refs import Experiment, find
from pipever.paths import check_relpath, read_inside, resolve_inside
from pipever.context import RepoContext

LOCK_FILE = "pv.lock"


@dataclass
class ApplyResult:
    name: str
    files: list[str] = field(default_factory=list)  # Git-tracked files written (or deleted)
    checkout: CheckoutResult = field(default_factory=CheckoutResult)


def exp_apply(repo: RepoContext, name: str, *, force: bool = False) -> ApplyResult:
    exp = find(repo, name)
    with repo.locked():
        writes = _planned_writes(repo, exp, force=force)
        outs = _outs(repo, exp, [rel for rel in writes if rel.endswith(ptr.SUFFIX)])
        conflicts = plan_outs(repo, outs, force=force, relink=False).conflicts
        if conflicts:
            raise CheckoutConflictError(sorted(set(conflicts)))
        for rel, data in writes.items():
            target = resolve_inside(repo.root, rel)
            if data is None:
                fsutil.remove(target)
            else:
                fsutil.atomic_write(target, data)
        result = ApplyResult(exp.name, sorted(writes))
        targets = sorted({t.rel for t in outs})
        if targets:
            result.checkout = checkout(repo, targets, force=force)
        if repo.autostage:
            present = [r for r in writes if (repo.root / r).exists()]
            repo.git.add(present + repo.git.tracked([r for r in writes if r not in present]))
    return result


def _planned_writes(repo: RepoContext, exp: Experiment, *, force: bool) -> dict[str, bytes | None]:
    """Files the experiment changed (path -> its bytes, None when it deleted them); ExperimentError
    when one of them has uncommitted changes in the workspace (unless ``force``)."""
    head = repo.git.resolve("HEAD")
    writes: dict[str, bytes | None] = {}
    dirty = []
    for _status, rel in repo.git.changed_files(exp.baseline, exp.sha):
        rel = check_relpath(rel, source=f"experiment '{exp.name}'")
        new = repo.git.read_file(exp.sha, rel)
        current = read_inside(repo.root, rel)
        if current is not None and current != new and current != repo.git.read_file(head, rel):
            dirty.append(rel)
        writes[rel] = new
    if dirty and not force:
        shown = ", ".join(f"'{p}'" for p in dirty[:10])
        raise ExperimentError(f"applying '{exp.name}' would overwrite uncommitted changes to {shown}",
                              hint="commit them (or 'git stash'), or rerun with --force to discard them")
    return writes


def _outs(repo: RepoContext, exp: Experiment, pointer_files: list[str]) -> list[trk.Tracked]:
    """The data the experiment records: cached stage outputs in its ``pv.lock`` and the outs of
    the pointer files it changed."""
    from pipever.services.stages import out_flags
    from pipever.pipeline.lockfile import parse_lockfile

    from pipever.pipeline import multi
    from pipever.services import pipeline_files as pf

    outs: list[trk.Tracked] = []
    flags = out_flags(repo, exp.sha) or {}
    lock_files = {LOCK_FILE, *(multi.lock_file_of(f) for f in pf.files_at(repo, exp.sha))}
    for lock_rel in sorted(lock_files):  # beside each pipeline file; paths relative to its folder
        text = repo.git.read_file(exp.sha, lock_rel)
        if text is None:
            continue
        for entry in parse_lockfile(text.decode("utf-8"), lock_rel).stages.values():
            for lp in entry.outs:
                declared = flags.get(lp.path)
                if declared is not None and not declared.cache:
                    continue
                pointer = ptr.Pointer(LOCK_FILE, (ptr.PointerOut(lp.path, lp.oid, lp.size, lp.nfiles),))
                outs.append(trk.Tracked(pointer, 0, check_relpath(lp.path, source=lock_rel)))
    for rel in pointer_files:
        data = repo.git.read_file(exp.sha, rel)
        if data is not None:
            p = ptr.parse(data, rel)
            outs.extend(trk.Tracked(p, i, p.out_rel(o)) for i, o in enumerate(p.outs))
    return outs
