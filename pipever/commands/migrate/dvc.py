"""``pv migrate dvc [--remote NAME] [--pv-remote NAME] [--keep-dvc] [--dry] [--allow-missing]``
(SPEC §15): plan, then carry it out, stage it in Git, and push it with ``--pv-remote``."""

from __future__ import annotations

import os
from pathlib import Path

from pipever import fsutil
from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.errors import CheckoutConflictError, NotAGitRepoError, RemoteNotFoundError
from pipever.commands.migrate.apply import PV_LOCK, PV_YAML, PVIGNORE, MigrateResult, Migrator, write_config, write_ignores
from pipever.commands.migrate.plan import DVC_DIR, MigrationPlan, MissingDataError, make_plan
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.paths import join, parent
from pipever.context import PV_DIR, RepoContext


def migrate_dvc(
    start: Path, *, remote: str | None = None, pv_remote: str | None = None, keep_dvc: bool = False,
    dry: bool = False, allow_missing: bool = False, wait: bool = False, progress: Progress = NO_PROGRESS,
) -> MigrateResult:
    """Turn the DVC repository around ``start`` into a pv repository (see the module doc)."""
    from pipever.git import find_git_root

    root = find_git_root(start.resolve())
    if root is None:
        raise NotAGitRepoError(str(start))
    plan = make_plan(root, remote=remote, allow_missing=allow_missing)
    try:
        _check_pv_remote(root, plan, pv_remote)
        result = MigrateResult(dry=dry, kept=list(plan.kept), missing=list(plan.missing), pv_remote=pv_remote)
        if plan.missing and not allow_missing and not dry:
            raise MissingDataError(plan.missing, remote=plan.remote)
        if dry:
            return _dry(plan, result, keep_dvc=keep_dvc)
        return _apply(plan, result, keep_dvc=keep_dvc, pv_remote=pv_remote, allow_missing=allow_missing,
                      wait=wait, progress=progress)
    finally:
        if plan.objects is not None and plan.objects.remote is not None:
            plan.objects.remote.close()


def _check_pv_remote(root: Path, plan: MigrationPlan, name: str | None) -> None:
    if name is None:
        return
    known = {k.split(".")[1] for k in (*plan.config.repo, *plan.config.local) if k.startswith("remote.")}
    if (root / PV_DIR).is_dir():
        from pipever.config import Config

        known |= set(Config.load(root / PV_DIR).remote_names())
    if name not in known:
        raise RemoteNotFoundError(name)


def _pointer_rel(dvc_rel: str) -> str:
    return dvc_rel[: -len(".dvc")] + ".pv"


def _pv_file(p_dir: str, name: str) -> str:
    return join(p_dir, name) if p_dir != "." else name


def _dry(plan: MigrationPlan, result: MigrateResult, *, keep_dvc: bool) -> MigrateResult:
    kept = {k for k, _ in plan.kept}
    result.pointers = [_pointer_rel(d.rel) for d in plan.dvcfiles if d.rel not in kept]
    result.pipelines = [_pv_file(p.dir, PV_YAML) for p in plan.pipelines]
    result.locks = [_pv_file(p.dir, PV_LOCK) for p in plan.pipelines if p.lock]
    result.ignores = [_pv_file(parent(i), PVIGNORE) for i in plan.ignores]
    files = {(n.md5, n.legacy): n for n in plan.needs if not n.is_dir}
    objects = plan.objects
    assert objects is not None
    result.objects = len(files)
    result.from_remote = sum(1 for n in files.values()
                             if objects.cache_path(n.md5, is_dir=False, legacy=n.legacy) is None
                             and objects.workspace_file(n.what) is None)
    result.config_repo = sorted(plan.config.repo)
    result.config_local = sorted(plan.config.local)
    result.notes = list(plan.config.notes)
    result.rerun_stages = [f"{s} (its outputs' data was not found)" for s in plan.dropped_stages]
    if not keep_dvc:
        result.removed = plan.dvc_paths()
    return result


