"""The Python API of SPEC §12: read tracked data from programs.

>>> import pipever.api
>>> with pipever.api.open("data/train.csv") as f:          # the workspace
...     header = f.readline()
>>> model = pipever.api.read("model.pkl", rev="v1.0", mode="rb")  # a Git revision

Paths are relative to the repository root. With ``rev=None`` the workspace is read: the file on
disk when it is there, otherwise the object its pointer records. With a revision (a branch, tag or
commit) the pointer is read from Git objects, without checking anything out, and the data comes
from the cache. An object missing there comes from the remote: a small one (in a pack, or a loose
object up to 4 MiB) is downloaded, verified, into the cache; a big one streams from the remote
and nothing is written into the cache (like ``dvc.api.open``). A big file stored as chunks is
fetched in windows of chunks as the caller reads (a small first one, then a few of 4 MiB ahead:
memory does not grow with the file, closing early stops fetching), chunks that cached versions already hold are read locally, and every chunk is
verified before any of its bytes is returned; at the end the whole file's hash is checked too
(``CorruptObjectError`` naming the file: a wrong chunk list). A big loose object is hashed as it
streams and a mismatch raises at its end. Streams from a remote are not seekable.
``repo`` may also be a Git URL of another pv repository. Files inside tracked directories work, and
so do plain files Git tracks at that revision (e.g. ``params.yaml``). Objects read from the cache are verified against their oid as they
are streamed: reading to the end of a corrupt object raises ``CorruptObjectError``.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from pipever.errors import CorruptObjectError, ManifestError, ObjectNotFoundError, PvError, TargetError
from pipever.objects.oid import Oid
from pipever.paths import check_relpath, is_inside, to_repo_path
from pipever.context import RepoContext
from pipever.repo import Repo

__all__ = ["open", "read"]


@contextlib.contextmanager
def open(  # noqa: A001 - the SPEC's name, like dvc.api.open
    path: str, repo: str | None = None, rev: str | None = None, remote: str | None = None,
    mode: str = "r", encoding: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a tracked file for reading, streaming it (nothing is loaded whole).

    ``repo`` is a local pipever repository (default: the one around the current directory) or a
    Git URL of one (cloned to a temp directory, read at ``rev`` or its default branch),
    ``rev`` a Git revision (default: the workspace), ``mode`` ``"r"`` (text, with ``encoding``)
    or ``"rb"``. An object missing from the cache is read from ``remote``, else the out's own
    remote, else the default remote (small ones are downloaded, verified, into the cache; big ones
    stream, verified, with no cache copy; see the module's docstring); ``ObjectNotFoundError``
    if none has it.

    >>> with open("data/raw.csv", repo="https://github.com/org/registry", rev="v2") as f:
    ...     header = f.readline()

    >>> with open("data/raw.csv", rev="HEAD~1") as f:
    ...     rows = sum(1 for _ in f)
    """
    if mode not in ("r", "rt", "rb"):
        raise ValueError(f"pipever.api.open only reads: mode must be 'r' or 'rb', not {mode!r}")
    with _open_repo(repo, rev=rev, remote_ok=True) as r:
        raw = _open_binary(r, _repo_rel(r, path), rev, remote)
        try:
            if mode == "rb":
                yield raw
            else:
                with io.TextIOWrapper(raw, encoding=encoding) as text:
                    yield text
        finally:
            raw.close()


def read(
    path: str, repo: str | None = None, rev: str | None = None, remote: str | None = None,
    mode: str = "r", encoding: str | None = None,
) -> Any:
    """The whole content of a tracked file: ``str`` (mode ``"r"``) or ``bytes`` (``"rb"``).

    >>> params = read("params.yaml", rev="main")
    >>> blob = read("images/cat.png", mode="rb")
    """
    with open(path, repo=repo, rev=rev, remote=remote, mode=mode, encoding=encoding) as f:
        return f.read()


def get_url(path: str, repo: str | None = None, rev: str | None = None, remote: str | None = None) -> str:
    """The URL of the object holding ``path`` on the remote (``remote``, else the out's own, else
    the default one): the remote's URL plus the object's path, or an absolute path for a remote
    on this machine. A tracked directory gives its manifest's URL. Nothing is downloaded, except
    a directory's manifest to find a file inside it.

    >>> get_url("model.pkl", rev="v1.0")
    's3://bucket/store/blake3/9f/8a…'
    """
    from pipever.services.ondemand import object_url
    from pipever.services.used import outs_at_rev, outs_in_workspace

    with _open_repo(repo, rev=rev, remote_ok=True) as r:
        rel = _repo_rel(r, path)
        outs = outs_at_rev(r, r.git.resolve(rev)) if rev is not None else outs_in_workspace(r)
        for out in outs:
            if is_inside(rel, out.rel):
                name = remote or out.remote
                if rel == out.rel:
                    return object_url(r, out.oid, is_dir=out.is_dir, remote=name)
                return object_url(r, _object_for(r, rel, out.rel, out.oid, out.is_dir, name), remote=name)
    raise TargetError(f"'{rel}' is not tracked by pipever" + (f" at '{rev}'" if rev else ""),
                      hint="get_url() names data in the cache and on remotes; read Git files with read()")


