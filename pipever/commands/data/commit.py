"""``pv commit``: record the workspace state of tracked data (and stage outputs) without running
anything."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipever.errors import TargetError
from pipever.commands.data import add as add_op
from pipever.services import outstate as st
from pipever.services import tracked as trk
from pipever.services.progress import NO_PROGRESS
from pipever.context import RepoContext


@dataclass
class CommitResult:
    committed: list[str] = field(default_factory=list)  # data paths whose pointer changed
    stages: list[str] = field(default_factory=list)  # stages whose lock entry was written


def commit(repo: RepoContext, targets: list[str], *, force: bool = False) -> CommitResult:
    result = CommitResult()
    from pipever.services.stages import commit_stages

    data_targets, stage_names = _split_targets(repo, targets)
    staged: list[str] = []
    with repo.locked():
        if data_targets or not targets:
            selected = [(t, st.out_state(repo, t)) for t in trk.select(repo, data_targets)]
            _refuse_deleted([t.rel for t, state in selected if state == st.DELETED])  # before writing any
            for t, state in selected:
                if state is None:  # in sync; staged anyway, so a rerun after a kill stages it
                    staged.append(t.pointer.rel)
                    continue
                added = add_op._add_one(repo, t.rel, t, jobs=0, progress=NO_PROGRESS)
                result.committed.append(added.rel)
                staged.append(added.pointer)
        result.stages = commit_stages(repo, stage_names if targets else None, force=force)
        if result.stages:
            from pipever.services.stages import load_pipeline, staged_paths

            staged += staged_paths(repo, load_pipeline(repo), result.stages)
        repo.state.flush()
        if repo.autostage and staged:
            repo.git.add(staged)
    return result


def _refuse_deleted(rels: list[str]) -> None:
    if len(rels) == 1:
        raise TargetError(f"'{rels[0]}' does not exist", hint="'pv checkout' it, or 'pv remove' its pointer")
    if rels:
        names = ", ".join(f"'{r}'" for r in rels)
        raise TargetError(f"{names} do not exist", hint="'pv checkout' them, or 'pv remove' their pointers")


def _split_targets(repo: RepoContext, targets: list[str]) -> tuple[list[str], list[str]]:
    from pipever.services.stages import split_targets

    return split_targets(repo, targets)
