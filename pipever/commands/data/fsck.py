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
    remote_bad_indexes: list[str] = field(default_factory=list)  # pack indexes that fail their hash
    remote_removed_indexes: list[str] = field(default_factory=list)  # removed by --repair

    @property
    def ok(self) -> bool:
        return not (set(self.corrupt) - set(self.repaired)) and not (
            set(self.remote_corrupt) - set(self.remote_repaired)
        ) and not self.unrepaired and not (set(self.remote_bad_indexes) - set(self.remote_removed_indexes))


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
    from pipever.remote import transfer
    from pipever.services import used

    rem.packs.load(tolerant=True, force=True, fresh=True)  # a corrupt index is reported (and with repair removed), not fatal
    result.remote_bad_indexes = list(rem.packs.bad_indexes)
    needed = used.expand(repo.odb, used.used_outs(repo)).objects
    present = rem.existing(needed)
    result.remote_missing = sorted(str(r.oid) for r in needed - present)
    packed = {r for r in present if rem.packs.locations(r)}
    bad = set(rem.packs.verify(packed))  # packs: merged range reads
    chunked = {r for r in present - packed if rem.packs.chunked(r)}
    if chunked:
        from pipever.remote import chunkfetch

        bad |= {r for r in chunked if chunkfetch.verify(rem.packs, r) is not None}
    result.remote_checked = len(present)
    for ref in sorted(present - packed - chunked, key=lambda r: r.oid.hex):
        if hash_bytes(rem.read_loose(ref)) != ref.oid:
            bad.add(ref)
    result.remote_corrupt = sorted(str(r.oid) for r in bad)
    if not repair:
        return
    # re-upload good local copies (on a packed remote: in a new pack, which readers try first),
    # and what only a corrupt index listed
    lost = {r for r in needed - present if repo.odb.exists(r.oid, is_dir=r.is_dir)}
    good = [r for r in sorted(bad | lost, key=lambda r: r.oid.hex)
            if repo.odb.exists(r.oid, is_dir=r.is_dir) and _is_good(repo, r)]
    files = [r for r in good if not r.is_dir]
    manifests: dict[ObjectRef, list[ObjectRef]] = {r: [] for r in good if r.is_dir}
    if rem.packed:
        rem.packs.resend_chunks = True  # a bad chunk may be what made a chunked file bad
        outcome = transfer.upload(rem, repo.odb, files, manifests, present=(), jobs=rem.jobs)
        done = set(outcome.done)
    else:
        done = set()
        for ref in good:
            rem.upload(ref, repo.odb.path(ref.oid, is_dir=ref.is_dir))
            done.add(ref)
    result.remote_repaired = sorted(str(r.oid) for r in done & bad)
    result.remote_missing = sorted(set(result.remote_missing) - {str(r.oid) for r in done})
    if not (lost - done):
        for rel in result.remote_bad_indexes:
            rem.packs.remove_index(rel)
        result.remote_removed_indexes = list(result.remote_bad_indexes)
