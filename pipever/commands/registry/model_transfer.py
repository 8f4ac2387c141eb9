"""Moving a registered artifact's objects: fetch what the cache lacks from the pv remote (for
``pv model get``, ``api.model_path`` and metric gates); ``model.push_artifact`` pushes them.

The transfers are the remotes layer's ``fetch``/``push``, limited to the artifact's path at the
version's commit (the workspace is left out), so they verify and resume as ``pv fetch`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipever.context import RepoContext
from pipever.errors import RegistryError
from pipever.objects.odb import ObjectRef


class Located(Protocol):
    """Where an artifact's bytes are (``model_locate.Located`` is one)."""

    @property
    def rel(self) -> str: ...

    @property
    def commit(self) -> str: ...


def fetch_missing(repo: RepoContext, loc: Located, refs: Sequence[ObjectRef]) -> int:
    """Make the objects ``refs`` of ``loc`` local, fetching the located out from its remote (the
    default one, or ``PV_REMOTE``) when the cache lacks any; how many objects were fetched."""
    if all(repo.odb.exists(r.oid, is_dir=r.is_dir) for r in refs):
        return 0
    from pipever.commands.remotes.fetch import fetch

    res = fetch(repo, [str(repo.root / loc.rel)], revs=[loc.commit], workspace=False)  # from any cwd
    lacking = [r for r in refs if not repo.odb.exists(r.oid, is_dir=r.is_dir)]
    if lacking:
        where = ", ".join(f"'{n}'" for n in res.remotes) or "the remote"
        raise RegistryError(
            f"'{loc.rel}' at commit {loc.commit[:7]} is not in the cache nor on {where} "
            f"({len(lacking)} object(s) missing, first: {lacking[0].oid})",
            hint="push it from a machine that has it ('pv push' there), then retry",
        )
    return res.fetched
