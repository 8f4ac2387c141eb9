"""``pv exp``: run experiments without touching the branch, table them, apply, branch, remove,
share. Thin commands over ``pipever.commands.experiments``, imported inside each command."""

from __future__ import annotations

import os
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
    app.add_typer(exp, name="exp")


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
    queue: bool = typer.Option(False, "--queue", help="Only add the run to the queue (see --run-all)."),
    run_all: bool = typer.Option(False, "--run-all", help="Run every queued experiment."),
    jobs: int = typer.Option(1, "-j", "--jobs", min=0, help="Parallel stages; with --run-all, experiments at once (0: one per CPU)."),
) -> None:
    from pipever.cli.pipeline import StageLines
    from pipever.commands.experiments import exp_run as ops

    if jobs < 0:
        raise typer.BadParameter("-j must be 0 or more")
    if run_all and (queue or set_params or name):
        raise typer.BadParameter("--run-all takes no -S, -n or --queue")
    jobs = jobs or os.cpu_count() or 1
    repo = context.repo()
    if run_all:
        lines = StageLines(prefix=True)
        res = ops.run_all(repo, jobs=jobs, reporter_for=lambda n: _Named(lines, n))
        for done in res.done:
            render.out(f"Experiment '{done.name}' saved as refs/exps/{done.name} ({done.sha[:7]})")
        if not res.done and not res.failed:
            render.out("No experiments are queued.")
        error = res.error()
        if error is not None:
            raise error
        return
    out = ops.exp_run(repo, overrides=set_params or [], name=name, jobs=jobs, queue=queue,
                      reporter=StageLines(prefix=jobs > 1))
    if isinstance(out, ops.QueuedResult):
        render.out(f"Queued experiment '{out.spec.name}'; run it with 'pv exp run --run-all'")
        return
    render.out(f"Experiment '{out.name}' saved as refs/exps/{out.name} ({out.sha[:7]}, based on {out.baseline[:7]})")
    render.out(f"Compare with 'pv exp show'; bring it into the workspace with 'pv exp apply {out.name}'")


def show(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
    precision: int = typer.Option(5, "--precision", min=0, help="Round numbers to this many decimals in tables."),
) -> None:
    from pipever.compare.exptable import exp_table
    from pipever.commands.experiments.exp_show import exp_show

    res = exp_show(context.repo())
    if as_json:
        render.json_out(res.as_list())
        return
    for row in res.rows:
        for error in row.errors:
            render.warn(f"{row.name}: {error}")
    headers, cells = exp_table(res.rows, precision=precision)
    render.table(headers, cells, md=md)


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
