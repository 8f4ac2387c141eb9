"""Three-way merges: of single values, of mappings keyed by name, and of directory manifests.

Pure functions, the core of ``pv``'s Git merge driver. A value merges cleanly when at most one side
changed it (or both changed it the same way); otherwise it is a ``Conflict``. ``MISSING`` stands
for "absent on that side", so additions and deletions merge by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pipever.errors import ManifestError
from pipever.objects.manifest import Manifest


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()


@dataclass(frozen=True)
class Conflict:
    """Both sides changed one entry differently; either side may be ``MISSING`` (deleted)."""

    ours: Any
    theirs: Any


def merge_value(base: Any, ours: Any, theirs: Any) -> Any:
    """The merged value, ``MISSING`` when it was deleted, or a ``Conflict``."""
    if ours == theirs:
        return ours
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    return Conflict(ours, theirs)


Resolver = Callable[[str, Any, Any, Any], Any]


def merge_mapping(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any],
    *, resolve: Resolver | None = None,
) -> dict[str, Any]:
    """Merge three mappings key by key, in ours' order followed by keys new in theirs.

    Values are merged whole with ``merge_value``; where that conflicts, ``resolve(key, base, ours,
    theirs)`` may return a merged value (or a ``Conflict`` / ``MISSING``) instead. Deleted keys are
    left out; conflicting keys map to a ``Conflict``.
    """
    merged: dict[str, Any] = {}
    for key in [*ours, *(k for k in theirs if k not in ours), *(k for k in base if k not in ours and k not in theirs)]:
        b, o, t = base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING)
        value = merge_value(b, o, t)
        if isinstance(value, Conflict) and resolve is not None:
            value = resolve(key, b, o, t)
        if value is not MISSING:
            merged[key] = value
    return merged


def conflicts(merged: Mapping[str, Any]) -> list[str]:
    return [k for k, v in merged.items() if isinstance(v, Conflict)]


@dataclass(frozen=True)
class ManifestMerge:
    manifest: Manifest | None  # None when there are conflicts
    conflicts: tuple[str, ...] = ()  # paths inside the directory changed on both sides


def merge_manifests(base: Manifest, ours: Manifest, theirs: Manifest) -> ManifestMerge:
    """Merge a directory file by file: a file conflicts only when both sides changed it differently
    (content, executable bit, or one deleted it while the other changed it)."""

    def key(m: Manifest) -> dict[str, tuple[str, int, bool]]:
        return {e.path: (e.oid.hex, e.size, e.isexec) for e in m.entries}

    by_value = {(e.path, e.oid.hex, e.size, e.isexec): e for m in (base, ours, theirs) for e in m.entries}
    merged = merge_mapping(key(base), key(ours), key(theirs))
    clashes = tuple(sorted(conflicts(merged)))
    if clashes:
        return ManifestMerge(None, clashes)
    result = [by_value[(path, value[0], value[1], value[2])] for path, value in merged.items()]
    try:
        return ManifestMerge(Manifest.build(result))
    except ManifestError:  # one side added a file where the other made a directory of that name
        paths = set(merged)
        dirs = sorted(p for p in paths if any(q.startswith(p + "/") for q in paths))
        return ManifestMerge(None, tuple(dirs))
