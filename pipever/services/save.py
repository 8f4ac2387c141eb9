"""Save a workspace file or directory into the cache and say what it is: the step that ``pv add``,
``pv commit`` and ``pv repro`` share.

Files whose stat the state db knows are not hashed again; large files are copied into the cache
while they are hashed, and many small ones in a few threads over batches, each read once for
hashing and storing (``Workspace.hash_files``). With ``link`` the workspace copy is
replaced by a link to the cache object when the configured link type is not ``copy`` (executables
stay copies, see ``Linker.link``); with ``store=False`` the path is only measured (outputs with
``cache: false``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from pipever.errors import TargetError
from pipever.fsutil import is_executable
from pipever.objects.build import FileStat, Hashed, fingerprint, manifest_of
from pipever.objects.bulk import batch_map
from pipever.objects.manifest import manifest_oid
from pipever.objects.oid import Oid
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.context import RepoContext


@dataclass(frozen=True)
class Saved:
    rel: str
    oid: Oid
    size: int
    nfiles: int | None  # directories only
    isexec: bool = False  # files only (a directory's manifest has its files' bits)


def scan(repo: RepoContext, rel: str) -> list[FileStat] | FileStat:
    """The files of a directory target, or the stat of a file target."""
    if os.path.isdir(repo.root / rel):
        return repo.workspace.walk(rel, repo.ignore)
    fs = repo.workspace.stat_file(rel)
    if fs is None:
        raise TargetError(f"'{rel}' does not exist", hint="check the path")
    return fs


def save_path(repo: RepoContext, rel: str, *, store: bool = True, link: bool = True, jobs: int = 0,
              progress: Progress = NO_PROGRESS, scanned: list[FileStat] | FileStat | None = None) -> Saved:
    """Hash ``rel`` (repo-relative; ``scanned`` when ``scan`` already ran), store it in the cache
    unless ``store`` is False, and return its oid, size and (for a directory) number of files.
    TargetError when it does not exist."""
    ws = repo.workspace
    found = scan(repo, rel) if scanned is None else scanned
    if isinstance(found, list):
        progress.start(f"{'Adding' if store else 'Hashing'} {rel}", sum(f.st.st_size for f in found), unit="bytes")
        hashed = ws.hash_files(found, jobs=jobs, on_hashed=progress.advance, store=repo.odb if store else None)
        progress.done()
        manifest = manifest_of(rel, hashed)
        if not store:
            return Saved(rel, manifest_oid(manifest), manifest.size, manifest.nfiles)
        oid = repo.odb.add_manifest(manifest)
        repo.state.mark_complete(oid)
        linker = repo.linker()
        relinked = False
        if link and linker.types[0] != "copy":
            todo = [h for h in hashed if not is_executable(h.st.st_mode)]  # executables stay copies: see Linker.link
            # the first on this thread settles the link type that works; the rest in batches
            if todo and linker.link_in_place(todo[0].oid, todo[0].rel):
                relinked = True
                batch_map(lambda batch: [linker.link_in_place(h.oid, h.rel) for h in batch], todo[1:], jobs=jobs)
        if not relinked:
            # the files are as hashed (hash_files checked their stats did not move): the next
            # status knows the directory from its fingerprint, without a lookup per file
            fp = fingerprint(found)
            if fp is not None:
                repo.state.set_dir(rel, fp, oid)
        return Saved(rel, oid, manifest.size, manifest.nfiles)
    fs = found
    if not store:
        return Saved(rel, ws.hash_files([fs])[0].oid, fs.st.st_size, None, is_executable(fs.st.st_mode))
    progress.start(f"Adding {rel}", fs.st.st_size, unit="bytes")
    h = _hash_and_store_file(repo, fs, on_bytes=progress.advance)  # byte by byte for big files
    if not h.fresh:
        progress.advance(fs.st.st_size)
    progress.done()
    if link and not is_executable(fs.st.st_mode):  # executables stay copies: see Linker.link
        repo.linker().link_in_place(h.oid, rel)
    return Saved(rel, h.oid, fs.st.st_size, None, is_executable(fs.st.st_mode))


def _store(repo: RepoContext, h: Hashed) -> None:
    if repo.odb.add_file(repo.root / h.rel, h.oid, hashed_stat=h.st, display=h.rel):
        st = os.stat(repo.odb.path(h.oid))
        repo.state.set_trusted("\x00cache/" + h.oid.hex, st, h.oid)


def _hash_and_store_file(repo: RepoContext, fs: FileStat, *, on_bytes: Callable[[int], None] | None = None) -> Hashed:
    """One file: reuse its state-db hash, or hash it (copying large files into the cache while
    hashing, so the two overlap)."""
    known = fs.cached_oid or repo.state.get(fs.rel, fs.st)
    if known is not None:
        h = Hashed(fs.rel, fs.st, known, False)
        _store(repo, h)
        return h
    oid = repo.odb.add_file_hashing(repo.root / fs.rel, hashed_stat=fs.st, display=fs.rel, on_bytes=on_bytes)
    st = os.stat(repo.odb.path(oid))
    repo.state.set_trusted("\x00cache/" + oid.hex, st, oid)
    repo.state.set(fs.rel, fs.st, oid)
    return Hashed(fs.rel, fs.st, oid, True)
