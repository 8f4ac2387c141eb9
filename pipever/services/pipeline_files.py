"""Where a repository's pipeline files are (SPEC §8.1) and how all of them load as one pipeline.

Every ``pv.yaml`` in the work tree is a pipeline file, except under paths Git or ``.pvignore``
ignores and under ``.git``/``.pv``; at a commit, every ``pv.yaml`` of its tree. Each file is parsed
with its folder as the base of its paths, its ``pv.lock`` beside it, and ``pipeline.multi`` merges
them into one pipeline keyed ``NAME`` (root file) / ``sub/pv.yaml:NAME``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from pipever.paths import RESERVED, read_inside
from pipever.pipeline import multi
from pipever.pipeline.lockfile import Lockfile, parse_lockfile
from pipever.pipeline.stage import Pipeline
from pipever.context import RepoContext

ReadText = Callable[[str], "str | None"]


def workspace_files(repo: RepoContext) -> list[str]:
    """RepoContext-relative pipeline files of the work tree, the root's first, then by path."""
    if repo.scm:
        found = repo.git.ls_named(multi.PIPELINE_FILE)
    else:
        found = _walk(repo)
    ignore = repo.ignore
    files = []
    for rel in found:
        if rel.split("/", 1)[0].lower() in RESERVED or ".git" in rel.lower().split("/"):
            continue
        if rel != multi.PIPELINE_FILE and ignore(rel, False):
            continue
        if os.path.isfile(repo.root / rel):  # in the index but deleted from the work tree: gone
            files.append(rel)
    if multi.PIPELINE_FILE not in files and os.path.isfile(repo.root / multi.PIPELINE_FILE):
        files.append(multi.PIPELINE_FILE)
    return sorted(set(files), key=lambda f: (f != multi.PIPELINE_FILE, f))


def _walk(repo: RepoContext) -> list[str]:
    found: list[str] = []
    ignore = repo.ignore
    for top, dirs, names in os.walk(repo.root):
        rel_top = os.path.relpath(top, repo.root).replace(os.sep, "/")
        prefix = "" if rel_top == "." else rel_top + "/"
        dirs[:] = sorted(d for d in dirs if d.lower() not in RESERVED and not ignore(prefix + d, True))
        if multi.PIPELINE_FILE in names:
            found.append(prefix + multi.PIPELINE_FILE)
    return found


def files_at(repo: RepoContext, sha: str) -> list[str]:
    """Pipeline files in the tree of commit ``sha``, the root's first."""
    files = [f for f in repo.git.ls_named_at(sha, multi.PIPELINE_FILE)
             if f.split("/", 1)[0].lower() not in RESERVED]
    return sorted(files, key=lambda f: (f != multi.PIPELINE_FILE, f))


def load(files: Iterable[str], read_text: ReadText) -> Pipeline:
    """Parse each pipeline file and merge them; SchemaError naming the file when one is invalid."""
    from pipever.pipeline.schema import load_pipeline

    parts = []
    for rel in files:
        text = read_text(rel)
        if text is not None:
            parts.append(load_pipeline(text, rel, read_file=read_text))
    return multi.merge(parts)


def load_locks(files: Iterable[str], read_text: ReadText) -> Lockfile:
    """The ``pv.lock`` beside each pipeline file, merged (keys as ``multi.merge``)."""
    locks = {}
    for rel in files:
        lock_rel = multi.lock_file_of(rel)
        text = read_text(lock_rel)
        if text is not None:
            locks[lock_rel] = parse_lockfile(text, lock_rel)
    return multi.merge_locks(locks)


def workspace_reader(repo: RepoContext) -> ReadText:
    def read(rel: str) -> str | None:
        data = read_inside(repo.root, rel)
        return None if data is None else data.decode("utf-8")

    return read


def lock_files(repo: RepoContext) -> list[str]:
    """The ``pv.lock`` files of the work tree that exist (beside a pipeline file or not)."""
    found = {multi.lock_file_of(f) for f in workspace_files(repo)}
    if repo.scm:
        found.update(repo.git.ls_named(multi.LOCK_FILE))
    return sorted(f for f in found if os.path.isfile(repo.root / f))
