"""One revision's files as the comparison verbs read them (``params``, ``metrics``, ``plots``).

A ``Snapshot`` is the workspace or a Git commit. Its ``pipeline()`` is the ``pv.yaml`` there; its
``data(rel)`` is a file's bytes there: from the work tree, or at a commit from Git objects when Git
tracks the file, else from the cache by the oid its pointer file or ``pv.lock`` records at that
commit (a file inside a tracked directory is found through the directory's manifest). Nothing is
checked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pipever.data import pointer as ptr
from pipever.errors import CorruptObjectError, GitError, ObjectNotFoundError, PvError, TargetError
from pipever.objects.hashing import hash_bytes
from pipever.objects.oid import Oid
from pipever.paths import is_inside, parent, read_inside
from pipever.pipeline.lockfile import LOCK_FILE, Lockfile, parse_lockfile
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
    """``None`` or ``'workspace'`` is the work tree; anything else must name a commit."""
    if rev is None or rev == WORKSPACE:
        return Rev(WORKSPACE)
    require_git(repo)
    return Rev(rev, repo.git.resolve(rev))


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
    def _pipeline(self) -> Pipeline | None:
        from pipever.pipeline.schema import load_pipeline

        text = self.text(PIPELINE_FILE)
        if text is None:
            return None
        return load_pipeline(text, PIPELINE_FILE, read_file=self.text)

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
        text = self.text(LOCK_FILE)
        return parse_lockfile(text, LOCK_FILE) if text is not None else Lockfile()

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
