"""``pv plots show`` / ``pv plots diff``: plot data of revisions, Vega-Lite specs, the HTML report.

The plots are the ``pv.yaml`` ones (top-level definitions and stage ``plots`` outs, the newest
revision's definition winning) or the given targets (plot ids or data files). Each revision's data
file is read like a metrics file (Git objects, or the cache for pv-tracked files). The report is
written atomically to ``OUT_DIR/index.html`` with the vendored vega scripts inlined
(``compare.vega``), so the charts are interactive offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipever.compare.plotdata import TEMPLATES, PlotConfig, Records, build_plot, override, pipeline_plots, records, select
from pipever.compare.images import ImageShot, data_uri, figures_html, is_image, static_name
from pipever.compare.report import ReportPlot, render_html
from pipever.compare.svgcharts import render_svg
from pipever.compare.templates import vega_spec
from pipever.compare.vega import vega_scripts
from pipever.errors import PvError
from pipever.fsutil import atomic_write, atomic_write_text
from pipever.paths import cwd_target
from pipever.services.snapshot import Snapshot, read_or_error, resolve_rev
from pipever.pipeline.stage import PlotProps
from pipever.context import RepoContext

INDEX = "index.html"
STATIC = "static"  # image files of the report, as DVC names them


@dataclass(frozen=True)
class RenderedPlot:
    id: str
    template: str
    revisions: tuple[str, ...]  # those that had data
    spec: dict[str, Any]
    svg: str


@dataclass(frozen=True)
class ImagePlot:
    id: str  # the image's repo-relative path
    shots: tuple[ImageShot, ...]  # one per revision that has it

    @property
    def revisions(self) -> tuple[str, ...]:
        return tuple(s.rev for s in self.shots)


@dataclass(frozen=True)
class PlotsResult:
    plots: tuple[RenderedPlot, ...]
    errors: tuple[str, ...] = ()  # unreadable data files, plots without data
    html: Path | None = None  # the report written, if any
    interactive: bool = False  # the vega scripts were inlined
    images: tuple[ImagePlot, ...] = ()

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        """DVC's ``--json`` shape: ``{plot id: [{"type": "vega", "revisions": [...], "content": spec}]}``,
        and for an image ``{path: [{"type": "image", "revisions": [rev], "url": ...}, ...]}`` (the
        file in the report's ``static/`` folder when one was written, else a ``data:`` URI)."""
        out: dict[str, list[dict[str, Any]]] = {
            p.id: [{"type": "vega", "revisions": list(p.revisions), "content": p.spec}] for p in self.plots}
        for img in self.images:
            out[img.id] = [{"type": "image", "revisions": [s.rev],
                            "url": str(self.html.parent / STATIC / static_name(s.rev, s.path)) if self.html
                            else data_uri(s.path, s.data)} for s in img.shots]
        return out


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
    chosen, image_files = _expand_folders(snaps, chosen)
    for p in chosen:
        if p.template not in TEMPLATES:
            raise PvError(f"unknown plot template '{p.template}' (plot '{p.id}')", hint="use one of: " + ", ".join(TEMPLATES))
    errors: list[str] = [] if chosen or image_files else ["no plots found — declare them in pv.yaml (a stage's 'plots' or the "
                                           "top-level 'plots'), or name data files: pv plots show FILE"]
    rendered: list[RenderedPlot] = []
    for config in chosen:
        data = {snap.name: _read(snap, config, errors) for snap in snaps}
        plot = build_plot(config, data)
        if not plot.rows:
            errors.append(f"plot '{config.id}': no data in " + ", ".join(s.name for s in snaps))
            continue
        rendered.append(RenderedPlot(plot.id, plot.template, plot.revisions, vega_spec(plot), render_svg(plot)))
    images = _images(snaps, image_files, errors)
    result = PlotsResult(tuple(rendered), tuple(errors), images=images)
    if out_dir is None:
        return result
    scripts = vega_scripts()
    report = [ReportPlot(p.id, p.svg, p.spec, p.revisions) for p in rendered]
    report += [ReportPlot(i.id, figures_html(list(i.shots)), {}, i.revisions, kind="image") for i in images]
    html = render_html(report, scripts=scripts)
    out_dir.mkdir(parents=True, exist_ok=True)
    if images:
        (out_dir / STATIC).mkdir(exist_ok=True)
    for img in images:
        for shot in img.shots:
            atomic_write(out_dir / STATIC / static_name(shot.rev, shot.path), shot.data)
    atomic_write_text(out_dir / INDEX, html)
    return PlotsResult(result.plots, result.errors, out_dir / INDEX, bool(scripts), images)


def _expand_folders(snaps: Sequence[Snapshot], configs: list[PlotConfig]) -> tuple[list[PlotConfig], list[str]]:
    """A plot of a folder becomes one plot per file in it (in any revision), as in DVC; image
    files (and plots that are images) are set apart. Returns (data plots, image paths)."""
    data: list[PlotConfig] = []
    images: list[str] = []
    for config in configs:
        files = config.files
        if len(files) != 1:
            data.append(config)
            continue
        listed: set[str] = set()
        for snap in snaps:
            listed.update(snap.files_under(files[0]) or ())
        if not listed:  # a file (or nothing yet)
            if is_image(files[0]):
                images.append(files[0])
            else:
                data.append(config)
            continue
        fields = config.y.get(files[0], ())
        for file in sorted(listed):
            if is_image(file):
                images.append(file)
            else:
                data.append(PlotConfig(file, {file: fields}, config.props))
    return data, list(dict.fromkeys(images))


def _images(snaps: Sequence[Snapshot], paths: list[str], errors: list[str]) -> tuple[ImagePlot, ...]:
    plots = []
    for path in paths:
        shots = []
        for snap in snaps:
            data = read_or_error(snap, path)
            if isinstance(data, PvError):
                errors.append(f"{snap.name}: {data.render()}")
            elif data is not None:
                shots.append(ImageShot(snap.name, path, data))
        if shots:
            plots.append(ImagePlot(path, tuple(shots)))
        else:
            errors.append(f"plot '{path}': no image in " + ", ".join(s.name for s in snaps))
    return tuple(plots)


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
