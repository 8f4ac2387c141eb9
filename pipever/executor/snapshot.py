"""The workspace's Git-tracked files as one tree object (a directory manifest), uncommitted edits
included: what a worker needs besides a stage's declared deps, so code a stage imports without
declaring it works there as it does here. Files are hashed through the state db (unchanged files
are not read again) and stored in the cache, so they can be pushed like any object.

Tracked symlinks and submodules are left out (a worker tree holds regular files only), and so is
``.pv/`` (pv's config, which workers never read)."""

from __future__ import annotations

import stat as statmod

from pipever.errors import ExecutorError, PathOutsideRepoError
from pipever.fsutil import is_executable
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.odb import ObjectRef
from pipever.paths import check_relpath
from pipever.context import RepoContext

REGULAR_MODES = ("100644", "100755")


def tracked_files(repo: RepoContext) -> list[str]:
    """Paths of the regular files Git tracks (in the index), sorted, each once."""
    if not repo.scm:
        raise ExecutorError("running stages on a cluster needs Git: the workers get the Git-tracked files",
                            hint="use a Git repository, or run without --executor")
    out = repo.git.run("ls-files", "-z", "-s", "--cached")
    paths = set()
    for record in out.decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        if meta.split(" ", 1)[0] in REGULAR_MODES and _allowed(path):
            paths.add(path)
    return sorted(paths)


def _allowed(path: str) -> bool:
    """Whether a tree may hold ``path`` (pv's own ``.pv/`` config stays home: workers never need it)."""
    try:
        check_relpath(path)
    except PathOutsideRepoError:
        return False
    return True


def snapshot(repo: RepoContext) -> ObjectRef:
    """Store the tracked files as they are in the work tree (deleted ones left out) and their
    manifest in the cache; the manifest's ref."""
    ws = repo.workspace
    stats = []
    for rel in tracked_files(repo):
        try:
            st = (repo.root / rel).lstat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        if not statmod.S_ISREG(st.st_mode):
            continue
        found = ws.stat_file(rel)
        if found is not None:
            stats.append(found)
    hashed = ws.hash_files(stats)
    for h in hashed:
        repo.odb.add_file(repo.root / h.rel, h.oid, hashed_stat=h.st, display=h.rel)
    manifest = Manifest.build(Entry(h.rel, h.oid, h.st.st_size, is_executable(h.st.st_mode)) for h in hashed)
    return ObjectRef(repo.odb.add_manifest(manifest), True)
