"""Diff two trees of tracked data: pure functions over ``{path: Item}`` maps.

A tree maps repo-relative paths to the oid and size found there. Directory entries end with ``/``
and carry the manifest oid and total size; files inside a directory are listed as their own paths
(``manifest_items``). ``diff_trees`` sorts every path into added, deleted, modified or renamed (a
path that disappeared while another one with the same oid appeared).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipever.objects.manifest import Manifest
from pipever.objects.oid import Oid

ADDED, DELETED, MODIFIED, RENAMED = "added", "deleted", "modified", "renamed"
KINDS = (ADDED, DELETED, MODIFIED, RENAMED)


@dataclass(frozen=True, slots=True)
class Item:
    oid: Oid
    size: int | None  # None when unknown (an object whose size nobody recorded)


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # one of KINDS
    path: str  # the new path (the old one for DELETED)
    old: Item | None  # None for ADDED
    new: Item | None  # None for DELETED
    old_path: str | None = None  # RENAMED only

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` form of one entry (DVC's layout, with ``oid`` for ``hash``)."""
        if self.kind == RENAMED:
            assert self.new is not None
            return {"path": {"old": self.old_path, "new": self.path}, "oid": str(self.new.oid), "size": self.new.size}
        if self.kind == MODIFIED:
            assert self.old is not None and self.new is not None
            return {
                "path": self.path,
                "oid": {"old": str(self.old.oid), "new": str(self.new.oid)},
                "size": {"old": self.old.size, "new": self.new.size},
            }
        item = self.new if self.kind == ADDED else self.old
        assert item is not None
        return {"path": self.path, "oid": str(item.oid), "size": item.size}


@dataclass(frozen=True)
class TreeDiff:
    added: tuple[Change, ...] = ()
    deleted: tuple[Change, ...] = ()
    modified: tuple[Change, ...] = ()
    renamed: tuple[Change, ...] = ()

    def of(self, kind: str) -> tuple[Change, ...]:
        """The changes of one of ``KINDS``."""
        changes: tuple[Change, ...] = getattr(self, kind)
        return changes

    @property
    def empty(self) -> bool:
        return not (self.added or self.deleted or self.modified or self.renamed)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {kind: [c.as_dict() for c in self.of(kind)] for kind in KINDS}


def is_dir_path(path: str) -> bool:
    return path.endswith("/")


def manifest_items(rel_dir: str, manifest: Manifest) -> dict[str, Item]:
    """The files of a directory's manifest, keyed by repo-relative path."""
    return {f"{rel_dir}/{e.path}": Item(e.oid, e.size) for e in manifest.entries}


def diff_trees(old: Mapping[str, Item], new: Mapping[str, Item]) -> TreeDiff:
    """Compare two trees. Renames pair a deleted and an added path with the same oid (files with
    files, directories with directories), preferring pairs with the same base name."""
    added = sorted(p for p in new if p not in old)
    deleted = sorted(p for p in old if p not in new)
    modified = sorted(p for p in new if p in old and new[p].oid != old[p].oid)

    candidates: dict[tuple[Oid, bool], list[str]] = {}
    for p in added:
        candidates.setdefault((new[p].oid, is_dir_path(p)), []).append(p)
    renamed: list[Change] = []
    taken: set[str] = set()
    for p in deleted:
        pool = [q for q in candidates.get((old[p].oid, is_dir_path(p)), []) if q not in taken]
        if not pool:
            continue
        base = posixpath.basename(p.rstrip("/"))
        same_name = [q for q in pool if posixpath.basename(q.rstrip("/")) == base]
        q = (same_name or pool)[0]
        taken.add(q)
        renamed.append(Change(RENAMED, q, old[p], new[q], old_path=p))
    gone = {c.old_path for c in renamed}
    return TreeDiff(
        added=tuple(Change(ADDED, p, None, new[p]) for p in added if p not in taken),
        deleted=tuple(Change(DELETED, p, old[p], None) for p in deleted if p not in gone),
        modified=tuple(Change(MODIFIED, p, old[p], new[p]) for p in modified),
        renamed=tuple(sorted(renamed, key=lambda c: c.path)),
    )
