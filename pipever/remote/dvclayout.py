"""Reading a DVC remote (``pv migrate dvc``): objects in DVC's layout, through the same fsspec
filesystems and options as pv's own remotes. Read-only: nothing is ever written to it.

DVC 3 keeps ``<root>/files/md5/<2 hex>/<30 hex>[.dir]``; DVC 2 kept ``<root>/<2 hex>/<30 hex>``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from pipever.remote.base import Remote, map_concurrently


class DvcRemote:
    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.name = remote.name

    @property
    def display(self) -> str:
        return self.remote.display

    def _path(self, rel: str) -> str:
        root = self.remote.root
        return f"{root}/{rel}" if root not in ("", "/") else f"{root}{rel}"

    def existing(self, rels: Iterable[str]) -> set[str]:
        """Which of the relative object paths ``rels`` the remote holds."""
        wanted = sorted(set(rels))
        if not wanted:
            return set()
        rem = self.remote

        def one(rel: str) -> bool:
            with rem.mapped_errors():
                return bool(rem.fs.exists(self._path(rel)))

        flags = map_concurrently(one, wanted, jobs=rem.jobs)
        return {rel for rel, ok in zip(wanted, flags) if ok}

    def download(self, rel: str, dst: Path) -> None:
        """Copy one object to the local file ``dst`` (removed again on failure)."""
        try:
            with self.remote.mapped_errors():
                self.remote.fs.get_file(self._path(rel), os.fspath(dst))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(dst)
            raise

    def read_bytes(self, rel: str) -> bytes:
        """One (small) object, into memory."""
        with self.remote.mapped_errors():
            return bytes(self.remote.fs.cat_file(self._path(rel)))

    def close(self) -> None:
        self.remote.close()


def open_dvc_remote(name: str, url: str, options: dict[str, object], *, base_dir: str) -> DvcRemote:
    """The DVC remote ``name`` at ``url`` (a relative local path is taken from ``base_dir``),
    with its options already in pv's names; every option is trusted (the user's own config)."""
    from pipever.remote import url as remote_url
    from pipever.remote.local import make_remote

    spec = remote_url.parse(url, base_dir=base_dir)
    return DvcRemote(make_remote(name, spec, options))
