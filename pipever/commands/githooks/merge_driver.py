"""The Git merge driver for ``pv.lock`` and pointer files (``pv git-hook merge-driver``).

Git calls it with three temp files (ancestor ``%O``, ours ``%A``, theirs ``%B``) and the path; the
result replaces ``%A``. Stage entries and outs that changed on one side only merge cleanly; a
directory out changed on both sides merges file by file when all three manifests are in the cache
(the merged manifest is written to the cache and the pointer gets its oid, size and nfiles).
What changed on both sides stays between conflict markers and the merge is reported as conflicted.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipever import yamlio
from pipever.data import merge as dm
from pipever.data import pointer as ptr
from pipever.errors import PvError
from pipever.fsutil import atomic_write_text
from pipever.objects.manifest import Manifest
from pipever.objects.merge import MISSING, merge_manifests
from pipever.objects.odb import ObjectDB
from pipever.objects.oid import parse_oid
from pipever.pipeline import lockfile

LOCK_NAME = lockfile.LOCK_FILE


@dataclass
class MergeResult:
    path: str
    conflicts: list[str] = field(default_factory=list)  # stage names / out paths / "(whole file)"
    merged_dirs: list[str] = field(default_factory=list)  # directory outs merged file by file
    notes: list[str] = field(default_factory=list)  # why a directory could not be merged

    @property
    def clean(self) -> bool:
        return not self.conflicts


def is_mergeable(path: str) -> bool:
    """Whether the driver understands ``path`` (``pv.lock`` or ``*.pv``)."""
    name = posixpath.basename(path)
    return name == LOCK_NAME or (name.endswith(ptr.SUFFIX) and name != ptr.SUFFIX)


def merge_driver(
    base: Path, ours: Path, theirs: Path, *, path: str, odb: ObjectDB | None, marker_size: int = 7,
) -> MergeResult:
    """Merge ``theirs`` into ``ours`` (rewritten in place) with ``base`` as the common ancestor."""
    texts = [p.read_text(encoding="utf-8") for p in (base, ours, theirs)]
    result = MergeResult(path)
    is_lock = posixpath.basename(path) == LOCK_NAME
    try:
        datas = [_parse_lock(t, path) if is_lock else _parse_pointer(t, path) for t in texts]
    except PvError:
        datas = []
    if not datas:
        result.conflicts.append("(whole file)")
        atomic_write_text(ours, dm.whole_file_conflict(texts[1], texts[2], marker_size=marker_size))
        return result
    b, o, t = datas
    if is_lock:
        merged = dm.merge_lock(b, o, t)
    else:
        keyed = [dm.outs_by_path(d) for d in datas]
        if any(k is None for k in keyed):
            result.conflicts.append("(whole file)")
            atomic_write_text(ours, dm.whole_file_conflict(texts[1], texts[2], marker_size=marker_size))
            return result
        kb, ko, kt = keyed
        assert kb is not None and ko is not None and kt is not None
        merged = dm.merge_pointer(kb, ko, kt, merge_dir=_DirMerger(odb, result))
    result.conflicts = dm.conflicted(merged)
    if result.conflicts:
        header = ptr.HEADER if not is_lock else ""
        text = dm.render(merged, section="stages" if is_lock else "outs", header=header, marker_size=marker_size)
    else:
        text = _canonical(dm.plain(merged, outs_as_list=not is_lock), path, is_lock=is_lock)
    atomic_write_text(ours, text)
    return result


def _lock_base(path: str) -> str:
    """The folder of a pv.lock (its paths are relative to it: one beside a pv.yaml in a subfolder)."""
    return posixpath.dirname(path) or "."


def _parse_lock(text: str, path: str = LOCK_NAME) -> dict[str, Any]:
    if not text.strip():
        return {}
    return lockfile.to_data(lockfile.parse_lockfile(text, path), _lock_base(path))


def _parse_pointer(text: str, path: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    data = yamlio.load(ptr.dump(ptr.parse(text, path)), path)
    assert isinstance(data, dict)
    return data


def _canonical(data: dict[str, Any], path: str, *, is_lock: bool) -> str:
    """The merged document as pv itself writes it (and checked to parse back)."""
    if is_lock:
        return lockfile.dump_lockfile(lockfile.parse_lockfile(yamlio.dump(data), path), _lock_base(path))
    return ptr.dump(ptr.parse(yamlio.dump(data), path))


class _DirMerger:
    """Merges the manifests of a directory out changed on both sides, using the cache."""

    def __init__(self, odb: ObjectDB | None, result: MergeResult) -> None:
        self.odb = odb
        self.result = result

    def __call__(self, base: Any, ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any] | None:
        name = str(ours.get("path"))
        if self.odb is None:
            self.result.notes.append(f"'{name}': no pipever cache here to read the directory manifests from")
            return None
        if base is not MISSING and base.get("nfiles") is None:
            return None  # a file became a directory on both sides: nothing to merge file by file
        sides = {"base": base, "ours": ours, "theirs": theirs}
        manifests: dict[str, Manifest] = {}
        for side, out in sides.items():
            if out is MISSING:
                manifests[side] = Manifest(())
                continue
            try:
                manifests[side] = self.odb.read_manifest(parse_oid(out.get("oid")))
            except (PvError, ValueError):
                self.result.notes.append(
                    f"'{name}': the {side} directory manifest ({out.get('oid')}) is not in the cache"
                    " — run 'pv fetch' for both branches, then merge again"
                )
                return None
        merged = merge_manifests(manifests["base"], manifests["ours"], manifests["theirs"])
        if merged.manifest is None:
            shown = ", ".join(f"'{name}/{p}'" for p in merged.conflicts[:10])
            more = f" and {len(merged.conflicts) - 10} more" if len(merged.conflicts) > 10 else ""
            self.result.notes.append(f"files changed on both sides: {shown}{more}")
            return None
        oid = self.odb.add_manifest(merged.manifest)
        self.result.merged_dirs.append(name)
        return {"oid": str(oid), "size": merged.manifest.size, "nfiles": merged.manifest.nfiles}
