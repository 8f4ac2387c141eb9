"""Moving objects by oid between a cache (``ObjectDB``) and a remote, for the executor: the driver
pushes a stage's tree and fetches its outputs; a worker does the opposite. Everything goes through
``remote.transfer`` (bulk existence checks, manifests after their files on upload, every download
verified before it enters the cache)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from pipever.errors import TransferError
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects.oid import Oid, parse_oid
from pipever.remote import transfer
from pipever.remote.base import Remote


def ref(oid: str | Oid, *, is_dir: bool = False) -> ObjectRef:
    return ObjectRef(parse_oid(oid) if isinstance(oid, str) else oid, is_dir)


def files_of(odb: ObjectDB, manifests: Iterable[ObjectRef]) -> dict[ObjectRef, list[ObjectRef]]:
    """The file objects each directory manifest lists (the manifests are in ``odb``)."""
    return {m: [ObjectRef(e.oid, False) for e in odb.read_manifest(m.oid).entries] for m in manifests}


def push(remote: Remote, odb: ObjectDB, refs: Collection[ObjectRef], *, jobs: int | None = None) -> int:
    """Upload what ``remote`` lacks of ``refs`` (manifests with the files they list), from
    ``odb``; returns how many objects were sent. TransferError when some did not make it.
    The remote's packs are listed again first: workers may have pushed what a stage needs."""
    remote.packs.load(force=True)
    dirs = [r for r in refs if r.is_dir]
    listed = files_of(odb, dirs)
    files = {r for r in refs if not r.is_dir} | {f for fs in listed.values() for f in fs}
    every = files | set(dirs)
    present = remote.existing(every, jobs=jobs)
    todo_files = files - present
    todo_dirs = {m: listed[m] for m in dirs if m not in present}
    if not todo_files and not todo_dirs:
        return 0
    outcome = transfer.upload(remote, odb, todo_files, todo_dirs, present=present, jobs=jobs or remote.jobs)
    _raise("push", outcome)
    return len(outcome.done)


def fetch(remote: Remote, odb: ObjectDB, refs: Collection[ObjectRef], *, jobs: int | None = None) -> int:
    """Download what ``odb`` lacks of ``refs`` (manifests first, then the files they list), each
    verified; returns how many objects were fetched. TransferError when some could not be.
    The remote's packs are listed again first: workers wrote new ones since the driver looked."""
    remote.packs.load(force=True)
    n = 0
    dirs = [r for r in refs if r.is_dir]
    lacking_dirs = [r for r in dirs if not odb.exists(r.oid, is_dir=True)]
    if lacking_dirs:
        outcome = transfer.download(remote, odb, lacking_dirs, jobs=jobs or remote.jobs)
        _raise("fetch", outcome)
        n += len(outcome.done)
    files = {r for r in refs if not r.is_dir} | {f for fs in files_of(odb, dirs).values() for f in fs}
    lacking = [r for r in files if not odb.exists(r.oid)]
    if lacking:
        outcome = transfer.download(remote, odb, lacking, jobs=jobs or remote.jobs)
        _raise("fetch", outcome)
        n += len(outcome.done)
    return n


def _raise(verb: str, outcome: transfer.Outcome[ObjectRef]) -> None:
    if outcome.failed or outcome.not_attempted:
        failed = [str(r.oid) for r, _ in outcome.failed] + [str(r.oid) for r in outcome.not_attempted]
        first = outcome.fatal or (outcome.failed[0][1] if outcome.failed else None)
        raise TransferError(verb, failed, done=len(outcome.done), first_error=first.message if first else None)
