"""``pv plots show`` / ``pv plots diff``: plot data of revisions, Vega-Lite specs, the HTML report.

The plots are the ``pv.yaml`` ones (top-level definitions and stage ``plots`` outs, the newest
revision's definition winning) or the given targets (plot ids or data files). Each revision's data
file is read like a metrics file (Git objects, or the cache for pv-tracked files). The report is
written atomically to ``OUT_DIR/index.html``. When the optional ``pipever[plots]`` extra is
installed, its vega scripts are inlined and the charts become interactive.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipever.compare.plotdata import TEMPLATES, PlotConfig, Records, build_plot, override, pipeline_plots, records, select
from pipever.compare.report import ReportPlot, render_html
from pipever.compare.svgcharts import render_svg
from pipever.compare.templates import vega_spec
from pipever.errors import PvError
from pipever.fsutil import atomic_write_text
from pipever.paths import cwd_target
from pipever.services.snapshot import Snapshot, read_or_error, resolve_rev
from pipever.pipeline.stage import PlotProps
from pipever.context import RepoContext

VEGA_PACKAGE = "altair_viewer"  # ships vega, vega-lite and vega-embed as plain .js files
INDEX = "index.html"


@dataclass(frozen=True)
class RenderedPlot:
    id: str
    template: str
    revisions: tuple[str, ...]  # those that had data
    spec: dict[str, Any]
    svg: str


@dataclass(frozen=True)
class PlotsResult:
    plots: tuple[RenderedPlot, ...]
    errors: tuple[str, ...] = ()  # unreadable data files, plots without data
    html: Path | None = None  # the report written, if any
    interactive: bool = False  # the vega scripts were inlined

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        """DVC's ``--json`` shape: ``{plot id: [{"type": "vega", "revisions": [...], "content": spec}]}``."""
        return {p.id: [{"type": "vega", "revisions": list(p.revisions), "content": p.spec}] for p in self.plots}


def plots_show(repo: RepoContext, *, targets: Sequence[str] = (), props: PlotProps = PlotProps(),
               out_dir: Path | None = None) -> PlotsResult:
    """The workspace's plots; the report is written when ``out_dir`` is given."""
    return _plots(repo, [None], targets=targets, props=props, out_dir=out_dir)


def plots_diff(repo: RepoContext, *, revisions: Sequence[str] = (), targets: Sequence[str] = (),
               props: PlotProps = PlotProps(), out_dir: Path | None = None) -> PlotsResult:
    """Plots of several revisions overlaid: none given means HEAD and the workspace; one given is
    compared with the workspace."""
    revs: list[str | None] = list(revisions)
    if len(revs) < 2:
        revs = (revs or ["HEAD"]) + [None]
    return _plots(repo, revs, targets=targets, props=props, out_dir=out_dir)


def _plots(repo: RepoContext, revs: Sequence[str | None], *, targets: Sequence[str], props: PlotProps,
           out_dir: Path | None) -> PlotsResult:
    snaps = [Snapshot(repo, resolve_rev(repo, r)) for r in revs]
    configs: dict[str, PlotConfig] = {}
    for snap in reversed(snaps):  # the newest definition of a plot wins
        for config in pipeline_plots(snap.pipeline()):
            configs.setdefault(config.id, config)
    named = [t if t in configs else cwd_target(repo.root, t) for t in targets]  # ids, or files from the cwd
    chosen = [override(p, props) for p in select(list(configs.values()), named)]
    for p in chosen:
        if p.template not in TEMPLATES:
            raise PvError(f"unknown plot template '{p.template}' (plot '{p.id}')", hint="use one of: " + ", ".join(TEMPLATES))
    errors: list[str] = [] if chosen else ["no plots found — declare them in pv.yaml (a stage's 'plots' or the "
                                           "top-level 'plots'), or name data files: pv plots show FILE"]
    rendered: list[RenderedPlot] = []
    for config in chosen:
        data = {snap.name: _read(snap, config, errors) for snap in snaps}
        plot = build_plot(config, data)
        if not plot.rows:
            errors.append(f"plot '{config.id}': no data in " + ", ".join(s.name for s in snaps))
            continue
        rendered.append(RenderedPlot(plot.id, plot.template, plot.revisions, vega_spec(plot), render_svg(plot)))
    result = PlotsResult(tuple(rendered), tuple(errors))
    if out_dir is None:
        return result
    scripts = vega_scripts()
    html = render_html([ReportPlot(p.id, p.svg, p.spec, p.revisions) for p in rendered], scripts=scripts)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / INDEX, html)
    return PlotsResult(result.plots, result.errors, out_dir / INDEX, bool(scripts))


def _read(snap: Snapshot, config: PlotConfig, errors: list[str]) -> dict[str, Records]:
    found: dict[str, Records] = {}
    for file in config.files:
        data = read_or_error(snap, file)
        if data is None:
            continue
        try:
            if isinstance(data, PvError):
                raise data
            found[file] = records(data, file, header=config.props.header is not False)
        except PvError as exc:
            errors.append(f"{snap.name}: {exc.render()}")
    return found


def vega_scripts() -> list[str]:
    """vega, vega-lite and vega-embed sources from the installed ``altair_viewer`` package (the
    newest of each), without importing it; [] when it is not installed."""
    spec = importlib.util.find_spec(VEGA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "scripts"
    sources = []
    for lib in ("vega", "vega-lite", "vega-embed"):
        files = [f for f in folder.glob(f"{lib}-*.js") if re.fullmatch(rf"{lib}-[\d.]+\.js", f.name)]
        if not files:
            return []
        newest = max(files, key=lambda f: tuple(int(n) for n in re.findall(r"\d+", f.name)))
        sources.append(newest.read_text(encoding="utf-8"))
    return sources