__all__ += ["get_url"]


def _is_url(repo: str) -> bool:
    from pipever.gitclone import is_local

    return "://" in repo or not is_local(repo)


@contextlib.contextmanager
def _open_repo(repo: str | None, *, rev: str | None = None, remote_ok: bool = False) -> Iterator[RepoContext]:
    """The repository to read: around the cwd, at a local path, or (``remote_ok``) a Git URL
    cloned at ``rev`` into a temp directory for the duration."""
    if repo is not None and _is_url(repo):
        if not remote_ok:
            raise PvError(f"cannot read from '{repo}': only local repositories are supported", hint="clone it and pass the local path")
        from pipever.commands.repos.extrepo import open_external

        with open_external(repo, rev=rev, checkout=rev is None) as ext:  # rev=None reads its workspace
            yield ext.repo
        return
    r = Repo(repo)
    try:
        yield r
    finally:
        r.close()


def _repo_rel(r: RepoContext, path: str) -> str:
    if os.path.isabs(path):
        return to_repo_path(r.root, path)
    return check_relpath(path.replace(os.sep, "/"))


def _open_binary(r: RepoContext, rel: str, rev: str | None, remote: str | None) -> BinaryIO:
    if rev is None:
        fs = r.workspace.stat_file(rel) if not (r.root / rel).is_dir() else None
        if fs is not None:
            return builtins.open(r.root / rel, "rb")
        if (r.root / rel).is_dir():
            raise TargetError(f"'{rel}' is a directory", hint="open a file inside it")
        from pipever.services.used import outs_in_workspace

        outs = outs_in_workspace(r)
        where = "the workspace"
    else:
        from pipever.services.used import outs_at_rev

        sha = r.git.resolve(rev)
        outs = outs_at_rev(r, sha)
        where = f"'{rev}'"
    for out in outs:
        if is_inside(rel, out.rel):
            name = remote or out.remote
            return _open_object(r, _object_for(r, rel, out.rel, out.oid, out.is_dir, name), rel, name)
    if rev is not None:
        data = r.git.read_file(sha, rel)
        if data is not None:
            return io.BytesIO(data)
    raise TargetError(f"'{rel}' does not exist in {where}", hint="check the path (relative to the repository root)")


def _object_for(r: RepoContext, rel: str, out_rel: str, oid: Oid, is_dir: bool, remote: str | None) -> Oid:
    if not is_dir:
        return oid
    if rel == out_rel:
        raise TargetError(f"'{rel}' is a directory", hint="open a file inside it")
    from pipever.services.ondemand import ensure_object

    ensure_object(r, oid, is_dir=True, remote=remote, path=out_rel)
    try:
        entries = r.odb.read_manifest(oid).by_path()
    except ManifestError as exc:
        raise ManifestError(f"'{out_rel}' ({oid})", exc.problem) from exc
    sub = rel[len(out_rel) + 1:]
    if sub in entries:
        return entries[sub].oid
    if any(p.startswith(sub + "/") for p in entries):
        raise TargetError(f"'{rel}' is a directory", hint="open a file inside it")
    raise TargetError(f"'{rel}' is not in the tracked directory '{out_rel}'", hint="check the path")


def _open_object(r: RepoContext, oid: Oid, rel: str, remote: str | None) -> BinaryIO:
    """The cache object when the cache has it (small objects are downloaded into it first);
    else a stream from the remote that writes nothing into the cache (SPEC §4.1, §12)."""
    from pipever.services.ondemand import open_object

    streamed = open_object(r, oid, remote=remote, path=rel)
    if streamed is not None:
        return io.BufferedReader(streamed, buffer_size=_STREAM_BUFFER)
    try:
        f = builtins.open(r.odb.path(oid), "rb", buffering=0)
    except FileNotFoundError:
        raise ObjectNotFoundError(str(oid), rel) from None
    return io.BufferedReader(_Verifying(f, oid))


_STREAM_BUFFER = 64 << 10


class _Verifying(io.RawIOBase):
    """Reads a cache object, hashing what passes; at the end the digest must match the oid."""

    def __init__(self, f: io.FileIO, oid: Oid) -> None:
        from blake3 import blake3

        self._f = f
        self._oid = oid
        self._hash: Any = blake3()
        self._sequential = True

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        n = self._f.readinto(buf)
        if self._sequential:
            if n:
                self._hash.update(memoryview(buf)[:n])
            elif len(buf) and self._hash.hexdigest() != self._oid.hex:
                self._sequential = False
                raise CorruptObjectError(str(self._oid))
        return n

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR and offset == 0:
            return self._f.tell()
        pos = self._f.seek(offset, whence)
        self._sequential = pos == 0  # back at the start: follow the digest again
        if pos == 0:
            from blake3 import blake3

            self._hash = blake3()
        return pos

    def tell(self) -> int:
        return self._f.tell()

    def close(self) -> None:
        self._f.close()
        super().close()


