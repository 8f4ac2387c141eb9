"""``pv exp show``: the workspace, each baseline commit and its experiments, and the queued runs,
with their params and metrics side by side.

Params and metrics are read as ``pv params diff`` and ``pv metrics show`` read them, from each
experiment's commit (metrics that are cached come from the cache by the oid in its ``pv.lock``).
Rows: the workspace first; then the baseline of HEAD followed by its experiments, oldest first;
then each other baseline (newest experiment first) with its experiments; then queued runs.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from pipever.errors import PvError
from pipever.commands.experiments.exp_refs import Experiment, list_experiments
from pipever.commands.pipeline.metrics import read_metrics
from pipever.commands.pipeline.params import read_params
from pipever.services.snapshot import PIPELINE_FILE, WORKSPACE, Rev, Snapshot
from pipever.pipeline.params import is_params_file, parse_params
from pipever.context import RepoContext


class RowKind(str, enum.Enum):
    WORKSPACE = "workspace"
    BASELINE = "baseline"
    EXPERIMENT = "experiment"
    QUEUED = "queued"


@dataclass(frozen=True)
class ExpRow:
    name: str
    kind: RowKind
    rev: str | None  # the commit (None: workspace or queued)
    baseline: str | None  # the commit it was run from / HEAD for the workspace
    created: int | None  # seconds since the epoch
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> values (nested)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # file -> values (nested)
    errors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        created = None if self.created is None else datetime.fromtimestamp(self.created, timezone.utc).isoformat()
        return {"name": self.name, "type": self.kind.value, "rev": self.rev, "baseline": self.baseline,
                "created": created, "params": self.params, "metrics": self.metrics, "errors": list(self.errors)}


@dataclass(frozen=True)
class ExpShowResult:
    rows: tuple[ExpRow, ...]

    def as_list(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.rows]


def _read(repo: RepoContext, rev: Rev) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], tuple[str, ...]]:
    snap = Snapshot(repo, rev)
    try:
        params = read_params(snap)
        files = read_metrics(snap)
    except PvError as exc:  # a broken pv.yaml or params file at that commit: show the row anyway
        if rev.is_workspace:
            raise
        return {}, {}, (exc.render(),)
    metrics = {f.file: dict(f.values) for f in files if f.error is None}
    return params, metrics, tuple(f"{f.file}: {f.error}" for f in files if f.error)


Memo = MutableMapping[str, tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], tuple[str, ...]]]


def _row(repo: RepoContext, name: str, kind: RowKind, sha: str | None, baseline: str | None, created: int | None,
         memo: Memo | None = None) -> ExpRow:
    found = memo.get(sha) if memo is not None and sha is not None else None
    if found is None:
        found = _read(repo, Rev(name if sha is None else sha, sha))
        if memo is not None and sha is not None and not found[2]:  # a commit's values never change
            memo[sha] = found
    params, metrics, errors = found
    return ExpRow(name, kind, sha, baseline, created, params, metrics, errors)


def exp_show(repo: RepoContext, *, memo: Memo | None = None) -> ExpShowResult:
    """The rows; ``memo`` (kept by a long-running caller, ``pv ui``) holds the values read at each
    commit, so they are read once (rows with errors are read again: the cache may fill)."""
    from pipever.commands.experiments.exp_run import queue_of

    head = repo.git.resolve("HEAD") if repo.scm and repo.git.has_commits() else None
    rows = [_row(repo, WORKSPACE, RowKind.WORKSPACE, None, head, None)]
    groups: dict[str, list[Experiment]] = {}
    for exp in sorted(list_experiments(repo), key=lambda e: (e.time, e.name)):
        groups.setdefault(exp.baseline, []).append(exp)
    order = sorted(groups, key=lambda b: (b != head, -max(e.time for e in groups[b])))
    if head is not None and head not in groups:
        order.insert(0, head)
    branch = repo.git.current_branch() if head is not None else None
    for base in order:
        label = branch if base == head and branch else base[:7]
        rows.append(_row(repo, label, RowKind.BASELINE, base, None, _commit_time(repo, base), memo))
        rows += [_row(repo, e.name, RowKind.EXPERIMENT, e.sha, e.baseline, e.time, memo) for e in groups.get(base, [])]
    for spec in queue_of(repo).entries():
        params = {f: parse_params(t, f) for f, t in spec.files.items()
                  if t is not None and f != PIPELINE_FILE and is_params_file(f)}
        rows.append(ExpRow(spec.name, RowKind.QUEUED, None, spec.baseline, int(spec.created), params))
    return ExpShowResult(tuple(rows))


def _commit_time(repo: RepoContext, sha: str) -> int | None:
    out = repo.git.run("show", "-s", "--format=%ct", sha, "--", check=False).decode().strip()
    return int(out) if out.isdigit() else None


def read_values(repo: RepoContext, rev: Rev) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], tuple[str, ...]]:
    """(params, metrics, errors) at ``rev``, as ``exp show`` reads them for a row."""
    return _read(repo, rev)
