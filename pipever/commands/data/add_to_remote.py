"""``pv add --to-remote``: track data by streaming it to a remote, without a cache copy (SPEC §6).

For data bigger than the local disk: each file is hashed and sent (small ones into packs, big
ones hashed while they stream, as chunks in packs on a packed remote), then the pointer is
written and staged as ``pv add`` does. The cache keeps only a directory's manifest (small; it
says which files the directory has). The workspace data stays as it is; ``pv pull`` elsewhere brings it back from the remote.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pipever.errors import TargetError
from pipever.fsutil import is_executable
from pipever.objects.build import FileStat, Hashed, manifest_of
from pipever.objects.odb import ChangedWhileReadingError, ObjectRef
from pipever.commands.data import add as add_op
from pipever.services import cloud, tracked as trk
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.services.save import Saved, scan
from pipever.remote import direct
from pipever.remote.base import Remote
from pipever.context import RepoContext


def add_to_remote(
    repo: RepoContext, targets: Sequence[str], *, remote: str | None = None, use_glob: bool = False, jobs: int = 0,
    progress: Progress = NO_PROGRESS,
) -> add_op.AddResult:
    if not targets:
        raise TargetError("nothing to add", hint="name files or directories: 'pv add --to-remote data'")
    rels = add_op.expand_targets(repo, list(targets), use_glob=use_glob)
    tracked = trk.all_tracked(repo)
    from pipever.services.stages import stage_out_paths

    stage_outs = stage_out_paths(repo)
    for rel in rels:
        add_op.check_target(repo, rel, tracked, stage_outs)
    if repo.scm:
        in_git = repo.git.tracked(rels)
        if in_git:
            raise TargetError(f"'{in_git[0]}' is tracked by Git", hint=f"run 'git rm -r --cached {in_git[0]}' first")
    existing = {t.rel: t for t in tracked}
    result = add_op.AddResult()
    to_stage: list[str] = []
    rem = cloud.open_remote(repo, remote)
    with repo.locked():
        scans = {rel: scan(repo, rel) for rel in rels}
        result.skipped = sorted(set(repo.workspace.dangling))
        for rel in rels:
            saved = _send(repo, rem, rel, scans[rel], jobs=jobs, progress=progress)
            add_op.record_added(repo, result, to_stage, add_op.write_pointer(repo, rel, existing.get(rel), saved))
        if rem.packed:
            rem.packs.publish_index_list()
        add_op.finish(repo, result, to_stage)
    return result


def _send(repo: RepoContext, rem: Remote, rel: str, found: list[FileStat] | FileStat, *, jobs: int,
          progress: Progress) -> Saved:
    files = found if isinstance(found, list) else [found]
    threshold = rem.pack_threshold if rem.packed else 0
    small = [f for f in files if f.st.st_size < threshold]
    big = [f for f in files if f.st.st_size >= threshold]
    progress.start(f"Hashing {rel}", sum(f.st.st_size for f in small), unit="bytes")
    hashed = repo.workspace.hash_files(small, jobs=jobs, on_hashed=progress.advance) if small else []
    progress.done()
    have = rem.existing([ObjectRef(h.oid, False) for h in hashed])
    progress.start(f"Sending {rel} to '{rem.name}'", len(files))
    todo = [(ObjectRef(h.oid, False), repo.root / h.rel, h.st.st_size) for h in hashed
            if ObjectRef(h.oid, False) not in have]
    direct.put_small(rem, todo)
    progress.advance(len(hashed))
    for f in big:  # hashed while they stream (as chunks in packs on a packed remote)
        def unchanged(f: FileStat = f) -> None:
            after = os.stat(repo.root / f.rel)
            if (after.st_size, after.st_mtime_ns, after.st_ino) != (f.st.st_size, f.st.st_mtime_ns, f.st.st_ino):
                raise ChangedWhileReadingError(f.rel)

        oid, size = direct.put_stream(rem, direct.file_pieces(repo.root / f.rel), check=unchanged)
        if size != f.st.st_size:
            raise ChangedWhileReadingError(f.rel)
        repo.state.set(f.rel, f.st, oid)
        hashed.append(Hashed(f.rel, f.st, oid, True))
        progress.advance()
    progress.done()
    if not isinstance(found, list):
        h = hashed[0]
        return Saved(rel, h.oid, h.st.st_size, None, is_executable(h.st.st_mode))
    manifest = manifest_of(rel, hashed)
    oid, _ = direct.put_manifest(rem, repo.odb, manifest)
    return Saved(rel, oid, manifest.size, manifest.nfiles)


__all__ = ["add_to_remote"]
