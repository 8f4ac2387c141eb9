"""``pv plots show`` / ``pv plots diff``: write the HTML report (or print the Vega-Lite specs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.commands.pipeline.plots import PlotsResult
    from pipever.pipeline.stage import PlotProps

OUT_DIR = "pv_plots"


def register(app: typer.Typer) -> None:
    plots = typer.Typer(help="Plot metrics series from files across revisions.", no_args_is_help=True)
    plots.command("show", help="Write an HTML report (offline, self-contained) of the workspace's plots.")(show)
    plots.command("diff", help="Overlay plots of several revisions (default: HEAD and the workspace).")(diff)
    app.add_typer(plots, name="plots")


def _props(template: str | None, x: str | None, y: str | None, title: str | None, x_label: str | None,
           y_label: str | None, no_header: bool) -> PlotProps:
    from pipever.pipeline.stage import PlotProps

    return PlotProps(template=template, x=x, y=y, title=title, x_label=x_label, y_label=y_label,
                     header=False if no_header else None)


def _emit(res: PlotsResult, as_json: bool) -> None:
    for error in res.errors:
        render.warn(error)
    if as_json:
        render.json_out(res.as_dict())
    elif res.html is not None:
        render.out(res.html.resolve().as_uri())


TEMPLATE_HELP = "Template: linear, simple, scatter, smooth, confusion, confusion_normalized, bar_horizontal[_sorted]."


def show(
    targets: Optional[List[str]] = typer.Argument(None, help="Plot ids or data files (default: every plot in pv.yaml)."),
    template: Optional[str] = typer.Option(None, "-t", "--template", help=TEMPLATE_HELP),
    x: Optional[str] = typer.Option(None, "-x", help="Field for the x axis (default: the row index, 'step')."),
    y: Optional[str] = typer.Option(None, "-y", help="Field for the y axis (default: the last column)."),
    title: Optional[str] = typer.Option(None, "--title", help="Plot title."),
    x_label: Optional[str] = typer.Option(None, "--x-label", help="X axis label."),
    y_label: Optional[str] = typer.Option(None, "--y-label", help="Y axis label."),
    no_header: bool = typer.Option(False, "--no-header", help="CSV/TSV data files have no header row."),
    out: str = typer.Option(OUT_DIR, "-o", "--out", help="Directory to write index.html to."),
    as_json: bool = typer.Option(False, "--json", help="Print the Vega-Lite specs as JSON (no HTML written)."),
) -> None:
    from pipever.commands.pipeline.plots import plots_show

    res = plots_show(context.repo(), targets=targets or (), props=_props(template, x, y, title, x_label, y_label, no_header),
                     out_dir=None if as_json else Path(out))
    _emit(res, as_json)


def diff(
    revisions: Optional[List[str]] = typer.Argument(None, help="Revisions to overlay ('workspace' is the work tree)."),
    targets: Optional[List[str]] = typer.Option(None, "--targets", help="Plot ids or data files (repeatable)."),
    template: Optional[str] = typer.Option(None, "-t", "--template", help=TEMPLATE_HELP),
    x: Optional[str] = typer.Option(None, "-x", help="Field for the x axis (default: the row index, 'step')."),
    y: Optional[str] = typer.Option(None, "-y", help="Field for the y axis (default: the last column)."),
    title: Optional[str] = typer.Option(None, "--title", help="Plot title."),
    x_label: Optional[str] = typer.Option(None, "--x-label", help="X axis label."),
    y_label: Optional[str] = typer.Option(None, "--y-label", help="Y axis label."),
    no_header: bool = typer.Option(False, "--no-header", help="CSV/TSV data files have no header row."),
    out: str = typer.Option(OUT_DIR, "-o", "--out", help="Directory to write index.html to."),
    as_json: bool = typer.Option(False, "--json", help="Print the Vega-Lite specs as JSON (no HTML written)."),
) -> None:
    from pipever.commands.pipeline.plots import plots_diff

    res = plots_diff(context.repo(), revisions=revisions or (), targets=targets or (),
                     props=_props(template, x, y, title, x_label, y_label, no_header),
                     out_dir=None if as_json else Path(out))
    _emit(res, as_json)
