"""``pv status``: what differs between the workspace, the pointers and the cache.

Unchanged files are never read: their oids come from the state db by stat."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipever.objects.build import manifest_of
from pipever.objects.manifest import manifest_oid
from pipever.ops import tracked as trk
from pipever.repo import Repo

MODIFIED, DELETED, NOT_IN_CACHE = "modified", "deleted", "not in cache"


@dataclass
class StatusResult:
    # pointer or stage name -> list of {"changed outs": {path: state}} / {"changed deps": ...}
    entries: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.entries


def out_state(repo: Repo, t: trk.Tracked) -> str | None:
    """``modified``, ``deleted``, ``not in cache`` or None (in sync) for one tracked out."""
    ws = repo.workspace
    out = t.out
    full = repo.root / t.rel
    if out.is_dir:
        if not os.path.isdir(full):
            return DELETED if not os.path.lexists(full) else MODIFIED
        hashed = ws.hash_files(ws.walk(t.rel, repo.ignore))
        if manifest_oid(manifest_of(t.rel, hashed)) != out.oid:
            return MODIFIED
        if not repo.odb.exists(out.oid, is_dir=True) or not all(repo.odb.exists(h.oid) for h in hashed):
            return NOT_IN_CACHE
        return None
    fs = ws.stat_file(t.rel)
    if fs is None:
        return DELETED
    if not os.path.isfile(full):
        return MODIFIED
    current = ws.hash_files([fs])[0].oid
    if current != out.oid:
        return MODIFIED
    if not repo.odb.exists(out.oid):
        return NOT_IN_CACHE
    return None


def data_status(repo: Repo, targets: list[str]) -> dict[str, list[dict[str, object]]]:
    entries: dict[str, list[dict[str, object]]] = {}
    for t in trk.select(repo, targets):
        state = out_state(repo, t)
        if state is not None:
            entries.setdefault(t.pointer.rel, [{"changed outs": {}}])
            changed = entries[t.pointer.rel][0]["changed outs"]
            assert isinstance(changed, dict)
            changed[t.rel] = state
    return entries


def status(repo: Repo, targets: list[str]) -> StatusResult:
    result = StatusResult()
    result.entries.update(data_status(repo, targets))
    from pipever.ops.stages import stage_status

    result.entries.update(stage_status(repo, targets))
    repo.state.flush()
    return result
