from __future__ import annotations

from benchmarks.goals import GOALS, Figures, Goal, Kind, evaluate, verdict
from benchmarks.measure import Stats
from benchmarks.report import fmt_figure, fmt_ratio, fmt_value, markdown_table, to_json
from benchmarks.rows import Row, ToolFigure, build_rows, median_ratio
from benchmarks.scenario import Outcome, Step


def test_fmt_value() -> None:
    assert fmt_value(0.12345, "s") == "0.123 s"
    assert fmt_value(12.345, "s") == "12.3 s"
    assert fmt_value(456.7, "s") == "457 s"
    assert fmt_value(42.0, "pkgs") == "42"
    assert fmt_value(87.31, "MiB") == "87.3 MiB"


def test_fmt_figure_and_ratio() -> None:
    fig = ToolFigure("ok", stats=Stats(1.5, 1.2, 2.0, 3), peak_rss_mb=40.0)
    assert fmt_figure(fig, "s") == "1.5 s (1.2–2)"
    assert fmt_figure(ToolFigure("skipped", "skipped: pv has no `push` command yet"), "s") == (
        "skipped: pv has no `push` command yet"
    )
    assert fmt_ratio(None) == "n/a" and fmt_ratio(0.1234) == "0.12×"


def test_goal_checks() -> None:
    w3 = Figures(pv=0.25, pv_rss_mb=60.0, ratio=0.05, multiple=None)
    checks, result = evaluate("W3", w3)
    assert [c.verdict for c in checks] == ["PASS", "PASS", "PASS"] and result == "PASS"
    slow = Figures(pv=0.5, pv_rss_mb=60.0, ratio=None, multiple=None)
    assert evaluate("W3", slow)[1] == "MISS"
    no_dvc = Figures(pv=0.2, pv_rss_mb=60.0, ratio=None, multiple=None)
    assert evaluate("W3", no_dvc)[1] == "PASS*"
    assert evaluate("W10-first", no_dvc)[1] == "n/a"
    assert evaluate("W9-noop", no_dvc) == ([], "")
    assert Goal(Kind.DVC_RATIO, 1 / 3).text == "≤0.33× DVC"
    assert verdict([]) == "n/a"
    assert {"W1", "W3", "W9-full", "W11-version", "W12-mb"} <= set(GOALS)


def _rows() -> list[Row]:
    steps = [
        Step("W3", "status"),
        Step("W6", "push", ("push",)),
        Step("W12-packages", "pkgs", unit="pkgs"),
    ]
    results = {
        ("W3", "pv"): Outcome([0.1, 0.2, 0.3], [50.0, 60.0, 55.0]),
        ("W3", "dvc"): Outcome([2.0, 2.0, 2.0], [150.0, 150.0, 150.0]),
        ("W6", "pv"): Outcome(skipped="skipped: pv has no `push` command yet"),
        ("W6", "dvc"): Outcome([4.0], [100.0]),
        ("W12-packages", "pv"): Outcome([30.0]),
        ("W12-packages", "dvc"): Outcome([120.0]),
    }
    return build_rows(steps, results, ["pv", "dvc"], {"W3": (0.04, "python start-up")})


def test_rows_ratios_and_median() -> None:
    rows = _rows()
    w3, w6, w12 = rows
    assert w3.ratio == 0.1 and w3.multiple == 0.2 / 0.04 and w3.verdict == "PASS"
    assert w3.figures["pv"].peak_rss_mb == 60.0
    assert w6.ratio is None and w6.figures["pv"].status == "skipped" and w6.verdict == "n/a"
    assert w12.ratio == 0.25 and w12.verdict == "PASS"
    assert median_ratio(rows) == (0.1 + 0.25) / 2


def test_markdown_and_json() -> None:
    rows = _rows()
    table = markdown_table(rows, ["pv", "dvc"])
    lines = table.splitlines()
    assert lines[0].startswith("| id | workload | pv median")
    assert len(lines) == 2 + len(rows)
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "| W3 | status | 0.2 s (0.1–0.3) | 60 MiB | 2 s | 150 MiB | 0.10× |" in table
    assert "skipped: pv has no `push` command yet" in table
    doc = to_json({"tools": ["pv", "dvc"]}, None, rows)
    assert doc["rows"][0]["ratio_pv_dvc"] == 0.1
    assert doc["median_ratio_pv_dvc"] == (0.1 + 0.25) / 2
