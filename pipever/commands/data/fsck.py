"""``pv fsck``: re-hash every cache object (and with a remote, every object the workspace needs
there); quarantine corrupt local objects in ``.pv/tmp/bad/``; with ``repair``, replace them with
verified copies from the remote, or re-upload a good local copy over a corrupt remote one."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipever.concurrency import default_jobs, thread_map
from pipever.errors import ManifestError, PvError
from pipever.objects import manifest as mf
from pipever.objects.hashing import hash_bytes, hash_file
from pipever.objects.odb import ObjectRef
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.remote.base import Remote


@dataclass
class FsckResult:
    checked: int = 0
    corrupt: list[str] = field(default_factory=list)  # local oids found corrupt (quarantined)
    repaired: list[str] = field(default_factory=list)  # local oids replaced from the remote
    remote_checked: int = 0
    remote_corrupt: list[str] = field(default_factory=list)
    remote_missing: list[str] = field(default_factory=list)
    remote_repaired: list[str] = field(default_factory=list)
    unrepaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (set(self.corrupt) - set(self.repaired)) and not (
            set(self.remote_corrupt) - set(self.remote_repaired)
        ) and not self.unrepaired


def _is_good(repo: RepoContext, ref: ObjectRef) -> bool:
    path = repo.odb.path(ref.oid, is_dir=ref.is_dir)
    try:
        if hash_file(path) != ref.oid:
            return False
        if ref.is_dir:
            mf.from_bytes(path.read_bytes(), what=str(ref.oid))
    except (OSError, ManifestError):
        return False
    return True


def fsck(
    repo: RepoContext, *, remote: str | None = None, check_remote: bool = False, repair: bool = False,
    jobs: int = 0, progress: Progress = NO_PROGRESS,
) -> FsckResult:
    result = FsckResult()
    with repo.locked():
        refs = list(repo.odb.iter_objects())
        progress.start("Verifying cache", len(refs))

        def check(ref: ObjectRef) -> tuple[ObjectRef, bool]:
            good = _is_good(repo, ref)
            progress.advance()
            return ref, good

        outcomes = thread_map(check, refs, jobs=jobs or default_jobs(io_bound=False) * 2)
        progress.done()
        result.checked = len(refs)
        bad = [ref for ref, good in outcomes if not good]
        for ref in bad:
            repo.odb.quarantine(ref.oid, repo.tmp_dir / "bad", is_dir=ref.is_dir)
            result.corrupt.append(str(ref.oid))
        if bad:
            repo.state.clear_complete()
            repo.state.forget("\x00cache/" + r.oid.hex for r in bad)
        if repair:  # also what an earlier run quarantined and nothing brought back since
            earlier = [r for r in _quarantined(repo) if r not in bad and not repo.odb.exists(r.oid, is_dir=r.is_dir)]
            bad += earlier
            result.corrupt += [str(r.oid) for r in earlier]
        if not (repair and bad) and not check_remote:
            return result
        from pipever.services import cloud

        rem = cloud.open_remote(repo, remote)
        if repair:
            for ref in bad:
                try:
                    rem.download(ref, repo.odb)
                    result.repaired.append(str(ref.oid))
                except PvError:
                    result.unrepaired.append(str(ref.oid))
        if check_remote:
            _check_remote(repo, rem, result, repair=repair)
    return result


def _quarantined(repo: RepoContext) -> list[ObjectRef]:
    """Objects in ``.pv/tmp/bad/`` (named ``<64 hex>[.dir]``)."""
    from pipever.objects.oid import ALGO, oid_from_relpath

    try:
        names = sorted(os.listdir(repo.tmp_dir / "bad"))
    except (FileNotFoundError, NotADirectoryError):
        return []
    refs = []
    for name in names:
        parsed = oid_from_relpath(f"{ALGO}/{name[:2]}/{name[2:]}")
        if parsed is not None:
            refs.append(ObjectRef(*parsed))
    return refs


def _check_remote(repo: RepoContext, rem: Remote, result: FsckResult, *, repair: bool) -> None:
    from pipever.services import used

    needed = used.expand(repo.odb, used.used_outs(repo)).objects
    present = rem.existing(needed)
    result.remote_missing = sorted(str(r.oid) for r in needed - present)
    for ref in sorted(present, key=lambda r: r.oid.hex):
        result.remote_checked += 1
        data = rem.read_bytes(ref)
        if hash_bytes(data) == ref.oid:
            continue
        result.remote_corrupt.append(str(ref.oid))
        if repair and repo.odb.exists(ref.oid, is_dir=ref.is_dir) and _is_good(repo, ref):
            rem.upload(ref, repo.odb.path(ref.oid, is_dir=ref.is_dir))
            result.remote_repaired.append(str(ref.oid))

