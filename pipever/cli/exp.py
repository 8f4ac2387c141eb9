"""``pv exp``: run experiments without touching the branch, table them, apply, branch, remove,
share. Thin commands over ``pipever.commands.experiments``, imported inside each command."""

from __future__ import annotations

import os
from enum import Enum
from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.cli.pipeline import StageLines
    from pipever.commands.experiments.exp_refs import TransferResult
    from pipever.commands.pipeline.repro import Outcome

SET_HELP = "Change a param for this run: FILE:KEY=VALUE, or KEY=VALUE for params.yaml (repeatable)."
PV_REMOTE_HELP = "pv remote for the data (default: the default remote)."


def register(app: typer.Typer) -> None:
    exp = typer.Typer(help="Run and compare experiments (params changes) without touching your branch.",
                      no_args_is_help=True)
    exp.command("run", help="Run the pipeline with changed params and save the result as an experiment.")(run)
    exp.command("show", help="Table the experiments with their params and metrics side by side.")(show)
    exp.command("apply", help="Bring an experiment's params, pv.lock and outputs into the workspace.")(apply)
    exp.command("branch", help="Create a Git branch at an experiment.")(branch)
    exp.command("remove", help="Delete experiments (and queued runs).")(remove)
    exp.command("push", help="Push experiments to a Git remote, and their data to the pv remote.")(push)
    exp.command("pull", help="Fetch experiments from a Git remote, and their data from the pv remote.")(pull)
    exp.command("list", help="List experiments by the commit they ran from.")(list_)
    exp.command("ls", hidden=True)(list_)
    exp.command("diff", help="Params and metrics that differ between two experiments or commits.")(diff)
    exp.command("save", help="Save the workspace as an experiment (the branch is not touched).")(save)
    exp.command("rename", help="Rename an experiment.")(rename)
    exp.command("clean", help="Remove what killed experiment runs left behind.")(clean)
    app.add_typer(exp, name="exp")
    queue = typer.Typer(help="Run and manage queued experiments ('pv exp run --queue').", no_args_is_help=True)
    queue.command("start", help="Run the queued experiments (as 'pv exp run --run-all').")(queue_start)
    queue.command("status", help="Queued, running and finished experiments.")(queue_status)
    queue.command("logs", help="The output of an experiment 'pv queue start' ran or is running.")(queue_logs)
    queue.command("kill", help="Stop an experiment 'pv queue start' is running.")(queue_kill)
    queue.command("remove", help="Take experiments off the queue (and forget finished ones).")(queue_remove)
    app.add_typer(queue, name="queue")


class _Named:
    """Prefixes stage names with the experiment's (``[swift-otter:train] ...``) for ``--run-all -j``."""

    def __init__(self, inner: StageLines, exp: str) -> None:
        self.inner = inner
        self.exp = exp

    def planned(self, names: tuple[str, ...]) -> None:
        return None

    def started(self, name: str, commands: tuple[str, ...]) -> None:
        self.inner.started(f"{self.exp}:{name}", commands)

    def output(self, name: str, text: str, *, stderr: bool) -> None:
        self.inner.output(f"{self.exp}:{name}", text, stderr=stderr)

    def finished(self, name: str, outcome: Outcome, detail: str | None) -> None:
        self.inner.finished(f"{self.exp}:{name}", outcome, detail)


