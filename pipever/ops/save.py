"""Save a workspace file or directory into the cache and say what it is: the step that ``pv add``,
``pv commit`` and ``pv repro`` share.

Files whose stat the state db knows are not hashed again. Large directories are copied into the
cache in threads. With ``link`` the workspace copy is replaced by a link to the cache object when
the configured link type is not ``copy``; with ``store=False`` the path is only measured (outputs
with ``cache: false``). The hashing and storing functions are ``pv add``'s own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pipever.errors import TargetError
from pipever.objects.build import manifest_of
from pipever.objects.manifest import manifest_oid
from pipever.objects.oid import Oid
from pipever.ops.add import _hash_and_store_file, _store_all
from pipever.ops.progress import NO_PROGRESS, Progress
from pipever.repo import Repo


@dataclass(frozen=True)
class Saved:
    rel: str
    oid: Oid
    size: int
    nfiles: int | None  # directories only


def save_path(repo: Repo, rel: str, *, store: bool = True, link: bool = True, jobs: int = 0,
              progress: Progress = NO_PROGRESS) -> Saved:
    """Hash ``rel`` (repo-relative), store it in the cache unless ``store`` is False, and return
    its oid, size and (for a directory) number of files. TargetError when it does not exist."""
    ws = repo.workspace
    if os.path.isdir(repo.root / rel) and not os.path.islink(repo.root / rel):
        files = ws.walk(rel, repo.ignore)
        progress.start(f"Hashing {rel}", sum(f.st.st_size for f in files), unit="bytes")
        hashed = ws.hash_files(files, jobs=jobs, on_hashed=progress.advance)
        progress.done()
        manifest = manifest_of(rel, hashed)
        if not store:
            return Saved(rel, manifest_oid(manifest), manifest.size, manifest.nfiles)
        progress.start(f"Caching {rel}", len(hashed))
        _store_all(repo, hashed, jobs=jobs, progress=progress)
        progress.done()
        oid = repo.odb.add_manifest(manifest)
        repo.state.mark_complete(oid)
        linker = repo.linker()
        if link and linker.types[0] != "copy":
            for h in hashed:
                linker.link_in_place(h.oid, h.rel)
        return Saved(rel, oid, manifest.size, manifest.nfiles)
    fs = ws.stat_file(rel)
    if fs is None:
        raise TargetError(f"'{rel}' does not exist", hint="check the path")
    if not store:
        return Saved(rel, ws.hash_files([fs])[0].oid, fs.st.st_size, None)
    progress.start(f"Adding {rel}", fs.st.st_size, unit="bytes")
    h = _hash_and_store_file(repo, fs)
    progress.advance(fs.st.st_size)
    progress.done()
    if link:
        repo.linker().link_in_place(h.oid, rel)
    return Saved(rel, h.oid, fs.st.st_size, None)
