"""``pv checkout``: make the workspace match the pointers, never losing data not in the cache."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipever.data import gitignore
from pipever.errors import CheckoutConflictError, CorruptObjectError, ManifestError, ObjectNotFoundError
from pipever.objects import checkout as co
from pipever.services import tracked as trk
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.context import RepoContext


@dataclass
class CheckoutResult:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # objects not in the cache
    corrupt: list[str] = field(default_factory=list)  # objects that failed verification


def plan_outs(repo: RepoContext, outs: list[trk.Tracked], *, force: bool, relink: bool) -> co.CheckoutPlan:
    plan = co.CheckoutPlan()
    ws = repo.workspace
    odb = repo.odb
    in_cache = odb.exists
    for t in outs:
        full = repo.root / t.rel
        from pipever.paths import check_physical

        check_physical(repo.root, t.rel)
        out = t.out
        if out.is_dir:
            try:
                manifest = odb.read_manifest(out.oid)
            except ObjectNotFoundError:
                plan.missing.append(t.rel)
                continue
            except CorruptObjectError:
                plan.missing.append(t.rel)
                continue
            except ManifestError as exc:  # valid hash, malicious or broken content: say so
                raise ManifestError(f"'{t.rel}' ({out.oid})", exc.problem) from exc
            current: dict[str, object] = {}
            if os.path.isdir(full) and not os.path.islink(full):
                hashed = ws.hash_files(ws.walk(t.rel, repo.ignore))
                current = {h.rel: h.oid for h in hashed}
                if repo.ignore.applies_below(t.rel) or any(r.endswith("/.pvignore") for r in current):
                    _keep_hidden_files(repo, plan, t.rel, {f"{t.rel}/{e.path}" for e in manifest.entries}, force=force)
            elif os.path.lexists(full):
                _replace_non_dir(repo, plan, t.rel, force=force)
            co.plan_dir(
                plan, t.rel, ((e.path, e.oid, e.isexec) for e in manifest.entries),
                current,  # type: ignore[arg-type]
                in_cache=odb.exists_check(len(manifest.entries)), force=force, relink=relink,
            )
            if not manifest.entries:
                plan.make_dirs.append(t.rel)
        else:
            cur = None
            if os.path.isdir(full) and not os.path.islink(full):
                # every file goes with the directory, those .pvignore hides from pv too
                hashed = ws.hash_files(ws.walk(t.rel, None))
                unsafe = [h.rel for h in hashed if not in_cache(h.oid)]
                if unsafe and not force:
                    plan.conflicts.extend(unsafe)
                    continue
                plan.remove_dirs.append(t.rel)
            else:
                fs = ws.stat_file(t.rel)
                cur = ws.hash_files([fs])[0].oid if fs is not None else None
            co.plan_file(plan, t.rel, out.oid, cur, in_cache=in_cache, force=force, relink=relink,
                         isexec=out.isexec)
    return plan


def _keep_hidden_files(repo: RepoContext, plan: co.CheckoutPlan, rel_dir: str, files: set[str], *, force: bool) -> None:
    """Files ``.pvignore`` hides from pv below ``rel_dir`` are the user's: where the new version
    puts a file at the place of a directory holding them, that is a conflict (``force``: the
    directory goes)."""
    seen = {f.rel for f in repo.workspace.walk(rel_dir, repo.ignore)}
    for f in repo.workspace.walk(rel_dir, None):
        if f.rel in seen:
            continue
        parts = f.rel.split("/")
        blocked = next((a for a in ("/".join(parts[:i]) for i in range(1, len(parts))) if a in files), None)
        if blocked is None:
            continue
        if force:
            plan.remove_dirs.append(blocked)
        else:
            plan.conflicts.append(f.rel)


def _replace_non_dir(repo: RepoContext, plan: co.CheckoutPlan, rel: str, *, force: bool) -> None:
    fs = repo.workspace.stat_file(rel)
    if fs is not None and not force:
        cur = repo.workspace.hash_files([fs])[0].oid
        if not repo.odb.exists(cur):
            plan.conflicts.append(rel)
            return
    plan.remove_dirs.append(rel)


def checkout(
    repo: RepoContext, targets: list[str], *, force: bool = False, relink: bool = False,
    progress: Progress = NO_PROGRESS,
) -> CheckoutResult:
    result = CheckoutResult()
    with repo.locked():
        from pipever.services.stages import checkout_targets

        outs = checkout_targets(repo, targets)
        plan = plan_outs(repo, outs, force=force, relink=relink)
        if plan.conflicts:
            raise CheckoutConflictError(sorted(plan.conflicts))
        result.missing = sorted(plan.missing)
        progress.start("Checkout", len(plan.changes) + len(plan.make_dirs))
        by_action = {co.Action.CREATE: result.added, co.Action.REPLACE: result.modified, co.Action.DELETE: result.deleted}

        def done(ch: co.Change) -> None:
            by_action.get(ch.action, []).append(ch.rel)
            progress.advance()

        try:
            result.corrupt = co.apply(plan, repo.linker(), on_done=done)
        finally:
            progress.done()
            repo.state.flush()
        for t in outs:
            gitignore.add_entry(repo.root, t.rel)
    return result
