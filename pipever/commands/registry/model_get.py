"""``pv model get`` and ``api.model_path``: materialize a registered version of an artifact.

The version is found by number, stage or ``latest``; its bytes come from the cache (fetching what
is missing from the default remote) or from Git objects. Every file is re-hashed as it is copied,
and the output appears atomically: a temp sibling renamed into place, so a deployment script never
sees half a model.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipever import fsutil
from pipever.errors import CorruptObjectError, RegistryError
from pipever.objects import manifest as mf
from pipever.objects.hashing import hash_bytes, hash_file
from pipever.objects.odb import ObjectRef
from pipever.commands.registry.model import find_artifact, find_in_stage, find_version
from pipever.commands.registry.model_locate import Located, artifact_def, entries, file_entry, locate
from pipever.commands.registry.model_transfer import fetch_missing
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.registry.state import Version
from pipever.context import RepoContext

MODELS_DIR = "models"  # below .pv/tmp: directories materialized for api.model_path


@dataclass(frozen=True)
class GetResult:
    artifact: str
    version: str
    commit: str
    path: str  # the artifact's repo-relative path
    out: Path
    is_dir: bool
    nfiles: int
    size: int
    fetched: int  # objects downloaded from the remote


def resolve(repo: RepoContext, name: str, *, version: str | None = None, stage: str | None = None) -> Version:
    if version is not None and stage is not None:
        raise RegistryError("give either --version or --stage, not both", hint="drop one of them")
    art = find_artifact(repo, name)
    if stage is not None:
        return find_in_stage(art, stage)
    return find_version(art, version or "latest")


def locate_version(repo: RepoContext, name: str, v: Version) -> Located:
    art = artifact_def(repo, name, v.commit)
    if art is None:
        raise RegistryError(f"artifact '{name}' is not declared in pv.yaml at commit {v.commit[:7]} nor in the "
                            "workspace, so its path is unknown", hint=f"declare it under 'artifacts:' ({name}: {{path: PATH}})")
    return locate(repo, v.commit, art.path)


def get(repo: RepoContext, name: str, *, version: str | None = None, stage: str | None = None, out: str | None = None,
        force: bool = False, progress: Progress = NO_PROGRESS) -> GetResult:
    v = resolve(repo, name, version=version, stage=stage)
    loc = locate_version(repo, name, v)
    dest = Path(out) if out else Path.cwd() / posixpath.basename(loc.rel)
    if os.path.lexists(dest) and not force:
        raise RegistryError(f"'{dest}' already exists", hint="use --force to replace it, or -o PATH")
    is_dir, nfiles, size, fetched = materialize(repo, loc, dest, progress=progress)
    return GetResult(name, v.version, v.commit, loc.rel, dest, is_dir, nfiles, size, fetched)


def model_path(repo: RepoContext, name: str, *, version: str | None = None, stage: str | None = None) -> Path:
    """A local path holding the version's bytes: the read-only cache object for a pv-tracked file,
    else a directory materialized once under ``.pv/tmp/models/<content id>/``."""
    v = resolve(repo, name, version=version, stage=stage)
    loc = locate_version(repo, name, v)
    entry = file_entry(repo, loc)
    if entry is not None:
        fetch_missing(repo, loc, [ObjectRef(entry.oid, False)])
        return repo.odb.path(entry.oid)
    key = hash_bytes(loc.blob).hex if loc.blob is not None else hash_bytes(f"{loc.oid}/{loc.inner}".encode()).hex
    dest = repo.tmp_dir / MODELS_DIR / key / posixpath.basename(loc.rel)
    if not dest.exists():
        materialize(repo, loc, dest)
    return dest


def materialize(repo: RepoContext, loc: Located, dest: Path, *, progress: Progress = NO_PROGRESS) -> tuple[bool, int, int, int]:
    """Write the located artifact to ``dest`` (replacing it); (is_dir, nfiles, size, fetched)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if loc.blob is not None:
        _replace_with(dest, lambda tmp: tmp.write_bytes(loc.blob or b""))
        return False, 1, len(loc.blob), 0
    single = file_entry(repo, loc)
    if single is not None:
        fetched = fetch_missing(repo, loc, [ObjectRef(single.oid, False)])
        _replace_with(dest, lambda tmp: _copy_verified(repo, single, tmp))
        return False, 1, os.path.getsize(dest), fetched
    files = entries(repo, loc)
    if not files:
        raise RegistryError(f"'{loc.rel}' is not in the tracked directory at commit {loc.commit[:7]}",
                            hint="check the artifact's path in pv.yaml")
    fetched = fetch_missing(repo, loc, [ObjectRef(e.oid, False) for e in files])

    def build(tmp: Path) -> None:
        tmp.mkdir()
        progress.start(f"Materializing {loc.rel}", len(files))
        for e in files:
            target = tmp / e.path
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy_verified(repo, e, target)
            progress.advance()
        progress.done()

    _replace_with(dest, build)
    return True, len(files), sum(e.size for e in files), fetched


def _copy_verified(repo: RepoContext, e: mf.Entry, target: Path) -> None:
    fsutil.copy_file(repo.odb.path(e.oid), target)
    if hash_file(target) != e.oid:
        raise CorruptObjectError(str(e.oid))
    os.chmod(target, 0o644)
    if e.isexec:
        fsutil.set_executable(target, True)


def _replace_with(dest: Path, build: Callable[[Path], object]) -> None:
    """Build into a temp sibling, then swap it in for ``dest`` (removing the old one)."""
    tmp = fsutil.tmp_name(dest)
    old = fsutil.tmp_name(dest)
    try:
        build(tmp)
        if os.path.lexists(dest):
            os.replace(dest, old)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            fsutil.remove(tmp)
        if os.path.lexists(old) and not os.path.lexists(dest):
            os.replace(old, dest)
        raise
    fsutil.remove(old)
