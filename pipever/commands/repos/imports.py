"""``pv import REPO PATH [-o OUT] [--rev R]`` and ``pv update [TARGET...] [--rev R]``.

An import is ``pv get`` into this repository's cache plus a pointer that records where the data
came from, in DVC's layout::

    outs:
    - path: data.csv
      oid: blake3:…
      size: 1024
    deps:
    - path: data/data.csv          # in the source repository
      repo: {url: https://github.com/org/registry, rev: v2, rev_lock: <commit sha>}

The data is then checked out like any tracked data (and ``/OUT`` git-ignored, both staged in Git
with ``core.autostage``). ``pv update`` reads the source again at its recorded ``rev`` (or a new
``--rev``; without one, its default branch) and moves the pointer when the data changed there.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.errors import CheckoutConflictError, PvError, TargetError
from pipever.fsutil import atomic_write_text
from pipever.services import tracked as trk
from pipever.commands.repos.extrepo import open_external
from pipever.commands.repos.get import Content, default_out, resolve
from pipever.paths import is_inside
from pipever.remote.url import mask_url
from pipever.context import RepoContext


@dataclass(frozen=True)
class ImportSource:
    url: str
    path: str
    rev: str | None  # as asked (None: the default branch)
    rev_lock: str  # the commit the data was read at


@dataclass(frozen=True)
class Imported:
    pointer: str
    rel: str
    size: int
    nfiles: int | None
    source: ImportSource


@dataclass
class UpdateResult:
    updated: list[Imported] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # pointer files
    staged: list[str] = field(default_factory=list)


def import_source(pointer: ptr.Pointer) -> ImportSource | None:
    """Where an import pointer's data comes from (None for pointers of ``pv add``)."""
    deps = pointer.extra.get("deps")
    if not isinstance(deps, list) or len(deps) != 1 or not isinstance(deps[0], Mapping):
        return None
    repo = deps[0].get("repo")
    if not isinstance(repo, Mapping) or not isinstance(repo.get("url"), str):
        return None
    rev, lock = repo.get("rev"), repo.get("rev_lock")
    return ImportSource(repo["url"], str(deps[0].get("path", "")), str(rev) if rev else None, str(lock or ""))


def _deps(source: ImportSource) -> list[dict[str, Any]]:
    repo: dict[str, Any] = {"url": source.url}
    if source.rev:
        repo["rev"] = source.rev
    repo["rev_lock"] = source.rev_lock
    return [{"path": source.path, "repo": repo}]


def _check_dest(repo: RepoContext, rel: str) -> None:
    pointer_rel = ptr.pointer_rel_for(rel)
    for path in (rel, pointer_rel):
        if os.path.lexists(repo.root / path):
            raise TargetError(f"'{path}' already exists", hint="remove it, or choose another path with -o")
    if repo.scm and repo.git.tracked([rel]):
        raise TargetError(f"'{rel}' is tracked by Git", hint=f"run 'git rm -r --cached {rel}' first")
    trk.refuse_ignored_pointers(repo, [pointer_rel])
    for t in trk.all_tracked(repo):
        if is_inside(rel, t.rel) or is_inside(t.rel, rel):
            raise TargetError(f"'{rel}' overlaps the tracked '{t.rel}'", hint="import to another path with -o")


def _write(repo: RepoContext, pointer: ptr.Pointer) -> str:
    atomic_write_text(repo.root / pointer.rel, ptr.dump(pointer))
    return pointer.rel


def _stage(repo: RepoContext, pointers: list[str], rels: list[str]) -> list[str]:
    if not repo.autostage or not pointers:
        return []
    paths = sorted({*pointers, *(gitignore.gitignore_rel(r) for r in rels)})
    paths = [p for p in paths if (repo.root / p).exists()]
    repo.git.add(paths)
    return paths


