"""Run-cache entries on a remote: small files ``<remote>/runs/<2 hex>/<62 hex>``, the same bytes
as in the local cache's ``runs/`` (``pipeline.runcache``). Written through a temp name where
renames are atomic; never trusted beyond parsing (the objects an entry names are verified when
they are fetched)."""

from __future__ import annotations

import contextlib
import uuid

from pipever.errors import RemoteError
from pipever.pipeline.runcache import RUNS_DIR, is_key
from pipever.remote.base import TMP_SUFFIX, Remote


def _dir(remote: Remote) -> str:
    return f"{remote.root}/{RUNS_DIR}" if remote.root not in ("", "/") else f"{remote.root}{RUNS_DIR}"


def _path(remote: Remote, key: str) -> str:
    return f"{_dir(remote)}/{key[:2]}/{key[2:]}"


def list_keys(remote: Remote) -> set[str]:
    """Keys of the entries on ``remote`` (one listing)."""
    base = _dir(remote)
    with remote.mapped_errors():
        try:
            found = remote.fs.find(base)
        except FileNotFoundError:
            return set()
    keys = set()
    for path in found:
        parts = str(path).rstrip("/").split("/")
        if len(parts) >= 2 and is_key(parts[-2] + parts[-1]) and len(parts[-2]) == 2:
            keys.add(parts[-2] + parts[-1])
    return keys


def read(remote: Remote, key: str) -> bytes:
    with remote.mapped_errors():
        return bytes(remote.fs.cat_file(_path(remote, key)))


def write(remote: Remote, key: str, data: bytes) -> None:
    if not remote.writable:
        raise RemoteError(f"remote '{remote.name}' ({remote.display}) is read-only", hint="push to another remote with -r")
    dst = _path(remote, key)
    with remote.mapped_errors():
        if remote.spec.backend.page_size is None:
            remote.fs.makedirs(dst.rsplit("/", 1)[0], exist_ok=True)
        if not remote.spec.backend.atomic_move:
            remote.fs.pipe_file(dst, data)
            return
        head, name = dst.rsplit("/", 1)
        tmp = f"{head}/.{name}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}"
        try:
            remote.fs.pipe_file(tmp, data)
            remote.fs.mv(tmp, dst)
        except BaseException:
            with contextlib.suppress(Exception):
                remote.fs.rm_file(tmp)
            raise
