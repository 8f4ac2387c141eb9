"""Plot definitions and their data: which plots a pipeline has, and the rows a plot shows.

A plot is DVC's: a top-level definition (``id`` with ``x``, ``y: {file: fields}``, template,
labels) or a stage's ``plots`` out (its file, with the out's props). Data files are CSV/TSV (one
record per row) or JSON/YAML (a list of records, or a mapping whose first list value holds them).

``build_plot`` turns the records of each revision into long-format rows, one per point: the x
value (the record's index, ``step``, when no ``x`` is given), the y value, and ``rev``,
``filename``, ``field`` and ``series`` (those of rev/file/field that vary, joined by ``::``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pipever.compare.values import is_table, parse_document, read_table
from pipever.errors import SchemaError
from pipever.pipeline.stage import Pipeline, PlotDef, PlotProps

TEMPLATES = ("linear", "simple", "scatter", "smooth", "confusion", "confusion_normalized", "bar_horizontal",
             "bar_horizontal_sorted")
INDEX = "step"
Records = list[dict[str, Any]]


@dataclass(frozen=True)
class PlotConfig:
    id: str
    y: Mapping[str, tuple[str, ...]] = field(hash=False)  # data file -> y fields (() = the last column)
    props: PlotProps = field(default=PlotProps(), hash=False)

    @property
    def files(self) -> tuple[str, ...]:
        return PlotDef(self.id, self.y, self.props).files

    @property
    def template(self) -> str:
        return self.props.template or "linear"


@dataclass(frozen=True)
class PlotData:
    id: str
    template: str
    title: str
    x: str  # field of the rows holding x
    y: str  # field of the rows holding y
    x_label: str
    y_label: str
    rows: tuple[dict[str, Any], ...]
    revisions: tuple[str, ...]  # those that had data
    x_numeric: bool = True


def records(data: bytes, file: str, *, header: bool = True) -> Records:
    """The records of a plots data file; SchemaError naming the file when it holds none."""
    if is_table(file):
        return read_table(data, file, header=header)
    doc = parse_document(data, file)
    if isinstance(doc, Mapping):
        doc = next((v for v in doc.values() if isinstance(v, list)), None)
    if not isinstance(doc, list) or not all(isinstance(r, Mapping) for r in doc):
        raise SchemaError(file, "plots data must be a list of records (or a mapping holding one)")
    return [dict(r) for r in doc]


def pipeline_plots(pipeline: Pipeline | None) -> list[PlotConfig]:
    """Top-level plot definitions, then stage plot outs, in pv.yaml order."""
    if pipeline is None:
        return []
    found = [PlotConfig(p.id, p.y, p.props) for p in pipeline.plots]
    for stage in pipeline.stages.values():
        for out in stage.plots:
            props = out.plot or PlotProps()
            raw_y = props.y
            fields = (raw_y,) if isinstance(raw_y, str) else tuple(raw_y or ())
            found.append(PlotConfig(out.path, {out.path: fields}, props))
    return found


def select(plots: Sequence[PlotConfig], targets: Sequence[str]) -> list[PlotConfig]:
    """The plots ``targets`` name (a plot id or a data file); an unknown file becomes its own plot."""
    if not targets:
        return list(plots)
    chosen: list[PlotConfig] = []
    for target in targets:
        hits = [p for p in plots if p.id == target] or [p for p in plots if target in p.y]
        chosen.extend(hits or [PlotConfig(target, {target: ()})])
    return list({p.id: p for p in chosen}.values())


def override(plot: PlotConfig, overrides: PlotProps) -> PlotConfig:
    """Command-line -t/-x/-y/--title/... over the definition's props."""
    changed = {k: v for k, v in vars(overrides).items() if v is not None}
    new_y = changed.pop("y", None)
    y = {f: (new_y,) for f in plot.y} if isinstance(new_y, str) else plot.y
    return replace(plot, y=y, props=replace(plot.props, **changed))


def _x_field(props: PlotProps, file: str) -> str | None:
    if isinstance(props.x, Mapping):
        return props.x.get(file) or next(iter(props.x.values()), None)
    return props.x


def _x_source(props: PlotProps, file: str) -> str:
    if isinstance(props.x, Mapping) and file not in props.x and props.x:
        return next(iter(props.x))
    return file


def build_plot(plot: PlotConfig, data: Mapping[str, Mapping[str, Records]]) -> PlotData:
    """Long-format rows of ``plot`` from ``{rev: {file: records}}`` (revisions in display order)."""
    props = plot.props
    points: list[tuple[str, str, str, Any, Any]] = []  # rev, file, field, x, y
    x_names: set[str] = set()
    for rev, files in data.items():
        for file, fields in plot.y.items():
            recs = files.get(file)
            if not recs:
                continue
            x_name = _x_field(props, file)
            if x_name is None and plot.template.startswith("confusion"):
                x_name = next(iter(recs[0]), None)  # actual class: the first column
            x_recs = files.get(_x_source(props, file), recs)
            for name in fields or (_default_y(recs, x_name),):
                x_names.add(x_name or INDEX)
                for i, rec in enumerate(recs):
                    if name not in rec:
                        continue
                    xv = i if x_name is None else (x_recs[i].get(x_name) if i < len(x_recs) else None)
                    if xv is not None:
                        points.append((rev, file, name, xv, rec[name]))
    y_names = {p[2] for p in points}
    x = next(iter(x_names)) if len(x_names) == 1 else "x"
    y = next(iter(y_names)) if len(y_names) == 1 and y_names != {x} else "value"
    vary = [len({p[i] for p in points}) > 1 for i in range(3)]
    rows = tuple(
        {x: xv, y: yv, "rev": rev, "filename": file, "field": name,
         "series": "::".join(part for part, v in zip((rev, file, name), vary) if v) or name}
        for rev, file, name, xv, yv in points
    )
    return PlotData(
        id=plot.id, template=plot.template, title=props.title or plot.id, x=x, y=y,
        x_label=props.x_label or x, y_label=props.y_label or y, rows=rows,
        revisions=tuple(dict.fromkeys(p[0] for p in points)),
        x_numeric=all(_is_num(r[x]) for r in rows),
    )


def _default_y(recs: Records, x_name: str | None) -> str:
    """DVC's default: the last field of the first record (other than x)."""
    keys = [k for k in recs[0] if k != x_name]
    return keys[-1] if keys else next(iter(recs[0]), "")


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