def import_(
    repo: RepoContext, url: str, path: str, *, out: str | None = None, rev: str | None = None, jobs: int | None = None,
) -> tuple[Imported, list[str]]:
    """Import ``path`` of the pv repository ``url`` (at ``rev``) as ``out``; returns what was
    imported and the paths staged in Git."""
    dest = out or default_out(path)
    if os.path.isdir(dest) and not os.path.islink(dest):  # into an existing directory, like get
        dest = os.path.join(dest, default_out(path))
    rel = trk.resolve_target(repo, dest)
    _check_dest(repo, rel)
    if mask_url(url) != url:
        raise PvError(f"the repository URL '{mask_url(url)}' contains a password, which 'pv import' would record "
                      "in the committed pointer file",
                      hint="give Git the credentials another way (a credential helper, or an SSH URL)")
    with repo.locked(), open_external(url, rev=rev, cache_dir=repo.cache_dir) as ext:
        loc = ext.locate(path)
        content = resolve(ext, loc, jobs=jobs)
        source = ImportSource(ext.url, loc.rel, rev, ext.sha)
        _check_dest(repo, rel)
        pointer = ptr.Pointer(ptr.pointer_rel_for(rel), (_out(rel, content, {}),), {"deps": _deps(source)})
        _write(repo, pointer)
    _checkout(repo, pointer.rel, previous=None)
    staged = _stage(repo, [pointer.rel], [rel])
    return Imported(pointer.rel, rel, content.size, content.nfiles, source), staged


def _out(rel: str, content: Content, extra: Mapping[str, Any]) -> ptr.PointerOut:
    return ptr.PointerOut(posixpath.basename(rel), content.oid, content.size, content.nfiles, dict(extra))


def _checkout(repo: RepoContext, pointer_rel: str, *, previous: str | None, force: bool = False) -> None:
    """Check the new data out; on a conflict put the previous pointer text back (or remove it)."""
    from pipever.commands.data.checkout import checkout

    try:
        checkout(repo, [pointer_rel], force=force)
    except CheckoutConflictError:
        if previous is None:
            os.unlink(repo.root / pointer_rel)
        else:
            atomic_write_text(repo.root / pointer_rel, previous)
        raise


def update(
    repo: RepoContext, targets: list[str], *, rev: str | None = None, jobs: int | None = None, force: bool = False,
) -> UpdateResult:
    """Refresh imports (all of them when ``targets`` is empty) from their source repositories;
    ``force`` discards local changes to the imported data."""
    chosen = {t.pointer.rel: t.pointer for t in trk.select(repo, targets)}
    imports = {rel: p for rel, p in chosen.items() if import_source(p) is not None}
    if targets and len(imports) < len(chosen):
        plain = sorted(set(chosen) - set(imports))
        raise TargetError(f"'{plain[0]}' is not an import", hint="'pv update' refreshes data brought in by 'pv import'")
    result = UpdateResult()
    try:
        for rel, pointer in sorted(imports.items()):
            _update_one(repo, rel, pointer, rev=rev, jobs=jobs, force=force, result=result)
    finally:  # what was updated before a failure is staged too
        result.staged = _stage(repo, [i.pointer for i in result.updated], [i.rel for i in result.updated])
    return result


def _update_one(
    repo: RepoContext, rel: str, pointer: ptr.Pointer, *, rev: str | None, jobs: int | None, force: bool,
    result: UpdateResult,
) -> None:
    src = import_source(pointer)
    assert src is not None
    wanted = rev or src.rev
    with repo.locked(), open_external(src.url, rev=wanted, cache_dir=repo.cache_dir) as ext:
        content = resolve(ext, ext.locate(src.path), jobs=jobs)
        source = ImportSource(src.url, src.path, wanted, ext.sha)
    old = pointer.outs[0]
    if source == src and content.oid == old.oid:
        result.unchanged.append(rel)
        return
    previous = (repo.root / rel).read_text(encoding="utf-8")
    out = ptr.PointerOut(old.path, content.oid, content.size, content.nfiles, old.extra)
    new = replace(pointer, outs=(out, *pointer.outs[1:]), extra={**pointer.extra, "deps": _deps(source)})
    _write(repo, new)
    _checkout(repo, rel, previous=previous, force=force)
    result.updated.append(Imported(rel, pointer.out_rel(old), content.size, content.nfiles, source))
