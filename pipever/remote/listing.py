"""``pv ls-url URL``: the files and folders at a URL (a local path, ``s3://``, ``ssh://``, ...),
through the same fsspec backends and options as remotes use. Read-only: one listing request per
folder (``-R``: the backend's recursive find)."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipever.errors import TargetError
from pipever.remote.local import make_remote
from pipever.remote.url import mask_url, parse


@dataclass(frozen=True)
class UrlEntry:
    path: str  # relative to the listed URL ('' = the URL itself is a file)
    isdir: bool
    size: int | None

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "isdir": self.isdir, "size": self.size}


def _entry(info: Mapping[str, Any], root: str) -> UrlEntry:
    name = str(info["name"]).rstrip("/")
    rel = posixpath.relpath(name, root) if name != root else ""
    isdir = info.get("type") == "directory"
    size = info.get("size")
    return UrlEntry(rel, isdir, None if isdir or size is None else int(size))


def list_url(url: str, *, options: Mapping[str, Any] | None = None, recursive: bool = False,
             base_dir: str | None = None) -> list[UrlEntry]:
    """What is at ``url``: a folder's entries (every file below it with ``recursive``), or the
    file itself; ``options`` are fsspec options as a remote's (endpoint_url, profile, ...)."""
    spec = parse(url, base_dir=base_dir)
    remote = make_remote("url", spec, dict(options or {}))
    root = spec.root.rstrip("/") or "/"
    with remote.mapped_errors():
        fs = remote.fs
        try:
            info = fs.info(root)
        except FileNotFoundError:
            info = None
        if info is None or info.get("type") != "directory":
            if info is None and not (recursive and fs.find(root)):
                raise TargetError(f"'{mask_url(url)}' does not exist", hint="check the URL")
            if info is not None:
                return [UrlEntry(posixpath.basename(root), False, info.get("size"))]
        found = fs.find(root, detail=True) if recursive else {i["name"]: i for i in fs.ls(root, detail=True)}
        entries = [_entry(i, root) for i in found.values()]
    return sorted((e for e in entries if e.path not in ("", ".")), key=lambda e: e.path)
