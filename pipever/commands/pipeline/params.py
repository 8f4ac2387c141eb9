"""``pv params diff`` and ``pipever.api.params_show``: params files' values at revisions.

The params files are those the revision's ``pv.yaml`` uses (each stage's ``params`` and the
top-level ``params``), or ``params.yaml`` when it names none. By default every key of those files
is compared; ``deps_only`` keeps the keys stages depend on (so no top-level file). Each side reads
its own ``pv.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipever.errors import TargetError
from pipever.services.snapshot import Snapshot, head_or_empty, resolve_rev
from pipever.paths import check_relpath
from pipever.pipeline.params import MISSING, ParamRow, current_params, diff_params, parse_params
from pipever.pipeline.stage import DEFAULT_PARAMS_FILE, ParamDep, Pipeline
from pipever.context import RepoContext

Params = dict[str, dict[str, Any]]  # file -> params (nested, as written)


@dataclass(frozen=True)
class ParamsDiffResult:
    a_rev: str  # the old side's name ('HEAD', or as given)
    b_rev: str  # the new side's name ('workspace', or as given)
    rows: tuple[ParamRow, ...]

    def as_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{file: {key: {"old": v, "new": v}}}``, null for a missing side."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for r in self.rows:
            out.setdefault(r.file, {})[r.key] = {"old": _json(r.old), "new": _json(r.new)}
        return out


def _json(value: Any) -> Any:
    return None if value is MISSING else value


def param_deps(pipeline: Pipeline | None, stages: Sequence[str] = ()) -> list[ParamDep]:
    """What the stages (all, or the named ones) depend on."""
    if pipeline is None:
        return []
    names = list(pipeline.stages) if not stages else [n for s in stages for n in _stage_names(pipeline, s)]
    return [d for n in names for d in pipeline.stages[n].params]


def _stage_names(pipeline: Pipeline, target: str) -> tuple[str, ...]:
    names = pipeline.resolve(target)
    if not names:
        raise TargetError(f"stage '{target}' does not exist", hint="see 'pv stage list'")
    return names


def read_params(snap: Snapshot, *, targets: Sequence[str] = (), stages: Sequence[str] = (),
                deps_only: bool = False) -> Params:
    """``{file: params}`` at ``snap``: of ``targets`` when given, else of the files the pipeline uses."""
    pipeline = snap.pipeline()
    deps = param_deps(pipeline, stages)
    if targets:
        files = [check_relpath(t) for t in targets]
    else:
        top = pipeline.params_files if pipeline is not None and not stages and not deps_only else ()
        files = list(dict.fromkeys([*(d.file for d in deps), *top])) or ([] if stages else [DEFAULT_PARAMS_FILE])
    parsed: dict[str, dict[str, Any] | None] = {}
    for file in files:
        text = snap.text(file)
        parsed[file] = parse_params(text, file) if text is not None else None
    if deps_only:
        picked = current_params([d for d in deps if d.file in parsed], parsed)
        return {f: _nested(v) for f, v in picked.items() if v}
    if not targets and pipeline is not None:
        # as DVC: a file a stage's 'params' names, or a top-level params file, counts whole; a file
        # only used for ${...} values (a vars file) counts with the values used
        whole = set(pipeline.params_files) | {f for n in _names(pipeline, stages) for f in pipeline.stages[n].declared_params}
        used_only = [d for d in deps if d.file not in whole]
        picked = current_params([d for d in used_only if d.file in parsed], parsed)
        return {f: (v if f in whole or f not in picked else _nested(picked[f])) for f, v in parsed.items()
                if v is not None and (f in whole or picked.get(f) or not deps)}
    return {f: v for f, v in parsed.items() if v is not None}


def _names(pipeline: Pipeline, stages: Sequence[str]) -> list[str]:
    return list(pipeline.stages) if not stages else [n for s in stages for n in _stage_names(pipeline, s)]


def _nested(values: dict[str, Any]) -> dict[str, Any]:
    """``{"train.lr": v}`` back to ``{"train": {"lr": v}}`` (as the file writes it)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        node = out
        *heads, last = key.split(".")
        for head in heads:
            child = node.get(head)
            node[head] = dict(child) if isinstance(child, dict) else {}
            node = node[head]
        node[last] = value
    return out


def params_diff(repo: RepoContext, *, a_rev: str | None = None, b_rev: str | None = None, include_unchanged: bool = False,
                deps_only: bool = False, targets: Sequence[str] = ()) -> ParamsDiffResult:
    """Params that differ between ``a_rev`` (default HEAD) and ``b_rev`` (default the workspace)."""
    a = head_or_empty(repo, a_rev)
    b = resolve_rev(repo, b_rev)
    old = read_params(Snapshot(repo, a), targets=targets, deps_only=deps_only) if a is not None else {}
    new = read_params(Snapshot(repo, b), targets=targets, deps_only=deps_only)
    rows = diff_params(old, new, include_unchanged=include_unchanged)
    return ParamsDiffResult(a.name if a is not None else "HEAD", b.name, tuple(rows))


def params_show(repo: RepoContext, *, rev: str | None = None, targets: Sequence[str] = (), stages: Sequence[str] = (),
                deps_only: bool = False) -> Params:
    """``{file: params}`` at ``rev`` (default the workspace)."""
    return read_params(Snapshot(repo, resolve_rev(repo, rev)), targets=targets, stages=stages, deps_only=deps_only)
