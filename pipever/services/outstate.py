"""The state of tracked data in the workspace against its pointer and the cache: ``modified``,
``deleted``, ``not in cache`` or in sync, for ``pv status``, ``pv commit`` and stage states.

Unchanged files are never read: their oids come from the state db by stat."""

from __future__ import annotations

import os

from pipever.context import RepoContext
from pipever.objects.build import fingerprint, manifest_of
from pipever.objects.manifest import manifest_oid
from pipever.objects.oid import Oid
from pipever.services import tracked as trk

MODIFIED, DELETED, NOT_IN_CACHE = "modified", "deleted", "not in cache"


def out_state(repo: RepoContext, t: trk.Tracked) -> str | None:
    """``modified``, ``deleted``, ``not in cache`` or None (in sync) for one tracked out."""
    ws = repo.workspace
    out = t.out
    full = repo.root / t.rel
    if out.is_dir:
        if not os.path.isdir(full):
            return DELETED if not os.path.lexists(full) else MODIFIED
        current = dir_oid(repo, t.rel)
        if current != out.oid:
            return MODIFIED
        if not repo.odb.exists(out.oid, is_dir=True):
            return NOT_IN_CACHE
        if not repo.state.is_complete(out.oid):
            manifest = repo.odb.read_manifest(out.oid)
            if not all(repo.odb.exists(e.oid) for e in manifest.entries):
                return NOT_IN_CACHE
            repo.state.mark_complete(out.oid)
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


def dir_oid(repo: RepoContext, rel: str) -> Oid:
    """The manifest oid of workspace directory ``rel``; when no file changed since last time
    (same fingerprint of paths and stats) it comes from the state db without a lookup per file."""
    ws = repo.workspace
    files = ws.walk(rel, repo.ignore)
    fp = fingerprint(files)
    if fp is not None:
        known = repo.state.get_dir(rel, fp)
        if known is not None:
            return known
    oid = manifest_oid(manifest_of(rel, ws.hash_files(files)))
    if fp is not None:
        repo.state.set_dir(rel, fp, oid)
    return oid


def data_status(repo: RepoContext, targets: list[str]) -> dict[str, list[dict[str, object]]]:
    entries: dict[str, list[dict[str, object]]] = {}
    for t in trk.select(repo, targets):
        state = out_state(repo, t)
        if state is not None:
            entries.setdefault(t.pointer.rel, [{"changed outs": {}}])
            changed = entries[t.pointer.rel][0]["changed outs"]
            assert isinstance(changed, dict)
            changed[t.rel] = state
    return entries
