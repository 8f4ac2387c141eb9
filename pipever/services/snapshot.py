"""One revision's files as the comparison verbs read them (``params``, ``metrics``, ``plots``).

A ``Snapshot`` is the workspace or a Git commit. Its ``pipeline()`` is the ``pv.yaml`` there; its
``data(rel)`` is a file's bytes there: from the work tree, or at a commit from Git objects when Git
tracks the file, else from the cache by the oid its pointer file or ``pv.lock`` records at that
commit (a file inside a tracked directory is found through the directory's manifest). Nothing is
checked out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

from pipever.data import pointer as ptr
from pipever.errors import CorruptObjectError, GitError, ObjectNotFoundError, PvError, TargetError
from pipever.experiments.names import REF_PREFIX
from pipever.objects.hashing import hash_bytes
from pipever.objects.oid import Oid
from pipever.paths import is_inside, parent, read_inside, resolve_inside
from pipever.pipeline.lockfile import Lockfile
from pipever.pipeline.stage import Pipeline
from pipever.context import RepoContext

PIPELINE_FILE = "pv.yaml"
WORKSPACE = "workspace"


@dataclass(frozen=True)
class Rev:
    name: str  # as the user wrote it ('HEAD', 'main', 'v1'), or 'workspace'
    sha: str | None = None  # None: the work tree

    @property
    def is_workspace(self) -> bool:
        return self.sha is None


def resolve_rev(repo: RepoContext, rev: str | None) -> Rev:
    """``None`` or ``'workspace'`` is the work tree; anything else must name a commit, or an
    experiment (``refs/exps/<rev>``) when no commit has that name, as DVC takes them."""
    if rev is None or rev == WORKSPACE:
        return Rev(WORKSPACE)
    require_git(repo)
    try:
        return Rev(rev, repo.git.resolve(rev))
    except GitError:
        exp = repo.git.ref_sha(REF_PREFIX + rev) if rev and not rev.startswith(("-", "/")) else None
        if exp is None:
            raise
        return Rev(rev, exp)


def require_git(repo: RepoContext) -> None:
    if not repo.scm:
        raise GitError("comparing revisions needs Git, but this repository has none",
                       hint="compare the workspace only, or use a Git repository")


def head_or_empty(repo: RepoContext, rev: str | None) -> Rev | None:
    """The old side of a diff: ``rev``, or HEAD by default (None when there is no commit yet)."""
    if rev is None:
        require_git(repo)
        return Rev("HEAD", repo.git.resolve("HEAD")) if repo.git.has_commits() else None
    return resolve_rev(repo, rev)


@dataclass
class Snapshot:
    repo: RepoContext
    rev: Rev
    _pointers: dict[str, ptr.Pointer | None] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.rev.name

    def text(self, rel: str) -> str | None:
        """A file Git tracks (``pv.yaml``, params files), as text; None when absent."""
        if self.rev.sha is None:
            data = read_inside(self.repo.root, rel)
            return data.decode("utf-8") if data is not None else None
        data = self.repo.git.read_file(self.rev.sha, rel)
        return data.decode("utf-8") if data is not None else None

    def pipeline(self) -> Pipeline | None:
        """``pv.yaml`` of this revision (None when there is none)."""
        return self._pipeline

    @cached_property
    def _files(self) -> list[str]:
        """The pipeline files here (every ``pv.yaml``, the root's first)."""
        from pipever.services import pipeline_files as pf

        if self.rev.sha is None:
            return pf.workspace_files(self.repo)
        return pf.files_at(self.repo, self.rev.sha)

    @cached_property
    def _pipeline(self) -> Pipeline | None:
        from pipever.services import pipeline_files as pf

        if not self._files:
            return None
        return pf.load(self._files, self.text)

    def data(self, rel: str) -> bytes | None:
        """Bytes of ``rel`` here; None when it does not exist. PvError when a pv-tracked file's
        object is not in the cache (or is corrupt)."""
        if self.rev.sha is None:
            return read_inside(self.repo.root, rel)
        blob = self.repo.git.read_file(self.rev.sha, rel)
        if blob is not None:
            return blob
        found = self._tracked(rel)
        return self._from_cache(rel, *found) if found is not None else None

    def files_under(self, rel: str) -> list[str] | None:
        """Repo-relative files below folder ``rel`` here, sorted; None when ``rel`` is no folder
        (a folder pv tracks is listed from its manifest, at a commit as in the workspace)."""
        if self.rev.sha is None:
            try:
                base = resolve_inside(self.repo.root, rel)
            except PvError:
                return None
            if not base.is_dir():
                return None
            found = []
            for top, dirs, names in os.walk(base):  # symlinked folders are not followed
                dirs[:] = sorted(d for d in dirs if d not in (".git", ".pv"))
                rel_top = os.path.relpath(top, self.repo.root).replace(os.sep, "/")
                found += [f"{rel_top}/{n}" for n in names if not os.path.islink(os.path.join(top, n))]
            return sorted(found)
        files = self.repo.git.files_under_at(self.rev.sha, rel)
        if files:
            return files
        hit = self._tracked(rel)
        if hit is None or not hit[2] or hit[0] != rel:
            return None
        try:
            manifest = self.repo.odb.read_manifest(hit[1])
        except PvError:
            return None
        return sorted(f"{rel}/{path}" for path in manifest.by_path())

    def _tracked(self, rel: str) -> tuple[str, Oid, bool] | None:
        """(out path, oid, is_dir) of the pv-tracked out holding ``rel`` at this commit."""
        target = rel
        while target not in ("", "."):
            pointer = self._pointer(ptr.pointer_rel_for(target))
            if pointer is not None:
                for out in pointer.outs:
                    out_rel = pointer.out_rel(out)
                    if out_rel == rel or (out.is_dir and is_inside(rel, out_rel)):
                        return out_rel, out.oid, out.is_dir
            target = parent(target)
        for entry in self._lock.stages.values():
            for lp in entry.outs:
                if lp.path == rel or (lp.is_dir and is_inside(rel, lp.path)):
                    return lp.path, lp.oid, lp.is_dir
        return None

    def _pointer(self, pointer_rel: str) -> ptr.Pointer | None:
        if pointer_rel not in self._pointers:
            text = self.text(pointer_rel)
            self._pointers[pointer_rel] = ptr.parse(text, pointer_rel) if text is not None else None
        return self._pointers[pointer_rel]

    @cached_property
    def _lock(self) -> Lockfile:
        from pipever.services import pipeline_files as pf

        return pf.load_locks(self._files or [PIPELINE_FILE], self.text)

    def _from_cache(self, rel: str, out_rel: str, oid: Oid, is_dir: bool) -> bytes | None:
        odb = self.repo.odb
        if is_dir:
            entry = odb.read_manifest(oid).by_path().get(rel[len(out_rel) + 1:]) if rel != out_rel else None
            if entry is None:
                raise TargetError(f"'{rel}' is a directory or not in '{out_rel}' at '{self.name}'", hint="name a file")
            oid = entry.oid
        try:
            data = odb.path(oid).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFoundError(str(oid), rel) from None
        if hash_bytes(data) != oid:
            raise CorruptObjectError(str(oid))
        return data


def read_or_error(snap: Snapshot, rel: str) -> bytes | None | PvError:
    """``data(rel)``, with a missing or corrupt cache object returned as the error (reported per file)."""
    try:
        return snap.data(rel)
    except (ObjectNotFoundError, CorruptObjectError, TargetError) as exc:
        return exc
