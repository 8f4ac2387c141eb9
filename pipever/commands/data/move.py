"""``pv move SRC DST``: rename tracked data together with its pointer and ``.gitignore`` entries.

The pointer moves to ``DST.pv`` with its ``path`` updated (other keys kept). A destination that
is an existing directory receives SRC inside it, as with ``mv``; an existing destination file or
pointer is refused, as is one outside the repository or inside other tracked data. Everything is
checked before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from dataclasses import dataclass, field, replace

from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.errors import PvError, TargetError
from pipever.fsutil import atomic_write_text
from pipever.services import tracked as trk
from pipever.paths import check_physical, is_inside, join
from pipever.context import RepoContext


@dataclass
class MoveResult:
    src: str
    dst: str
    old_pointer: str
    new_pointer: str
    staged: list[str] = field(default_factory=list)


def move(repo: RepoContext, src: str, dst: str) -> MoveResult:
    tracked = trk.all_tracked(repo)
    t = _source(repo, src, tracked)
    dst_rel = _destination(repo, t.rel, dst, tracked)
    new_pointer_rel = ptr.pointer_rel_for(dst_rel)
    out = replace(t.out, path=posixpath.basename(dst_rel))
    pointer = replace(t.pointer, rel=new_pointer_rel, outs=(out,))
    old_in_git = repo.autostage and bool(repo.git.tracked([t.pointer.rel]))
    result = MoveResult(t.rel, dst_rel, t.pointer.rel, new_pointer_rel)
    src_full, dst_full = repo.root / t.rel, repo.root / dst_rel
    with repo.locked():
        dst_full.parent.mkdir(parents=True, exist_ok=True)
        moved = os.path.lexists(src_full)
        if moved:
            os.rename(src_full, dst_full)
        try:
            atomic_write_text(repo.root / new_pointer_rel, ptr.dump(pointer))
        except BaseException:
            if moved:
                os.rename(dst_full, src_full)
            raise
        os.unlink(repo.root / t.pointer.rel)
        to_stage = {new_pointer_rel}
        for changed in (gitignore.remove_entry(repo.root, t.rel), gitignore.add_entry(repo.root, dst_rel)):
            if changed:
                to_stage.add(changed)
        if moved:
            _carry_state(repo, t.rel, dst_rel)
        repo.state.flush()
        if repo.autostage:
            if old_in_git:
                to_stage.add(t.pointer.rel)
            stage = sorted(f for f in to_stage if os.path.exists(repo.root / f) or repo.git.tracked([f]))
            repo.git.add(stage)
            result.staged = stage
    return result


def _source(repo: RepoContext, src: str, tracked: list[trk.Tracked]) -> trk.Tracked:
    rel = trk.resolve_target(repo, src)
    if rel.endswith(ptr.SUFFIX) and (repo.root / rel).is_file():
        hits = [t for t in tracked if t.pointer.rel == rel]
        if not hits:
            p = trk.read_pointer(repo, rel)  # not listed (e.g. ignored by Git): read it directly
            hits = [trk.Tracked(p, i, p.out_rel(o)) for i, o in enumerate(p.outs)]
    else:
        hits = [t for t in tracked if t.rel == rel]
    if not hits:
        outer = [t for t in tracked if is_inside(rel, t.rel)]
        if outer:
            raise TargetError(
                f"'{rel}' is inside the tracked directory '{outer[0].rel}'",
                hint=f"move the whole directory ('pv move {outer[0].rel} ...'), or move the file and 'pv add {outer[0].rel}'",
            )
        raise TargetError(f"'{rel}' is not tracked by pipever", hint="use 'git mv' or 'mv' for files pipever does not track")
    if len(hits[0].pointer.outs) > 1:
        raise TargetError(f"'{hits[0].pointer.rel}' tracks more than one path", hint="'pv move' moves pointers with a single path; edit the pointer file instead")
    return hits[0]


def _destination(repo: RepoContext, src_rel: str, dst: str, tracked: list[trk.Tracked]) -> str:
    rel = trk.resolve_target(repo, dst)
    full = repo.root / rel
    if full.is_dir() and not full.is_symlink() and rel != src_rel:
        rel = join(rel, posixpath.basename(src_rel))  # into an existing directory, like mv
        full = repo.root / rel
    if rel == src_rel:
        raise TargetError(f"'{dst}' is '{src_rel}' itself", hint="give a different destination")
    if is_inside(rel, src_rel):
        raise TargetError(f"cannot move '{src_rel}' into itself ('{rel}')", hint="give a destination outside it")
    check_physical(repo.root, rel)
    for what in (rel, ptr.pointer_rel_for(rel)):
        if os.path.lexists(repo.root / what):
            raise TargetError(f"'{what}' already exists", hint="choose another destination, or remove it first")
    for t in tracked:
        if t.rel != src_rel and is_inside(rel, t.rel):
            raise TargetError(f"'{rel}' is inside the tracked directory '{t.rel}'", hint="choose a destination outside tracked data")
    if repo.scm and repo.git.tracked([rel]):
        raise TargetError(f"'{rel}' is tracked by Git", hint=f"run 'git rm -r --cached {rel}' first, or choose another destination")
    trk.refuse_ignored_pointers(repo, [ptr.pointer_rel_for(rel)])
    from pipever.services.stages import stage_out_paths

    for out in stage_out_paths(repo):
        if is_inside(rel, out) or is_inside(out, rel):
            raise TargetError(f"'{rel}' is an output of a stage in pv.yaml", hint="choose a destination no stage writes")
    return rel


def _carry_state(repo: RepoContext, src_rel: str, dst_rel: str) -> None:
    """A rename keeps inode, size and mtime: move the state db's entries so nothing is re-hashed."""
    ws = repo.workspace
    with contextlib.suppress(PvError, OSError):
        full = repo.root / dst_rel
        files = ws.walk(dst_rel) if full.is_dir() and not full.is_symlink() else [f for f in [ws.stat_file(dst_rel)] if f]
        n = len(dst_rel)
        for f in files:
            old = src_rel + f.rel[n:]
            oid = repo.state.get(old, f.st)
            if oid is not None:
                repo.state.set_trusted(f.rel, f.st, oid)
