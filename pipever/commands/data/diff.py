"""``pv diff``: tracked data added, deleted, modified or renamed between two Git revisions, or
between a revision and the workspace, down to the files inside tracked directories.

A revision's outs come from its pointer files and ``pv.lock``, read from Git objects (nothing is
checked out); directories expand through their manifests in the cache. The workspace side is the
data actually on disk (hashed through the state db, so unchanged files are only stat'ed). A
directory whose manifest is not in the cache is compared as a whole (its ``dir/`` entry only).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from pipever.errors import GitError, ManifestError, ObjectNotFoundError
from pipever.objects.build import manifest_of
from pipever.objects.diff import Item, TreeDiff, diff_trees, manifest_items
from pipever.objects.manifest import manifest_oid
from pipever.services import used
from pipever.context import RepoContext

Tree = dict[str, Item]


@dataclass(frozen=True)
class DiffResult:
    a_rev: str
    b_rev: str | None  # None: the workspace
    changes: TreeDiff
    unexpanded: tuple[str, ...] = ()  # directories compared as a whole (manifest not in the cache)


def diff(repo: RepoContext, *, a_rev: str | None = None, b_rev: str | None = None) -> DiffResult:
    """Compare ``a_rev`` (default ``HEAD``) with ``b_rev`` (default: the workspace)."""
    if not repo.scm:
        raise GitError("'pv diff' compares Git revisions, but this repository has no Git", hint="use it in a Git repository ('pv init' without --no-scm)")
    a = a_rev or "HEAD"
    unexpanded: set[str] = set()
    if a_rev is None and not repo.git.has_commits():
        old: Tree = {}  # a fresh repository: everything is new
    else:
        old = _rev_tree(repo, used.outs_at_rev(repo, repo.git.resolve(a)), unexpanded)
    if b_rev is None:
        new = _workspace_tree(repo, used.outs_in_workspace(repo))
        repo.state.flush()
    elif repo.git.resolve(b_rev) == repo.git.resolve(a):
        new = old
    else:
        new = _rev_tree(repo, used.outs_at_rev(repo, repo.git.resolve(b_rev)), unexpanded)
    for rel in unexpanded:
        _collapse(old, rel)
        _collapse(new, rel)
    return DiffResult(a, b_rev, diff_trees(old, new), tuple(sorted(unexpanded)))


def _rev_tree(repo: RepoContext, outs: Iterable[used.UsedOut], unexpanded: set[str]) -> Tree:
    tree: Tree = {}
    for out in outs:
        if not out.is_dir:
            tree[out.rel] = Item(out.oid, out.size if out.size is not None else _cached_size(repo, out))
            continue
        try:
            manifest = repo.odb.read_manifest(out.oid)
        except ObjectNotFoundError:
            tree[out.rel + "/"] = Item(out.oid, out.size)
            unexpanded.add(out.rel)
            continue
        except ManifestError as exc:
            raise ManifestError(f"'{out.rel}' ({out.oid})", exc.problem) from exc
        tree[out.rel + "/"] = Item(out.oid, manifest.size)
        tree.update(manifest_items(out.rel, manifest))
    return tree


def _workspace_tree(repo: RepoContext, outs: Iterable[used.UsedOut]) -> Tree:
    ws = repo.workspace
    tree: Tree = {}
    for out in outs:
        full = repo.root / out.rel
        if os.path.isdir(full) and not os.path.islink(full):
            manifest = manifest_of(out.rel, ws.hash_files(ws.walk(out.rel, repo.ignore)))
            tree[out.rel + "/"] = Item(manifest_oid(manifest), manifest.size)
            tree.update(manifest_items(out.rel, manifest))
            continue
        fs = ws.stat_file(out.rel)
        if fs is not None:  # a missing out is simply not in the tree: deleted
            tree[out.rel] = Item(ws.hash_files([fs])[0].oid, fs.st.st_size)
    return tree


def _cached_size(repo: RepoContext, out: used.UsedOut) -> int | None:
    try:
        return os.stat(repo.odb.path(out.oid)).st_size
    except FileNotFoundError:
        return None


def _collapse(tree: Tree, rel_dir: str) -> None:
    """Drop the files below ``rel_dir``, keeping its ``dir/`` entry."""
    prefix = rel_dir + "/"
    for path in [p for p in tree if p.startswith(prefix) and p != prefix]:
        del tree[path]
