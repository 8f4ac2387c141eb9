"""Remote commands: ``pv remote add|modify|remove|list|default``, ``pv push``, ``pv fetch``,
``pv pull``. Thin: parse flags, call one op, render its result."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.repo import Repo

JOBS_HELP = "Parallel transfers (default: the remote's 'jobs' option, or a sensible number for its kind)."
TARGETS_HELP = "Limit to these data paths, directories, pointer files or stages (default: all)."


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Manage remotes (where pushed data is stored).", no_args_is_help=True)
    group.command("add", help="Add a remote (-d: make it the default).")(add)
    group.command("modify", help="Set (or --unset) an option of a remote.")(modify)
    group.command("remove", help="Remove a remote.")(remove)
    group.command("rename", help="Rename a remote (and the default remote if it named it).")(rename)
    group.command("list", help="List remotes (secrets masked).")(list_)
    group.command("default", help="Print, set or --unset the default remote.")(default)
    app.add_typer(group, name="remote")
    app.command("push", help="Upload tracked data the remote lacks.")(push)
    app.command("fetch", help="Download tracked data missing from the cache (verified).")(fetch)
    app.command("pull", help="Fetch, then checkout.")(pull)


# -- pv remote ... -------------------------------------------------------------------------------
LOCAL_HELP = "Use .pv/config.local.yaml (git-ignored; for credentials and per-machine settings)."


def add(
    name: str = typer.Argument(..., help="Remote name."),
    url: str = typer.Argument(..., help="Local path or URL: s3://bucket/path, ssh://user@host/path, ..."),
    default_: bool = typer.Option(False, "-d", "--default", help="Make it the default remote."),
    local: bool = typer.Option(False, "--local", help=LOCAL_HELP),
    force: bool = typer.Option(False, "-f", "--force", help="Overwrite a remote of the same name."),
) -> None:
    from pipever.commands.remotes.remote import remote_add

    remote_add(context.repo(), name, url, default=default_, local=local, force=force)
    if default_:
        render.out(f"Remote '{name}' added and set as the default.")
    else:
        render.out(f"Remote '{name}' added.")


def modify(
    name: str = typer.Argument(..., help="Remote name."),
    option: str = typer.Argument(..., help="Option, e.g. url, endpoint_url, region, profile, jobs."),
    value: Optional[str] = typer.Argument(None, help="New value."),
    unset: bool = typer.Option(False, "-u", "--unset", help="Remove the option."),
    local: bool = typer.Option(False, "--local", help=LOCAL_HELP),
) -> None:
    from pipever.commands.remotes.remote import remote_modify

    remote_modify(context.repo(), name, option, value, unset=unset, local=local)


def remove(
    name: str = typer.Argument(..., help="Remote name."),
    local: bool = typer.Option(False, "--local", help="Only from .pv/config.local.yaml."),
) -> None:
    from pipever.commands.remotes.remote import remote_remove

    levels = remote_remove(context.repo(), name, local=True if local else None)
    render.out(f"Remote '{name}' removed from the {' and '.join(levels)} config.")


def rename(
    old: str = typer.Argument(..., help="Current name."),
    new: str = typer.Argument(..., help="New name."),
    local: bool = typer.Option(False, "--local", help="Only in .pv/config.local.yaml."),
) -> None:
    from pipever.commands.remotes.remote import remote_rename

    levels = remote_rename(context.repo(), old, new, local=True if local else None)
    render.out(f"Remote '{old}' renamed to '{new}' in the {' and '.join(levels)} config.")


def list_(as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    from pipever.commands.remotes.remote import remote_list

    infos = remote_list(context.repo())
    if as_json:
        render.json_out([i.as_dict() for i in infos])
        return
    for info in infos:
        render.out(f"{info.name}\t{info.url}" + ("\t(default)" if info.default else ""))
        for k, v in info.options.items():
            render.out(f"\t{k}: {v}")


def default(
    name: Optional[str] = typer.Argument(None, help="Remote to make the default (omit to print it)."),
    unset: bool = typer.Option(False, "-u", "--unset", help="Clear the default."),
    local: bool = typer.Option(False, "--local", help=LOCAL_HELP),
) -> int:
    from pipever.commands.remotes.remote import remote_default

    current = remote_default(context.repo(), name, unset=unset, local=local)
    if name is None and not unset:
        if current is None:
            render.err("No default remote is set.")
            return 1
        render.out(current)
    return 0


# -- push / fetch / pull -------------------------------------------------------------------------
WITH_DEPS_HELP = "A stage target also stands for the outputs of every stage upstream of it."
RECURSIVE_HELP = "Directory targets take every tracked file below them (always so; accepted as in DVC)."
def _plural(n: int, word: str = "file") -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        render.warn(w)


def _missing(missing: dict[str, list[str]], *, verb: str) -> None:
    from pipever.errors import PvError

    if not missing:
        return
    names = [m for items in missing.values() for m in items]
    where = ", ".join(f"'{r}'" for r in missing)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    if verb == "push":
        raise PvError(
            f"{len(names)} object(s) are neither in the cache nor on remote {where}: {shown}",
            hint="they were never added here or were garbage-collected; 'pv status -c' shows what is where",
        )
    raise PvError(
        f"{len(names)} object(s) are not on remote {where}: {shown}",
        hint="push them from a machine that has them ('pv push'), or check -r",
    )


def _runs_summary(res: object, verb: str, why_skipped: str) -> None:
    from pipever.commands.remotes.run_cache import RunCacheTransfer

    assert isinstance(res, RunCacheTransfer)
    _warn(res.warnings)
    n = res.entries
    text = f"{n} run-cache entr{'y' if n == 1 else 'ies'} {verb}" if n else "Run cache is up to date."
    if res.skipped:
        text += f" ({res.skipped} left out: {why_skipped})"
    render.out(text)


def push(
    targets: Optional[List[str]] = typer.Argument(None, help=TARGETS_HELP),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Remote to push to (default: each out's, or the default)."),
    jobs: int = typer.Option(0, "-j", "--jobs", min=0, help=JOBS_HELP),
    all_branches: bool = typer.Option(False, "-a", "--all-branches", help="Also the data of every branch."),
    all_tags: bool = typer.Option(False, "-T", "--all-tags", help="Also the data of every tag."),
    all_commits: bool = typer.Option(False, "-A", "--all-commits", help="Also the data of every commit."),
    run_cache: bool = typer.Option(False, "--run-cache", help="Also the run-cache entries and the outputs they name."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Errors only."),
    with_deps: bool = typer.Option(False, "-d", "--with-deps", help=WITH_DEPS_HELP),
    recursive: bool = typer.Option(False, "-R", "--recursive", help=RECURSIVE_HELP),
) -> None:
    context.STATE.quiet |= quiet
    from pipever.commands.remotes.push import push as do_push

    res = do_push(context.repo(), targets or [], remote=remote, jobs=jobs or None, all_branches=all_branches,
                  all_tags=all_tags, all_commits=all_commits, progress=render.progress(), with_deps=with_deps)
    _warn(res.warnings)
    if res.pushed or not res.missing:  # "up to date" would be wrong when some could not be pushed
        render.out(f"{_plural(res.pushed)} pushed" if res.pushed else "Everything is up to date.")
    _missing(res.missing, verb="push")
    if run_cache:
        from pipever.commands.remotes.run_cache import push_runs

        _runs_summary(push_runs(context.repo(), remote=remote, jobs=jobs or None, progress=render.progress()),
                      "pushed", "their outputs are not in the cache")


def fetch(
    targets: Optional[List[str]] = typer.Argument(None, help=TARGETS_HELP),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Remote to fetch from (default: each out's, or the default)."),
    jobs: int = typer.Option(0, "-j", "--jobs", min=0, help=JOBS_HELP),
    all_branches: bool = typer.Option(False, "-a", "--all-branches", help="Also the data of every branch."),
    all_tags: bool = typer.Option(False, "-T", "--all-tags", help="Also the data of every tag."),
    all_commits: bool = typer.Option(False, "-A", "--all-commits", help="Also the data of every commit."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Errors only."),
    with_deps: bool = typer.Option(False, "-d", "--with-deps", help=WITH_DEPS_HELP),
    recursive: bool = typer.Option(False, "-R", "--recursive", help=RECURSIVE_HELP),
) -> None:
    context.STATE.quiet |= quiet
    from pipever.commands.remotes.fetch import fetch as do_fetch

    res = do_fetch(context.repo(), targets or [], remote=remote, jobs=jobs or None, all_branches=all_branches,
                   all_tags=all_tags, all_commits=all_commits, progress=render.progress(), with_deps=with_deps)
    _warn(res.warnings)
    if res.fetched or not res.missing:
        render.out(f"{_plural(res.fetched)} fetched" if res.fetched else "Everything is up to date.")
    _missing(res.missing, verb="fetch")


def pull(
    targets: Optional[List[str]] = typer.Argument(None, help=TARGETS_HELP),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Remote to pull from (default: each out's, or the default)."),
    jobs: int = typer.Option(0, "-j", "--jobs", min=0, help=JOBS_HELP),
    all_branches: bool = typer.Option(False, "-a", "--all-branches", help="Also fetch the data of every branch."),
    all_tags: bool = typer.Option(False, "-T", "--all-tags", help="Also fetch the data of every tag."),
    all_commits: bool = typer.Option(False, "-A", "--all-commits", help="Also fetch the data of every commit."),
    force: bool = typer.Option(False, "-f", "--force", help="Overwrite workspace changes that are not in the cache."),
    run_cache: bool = typer.Option(False, "--run-cache", help="Also the run-cache entries and the outputs they name."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Errors only."),
    with_deps: bool = typer.Option(False, "-d", "--with-deps", help=WITH_DEPS_HELP),
    recursive: bool = typer.Option(False, "-R", "--recursive", help=RECURSIVE_HELP),
) -> None:
    context.STATE.quiet |= quiet
    from pipever.errors import PvError
    from pipever.commands.remotes.pull import pull as do_pull

    repo: Repo = context.repo()
    if run_cache:
        from pipever.commands.remotes.run_cache import pull_runs

        _runs_summary(pull_runs(repo, remote=remote, jobs=jobs or None, progress=render.progress()),
                      "fetched", "their outputs are not on the remote")
    res = do_pull(repo, targets or [], remote=remote, jobs=jobs or None, all_branches=all_branches,
                  all_tags=all_tags, all_commits=all_commits, force=force, progress=render.progress(), with_deps=with_deps)
    _warn(res.fetch.warnings)
    co = res.checkout
    parts = [f"{len(v)} {k}" for k, v in (("added", co.added), ("modified", co.modified), ("deleted", co.deleted)) if v]
    fetched = f"{_plural(res.fetch.fetched)} fetched" if res.fetch.fetched else ""
    if parts or fetched:
        render.out(", ".join(([fetched] if fetched else []) + parts))
    elif not res.fetch.missing and not co.missing and not co.corrupt:
        render.out("Everything is up to date.")
    _missing(res.fetch.missing, verb="fetch")
    problems = []
    if co.missing:
        problems.append("not in the cache: " + ", ".join(co.missing[:20]))
    if co.corrupt:
        problems.append("corrupt in the cache (not linked): " + ", ".join(co.corrupt[:20]))
    if problems:
        raise PvError("checkout incomplete; " + "; ".join(problems), hint="run 'pv fsck --repair', or check the remote")
