"""``Remote``: one remote over an fsspec filesystem, in the cache's layout.

Objects live at ``<root>/blake3/xx/<62 hex>[.dir]``, as in the cache. Every method maps foreign
errors to pipever errors naming the remote (see ``failures``). What a remote holds is decided in
bulk: by listing the ``blake3/xx`` prefixes the objects fall in, or by one existence check per
object, whichever needs fewer requests (estimated from the size of one listed prefix).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pipever.concurrency import steady_malloc
from pipever.errors import CorruptObjectError, PvError, RemoteError
from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects.oid import ALGO, oid_from_relpath
from pipever.remote import chunkfetch, failures, options as opt, packfmt
from pipever.remote.host import map_concurrently
from pipever.remote.packs import PackStore
from pipever.remote.url import RemoteURL, mask_url, require_backend

log = logging.getLogger("pipever.remote")  # one line per request with -v
# where a transfer thread reports the bytes of the object it moves (byte-level progress)
ON_BYTES: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar("pv_on_bytes", default=None)

T = TypeVar("T")
TMP_SUFFIX = ".pvtmp"


class Remote:
    def __init__(self, name: str, spec: RemoteURL, options: Mapping[str, Any], *, ignored: Collection[str] = ()) -> None:
        self.name = name
        self.spec = spec
        self.options = dict(options)
        self.ignored_options = sorted(ignored)  # committed options that were not honoured
        self.root = spec.root
        self.redact = failures.Redactor(opt.secret_values(options))
        self._fs: Any = None
        self._fs_lock = threading.Lock()
        self._made_dirs: set[str] = set()
        self.index_cache: Path | None = None  # where read pack indexes are kept (.pv/tmp/remotes/..)
        self.chunk_dir: Path | None = None  # the local chunk index (.pv/tmp/chunks)
        self._packs: PackStore | None = None
        steady_malloc()  # data will move in big buffers: keep them from settling in the heap

    # -- identity ------------------------------------------------------------------------------
    @property
    def display(self) -> str:
        return self.spec.display

    @property
    def jobs(self) -> int:
        value = self.options.get("jobs")
        try:
            n = int(value) if value is not None else 0
        except (TypeError, ValueError):
            n = 0
        return n if n > 0 else self.spec.backend.default_jobs

    @property
    def writable(self) -> bool:
        return self.spec.backend.writable

    # -- storage layout (pv's own options) ---------------------------------------------------------
    @property
    def packed(self) -> bool:
        """Whether new objects are written into packs (``layout: packed``, the default)."""
        return opt.layout(self.name, self.options) == packfmt.PACKED

    @property
    def pack_threshold(self) -> int:
        return opt.size(self.name, self.options, "pack_threshold", packfmt.DEFAULT_THRESHOLD)

    @property
    def pack_size(self) -> int:
        return opt.size(self.name, self.options, "pack_size", packfmt.DEFAULT_PACK_SIZE)

    @property
    def packs(self) -> PackStore:
        """The remote's packs and indexes (read on first use; loose objects are read as well)."""
        if self._packs is None:
            with self._fs_lock:
                if self._packs is None:
                    self._packs = PackStore(self, self.index_cache)
        return self._packs

    def __repr__(self) -> str:
        return f"Remote({self.name!r}, {self.display!r})"

    # -- the filesystem ------------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        if self._fs is None:
            with self._fs_lock:
                if self._fs is None:
                    self._fs = self._open()
        return self._fs

    def _open(self) -> Any:
        require_backend(self.spec)
        kwargs = opt.fs_kwargs(self.spec, self.options)
        try:
            import fsspec

            if self.spec.backend.protocol == "ssh":
                from sshfs import SSHFileSystem

                return SSHFileSystem(**kwargs)
            fs = fsspec.filesystem(self.spec.backend.protocol, **kwargs)
            if self.spec.backend.protocol == "s3":  # s3fs's own retry loop, on top of botocore's
                fs.retries = int(opt.number(self.options, "retries", opt.RETRIES))
            return fs
        except TypeError as exc:
            raise RemoteError(
                f"remote '{self.name}' has an option its backend does not accept: {self.redact(str(exc))}",
                hint=f"see 'pv remote list' and remove it with 'pv remote modify --unset {self.name} OPTION'",
            ) from exc
        except ImportError as exc:
            from pipever.errors import MissingExtraError

            extra = self.spec.backend.extra or self.spec.scheme
            raise MissingExtraError(self.spec.scheme, extra) from exc
        except Exception as exc:  # noqa: BLE001 - mapped to a RemoteError naming the remote
            raise self.error(exc) from exc

    def error(self, exc: BaseException) -> PvError:
        return failures.translate(exc, remote=self.name, where=self.display, redact=self.redact)

    @contextlib.contextmanager
    def mapped_errors(self) -> Iterator[None]:
        try:
            yield
        except PvError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped here, where fsspec is used
            raise self.error(exc) from exc

    def _listing_error(self, exc: FileNotFoundError) -> PvError:
        """A prefix listing of an object store is never 'not found' (an empty prefix lists as
        nothing): the bucket is missing, or the endpoint is not the object store it should be."""
        err = self.error(exc)
        if not isinstance(err, failures.ObjectMissingError):
            return err
        return failures.RemoteUnavailableError(
            f"remote '{self.name}' ({self.display}) cannot list its objects: {failures.reason(exc, self.redact)}",
            hint="check its URL and 'endpoint_url' ('pv remote list')",
        )

    def close(self) -> None:
        self._fs = None

    def _debug(self, verb: str, what: object) -> None:
        """One ``-v`` log line per request, with secrets and URL passwords masked."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s %s", self.name, verb, mask_url(self.redact(str(what))))

    # -- naming --------------------------------------------------------------------------------
    def path(self, ref: ObjectRef) -> str:
        return f"{self.root}/{ref.relpath}" if self.root not in ("", "/") else f"{self.root}{ref.relpath}"

    def _shard_dir(self, shard: str) -> str:
        return f"{self.root}/{ALGO}/{shard}" if self.root not in ("", "/") else f"{self.root}{ALGO}/{shard}"

    # -- what is there -------------------------------------------------------------------------
    def list_shard(self, shard: str) -> set[str]:
        """Names (``<62 hex>[.dir]``) of the objects in one ``blake3/xx`` prefix."""
        path = self._shard_dir(shard)
        self._debug("list", path)
        with self.mapped_errors():
            if self.spec.backend.page_size is None:  # a directory: read it in one go
                try:
                    entries = self.fs.ls(path, detail=False)
                except (FileNotFoundError, NotADirectoryError):
                    return set()
            else:  # an object store: list keys under the prefix (empty prefix -> [])
                try:
                    entries = self.fs.find(path)
                except FileNotFoundError as exc:
                    raise self._listing_error(exc) from exc
        tail = f"{ALGO}/{shard}"
        names = set()
        for entry in entries:
            parent, _, name = str(entry).rstrip("/").rpartition("/")
            if parent.endswith(tail):
                names.add(name)
        return names

    def exists(self, ref: ObjectRef) -> bool:
        self._debug("exists", self.path(ref))
        with self.mapped_errors():
            return bool(self.fs.exists(self.path(ref)))

    def list_group(self, digit: str) -> dict[str, set[str]]:
        """Object names under ``blake3/<digit>*`` (16 shards in one paginated listing), by shard."""
        base = self._shard_dir("")[:-1]  # <root>/blake3/
        self._debug("list", f"{base}{digit}*")
        with self.mapped_errors():
            try:
                entries = self.fs.find(base.rstrip("/"), prefix=digit)
            except FileNotFoundError:
                entries = []
            except TypeError:  # a backend without prefix listing: its 16 shards one by one
                return {f"{digit}{d}": self.list_shard(f"{digit}{d}") for d in "0123456789abcdef"}
        found: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            parent, _, name = str(entry).rstrip("/").rpartition("/")
            shard = parent.rsplit("/", 1)[-1]
            if len(shard) == 2 and shard[0] == digit and parent.endswith(f"{ALGO}/{shard}"):
                found[shard].add(name)
        return found

    def existing(self, refs: Collection[ObjectRef], *, jobs: int | None = None) -> set[ObjectRef]:
        """Which of ``refs`` the remote has: those its pack indexes list (packs marked for
        deletion do not count), then, if the remote holds loose objects at all, loose ones."""
        if not refs:
            return set()
        store = self.packs
        found = {r for r in refs if store.has(r)}
        rest = [r for r in refs if r not in found]
        if rest and store.may_have_loose:
            found |= self.existing_loose(rest, jobs=jobs)
        return found

    def existing_loose(self, refs: Collection[ObjectRef], *, jobs: int | None = None) -> set[ObjectRef]:
        """Which of ``refs`` the remote has as loose objects, in as few requests as the estimate allows.

        One prefix is listed first; its size estimates the remote's. Then, whichever needs fewer
        requests: list the other prefixes the objects fall in (on object stores, 16 shards per
        listing: ``blake3/0*`` … ``blake3/f*``), or ask for each remaining object."""
        if not refs:
            return set()
        by_shard: dict[str, list[ObjectRef]] = defaultdict(list)
        for r in refs:
            by_shard[r.oid.hex[:2]].append(r)
        first = max(by_shard, key=lambda s: len(by_shard[s]))
        names = self.list_shard(first)  # also the sample that sizes the remote
        found = _hits(by_shard.pop(first), names)
        if not by_shard:
            return found
        rest = [r for group in by_shard.values() for r in group]
        workers = jobs or self.jobs
        page = self.spec.backend.page_size
        if page is None:  # directories: one listing per shard, whatever its size
            if len(by_shard) <= len(rest):
                shards = list(by_shard)
                for shard, listed in zip(shards, map_concurrently(self.list_shard, shards, jobs=workers)):
                    found |= _hits(by_shard[shard], listed)
                return found
        else:
            digits = sorted({s[0] for s in by_shard})
            pages = max(1, math.ceil(len(names) * 16 / page))
            if len(digits) * pages <= len(rest):
                for group in map_concurrently(self.list_group, digits, jobs=min(workers, 16)):
                    for shard, shard_names in group.items():
                        found |= _hits(by_shard.get(shard, ()), shard_names)
                return found
        flags = map_concurrently(self.exists, rest, jobs=workers)
        found.update(r for r, ok in zip(rest, flags) if ok)
        return found

    def iter_objects(self) -> Iterator[tuple[ObjectRef, str]]:
        """Every object on the remote (names that do not match the layout are skipped)."""
        base = self._shard_dir("")[:-1]  # <root>/blake3/
        with self.mapped_errors():
            try:
                found = self.fs.find(base.rstrip("/"))
            except FileNotFoundError:
                found = []
        cut = len(self.root.rstrip("/")) + 1 if self.root not in ("", "/") else len(self.root)
        for path in found:
            rel = str(path)[cut:]
            parsed = oid_from_relpath(rel)
            if parsed is not None:
                yield ObjectRef(*parsed), str(path)

    # -- transfer ------------------------------------------------------------------------------
    def _ensure_dir(self, shard: str) -> None:
        if self.spec.backend.page_size is not None or shard in self._made_dirs:
            return
        self.fs.makedirs(self._shard_dir(shard), exist_ok=True)
        self._made_dirs.add(shard)

    def upload(self, ref: ObjectRef, src: Path) -> None:
        """Put one cache object on the remote, through a temp name where renames are atomic;
        ``ON_BYTES`` hears of the bytes sent as they go, where the backend tells."""
        on_bytes = ON_BYTES.get()
        if not self.writable:
            raise RemoteError(f"remote '{self.name}' ({self.display}) is read-only", hint="push to another remote with -r")
        dst = self.path(ref)
        self._debug("put", dst)
        with self.mapped_errors():
            self._ensure_dir(ref.oid.hex[:2])
            extra: dict[str, Any] = {"callback": _bytes_callback(on_bytes)} if on_bytes is not None else {}
            if not self.spec.backend.atomic_move:
                self.fs.put_file(str(src), dst, **_PUT_KW.get(self.spec.backend.protocol, {}), **extra)
                return
            head, name = dst.rsplit("/", 1)
            tmp = f"{head}/.{name}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}"
            try:
                self.fs.put_file(str(src), tmp, **extra)
                self.fs.mv(tmp, dst)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.fs.rm_file(tmp)
                raise

    def download(self, ref: ObjectRef, odb: ObjectDB, *, size: int | None = None) -> None:
        """Fetch one object into the cache; its hash is checked before it enters the cache, and a
        corrupt download is dropped (CorruptObjectError naming the oid and this remote). From a
        pack when an index lists it, else the loose object."""
        if not chunkfetch.download_one(self.packs, ref, odb):
            self.download_loose(ref, odb, size=size)

    def read_bytes(self, ref: ObjectRef) -> bytes:
        """An object's bytes, verified when read from a pack (loose ones are returned as stored)."""
        if self.packs.locations(ref):
            return self.packs.read_object(ref)
        return self.read_loose(ref)

    def download_loose(self, ref: ObjectRef, odb: ObjectDB, *, size: int | None = None) -> None:
        """Fetch one loose object. A small object of known ``size`` is fetched into memory, at
        most ``size + 1`` bytes of it."""
        self._debug("get", self.path(ref))
        if size is not None and size <= SMALL_OBJECT and not ref.is_dir:
            with self.mapped_errors():
                data = bytes(self.fs.cat_file(self.path(ref), start=0, end=size + 1))
            if len(data) <= size:  # else the recorded size is wrong: stream it, the hash decides
                insert_bytes(odb, ref, data, remote=self.name)
                return
        tmp = odb.tmp_path_for(ref.oid, is_dir=ref.is_dir)
        try:
            with self.mapped_errors():
                on_bytes = ON_BYTES.get()
                extra: dict[str, Any] = {"callback": _bytes_callback(on_bytes)} if on_bytes is not None else {}
                self.fs.get_file(self.path(ref), str(tmp), **_GET_KW.get(self.spec.backend.protocol, {}), **extra)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        insert_file(odb, ref, tmp, remote=self.name)

    def open_loose(self, ref: ObjectRef, *, block_size: int = 1 << 20) -> Any:
        """A loose object opened for streaming (read-ahead of at most ``block_size`` bytes)."""
        self._debug("open", self.path(ref))
        with self.mapped_errors():
            try:
                return self.fs.open(self.path(ref), "rb", block_size=block_size)
            except TypeError:  # a backend without block sizes
                return self.fs.open(self.path(ref), "rb")

    def read_loose(self, ref: ObjectRef) -> bytes:
        self._debug("get", self.path(ref))
        with self.mapped_errors():
            return bytes(self.fs.cat_file(self.path(ref)))

    # -- pv's own files (pv-remote.yaml, packs/): paths relative to the root -----------------
    def file_path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if self.root not in ("", "/") else f"{self.root}{rel}"

    def list_dir(self, rel: str) -> dict[str, float | None]:
        """Names in a folder of the remote with their modification times (epoch seconds, None
        when the backend does not say); {} for a folder that does not exist."""
        self._debug("list", self.file_path(rel))
        with self.mapped_errors():
            try:
                entries = self.fs.ls(self.file_path(rel).rstrip("/") or "/", detail=True)
            except (FileNotFoundError, NotADirectoryError) as exc:
                text = str(exc).lower()
                if "bucket does not exist" in text or "nosuchbucket" in text:  # not a missing prefix
                    raise self.error(exc) from exc
                if self.spec.backend.page_size is not None and isinstance(exc, FileNotFoundError) \
                        and (exc.__cause__ is not None or exc.__context__ is not None):
                    # the object store answered 'Not Found' to a listing (an empty prefix lists as
                    # nothing, with no server error behind it): not the store it should be
                    raise self._listing_error(exc) from exc
                return {}
        out: dict[str, float | None] = {}
        for e in entries:
            name = str(e.get("name", "")).rstrip("/").rsplit("/", 1)[-1]
            if name:
                out[name] = _mtime(e)
        return out

    def read_file(self, rel: str) -> bytes:
        self._debug("get", self.file_path(rel))
        with self.mapped_errors():  # one GET (s3fs otherwise asks for the size first)
            return bytes(self.fs.cat_file(self.file_path(rel), **_GET_KW.get(self.spec.backend.protocol, {})))

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        self._debug("get", f"{self.file_path(rel)} bytes {start}-{end - 1}")
        with self.mapped_errors():
            data = bytes(self.fs.cat_file(self.file_path(rel), start=start, end=end))
        if len(data) > end - start:  # an HTTP server that ignores Range sends the whole file
            data = data[start:end]
        return data

    def write_file(self, rel: str, data: bytes) -> None:
        """Write a small file whole (a single request where the backend allows)."""
        self.write_stream(rel, [data])

    def write_stream(self, rel: str, chunks: Iterable[bytes], *, part_size: int | None = None) -> None:
        """Stream ``chunks`` into a new file that appears only once complete: a temp name and a
        rename where renames are atomic, else an upload that is committed at the end (and
        aborted when ``chunks`` fails). ``part_size``: the upload part size on object stores
        (what the client buffers) instead of the default."""
        self._debug("put", self.file_path(rel))
        if not self.writable:
            raise RemoteError(f"remote '{self.name}' ({self.display}) is read-only", hint="push to another remote with -r")
        dst = self.file_path(rel)
        head, name = dst.rsplit("/", 1)
        with self.mapped_errors():
            if self.spec.backend.page_size is None:
                self.fs.makedirs(head, exist_ok=True)
            target = f"{head}/.{name}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}" if self.spec.backend.atomic_move else dst
            kw = dict(_OPEN_KW.get(self.spec.backend.protocol, {}))
            if part_size is not None and "block_size" in kw:
                kw["block_size"] = part_size
            f = self.fs.open(target, "wb", **kw)
            try:
                for chunk in chunks:
                    f.write(chunk)
            except BaseException:
                discard = getattr(f, "discard", None)
                with contextlib.suppress(Exception):
                    if callable(discard):
                        discard()  # s3fs: abort the multipart upload; nothing becomes visible
                        f.closed = True  # (else closing it later would commit what was buffered)
                    else:
                        f.close()
                if target != dst:
                    with contextlib.suppress(Exception):
                        self.fs.rm_file(target)
                raise
            f.close()
            if target != dst:
                try:
                    self.fs.mv(target, dst)
                except BaseException:
                    with contextlib.suppress(Exception):
                        self.fs.rm_file(target)
                    raise

    def remove_file(self, rel: str) -> None:
        with self.mapped_errors(), contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.file_path(rel))

    def move_file(self, src: str, dst: str) -> None:
        """Rename within the remote (object stores: a server-side copy, then a delete)."""
        with self.mapped_errors():
            if self.spec.backend.page_size is None:
                self.fs.makedirs(self.file_path(dst).rsplit("/", 1)[0], exist_ok=True)
            self.fs.mv(self.file_path(src), self.file_path(dst))

    def delete(self, refs: list[ObjectRef]) -> None:
        """Delete objects (a batch request on object stores, one by one elsewhere)."""
        paths = [self.path(r) for r in refs]
        self._debug("delete", f"{len(paths)} object(s)")
        with self.mapped_errors():
            if self.spec.backend.page_size is not None and len(paths) > 1:
                self.fs.rm(paths)
            else:
                for p in paths:
                    with contextlib.suppress(FileNotFoundError):
                        self.fs.rm_file(p)


