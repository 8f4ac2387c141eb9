"""Which objects a set of revisions needs: the base of push, fetch, pull, gc and status --cloud.

Outs come from pointer files and ``pv.lock`` in the workspace and/or at Git revisions (read from
Git objects, without checking them out). Directories expand into their files through manifests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipever.data import pointer as ptr
from pipever.errors import CorruptObjectError, ManifestError, ObjectNotFoundError, PvError
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects.oid import Oid
from pipever.paths import resolve_inside
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.pipeline.stage import Out

LOCK_FILE = "pv.lock"


@dataclass(frozen=True)
class UsedOut:
    rel: str  # repo-relative data path
    oid: Oid
    is_dir: bool
    push: bool = True
    remote: str | None = None
    rev: str | None = None  # None: the workspace
    size: int | None = None  # as recorded (a directory's: the total of its files)

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.oid, self.is_dir)


@dataclass
class Expanded:
    objects: set[ObjectRef] = field(default_factory=set)
    missing_manifests: list[UsedOut] = field(default_factory=list)


def outs_in_workspace(repo: RepoContext, *, ignored_too: bool = False) -> list[UsedOut]:
    from pipever.services import tracked as trk

    outs = [
        UsedOut(t.rel, t.out.oid, t.out.is_dir, t.out.push, t.out.remote, size=t.out.size)
        for t in trk.all_tracked(repo, ignored_too=ignored_too)
    ]
    from pipever.services import pipeline_files as pf

    flags = None
    for rel in pf.lock_files(repo):
        lock = resolve_inside(repo.root, rel)
        if lock.exists():
            from pipever.services.stages import out_flags

            flags = out_flags(repo, None) if flags is None else flags
            outs.extend(_lock_outs(lock.read_text(encoding="utf-8"), None, flags, file=rel))
    return outs


class UnreadableRevisionError(PvError):
    """A pointer or ``pv.lock`` at a revision that cannot be read: what it references is unknown."""

    def __init__(self, rev: str, name: str, path: str, problem: str) -> None:
        super().__init__(f"cannot read '{path}' at revision {rev[:8]} ({name}): {problem}",
                         hint="pv cannot tell which objects it needs, so nothing was deleted: fix the file there, "
                              "or rerun with --skip-unreadable to delete what only it references")
        self.rev, self.name, self.path, self.problem = rev, name, path, problem


OnUnreadable = Callable[[UnreadableRevisionError], None]


def outs_at_rev(repo: RepoContext, rev: str, *, unreadable: OnUnreadable | None = None) -> list[UsedOut]:
    """Outs of the pointers and ``pv.lock`` at ``rev``. A file that cannot be read names no
    objects; ``unreadable`` (what gc passes: it must know) is told of each, and may raise."""
    outs: list[UsedOut] = []
    flags: Mapping[str, Out] | None = None
    for path, data in repo.git.files_at(rev, suffix=ptr.SUFFIX, names=(LOCK_FILE,)):
        try:
            if os.path.basename(path) == LOCK_FILE:  # beside any pipeline file
                from pipever.services.stages import out_flags

                flags = out_flags(repo, rev) if flags is None else flags
                outs.extend(_lock_outs(_utf8(data, path), rev, flags, file=path, strict=unreadable is not None))
                continue
            p = ptr.parse(data, path)
        except PvError as exc:
            if unreadable is not None:  # a broken file in history names no objects
                unreadable(UnreadableRevisionError(rev, _rev_name(repo, rev), path, exc.message))
            continue
        outs.extend(UsedOut(p.out_rel(o), o.oid, o.is_dir, o.push, o.remote, rev, o.size) for o in p.outs)
    return outs


def _utf8(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        from pipever.errors import SchemaError

        raise SchemaError(path, f"not UTF-8 text (byte {exc.start})") from exc


def _rev_name(repo: RepoContext, rev: str) -> str:
    """A branch or tag naming ``rev`` for people (``feature``, ``v1~2``), else its short id."""
    out = repo.git.run("name-rev", "--name-only", "--always", "--no-undefined", rev, check=False).decode().strip()
    return out or rev[:8]


def _lock_outs(text: str, rev: str | None, flags: Mapping[str, Out] | None = None, *,
               file: str = LOCK_FILE, strict: bool = False) -> list[UsedOut]:
    """Cached outs recorded in a pv.lock text; ``flags`` (the outputs pv.yaml declares, by path)
    leaves out ``cache: false`` outputs and gives ``push``/``remote``. Outs pv.yaml does not
    declare (or all, without ``flags``) count as cached: keeping too much is safe."""
    try:
        from pipever.pipeline import lockfile
    except ImportError:  # pragma: no cover - the pipeline layer is always installed
        return []
    try:
        lock = lockfile.parse_lockfile(text, file)
    except PvError:
        if rev is None or strict:
            raise  # the workspace's own lock must be readable: gc must not forget its objects
        return []
    outs = []
    for entry in lock.stages.values():
        for o in entry.outs:
            declared = flags.get(o.path) if flags is not None else None
            if declared is not None and not declared.cache:
                continue
            push, remote = (declared.push, declared.remote) if declared is not None else (True, None)
            outs.append(UsedOut(o.path, o.oid, o.nfiles is not None, push, remote, rev, o.size))
    return outs


def used_outs(
    repo: RepoContext, *, all_branches: bool = False, all_tags: bool = False, all_commits: bool = False,
    workspace: bool = True, all_experiments: bool = False, revs: Sequence[str] = (),
    unreadable: OnUnreadable | None = None,
) -> list[UsedOut]:
    """Outs of the workspace plus those of the selected revisions (and the commits ``revs``),
    de-duplicated by (oid, kind); ``unreadable``: see ``outs_at_rev``."""
    seen: dict[tuple[Oid, bool], UsedOut] = {}
    groups: list[Iterable[UsedOut]] = []
    if workspace:
        groups.append(outs_in_workspace(repo, ignored_too=True))  # what to keep: err on keeping
    if repo.scm and (all_branches or all_tags or all_commits or all_experiments):
        for rev in repo.git.revisions(all_branches=all_branches, all_tags=all_tags, all_commits=all_commits,
                                      all_experiments=all_experiments):
            groups.append(outs_at_rev(repo, rev, unreadable=unreadable))
    for sha in revs:
        groups.append(outs_at_rev(repo, sha, unreadable=unreadable))
    for group in groups:
        for out in group:
            seen.setdefault((out.oid, out.is_dir), out)
    return list(seen.values())


def expand(odb: ObjectDB, outs: Iterable[UsedOut]) -> Expanded:
    """Every object the outs need: files, manifests and the files manifests list."""
    result = Expanded()
    for out in outs:
        result.objects.add(out.ref)
        if not out.is_dir:
            continue
        try:
            manifest = odb.read_manifest(out.oid)
        except (ObjectNotFoundError, CorruptObjectError, ManifestError):
            result.missing_manifests.append(out)
            continue
        result.objects.update(ObjectRef(e.oid, False) for e in manifest.entries)
    return result
