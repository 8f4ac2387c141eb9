"""Data commands: init, add, status, commit, checkout, config, cache dir."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from pipever.cli import context, render

JOBS_HELP = "Parallel jobs (default: a sensible number for the machine)."


def register(app: typer.Typer) -> None:
    app.command("init", help="Create a pipever repository (.pv/) in the current Git work tree.")(init)
    app.command("add", help="Track files or directories: hash, cache, write TARGET.pv, git add it.")(add)
    app.command("status", help="Show what differs between workspace, pointers, pv.lock and cache.")(status)
    app.command("commit", help="Record the current state of tracked data and stage outputs.")(commit)
    app.command("checkout", help="Make the workspace match the pointers and pv.lock.")(checkout)
    app.command("config", help="Get, set, unset or list configuration options.")(config)
    app.command("fsck", help="Re-hash cache (and remote) objects; quarantine and repair corrupt ones.")(fsck)
    cache = typer.Typer(help="Cache commands.", no_args_is_help=True)
    cache.command("dir", help="Print (or set) the cache directory.")(cache_dir)
    app.add_typer(cache, name="cache")


def init(
    no_scm: bool = typer.Option(False, "--no-scm", help="Allow a plain directory (no Git features)."),
    force: bool = typer.Option(False, "-f", "--force", help="Reinitialize an existing repository."),
) -> None:
    from pipever.commands.project.init import init as do_init

    res = do_init(Path.cwd(), no_scm=no_scm, force=force)
    render.out(f"Initialized pipever repository in {res.root / '.pv'}")
    if res.scm:
        render.out("Commit it with: git commit -m 'Initialize pipever'")


def add(
    targets: List[str] = typer.Argument(..., help="Files or directories to track."),
    use_glob: bool = typer.Option(False, "--glob", help="Expand wildcards in TARGETs."),
    jobs: int = typer.Option(0, "-j", "--jobs", min=0, help=JOBS_HELP),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Errors only."),
) -> None:
    context.STATE.quiet |= quiet
    from pipever.commands.data.add import add as do_add

    repo = context.repo()
    res = do_add(repo, targets, use_glob=use_glob, jobs=jobs, progress=render.progress())
    if res.skipped:
        shown = ", ".join(res.skipped[:10]) + (f" and {len(res.skipped) - 10} more" if len(res.skipped) > 10 else "")
        render.warn(f"left out {len(res.skipped)} symlink(s) to nothing: {shown}")
    for a in res.added:
        what = f"{a.nfiles} files, " if a.nfiles is not None else ""
        verb = "Added" if a.changed else "Unchanged"
        render.out(f"{verb} {a.rel} ({what}{render.human_size(a.size)}) -> {a.pointer}")
    if res.staged:
        render.out("Staged in Git: " + " ".join(res.staged))
    elif repo.scm and not repo.autostage:
        render.out("To track the changes with Git, run: git add " + " ".join(res.to_track))


def _print_status(entries: dict[str, list[object]]) -> None:
    for name, items in entries.items():
        render.out(f"{name}:")
        for item in items:
            if isinstance(item, dict):
                for kind, changes in item.items():
                    render.out(f"\t{kind}:")
                    if isinstance(changes, dict):
                        for path, state in changes.items():
                            # params nest one level more: {file: {key: state}}
                            pairs = [(f"{path}:{k}", v) for k, v in state.items()] if isinstance(state, dict) else [(path, state)]
                            for where, what in pairs:
                                render.out(f"\t\t{(str(what) + ':').ljust(20)}{where}")
            else:
                render.out(f"\t{item}")


def status(
    targets: Optional[List[str]] = typer.Argument(None, help="Limit to these data paths or stages."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Print nothing; exit 3 when something is out of date."),
    cloud: bool = typer.Option(False, "-c", "--cloud", help="Compare the cache with a remote instead."),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Remote for --cloud."),
    all_branches: bool = typer.Option(False, "-a", "--all-branches", help="With --cloud: objects of all branches."),
    all_tags: bool = typer.Option(False, "-T", "--all-tags", help="With --cloud: objects of all tags."),
    all_commits: bool = typer.Option(False, "-A", "--all-commits", help="With --cloud: objects of all commits."),
    jobs: int = typer.Option(0, "-j", "--jobs", min=0, help=JOBS_HELP),
) -> int:
    repo = context.repo()
    if cloud or remote:
        from pipever.cli.cloud import cloud_status

        return cloud_status(repo, targets or [], remote=remote, as_json=as_json,
                            quiet=quiet or context.STATE.quiet, jobs=jobs,
                            all_branches=all_branches, all_tags=all_tags, all_commits=all_commits)
    from pipever.commands.data.status import status as do_status

    res = do_status(repo, targets or [])
    if quiet or context.STATE.quiet:
        return 0 if res.clean else 3
    if as_json:
        render.json_out(res.entries)
    elif res.clean:
        render.out("Data and pipelines are up to date.")
    else:
        _print_status(res.entries)  # type: ignore[arg-type]
    return 0


def commit(
    targets: Optional[List[str]] = typer.Argument(None, help="Data paths or stage names (default: all)."),
    force: bool = typer.Option(False, "-f", "--force", help="Commit even when a stage's deps or cmd changed."),
) -> None:
    from pipever.commands.data.commit import commit as do_commit

    res = do_commit(context.repo(), targets or [], force=force)
    for rel in res.committed:
        render.out(f"Committed {rel}")
    for name in res.stages:
        render.out(f"Committed stage '{name}' to pv.lock")
    if not res.committed and not res.stages:
        render.out("Nothing to commit.")


def checkout(
    targets: Optional[List[str]] = typer.Argument(None, help="Data paths or pointer files (default: all)."),
    force: bool = typer.Option(False, "-f", "--force", help="Overwrite workspace changes that are not in the cache."),
    relink: bool = typer.Option(False, "--relink", help="Recreate links/copies even where content matches."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Errors only."),
) -> None:
    context.STATE.quiet |= quiet
    from pipever.errors import PvError
    from pipever.commands.data.checkout import checkout as do_checkout

    res = do_checkout(context.repo(), targets or [], force=force, relink=relink, progress=render.progress())
    parts = [f"{len(v)} {k}" for k, v in (("added", res.added), ("modified", res.modified), ("deleted", res.deleted)) if v]
    render.out(("Checkout: " + ", ".join(parts)) if parts else "Workspace already matches the pointers.")
    problems = []
    if res.missing:
        problems.append("not in the cache: " + ", ".join(res.missing[:20]))
    if res.corrupt:
        problems.append("corrupt in the cache (not linked): " + ", ".join(res.corrupt[:20]))
    if problems:
        raise PvError("checkout incomplete; " + "; ".join(problems), hint="run 'pv pull' (or 'pv fsck --repair') to get good copies")


def config(
    key: Optional[str] = typer.Argument(None, help="SECTION.OPTION, e.g. core.autostage or remote.NAME.url"),
    value: Optional[str] = typer.Argument(None, help="New value (omit to print the current one)."),
    unset: bool = typer.Option(False, "-u", "--unset", help="Remove the option."),
    list_: bool = typer.Option(False, "-l", "--list", help="List every option set."),
    local: bool = typer.Option(False, "--local", help="Use .pv/config.local.yaml (not committed)."),
    global_: bool = typer.Option(False, "--global", help="Use the user's config file."),
    project: bool = typer.Option(False, "--project", help="Use .pv/config.yaml (default for writes)."),
    show_origin: bool = typer.Option(False, "--show-origin", help="With --list: which file sets each option."),
) -> int:
    from pipever.commands.project.config import config_get, config_list, config_set, config_unset

    level = "local" if local else "global" if global_ else "repo" if project else None
    repo = None
    if not global_:
        from pipever.errors import NotARepoError

        try:
            repo = context.repo()
        except NotARepoError:
            if level is not None or not list_:
                raise
    if list_:
        for origin, k, v in config_list(repo, level=level):
            render.out((f"{origin}\t" if show_origin else "") + f"{k}={v}")
        return 0
    if key is None:
        raise typer.BadParameter("give a KEY, or use --list")
    if unset:
        config_unset(repo, key, level=level or "repo")
    elif value is None:
        shown = config_get(repo, key, level=level)
        render.out(str(shown))
    else:
        config_set(repo, key, value, level=level or "repo")
    return 0


def cache_dir(
    value: Optional[str] = typer.Argument(None, help="New cache directory (relative paths are relative to .pv/)."),
    local: bool = typer.Option(False, "--local", help="Set it in config.local.yaml."),
    global_: bool = typer.Option(False, "--global", help="Set it in the user's config."),
) -> None:
    repo = context.repo()
    if value is None:
        render.out(str(repo.cache_dir))
        return
    from pipever.commands.project.config import config_set

    config_set(repo, "cache.dir", value, level="local" if local else "global" if global_ else "repo")


def fsck(
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Also verify the objects the workspace needs on this remote."),
    repair: bool = typer.Option(False, "--repair", help="Replace corrupt objects with good copies."),
    jobs: int = typer.Option(0, "-j", "--jobs", min=0, help=JOBS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> int:
    import dataclasses

    from pipever.commands.data.fsck import fsck as do_fsck

    res = do_fsck(context.repo(), remote=remote, check_remote=remote is not None, repair=repair,
                  jobs=jobs, progress=render.progress())
    if as_json:
        render.json_out({**dataclasses.asdict(res), "ok": res.ok})
    else:
        render.out(f"Checked {res.checked} cache object(s)" + (f" and {res.remote_checked} on remote '{remote}'" if remote else ""))
        for oid in res.corrupt:
            fixed = " (repaired from the remote)" if oid in res.repaired else " (moved to .pv/tmp/bad/)"
            render.out(f"corrupt in cache: {oid}{fixed}")
        for oid in res.remote_corrupt:
            fixed = " (re-uploaded a good copy)" if oid in res.remote_repaired else ""
            render.out(f"corrupt on remote: {oid}{fixed}")
        for oid in res.remote_missing:
            render.out(f"missing on remote: {oid}")
    if not res.ok:
        from pipever.errors import PvError

        raise PvError(
            f"{len(res.corrupt) + len(res.remote_corrupt) - len(res.repaired) - len(res.remote_repaired)} corrupt object(s) remain",
            hint="run 'pv fsck --repair' (with -r REMOTE to fetch good copies)",
        )
    return 0