def run(
    set_params: Optional[List[str]] = typer.Option(None, "-S", "--set-param", help=SET_HELP),
    name: Optional[str] = typer.Option(None, "-n", "--name", help="Name of the experiment (default: made up)."),
    queue: bool = typer.Option(False, "--queue", help="Only add the run to the queue (see 'pv queue start')."),
    run_all: bool = typer.Option(False, "--run-all", help="Run every queued experiment (as 'pv queue start')."),
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=0, help="Parallel stages; with --run-all, experiments at once (0: one per CPU)."),
    executor: Optional[str] = typer.Option(None, "--executor", metavar="ADDRESS", help="Run the stages on the Dask scheduler at ADDRESS, or 'local'."),
) -> None:
    from pipever.cli.pipeline import StageLines
    from pipever.commands.experiments import exp_run as ops

    if jobs is not None and jobs < 0:
        raise typer.BadParameter("-j must be 0 or more")
    if run_all and (queue or set_params or name):
        raise typer.BadParameter("--run-all takes no -S, -n or --queue")
    repo = context.repo()
    if run_all:
        _start(1 if jobs is None else jobs or os.cpu_count() or 1, executor)
        return
    out = ops.exp_run(repo, overrides=set_params or [], name=name, queue=queue, executor=executor,
                      jobs=jobs if jobs is None else jobs or os.cpu_count() or 1,
                      reporter=StageLines(prefix=(jobs or 1) > 1 or executor not in (None, "local")))
    if isinstance(out, ops.QueuedResult):
        render.out(f"Queued experiment '{out.spec.name}'; run it with 'pv queue start'")
        return
    render.out(f"Experiment '{out.name}' saved as refs/exps/{out.name} ({out.sha[:7]}, based on {out.baseline[:7]})")
    render.out(f"Compare with 'pv exp show'; bring it into the workspace with 'pv exp apply {out.name}'")


def _start(jobs: int, executor: str | None) -> None:
    from pipever.cli.pipeline import StageLines
    from pipever.commands.experiments import exp_run as ops

    lines = StageLines(prefix=True)
    res = ops.run_all(context.repo(), jobs=jobs, reporter_for=lambda n: _Named(lines, n), executor=executor)
    for done in res.done:
        render.out(f"Experiment '{done.name}' saved as refs/exps/{done.name} ({done.sha[:7]})")
    if not res.done and not res.failed:
        render.out("No experiments are queued.")
    error = res.error()
    if error is not None:
        raise error


def queue_start(
    jobs: int = typer.Option(1, "-j", "--jobs", min=0, help="Experiments at once (0: one per CPU)."),
    executor: Optional[str] = typer.Option(None, "--executor", metavar="ADDRESS", help="Run their stages on the Dask scheduler at ADDRESS."),
) -> None:
    _start(jobs or os.cpu_count() or 1, executor)


def queue_status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    from pipever.commands.experiments import queue as q

    rows = q.status(context.repo()).rows
    if as_json:
        render.json_out([{"name": r.name, "status": r.status, "detail": r.detail} for r in rows])
        return
    if not rows:
        render.out("No experiments are queued.")
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        render.out(f"{r.name:<{width}}  {r.status:<11}  {r.detail}".rstrip())


def queue_logs(name: str = typer.Argument(..., help="Experiment name.")) -> None:
    from pipever.commands.experiments import queue as q

    render.out(q.logs(context.repo(), name).rstrip("\n"))


def queue_kill(name: str = typer.Argument(..., help="Experiment name.")) -> None:
    from pipever.commands.experiments import queue as q

    q.kill(context.repo(), name)
    render.out(f"Asked 'pv queue start' to stop experiment '{name}'")


def queue_remove(
    names: Optional[List[str]] = typer.Argument(None, help="Experiment names."),
    remove_all: bool = typer.Option(False, "--all", help="Every queued and finished experiment."),
) -> None:
    from pipever.commands.experiments import queue as q

    if not names and not remove_all:
        raise typer.BadParameter("name experiments to remove, or use --all")
    removed = q.remove(context.repo(), names or [], remove_all=remove_all)
    render.out(f"Removed {len(removed)} experiment(s) from the queue" + (f": {', '.join(removed)}" if removed else ""))


class SortOrder(str, Enum):
    asc = "asc"
    desc = "desc"


