"""Moving a registered artifact's objects: fetch what the cache lacks from the pv remote (for
``pv model get``, ``api.model_path`` and metric gates) and push them with ``--push``.

The transfers are the remotes layer's ``fetch``/``push``, limited to the artifact's path at the
version's commit (the workspace is left out), so they verify and resume as ``pv fetch`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipever.errors import RegistryError
from pipever.objects.odb import ObjectRef
from pipever.repo import Repo

if TYPE_CHECKING:
    from pipever.ops.model_locate import Located


def fetch_missing(repo: Repo, loc: Located, refs: Sequence[ObjectRef]) -> int:
    """Make the objects ``refs`` of ``loc`` local, fetching the located out from its remote (the
    default one, or ``PV_REMOTE``) when the cache lacks any; how many objects were fetched."""
    if all(repo.odb.exists(r.oid, is_dir=r.is_dir) for r in refs):
        return 0
    from pipever.ops.fetch import fetch

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


def push_artifact(repo: Repo, name: str, commit: str) -> list[str]:
    """Push artifact ``name``'s objects at ``commit`` to its pv remote; warnings to show."""
    from pipever.ops.model_locate import artifact_def, locate

    art = artifact_def(repo, name, commit)
    if art is None:
        return []
    loc = locate(repo, commit, art.path)
    if loc.oid is None:
        return []  # Git tracks it: it travels with the commit
    from pipever.ops.push import push

    res = push(repo, [loc.rel], revs=[commit], workspace=False)
    notes = list(res.warnings)
    for rem, missing in res.missing.items():
        notes.append(f"{len(missing)} object(s) of '{loc.rel}' are neither in the cache nor on remote '{rem}': "
                     + ", ".join(missing[:5]))
    return notes
