"""``pv stage add``, ``pv stage list``, ``pv freeze``/``unfreeze`` and the stage half of
``pv remove``: edits of ``pv.yaml`` that keep the rest of the file as written. Every edit is
validated as a whole pipeline (schema, duplicate or overlapping outputs, cycles) before the file
is replaced atomically; on an error nothing is written."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipever import fsutil
from pipever.data import gitignore
from pipever.errors import SchemaError, StageError, TargetError
from pipever.fsutil import atomic_write_text
from pipever.services import stages as st
from pipever.services.lockio import read_lock, write_lock
from pipever.paths import is_inside, to_repo_path
from pipever.pipeline import yamledit
from pipever.pipeline.stage import Pipeline
from pipever.context import RepoContext


@dataclass(frozen=True)
class StageSpec:
    """What ``pv stage add`` was given; paths as written (relative to ``wdir``, which is relative
    to the current directory)."""

    name: str
    cmd: str
    deps: tuple[str, ...] = ()
    outs: tuple[str, ...] = ()
    outs_no_cache: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # each 'k1,k2' or 'file:k1,k2'
    metrics: tuple[str, ...] = ()
    metrics_no_cache: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()
    wdir: str | None = None
    desc: str | None = None


@dataclass(frozen=True)
class StageInfo:
    name: str
    desc: str | None
    cmd: tuple[str, ...]
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    frozen: bool


def _params(values: tuple[str, ...]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        file, sep, keys = value.rpartition(":")
        names = [k.strip() for k in keys.split(",") if k.strip()]
        if sep and file:
            out.append({file: names or None})
        else:
            out.extend(names)
    return out


def _outs(cached: tuple[str, ...], uncached: tuple[str, ...]) -> list[Any]:
    return [*cached, *({p: {"cache": False}} for p in uncached)]


def stage_body(spec: StageSpec) -> dict[str, Any]:
    """The stage as it is written into ``pv.yaml``, keys in DVC's order."""
    body: dict[str, Any] = {"cmd": spec.cmd}
    if spec.wdir and spec.wdir not in (".", "./"):
        body["wdir"] = spec.wdir
    if spec.desc:
        body["desc"] = spec.desc
    for key, value in (("deps", list(spec.deps)), ("params", _params(spec.params)),
                       ("outs", _outs(spec.outs, spec.outs_no_cache)),
                       ("metrics", _outs(spec.metrics, spec.metrics_no_cache)), ("plots", list(spec.plots))):
        if value:
            body[key] = value
    return body


def _text(repo: RepoContext) -> str:
    path = repo.root / st.PIPELINE_FILE
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _validated(repo: RepoContext, text: str) -> Pipeline:
    from pipever.pipeline import dag
    from pipever.pipeline.schema import load_pipeline

    pipeline = load_pipeline(text, st.PIPELINE_FILE, read_file=lambda rel: st.read_text(repo, rel))
    dag.build_graph(pipeline)
    return pipeline


def _write(repo: RepoContext, text: str) -> list[str]:
    atomic_write_text(repo.root / st.PIPELINE_FILE, text)
    if repo.autostage:
        repo.git.add([st.PIPELINE_FILE])
        return [st.PIPELINE_FILE]
    return []


def _wdir(repo: RepoContext, wdir: str | None) -> str | None:
    """The stage's wdir, repo-relative (None: the root). As DVC's ``stage add`` run in a
    subdirectory, ``wdir`` is relative to the current directory and defaults to it (when that is
    inside the repository)."""
    cwd = Path(os.path.abspath(os.curdir))
    base = cwd if cwd.is_relative_to(repo.root) else repo.root
    full = Path(os.path.abspath(base / (wdir or os.curdir)))
    return None if full == repo.root else to_repo_path(repo.root, full)


def add_stage(repo: RepoContext, spec: StageSpec, *, force: bool = False) -> list[str]:
    """Add (with ``force``: replace) a stage; returns the paths staged in Git."""
    if not spec.cmd.strip():
        raise StageError("the stage has no command", hint="give it as the last argument: pv stage add -n NAME CMD")
    spec = replace(spec, wdir=_wdir(repo, spec.wdir))
    old = _text(repo)
    if old:
        current = _validated(repo, old)
        if spec.name in current.stages or spec.name in current.groups:
            if not force:
                raise StageError(f"stage '{spec.name}' already exists in '{st.PIPELINE_FILE}'",
                                 hint="use -f to overwrite it")
    try:
        pipeline = _validated(repo, yamledit.add_stage(old, spec.name, stage_body(spec), file=st.PIPELINE_FILE))
    except SchemaError as exc:
        if exc.file != st.PIPELINE_FILE:
            raise
        # pv.yaml as it is was valid: the problem is in what was given (and the line it names
        # would be in a text that is never written)
        raise StageError(f"stage '{spec.name}' cannot be added: {exc.problem}",
                         hint="fix the name, paths or options given to 'pv stage add'; pv.yaml is unchanged") from None
    stage = pipeline.stages[spec.name]
    from pipever.services import tracked as trk

    for out in stage.all_outs:
        for t in trk.all_tracked(repo):
            if is_inside(out.path, t.rel) or is_inside(t.rel, out.path):
                raise StageError(f"output '{out.path}' is already tracked by '{t.pointer.rel}'",
                                 hint=f"stop tracking it first: 'pv remove {t.pointer.rel}'")
    cached = [o.path for o in stage.all_outs if o.cache]
    if cached and repo.scm:
        in_git = repo.git.tracked(cached)
        if in_git:
            raise StageError(f"output '{in_git[0]}' is tracked by Git",
                             hint=f"run 'git rm -r --cached {in_git[0]}' first")
    with repo.locked():
        return _write(repo, yamledit.add_stage(_text(repo), spec.name, stage_body(spec), file=st.PIPELINE_FILE))


