"""DVC's own files as ``pv migrate dvc`` reads them: ``X.dvc`` and ``dvc.lock`` (schema 2, and
DVC 1's schema-less lock). Pure: text in, frozen values out; the text may come from anyone's
commit, so every path is checked to stay inside the work tree and anything malformed is a
``SchemaError`` naming the file.

An out or dep records its hash as ``md5: <32 hex>`` (``<32 hex>.dir`` for a directory). DVC 3
adds ``hash: md5``; without it the md5 is DVC 2's, which for text files was computed after
turning CRLF into LF (``legacy``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipever import yamlio
from pipever.errors import PathOutsideRepoError, SchemaError
from pipever.paths import check_relpath

MD5 = re.compile(r"^[0-9a-f]{32}$")
# keys of a DVC out that pv keeps in its pointer (the rest are DVC's own bookkeeping)
KEPT_OUT_KEYS = ("desc", "remote", "push", "type", "labels", "meta")
IMPORT_REPO_KEYS = ("url", "rev", "rev_lock")


@dataclass(frozen=True)
class Hashed:
    """A path as DVC recorded it (relative to its file's directory, or to a stage's wdir)."""

    path: str
    md5: str | None  # 32 hex, without '.dir'; None when DVC recorded no md5 (not committed)
    is_dir: bool = False
    size: int | None = None
    nfiles: int | None = None
    legacy: bool = False  # DVC 2's md5 (no 'hash: md5')
    isexec: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)  # cache, persist, desc, etag, ...

    @property
    def cache(self) -> bool:
        return self.extra.get("cache", True) is not False


@dataclass(frozen=True)
class DvcFile:
    rel: str  # repo-relative path of the .dvc file
    outs: tuple[Hashed, ...]
    deps: tuple[Mapping[str, Any], ...] = ()  # as written: imports have one
    wdir: str = "."
    frozen: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)  # desc, meta
    cmd: str | None = None  # DVC 1 stage files have one (not migrated)

    @property
    def base(self) -> str:
        """Repo-relative directory the out paths are relative to."""
        d = posixpath.dirname(self.rel)
        return posixpath.normpath(posixpath.join(d, self.wdir)) if self.wdir not in ("", ".") else (d or ".")

    def out_rel(self, out: Hashed) -> str:
        return check_relpath(posixpath.normpath(posixpath.join(self.base, out.path)), source=self.rel)

    @property
    def import_repo(self) -> Mapping[str, Any] | None:
        """``{url, rev, rev_lock}`` of a ``dvc import`` (None otherwise)."""
        repo = self.deps[0].get("repo") if len(self.deps) == 1 else None
        return repo if isinstance(repo, Mapping) else None

    @property
    def is_import_url(self) -> bool:
        return len(self.deps) == 1 and self.import_repo is None and self.cmd is None


@dataclass(frozen=True)
class LockEntry:
    cmd: str | tuple[str, ...]
    deps: tuple[Hashed, ...] = ()
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)
    outs: tuple[Hashed, ...] = ()


def _fail(file: str, problem: str) -> SchemaError:
    return SchemaError(file, problem, hint="fix it with DVC ('dvc status' reads it) before migrating")


def parse_hashed(raw: object, file: str, *, what: str) -> Hashed:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("path"), str) or not raw["path"]:
        raise _fail(file, f"each {what} must be a mapping with a 'path'")
    md5_raw = raw.get("md5")
    md5: str | None = None
    is_dir = False
    if md5_raw is not None:
        text = str(md5_raw)
        is_dir = text.endswith(".dir")
        md5 = text[:-4] if is_dir else text
        if not MD5.match(md5):
            raise _fail(file, f"invalid md5 {text!r} for '{raw['path']}'")
    numbers = {}
    for key in ("size", "nfiles"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise _fail(file, f"'{key}' of '{raw['path']}' must be a non-negative integer")
        numbers[key] = value
    extra = {k: v for k, v in raw.items() if k not in ("path", "md5", "size", "nfiles", "hash", "isexec")}
    return Hashed(raw["path"], md5, is_dir, numbers["size"], numbers["nfiles"],
                  legacy=raw.get("hash") != "md5", isexec=raw.get("isexec") is True, extra=extra)


def parse_dvcfile(text: str | bytes, rel: str) -> DvcFile:
    """A ``.dvc`` file found at repo-relative ``rel``."""
    data = yamlio.load(text, rel)
    if not isinstance(data, Mapping):
        raise _fail(rel, "expected a mapping with 'outs'")
    outs_raw = data.get("outs") or []
    if not isinstance(outs_raw, list):
        raise _fail(rel, "'outs' must be a list")
    deps_raw = data.get("deps") or []
    if not isinstance(deps_raw, list) or not all(isinstance(d, Mapping) for d in deps_raw):
        raise _fail(rel, "'deps' must be a list of mappings")
    wdir = data.get("wdir", ".")
    if not isinstance(wdir, str):
        raise _fail(rel, "'wdir' must be a path")
    cmd = data.get("cmd")
    dvcfile = DvcFile(
        rel, tuple(parse_hashed(o, rel, what="out") for o in outs_raw), tuple(deps_raw), wdir or ".",
        frozen=data.get("frozen") is True,
        extra={k: data[k] for k in ("desc", "meta") if k in data},
        cmd=cmd if isinstance(cmd, str) else (" && ".join(map(str, cmd)) if isinstance(cmd, list) else None),
    )
    try:
        for out in dvcfile.outs:
            dvcfile.out_rel(out)
    except PathOutsideRepoError as exc:
        raise _fail(rel, exc.message) from exc
    repo = dvcfile.import_repo
    if repo is not None and not isinstance(repo.get("url"), str):
        raise _fail(rel, "the import's 'repo' has no 'url'")
    return dvcfile


def parse_lock(text: str | bytes, rel: str) -> dict[str, LockEntry]:
    """Stages of a ``dvc.lock`` (schema '2.0', or DVC 1's stages at the top level), in file order."""
    data = yamlio.load(text, rel)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise _fail(rel, "expected a mapping of stages")
    if "schema" in data:
        if str(data["schema"]) != "2.0":
            raise _fail(rel, f"unsupported schema {data['schema']!r} (pv reads DVC's schema '2.0')")
        stages = data.get("stages") or {}
    else:
        stages = data
    if not isinstance(stages, Mapping):
        raise _fail(rel, "'stages' must be a mapping")
    out: dict[str, LockEntry] = {}
    for name, raw in stages.items():
        if not isinstance(name, str) or not isinstance(raw, Mapping):
            raise _fail(rel, f"stage {name!r} must be a mapping")
        cmd = raw.get("cmd")
        if isinstance(cmd, list) and all(isinstance(c, str) for c in cmd):
            cmd = tuple(cmd)
        elif not isinstance(cmd, str):
            raise _fail(rel, f"stage '{name}' has no 'cmd'")
        params = raw.get("params") or {}
        if not isinstance(params, Mapping) or not all(isinstance(v, Mapping) for v in params.values()):
            raise _fail(rel, f"'params' of stage '{name}' must map files to {{key: value}}")
        lists = {}
        for key in ("deps", "outs"):
            items = raw.get(key) or []
            if not isinstance(items, list):
                raise _fail(rel, f"'{key}' of stage '{name}' must be a list")
            lists[key] = tuple(parse_hashed(i, rel, what=key[:-1]) for i in items)
        out[name] = LockEntry(cmd, lists["deps"], {str(f): dict(v) for f, v in params.items()}, lists["outs"])
    return out


def is_url(path: str) -> bool:
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path) is not None


def import_deps(dvcfile: DvcFile) -> list[dict[str, Any]]:
    """The ``deps`` of pv's import pointer for a ``dvc import``/``import-url`` file: the same
    source (``path`` and ``repo: {url, rev, rev_lock}``, or a URL and what DVC recorded of it)."""
    dep = dict(dvcfile.deps[0])
    repo = dvcfile.import_repo
    if repo is not None:
        kept = {k: repo[k] for k in IMPORT_REPO_KEYS if repo.get(k) is not None}
        return [{"path": str(dep.get("path", "")), "repo": kept}]
    out: dict[str, Any] = {"path": str(dep.get("path", ""))}
    for key in ("etag", "checksum", "version_id", "md5", "size"):
        if key in dep:
            out[key] = dep[key]
    return [out]
