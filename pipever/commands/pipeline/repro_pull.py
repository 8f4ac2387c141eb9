"""``pv repro --pull``: before running, fetch what the planned stages need from the remote: deps
tracked by pointer files that are missing from the workspace (pulled: fetched and checked out),
and the recorded outputs that are missing from the cache (fetched, so they can be checked out
or restored instead of recomputed)."""

from __future__ import annotations

from collections.abc import Iterable

from pipever.errors import PvError
from pipever.services import tracked as trk
from pipever.services.lockio import read_lock
from pipever.paths import is_inside
from pipever.pipeline.stage import Pipeline
from pipever.context import RepoContext


def pull_missing(repo: RepoContext, pipeline: Pipeline, names: Iterable[str]) -> list[str]:
    """Fetch what ``names`` need; returns the paths asked for."""
    try:
        from pipever.commands.remotes.fetch import fetch
        from pipever.commands.remotes.pull import pull
    except ImportError as exc:  # pragma: no cover - the remotes layer is part of pipever
        raise PvError("'pv repro --pull' needs remote support", hint="run 'pv pull' yourself first") from exc
    stages = [pipeline.stages[n] for n in names]
    tracked = [t.rel for t in trk.all_tracked(repo)]
    deps = sorted({
        d for s in stages for d in s.deps
        if not (repo.root / d).exists() and any(is_inside(d, t) or is_inside(t, d) for t in tracked)
    })
    lock = read_lock(repo)
    outs = sorted({
        o.path for s in stages if (entry := lock.get(s.name)) is not None for o in entry.outs
        if not repo.odb.exists(o.oid, is_dir=o.is_dir)
        and any(out.path == o.path and out.cache for out in s.all_outs)
    })
    if deps:
        pull(repo, deps)
    if outs:
        fetch(repo, outs)
    return deps + outs
