"""Write results as JSON (every figure) and as a Markdown table (for humans and the README)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from benchmarks.rows import Row, ToolFigure, median_ratio, ratio_rows

NOTE_CHARS = 90


def fmt_value(value: float, unit: str) -> str:
    """``0.123 s``, ``12.3 s``, ``456 s``; ``42``, ``87.3 MiB``."""
    if unit == "pkgs":
        return f"{value:.0f}"
    number = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{number} {unit}"


def fmt_figure(fig: ToolFigure | None, unit: str) -> str:
    if fig is None:
        return "—"
    if fig.stats is None:
        return _cell(fig.note or fig.status)
    text = fmt_value(fig.stats.median, unit)
    if fig.stats.n > 1 and fig.stats.high > fig.stats.low:
        low = fmt_value(fig.stats.low, unit).split()[0]
        high = fmt_value(fig.stats.high, unit).split()[0]
        text += f" ({low}–{high})"
    if fig.requests is not None:
        text += f", {fig.requests} requests"
    return text


def fmt_rss(fig: ToolFigure | None) -> str:
    if fig is None or fig.peak_rss_mb is None:
        return "—"
    return f"{fig.peak_rss_mb:.0f} MiB"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def fmt_multiple(row: Row) -> str:
    if row.multiple is None or row.limit_what is None:
        return "—"
    return f"{row.multiple:.2f}× {row.limit_what}"


def fmt_goals(row: Row) -> str:
    return "; ".join(f"{c.goal.text} {c.verdict}" for c in row.checks) or "—"


def _cell(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1] + "…"


def markdown_table(rows: Sequence[Row], tools: Sequence[str]) -> str:
    other = [t for t in tools if t != "pv"]
    head = ["id", "workload", "pv median (min–max)", "pv peak RSS"]
    for name in other:
        head += [f"{name} median (min–max)", f"{name} peak RSS"]
    head += ["pv/DVC", "pv vs limit", "goals", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.step.id, row.step.label]
        for name in ("pv", *other):
            fig = row.figures.get(name)
            cells += [fmt_figure(fig, row.step.unit), fmt_rss(fig)]
        cells += [fmt_ratio(row.ratio), fmt_multiple(row), fmt_goals(row), row.verdict or "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def limits_table(limits: dict[str, Any]) -> str:
    def speed(value: float | None) -> str:
        return "n/a (no blake3 package)" if value is None else f"{value:.0f} MiB/s"

    mib = limits["big_bytes"] / (1024 * 1024)
    tree_mib = limits["tree_bytes"] / (1024 * 1024)
    rows = [
        ("BLAKE3, 1 core", speed(limits["blake3_1core_mib_s"])),
        ("BLAKE3, all cores (`max_threads=AUTO`)", speed(limits["blake3_all_mib_s"])),
        (f"`cp` of the {mib:.0f} MiB file", f"{limits['cp_big_s']:.3g} s"),
        (
            f"`cp -r` of {limits['tree_files']} files ({tree_mib:.0f} MiB)",
            f"{limits['cp_tree_s']:.3g} s",
        ),
        ("`os.link`", f"{limits['links_per_s']:.0f} links/s"),
        ("`python -c pass`", f"{limits['python_start_s'] * 1000:.0f} ms"),
    ]
    lines = ["| limit (best of 3) | figure |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def to_markdown(meta: dict[str, Any], limits: dict[str, Any] | None, rows: Sequence[Row]) -> str:
    tools = meta["tools"]
    parts = [
        "# pipever benchmarks",
        "",
        f"- run: {meta['started']}, {meta['mode']} sizes, {meta['reps']} repetitions, "
        f"commit `{meta['commit']}`" + ("" if meta.get("complete", True) else " (in progress)"),
        f"- machine: {meta['machine']}; load average (1/5/15 min) "
        f"{meta.get('load_at_start', '?')} at start, {meta.get('load_at_end', '?')} at end",
        "- tools: "
        + ", ".join(
            f"{name} {version} (`{meta.get('executables', {}).get(name, '?')}`)"
            for name, version in meta["versions"].items()
        ),
        f"- sizes: {meta['sizes_text']}",
        "",
    ]
    if limits:
        parts += ["## Physical limits", "", limits_table(limits), ""]
    parts += ["## Workloads", "", markdown_table(rows, tools), ""]
    if "dvc" in tools and ratio_rows(rows):
        parts.append(
            f"Median pv/DVC ratio over {len(ratio_rows(rows))} rows of times and footprint: "
            f"**{fmt_ratio(median_ratio(rows))}**"
        )
        parts.append("")
    parts.append(
        "Times are wall-clock medians of fresh processes; peak RSS is the child's `ru_maxrss` "
        "(max over repetitions). Goals were set for full sizes on 2 cores; `PASS*`: every goal "
        "that could be checked passed (the DVC ratio needs `--compare dvc`)."
    )
    notes = _notes(rows)
    if notes:
        parts += ["", "## Notes", "", *notes]
    return "\n".join(parts) + "\n"


def _notes(rows: Sequence[Row]) -> list[str]:
    """Full error messages, and the commands of rows where the tools ran different flags."""
    notes = []
    for row in rows:
        for name, fig in row.figures.items():
            if fig.status == "error" and fig.note and len(fig.note) > NOTE_CHARS:
                notes.append(f"- {row.step.id} {name}: {' '.join(fig.note.split())}")
        commands = {name: fig.command for name, fig in row.figures.items() if fig.command}
        if len(commands) > 1 and len({_generic(n, c) for n, c in commands.items()}) > 1:
            shown = ", ".join(f"`{command}`" for command in commands.values())
            notes.append(f"- {row.step.id} ran {shown}")
    return notes


def _generic(tool: str, command: str) -> str:
    return " ".join("TOOL" if word == tool else word for word in command.split())


def row_json(row: Row) -> dict[str, Any]:
    return {
        "id": row.step.id,
        "label": row.step.label,
        "unit": row.step.unit,
        "tools": {name: asdict(fig) for name, fig in row.figures.items()},
        "ratio_pv_dvc": row.ratio,
        "limit_s": row.limit_s,
        "limit": row.limit_what,
        "pv_vs_limit": row.multiple,
        "goals": [{"goal": c.goal.text, "verdict": c.verdict} for c in row.checks],
        "verdict": row.verdict,
    }


def to_json(
    meta: dict[str, Any], limits: dict[str, Any] | None, rows: Sequence[Row]
) -> dict[str, Any]:
    return {
        "meta": meta,
        "limits": limits,
        "rows": [row_json(row) for row in rows],
        "median_ratio_pv_dvc": median_ratio(rows),
    }
