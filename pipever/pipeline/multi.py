"""Several pipeline files as one pipeline (SPEC §8.1: a ``pv.yaml`` in any folder).

Every ``pv.yaml`` of the repository is parsed on its own (its paths relative to its folder, its
``pv.lock`` beside it); ``merge`` joins them into one ``Pipeline`` whose stage keys say where each
stage lives, as DVC addresses stages: a stage of the root ``pv.yaml`` is ``NAME``, one of
``sub/pv.yaml`` is ``sub/pv.yaml:NAME``. The graph, staleness and runs then work on one pipeline;
``split_lock`` turns the merged lock back into one lock per file.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable, Mapping

from pipever.pipeline.lockfile import LOCK_FILE as LOCK_FILE, Lockfile
from pipever.pipeline.stage import Pipeline

PIPELINE_FILE = "pv.yaml"
SEP = ":"


def qualify(file: str, name: str) -> str:
    """The key of stage ``name`` of pipeline file ``file`` (repo-relative)."""
    return name if file == PIPELINE_FILE else f"{file}{SEP}{name}"


def split_key(key: str) -> tuple[str, str]:
    """(pipeline file, stage name) of a stage key (stage names never hold ':')."""
    file, sep, name = key.rpartition(SEP)
    return (file, name) if sep else (PIPELINE_FILE, key)


def lock_file_of(pipeline_file: str) -> str:
    """The ``pv.lock`` beside a pipeline file."""
    return posixpath.join(posixpath.dirname(pipeline_file), LOCK_FILE)


def pipeline_file_of(lock_file: str) -> str:
    return posixpath.join(posixpath.dirname(lock_file), PIPELINE_FILE)


def is_pipeline_file(rel: str) -> bool:
    return posixpath.basename(rel) == PIPELINE_FILE


def merge(pipelines: Iterable[Pipeline]) -> Pipeline:
    """One pipeline holding the stages of all ``pipelines`` (root file first), keyed by
    ``qualify``; top-level params, metrics, plots and artifacts of every file together."""
    parts = sorted(pipelines, key=lambda p: (p.file != PIPELINE_FILE, p.file))
    if not parts:
        return Pipeline(file=PIPELINE_FILE)
    if len(parts) == 1 and parts[0].file == PIPELINE_FILE:
        return parts[0]
    stages = {}
    groups: dict[str, tuple[str, ...]] = {}
    artifacts = {}
    for p in parts:
        for name, stage in p.stages.items():
            key = qualify(p.file, name)
            group = qualify(p.file, stage.group) if stage.group is not None else None
            stages[key] = dataclasses.replace(stage, name=key, group=group)
        for gname, members in p.groups.items():
            groups[qualify(p.file, gname)] = tuple(qualify(p.file, m) for m in members)
        for aname, art in p.artifacts.items():
            artifacts[aname if p.file == PIPELINE_FILE else qualify(p.file, aname)] = art
    return Pipeline(
        file=PIPELINE_FILE,
        stages=stages,
        params_files=tuple(dict.fromkeys(f for p in parts for f in p.params_files)),
        metrics_files=tuple(dict.fromkeys(f for p in parts for f in p.metrics_files)),
        plots=tuple(d for p in parts for d in p.plots),
        artifacts=artifacts,
        groups=groups,
    )


def merge_locks(locks: Mapping[str, Lockfile]) -> Lockfile:
    """The entries of each lock file (repo-relative path -> its parsed Lockfile) keyed like
    ``merge`` keys stages."""
    out = {}
    for lock_file in sorted(locks, key=lambda f: (f != LOCK_FILE, f)):
        pfile = pipeline_file_of(lock_file)
        for name, entry in locks[lock_file].stages.items():
            out[qualify(pfile, name)] = entry
    return Lockfile(out)


def split_lock(lock: Lockfile) -> dict[str, Lockfile]:
    """Lock file (repo-relative) -> its entries under their own names, in ``lock`` order."""
    out: dict[str, dict[str, object]] = {}
    for key, entry in lock.stages.items():
        file, name = split_key(key)
        out.setdefault(lock_file_of(file), {})[name] = entry
    return {f: Lockfile(entries) for f, entries in out.items()}  # type: ignore[arg-type]  # entries are LockEntry


def file_of(key: str) -> str:
    return split_key(key)[0]


def display(key: str, cwd: str) -> str:
    """How DVC shows a stage key to a user in folder ``cwd`` (repo-relative): the bare name for a
    stage of that folder's ``pv.yaml``, else the file path relative to ``cwd`` and the name."""
    file, name = split_key(key)
    here = posixpath.join(cwd, PIPELINE_FILE) if cwd not in ("", ".") else PIPELINE_FILE
    if file == here:
        return name
    rel = posixpath.relpath(file, cwd) if cwd not in ("", ".") else file
    return f"{rel}{SEP}{name}"


def here_file(cwd: str) -> str:
    """The pipeline file of folder ``cwd`` (repo-relative)."""
    return PIPELINE_FILE if cwd in ("", ".") else f"{cwd}/{PIPELINE_FILE}"


def _norm(cwd: str, path: str) -> str | None:
    joined = posixpath.normpath(posixpath.join(cwd, path)) if cwd not in ("", ".") else posixpath.normpath(path)
    return None if joined.startswith("../") or joined == ".." else joined


def stages_of(pipeline: Pipeline, file: str) -> tuple[str, ...]:
    """Keys of the stages of pipeline file ``file``, in file order."""
    return tuple(k for k in pipeline.stages if file_of(k) == file)


def find(pipeline: Pipeline, target: str, cwd: str) -> tuple[str, ...]:
    """Stage keys a target means, as DVC reads targets in folder ``cwd``: ``NAME`` (a stage or a
    foreach/matrix group of the folder's ``pv.yaml``), ``path/pv.yaml:NAME`` or ``path:NAME``
    (relative to ``cwd``), or ``path/pv.yaml`` (all its stages); () if none."""
    path, sep, name = target.rpartition(SEP)
    if sep:
        file = _norm(cwd, path) if path else here_file(cwd)
        if file is None:
            return ()
        if not is_pipeline_file(file):
            file = here_file(file)
    else:
        file, name = here_file(cwd), target
        as_file = _norm(cwd, target)
        if as_file is not None and is_pipeline_file(as_file):
            return stages_of(pipeline, as_file)
    key = qualify(file, name)
    if key in pipeline.stages:
        return (key,)
    return pipeline.groups.get(key, ())
