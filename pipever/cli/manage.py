"""Commands that look back at or reorganize tracked data: diff, gc, remove, move, unprotect,
check-ignore."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.objects.diff import Change, TreeDiff
    from pipever.commands.data.gc import GcPlan
    from pipever.commands.remotes.gc_cloud import CloudGcPlan

ORDER = ("added", "deleted", "renamed", "modified")  # the order DVC prints them in


def register(app: typer.Typer) -> None:
    app.command("diff", help="Show tracked data added, deleted, modified or renamed between revisions.")(diff)
    app.command("gc", help="Delete cache objects not used by the workspace or the chosen revisions.")(gc)
    app.command("remove", help="Stop tracking data: delete pointer files (and the data with --outs).")(remove)
    app.command("move", help="Rename tracked data together with its pointer file.")(move)
    app.command("unprotect", help="Replace links to the cache with writable copies.")(unprotect)
    app.command("check-ignore", help="Explain which .pvignore pattern excludes a path.")(check_ignore)


# -- diff ---------------------------------------------------------------------------------------
def diff(
    a_rev: Optional[str] = typer.Argument(None, metavar="[A_REV]", help="Old revision (default: HEAD)."),
    b_rev: Optional[str] = typer.Argument(None, metavar="[B_REV]", help="New revision (default: the workspace)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Print nothing; exit 3 when something differs."),
) -> int:
    from pipever.commands.data.diff import diff as do_diff

    res = do_diff(context.repo(), a_rev=a_rev, b_rev=b_rev)
    if quiet or context.STATE.quiet:
        return 0 if res.changes.empty else 3
    for rel in res.unexpanded:
        render.warn(f"'{rel}' is compared as a whole: its manifest is not in the cache (run 'pv fetch' to see its files)")
    if as_json:
        render.json_out(res.changes.as_dict())
    elif md:
        render.table(["Status", "Path", "Size"], _rows(res.changes), md=True)
    elif not res.changes.empty:
        _print_diff(res.changes)
    return 0


def _path(c: Change) -> str:
    return f"{c.old_path} -> {c.path}" if c.old_path else c.path


def _size(c: Change) -> str:
    if c.old is not None and c.new is not None and c.old_path is None:
        return f"{render.human_size(c.old.size) or '?'} -> {render.human_size(c.new.size) or '?'}"
    item = c.new or c.old
    return render.human_size(item.size if item else None) or "?"


def _rows(changes: TreeDiff) -> list[list[str]]:
    return [[kind, _path(c), _size(c)] for kind in ORDER for c in changes.of(kind)]


def _print_diff(changes: TreeDiff) -> None:
    width = max(len(_path(c)) for kind in ORDER for c in changes.of(kind))
    for kind in ORDER:
        if changes.of(kind):
            render.out(f"{kind.capitalize()}:")
            for c in changes.of(kind):
                render.out(f"    {_path(c).ljust(width)}  {_size(c)}")
    counts = ", ".join(f"{sum(not c.path.endswith('/') for c in changes.of(k))} {k}" for k in ORDER)
    render.out(f"\nfiles summary: {counts}")


# -- gc -----------------------------------------------------------------------------------------
def gc(
    workspace: bool = typer.Option(False, "-w", "--workspace", help="Keep only what the workspace uses."),
    all_branches: bool = typer.Option(False, "-a", "--all-branches", help="Also keep what every branch uses."),
    all_tags: bool = typer.Option(False, "-T", "--all-tags", help="Also keep what every tag uses."),
    all_commits: bool = typer.Option(False, "-A", "--all-commits", help="Also keep what every commit uses."),
    all_experiments: bool = typer.Option(False, "--all-experiments", help="Also keep what every experiment (pv exp) uses."),
    cloud: bool = typer.Option(False, "-c", "--cloud", help="Also delete unused objects on the remote."),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Remote for --cloud (default: the default remote)."),
    dry: bool = typer.Option(False, "--dry", help="Only list what would be deleted."),
    force: bool = typer.Option(False, "-f", "--force", help="Do not ask for confirmation."),
    grace: str = typer.Option("24h", "--grace", help="With --cloud: how long a replaced pack stays before it is deleted (e.g. 24h, 30m, 0)."),
    skip_unreadable: bool = typer.Option(
        False, "--skip-unreadable",
        help="Go on when a revision's pointer or pv.lock cannot be read (deletes the data only it references)."),
    revs: Optional[List[str]] = typer.Option(None, "--rev", help="Also keep what this commit uses (repeatable)."),
    num: int = typer.Option(1, "-n", "--num", min=1, help="With --rev: keep the last NUM commits from each."),
    date: Optional[str] = typer.Option(None, "--date", help="Also keep what commits made on or after YYYY-MM-DD use."),
    not_in_remote: bool = typer.Option(False, "--not-in-remote", help="Keep objects the remote (-r, or the default) lacks."),
) -> int:
    if not (workspace or all_branches or all_tags or all_commits or all_experiments or revs or date):
        raise typer.BadParameter("choose what to keep: -w (workspace), -a (branches), -T (tags), -A (all commits), "
                                 "--all-experiments, --rev or --date")
    if remote and not (cloud or not_in_remote):
        raise typer.BadParameter("-r/--remote needs --cloud or --not-in-remote")
    if not_in_remote and cloud:
        raise typer.BadParameter("--not-in-remote keeps what the remote lacks: it cannot go with --cloud")
    from pipever.errors import PvError
    from pipever.commands.data import gc as gc_op
    from pipever.remote.packgc import parse_duration

    try:
        grace_s = parse_duration(grace)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--grace") from exc

    repo = context.repo()
    scope = gc_op.Scope(all_branches=all_branches, all_tags=all_tags, all_commits=all_commits,
                        all_experiments=all_experiments, revs=tuple(revs or ()), num=num, date=date,
                        not_in_remote=not_in_remote, remote=remote if not_in_remote else None,
                        skip_unreadable=skip_unreadable)
    plan = gc_op.plan_gc(repo, scope)
    for rel in plan.unknown_dirs:
        render.warn(f"the manifest of '{rel}' is not in the cache: its files cannot be kept through it")
    cloud_plan = gc_op.plan_cloud(repo, scope, remote=remote, progress=render.progress(), grace=grace_s) if cloud else None
    if plan.empty and (cloud_plan is None or cloud_plan.empty):
        render.out("Nothing to delete: every object in the cache is in use." if not cloud else "Nothing to delete: every object in the cache and on the remote is in use.")
        return 0
    if dry or not force:
        _list_plan(plan, cloud_plan)
    if dry:
        return 0
    if not force and not render.confirm("Delete these objects?"):
        raise PvError("nothing was deleted", hint="rerun and answer 'y', or use -f")
    res = gc_op.apply_gc(repo, plan)
    render.out(f"Removed {len(res.removed)} object(s) ({render.human_size(res.freed)}) from the cache.")
    if res.spared:
        render.out(f"Kept {len(res.spared)} object(s) that came into use meanwhile.")
    if cloud_plan is not None:
        cres = gc_op.apply_cloud(repo, cloud_plan, scope, progress=render.progress())
        render.out(f"Removed {len(cres.removed)} object(s) from remote '{cres.remote}'.")
        p = cres.packs
        if p.repacked or p.marked or p.deleted:
            render.out(f"Packs on '{cres.remote}': {len(p.repacked)} repacked into {len(p.new_packs)}, "
                       f"{len(p.marked)} marked for deletion, {len(p.deleted)} deleted.")
    return 0


def _list_plan(plan: GcPlan, cloud_plan: CloudGcPlan | None) -> None:
    for d in plan.remove:
        render.out(f"{d.ref.oid}{'.dir' if d.ref.is_dir else ''}  {render.human_size(d.size)}")
    if plan.tmp_files:
        render.out(f"{len(plan.tmp_files)} leftover temp file(s)")
    render.out(f"{len(plan.remove)} object(s), {render.human_size(plan.size)} to delete from the cache; {plan.kept} in use stay.")
    if cloud_plan is not None:
        for ref in cloud_plan.remove:
            render.out(f"{cloud_plan.remote}: {ref.oid}{'.dir' if ref.is_dir else ''}")
        render.out(f"{len(cloud_plan.remove)} object(s) to delete from remote '{cloud_plan.remote}'; {cloud_plan.kept} in use stay.")
        pp = cloud_plan.packs
        if not pp.empty:
            render.out(f"Packs on '{cloud_plan.remote}': {len(pp.repack)} to repack, {len(pp.mark)} to mark for deletion "
                       f"({pp.dead_objects} unused object(s), {render.human_size(pp.dead_bytes)}), {len(pp.delete)} marked "
                       f"earlier to delete, {len(pp.leftovers)} leftover upload(s).")


# -- remove, move, unprotect --------------------------------------------------------------------
def remove(
    targets: List[str] = typer.Argument(..., metavar="TARGET...", help="Pointer files (*.pv) or stage names."),
    outs: bool = typer.Option(False, "--outs", help="Also delete the data from the workspace."),
) -> None:
    from pipever.commands.data.remove import remove as do_remove

    res = do_remove(context.repo(), targets, outs=outs)
    for name in res.stages:
        render.out(f"Removed stage '{name}' from pv.yaml")
    for rel in res.pointers:
        render.out(f"Removed {rel}")
    for rel in res.deleted:
        render.out(f"Deleted {rel}")
    if res.kept:
        render.out("Kept (no longer tracked): " + " ".join(res.kept))
    if res.staged:
        render.out("Staged in Git: " + " ".join(res.staged))


def move(
    src: str = typer.Argument(..., metavar="SRC", help="Tracked file or directory (or its pointer file)."),
    dst: str = typer.Argument(..., metavar="DST", help="New path, or an existing directory to move it into."),
) -> None:
    from pipever.commands.data.move import move as do_move

    res = do_move(context.repo(), src, dst)
    render.out(f"Moved {res.src} -> {res.dst} ({res.old_pointer} -> {res.new_pointer})")
    if res.staged:
        render.out("Staged in Git: " + " ".join(res.staged))


def unprotect(paths: List[str] = typer.Argument(..., metavar="PATH...", help="Tracked files or directories.")) -> None:
    from pipever.commands.data.unprotect import unprotect as do_unprotect

    res = do_unprotect(context.repo(), paths)
    render.out(f"Unprotected {len(res.files)} file(s) in " + ", ".join(res.paths))


# -- check-ignore -------------------------------------------------------------------------------
def check_ignore(
    paths: List[str] = typer.Argument(..., metavar="PATH...", help="Paths to check."),
    details: bool = typer.Option(False, "-d", "--details", help="Show the .pvignore file, line and pattern."),
    non_matching: bool = typer.Option(False, "-n", "--non-matching", help="With -d: also show paths no pattern matches."),
) -> int:
    if non_matching and not details:
        raise typer.BadParameter("-n/--non-matching needs -d/--details")
    from pipever.commands.data.check_ignore import check_ignore as do_check

    matched = 0
    for c in do_check(context.repo(), paths):
        if details and c.match is not None:
            matched += 1
            render.out(f"{c.match.source}:{c.match.line}:{c.match.pattern}\t{c.arg}")
        elif details and non_matching:
            render.out(f"::\t{c.arg}")
        elif c.ignored:
            matched += 1
            render.out(c.arg)
    return 0 if matched else 1
