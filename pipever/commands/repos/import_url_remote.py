"""``pv import-url --to-remote URL OUT`` and ``pv update --to-remote`` (SPEC §6): data bigger
than the local disk goes from the URL straight to a remote, hashed on the way.

The pointer is exactly the one ``pv import-url`` writes (the URL's identity in ``deps``, the
data's oid and size in ``outs``), but the data is neither in the cache nor in the workspace: the
bytes are read once from the URL and stored on the remote as ``pv push`` would store them
(``remote.direct.put_stream``: small files in packs, big ones as chunks in packs, loose objects
on a ``layout: loose`` remote). Only a folder's manifest is kept in the cache (it is small and
says which files the folder has), as ``pv add --to-remote`` does. Before an object gets its
name the URL is asked again (or, for servers that send no ETag, the md5 read on the way is
compared), so a source that changed while it was read is refused. ``pv pull`` brings the data.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import replace

from pipever.commands.repos.import_url import UrlImported, destination, probe_source, url_source
from pipever.commands.repos.imports import _check_dest, _stage, _write
from pipever.context import RepoContext
from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.errors import PvError, TargetError
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.oid import Oid
from pipever.pipeline.lockfile import LockedUrl
from pipever.remote import direct, urlfs
from pipever.remote.base import Remote
from pipever.remote.url import mask_url
from pipever.services import cloud
from pipever.services.url_deps import UrlProbe, same, url_options


class SourceChangedError(PvError):
    def __init__(self, url: str) -> None:
        super().__init__(f"'{mask_url(url)}' changed while it was being read",
                         hint="rerun the command when the source is no longer being written")


def import_url_to_remote(repo: RepoContext, url: str, out: str | None = None, *,
                         remote: str | None = None) -> tuple[UrlImported, list[str]]:
    """Stream ``url`` to ``remote`` (default: the default remote) and write the pointer
    ``import-url`` would write; returns it and the paths staged in Git."""
    rel = destination(repo, url, out)
    rem = cloud.open_remote(repo, remote)
    with repo.locked():
        source = probe_source(repo, url)
        _check_dest(repo, rel)
        oid, size, nfiles = stream_url(repo, rem, url, source)
        pointer = ptr.Pointer(ptr.pointer_rel_for(rel), (ptr.PointerOut(posixpath.basename(rel), oid, size, nfiles, {}),),
                              {"deps": [source.to_data()]})
        gitignore.add_entry(repo.root, rel)
        _write(repo, pointer)
    staged = _stage(repo, [pointer.rel], [rel])
    return UrlImported(pointer.rel, rel, size, nfiles, source), staged


def update_url_to_remote(repo: RepoContext, rel: str, pointer: ptr.Pointer, rem: Remote) -> UrlImported | None:
    """``pv update --to-remote`` of one URL import: when the URL's identity changed, stream the
    new data to ``rem`` and rewrite the pointer; the workspace is not touched (``pv pull``
    brings the new version). None when nothing changed."""
    recorded = url_source(pointer)
    assert recorded is not None
    data_rel = pointer.out_rel(pointer.outs[0])
    now = UrlProbe(repo).identity(recorded.url)
    if now is None:
        raise TargetError(f"'{mask_url(recorded.url)}' (imported as '{data_rel}') does not exist any more",
                          hint="check the URL, or stop tracking it with 'pv remove'")
    if same(now, recorded):
        return None
    with repo.locked():
        oid, size, nfiles = stream_url(repo, rem, recorded.url, now)
        old = pointer.outs[0]
        new_out = ptr.PointerOut(old.path, oid, size, nfiles, dict(old.extra))
        new = replace(pointer, outs=(new_out, *pointer.outs[1:]), extra={**pointer.extra, "deps": [now.to_data()]})
        _write(repo, new)
    return UrlImported(rel, data_rel, size, nfiles, now)


def stream_url(repo: RepoContext, rem: Remote, url: str, source: LockedUrl) -> tuple[Oid, int, int | None]:
    """Store what ``url`` holds on ``rem`` (read once, nothing on the local disk but a folder's
    manifest); its oid, size and (a folder) number of files."""
    options = url_options(repo, url)
    fs, path, files = urlfs.source_files(url, options)
    if files is None:
        md5 = hashlib.md5(usedforsecurity=False) if (source.checksum or "").startswith("md5:") else None

        def check() -> None:
            _unchanged(url, options, source, md5)

        oid, size = direct.put_stream(rem, _md5(urlfs.read_pieces(fs, path), md5), check=check)
        if source.size is not None and size != source.size:
            raise SourceChangedError(url)
        if rem.packed:
            rem.packs.publish_index_list()
        return oid, size, None
    entries = []
    batch = direct.SmallBatch(rem)
    for rel, name in files:
        oid, size = direct.put_stream(rem, urlfs.read_pieces(fs, name), small=batch.add)
        entries.append(Entry(rel, oid, size))
    batch.flush()
    _unchanged(url, options, source, None)
    manifest = Manifest.build(entries)
    oid, sent = direct.put_manifest(rem, repo.odb, manifest)
    if not sent and rem.packed:
        rem.packs.publish_index_list()
    return oid, manifest.size, manifest.nfiles


def _md5(pieces: Iterable[bytes], md5: hashlib._Hash | None) -> Iterator[bytes]:
    for piece in pieces:
        if md5 is not None:
            md5.update(piece)
        yield piece


def _unchanged(url: str, options: dict[str, object], before: LockedUrl, md5: hashlib._Hash | None) -> None:
    """Refuse a source that is not what was probed before it was read."""
    if md5 is not None:
        if before.checksum != "md5:" + md5.hexdigest():
            raise SourceChangedError(url)
        return
    if not same(urlfs.identity(url, options), before):
        raise SourceChangedError(url)


__all__ = ["SourceChangedError", "import_url_to_remote", "stream_url", "update_url_to_remote"]
