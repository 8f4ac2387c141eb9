"""``pv gc --cloud``: delete remote objects that nothing asked to keep references, in two phases.

``plan_gc_cloud`` lists the remote and returns what would go: every object whose name matches
the object layout (``blake3/xx/<62 hex>[.dir]``; anything else on the remote is never touched)
and that is not kept. Kept directories are expanded through their manifests -- from the cache,
or else from the remote itself -- so the files of a kept directory are kept even when the
caller's set lacks them; a kept directory whose manifest is nowhere to be read stops the plan.
``apply_gc_cloud`` deletes the planned objects, every manifest before any file, so an
interrupted run never leaves a manifest whose files are gone.

Local ``pv gc`` (``commands/data/gc.py``) computes the kept set and calls these for ``--cloud``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from pipever.errors import CorruptObjectError, ManifestError, ObjectNotFoundError, PvError, TransferError
from pipever.objects import manifest as mf
from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ObjectRef
from pipever.services import cloud
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.remote import transfer
from pipever.remote.base import Remote
from pipever.context import RepoContext


@dataclass(frozen=True)
class CloudGcPlan:
    remote: str
    remove: tuple[ObjectRef, ...]  # manifests first, then files
    kept: int  # objects on the remote that stay

    @property
    def empty(self) -> bool:
        return not self.remove


@dataclass
class CloudGcResult:
    remote: str
    removed: list[ObjectRef] = field(default_factory=list)


def plan_gc_cloud(repo: RepoContext, keep: Collection[ObjectRef], *, remote: str | None = None,
                  progress: Progress = NO_PROGRESS) -> CloudGcPlan:
    """What ``apply_gc_cloud`` would delete from ``remote`` (default remote when None)."""
    rem = cloud.open_remote(repo, remote)
    progress.start(f"Listing remote '{rem.name}'", None)
    try:
        on_remote = {ref for ref, _ in rem.iter_objects()}
    finally:
        progress.done()
    kept = set(keep)
    unreadable: list[str] = []
    for ref in [r for r in kept if r.is_dir]:
        try:
            entries = _manifest_entries(repo, rem, ref, on_remote)
        except (CorruptObjectError, ManifestError, ObjectNotFoundError) as exc:
            unreadable.append(f"{ref.oid} ({exc.message})")
            continue
        kept.update(entries)
    if unreadable:
        raise PvError(
            f"cannot tell which files {len(unreadable)} kept director(ies) need; their manifests are "
            "neither in the cache nor readable on remote '" + rem.name + "': " + ", ".join(unreadable[:5]),
            hint="fetch or push those directories first; nothing was deleted",
        )
    remove = sorted(on_remote - kept, key=lambda r: (not r.is_dir, r.relpath))
    return CloudGcPlan(rem.name, tuple(remove), len(on_remote) - len(remove))


def _manifest_entries(repo: RepoContext, rem: Remote, ref: ObjectRef, on_remote: set[ObjectRef]) -> list[ObjectRef]:
    try:
        manifest = repo.odb.read_manifest(ref.oid)
    except ObjectNotFoundError:
        if ref not in on_remote:
            raise
        data = rem.read_bytes(ref)
        if hash_bytes(data) != ref.oid:
            raise CorruptObjectError(str(ref.oid), where=f"remote '{rem.name}'") from None
        manifest = mf.from_bytes(data, what=str(ref.oid))
    return [ObjectRef(e.oid, False) for e in manifest.entries]


def apply_gc_cloud(repo: RepoContext, plan: CloudGcPlan, *, jobs: int | None = None,
                   progress: Progress = NO_PROGRESS) -> CloudGcResult:
    """Delete what ``plan`` lists; TransferError lists objects that could not be deleted."""
    rem = cloud.open_remote(repo, plan.remote)
    result = CloudGcResult(rem.name)
    if plan.empty:
        return result
    progress.start(f"Deleting from '{rem.name}'", len(plan.remove))
    try:
        outcome = transfer.delete(rem, list(plan.remove), jobs=jobs or rem.jobs, advance=progress.advance)
    finally:
        progress.done()
    result.removed = outcome.done
    failed = [str(r.oid) for r, _ in outcome.failed] + [str(r.oid) for r in outcome.not_attempted]
    if failed:
        first = outcome.fatal or (outcome.failed[0][1] if outcome.failed else None)
        raise TransferError("delete", failed, done=len(outcome.done), first_error=first.message if first else None)
    return result


def gc_cloud(repo: RepoContext, keep: Collection[ObjectRef], *, remote: str | None = None, jobs: int | None = None,
             dry: bool = False, progress: Progress = NO_PROGRESS) -> tuple[CloudGcPlan, CloudGcResult]:
    """Plan and (unless ``dry``) apply in one call, for callers that confirmed already."""
    plan = plan_gc_cloud(repo, keep, remote=remote, progress=progress)
    if dry:
        return plan, CloudGcResult(plan.remote)
    return plan, apply_gc_cloud(repo, plan, jobs=jobs, progress=progress)