# -- model registry (SPEC §10) ------------------------------------------------------------------
# One block owned by the model registry; the logic lives in ``pipever.commands.registry.model_get``.
__all__ += ["model_path", "open_model"]


def model_path(name: str, *, stage: str | None = None, version: str | None = None, repo: str | None = None) -> str:
    """Local path of a registered artifact version: the one in ``stage``, the given ``version``
    (``vX.Y.Z``), or the latest. Objects missing from the cache are fetched from the default remote.

    A pv-tracked file is returned as its read-only cache object (do not write to it); a directory,
    or a file Git tracks, is materialized once under ``.pv/tmp/models/``.

    >>> import pickle
    >>> with builtins.open(model_path("churn", stage="prod"), "rb") as f:
    ...     clf = pickle.load(f)
    """
    from pipever.commands.registry.model_get import model_path as resolve_path

    with _open_repo(repo) as r:
        return str(resolve_path(r, name, version=version, stage=stage))


@contextlib.contextmanager
def open_model(
    name: str, *, stage: str | None = None, version: str | None = None, repo: str | None = None,
    mode: str = "rb", encoding: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a registered model file for reading, e.g. ``open_model("churn", stage="prod")``.
    Bytes read from the cache are verified against their oid as they stream, as with ``open``."""
    if mode not in ("r", "rt", "rb"):
        raise ValueError(f"pipever.api.open_model only reads: mode must be 'r' or 'rb', not {mode!r}")
    path = model_path(name, stage=stage, version=version, repo=repo)
    if os.path.isdir(path):
        raise TargetError(f"artifact '{name}' is a directory ('{path}')", hint="use model_path() and open files inside it")
    with _open_repo(repo) as r:
        found = r.odb.oid_of_cache_path(os.path.realpath(path))
    raw: io.BufferedReader = (
        io.BufferedReader(_Verifying(builtins.open(path, "rb", buffering=0), found[0]))
        if found is not None else builtins.open(path, "rb")
    )
    try:
        if mode == "rb":
            yield raw
        else:
            with io.TextIOWrapper(raw, encoding=encoding) as text:
                yield text
    finally:
        raw.close()


# -- params and metrics (SPEC §12): pipever.commands.pipeline.params / pipever.commands.pipeline.metrics -------------------------
__all__ += ["params_show", "metrics_show"]


def params_show(
    *targets: str, stages: str | list[str] | None = None, repo: str | None = None, rev: str | None = None,
    deps: bool = False,
) -> dict[str, Any]:
    """Params at ``rev`` (default: the workspace) as one dict, like ``dvc.api.params_show``.

    Without ``targets`` (params files), the files the pipeline uses are read (``params.yaml`` when
    it names none); ``stages`` keeps the params files those stages use, and ``deps=True`` only the
    keys stages depend on. Files are merged in order; a top-level key that an earlier file already
    has is kept under ``"FILE:KEY"``.

    >>> params_show()["train"]["lr"]
    0.1
    >>> params_show("configs/model.toml", rev="v1.0")
    {...}
    """
    from pipever.commands.pipeline.params import params_show as show

    names = [stages] if isinstance(stages, str) else list(stages or ())
    with _open_repo(repo, rev=rev, remote_ok=True) as r:
        per_file = show(r, rev=rev, targets=[_repo_rel(r, t) for t in targets], stages=names, deps_only=deps)
    return _merged(per_file)


def metrics_show(*targets: str, repo: str | None = None, rev: str | None = None) -> dict[str, Any]:
    """Metrics at ``rev`` (default: the workspace) as one dict, like ``dvc.api.metrics_show``:
    the metrics files ``pv.yaml`` declares (or ``targets``), merged as ``params_show`` merges.
    A metrics file that cannot be read raises its error.

    >>> metrics_show()["auc"]
    0.80181
    """
    from pipever.commands.pipeline.metrics import metrics_show as show

    with _open_repo(repo, rev=rev, remote_ok=True) as r:
        [found] = show(r, rev=rev, targets=[_repo_rel(r, t) for t in targets]).revs
    for f in found.files:
        if f.error is not None:
            raise PvError(f.error)
    return _merged({f.file: dict(f.values) for f in found.files})


def _merged(per_file: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for file, values in per_file.items():
        for key, value in values.items():
            merged[f"{file}:{key}" if key in merged else key] = value
    return merged
