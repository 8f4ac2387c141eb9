"""``pv.lock``: the recorded state of each stage that ran (SPEC §8), model and (de)serialization.

```yaml
schema: '1'
stages:
  train:
    cmd: python src/train.py          # a list when the stage's cmd is a list
    deps: [{path: data/prepared, oid: blake3:…, size: 8437363, nfiles: 2}]
    params: {params.yaml: {train.seed: 20170428}}
    outs: [{path: model.pkl, oid: blake3:…, size: 1024}]
```
Paths are relative to the lock file's directory (``pv.lock`` beside a ``pv.yaml`` in a subfolder
records ``../data.csv`` for the root's ``data.csv``); in memory they are repo-relative. The file comes from commits, so parsing checks every path and oid and
rejects unknown keys; errors are SchemaError naming ``pv.lock:LINE``. Writes are atomic.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipever import yamlio
from pipever.errors import PathOutsideRepoError
from pipever.fsutil import atomic_write_text
from pipever.objects.oid import Oid, parse_oid
from pipever.paths import check_relpath
from pipever.pipeline.fields import check_keys, fail_at, plain
from pipever.pipeline.marked import MDict, load_marked
from pipever.pipeline.stage import Stage

LOCK_FILE = "pv.lock"
SCHEMA = "1"
ENTRY_KEYS = frozenset({"cmd", "deps", "params", "outs"})
PATH_KEYS = frozenset({"path", "oid", "size", "nfiles"})
URL_KEYS = frozenset({"path", "etag", "version_id", "checksum", "size"})
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class LockedPath:
    path: str  # repo-relative
    oid: Oid
    size: int
    nfiles: int | None = None  # directories only

    @property
    def is_dir(self) -> bool:
        return self.nfiles is not None


@dataclass(frozen=True)
class LockedUrl:
    """A URL dep as recorded: what identifies its content on the remote side (as DVC records it:
    the ETag, a version id, a checksum, the size); never an oid, as it is not cached."""

    url: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    checksum: str | None = None  # md5 of the content, when the server gives no ETag

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.url}
        for key in ("etag", "version_id", "checksum", "size"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class LockEntry:
    cmd: str | tuple[str, ...]
    deps: tuple[LockedPath, ...] = ()
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)  # file -> key -> value
    outs: tuple[LockedPath, ...] = ()
    url_deps: tuple[LockedUrl, ...] = ()  # written in 'deps' after the paths

    def url_dep(self, url: str) -> LockedUrl | None:
        return next((d for d in self.url_deps if d.url == url), None)

    @property
    def commands(self) -> tuple[str, ...]:
        return (self.cmd,) if isinstance(self.cmd, str) else self.cmd

    def dep(self, path: str) -> LockedPath | None:
        return next((d for d in self.deps if d.path == path), None)

    def out(self, path: str) -> LockedPath | None:
        return next((o for o in self.outs if o.path == path), None)


def make_entry(stage: Stage, *, deps: Iterable[LockedPath], params: Mapping[str, Mapping[str, Any]],
               outs: Iterable[LockedPath], url_deps: Iterable[LockedUrl] = ()) -> LockEntry:
    """The entry recording a successful run of ``stage``."""
    cmd = stage.lock_cmd
    return LockEntry(cmd=tuple(cmd) if isinstance(cmd, list) else cmd, deps=tuple(deps),
                     params={f: dict(v) for f, v in params.items() if v}, outs=tuple(outs),
                     url_deps=tuple(url_deps))


@dataclass(frozen=True)
class Lockfile:
    stages: Mapping[str, LockEntry] = field(default_factory=dict, hash=False)  # in file order

    def get(self, name: str) -> LockEntry | None:
        return self.stages.get(name)

    def with_entry(self, name: str, entry: LockEntry) -> Lockfile:
        """A new Lockfile with ``name`` set (kept in place if it was there, appended otherwise)."""
        return Lockfile({**self.stages, name: entry})

    def without(self, names: Iterable[str]) -> Lockfile:
        drop = set(names)
        return Lockfile({n: e for n, e in self.stages.items() if n not in drop})


def from_base(base: str, path: object) -> object:
    """A path written relative to directory ``base`` as a repo-relative one (still to be checked);
    a path leaving the repository keeps a '..' and is refused by ``check_relpath``."""
    if base in ("", ".") or not isinstance(path, str) or path.startswith("/"):
        return path
    joined = posixpath.normpath(f"{base}/{path}")
    return joined if joined != "." else path


def to_base(base: str, path: str) -> str:
    """Repo-relative ``path`` as written in a lock file in directory ``base``."""
    return path if base in ("", ".") else posixpath.relpath(path, base)


def _path_entry(item: Any, *, file: str, container: Any, index: int, base: str = ".") -> LockedPath:
    if not isinstance(item, MDict):
        fail_at(file, "each dep/out entry must be a mapping with path, oid and size", container, index)
    check_keys(file, "entry", item, PATH_KEYS)
    for key in ("path", "oid", "size"):
        if key not in item:
            fail_at(file, f"entry is missing '{key}'", container, index)
    try:
        path = check_relpath(from_base(base, item["path"]))
    except PathOutsideRepoError as exc:
        fail_at(file, exc.message, item, "path")
    try:
        oid = parse_oid(item["oid"])
    except ValueError as exc:
        fail_at(file, f"invalid oid for '{path}': {exc}", item, "oid")
    numbers: dict[str, int] = {}
    for key in ("size", "nfiles"):
        if key not in item:
            continue
        value = item[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            fail_at(file, f"'{key}' of '{path}' must be a non-negative integer", item, key)
        numbers[key] = value
    return LockedPath(path, oid, numbers["size"], numbers.get("nfiles"))


def _is_url_entry(item: Any) -> bool:
    return isinstance(item, MDict) and isinstance(item.get("path"), str) and bool(_URL.match(item["path"]))


def _url_entry(item: MDict, *, file: str) -> LockedUrl:
    check_keys(file, "entry", item, URL_KEYS)
    values: dict[str, Any] = {}
    for key in ("etag", "version_id", "checksum"):
        if key in item:
            if not isinstance(item[key], str):
                fail_at(file, f"'{key}' of '{item['path']}' must be a string", item, key)
            values[key] = item[key]
    if "size" in item:
        if not isinstance(item["size"], int) or isinstance(item["size"], bool) or item["size"] < 0:
            fail_at(file, f"'size' of '{item['path']}' must be a non-negative integer", item, "size")
        values["size"] = item["size"]
    return LockedUrl(item["path"], **values)


def _paths(entry: MDict, key: str, *, file: str, base: str) -> tuple[LockedPath, ...]:
    items = entry.get(key, [])
    if not isinstance(items, list):
        fail_at(file, f"'{key}' must be a list", entry, key)
    return tuple(_path_entry(item, file=file, container=items, index=i, base=base) for i, item in enumerate(items)
                 if key != "deps" or not _is_url_entry(item))


def _urls(entry: MDict, *, file: str) -> tuple[LockedUrl, ...]:
    items = entry.get("deps", [])
    return tuple(_url_entry(i, file=file) for i in items if _is_url_entry(i)) if isinstance(items, list) else ()


def _params(entry: MDict, *, file: str, base: str) -> dict[str, dict[str, Any]]:
    raw = entry.get("params", MDict())
    if not isinstance(raw, MDict):
        fail_at(file, "'params' must map params files to {key: value}", entry, "params")
    out: dict[str, dict[str, Any]] = {}
    for pfile, values in raw.items():
        try:
            rel = check_relpath(from_base(base, pfile))
        except PathOutsideRepoError as exc:
            fail_at(file, exc.message, raw, pfile)
        if not isinstance(values, MDict) or not all(isinstance(k, str) for k in values):
            fail_at(file, f"params of '{rel}' must be a mapping of keys to values", raw, pfile)
        out[rel] = plain(values)
    return out


def _entry(name: str, raw: Any, *, file: str, container: MDict, base: str) -> LockEntry:
    if not isinstance(raw, MDict):
        fail_at(file, f"stage '{name}' must be a mapping", container, name)
    check_keys(file, f"stage '{name}'", raw, ENTRY_KEYS)
    cmd = raw.get("cmd")
    if isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
        cmd = tuple(cmd)
    elif not isinstance(cmd, str):
        fail_at(file, f"stage '{name}': 'cmd' must be a string or a list of strings", raw, "cmd")
    return LockEntry(cmd=cmd, deps=_paths(raw, "deps", file=file, base=base),
                     params=_params(raw, file=file, base=base), outs=_paths(raw, "outs", file=file, base=base),
                     url_deps=_urls(raw, file=file))


def parse_lockfile(text: str | bytes, file: str = LOCK_FILE) -> Lockfile:
    """Parse untrusted ``pv.lock`` text (``file`` repo-relative: its paths are relative to its
    directory); SchemaError naming ``file:line`` when it is invalid."""
    base = posixpath.dirname(file) or "."
    raw = load_marked(text, file)
    if raw is None:
        return Lockfile()
    if not isinstance(raw, MDict):
        fail_at(file, "the top level must be a mapping with 'schema' and 'stages'")
    check_keys(file, "top level", raw, frozenset({"schema", "stages"}))
    if raw.get("schema") != SCHEMA:
        fail_at(file, f"unsupported schema {raw.get('schema')!r} (this pv reads schema '{SCHEMA}')", raw, "schema")
    stages = raw.get("stages") or MDict()
    if not isinstance(stages, MDict):
        fail_at(file, "'stages' must be a mapping of stage names to entries", raw, "stages")
    for name in stages:
        if not isinstance(name, str) or not name:
            fail_at(file, f"invalid stage name {name!r}", stages, name)
    return Lockfile({name: _entry(name, entry, file=file, container=stages, base=base)
                     for name, entry in stages.items()})


def _dump_path(p: LockedPath, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {"path": to_base(base, p.path), "oid": str(p.oid), "size": p.size}
    if p.nfiles is not None:
        out["nfiles"] = p.nfiles
    return out


def to_data(lock: Lockfile, base: str = ".") -> dict[str, Any]:
    """The YAML data of ``lock`` written in directory ``base`` (paths relative to it)."""
    stages: dict[str, Any] = {}
    for name, entry in lock.stages.items():
        data: dict[str, Any] = {"cmd": entry.cmd if isinstance(entry.cmd, str) else list(entry.cmd)}
        if entry.deps or entry.url_deps:
            data["deps"] = [_dump_path(d, base) for d in entry.deps] + [u.to_data() for u in entry.url_deps]
        if entry.params:
            data["params"] = {to_base(base, f): dict(v) for f, v in entry.params.items()}
        if entry.outs:
            data["outs"] = [_dump_path(o, base) for o in entry.outs]
        stages[name] = data
    return {"schema": SCHEMA, "stages": stages}


def dump_lockfile(lock: Lockfile, base: str = ".") -> str:
    return yamlio.dump(to_data(lock, base))


def write_lockfile(path: Path, lock: Lockfile, base: str = ".") -> None:
    """Replace ``path`` atomically with ``lock`` (its paths written relative to ``base``)."""
    atomic_write_text(path, dump_lockfile(lock, base))
