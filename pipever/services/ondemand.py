"""Single objects on demand, for ``pipever.api``: download one missing object from a remote into
the cache (verified as every download is), and the URL of an object on a remote.

The remote is the one named, else the out's own ``remote:``, else the default remote.
"""

from __future__ import annotations

from pipever.errors import ObjectNotFoundError, RemoteError, RemoteNotFoundError
from pipever.objects.odb import ObjectRef
from pipever.objects.oid import Oid
from pipever.services import cloud
from pipever.remote.url import is_local
from pipever.context import RepoContext


def ensure_object(repo: RepoContext, oid: Oid, *, is_dir: bool = False, remote: str | None = None,
                  path: str | None = None) -> None:
    """Make sure the cache holds ``oid``, downloading it from the remote when it does not."""
    if repo.odb.exists(oid, is_dir=is_dir):
        return
    ref = ObjectRef(oid, is_dir)
    try:
        rem = cloud.open_remote(repo, remote)
    except RemoteNotFoundError as exc:
        if exc.name is not None:  # a remote was named but does not exist: say so
            raise
        raise ObjectNotFoundError(str(oid), path) from exc  # no remote at all to download from
    try:
        if not rem.exists(ref):
            raise ObjectNotFoundError(str(oid), path)
        rem.download(ref, repo.odb)
    finally:
        rem.close()


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
