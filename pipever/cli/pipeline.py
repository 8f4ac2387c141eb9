"""Pipeline commands: repro, stage add/list, dag, freeze, unfreeze."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, List, Optional

import typer

from pipever.cli import context, render
from pipever.services.progress import NO_PROGRESS

if TYPE_CHECKING:
    from pipever.commands.pipeline.repro import Outcome, ReproResult


def register(app: typer.Typer) -> None:
    app.command("repro", help="Run the stale stages of the pipeline in dependency order.")(repro)
    app.command("dag", help="Show the stage graph (ASCII, --dot, --mermaid or --md).")(dag)
    app.command("freeze", help="Freeze stages: 'pv repro' leaves them as they are.")(freeze)
    app.command("unfreeze", help="Unfreeze stages.")(unfreeze)
    stage = typer.Typer(help="Add and list pipeline stages.", no_args_is_help=True)
    stage.command("add", help="Add a stage to pv.yaml.",
                  context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})(stage_add)
    stage.command("list", help="List the stages of pv.yaml.")(stage_list)
    app.add_typer(stage, name="stage")


class StageLines:
    """Shows what ``pv repro`` does as it happens; lines prefixed ``[stage]`` with ``-j`` > 1.
    On a terminal a bar counts the stages settled below the output (rich's live display moves
    the lines written meanwhile above it)."""

    def __init__(self, *, prefix: bool, bar: bool = False, shown: Any = None) -> None:
        self.shown = shown or (lambda key: key)  # a stage key as DVC shows it from the current folder
        self.prefix = prefix
        self.bar = bar
        self._progress: Any = None
        self._task: Any = None

    def planned(self, names: tuple[str, ...]) -> None:
        if self.bar and len(names) > 1:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("Stages"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                      transient=True)
            self._progress.start()
            self._task = self._progress.add_task("stages", total=len(names))

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _say(self, name: str, text: str, *, stderr: bool = False) -> None:
        line = f"[{name}] {text}" if self.prefix else text
        if stderr:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        elif not context.STATE.quiet:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def started(self, name: str, commands: tuple[str, ...]) -> None:
        name = self.shown(name)
        self._say(name, f"Running stage '{name}':")
        for cmd in commands:
            self._say(name, f"> {cmd}")

    def output(self, name: str, text: str, *, stderr: bool) -> None:
        name = self.shown(name)
        self._say(name, text, stderr=stderr)

    def finished(self, name: str, outcome: Outcome, detail: str | None) -> None:
        name = self.shown(name)
        from pipever.commands.pipeline.repro import Outcome

        if self._progress is not None:
            self._progress.advance(self._task)

        messages = {
            Outcome.UNCHANGED: f"Stage '{name}' didn't change, skipping",
            Outcome.FROZEN: f"Stage '{name}' is frozen, skipping",
            Outcome.MISSING: f"Stage '{name}' has missing data but no other changes, skipping",
            Outcome.RESTORED: f"Stage '{name}' is cached: restored its outputs from the run cache",
            Outcome.BLOCKED: f"Stage '{name}' skipped: a stage it depends on failed",
        }
        if outcome is Outcome.WOULD_RUN:
            render.out(f"Would run stage '{name}':")
            for cmd in (detail or "").splitlines():
                render.out(f"> {cmd}")
        elif outcome is Outcome.MAY_RUN:
            render.out(f"May also run stage '{name}' (if upstream outputs change)")
        elif outcome is Outcome.FAILED:
            self._say(name, f"Stage '{name}' failed: {detail}", stderr=True)
        elif outcome in messages:
            render.out(messages[outcome])


def _summary(res: ReproResult, *, dry: bool) -> None:
    if not res.changed:
        render.out("Data and pipelines are up to date.")
    elif res.staged:
        render.out("Staged in Git: " + " ".join(res.staged))
    elif not dry:
        repo = context.repo()
        if repo.scm and not repo.autostage:
            render.out("To track the changes with Git, run: git add pv.lock")


def repro(
    targets: Optional[List[str]] = typer.Argument(
        None, metavar="[TARGET...]", help="Stages, 'path/pv.yaml:NAME' or outputs (default: this folder's pv.yaml)."),
    force: bool = typer.Option(False, "-f", "--force", help="Run the stages even if nothing changed."),
    single: bool = typer.Option(False, "-s", "--single-item", help="Only the targets, not what they depend on."),
    downstream: bool = typer.Option(False, "--downstream", help="The targets and the stages that depend on them."),
    dry: bool = typer.Option(False, "--dry", help="Only print what would run."),
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=0, help="Run up to N independent stages at once (0: one per CPU; default 1, on a cluster as many as it has threads)."),
    keep_going: bool = typer.Option(False, "-k", "--keep-going", help="After a failure, go on with independent stages."),
    pull: bool = typer.Option(False, "--pull", help="Fetch missing deps and outputs from the remote first."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Skip stages whose only change is missing data."),
    no_run_cache: bool = typer.Option(False, "--no-run-cache", help="Run commands even if the run cache has their results."),
    all_pipelines: bool = typer.Option(False, "-P", "--all-pipelines", help="Every pipeline file of the repository."),
    recursive: bool = typer.Option(False, "-R", "--recursive", help="The targets are folders: every pipeline file in them."),
    executor: Optional[str] = typer.Option(None, "--executor", metavar="ADDRESS", help="Run stages on the Dask scheduler at ADDRESS (tcp://host:8786), or 'local'."),
    no_download: bool = typer.Option(False, "--no-download", help="With --executor: leave the outputs on the remote."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only errors and the commands' stderr."),
) -> None:
    context.STATE.quiet |= quiet
    from pipever.commands.pipeline.repro import repro as do_repro

    if jobs is not None and jobs < 0:
        raise typer.BadParameter("-j must be 0 or more")
    parallel = executor not in (None, "local") or (jobs is not None and (jobs or os.cpu_count() or 1) > 1)
    from pipever.services.stages import cwd_dir
    from pipever.pipeline.multi import display

    repo = context.repo()
    cwd = cwd_dir(repo.root)
    lines = StageLines(prefix=parallel, bar=not dry and render.progress() is not NO_PROGRESS,
                       shown=lambda key: display(key, cwd))
    try:
        res = do_repro(
            repo, targets or [], force=force, single=single, downstream=downstream, dry=dry, jobs=jobs,
            keep_going=keep_going, pull=pull, allow_missing=allow_missing, run_cache=not no_run_cache,
            all_pipelines=all_pipelines, recursive=recursive, reporter=lines, executor=executor,
            download=not no_download,
        )
    finally:
        lines.close()
    for warning in res.warnings:
        render.warn(warning)
    _summary(res, dry=dry)


def _quote(arg: str) -> str:
    """As DVC joins a command given in several arguments."""
    if not arg:
        return '""'
    return f'"{arg}"' if " " in arg and '"' not in arg else arg


def stage_add(
    command: List[str] = typer.Argument(..., metavar="CMD", help="The command (quote it, or put it last)."),
    name: str = typer.Option(..., "-n", "--name", help="Stage name."),
    deps: List[str] = typer.Option([], "-d", "--deps", help="A dependency (repeat for more)."),
    outs: List[str] = typer.Option([], "-o", "--outs", help="An output, cached (repeat for more)."),
    outs_no_cache: List[str] = typer.Option([], "-O", "--outs-no-cache", help="An output not cached."),
    params: List[str] = typer.Option([], "-p", "--params", help="Params: 'k1,k2' or 'FILE:k1,k2'."),
    metrics: List[str] = typer.Option([], "-m", "--metrics", help="A metrics file, cached."),
    metrics_no_cache: List[str] = typer.Option([], "-M", "--metrics-no-cache", help="A metrics file, not cached."),
    plots: List[str] = typer.Option([], "--plots", help="A plots file."),
    wdir: Optional[str] = typer.Option(None, "-w", "--wdir", help="Directory to run the command in."),
    desc: Optional[str] = typer.Option(None, "--desc", help="One-line description."),
    force: bool = typer.Option(False, "-f", "--force", help="Overwrite a stage of the same name."),
    run: bool = typer.Option(False, "--run", help="Run the stage at once."),
) -> None:
    from pipever.commands.pipeline.stage_edit import StageSpec, add_stage

    cmd = command[0] if len(command) == 1 else " ".join(_quote(a) for a in command)
    spec = StageSpec(name=name, cmd=cmd, deps=tuple(deps), outs=tuple(outs), outs_no_cache=tuple(outs_no_cache),
                     params=tuple(params), metrics=tuple(metrics), metrics_no_cache=tuple(metrics_no_cache),
                     plots=tuple(plots), wdir=wdir, desc=desc)
    repo = context.repo()
    staged = add_stage(repo, spec, force=force)
    render.out(f"Added stage '{name}' to pv.yaml")
    if run:
        from pipever.commands.pipeline.repro import repro as do_repro

        here = os.path.relpath(repo.root / "pv.yaml")  # the stage is in the root's pv.yaml
        res = do_repro(repo, [f"{here}:{name}"], single=True, reporter=StageLines(prefix=False))
        staged = sorted(set(staged) | set(res.staged))
    if staged:
        render.out("Staged in Git: " + " ".join(staged))
    elif repo.scm and not repo.autostage:
        render.out("To track the changes with Git, run: git add pv.yaml" + (" pv.lock" if run else ""))


def stage_list(
    targets: Optional[List[str]] = typer.Argument(None, metavar="[TARGET...]", help="Stages or pipeline files."),
    all_files: bool = typer.Option(False, "-A", "--all", help="Stages of every pipeline file."),
    recursive: bool = typer.Option(False, "-R", "--recursive", help="The targets are folders: every pipeline file in them."),
    name_only: bool = typer.Option(False, "--name-only", "--names-only", help="Only the names."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    from pipever.commands.pipeline.stage_edit import list_stages

    stages = list_stages(context.repo(), targets or [], all_files=all_files, recursive=recursive)
    if name_only and not as_json:
        for s in stages:
            render.out(s.name)
        return
    if as_json:
        render.json_out([{"name": s.name, "desc": s.desc, "cmd": list(s.cmd), "deps": list(s.deps),
                          "outs": list(s.outs), "frozen": s.frozen} for s in stages])
        return
    for s in stages:
        what = s.summary
        render.out(f"{s.name.ljust(max(len(x.name) for x in stages))}  {what}".rstrip())


def dag(
    target: Optional[str] = typer.Argument(None, help="Show only this stage and what it depends on."),
    dot: bool = typer.Option(False, "--dot", help="Graphviz dot."),
    mermaid: bool = typer.Option(False, "--mermaid", help="Mermaid flowchart."),
    md: bool = typer.Option(False, "--md", help="Mermaid in a Markdown code block."),
    outs: bool = typer.Option(False, "--outs", help="Show outputs instead of stages."),
) -> None:
    if dot + mermaid + md > 1:
        raise typer.BadParameter("choose one of --dot, --mermaid, --md")
    from pipever.commands.pipeline.dag import dag as do_dag
    from pipever.pipeline.dagview import Format, render as draw

    fmt = Format.DOT if dot else Format.MERMAID if mermaid else Format.MD if md else Format.ASCII
    res = do_dag(context.repo(), target, outs=outs)
    if res.nodes:
        sys.stdout.write(draw(res.nodes, res.edges, fmt))


def freeze(names: List[str] = typer.Argument(..., metavar="STAGE...", help="Stages or foreach groups.")) -> None:
    _set_frozen(names, True)


def unfreeze(names: List[str] = typer.Argument(..., metavar="STAGE...", help="Stages or foreach groups.")) -> None:
    _set_frozen(names, False)


def _set_frozen(names: list[str], frozen: bool) -> None:
    from pipever.commands.pipeline.stage_edit import set_frozen

    staged = set_frozen(context.repo(), names, frozen)
    verb = "Froze" if frozen else "Unfroze"
    render.out(f"{verb} " + ", ".join(f"'{n}'" for n in names))
    if staged:
        render.out("Staged in Git: " + " ".join(staged))
