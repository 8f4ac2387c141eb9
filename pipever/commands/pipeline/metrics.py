"""``pv metrics show`` / ``pv metrics diff`` and ``pipever.api.metrics_show``.

Metrics files are those a revision's ``pv.yaml`` declares (stage ``metrics`` and the top-level
``metrics``), or the given targets. A file missing at a revision is left out; one that cannot be
read (invalid, or a cached object that is not in the cache) is reported with its error, and the
others are still shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipever.compare.metrics import MetricRow, diff_metrics, json_value
from pipever.compare.values import flat_metrics, parse_metrics
from pipever.errors import PvError
from pipever.services.snapshot import Rev, Snapshot, head_or_empty, read_or_error, require_git, resolve_rev
from pipever.paths import check_relpath
from pipever.pipeline.stage import Pipeline
from pipever.context import RepoContext


@dataclass(frozen=True)
class FileMetrics:
    file: str
    values: Mapping[str, Any]  # as written (nested); {} when ``error``
    error: str | None = None


@dataclass(frozen=True)
class RevMetrics:
    rev: str  # 'workspace', a branch or tag name (several joined by ','), or a short commit id
    files: tuple[FileMetrics, ...] = ()
    error: str | None = None  # the revision's pv.yaml could not be read

    def flat(self) -> dict[str, dict[str, Any]]:
        return {f.file: flat_metrics(f.values) for f in self.files if f.error is None}


@dataclass(frozen=True)
class MetricsShowResult:
    revs: tuple[RevMetrics, ...]

    def as_dict(self) -> dict[str, Any]:
        """``{rev: {file: values}}``; an unreadable file gives ``{"error": message}``."""
        out: dict[str, Any] = {}
        for r in self.revs:
            if r.error is not None:
                out[r.rev] = {"error": r.error}
                continue
            out[r.rev] = {f.file: dict(f.values) if f.error is None else {"error": f.error} for f in r.files}
        return out

    @property
    def errors(self) -> list[str]:
        found = [f"{r.rev}: {r.error}" for r in self.revs if r.error]
        return found + [f"{r.rev}: {f.error}" for r in self.revs for f in r.files if f.error]


@dataclass(frozen=True)
class MetricsDiffResult:
    a_rev: str
    b_rev: str
    rows: tuple[MetricRow, ...]
    errors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{file: {key: {"old", "new", "diff", "pct"}}}`` (null where a side or a number is missing)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for r in self.rows:
            out.setdefault(r.file, {})[r.key] = {
                "old": json_value(r.old), "new": json_value(r.new), "diff": r.diff, "pct": r.pct,
            }
        return out


def metrics_files(pipeline: Pipeline | None) -> list[str]:
    """Stage metrics outs, then top-level metrics files, each once."""
    if pipeline is None:
        return []
    files = [o.path for s in pipeline.stages.values() for o in s.metrics] + list(pipeline.metrics_files)
    return list(dict.fromkeys(files))


def read_metrics(snap: Snapshot, targets: Sequence[str] = ()) -> tuple[FileMetrics, ...]:
    files = [check_relpath(t) for t in targets] if targets else metrics_files(snap.pipeline())
    found: list[FileMetrics] = []
    for file in files:
        data = read_or_error(snap, file)
        if data is None:
            continue
        if isinstance(data, PvError):
            found.append(FileMetrics(file, {}, data.render()))
            continue
        try:
            found.append(FileMetrics(file, parse_metrics(data, file)))
        except PvError as exc:
            found.append(FileMetrics(file, {}, exc.render()))
    return tuple(found)


def _rev_metrics(snap: Snapshot, targets: Sequence[str]) -> RevMetrics:
    try:
        return RevMetrics(snap.name, read_metrics(snap, targets))
    except PvError as exc:  # an old commit's pv.yaml or pointer may be broken: report, go on
        if snap.rev.is_workspace:
            raise
        return RevMetrics(snap.name, error=exc.render())


def metrics_show(repo: RepoContext, *, targets: Sequence[str] = (), all_branches: bool = False, all_tags: bool = False,
                 all_commits: bool = False, rev: str | None = None) -> MetricsShowResult:
    """Metrics of ``rev`` (default the workspace), plus every branch, tag or commit with -a/-T/-A."""
    revs = [resolve_rev(repo, rev)]
    if all_branches or all_tags or all_commits:
        require_git(repo)
        named = repo.git.named_commits(all_branches=all_branches, all_tags=all_tags, all_commits=all_commits)
        revs += [Rev(name, sha) for name, sha in named]
    return MetricsShowResult(tuple(_rev_metrics(Snapshot(repo, r), targets) for r in revs))


def metrics_diff(repo: RepoContext, *, a_rev: str | None = None, b_rev: str | None = None, include_unchanged: bool = False,
                 targets: Sequence[str] = ()) -> MetricsDiffResult:
    """Metrics that differ between ``a_rev`` (default HEAD) and ``b_rev`` (default the workspace)."""
    a = head_or_empty(repo, a_rev)
    b = resolve_rev(repo, b_rev)
    old = RevMetrics(a.name, read_metrics(Snapshot(repo, a), targets)) if a is not None else RevMetrics("HEAD")
    new = RevMetrics(b.name, read_metrics(Snapshot(repo, b), targets))
    errors = MetricsShowResult((old, new)).errors
    rows = diff_metrics(old.flat(), new.flat(), include_unchanged=include_unchanged)
    return MetricsDiffResult(old.rev, new.rev, tuple(rows), tuple(errors))
