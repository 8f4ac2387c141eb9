"""``pv params diff``, ``pv metrics show``, ``pv metrics diff``: thin commands over
``pipever.commands.pipeline.params`` / ``pipever.commands.pipeline.metrics`` that render tables, Markdown or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.commands.pipeline.metrics import MetricsShowResult
    from pipever.repo import Repo

PRECISION_HELP = "Round numbers to this many decimals in tables (JSON is never rounded)."
TARGETS_HELP = "Limit to these files (repeatable); default: the files pv.yaml declares."


def register(app: typer.Typer) -> None:
    params = typer.Typer(help="Compare params across revisions.", no_args_is_help=True)
    params.command("diff", help="Show params that changed between revisions (default: HEAD vs workspace).")(params_diff)
    app.add_typer(params, name="params")
    metrics = typer.Typer(help="Show and compare metrics across revisions.", no_args_is_help=True)
    metrics.command("show", help="Print metrics of the workspace (and of branches, tags or commits).")(metrics_show)
    metrics.command("diff", help="Show metrics that changed between revisions, with absolute and % change.")(
        metrics_diff)
    app.add_typer(metrics, name="metrics")


def _files(repo: Repo, targets: list[str] | None) -> list[str]:
    """File targets as the commands take them: relative to the current directory, as in DVC."""
    from pipever.paths import cwd_target

    return [cwd_target(repo.root, t) for t in targets or ()]


def params_diff(
    a_rev: Optional[str] = typer.Argument(None, metavar="[A_REV]", help="Old revision (default: HEAD)."),
    b_rev: Optional[str] = typer.Argument(None, metavar="[B_REV]", help="New revision (default: the workspace)."),
    show_all: bool = typer.Option(False, "--all", help="Include unchanged params."),
    deps: bool = typer.Option(False, "--deps", help="Only params that stages depend on."),
    targets: Optional[List[str]] = typer.Option(None, "--targets", help="Limit to these params files (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
) -> None:
    from pipever.compare.metrics import fmt_value
    from pipever.commands.pipeline.params import params_diff as do_diff

    repo = context.repo()
    res = do_diff(repo, a_rev=a_rev, b_rev=b_rev, include_unchanged=show_all, deps_only=deps,
                  targets=_files(repo, targets))
    if as_json:
        render.json_out(res.as_dict())
        return
    rows = [[r.file, r.key, fmt_value(r.old, None), fmt_value(r.new, None)] for r in res.rows]
    if rows:
        render.table(["Path", "Param", res.a_rev, res.b_rev], rows, md=md)


def metrics_show(
    targets: Optional[List[str]] = typer.Argument(None, help="Metrics files (default: those pv.yaml declares)."),
    all_branches: bool = typer.Option(False, "-a", "--all-branches", help="Also every branch."),
    all_tags: bool = typer.Option(False, "-T", "--all-tags", help="Also every tag."),
    all_commits: bool = typer.Option(False, "-A", "--all-commits", help="Also every commit."),
    precision: int = typer.Option(5, "--precision", min=0, help=PRECISION_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
) -> None:
    from pipever.commands.pipeline.metrics import metrics_show as do_show

    repo = context.repo()
    res = do_show(repo, targets=_files(repo, targets), all_branches=all_branches, all_tags=all_tags,
                  all_commits=all_commits)
    for error in res.errors:
        render.warn(error)
    if as_json:
        render.json_out(res.as_dict())
        return
    headers, rows = _show_table(res, precision)
    if rows:
        render.table(headers, rows, md=md)
    elif not res.errors:
        render.warn("no metrics found — declare metrics files in pv.yaml (a stage's 'metrics' or the top-level "
                    "'metrics'), or name them: pv metrics show FILE")


def _show_table(res: MetricsShowResult, precision: int) -> tuple[list[str], list[list[str]]]:
    from pipever.compare.metrics import fmt_value
    from pipever.pipeline.params import MISSING

    flat = [(r.rev, file, values) for r in res.revs for file, values in r.flat().items()]
    keys = list(dict.fromkeys(k for _, _, values in flat for k in values))
    with_rev = len(res.revs) > 1
    rows = [[*([rev] if with_rev else []), file, *(fmt_value(values.get(k, MISSING), precision) for k in keys)]
            for rev, file, values in flat]
    return [*(["Revision"] if with_rev else []), "Path", *keys], rows


def metrics_diff(
    a_rev: Optional[str] = typer.Argument(None, metavar="[A_REV]", help="Old revision (default: HEAD)."),
    b_rev: Optional[str] = typer.Argument(None, metavar="[B_REV]", help="New revision (default: the workspace)."),
    show_all: bool = typer.Option(False, "--all", help="Include unchanged metrics."),
    targets: Optional[List[str]] = typer.Option(None, "--targets", help=TARGETS_HELP),
    precision: int = typer.Option(5, "--precision", min=0, help=PRECISION_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
) -> None:
    from pipever.compare.metrics import fmt_change, fmt_value
    from pipever.commands.pipeline.metrics import metrics_diff as do_diff

    repo = context.repo()
    res = do_diff(repo, a_rev=a_rev, b_rev=b_rev, include_unchanged=show_all, targets=_files(repo, targets))
    for error in res.errors:
        render.warn(error)
    if as_json:
        render.json_out(res.as_dict())
        return
    rows = [[r.file, r.key, fmt_value(r.old, precision), fmt_value(r.new, precision), fmt_change(r, precision)]
            for r in res.rows]
    if rows:
        render.table(["Path", "Metric", res.a_rev, res.b_rev, "Change"], rows, md=md)
