"""Workspace files straight to a remote, without a cache copy (``pv add --to-remote``, SPEC §6).

Small files (below the pack threshold, on a packed remote) were hashed just before: they go into
packs whose stream re-checks every file's hash, so a file that changed in between stops the pack
before its index exists. Other files are hashed while they stream to a temp name on the remote,
then renamed to their object path, so nothing is read twice and nothing unverified gets a name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import blake3

from pipever.objects.odb import ObjectRef
from pipever.objects.oid import Oid
from pipever.remote import packfmt
from pipever.remote.base import TMP_SUFFIX, Remote

PIECE = 1 << 20


def put_small(remote: Remote, items: Sequence[tuple[ObjectRef, Path, int]]) -> None:
    """Objects the caller hashed, into packs (``pack_size`` each) -- or loose on a loose remote."""
    if not remote.packed:
        for ref, path, _ in items:
            got = put_hashing(remote, path, is_dir=ref.is_dir)
            if got != ref.oid:
                from pipever.objects.odb import ChangedWhileReadingError

                raise ChangedWhileReadingError(str(path))
        return
    remote.packs.ensure_format()
    for group in packfmt.group_into_packs([(r, n) for r, _, n in items], remote.pack_size):
        refs = {r for r, _ in group}
        remote.packs.write_pack([i for i in items if i[0] in refs])


def put_hashing(remote: Remote, path: Path, *, is_dir: bool = False) -> Oid:
    """Stream one file to the remote while hashing it; its oid. The object appears under its
    name only once complete (a temp name, then a rename)."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)

    def pieces() -> Iterator[bytes]:
        with open(path, "rb") as f:
            while True:
                piece = f.read(PIECE)
                if not piece:
                    return
                hasher.update(piece)
                yield piece

    tmp = f"blake3/.incoming-{uuid.uuid4().hex[:16]}{TMP_SUFFIX}"
    remote.write_stream(tmp, pieces())
    oid = Oid(hasher.hexdigest())
    try:
        remote.move_file(tmp, ObjectRef(oid, is_dir).relpath)
    except BaseException:
        remote.remove_file(tmp)
        raise
    return oid
