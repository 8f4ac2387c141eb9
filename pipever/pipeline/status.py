"""Is a stage stale? Pure comparison of a Stage, its pv.lock entry and the current state.

The caller measures the present (oids of deps and outs, values of params, what the cache holds)
and this module says what changed, in ``pv status`` words: ``never run``, ``changed cmd``,
``changed deps`` / ``changed params`` / ``changed outs`` (each thing ``modified``, ``new``,
``deleted``; outs also ``not in cache``), ``always changed``. As in DVC, a frozen stage ignores
changes of its deps and params and ``always_changed``; its cmd and outs still count.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipever.objects.oid import Oid
from pipever.pipeline.lockfile import LockedPath, LockEntry
from pipever.pipeline.params import MISSING, same_value
from pipever.pipeline.stage import Stage


class Change(str, enum.Enum):
    MODIFIED = "modified"
    NEW = "new"
    DELETED = "deleted"
    NOT_IN_CACHE = "not in cache"


@dataclass(frozen=True)
class StageStatus:
    name: str
    never_run: bool = False
    changed_cmd: bool = False
    always_changed: bool = False
    deps: Mapping[str, Change] = field(default_factory=dict, hash=False)
    params: Mapping[str, Mapping[str, Change]] = field(default_factory=dict, hash=False)  # file -> key -> change
    outs: Mapping[str, Change] = field(default_factory=dict, hash=False)

    @property
    def stale(self) -> bool:
        """Whether ``pv repro`` must run the stage (outputs only missing from the cache do not count)."""
        return (self.never_run or self.changed_cmd or self.always_changed or bool(self.deps) or bool(self.params)
                or any(c is not Change.NOT_IN_CACHE for c in self.outs.values()))

    @property
    def clean(self) -> bool:
        """Nothing at all to report."""
        return not self.stale and not self.outs

    def reasons(self) -> list[str | dict[str, Any]]:
        """What ``pv status --json`` lists for the stage, e.g.
        ``["changed cmd", {"changed deps": {"data.csv": "modified"}}]``."""
        out: list[str | dict[str, Any]] = []
        if self.never_run:
            out.append("never run")
        if self.changed_cmd:
            out.append("changed cmd")
        if self.deps:
            out.append({"changed deps": {p: c.value for p, c in self.deps.items()}})
        if self.params:
            out.append({"changed params": {f: {k: c.value for k, c in keys.items()}
                                           for f, keys in self.params.items()}})
        if self.outs:
            out.append({"changed outs": {p: c.value for p, c in self.outs.items()}})
        if self.always_changed:
            out.append("always changed")
        return out


def _compare_paths(declared: Iterable[str], locked: Iterable[LockedPath], current: Mapping[str, Oid | None],
                   *, cached: Callable[[str, Oid], bool] | None = None) -> dict[str, Change]:
    recorded = {p.path: p for p in locked}
    changes: dict[str, Change] = {}
    for path in declared:
        now, then = current.get(path), recorded.get(path)
        if now is None:
            changes[path] = Change.DELETED
        elif then is None:
            changes[path] = Change.NEW
        elif now != then.oid:
            changes[path] = Change.MODIFIED
        elif cached is not None and not cached(path, then.oid):
            changes[path] = Change.NOT_IN_CACHE
    names = set(declared)
    for path in recorded:
        if path not in names:
            changes[path] = Change.DELETED  # no longer declared
    return changes


def _compare_params(stage: Stage, locked: Mapping[str, Mapping[str, Any]],
                    current: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Change]]:
    changes: dict[str, dict[str, Change]] = {}
    seen_files: set[str] = set()
    for dep in stage.params:
        seen_files.add(dep.file)
        now, then = current.get(dep.file, {}), locked.get(dep.file, {})
        keys = list(dict.fromkeys([*now, *then])) if dep.keys is None else list(dep.keys)
        per_file: dict[str, Change] = {}
        for key in keys:
            a, b = then.get(key, MISSING), now.get(key, MISSING)
            if b is MISSING:
                per_file[key] = Change.DELETED
            elif a is MISSING:
                per_file[key] = Change.NEW
            elif not same_value(a, b):
                per_file[key] = Change.MODIFIED
        if dep.keys is not None:
            for key in then:
                if key not in dep.keys:
                    per_file[key] = Change.DELETED  # no longer tracked
        if per_file:
            changes[dep.file] = per_file
    for pfile, values in locked.items():
        if pfile not in seen_files and values:
            changes[pfile] = {key: Change.DELETED for key in values}
    return changes


def stage_status(
    stage: Stage,
    entry: LockEntry | None,
    *,
    deps: Mapping[str, Oid | None],
    outs: Mapping[str, Oid | None],
    params: Mapping[str, Mapping[str, Any]],
    cached: Callable[[Oid], bool] | None = None,
) -> StageStatus:
    """Compare ``stage`` and its lock ``entry`` (None: never ran) with the present.

    ``deps``/``outs`` give the current oid of each declared path (None or absent: missing);
    ``params`` the current values as ``params.current_params`` builds them; ``cached(oid)``
    whether the cache holds an object (outs with ``cache: false`` are not asked about).
    """
    if entry is None:
        return StageStatus(stage.name, never_run=True)
    cache_flags = {o.path: o.cache for o in stage.all_outs}

    def in_cache(path: str, oid: Oid) -> bool:
        return not cache_flags.get(path, True) or cached is None or cached(oid)

    frozen = stage.frozen
    return StageStatus(
        stage.name,
        changed_cmd=entry.commands != stage.cmd,
        always_changed=stage.always_changed and not frozen,
        deps={} if frozen else _compare_paths(stage.deps, entry.deps, deps),
        params={} if frozen else _compare_params(stage, entry.params, params),
        outs=_compare_paths([o.path for o in stage.all_outs], entry.outs, outs,
                            cached=in_cache if cached is not None else None),
    )


def report(statuses: Iterable[StageStatus]) -> dict[str, list[str | dict[str, Any]]]:
    """``{stage: reasons}`` for the stages with something to report, in the given order."""
    return {s.name: s.reasons() for s in statuses if not s.clean}
