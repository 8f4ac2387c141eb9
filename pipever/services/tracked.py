"""Which pointer files and tracked outs exist, and which of them a command's targets select."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipever.data import pointer as ptr
from pipever.errors import DuplicatePointerOutError, PathOutsideRepoError, PointerError, TargetError
from pipever.paths import is_inside, resolve_inside, to_repo_path
from pipever.context import RepoContext


@dataclass(frozen=True)
class Tracked:
    pointer: ptr.Pointer
    index: int
    rel: str  # repo-relative path of the data

    @property
    def out(self) -> ptr.PointerOut:
        return self.pointer.outs[self.index]


def read_pointer(repo: RepoContext, rel: str) -> ptr.Pointer:
    try:
        data = resolve_inside(repo.root, rel).read_bytes()
    except PathOutsideRepoError as exc:  # a pointer that is a symlink out of the work tree
        raise PointerError(rel, exc.message) from None
    except FileNotFoundError:
        raise PointerError(rel, "file not found") from None
    except IsADirectoryError:
        raise PointerError(rel, "is a directory") from None
    return ptr.parse(data, rel)


def pointer_files(repo: RepoContext) -> list[str]:
    """RepoContext-relative paths of every pointer file in the work tree (that Git does not ignore)."""
    if repo.scm:
        return [p for p in repo.git.ls_pointer_files(ptr.SUFFIX) if os.path.isfile(repo.root / p)]
    return _walk_pointer_files(repo)


def _walk_pointer_files(repo: RepoContext) -> list[str]:
    found: list[str] = []
    for dirpath, dirs, files in os.walk(repo.root):
        rel_dir = os.path.relpath(dirpath, repo.root).replace(os.sep, "/")
        names = set(files)
        dirs[:] = [d for d in dirs if d not in (".git", ".pv") and d + ptr.SUFFIX not in names]
        for name in files:
            if name.endswith(ptr.SUFFIX) and name != ptr.SUFFIX:
                found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return sorted(found)


def all_tracked(repo: RepoContext, *, ignored_too: bool = False) -> list[Tracked]:
    """The outs of every pointer file. With ``ignored_too`` (what ``gc`` and ``fsck`` keep), also
    those of pointers Git ignores (written before an ignore rule came): their data must not be
    collected as unused. Such a file that is no valid pointer protects nothing and is skipped."""
    out: list[Tracked] = []
    listed = pointer_files(repo)
    for rel in listed:
        p = read_pointer(repo, rel)
        out.extend(Tracked(p, i, p.out_rel(o)) for i, o in enumerate(p.outs))
    _refuse_duplicates(out)
    if ignored_too and repo.scm:
        for rel in sorted(set(_walk_pointer_files(repo)) - set(listed)):
            try:
                p = read_pointer(repo, rel)
            except PointerError:
                continue
            out.extend(Tracked(p, i, p.out_rel(o)) for i, o in enumerate(p.outs))
    return out


def _refuse_duplicates(tracked: list[Tracked]) -> None:
    """DuplicatePointerOutError when two outs (of two pointer files, or of one) name the same
    path: each command would act on one of them, and checkout could replace one's data with the
    other's."""
    owners: dict[str, list[str]] = {}
    for t in tracked:
        owners.setdefault(t.rel, []).append(t.pointer.rel)
    if len(owners) == len(tracked):
        return
    rel, pointers = next((r, ps) for r, ps in sorted(owners.items()) if len(ps) > 1)
    raise DuplicatePointerOutError(rel, sorted(set(pointers)) if len(set(pointers)) > 1 else pointers)


def refuse_ignored_pointers(repo: RepoContext, pointer_rels: list[str]) -> None:
    """A pointer file Git ignores is invisible to pv (status, push, gc): refuse to write one."""
    hidden = repo.git.ignored(pointer_rels) if repo.scm else []
    if hidden:
        raise TargetError(
            f"'{hidden[0]}' would be ignored by Git",
            hint=f"change the .gitignore rule that ignores it ('git check-ignore -v {hidden[0]}' shows which)",
        )


def resolve_target(repo: RepoContext, arg: str) -> str:
    return to_repo_path(repo.root, arg)


def select(repo: RepoContext, targets: list[str], *, tracked: list[Tracked] | None = None) -> list[Tracked]:
    """Tracked outs selected by ``targets`` (data paths, pointer paths or directories holding
    them); all of them when ``targets`` is empty."""
    everything = tracked if tracked is not None else all_tracked(repo)
    if not targets:
        return everything
    chosen: dict[tuple[str, int], Tracked] = {}
    for arg in targets:
        rel = resolve_target(repo, arg)
        if rel.endswith(ptr.SUFFIX) and (repo.root / rel).is_file():
            p = read_pointer(repo, rel)
            for i, o in enumerate(p.outs):
                chosen[(rel, i)] = Tracked(p, i, p.out_rel(o))
            continue
        hits = [t for t in everything if is_inside(t.rel, rel) or is_inside(rel, t.rel)]
        if not hits:
            raise TargetError(f"'{arg}' is not tracked by pipever", hint=f"run 'pv add {arg}' to track it")
        for t in hits:
            chosen[(t.pointer.rel, t.index)] = t
    return sorted(chosen.values(), key=lambda t: t.rel)


def abspath(repo: RepoContext, rel: str) -> Path:
    return repo.root / rel
