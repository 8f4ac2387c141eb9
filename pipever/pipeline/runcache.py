"""The run cache: which outputs a stage produced from given inputs, so a rerun with the same
inputs restores them instead of running.

The key is the digest of what determines a run: the cmd, the wdir, each dep's path and oid, the
tracked params' values and the declared outputs (path and cache flag). The value is the list of
outputs (path, oid, size, nfiles) as ``pv.lock`` records them; their objects are in the cache.
Entries are small JSON files under ``<cache>/runs/<2 hex>/<62 hex>``, written atomically; the
newest run with a key wins. As in DVC, stages that always change, lack deps or outs, or have
persistent outputs are not cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pipever.errors import PathOutsideRepoError
from pipever.fsutil import atomic_write
from pipever.objects.hashing import hash_bytes
from pipever.objects.oid import parse_oid
from pipever.paths import check_relpath
from pipever.pipeline.lockfile import LockedPath
from pipever.pipeline.stage import Stage

RUNS_DIR = "runs"
FORMAT = 1


def cacheable(stage: Stage) -> bool:
    """Whether runs of ``stage`` may be cached and restored."""
    outs = stage.all_outs
    # a URL dep is identified by its server, not by content pv holds: such runs are not reused
    return (bool(stage.deps and outs) and not stage.always_changed and not stage.url_deps
            and not any(o.persist for o in outs))


def run_key(stage: Stage, deps: Iterable[LockedPath], params: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The key of a run of ``stage`` with these inputs; None when the stage is not cacheable."""
    if not cacheable(stage):
        return None
    data = {
        "cmd": stage.lock_cmd,
        "wdir": stage.wdir,
        "deps": sorted([d.path, str(d.oid)] for d in deps),
        "params": {f: dict(sorted(v.items())) for f, v in sorted(params.items()) if v},
        "outs": [[o.path, o.cache] for o in stage.all_outs],
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hash_bytes(text.encode("utf-8")).hex


def _entry_text(outs: Iterable[LockedPath]) -> bytes:
    items = []
    for o in outs:
        item: dict[str, Any] = {"path": o.path, "oid": str(o.oid), "size": o.size}
        if o.nfiles is not None:
            item["nfiles"] = o.nfiles
        items.append(item)
    return (json.dumps({"format": FORMAT, "outs": items}, indent=1) + "\n").encode("utf-8")


def _parse(data: bytes) -> tuple[LockedPath, ...] | None:
    """The outs of an entry, or None when it is unreadable (an entry is only a hint: never trusted
    beyond the objects it names, which are verified when they are linked)."""
    try:
        raw = json.loads(data)
        if raw.get("format") != FORMAT:
            return None
        outs = []
        for item in raw["outs"]:
            nfiles = item.get("nfiles")
            size = item["size"]
            if not isinstance(size, int) or (nfiles is not None and not isinstance(nfiles, int)):
                return None
            outs.append(LockedPath(check_relpath(item["path"]), parse_oid(item["oid"]), size, nfiles))
        return tuple(outs)
    except (ValueError, KeyError, TypeError, AttributeError, PathOutsideRepoError):
        return None


def is_key(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def parse_entry(data: bytes) -> tuple[LockedPath, ...] | None:
    """The outs an entry's bytes name, None when they are unreadable."""
    return _parse(data)


class RunCache:
    """Entries below ``root`` (``<cache>/runs``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:]

    def get(self, key: str) -> tuple[LockedPath, ...] | None:
        try:
            data = self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _parse(data)

    def keys(self) -> list[str]:
        """Keys of every entry, sorted."""
        found = []
        if self.root.is_dir():
            for shard in sorted(self.root.iterdir()):
                if len(shard.name) == 2 and shard.is_dir():
                    found += [shard.name + f.name for f in sorted(shard.iterdir()) if is_key(shard.name + f.name)]
        return found

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def put_entry(self, key: str, data: bytes) -> tuple[LockedPath, ...] | None:
        """Store an entry read from elsewhere (a remote) if it parses; its outs, else None."""
        outs = _parse(data)
        if outs is not None:
            self.put(key, outs)
        return outs

    def put(self, key: str, outs: Iterable[LockedPath]) -> None:
        path = self._path(key)
        text = _entry_text(outs)
        try:
            if path.read_bytes() == text:
                return
        except (FileNotFoundError, NotADirectoryError):
            pass
        atomic_write(path, text)
