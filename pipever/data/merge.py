"""Three-way merge of ``pv.lock`` and pointer-file documents, and their text with conflict markers.

Pure functions over the plain data the YAML holds. ``pv.lock`` merges stage by stage (keyed by
name); a pointer merges out by out (keyed by ``path``), and an out whose content changed on both
sides goes to a ``merge_dir`` callback (the driver merges directory manifests there). Whatever
still conflicts is rendered between Git's markers, entry by entry, so the rest stays merged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipever import yamlio
from pipever.objects.merge import MISSING, Conflict, merge_mapping, merge_value

CONTENT_KEYS = ("oid", "size", "nfiles")
# (base out or MISSING, ours out, theirs out) -> {"oid", "size", "nfiles"} merged, or None
DirMerger = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], "dict[str, Any] | None"]


def _as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def merge_lock(base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``pv.lock`` data; ``stages`` maps names to entries or ``Conflict``s."""

    def resolve(key: str, b: Any, o: Any, t: Any) -> Any:
        if key == "stages" and o is not MISSING and t is not MISSING:
            return merge_mapping(_as_map(b), _as_map(o), _as_map(t))
        return Conflict(o, t)

    return merge_mapping(base, ours, theirs, resolve=resolve)


def outs_by_path(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """A pointer's data with ``outs`` as a mapping keyed by path (None if paths repeat)."""
    outs = data.get("outs") or []
    keyed = {str(o.get("path")): o for o in outs if isinstance(o, Mapping)}
    if len(keyed) != len(outs):
        return None
    return {**data, "outs": keyed}


def merge_pointer(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any], *, merge_dir: DirMerger,
) -> dict[str, Any]:
    """Merge pointer data given by ``outs_by_path``; ``outs`` maps paths to outs or ``Conflict``s."""

    def resolve_out(path: str, b: Any, o: Any, t: Any) -> Any:
        if o is MISSING or t is MISSING:
            return Conflict(o, t)
        bm = _as_map(b)
        rest = merge_mapping(_strip(bm), _strip(o), _strip(t))
        if any(isinstance(v, Conflict) for v in rest.values()):
            return Conflict(o, t)
        content: Any = merge_value(_content(b), _content(o), _content(t))
        if isinstance(content, Conflict):
            content = merge_dir(b, o, t) if o.get("nfiles") is not None and t.get("nfiles") is not None else None
            if content is None:
                return Conflict(o, t)
        else:
            content = dict(zip(CONTENT_KEYS, content))
        out: dict[str, Any] = {"path": path}
        out.update({k: v for k, v in content.items() if v is not None})
        out.update({k: v for k, v in rest.items() if k != "path"})
        return out

    def resolve(key: str, b: Any, o: Any, t: Any) -> Any:
        if key == "outs" and o is not MISSING and t is not MISSING:
            return merge_mapping(_as_map(b), _as_map(o), _as_map(t), resolve=resolve_out)
        return Conflict(o, t)

    return merge_mapping(base, ours, theirs, resolve=resolve)


def _strip(out: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in out.items() if k not in CONTENT_KEYS}


def _content(out: Any) -> Any:
    if out is MISSING:
        return MISSING
    return tuple(out.get(k) for k in CONTENT_KEYS)


def conflicted(merged: Mapping[str, Any]) -> list[str]:
    """Names of conflicting entries: top-level keys, stages or out paths."""
    names = []
    for key, value in merged.items():
        if isinstance(value, Conflict):
            names.append(key)
        elif isinstance(value, Mapping) and key in ("stages", "outs"):
            names.extend(k for k, v in value.items() if isinstance(v, Conflict))
    return names


def plain(merged: Mapping[str, Any], *, outs_as_list: bool) -> dict[str, Any]:
    """The merged document (without conflicts) as YAML-ready data."""
    data = dict(merged)
    if outs_as_list and isinstance(data.get("outs"), Mapping):
        data["outs"] = list(data["outs"].values())
    return data


def render(merged: Mapping[str, Any], *, section: str, header: str = "", marker_size: int = 7) -> str:
    """YAML text of a merged document; each conflicting entry of ``section`` (``stages`` or
    ``outs``) or top-level key sits between ``<<<<<<< ours``/``=======``/``>>>>>>> theirs``."""
    parts = [header]
    for key, value in merged.items():
        if isinstance(value, Conflict):
            parts.append(_markers(_dump({key: value.ours}), _dump({key: value.theirs}), marker_size))
        elif key == section and isinstance(value, Mapping) and value:
            parts.append(f"{key}:\n")
            for name, item in value.items():
                parts.append(_item(section, name, item, marker_size))
        else:
            parts.append(yamlio.dump({key: _listed(key, value)}))
    return "".join(parts)


def _listed(key: str, value: Any) -> Any:
    return list(value.values()) if key == "outs" and isinstance(value, Mapping) else value


def _item(section: str, name: str, item: Any, marker_size: int) -> str:
    def one(value: Any) -> str:
        if value is MISSING:
            return ""
        if section == "outs":
            return yamlio.dump([value])
        return _indent(yamlio.dump({name: value}), 2)

    if isinstance(item, Conflict):
        return _markers(one(item.ours), one(item.theirs), marker_size)
    return one(item)


def _dump(data: Mapping[str, Any]) -> str:
    return "".join(yamlio.dump({k: v}) for k, v in data.items() if v is not MISSING)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def _markers(ours: str, theirs: str, size: int) -> str:
    return f"{'<' * size} ours\n{ours}{'=' * size}\n{theirs}{'>' * size} theirs\n"


def whole_file_conflict(ours: str, theirs: str, *, marker_size: int = 7) -> str:
    """Markers around both whole texts (when a side cannot be parsed at all)."""
    end = "" if not ours or ours.endswith("\n") else "\n"
    end2 = "" if not theirs or theirs.endswith("\n") else "\n"
    return _markers(ours + end, theirs + end2, marker_size)
