"""Single objects on demand, for ``pipever.api``: download one missing object from a remote into
the cache (verified as every download is), stream one from a remote without a cache copy
(``open_object``), and the URL of an object on a remote.

The remote is the one named, else the out's own ``remote:``, else the default remote.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pipever.errors import ObjectNotFoundError, RemoteError, RemoteNotFoundError
from pipever.objects.odb import ObjectRef
from pipever.objects.oid import Oid
from pipever.services import cloud
from pipever.remote.url import is_local
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.remote.base import Remote


def ensure_object(repo: RepoContext, oid: Oid, *, is_dir: bool = False, remote: str | None = None,
                  path: str | None = None) -> None:
    """Make sure the cache holds ``oid``, downloading it from the remote when it does not."""
    if repo.odb.exists(oid, is_dir=is_dir):
        return
    ref = ObjectRef(oid, is_dir)
    rem = _remote_for(repo, oid, remote, path)
    try:
        if not rem.existing([ref]):  # in a pack or loose
            raise ObjectNotFoundError(str(oid), path)
        rem.download(ref, repo.odb)
    finally:
        rem.close()


def open_object(repo: RepoContext, oid: Oid, *, remote: str | None = None, path: str | None = None) -> io.RawIOBase | None:
    """File object ``oid`` for reading: None when the cache holds it (or now does: a small
    object, from a pack or loose, is downloaded into the cache, verified); else an unbuffered
    reader that streams it from the remote with no cache copy (a chunked file, chunk by chunk,
    each verified before it is handed out; a big loose object, checked at its end; see
    ``pipever.remote.stream``). ``ObjectNotFoundError`` when the remote does not have it."""
    from pipever.remote import chunkfetch, stream

    if repo.odb.exists(oid):
        return None
    ref = ObjectRef(oid, False)
    rem = _remote_for(repo, oid, remote, path)
    try:
        store = rem.packs
        if store.chunked(ref):
            chunks = stream.chunk_list(store, oid, path=path)
            pieces = stream.chunked_pieces(store, oid, chunks, chunkfetch.local_chunks(store, repo.odb), path=path)
            return stream.PieceReader(pieces, rem.close)
        if store.locations(ref):
            rem.download(ref, repo.odb)
        elif store.may_have_loose and rem.existing_loose([ref]):
            opened = stream.open_loose(rem, ref, repo.odb, path=path)
            if opened is not None:
                pieces, close_file = opened

                def close() -> None:
                    try:
                        close_file()
                    finally:
                        rem.close()

                return stream.PieceReader(pieces, close)
        else:
            raise ObjectNotFoundError(str(oid), path)
    except BaseException:
        rem.close()
        raise
    rem.close()
    return None


def _remote_for(repo: RepoContext, oid: Oid, remote: str | None, path: str | None) -> Remote:
    try:
        return cloud.open_remote(repo, remote)
    except RemoteNotFoundError as exc:
        if exc.name is not None:  # a remote was named but does not exist: say so
            raise
        raise ObjectNotFoundError(str(oid), path) from exc  # no remote at all to download from


def object_url(repo: RepoContext, oid: Oid, *, is_dir: bool = False, remote: str | None = None) -> str:
    """Where ``oid`` is (or would be) on the remote: its configured URL plus the object's path;
    an absolute path for a remote on this machine."""
    rem = cloud.open_remote(repo, remote)
    ref = ObjectRef(oid, is_dir)
    try:
        if is_local(rem.spec.url):
            return rem.path(ref)
        if not rem.spec.url.strip():
            raise RemoteError(f"remote '{rem.name}' has no URL", hint=f"set it with 'pv remote modify {rem.name} url URL'")
        return rem.spec.url.rstrip("/") + "/" + ref.relpath
    finally:
        rem.close()