SMALL_OBJECT = 4 << 20  # objects up to this size are downloaded into memory


def _bytes_callback(on_bytes: Callable[[int], None]) -> Any:
    """An fsspec callback that passes each chunk's size on (byte-level progress of big files)."""
    from fsspec.callbacks import Callback

    class _Bytes(Callback):  # type: ignore[misc]  # fsspec is untyped
        reported = 0

        def relative_update(self, inc: int = 1) -> None:
            self.reported += inc
            on_bytes(inc)

        def absolute_update(self, value: int) -> None:
            if value > self.reported:
                on_bytes(value - self.reported)
                self.reported = value

    return _Bytes()

# bounded memory for large objects: s3fs otherwise holds 10 parts of 50 MiB (and copies of them)
# in memory per file; a 1 GiB transfer then peaks at ~1.1 GB RSS, with these at ~60-130 MB
_PUT_KW: dict[str, dict[str, int]] = {"s3": {"chunksize": 16 << 20, "max_concurrency": 2}}
_GET_KW: dict[str, dict[str, int]] = {"s3": {"max_concurrency": 1}}  # one streamed GET
# streamed pack uploads: parts of 5 MiB, the least S3 takes (a 64 MiB pack is 15 requests; fsspec,
# s3fs and aiohttp each hold a copy of the part in flight, so a bigger part costs three times its size)
_OPEN_KW: dict[str, dict[str, int]] = {"s3": {"block_size": 5 << 20}}


