"""Pointer files ``<path>.pv``: the model, parsing (untrusted input) and serialization.

Optional keys (``desc``, ``meta``, a per-out ``remote``, ``push: false``, an import's ``deps``...)
are kept as they were when pv rewrites a pointer. ``isexec: true`` records a file's execute bit
(a directory's manifest has its files' bits), as DVC's ``isexec`` does. Unknown keys are an error, so typos are caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pipever import yamlio
from pipever.errors import FileNameError, PathOutsideRepoError, PointerError, SchemaError
from pipever.fsutil import NAME_MAX
from pipever.objects.oid import Oid, parse_oid
from pipever.paths import check_relpath, check_utf8, join, parent

SUFFIX = ".pv"
HEADER = "# pipever pointer: commit this file; the data itself is in the cache and on remotes\n"
TOP_KEYS = {"outs", "desc", "meta", "deps", "frozen"}
OUT_KEYS = {"path", "oid", "size", "nfiles", "isexec", "desc", "meta", "type", "labels", "remote", "push"}


@dataclass(frozen=True)
class PointerOut:
    path: str  # relative to the pointer's directory
    oid: Oid
    size: int
    nfiles: int | None = None  # set for directories only
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_dir(self) -> bool:
        return self.nfiles is not None

    @property
    def isexec(self) -> bool:
        return self.extra.get("isexec") is True

    @property
    def push(self) -> bool:
        return self.extra.get("push", True) is not False

    @property
    def remote(self) -> str | None:
        r = self.extra.get("remote")
        return r if isinstance(r, str) else None


@dataclass(frozen=True)
class Pointer:
    rel: str  # repo-relative path of the pointer file itself
    outs: tuple[PointerOut, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """Repo-relative directory the out paths are relative to."""
        return parent(self.rel)

    def out_rel(self, out: PointerOut) -> str:
        """Repo-relative path of an out, checked to stay inside the repo."""
        return check_relpath(join(self.base, out.path), source=self.rel)

    def with_out(self, index: int, out: PointerOut) -> Pointer:
        outs = list(self.outs)
        outs[index] = out
        return replace(self, outs=tuple(outs))


def pointer_rel_for(target_rel: str) -> str:
    """The pointer file of ``target_rel``; FileNameError when that cannot be a file name (the
    target's name is not UTF-8, or with ``.pv`` it is longer than NAME_MAX bytes)."""
    check_utf8([target_rel])
    rel = target_rel + SUFFIX
    name = rel.rsplit("/", 1)[-1]
    if len(name.encode("utf-8")) > NAME_MAX:
        raise FileNameError(target_rel, f"cannot track '{target_rel}': its pointer file '{name}' would have a name "
                                        f"of {len(name.encode('utf-8'))} bytes, more than the file system allows ({NAME_MAX})",
                            hint="rename it, or track the directory that holds it")
    return rel


def target_rel_for(pointer_rel: str) -> str:
    return pointer_rel[: -len(SUFFIX)]


def parse(text: str | bytes, rel: str) -> Pointer:
    """Parse pointer text found at repo-relative ``rel``; PointerError on anything invalid."""
    try:
        data = yamlio.load(text, rel)
    except SchemaError as exc:
        problem = exc.message.split(": ", 1)[-1]
        raw = text if isinstance(text, str) else text.decode("utf-8", "replace")
        conflicted = any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in raw.splitlines())
        if conflicted:
            problem = "it has merge conflict markers"
        raise PointerError(rel, f"line {exc.line}: {problem}" if exc.line and not conflicted else problem,
                           conflicted=conflicted) from exc
    if not isinstance(data, dict):
        raise PointerError(rel, "expected a mapping with 'outs'")
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise PointerError(rel, f"unknown key(s) {', '.join(repr(k) for k in unknown)}")
    outs_raw = data.get("outs")
    if not isinstance(outs_raw, list) or not outs_raw:
        raise PointerError(rel, "'outs' must be a non-empty list")
    outs = tuple(_parse_out(o, rel) for o in outs_raw)
    extra = {k: v for k, v in data.items() if k != "outs"}
    pointer = Pointer(rel, outs, extra)
    for out in outs:
        try:
            pointer.out_rel(out)
        except PathOutsideRepoError as exc:
            raise PointerError(rel, exc.message) from exc
    return pointer


def _parse_out(raw: object, rel: str) -> PointerOut:
    if not isinstance(raw, dict):
        raise PointerError(rel, f"each out must be a mapping, got {raw!r}")
    unknown = sorted(set(map(str, raw)) - OUT_KEYS)
    if unknown:
        raise PointerError(rel, f"unknown key(s) {', '.join(repr(k) for k in unknown)} in an out")
    for key in ("path", "oid"):
        if key not in raw:
            raise PointerError(rel, f"an out is missing '{key}'")
    try:
        path = check_relpath(raw["path"], source=rel)
    except PathOutsideRepoError as exc:
        raise PointerError(rel, exc.message) from exc
    try:
        oid = parse_oid(raw["oid"])
    except ValueError as exc:
        raise PointerError(rel, str(exc)) from exc
    size = raw.get("size", 0)
    nfiles = raw.get("nfiles")
    if not _is_count(size) or (nfiles is not None and not _is_count(nfiles)):
        raise PointerError(rel, "'size' and 'nfiles' must be non-negative integers")
    extra = {k: v for k, v in raw.items() if k not in ("path", "oid", "size", "nfiles")}
    for key in ("push", "isexec"):
        if key in extra and not isinstance(extra[key], bool):
            raise PointerError(rel, f"'{key}' must be true or false")
    if "remote" in extra and not isinstance(extra["remote"], str):
        raise PointerError(rel, "'remote' must be a remote name")
    return PointerOut(path, oid, size, nfiles, extra)


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def dump(pointer: Pointer) -> str:
    outs = []
    for out in pointer.outs:
        d: dict[str, Any] = {"path": out.path, "oid": str(out.oid), "size": out.size}
        if out.nfiles is not None:
            d["nfiles"] = out.nfiles
        d.update(out.extra)
        outs.append(d)
    data: dict[str, Any] = {"outs": outs}
    data.update(pointer.extra)
    return HEADER + yamlio.dump(data)
