"""``LocalRemote``: a remote in a local (or mounted) directory, served by the standard library.

Same layout and contract as ``Remote``, without fsspec's per-call overhead (and its import):
directory listings with ``os.listdir``, uploads as copy to a temp name + ``os.replace``,
downloads as a copy into the cache's temp name before the verified insert.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pipever import fsutil
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects.oid import ALGO, oid_from_relpath
from pipever.remote.base import SMALL_OBJECT, Remote, insert_bytes, insert_file
from pipever.remote.url import FILE, RemoteURL


class LocalRemote(Remote):
    def _dir(self, shard: str) -> str:
        return os.path.join(self.root, ALGO, shard)

    def list_shard(self, shard: str) -> set[str]:
        self._debug("list", self._dir(shard))
        with self.mapped_errors():
            try:
                return set(os.listdir(self._dir(shard)))
            except (FileNotFoundError, NotADirectoryError):
                return set()

    def exists(self, ref: ObjectRef) -> bool:
        self._debug("exists", self.path(ref))
        return os.path.exists(self.path(ref))

    def iter_objects(self) -> Iterator[tuple[ObjectRef, str]]:
        base = os.path.join(self.root, ALGO)
        with self.mapped_errors():
            try:
                shards = sorted(os.listdir(base))
            except (FileNotFoundError, NotADirectoryError):
                return
            for shard in shards:
                try:
                    names = sorted(os.listdir(os.path.join(base, shard)))
                except NotADirectoryError:
                    continue
                for name in names:
                    parsed = oid_from_relpath(f"{ALGO}/{shard}/{name}")
                    if parsed is not None:
                        yield ObjectRef(*parsed), os.path.join(base, shard, name)

    def upload(self, ref: ObjectRef, src: Path) -> None:
        dst = Path(self.path(ref))
        self._debug("put", dst)
        with self.mapped_errors():
            shard = ref.oid.hex[:2]
            if shard not in self._made_dirs:
                dst.parent.mkdir(parents=True, exist_ok=True)
                self._made_dirs.add(shard)
            tmp = fsutil.tmp_name(dst)
            try:
                fsutil.copy_file(src, tmp)
                os.replace(tmp, dst)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def download_loose(self, ref: ObjectRef, odb: ObjectDB, *, size: int | None = None) -> None:
        src = Path(self.path(ref))
        self._debug("get", src)
        if size is not None and size <= SMALL_OBJECT and not ref.is_dir:
            with self.mapped_errors(), open(src, "rb") as f:
                data = f.read(size + 1)
            if len(data) <= size:  # else the recorded size is wrong: copy it, the hash decides
                insert_bytes(odb, ref, data, remote=self.name)
                return
        tmp = odb.tmp_path_for(ref.oid, is_dir=ref.is_dir)
        try:
            with self.mapped_errors():
                fsutil.copy_file(src, tmp)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        insert_file(odb, ref, tmp, remote=self.name)

    def read_loose(self, ref: ObjectRef) -> bytes:
        self._debug("get", self.path(ref))
        with self.mapped_errors():
            return Path(self.path(ref)).read_bytes()

    def file_path(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/"))

    def list_dir(self, rel: str) -> dict[str, float | None]:
        self._debug("list", self.file_path(rel))
        out: dict[str, float | None] = {}
        with self.mapped_errors():
            try:
                it = os.scandir(self.file_path(rel))
            except (FileNotFoundError, NotADirectoryError):
                return out
            with it:
                for e in it:
                    try:
                        out[e.name] = e.stat().st_mtime
                    except FileNotFoundError:
                        continue
        return out

    def read_file(self, rel: str) -> bytes:
        self._debug("get", self.file_path(rel))
        with self.mapped_errors():
            return Path(self.file_path(rel)).read_bytes()

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        self._debug("get", f"{self.file_path(rel)} bytes {start}-{end - 1}")
        with self.mapped_errors(), open(self.file_path(rel), "rb") as f:
            f.seek(start)
            return f.read(end - start)

    def write_stream(self, rel: str, chunks: Iterable[bytes], *, part_size: int | None = None) -> None:
        self._debug("put", self.file_path(rel))
        dst = Path(self.file_path(rel))
        with self.mapped_errors():
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = fsutil.tmp_name(dst)
            try:
                with open(tmp, "wb") as f:
                    for chunk in chunks:
                        f.write(chunk)
                os.chmod(tmp, 0o444)
                os.replace(tmp, dst)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def remove_file(self, rel: str) -> None:
        with self.mapped_errors(), contextlib.suppress(FileNotFoundError):
            os.unlink(self.file_path(rel))

    def move_file(self, src: str, dst: str) -> None:
        with self.mapped_errors():
            target = self.file_path(dst)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(self.file_path(src), target)

    def delete(self, refs: list[ObjectRef]) -> None:
        self._debug("delete", f"{len(refs)} object(s)")
        with self.mapped_errors():
            for ref in refs:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path(ref))


def make_remote(name: str, spec: RemoteURL, options: Mapping[str, Any], *, ignored: Collection[str] = ()) -> Remote:
    """The right ``Remote`` for a URL: ``LocalRemote`` for local paths, fsspec otherwise."""
    cls = LocalRemote if spec.backend is FILE else Remote
    return cls(name, spec, options, ignored=ignored)
