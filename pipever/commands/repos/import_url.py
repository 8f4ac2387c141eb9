"""``pv import-url URL [OUT]``, ``pv get-url URL [OUT]``, and ``pv update`` of URL imports.

``get-url`` downloads a file or folder (https, s3, gs, azure, ...) and tracks nothing.
``import-url`` downloads it, stores it in the cache like ``pv add`` and writes a pointer that
records the URL and its identity (ETag / version id / checksum and size, as DVC's ``.dvc`` file
of an import does)::

    outs:
    - path: data.csv
      oid: blake3:…
      size: 1024
    deps:
    - path: https://example.com/data.csv
      etag: '"5d41402abc4b2a76"'
      size: 1024

``pv update`` (``commands.repos.update``) asks the URL again and downloads it only when its
identity changed.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pipever.commands.repos.imports import ImportSource, Imported, UpdateResult, _check_dest, _checkout, _stage, _write
from pipever.commands.repos.imports import update as update_repos
from pipever.context import RepoContext
from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.errors import CheckoutConflictError, PvError, TargetError  # noqa: F401
from pipever.pipeline.fields import is_url
from pipever.pipeline.lockfile import LockedUrl
from pipever.remote.url import mask_url
from pipever.services import tracked as trk
from pipever.services.url_deps import UrlProbe, download, same, url_options


@dataclass(frozen=True)
class UrlImported:
    pointer: str
    rel: str
    size: int
    nfiles: int | None
    source: LockedUrl


def default_out(url: str) -> str:
    name = posixpath.basename(unquote(urlsplit(url).path).rstrip("/"))
    if not name or name in (".", ".."):
        raise TargetError(f"'{mask_url(url)}' names no file", hint="give the output path: OUT")
    return name


def url_source(pointer: ptr.Pointer) -> LockedUrl | None:
    """The URL a pointer was imported from (None: not a URL import)."""
    deps = pointer.extra.get("deps")
    if not isinstance(deps, list) or len(deps) != 1 or not isinstance(deps[0], dict):
        return None
    dep = deps[0]
    if "repo" in dep or not is_url(dep.get("path")):
        return None
    size = dep.get("size")
    text = {k: dep.get(k) if isinstance(dep.get(k), str) else None for k in ("etag", "version_id", "checksum")}
    return LockedUrl(dep["path"], size=size if isinstance(size, int) and not isinstance(size, bool) else None, **text)


def _check_url(url: str) -> None:
    if not is_url(url):
        raise TargetError(f"'{url}' is not a URL", hint="e.g. https://host/file.csv or s3://bucket/key; "
                                                        "for a local file use 'pv add'")
    if mask_url(url) != url:
        raise PvError(f"the URL '{mask_url(url)}' contains a password, which the pointer file would record",
                      hint="configure the credentials on a remote whose URL the import lies under")


def get_url(url: str, out: str | None = None, *, repo: RepoContext | None = None) -> Path:
    """Download ``url`` to ``out`` (default: its name, here); nothing is tracked."""
    _check_url(url)
    dest = Path(out or default_out(url))
    if dest.is_dir() and not dest.is_symlink():
        dest = dest / default_out(url)
    if os.path.lexists(dest):
        raise TargetError(f"'{dest}' already exists", hint="remove it, or choose another OUT")
    if repo is not None:
        download(repo, url, dest)
    else:
        from pipever.remote.urlfs import download as fetch

        fetch(url, dest)
    return dest


def destination(repo: RepoContext, url: str, out: str | None) -> str:
    """The repo path an import of ``url`` writes (``out``, a file named after the URL inside
    ``out`` when that is a directory, or that name here), checked to be a place it may write."""
    _check_url(url)
    dest = out or default_out(url)
    if os.path.isdir(dest) and not os.path.islink(dest):
        dest = os.path.join(dest, default_out(url))
    rel = trk.resolve_target(repo, dest)
    _check_dest(repo, rel)
    return rel


def probe_source(repo: RepoContext, url: str) -> LockedUrl:
    """The identity of what ``url`` holds now; TargetError when there is nothing there."""
    source = UrlProbe(repo).identity(url)
    if source is None:
        raise TargetError(f"'{mask_url(url)}' does not exist", hint="check the URL")
    return source


def import_url(repo: RepoContext, url: str, out: str | None = None) -> tuple[UrlImported, list[str]]:
    """Download ``url`` into the workspace as ``out``, store it in the cache and write its
    pointer recording the URL's identity; returns it and the paths staged in Git."""
    rel = destination(repo, url, out)
    with repo.locked():
        source = probe_source(repo, url)
        _check_dest(repo, rel)
        pointer = _fetch_into(repo, rel, url, source, extra={})
    staged = _stage(repo, [pointer.rel], [rel])
    out_ = pointer.outs[0]
    return UrlImported(pointer.rel, rel, out_.size, out_.nfiles, source), staged


def _fetch_into(repo: RepoContext, rel: str, url: str, source: LockedUrl, *, extra: dict[str, Any],
                previous: ptr.Pointer | None = None, force: bool = False) -> ptr.Pointer:
    """Download to a temporary path beside ``rel``, store it, then put it in place and write the
    pointer (the old data, if any, is in the cache already)."""
    from pipever.services.save import save_path

    full = repo.root / rel
    staging = full.with_name(f".{full.name}.pv-import")
    if os.path.lexists(staging):
        shutil.rmtree(staging) if staging.is_dir() and not staging.is_symlink() else staging.unlink()
    download(repo, url, staging)
    try:
        saved = save_path(repo, trk.resolve_target(repo, str(staging)), store=True, link=False)
    finally:
        if os.path.lexists(staging):
            shutil.rmtree(staging) if staging.is_dir() and not staging.is_symlink() else staging.unlink()
    out = ptr.PointerOut(posixpath.basename(rel), saved.oid, saved.size, saved.nfiles, extra)
    deps = [source.to_data()]
    if previous is None:
        pointer = ptr.Pointer(ptr.pointer_rel_for(rel), (out,), {"deps": deps})
    else:
        pointer = replace(previous, outs=(out, *previous.outs[1:]), extra={**previous.extra, "deps": deps})
    text = (repo.root / pointer.rel).read_text(encoding="utf-8") if previous is not None else None
    gitignore.add_entry(repo.root, rel)
    _write(repo, pointer)
    _checkout(repo, pointer.rel, previous=text, force=force)
    return pointer


def update_url(repo: RepoContext, rel: str, pointer: ptr.Pointer, *, force: bool) -> UrlImported | None:
    """Refresh one URL import; None when the URL's identity did not change."""
    recorded = url_source(pointer)
    assert recorded is not None
    now = UrlProbe(repo).identity(recorded.url)
    if now is None:
        raise TargetError(f"'{mask_url(recorded.url)}' (imported as '{pointer.out_rel(pointer.outs[0])}') "
                          "does not exist any more", hint="check the URL, or stop tracking it with 'pv remove'")
    if same(now, recorded):
        return None
    data_rel = pointer.out_rel(pointer.outs[0])
    if not force:
        from pipever.services.outdelete import unsaved_files

        if os.path.lexists(repo.root / data_rel) and unsaved_files(repo, data_rel):
            raise CheckoutConflictError([data_rel])
    with repo.locked():
        new = _fetch_into(repo, data_rel, recorded.url, now, extra=dict(pointer.outs[0].extra), previous=pointer,
                          force=force)
    return UrlImported(rel, data_rel, new.outs[0].size, new.outs[0].nfiles, now)


__all__ = ["UrlImported", "default_out", "get_url", "import_url", "update_url", "url_source", "url_options"]
