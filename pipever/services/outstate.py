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
CORRUPT_IN_CACHE = "corrupt in cache"  # the workspace file is a link to its cache object, which was edited through it


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
            return CORRUPT_IN_CACHE if _edited_through_links(repo, t) else MODIFIED
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
        if _same_inode(repo, fs.st, out.oid):
            _warn_edited(t.rel)
            return CORRUPT_IN_CACHE
        return MODIFIED
    if not repo.odb.exists(out.oid):
        return NOT_IN_CACHE
    return None


def _same_inode(repo: RepoContext, st: os.stat_result, oid: Oid) -> bool:
    """True when a workspace file (``st``: followed through a symlink) is cache object ``oid``
    itself (a hard link or a symlink to it): then a change of the file changed the object."""
    try:
        obj = os.stat(repo.odb.path(oid))
    except OSError:
        return False
    return (obj.st_ino, obj.st_dev) == (st.st_ino, st.st_dev)


def _edited_through_links(repo: RepoContext, t: trk.Tracked) -> bool:
    """A modified directory: are some of its files links to the cache objects its manifest
    names, with other bytes now? Looked at only when files are linked (st_nlink > 1 or a
    symlink), so a directory of copies costs nothing more."""
    from pipever.errors import PvError

    ws = repo.workspace
    linked = [f for f in ws.walk(t.rel, repo.ignore) if f.st.st_nlink > 1 or os.path.islink(repo.root / f.rel)]
    if not linked:
        return False
    try:
        by_path = repo.odb.read_manifest(t.out.oid).by_path()
    except PvError:
        return False
    edited = []
    n = len(t.rel) + 1
    for h in ws.hash_files(linked):
        entry = by_path.get(h.rel[n:])
        if entry is not None and h.oid != entry.oid and _same_inode(repo, h.st, entry.oid):
            edited.append(h.rel)
    for rel in edited[:5]:
        _warn_edited(rel)
    return bool(edited)


def _warn_edited(rel: str) -> None:
    from pipever import notices

    notices.warn(f"the cache object of '{rel}' was changed through its link in the workspace: the recorded "
                 f"version is lost — run 'pv unprotect {rel}' to keep the edited file as a copy, then "
                 "'pv fsck --repair' to set the damaged object aside (with -r REMOTE it fetches the recorded version)")


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