def _mtime(entry: Mapping[str, Any]) -> float | None:
    for key in ("LastModified", "mtime", "last_modified", "modified", "created"):
        v = entry.get(key)
        if v is None:
            continue
        if hasattr(v, "timestamp"):
            return float(v.timestamp())
        try:
            return float(v)
        except (TypeError, ValueError):
            continue
    return None


def insert_bytes(odb: ObjectDB, ref: ObjectRef, data: bytes, *, remote: str) -> None:
    """Put downloaded bytes into the cache if they hash to ``ref``'s oid."""
    if hash_bytes(data) != ref.oid:
        raise CorruptObjectError(str(ref.oid), where=f"remote '{remote}'")
    odb.add_bytes(data, is_dir=ref.is_dir)


def insert_file(odb: ObjectDB, ref: ObjectRef, tmp: Path, *, remote: str) -> None:
    """Move a downloaded temp file into the cache if it hashes to ``ref``'s oid (else it is deleted)."""
    try:
        odb.insert_verified(tmp, ref.oid, is_dir=ref.is_dir)
    except CorruptObjectError as exc:
        raise CorruptObjectError(str(ref.oid), where=f"remote '{remote}'") from exc


def _hits(refs: Iterable[ObjectRef], names: set[str]) -> set[ObjectRef]:
    """The refs whose object name (``<62 hex>[.dir]``) is among ``names``."""
    return {r for r in refs if (r.oid.hex[2:] + ".dir" if r.is_dir else r.oid.hex[2:]) in names}
