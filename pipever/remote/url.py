"""Remote URLs: which fsspec protocol serves a scheme, and which pip extra installs it.

Pure: parsing does not import any backend. ``require_backend`` checks (cheaply, with
``importlib.util.find_spec``) that the backend is installed and names the extra otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from pipever.errors import MissingExtraError, RemoteError


@dataclass(frozen=True)
class Backend:
    protocol: str  # the fsspec protocol name
    module: str | None  # the module that implements it (None: built into fsspec)
    extra: str | None  # pipever extra that installs it
    package: str | None = None  # pip package, for backends without an extra
    writable: bool = True
    atomic_move: bool = False  # a rename within the remote is atomic and cheap
    default_jobs: int = 16
    page_size: int | None = None  # keys per listing request (None: a directory reads in one go)


FILE = Backend("file", None, None, atomic_move=True, default_jobs=8)
S3 = Backend("s3", "s3fs", "s3", default_jobs=32, page_size=1000)
SSH = Backend("ssh", "sshfs", "ssh", atomic_move=True, default_jobs=8)
AZURE = Backend("az", "adlfs", "azure", default_jobs=32, page_size=5000)
GCS = Backend("gcs", "gcsfs", "gcs", default_jobs=32, page_size=1000)
WEBDAV = Backend("webdav", "webdav4", None, package="webdav4", default_jobs=16)
HTTP = Backend("http", "aiohttp", None, package="aiohttp", writable=False, default_jobs=16)
HDFS = Backend("hdfs", "pyarrow", None, package="pyarrow", atomic_move=True, default_jobs=8)

SCHEMES: dict[str, Backend] = {
    "file": FILE,
    "s3": S3,
    "ssh": SSH,
    "sftp": SSH,
    "azure": AZURE,
    "az": AZURE,
    "gs": GCS,
    "gcs": GCS,
    "webdav": WEBDAV,
    "webdavs": WEBDAV,
    "http": HTTP,
    "https": HTTP,
    "hdfs": HDFS,
}

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


@dataclass(frozen=True)
class RemoteURL:
    url: str  # as configured
    scheme: str
    backend: Backend
    root: str  # the remote's root as a path of the fsspec filesystem (no trailing '/')
    url_options: dict[str, object] = field(default_factory=dict)  # host, username, port, ...

    @property
    def display(self) -> str:
        """The URL with any password in it masked."""
        return mask_url(self.url)


def is_local(url: str) -> bool:
    return _SCHEME.match(url) is None or url.lower().startswith("file://")


def parse(url: str, *, base_dir: str | None = None) -> RemoteURL:
    """Parse a remote URL; a relative local path is taken relative to ``base_dir`` (the root of
    the repository whose config holds the URL), and may not lead into its ``.git`` or ``.pv``."""
    if not isinstance(url, str) or not url.strip():
        raise RemoteError("a remote needs a URL", hint="e.g. 's3://bucket/path' or '/mnt/storage'")
    m = _SCHEME.match(url)
    if m is None:  # a plain local path
        path = os.path.expanduser(url)
        if not os.path.isabs(path):
            path = os.path.join(base_dir or os.getcwd(), path)
        _check_outside_repo_dirs(url, path, base_dir)
        return RemoteURL(url, "file", FILE, _posix_root(os.path.normpath(path)))
    scheme = m.group(1).lower()
    backend = SCHEMES.get(scheme)
    if backend is None:
        raise RemoteError(
            f"unsupported remote URL scheme '{scheme}' in '{mask_url(url)}'",
            hint="use a local path or one of " + ", ".join(f"{s}://" for s in sorted(SCHEMES)),
        )
    try:
        return _parse_url(url, scheme, backend, base_dir)
    except ValueError as exc:  # urllib: a bad IPv6 host, a port that is no number or out of range
        raise RemoteError(f"invalid remote URL '{mask_url(url)}': {exc}",
                          hint="check the URL, e.g. 's3://bucket/path' or '/mnt/storage'") from exc


def _parse_url(url: str, scheme: str, backend: Backend, base_dir: str | None) -> RemoteURL:
    parts = urlsplit(url)
    if backend is FILE:
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost"):
            raise RemoteError(f"'{url}' names a host; file:// URLs are local paths", hint="write file:///absolute/path")
        _check_outside_repo_dirs(url, path, base_dir)
        return RemoteURL(url, scheme, FILE, _posix_root(os.path.normpath(path)))
    if backend is SSH:
        if not parts.hostname:
            raise RemoteError(f"'{mask_url(url)}' has no host", hint="write ssh://[user@]host[:port]/path")
        opts: dict[str, object] = {"host": parts.hostname}
        if parts.username:
            opts["username"] = unquote(parts.username)
        if parts.port:
            opts["port"] = parts.port
        path = unquote(parts.path) or "."
        return RemoteURL(url, scheme, SSH, _posix_root(path), opts)
    if backend in (WEBDAV, HTTP):
        real = "https" if scheme in ("https", "webdavs") else "http"
        base = f"{real}://{parts.netloc}{parts.path}".rstrip("/")
        if backend is WEBDAV:
            return RemoteURL(url, scheme, WEBDAV, "", {"base_url": base})
        return RemoteURL(url, scheme, HTTP, base)
    if backend is HDFS:
        opts = {"host": parts.hostname or "default"}
        if parts.port:
            opts["port"] = parts.port
        if parts.username:
            opts["user"] = unquote(parts.username)
        return RemoteURL(url, scheme, HDFS, _posix_root(unquote(parts.path) or "/"), opts)
    # bucket-style object stores: s3://bucket/prefix, gs://, azure://container/prefix
    if not parts.netloc:
        raise RemoteError(f"'{mask_url(url)}' has no bucket", hint=f"write {scheme}://BUCKET/optional/prefix")
    root = (parts.netloc + "/" + unquote(parts.path).strip("/")).rstrip("/")
    return RemoteURL(url, scheme, backend, root)


def _check_outside_repo_dirs(url: str, path: str, base_dir: str | None) -> None:
    """A local remote inside the repository's ``.git`` or ``.pv`` (a URL from a commit can say
    so) would make push write into Git's or pipever's own files and ``gc --cloud`` delete from
    them: refused, lexically and with symlinks resolved."""
    if base_dir is None:
        return
    for where, root in ((os.path.normpath(os.path.abspath(path)), os.path.abspath(base_dir)),
                        (os.path.realpath(path), os.path.realpath(base_dir))):
        top = os.path.relpath(where, root).split(os.sep)[0]
        if top.lower() in (".git", ".pv"):
            raise RemoteError(
                f"remote URL '{mask_url(url)}' points into the repository's '{top}' directory",
                hint="keep a local remote outside .git and .pv, e.g. '../storage'",
            )


def _posix_root(path: str) -> str:
    p = path.replace(os.sep, "/")
    return p.rstrip("/") or "/"


def require_backend(spec: RemoteURL) -> None:
    """MissingExtraError (or a RemoteError naming the package) when the backend is not installed."""
    module = spec.backend.module
    if module is None or _installed(module):
        return
    if spec.backend.extra is not None:
        raise MissingExtraError(spec.scheme, spec.backend.extra)
    raise RemoteError(
        f"the '{spec.scheme}' remote support is not installed",
        hint=f"run pip install {spec.backend.package}",
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@:]*):([^/@]*)@")


def mask_url(url: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://user:******@host``."""
    return _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:******@", url)