def _ensure_initialized(root: Path) -> None:
    from pipever.commands.project.init import init

    pv_dir = root / PV_DIR
    if not (pv_dir / "config.yaml").is_file() or not (pv_dir / ".gitignore").is_file():
        init(root, force=pv_dir.exists())


def _apply(plan: MigrationPlan, result: MigrateResult, *, keep_dvc: bool, pv_remote: str | None,
           allow_missing: bool, wait: bool, progress: Progress) -> MigrateResult:
    root = plan.root
    created = not (root / PV_DIR).exists()
    ignore_before = _root_ignore_state(root) if created else None  # init adds /pv_plots to it
    _ensure_initialized(root)
    repo = RepoContext(root)
    repo.wait_for_lock = wait
    repo.command = "pv migrate dvc"
    try:
        with repo.locked():
            write_config(repo, plan, result)
            m = Migrator(plan, repo, result, progress)
            m.ingest_all()
            if m.failed:
                if not allow_missing:
                    raise MissingDataError(m.failed, remote=plan.remote)
                result.missing += m.failed
            write_ignores(root, plan, result)
            touched = _write_pointers(repo, plan, m, result)
            for p in plan.pipelines:
                touched += m.write_pipeline(p)
            repo.state.flush()
            _checkout_missing(repo, plan, touched, result)
            _stage_and_remove(repo, plan, result, keep_dvc=keep_dvc, touched=touched)
        if pv_remote:
            from pipever.commands.remotes.push import push

            pushed = push(repo, remote=pv_remote, progress=progress)
            result.pushed = pushed.pushed
    except MissingDataError:
        if created:
            _undo_init(repo, ignore_before)
        raise
    finally:
        repo.close()
    return result


def _write_pointers(repo: RepoContext, plan: MigrationPlan, m: Migrator, result: MigrateResult) -> list[str]:
    """Write ``X.pv`` for every ``X.dvc`` whose data came across; returns the data paths."""
    kept = {k for k, _ in result.kept}
    touched: list[str] = []
    for d in plan.dvcfiles:
        if d.rel in kept:
            continue
        pointer = m.pointer(d)
        if pointer is None:
            result.kept.append((d.rel, "its data is missing"))
            continue
        text = ptr.dump(pointer)
        target = repo.root / pointer.rel
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            fsutil.atomic_write_text(target, text)
        result.pointers.append(pointer.rel)
        for out in pointer.outs:
            rel = pointer.out_rel(out)
            gitignore.add_entry(repo.root, rel)
            touched.append(rel)
    return touched


def _root_ignore_state(root: Path) -> tuple[bytes | None, str]:
    """The root ``.gitignore``'s bytes (None: no file) and its index entry ('' when not staged)."""
    from pipever.git import Git

    path = root / ".gitignore"
    data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return data, Git(root).run("ls-files", "-s", "--", ".gitignore").decode().strip()


def _undo_init(repo: RepoContext, ignore_before: tuple[bytes | None, str] | None) -> None:
    """Take back the ``.pv`` this run made (its objects are copies of DVC's), and init's change
    to the root ``.gitignore`` (file and index entry): nothing changed."""
    import shutil

    repo.close()
    repo.git.run("rm", "-q", "-f", "--cached", "--ignore-unmatch", "--", f"{PV_DIR}/.gitignore", f"{PV_DIR}/config.yaml")
    shutil.rmtree(repo.pv_dir, ignore_errors=True)
    if ignore_before is None:
        return
    data, entry = ignore_before
    path = repo.root / ".gitignore"
    if data is None:
        path.unlink(missing_ok=True)
    else:
        fsutil.atomic_write(path, data)
    if entry:
        mode, sha, _stage_path = entry.split(" ", 2)
        repo.git.run("update-index", "--cacheinfo", f"{mode},{sha},.gitignore")
    else:
        repo.git.run("rm", "-q", "--cached", "--ignore-unmatch", "--", ".gitignore")