def show(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
    csv: bool = typer.Option(False, "--csv", help="Print the table as CSV."),
    precision: int = typer.Option(5, "--precision", min=0, help="Round numbers to this many decimals in tables."),
    only_changed: bool = typer.Option(False, "--only-changed", help="Only params and metrics whose value differs between rows."),
    sort_by: Optional[str] = typer.Option(None, "--sort-by", help="Sort the experiments by this param or metric."),
    sort_order: SortOrder = typer.Option(SortOrder.asc, "--sort-order", help="Order of --sort-by."),
    drop: Optional[str] = typer.Option(None, "--drop", help="Leave out the columns whose title matches this regex."),
    keep: Optional[str] = typer.Option(None, "--keep", help="Always show the columns whose title matches this regex."),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Print at full width even where the terminal is narrower."),
) -> None:
    import re

    from pipever.compare.exptable import TableOptions, exp_table
    from pipever.commands.experiments.exp_show import exp_show

    for flag, pattern in (("--drop", drop), ("--keep", keep)):
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise typer.BadParameter(f"'{pattern}' is not a regular expression: {exc}", param_hint=flag) from exc
    res = exp_show(context.repo())
    if as_json:
        render.json_out(res.as_list())
        return
    for row in res.rows:
        for error in row.errors:
            render.warn(f"{row.name}: {error}")
    options = TableOptions(precision=None if csv else precision, only_changed=only_changed, drop=drop, keep=keep,
                           sort_by=sort_by, descending=sort_order is SortOrder.desc)
    headers, cells = exp_table(res.rows, options=options)
    if csv:
        render.csv_out(headers, cells)
        return
    render.table(headers, cells, md=md, fit=True, no_trunc=no_trunc)


def apply(
    name: str = typer.Argument(..., help="Experiment name."),
    force: bool = typer.Option(False, "-f", "--force", help="Overwrite uncommitted changes and data not in the cache."),
) -> None:
    from pipever.commands.experiments.exp_apply import exp_apply

    res = exp_apply(context.repo(), name, force=force)
    co = res.checkout
    render.out(f"Applied experiment '{res.name}': " + (", ".join(res.files) or "no file changes"))
    if co.added or co.modified or co.deleted:
        render.out(f"Checked out {len(co.added) + len(co.modified)} file(s), deleted {len(co.deleted)}")
    if co.missing:
        render.warn("not in the cache (get them with 'pv exp pull' or 'pv pull'): " + ", ".join(co.missing))
    render.out("To keep it, commit it: git commit -m '...'")


def branch(
    name: str = typer.Argument(..., help="Experiment name."),
    branch_name: str = typer.Argument(..., metavar="BRANCH", help="New branch name."),
) -> None:
    from pipever.commands.experiments.exp_refs import branch as do_branch

    exp = do_branch(context.repo(), name, branch_name)
    render.out(f"Created branch '{branch_name}' at experiment '{exp.name}' ({exp.sha[:7]})")


def remove(
    names: Optional[List[str]] = typer.Argument(None, metavar="NAME...", help="Experiments or queued runs."),
    remove_all: bool = typer.Option(False, "-A", "--all", help="Every experiment (not the queued ones)."),
    queued: bool = typer.Option(False, "--queue", help="Every queued run."),
) -> None:
    from pipever.commands.experiments.exp_refs import remove as do_remove

    if not names and not remove_all and not queued:
        raise typer.BadParameter("name an experiment, or use --all / --queue")
    res = do_remove(context.repo(), names or [], remove_all=remove_all, queued=queued)
    for name in res.removed:
        render.out(f"Removed experiment '{name}'")
    for name in res.unqueued:
        render.out(f"Removed queued experiment '{name}'")


def _transferred(res: TransferResult, verb: str, remote: str) -> None:
    for warning in res.warnings:
        render.warn(warning)
    data = f", {res.objects} data object(s) {verb} '{res.data_remote}'" if res.data_remote else ""
    prep = "to" if verb == "pushed to" else "from"
    render.out(f"{'Pushed' if prep == 'to' else 'Pulled'} {', '.join(res.names)} {prep} Git remote '{remote}'{data}")


