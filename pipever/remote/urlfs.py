"""URLs as data sources (SPEC §8.1, §6): what identifies a URL's content now, and its download.

A URL dep is not stored: its identity is what the server says about it, as DVC records it — the
ETag (S3, GCS, Azure, most HTTP servers), a version id when the bucket is versioned, and the size.
An HTTP server that sends no ETag, Content-MD5 or Digest is read and its md5 recorded instead. A
folder (an S3/GCS/Azure prefix) is identified by the sorted list of its files' identities.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pipever.errors import PvError
from pipever.pipeline.lockfile import LockedUrl
from pipever.remote.base import Remote
from pipever.remote.url import mask_url, parse

_CHECKSUMS = ("Content-MD5", "Digest", "md5Hash", "content_md5")
_VERSIONS = ("VersionId", "version_id", "generation")


def open_url(url: str, options: Mapping[str, Any] | None = None) -> tuple[Remote, str]:
    """A filesystem for ``url`` (with the options of the remote it lies under, if any) and the
    URL's path in it."""
    spec = parse(url)
    remote = Remote(mask_url(url), spec, options or {})
    return remote, spec.root


def _field(info: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = info.get(name)
        if value:
            return str(value)
    return None


def identity(url: str, options: Mapping[str, Any] | None = None) -> LockedUrl | None:
    """The URL's identity now; None when nothing is there. RemoteError when it cannot be asked."""
    remote, path = open_url(url, options)
    with remote.mapped_errors():
        fs = remote.fs
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return None
        if info.get("type") == "directory":
            return _folder(url, fs, path)
        etag = _field(info, ("ETag", "etag"))
        version = _field(info, _VERSIONS)
        checksum = _field(info, _CHECKSUMS)
        size = info.get("size")
        if etag is None and version is None and checksum is None:
            digest = hashlib.md5(usedforsecurity=False)
            with fs.open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            checksum = "md5:" + digest.hexdigest()
    return LockedUrl(url, size=int(size) if size is not None else None, etag=etag, version_id=version,
                     checksum=checksum)


def _folder(url: str, fs: Any, path: str) -> LockedUrl:
    digest = hashlib.md5(usedforsecurity=False)
    total = 0
    for name, info in sorted(fs.find(path, detail=True).items()):
        rel = name[len(path):].lstrip("/")
        tag = _field(info, ("ETag", "etag")) or _field(info, _CHECKSUMS) or ""
        size = int(info.get("size") or 0)
        total += size
        digest.update(f"{rel}\0{tag}\0{size}\n".encode())
    return LockedUrl(url, size=total, checksum="md5-of-listing:" + digest.hexdigest())


def download(url: str, dest: Path, options: Mapping[str, Any] | None = None) -> None:
    """Copy the file or folder at ``url`` to ``dest`` (which must not exist): into a temporary
    sibling first, so a failed download leaves nothing at ``dest``. PvError if it is not there."""
    remote, path = open_url(url, options)
    tmp = dest.with_name(f".{dest.name}.pv-download")
    if tmp.exists():
        shutil.rmtree(tmp) if tmp.is_dir() and not tmp.is_symlink() else tmp.unlink()
    try:
        with remote.mapped_errors():
            fs = remote.fs
            try:
                info = fs.info(path)
            except FileNotFoundError:
                raise PvError(f"'{mask_url(url)}' does not exist", hint="check the URL") from None
            if info.get("type") == "directory":
                tmp.mkdir(parents=True)
                for name in sorted(fs.find(path)):
                    rel = name[len(path):].lstrip("/")
                    if not rel or ".." in rel.split("/") or rel.startswith("/"):
                        continue  # a key that would leave the folder
                    target = tmp / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    fs.get_file(name, str(target))
            else:
                tmp.parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(path, str(tmp))
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp) if tmp.is_dir() and not tmp.is_symlink() else tmp.unlink()


def source_files(url: str, options: Mapping[str, Any] | None = None,
                 ) -> tuple[Remote, str, list[tuple[str, str]] | None]:
    """What ``url`` holds, to be read without a local copy (``import-url --to-remote``): its
    filesystem, its path there and, for a folder, its files as ``(relative POSIX path, path)``
    (None: a file).
    PvError when nothing is there."""
    remote, path = open_url(url, options)
    with remote.mapped_errors():
        try:
            info = remote.fs.info(path)
        except FileNotFoundError:
            raise PvError(f"'{mask_url(url)}' does not exist", hint="check the URL") from None
        if info.get("type") != "directory":
            return remote, path, None
        files = []
        for name in sorted(remote.fs.find(path)):
            rel = name[len(path):].lstrip("/")
            if not rel or ".." in rel.split("/"):
                continue  # a key that would leave the folder
            files.append((rel, name))
    return remote, path, files


def read_pieces(remote: Remote, path: str, piece: int = 1 << 20) -> Iterator[bytes]:
    """The bytes at ``path`` of a URL filesystem, streamed in pieces (one GET over http)."""
    kw: dict[str, Any] = {"block_size": 0} if remote.spec.backend.protocol == "http" else {"block_size": 8 << 20}
    with remote.mapped_errors(), remote.fs.open(path, "rb", **kw) as f:
        while True:
            data = f.read(piece)
            if not data:
                return
            yield data
