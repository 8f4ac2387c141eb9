"""``pv stage add``, ``pv stage list``, ``pv freeze``/``unfreeze`` and the stage half of
``pv remove``: edits of ``pv.yaml`` that keep the rest of the file as written. Every edit is
validated as a whole pipeline (schema, duplicate or overlapping outputs, cycles) before the file
is replaced atomically; on an error nothing is written."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
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
from pipever.pipeline.stage import Pipeline, Stage
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
    summary: str = ""  # what DVC's 'stage list' shows: the desc's first line, else what it outputs/reports


SUMMARY_WIDTH = 80  # DVC cuts the line there, ending it with '…'


def summary(stage: Stage) -> str:
    """DVC's one-line description of a stage: its ``desc`` (first line), else "Outputs A;
    Reports M" / "Depends on D" / "No outputs or dependencies", paths as written (from ``wdir``),
    cut to 80 characters as DVC does."""
    text = _summary(stage)
    return text if len(text) <= SUMMARY_WIDTH else text[:SUMMARY_WIDTH - 1] + "…"


def _summary(stage: Stage) -> str:
    if stage.desc:
        return stage.desc.strip().splitlines()[0] if stage.desc.strip() else ""

    def written(paths: Iterable[str]) -> str:
        return ", ".join(posixpath.relpath(p, stage.wdir) if stage.wdir != "." else p for p in paths)

    if not stage.deps and not stage.all_outs:
        return "No outputs or dependencies"
    if not stage.all_outs:
        return "Depends on " + written(stage.deps)
    parts = []
    if stage.outs:
        parts.append("Outputs " + written(o.path for o in stage.outs))
    if stage.metrics or stage.plots:
        parts.append("Reports " + written(o.path for o in (*stage.metrics, *stage.plots)))
    return "; ".join(parts)


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


def list_stages(repo: RepoContext, targets: list[str] | None = None, *, all_files: bool = False,
                recursive: bool = False) -> list[StageInfo]:
    """Stages as DVC's ``stage list`` picks them (default: the current folder's ``pv.yaml``;
    ``all_files``: every pipeline file), named as DVC shows them from the current folder."""
    from pipever.pipeline import multi

    pipeline = st.load_pipeline(repo)
    if not pipeline.stages and not targets:
        return []
    keys = st.select_stages(repo, pipeline, targets or [], all_pipelines=all_files, recursive=recursive)
    cwd = st.cwd_dir(repo.root)
    stages = [pipeline.stages[k] for k in keys]
    return [StageInfo(multi.display(s.name, cwd), s.desc, s.cmd, s.deps, tuple(o.path for o in s.all_outs), s.frozen,
                      summary(s)) for s in stages]


def _entries(pipeline: Pipeline, names: list[str], verb: str) -> list[str]:
    """The ``pv.yaml`` entries (stages or groups) named; a stage generated by foreach/matrix
    cannot be edited on its own."""
    for name in names:
        if name in pipeline.groups:
            continue
        stage = pipeline.stages.get(name)
        if stage is None:
            from pipever.pipeline.multi import split_key

            file, bare = split_key(name)
            raise StageError(f"stage '{bare}' does not exist in '{file}'", hint="see 'pv stage list'")
        if stage.group is not None:
            raise StageError(f"cannot {verb} '{name}' alone: it is generated by '{stage.group}'",
                             hint=f"{verb} the whole group: 'pv {verb} {stage.group}'")
    return list(dict.fromkeys(names))


def _keys(repo: RepoContext, names: list[str]) -> list[str]:
    """Stage/group keys of ``names`` as DVC reads them here: ``NAME`` in the current folder's
    ``pv.yaml``, ``path/pv.yaml:NAME`` relative to it (unknown names are left as they are)."""
    from pipever.pipeline import multi

    cwd = st.cwd_dir(repo.root)
    keys = []
    for name in names:
        path, sep, bare = name.rpartition(multi.SEP)
        file = multi.here_file(cwd) if not sep or not path else posixpath.normpath(posixpath.join(cwd, path))
        if sep and path and not multi.is_pipeline_file(file):
            file = multi.here_file(file)
        keys.append(multi.qualify(file, bare) if not file.startswith("..") else name)
    return keys


def _by_file(entries: list[str]) -> dict[str, list[str]]:
    from pipever.pipeline import multi

    out: dict[str, list[str]] = {}
    for key in entries:
        file, bare = multi.split_key(key)
        out.setdefault(file, []).append(bare)
    return out


def _file_text(repo: RepoContext, file: str) -> str:
    data = st.read_text(repo, file)
    return data if data is not None else ""


def _validated_file(repo: RepoContext, file: str, text: str) -> None:
    from pipever.pipeline.schema import load_pipeline

    load_pipeline(text, file, read_file=lambda rel: st.read_text(repo, rel))


def _write_file(repo: RepoContext, file: str, text: str) -> list[str]:
    atomic_write_text(repo.root / file, text)
    if repo.autostage:
        repo.git.add([file])
        return [file]
    return []


def set_frozen(repo: RepoContext, names: list[str], frozen: bool) -> list[str]:
    """Set or clear ``frozen`` on stages or groups (of any pipeline file); returns the paths
    staged in Git."""
    verb = "freeze" if frozen else "unfreeze"
    if not names:
        raise TargetError(f"nothing to {verb}", hint=f"name stages: 'pv {verb} STAGE'")
    with repo.locked():
        entries = _entries(st.load_pipeline(repo), _keys(repo, names), verb)
        edits = {}
        for file, bares in _by_file(entries).items():
            text = _file_text(repo, file)
            for name in bares:
                text = yamledit.set_flag(text, name, "frozen", frozen, file=file)
            _validated_file(repo, file, text)
            edits[file] = text
        staged: list[str] = []
        for file, text in edits.items():
            staged += _write_file(repo, file, text)
        return staged


def remove_stages(repo: RepoContext, names: list[str], *, outs: bool = False) -> tuple[list[str], list[str], list[str]]:
    """Remove stages (or groups) from ``pv.yaml`` with their ``pv.lock`` entries and the
    ``.gitignore`` entries of their outputs; with ``outs`` also delete the outputs whose content
    is in the cache. Returns (stages removed, outputs deleted, paths to stage in Git)."""
    from pipever.services.outdelete import delete_out, unsaved_files

    from pipever.pipeline import multi

    pipeline = st.load_pipeline(repo)
    entries = _entries(pipeline, _keys(repo, names), "remove")
    removed = [n for e in entries for n in (pipeline.groups.get(e) or (e,))]
    out_paths = [(o.path, o.cache) for n in removed for o in pipeline.stages[n].all_outs]
    if outs:
        for rel, cache in out_paths:
            unsafe = unsaved_files(repo, rel) if cache and os.path.lexists(repo.root / rel) else []
            if unsafe:
                raise TargetError(f"'{unsafe[0]}' has changes that are not in the cache and would be lost",
                                  hint=f"'pv commit' the stage to keep them, or delete '{rel}' yourself")
    edits = {file: yamledit.remove_stages(_file_text(repo, file), bares, file=file)
             for file, bares in _by_file(entries).items()}
    with repo.locked():
        for file, text in edits.items():
            _validated_file(repo, file, text)
        to_stage: set[str] = set()
        for file, text in edits.items():
            to_stage.update(_write_file(repo, file, text))
        lock = read_lock(repo)
        if any(n in lock.stages for n in removed):
            touched = {multi.lock_file_of(multi.file_of(n)) for n in removed if n in lock.stages}
            write_lock(repo, lock.without(removed), st.load_pipeline(repo), also=touched)
            to_stage.update(touched)
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