def _into_dvc_cache(path: Path, dvc_cache: str) -> bool:
    return path.is_symlink() and os.path.realpath(path).startswith(dvc_cache + os.sep)


def _checkout_missing(repo: RepoContext, plan: MigrationPlan, rels: list[str], result: MigrateResult) -> None:
    """Check out data the workspace lacks, and replace DVC's symlinks into its cache by pv's
    links; files that are there (DVC's copies, reflinks or hardlinks) stay as they are."""
    dvc_cache = os.path.realpath(plan.dvc_cache)
    targets = []
    for rel in dict.fromkeys(rels):
        full = repo.root / rel
        if _into_dvc_cache(full, dvc_cache):
            os.unlink(full)
        if not os.path.lexists(full):
            targets.append(rel)
            continue
        if full.is_dir() and not full.is_symlink():
            links = [Path(d) / f for d, _, fs in os.walk(full) for f in fs if _into_dvc_cache(Path(d) / f, dvc_cache)]
            for link in links:
                os.unlink(link)
            if links:
                targets.append(rel)
    if not targets:
        return
    from pipever.commands.data.checkout import checkout

    try:
        checkout(repo, targets)
    except CheckoutConflictError as exc:
        result.notes.append(f"not checked out (changed in the workspace): {', '.join(exc.paths[:5])}")


def _stage_and_remove(repo: RepoContext, plan: MigrationPlan, result: MigrateResult, *, keep_dvc: bool,
                      touched: list[str]) -> None:
    root = repo.root
    kept = {k for k, _ in result.kept}
    git = repo.git
    remove = [] if keep_dvc else [p for p in plan.dvc_paths() if p not in kept]
    dvc_dir_files: list[str] = []
    if not keep_dvc and not kept:
        listed = git.run("ls-files", "-z", "--", DVC_DIR).decode("utf-8", "surrogateescape").split("\0")
        # and those a run interrupted after 'git rm --cached' left on disk
        on_disk = [f"{DVC_DIR}/{n}" for n in ("config", ".gitignore") if (root / DVC_DIR / n).is_file()]
        dvc_dir_files = sorted({p for p in [*listed, *on_disk] if p})
        leftovers = [e for e in os.listdir(root / DVC_DIR)] if (root / DVC_DIR).is_dir() else []
        untracked = [e for e in leftovers if f"{DVC_DIR}/{e}" not in dvc_dir_files and e != ".gitignore"]
        if untracked and f"{DVC_DIR}/.gitignore" in dvc_dir_files:
            # what DVC's .gitignore hides (its cache, config.local) stays hidden
            dvc_dir_files.remove(f"{DVC_DIR}/.gitignore")
            result.dvc_cache_left = str(plan.dvc_cache) if plan.dvc_cache.is_dir() else f"{DVC_DIR}/"
    add = [f"{PV_DIR}/.gitignore", f"{PV_DIR}/config.yaml", *result.pointers, *result.pipelines, *result.locks,
           *result.ignores, *(gitignore.gitignore_rel(r) for r in touched)]
    add = sorted({p for p in add if (root / p).is_file()})
    # staged whatever core.autostage says: the migration is one commit-ready step (SPEC §15)
    git.add(add)
    index_rm = git.tracked([*remove, *dvc_dir_files])
    if index_rm:
        git.run("rm", "-q", "--cached", "--ignore-unmatch", "--", *[":(literal)" + p for p in index_rm])
    result.staged = add
    for rel in [*remove, *dvc_dir_files]:  # pointers first, dvc.lock after dvc.yaml: a rerun completes
        full = root / rel
        if full.is_file() or full.is_symlink():
            os.unlink(full)
            if rel.startswith(DVC_DIR + "/"):
                fsutil.remove_empty_parents(full.parent, root)
        result.removed.append(rel)
