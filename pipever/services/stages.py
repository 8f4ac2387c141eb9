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
from pipever.pipeline import multi
from pipever.pipeline.stage import Out, Pipeline
from pipever.paths import cwd_target, is_inside, read_inside
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.services.tracked import Tracked

PIPELINE_FILE = "pv.yaml"


def read_text(repo: RepoContext, rel: str) -> str | None:
    """A work-tree file ``pv.yaml`` names (vars, params), never through a symlink out of it."""
    data = read_inside(repo.root, rel)
    return None if data is None else data.decode("utf-8")


def has_pipeline(repo: RepoContext) -> bool:
    """Whether the work tree has a pipeline file (the root's ``pv.yaml`` or one in a folder)."""
    from pipever.services import pipeline_files as pf

    return bool(pf.workspace_files(repo))


def load_pipeline(repo: RepoContext) -> Pipeline:
    """Every pipeline file of the workspace as one pipeline (``pipeline.multi`` keys: ``NAME`` in
    the root ``pv.yaml``, ``sub/pv.yaml:NAME`` in others); empty when there is none; SchemaError if
    one is invalid."""
    from pipever.services import pipeline_files as pf

    return pf.load(pf.workspace_files(repo), pf.workspace_reader(repo))


def out_flags(repo: RepoContext, rev: str | None) -> dict[str, Out] | None:
    """The outputs the pipeline files declare (in the workspace, or at Git revision ``rev``) by
    path; None when there is no pipeline file or one cannot be read."""
    from pipever.services import pipeline_files as pf

    def read(rel: str) -> str | None:
        if rev is None:
            return read_text(repo, rel)
        data = repo.git.read_file(rev, rel)
        return None if data is None else data.decode("utf-8", errors="replace")

    files = pf.workspace_files(repo) if rev is None else pf.files_at(repo, rev)
    if not files:
        return None
    try:
        pipeline = pf.load(files, read)
    except PvError:
        return None
    return {o.path: o for stage in pipeline.stages.values() for o in stage.all_outs}


def cwd_dir(root: Path) -> str:
    """The current folder, repo-relative ('.' at the root or outside the repository)."""
    cwd = Path(os.path.abspath(os.curdir))
    if cwd != root and cwd.is_relative_to(root):
        return cwd.relative_to(root).as_posix()
    return "."


def resolve_targets(pipeline: Pipeline, targets: Iterable[str], *, root: Path) -> list[str]:
    """Stage keys meant by ``targets`` (see ``multi.find``: a stage or group of the current
    folder's ``pv.yaml``, ``path/pv.yaml:NAME``, a pipeline file), or an output path (relative to
    the current directory, see ``paths.cwd_target``) of the repository at ``root``."""
    cwd = cwd_dir(root)
    names: list[str] = []
    for target in targets:
        found = multi.find(pipeline, target, cwd)
        if not found:
            owner = pipeline.out_owner(cwd_target(root, target))
            found = (owner,) if owner else ()
        if not found:
            raise StageError(f"stage '{target}' does not exist in '{multi.here_file(cwd)}'",
                             hint="see 'pv stage list'")
        names.extend(n for n in found if n not in names)
    return names


def split_targets(repo: RepoContext, targets: list[str]) -> tuple[list[str], list[str]]:
    """(data targets, stage targets) of a command that takes both: stage and group names,
    ``pv.yaml:NAME``, and paths of stage outputs are stage targets."""
    if not targets or not has_pipeline(repo):
        return list(targets), []
    pipeline = load_pipeline(repo)
    data: list[str] = []
    stage: list[str] = []
    for target in targets:
        (stage if _is_stage_target(pipeline, target, repo.root) else data).append(target)
    return data, stage


def _is_stage_target(pipeline: Pipeline, target: str, root: Path) -> bool:
    return bool(multi.find(pipeline, target, cwd_dir(root))) or pipeline.out_owner(cwd_target(root, target)) is not None


