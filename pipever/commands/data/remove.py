"""``pv remove``: stop tracking data. The pointer file and its ``.gitignore`` entries go; the data
stays in the workspace as plain writable files (links into the cache are replaced by copies, so a
later ``pv gc`` cannot break them), or is deleted with ``outs=True``.

``remove_pointers`` is the data half. ``remove`` dispatches each target: pointer files here,
stage names to the pipeline layer (``pv remove STAGE``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.errors import TargetError
from pipever.services import tracked as trk
from pipever.services.outdelete import delete_out, unsaved_files
from pipever.services.writable import unprotect_path
from pipever.context import RepoContext


@dataclass
class RemoveResult:
    pointers: list[str] = field(default_factory=list)  # pointer files removed
    deleted: list[str] = field(default_factory=list)  # data deleted (outs=True)
    kept: list[str] = field(default_factory=list)  # data left in the workspace, untracked
    staged: list[str] = field(default_factory=list)  # paths whose change was staged in Git
    stages: list[str] = field(default_factory=list)  # stages removed from pv.yaml


def remove(repo: RepoContext, targets: list[str], *, outs: bool = False) -> RemoveResult:
    """Remove pointer files (``*.pv``); other targets are stage names for the pipeline layer."""
    if not targets:
        raise TargetError("nothing to remove", hint="name pointer files: 'pv remove data.csv.pv'")
    from pipever.services.stages import PIPELINE_FILE, stage_names

    pointers: list[str] = []
    stages: list[str] = []
    names = stage_names(repo) if any(not t.endswith(ptr.SUFFIX) for t in targets) else set()
    for arg in targets:
        name = arg.removeprefix(PIPELINE_FILE + ":")
        if name in names:
            stages.append(name)
        elif not arg.endswith(ptr.SUFFIX):
            raise _not_a_pointer(repo, arg)
        else:
            pointers.append(arg)
    result = remove_pointers(repo, pointers, outs=outs) if pointers else RemoveResult()
    if stages:
        from pipever.commands.pipeline.stage_edit import remove_stages

        result.stages, deleted, staged = remove_stages(repo, stages, outs=outs)
        result.deleted += deleted
        result.staged = sorted(set(result.staged) | set(staged))
    return result


def _not_a_pointer(repo: RepoContext, arg: str) -> TargetError:
    candidate = arg.rstrip("/") + ptr.SUFFIX
    if os.path.isfile(candidate):
        return TargetError(f"'{arg}' is not a pointer file", hint=f"remove its pointer: 'pv remove {candidate}'")
    return TargetError(f"'{arg}' is not a pointer file or a stage", hint="name a *.pv file (see 'git ls-files \"*.pv\"')")


def remove_pointers(repo: RepoContext, targets: list[str], *, outs: bool = False) -> RemoveResult:
    """Stop tracking the data of the pointer files ``targets``. Everything is checked before
    anything is written; with ``outs`` the data is deleted only when the cache holds its content."""
    chosen: list[ptr.Pointer] = []
    for arg in targets:
        rel = trk.resolve_target(repo, arg)
        if not rel.endswith(ptr.SUFFIX):
            raise _not_a_pointer(repo, arg)
        if not (repo.root / rel).is_file():
            raise TargetError(f"'{rel}' does not exist", hint="check the path ('git ls-files \"*.pv\"' lists pointer files)")
        p = trk.read_pointer(repo, rel)
        if all(c.rel != p.rel for c in chosen):
            chosen.append(p)
    data = [p.out_rel(o) for p in chosen for o in p.outs]
    if outs:
        for rel in data:
            unsafe = unsaved_files(repo, rel)
            if unsafe:
                raise TargetError(
                    f"'{unsafe[0]}' has changes that are not in the cache and would be lost",
                    hint=f"'pv add {rel}' to keep them, or delete '{rel}' yourself",
                )
    in_git = set(repo.git.tracked([p.rel for p in chosen])) if repo.autostage else set()
    result = RemoveResult()
    to_stage: set[str] = set()
    with repo.locked():
        for p in chosen:
            for o in p.outs:
                rel = p.out_rel(o)
                if outs:
                    if os.path.lexists(repo.root / rel):
                        delete_out(repo, rel)
                        result.deleted.append(rel)
                elif os.path.lexists(repo.root / rel):
                    unprotect_path(repo, rel)
                    result.kept.append(rel)
                changed = gitignore.remove_entry(repo.root, rel)
                if changed:
                    to_stage.add(changed)
            os.unlink(repo.root / p.rel)
            result.pointers.append(p.rel)
            if p.rel in in_git:
                to_stage.add(p.rel)
        repo.state.flush()
        if repo.autostage:
            stage = [f for f in to_stage if os.path.exists(repo.root / f) or repo.git.tracked([f])]
            repo.git.add(stage)
            result.staged = sorted(stage)
    return result
