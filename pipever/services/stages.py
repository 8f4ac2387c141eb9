"""The pipeline of a repository as other verbs need it: ``pv.yaml`` loaded, ``pv.lock`` read and
written, stage status for ``pv status``, stage outputs for ``pv add``/``pv checkout``, and
``pv commit`` of stages."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipever.data import gitignore
from pipever.data.pointer import Pointer, PointerOut
from pipever.errors import PvError, StageError
from pipever.services.lockio import read_lock
from pipever.pipeline.lockfile import LOCK_FILE
from pipever.pipeline.schema import load_pipeline as parse_pipeline
from pipever.pipeline.stage import Out, Pipeline
from pipever.paths import cwd_target, read_inside
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.services.tracked import Tracked

PIPELINE_FILE = "pv.yaml"


def read_text(repo: RepoContext, rel: str) -> str | None:
    """A work-tree file ``pv.yaml`` names (vars, params), never through a symlink out of it."""
    data = read_inside(repo.root, rel)
    return None if data is None else data.decode("utf-8")


def load_pipeline(repo: RepoContext) -> Pipeline:
    """``pv.yaml`` of the workspace (an empty pipeline when there is none); SchemaError if invalid."""
    text = read_text(repo, PIPELINE_FILE)
    if text is None:
        return Pipeline(file=PIPELINE_FILE)
    return parse_pipeline(text, PIPELINE_FILE, read_file=lambda rel: read_text(repo, rel))


def out_flags(repo: RepoContext, rev: str | None) -> dict[str, Out] | None:
    """The outputs ``pv.yaml`` declares (in the workspace, or at Git revision ``rev``) by path;
    None when there is no pv.yaml or it cannot be read."""
    def read(rel: str) -> str | None:
        if rev is None:
            return read_text(repo, rel)
        data = repo.git.read_file(rev, rel)
        return None if data is None else data.decode("utf-8", errors="replace")

    text = read(PIPELINE_FILE)
    if text is None:
        return None
    try:
        pipeline = parse_pipeline(text, PIPELINE_FILE, read_file=read)
    except PvError:
        return None
    return {o.path: o for stage in pipeline.stages.values() for o in stage.all_outs}


def resolve_targets(pipeline: Pipeline, targets: Iterable[str], *, root: Path) -> list[str]:
    """Stage names meant by ``targets``: stage or group names, ``pv.yaml:NAME``, or an output path
    (relative to the current directory, see ``paths.cwd_target``) of the repository at ``root``."""
    names: list[str] = []
    for target in targets:
        found = pipeline.resolve(target)
        if not found:
            owner = pipeline.out_owner(cwd_target(root, target))
            found = (owner,) if owner else ()
        if not found:
            raise StageError(f"stage '{target}' does not exist in '{PIPELINE_FILE}'", hint="see 'pv stage list'")
        names.extend(n for n in found if n not in names)
    return names


def split_targets(repo: RepoContext, targets: list[str]) -> tuple[list[str], list[str]]:
    """(data targets, stage targets) of a command that takes both: stage and group names,
    ``pv.yaml:NAME``, and paths of stage outputs are stage targets."""
    if not targets or not (repo.root / PIPELINE_FILE).exists():
        return list(targets), []
    pipeline = load_pipeline(repo)
    data: list[str] = []
    stage: list[str] = []
    for target in targets:
        (stage if _is_stage_target(pipeline, target, repo.root) else data).append(target)
    return data, stage


def _is_stage_target(pipeline: Pipeline, target: str, root: Path) -> bool:
    return bool(pipeline.resolve(target)) or pipeline.out_owner(cwd_target(root, target)) is not None


def stage_out_paths(repo: RepoContext) -> set[str]:
    """RepoContext-relative outputs (outs, metrics, plots) of every stage in ``pv.yaml``."""
    pipeline = load_pipeline(repo)
    return {out.path for stage in pipeline.stages.values() for out in stage.all_outs}


def stage_names(repo: RepoContext) -> set[str]:
    """Names a command may use for stages: stage names and foreach/matrix group names."""
    if not (repo.root / PIPELINE_FILE).exists():
        return set()
    pipeline = load_pipeline(repo)
    return set(pipeline.stages) | set(pipeline.groups)


def stage_status(repo: RepoContext, targets: list[str]) -> dict[str, list[Any]]:
    """``{stage: reasons}`` for stages that are stale or whose outputs are not in the cache."""
    if not (repo.root / PIPELINE_FILE).exists():
        return {}
    from pipever.services.stage_state import Probe
    from pipever.pipeline.dag import build_graph
    from pipever.pipeline.status import report
    pipeline = load_pipeline(repo)
    build_graph(pipeline)  # a cycle or an output produced twice is an error here too
    names = resolve_targets(pipeline, targets, root=repo.root) if targets else list(pipeline.stages)
    lock = read_lock(repo)
    probe = Probe(repo)
    statuses = [probe.status(pipeline.stages[n], lock.get(n)) for n in names]
    return dict(report(statuses))


def commit_stages(repo: RepoContext, names: list[str] | None, *, force: bool) -> list[str]:
    """Record the outputs of stages (all when ``names`` is None) into the cache and ``pv.lock``
    without running them. A stage whose cmd, deps or params changed since it was recorded needs
    ``force``; a stage never run is committed when all its outputs exist. Call under the repo lock."""
    from pipever.services.stage_record import StageRecorder

    if names is not None and not names:
        return []
    if not (repo.root / PIPELINE_FILE).exists():
        if names:
            raise StageError(f"'{PIPELINE_FILE}' does not exist", hint="add a stage with 'pv stage add'")
        return []
    pipeline = load_pipeline(repo)
    chosen = resolve_targets(pipeline, names, root=repo.root) if names is not None else list(pipeline.stages)
    recorder = StageRecorder(repo, pipeline, read_lock(repo))
    committed: list[str] = []
    for name in chosen:
        stage = pipeline.stages[name]
        status = recorder.probe.status(stage, recorder.lock.get(name))
        if not status.stale and not status.outs:
            continue
        missing = [o.path for o in stage.all_outs if not os.path.lexists(repo.root / o.path)]
        if missing:
            if names:
                raise StageError(f"output '{missing[0]}' of stage '{name}' does not exist",
                                 hint=f"run 'pv repro {name}' to produce it")
            continue
        inputs_changed = status.changed_cmd or status.deps or status.params or status.always_changed
        if inputs_changed and not status.never_run and not force:
            raise StageError(f"stage '{name}' changed since it was recorded (its cmd, deps or params)",
                             hint=f"run 'pv repro {name}', or 'pv commit -f {name}' to record it as it is")
        recorder.record(stage)
        committed.append(name)
    return committed


def staged_paths(repo: RepoContext, pipeline: Pipeline, names: Iterable[str]) -> list[str]:
    """``pv.lock`` and the ``.gitignore`` files next to the cached outputs of ``names``."""
    paths = {LOCK_FILE} if (repo.root / LOCK_FILE).exists() else set()
    for name in names:
        for out in pipeline.stages[name].all_outs:
            ignore = gitignore.gitignore_rel(out.path)
            if out.cache and (repo.root / ignore).exists():
                paths.add(ignore)
    return sorted(paths)


def checkout_targets(repo: RepoContext, targets: list[str]) -> list[Tracked]:
    """What ``pv checkout`` restores: outs of pointer files and cached stage outputs recorded in
    ``pv.lock`` (as Tracked entries of ``pv.lock``), selected by ``targets`` (all when empty)."""
    from pipever.services import tracked as trk

    data, stage_targets = split_targets(repo, targets)
    outs = trk.select(repo, data) if data or not targets else []
    if (stage_targets or not targets) and (repo.root / PIPELINE_FILE).exists():
        pipeline = load_pipeline(repo)
        lock = read_lock(repo)
        names = resolve_targets(pipeline, stage_targets, root=repo.root) if stage_targets else list(pipeline.stages)
        for name in names:
            entry = lock.get(name)
            for out in pipeline.stages[name].all_outs:
                locked = entry.out(out.path) if entry is not None and out.cache else None
                if locked is not None:
                    pointer = Pointer(LOCK_FILE, (PointerOut(locked.path, locked.oid, locked.size, locked.nfiles),))
                    outs.append(trk.Tracked(pointer, 0, locked.path))
    return outs