def list_stages(repo: RepoContext) -> list[StageInfo]:
    pipeline = st.load_pipeline(repo)
    return [StageInfo(s.name, s.desc, s.cmd, s.deps, tuple(o.path for o in s.all_outs), s.frozen)
            for s in pipeline.stages.values()]


def _entries(pipeline: Pipeline, names: list[str], verb: str) -> list[str]:
    """The ``pv.yaml`` entries (stages or groups) named; a stage generated by foreach/matrix
    cannot be edited on its own."""
    for name in names:
        if name in pipeline.groups:
            continue
        stage = pipeline.stages.get(name)
        if stage is None:
            raise StageError(f"stage '{name}' does not exist in '{st.PIPELINE_FILE}'", hint="see 'pv stage list'")
        if stage.group is not None:
            raise StageError(f"cannot {verb} '{name}' alone: it is generated by '{stage.group}'",
                             hint=f"{verb} the whole group: 'pv {verb} {stage.group}'")
    return list(dict.fromkeys(names))


def set_frozen(repo: RepoContext, names: list[str], frozen: bool) -> list[str]:
    """Set or clear ``frozen`` on stages or groups; returns the paths staged in Git."""
    verb = "freeze" if frozen else "unfreeze"
    if not names:
        raise TargetError(f"nothing to {verb}", hint=f"name stages: 'pv {verb} STAGE'")
    with repo.locked():
        text = _text(repo)
        entries = _entries(st.load_pipeline(repo), names, verb)
        for name in entries:
            text = yamledit.set_flag(text, name, "frozen", frozen, file=st.PIPELINE_FILE)
        _validated(repo, text)
        return _write(repo, text)


def remove_stages(repo: RepoContext, names: list[str], *, outs: bool = False) -> tuple[list[str], list[str], list[str]]:
    """Remove stages (or groups) from ``pv.yaml`` with their ``pv.lock`` entries and the
    ``.gitignore`` entries of their outputs; with ``outs`` also delete the outputs whose content
    is in the cache. Returns (stages removed, outputs deleted, paths to stage in Git)."""
    from pipever.services.outdelete import delete_out, unsaved_files

    pipeline = st.load_pipeline(repo)
    entries = _entries(pipeline, names, "remove")
    removed = [n for e in entries for n in (pipeline.groups.get(e) or (e,))]
    out_paths = [(o.path, o.cache) for n in removed for o in pipeline.stages[n].all_outs]
    if outs:
        for rel, cache in out_paths:
            unsafe = unsaved_files(repo, rel) if cache and os.path.lexists(repo.root / rel) else []
            if unsafe:
                raise TargetError(f"'{unsafe[0]}' has changes that are not in the cache and would be lost",
                                  hint=f"'pv commit' the stage to keep them, or delete '{rel}' yourself")
    text = yamledit.remove_stages(_text(repo), entries, file=st.PIPELINE_FILE)
    with repo.locked():
        _validated(repo, text)
        to_stage = set(_write(repo, text))
        lock = read_lock(repo)
        if any(n in lock.stages for n in removed):
            write_lock(repo, lock.without(removed), st.load_pipeline(repo))
            to_stage.add("pv.lock")
        deleted = []
        for rel, cache in out_paths:
            if cache:
                changed = gitignore.remove_entry(repo.root, rel)
                if changed:
                    to_stage.add(changed)
            if outs and os.path.lexists(repo.root / rel):
                if cache:
                    delete_out(repo, rel)
                else:
                    fsutil.remove(repo.root / rel)
                deleted.append(rel)
        repo.state.flush()
        staged = []
        if repo.autostage:
            staged = sorted(p for p in to_stage if (repo.root / p).exists() or repo.git.tracked([p]))
            repo.git.add(staged)
    return removed, deleted, staged
