"""Where a registered version's bytes are: the artifact's definition in ``pv.yaml``, the out that
holds its path at the version's commit (a pointer file, ``pv.lock``, or Git itself), and reading
those bytes through the cache, fetching what is missing from the default remote.

Everything is read from Git objects at the commit; nothing is checked out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipever.data import pointer as ptr
from pipever.errors import CorruptObjectError, RegistryError, SchemaError
from pipever.objects import manifest as mf
from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ObjectRef
from pipever.commands.registry.model_transfer import fetch_missing
from pipever.objects.oid import Oid
from pipever.paths import is_inside, parent
from pipever.pipeline.stage import Artifact
from pipever.context import RepoContext

PIPELINE_FILE = "pv.yaml"
LOCK_FILE = "pv.lock"


@dataclass(frozen=True)
class Located:
    rel: str  # repo-relative path of the artifact
    commit: str
    source: str  # 'git', 'pv.lock', or the pointer file's path
    oid: Oid | None = None  # the pv-tracked file, or the manifest of the tracked directory
    is_dir: bool = False  # oid names a directory manifest
    inner: str = ""  # the artifact's path below that directory ('' = the directory itself)
    blob: bytes | None = None  # the content, when Git tracks the file

    @property
    def ref(self) -> ObjectRef | None:
        return ObjectRef(self.oid, self.is_dir) if self.oid is not None else None


def _read_text(repo: RepoContext, commit: str | None, rel: str) -> str | None:
    if commit is None:
        try:
            return (repo.root / rel).read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            return None
    data = repo.git.read_file(commit, rel)
    return data.decode("utf-8") if data is not None else None


def artifacts_at(repo: RepoContext, commit: str | None) -> Mapping[str, Artifact]:
    """Artifacts declared in ``pv.yaml`` at ``commit`` (None: the workspace)."""
    from pipever.pipeline.schema import load_pipeline

    text = _read_text(repo, commit, PIPELINE_FILE)
    if text is None:
        return {}
    pipeline = load_pipeline(text, PIPELINE_FILE, read_file=lambda rel: _read_text(repo, commit, rel))
    return pipeline.artifacts


def artifact_def(repo: RepoContext, name: str, commit: str | None) -> Artifact | None:
    """The declaration of ``name`` at ``commit``, else in the workspace's ``pv.yaml`` (also when the
    commit's ``pv.yaml`` no longer parses, e.g. written by an older pv)."""
    found = None
    if commit is not None and repo.scm:
        try:
            found = artifacts_at(repo, commit).get(name)
        except SchemaError:
            found = None
    return found or artifacts_at(repo, None).get(name)


def locate(repo: RepoContext, commit: str, rel: str) -> Located:
    """The out holding ``rel`` at ``commit``: a pointer file's, a ``pv.lock`` entry's, or Git's."""
    candidates = [rel]
    while parent(candidates[-1]) not in ("", "."):
        candidates.append(parent(candidates[-1]))
    for target in candidates:
        data = repo.git.read_file(commit, ptr.pointer_rel_for(target))
        if data is None:
            continue
        pointer = ptr.parse(data, ptr.pointer_rel_for(target))
        for out in pointer.outs:
            hit = _match(rel, pointer.out_rel(out), out.oid, out.is_dir, commit, pointer.rel)
            if hit is not None:
                return hit
    lock_text = _read_text(repo, commit, LOCK_FILE)
    if lock_text is not None:
        from pipever.pipeline.lockfile import parse_lockfile

        for entry in parse_lockfile(lock_text, LOCK_FILE).stages.values():
            for lp in entry.outs:
                hit = _match(rel, lp.path, lp.oid, lp.is_dir, commit, LOCK_FILE)
                if hit is not None:
                    return _committed_copy(repo, hit)
    blob = repo.git.read_file(commit, rel)
    if blob is not None:
        return Located(rel, commit, "git", blob=blob)
    raise RegistryError(
        f"'{rel}' is neither tracked by pv nor by Git at commit {commit[:7]}",
        hint="commit its pointer file or pv.lock (or the file) before registering a version there",
    )


def _committed_copy(repo: RepoContext, hit: Located) -> Located:
    """A stage's ``cache: false`` out (metrics, small models) is committed to Git: when the cache
    lacks its object (a fresh clone), the bytes come from Git at the commit, as GTO reads them."""
    if hit.is_dir or hit.oid is None or repo.odb.exists(hit.oid):
        return hit
    blob = repo.git.read_file(hit.commit, hit.rel)
    return Located(hit.rel, hit.commit, "git", blob=blob) if blob is not None else hit


def _match(rel: str, out_rel: str, oid: Oid, is_dir: bool, commit: str, source: str) -> Located | None:
    if out_rel == rel:
        return Located(rel, commit, source, oid, is_dir)
    if is_dir and is_inside(rel, out_rel):
        return Located(rel, commit, source, oid, True, rel[len(out_rel) + 1:])
    return None


def entries(repo: RepoContext, loc: Located) -> list[mf.Entry]:
    """The files of a directory artifact (paths relative to the artifact), fetching the manifest."""
    assert loc.oid is not None and loc.is_dir
    fetch_missing(repo, loc, [ObjectRef(loc.oid, True)])
    manifest = repo.odb.read_manifest(loc.oid)
    if not loc.inner:
        return list(manifest.entries)
    prefix = loc.inner + "/"
    return [mf.Entry(e.path[len(prefix):], e.oid, e.size, e.isexec) for e in manifest.entries if e.path.startswith(prefix)]


def file_entry(repo: RepoContext, loc: Located) -> mf.Entry | None:
    """The single file a located artifact is (None for directories and Git blobs)."""
    if loc.oid is None:
        return None
    if not loc.is_dir:
        return mf.Entry("", loc.oid, 0)
    if not loc.inner:
        return None
    fetch_missing(repo, loc, [ObjectRef(loc.oid, True)])
    return repo.odb.read_manifest(loc.oid).by_path().get(loc.inner)


def read_bytes(repo: RepoContext, loc: Located) -> bytes:
    """The bytes of a file artifact (e.g. a metrics file), verified against its oid."""
    if loc.blob is not None:
        return loc.blob
    entry = file_entry(repo, loc)
    if entry is None:
        raise RegistryError(f"'{loc.rel}' is a directory at commit {loc.commit[:7]}", hint="name a file")
    fetch_missing(repo, loc, [ObjectRef(entry.oid, False)])
    data = repo.odb.path(entry.oid).read_bytes()
    if hash_bytes(data) != entry.oid:
        raise CorruptObjectError(str(entry.oid))
    return data