def push(
    remote: str = typer.Argument(..., help="Git remote, e.g. origin."),
    names: List[str] = typer.Argument(..., metavar="NAME...", help="Experiments."),
    pv_remote: Optional[str] = typer.Option(None, "-r", "--remote", help=PV_REMOTE_HELP),
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=0, help="Parallel transfers."),
) -> None:
    from pipever.commands.experiments.exp_refs import push as do_push

    _transferred(do_push(context.repo(), remote, names, pv_remote=pv_remote, jobs=jobs), "pushed to", remote)


def pull(
    remote: str = typer.Argument(..., help="Git remote, e.g. origin."),
    names: List[str] = typer.Argument(..., metavar="NAME...", help="Experiments."),
    pv_remote: Optional[str] = typer.Option(None, "-r", "--remote", help=PV_REMOTE_HELP),
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=0, help="Parallel transfers."),
) -> None:
    from pipever.commands.experiments.exp_refs import pull as do_pull

    _transferred(do_pull(context.repo(), remote, names, pv_remote=pv_remote, jobs=jobs), "fetched from", remote)


def list_(
    all_commits: bool = typer.Option(False, "-A", "--all-commits", help="Experiments of every commit."),
    rev: Optional[str] = typer.Option(None, "--rev", help="Experiments of this commit (default: HEAD)."),
    name_only: bool = typer.Option(False, "--name-only", help="Only the names, one a line."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    from pipever.commands.experiments.exp_manage import exp_list

    groups = exp_list(context.repo(), all_commits=all_commits, rev=rev)
    if as_json:
        render.json_out({g.label: [e.name for e in g.experiments] for g in groups})
        return
    for g in groups:
        if name_only:
            for e in g.experiments:
                render.out(e.name)
            continue
        render.out(f"{g.label}:")
        for e in g.experiments:
            render.out(f"\t{e.name}")


def diff(
    a: Optional[str] = typer.Argument(None, metavar="[A]", help="Experiment or commit (default: HEAD)."),
    b: Optional[str] = typer.Argument(None, metavar="[B]", help="Experiment or commit (default: the workspace)."),
    show_all: bool = typer.Option(False, "--all", help="Also the values that did not change."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
    precision: int = typer.Option(5, "--precision", min=0, help="Round numbers to this many decimals."),
) -> None:
    from pipever.commands.experiments.exp_manage import exp_diff
    from pipever.compare.metrics import fmt_value

    res = exp_diff(context.repo(), a, b, show_all=show_all)
    if as_json:
        render.json_out(res.to_json())
        return
    if not res.changes and not md:
        render.out(f"No params or metrics differ between '{res.a}' and '{res.b}'.")
        return
    rows = [[c.file, c.key, fmt_value(c.old, precision), fmt_value(c.new, precision),
             "-" if c.diff is None else fmt_value(c.diff, precision)] for c in res.changes]
    render.table(["Path", "Param/Metric", res.a, res.b, "Change"], rows, md=md)


def save(
    name: Optional[str] = typer.Option(None, "-n", "--name", help="Name of the experiment (default: made up)."),
    force: bool = typer.Option(False, "-f", "--force", help="Replace an experiment of the same name."),
    include_untracked: Optional[List[str]] = typer.Option(None, "-I", "--include-untracked", help="An untracked file to save too (repeatable)."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help="Message of the experiment's commit."),
) -> None:
    from pipever.commands.experiments.exp_manage import exp_save

    res = exp_save(context.repo(), name=name, force=force, include_untracked=include_untracked or [], message=message)
    render.out(f"Experiment '{res.name}' saved as refs/exps/{res.name} ({res.sha[:7]}, based on {res.baseline[:7]})")


def rename(
    old: str = typer.Argument(..., help="Current name."),
    new: str = typer.Argument(..., help="New name."),
) -> None:
    from pipever.commands.experiments.exp_manage import exp_rename

    exp_rename(context.repo(), old, new)
    render.out(f"Renamed experiment '{old}' to '{new}'")


def clean() -> None:
    from pipever.commands.experiments.exp_manage import exp_clean

    n = exp_clean(context.repo())
    render.out(f"Removed {n} leftover experiment worktree(s)" if n else "Nothing to clean.")