def stage_out_paths(repo: RepoContext) -> set[str]:
    """RepoContext-relative outputs (outs, metrics, plots) of every stage in ``pv.yaml``."""
    pipeline = load_pipeline(repo)
    return {out.path for stage in pipeline.stages.values() for out in stage.all_outs}


def stage_names(repo: RepoContext) -> set[str]:
    """Names a command may use for stages: stage names and foreach/matrix group names."""
    if not has_pipeline(repo):
        return set()
    pipeline = load_pipeline(repo)
    cwd = cwd_dir(repo.root)
    return {multi.display(k, cwd) for k in (*pipeline.stages, *pipeline.groups)} | set(pipeline.stages)


def stage_status(repo: RepoContext, targets: list[str]) -> dict[str, list[Any]]:
    """``{stage: reasons}`` for stages that are stale or whose outputs are not in the cache."""
    if not has_pipeline(repo):
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
    cwd = cwd_dir(repo.root)
    return {multi.display(k, cwd): v for k, v in report(statuses).items()}


def commit_stages(repo: RepoContext, names: list[str] | None, *, force: bool) -> list[str]:
    """Record the outputs of stages (all when ``names`` is None) into the cache and ``pv.lock``
    without running them. A stage whose cmd, deps or params changed since it was recorded needs
    ``force``; a stage never run is committed when all its outputs exist. Call under the repo lock."""
    from pipever.services.stage_record import StageRecorder

    if names is not None and not names:
        return []
    if not has_pipeline(repo):
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
    """The ``pv.lock`` files of ``names`` and the ``.gitignore`` files next to their cached outputs."""
    paths: set[str] = set()
    for name in names:
        lock_rel = multi.lock_file_of(multi.file_of(name))
        if (repo.root / lock_rel).exists():
            paths.add(lock_rel)
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
    if (stage_targets or not targets) and has_pipeline(repo):
        pipeline = load_pipeline(repo)
        lock = read_lock(repo)
        names = resolve_targets(pipeline, stage_targets, root=repo.root) if stage_targets else list(pipeline.stages)
        for name in names:
            entry = lock.get(name)
            for out in pipeline.stages[name].all_outs:
                locked = entry.out(out.path) if entry is not None and out.cache else None
                if locked is not None:
                    # repo-relative paths, as in the root's pv.lock
                    pointer = Pointer(multi.LOCK_FILE, (PointerOut(locked.path, locked.oid, locked.size, locked.nfiles),))
                    outs.append(trk.Tracked(pointer, 0, locked.path))
    return outs


def select_stages(repo: RepoContext, pipeline: Pipeline, targets: Iterable[str], *, all_pipelines: bool = False,
                  recursive: bool = False) -> list[str]:
    """The stages a command names, by DVC's rules: ``targets`` (see ``resolve_targets``); with
    ``recursive`` the targets are folders and every pipeline file under them counts; with
    ``all_pipelines`` every stage; with neither and no targets, the stages of the current
    folder's ``pv.yaml`` (StageError when there is none)."""
    targets = list(targets)
    if all_pipelines:
        return list(pipeline.stages)
    cwd = cwd_dir(repo.root)
    if recursive:
        dirs = [cwd_target(repo.root, t) if t not in (".", "./") else cwd for t in targets] or [cwd]
        dirs = ["." if cwd_dir(repo.root) == "." and d in (".", "") else d for d in dirs]
        return [k for k in pipeline.stages if any(is_inside(multi.file_of(k), d) for d in dirs)]
    if targets:
        return resolve_targets(pipeline, targets, root=repo.root)
    here = multi.here_file(cwd)
    if not pipeline.stages:
        return []  # no pipeline at all: nothing to do, not an error
    if not (repo.root / here).is_file():
        raise StageError(f"'{here}' does not exist",
                         hint="run it in a folder with a pv.yaml, name stages ('path/to/pv.yaml:NAME'), "
                              "or use -P for every pipeline")
    return list(multi.stages_of(pipeline, here))
