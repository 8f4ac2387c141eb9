"""Git integration commands: install, uninstall, and the hooks they install (``pv git-hook``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.repo import Repo

HOOK_TYPES = "--hook-type pre-commit --hook-type pre-push --hook-type post-checkout"


def register(app: typer.Typer) -> None:
    app.command("install", help="Install Git hooks (data follows checkout and push; commit checks) and the merge driver.")(install)
    app.command("uninstall", help="Remove the Git hooks and merge driver that 'pv install' added.")(uninstall)
    hook = typer.Typer(help="Run one of pv's Git hooks (called by installed hooks and the pre-commit framework).",
                       no_args_is_help=True)
    hook.command("pre-commit", help="Fail when tracked data or stages changed but are not recorded.")(pre_commit)
    hook.command("pre-push", help="Push the data that the pushed commits need to the default remote.")(pre_push)
    hook.command("post-checkout", help="Check out the data of the new HEAD after a branch switch.")(post_checkout)
    hook.command("merge-driver", help="Merge pv.lock or a pointer file (Git merge driver).")(merge_driver)
    app.add_typer(hook, name="git-hook")


def install(
    use_pre_commit_tool: bool = typer.Option(
        False, "--use-pre-commit-tool", help="Add the hooks to .pre-commit-config.yaml instead of .git/hooks."),
) -> None:
    from pipever.commands.githooks.install import install as do_install

    res = do_install(context.repo(), use_pre_commit_tool=use_pre_commit_tool)
    if res.pre_commit_config is not None:
        render.out(f"Added pv's hooks to {res.pre_commit_config.name}; enable them with: pre-commit install {HOOK_TYPES}")
    else:
        render.out(f"Installed Git hooks {', '.join(res.installed)} in {res.hooks_dir}")
        for name in res.chained:
            render.out(f"Kept the existing {name} hook: moved to {name}.legacy, it runs before pv's")
    render.out("Registered the 'pipever' merge driver for pv.lock and *.pv")
    if res.gitattributes_changed:
        render.out("Updated .gitattributes: commit it so that merges use the driver in every clone")


def uninstall() -> None:
    from pipever.commands.githooks.install import uninstall as do_uninstall

    res = do_uninstall(context.repo())
    if res.removed:
        render.out("Removed Git hooks " + ", ".join(res.removed))
    for name in res.restored:
        render.out(f"Restored the previous {name} hook")
    for name in res.foreign:
        render.warn(f"the {name} hook is not pv's: left in place")
    if res.pre_commit_config_changed:
        render.out("Removed pv's hooks from .pre-commit-config.yaml")
    render.out("Removed the 'pipever' merge driver")


def _hook_repo() -> Repo | None:
    """The repository a hook runs in; None (the hook does nothing) when it is no pv repository."""
    from pipever.errors import NotARepoError

    try:
        return context.repo()
    except NotARepoError:
        return None


def pre_commit(args: Optional[List[str]] = typer.Argument(None, hidden=True)) -> int:  # noqa: UP006, UP007
    from pipever.commands.githooks.precommit import Severity, pre_commit_check

    repo = _hook_repo()
    if repo is None:
        return 0
    report = pre_commit_check(repo)
    for p in report.problems:
        if p.severity is Severity.ERROR and not report.warn_only:
            render.err("ERROR: " + p.render())
        else:
            render.warn(p.render())
    if report.failed:
        render.err("hint: record the changes first, or run 'pv config hooks.pre_commit_warn_only true' to only warn")
        return 1
    return 0


def post_checkout(
    prev: Optional[str] = typer.Argument(None, help="The previous HEAD."),  # noqa: UP007
    new: Optional[str] = typer.Argument(None, help="The new HEAD."),  # noqa: UP007
    flag: Optional[str] = typer.Argument(None, help="1 for a branch checkout, 0 for a file checkout."),  # noqa: UP007
) -> int:
    from pipever.commands.githooks.git_hook import post_checkout as do_post_checkout

    env = os.environ  # the pre-commit framework passes these instead of arguments
    prev = prev or env.get("PRE_COMMIT_FROM_REF")
    new = new or env.get("PRE_COMMIT_TO_REF")
    flag = flag or env.get("PRE_COMMIT_CHECKOUT_TYPE")
    repo = _hook_repo()
    if repo is None or prev is None or new is None:
        return 0
    res = do_post_checkout(repo, prev=prev, new=new, branch_checkout=flag == "1")
    co = res.checkout
    if co is None:
        return 0
    changed = len(co.added) + len(co.modified) + len(co.deleted)
    if changed:
        render.out(f"pv: checked out data of {changed} file(s) for the new HEAD")
    if co.missing:
        render.warn("not in the cache: " + ", ".join(co.missing[:20]) + " — run 'pv pull' to get them")
    if co.corrupt:
        render.warn("corrupt in the cache (not linked): " + ", ".join(co.corrupt[:20]) + " — run 'pv fsck --repair'")
    return 0


def pre_push(
    remote_name: Optional[str] = typer.Argument(None, help="The Git remote pushed to."),  # noqa: UP007
    url: Optional[str] = typer.Argument(None, help="Its URL."),  # noqa: UP007
) -> int:
    from pipever.errors import RemoteNotFoundError
    from pipever.commands.githooks.git_hook import ZERO_SHA, RefUpdate, parse_ref_lines, pushed_revisions
    from pipever.commands.githooks.git_hook import pre_push as do_pre_push

    env = os.environ
    repo = _hook_repo()
    if repo is None or not repo.scm:
        return 0
    lines = [] if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read().splitlines()
    updates = parse_ref_lines(lines)
    git_remote = remote_name or env.get("PRE_COMMIT_REMOTE_NAME")
    if not lines:  # run by the pre-commit framework (it consumed stdin), or by hand
        local = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
        updates = [RefUpdate(local, local, env.get("PRE_COMMIT_REMOTE_BRANCH", ""), env.get("PRE_COMMIT_FROM_REF", ZERO_SHA))]
    revisions = pushed_revisions(repo, updates, git_remote=git_remote)
    try:
        res = do_pre_push(repo, revisions)
    except RemoteNotFoundError as exc:
        render.err(f"ERROR: the pushed commits have pv data to push, but {exc.message}")
        render.err("hint: run 'pv remote add -d NAME URL', or 'git push --no-verify' to push without the data")
        return 1
    if res is None:
        return 0
    for warning in res.warnings:
        render.warn(warning)
    if res.pushed:
        render.out(f"pv: {res.pushed} files pushed to {', '.join(res.remotes)}")
    missing = sorted({m for names in res.missing.values() for m in names})
    if missing:
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        render.err(f"ERROR: the pushed commits need data that is neither in the cache nor on the remote: {shown}")
        render.err("hint: 'pv add'/'pv fetch' it first, or push with 'git push --no-verify' to push without it")
        return 1
    return 0


def merge_driver(
    base: Path = typer.Argument(..., help="The common ancestor's version (%O)."),
    ours: Path = typer.Argument(..., help="Our version, replaced by the result (%A)."),
    theirs: Path = typer.Argument(..., help="Their version (%B)."),
    path: Optional[str] = typer.Argument(None, help="The path in the repository (%P)."),  # noqa: UP007
    marker_size: int = typer.Option(7, "--marker-size", help="Conflict marker length (%L)."),
) -> int:
    from pipever.commands.githooks.merge_driver import merge_driver as do_merge

    repo = _hook_repo()
    res = do_merge(base, ours, theirs, path=path or ours.name, odb=repo.odb if repo is not None else None,
                   marker_size=marker_size)
    for name in res.merged_dirs:
        render.err(f"pv: merged the directory '{name}' file by file — run 'pv checkout' after the merge")
    if res.clean:
        return 0
    render.err(f"CONFLICT (pv): {res.path}: changed on both sides: " + ", ".join(f"'{c}'" for c in res.conflicts))
    for note in res.notes:
        render.err(f"  {note}")
    return 1
