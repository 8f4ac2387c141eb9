"""DVC's object layout and hashes: where an md5 lives in a DVC cache or remote, what a ``.dir``
manifest says, and the md5 variants a file may have been recorded with.

- DVC 3: ``<root>/files/md5/<2 hex>/<30 hex>`` (``.dir`` suffix for directory manifests)
- DVC 2: ``<root>/<2 hex>/<30 hex>``; DVC 3 still reads outs without ``hash: md5`` from there
- a ``.dir`` manifest is JSON: a list of ``{"md5": ..., "relpath": ...}`` sorted by ``relpath``
- DVC 2 hashed a file its heuristic calls text after turning CRLF into LF (``dos2unix``)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from blake3 import blake3

from pipever.errors import ManifestError, PathOutsideRepoError
from pipever.commands.migrate.dvcfiles import MD5
from pipever.paths import check_relpath

CHUNK = 1 << 20
TEXT_PEEK = 512
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"


def object_paths(md5: str, *, is_dir: bool, legacy: bool) -> list[str]:
    """Relative paths (POSIX) of an object in a DVC cache or remote, the likeliest first."""
    name = f"{md5[:2]}/{md5[2:]}" + (".dir" if is_dir else "")
    v3, v2 = f"files/md5/{name}", name
    return [v2, v3] if legacy else [v3, v2]


@dataclass(frozen=True)
class DirEntry:
    relpath: str  # POSIX, relative to the directory
    md5: str
    isexec: bool = False


def parse_dir(data: bytes, what: str) -> list[DirEntry]:
    """Entries of a ``.dir`` manifest (untrusted: every path must stay inside the directory)."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(what, f"not a DVC .dir manifest: {exc}") from exc
    if not isinstance(raw, list):
        raise ManifestError(what, "not a DVC .dir manifest: expected a JSON list")
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("relpath"), str) or not isinstance(item.get("md5"), str):
            raise ManifestError(what, "each entry needs 'relpath' and 'md5'")
        if not MD5.match(item["md5"]):
            raise ManifestError(what, f"invalid md5 {item['md5']!r}")
        try:
            rel = check_relpath(item["relpath"].replace("\\", "/"))
        except PathOutsideRepoError as exc:
            raise ManifestError(what, exc.message) from exc
        out.append(DirEntry(rel, item["md5"], item.get("isexec") is True))
    return out


def dir_bytes(entries: Iterable[tuple[str, str]]) -> bytes:
    """The bytes DVC writes for a ``.dir`` manifest of ``(relpath, md5)`` pairs (its md5 is the
    directory's)."""
    items = [{"md5": md5, "relpath": rel} for rel, md5 in sorted(entries)]
    return json.dumps(items, sort_keys=True).encode("utf-8")


def dir_md5(entries: Iterable[tuple[str, str]]) -> str:
    return hashlib.md5(dir_bytes(entries)).hexdigest()  # noqa: S324 - DVC's identity, not security


def is_text(head: bytes) -> bool:
    """DVC 2's heuristic on a file's first 512 bytes: no NUL, at most 30% unusual bytes."""
    if not head:
        return True
    if b"\x00" in head:
        return False
    return len(head.translate(None, _TEXT_CHARS)) / len(head) <= 0.30


@dataclass(frozen=True)
class Digest:
    md5: str  # of the bytes as they are
    md5_dos2unix: str | None  # of the bytes with CRLF as LF (text files only; DVC 2)
    blake3: str
    size: int

    def matches(self, md5: str, *, legacy: bool) -> bool:
        return self.md5 == md5 or (legacy and self.md5_dos2unix == md5)


class Hasher:
    """md5, DVC 2's dos2unix md5 and BLAKE3 of a stream in one pass; feed it chunks of ``CHUNK``
    bytes (DVC 2 turned CRLF into LF chunk by chunk)."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5()  # noqa: S324 - DVC's identity, not security
        self._d2u = hashlib.md5()  # noqa: S324
        self._b3 = blake3()
        self._head = b""
        self._size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._b3.update(chunk)
        if len(self._head) < TEXT_PEEK:
            self._head += chunk[: TEXT_PEEK - len(self._head)]
        self._size += len(chunk)
        # as DVC 2 did: per 1 MiB chunk (a CRLF split by a chunk boundary stays as it is)
        self._d2u.update(chunk.replace(b"\r\n", b"\n"))

    def digest(self) -> Digest:
        text = is_text(self._head)
        return Digest(self._md5.hexdigest(), self._d2u.hexdigest() if text else None, self._b3.hexdigest(), self._size)


def hash_stream(f: BinaryIO, copy_to: BinaryIO | None = None) -> Digest:
    h = Hasher()
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return h.digest()
        h.update(chunk)
        if copy_to is not None:
            copy_to.write(chunk)


def hash_path(path: str | os.PathLike[str]) -> Digest:
    with open(path, "rb") as f:
        return hash_stream(f)
