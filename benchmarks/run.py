"""``python -m benchmarks``: run the workloads for pv (and dvc), write results/latest.{json,md}."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import dedup, footprint, pipelines, workloads
from benchmarks.limits import Limits, lower_bounds, measure_limits
from benchmarks.report import to_json, to_markdown
from benchmarks.rows import Row, build_rows
from benchmarks.s3server import MotoS3
from benchmarks.scenario import FULL, QUICK, Results, Runner, Scenario, Sizes
from benchmarks.tools import BENCH_DIR, DVC, PV, Tool, default_pv, ensure_dvc

ALL_SCENARIOS: tuple[Scenario, ...] = (
    *workloads.SCENARIOS[:5],
    *pipelines.SCENARIOS,
    *workloads.SCENARIOS[5:],
    *footprint.SCENARIOS,
    *dedup.SCENARIOS,
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, ~2 minutes (CI)")
    parser.add_argument("--compare", choices=["dvc"], help="also run dvc, alternating with pv")
    parser.add_argument("--pv", type=Path, help="pv executable (default: next to this python)")
    parser.add_argument("--dvc", type=Path, help="dvc executable (default: benchmarks/.venv-dvc)")
    parser.add_argument("--reps", type=int, help="repetitions per workload")
    parser.add_argument("--only", help="comma-separated workload ids, e.g. W1,W3,W9")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="output folder")
    parser.add_argument("--tmp-dir", type=Path, help="parent of the temp dirs (default: system)")
    parser.add_argument("--keep-tmp", action="store_true", help="keep temp dirs for inspection")
    parser.add_argument("--no-limits", action="store_true", help="skip the physical limits")
    parser.add_argument(
        "--fail-on-error", action="store_true", help="exit 1 when a workload fails (skips are fine)"
    )
    return parser.parse_args(argv)


def select(scenarios: Sequence[Scenario], only: str | None) -> list[Scenario]:
    """Scenarios with a step matching one of the ids (``W8`` matches ``W8-local``)."""
    if not only:
        return list(scenarios)
    wanted = [token.strip().upper() for token in only.split(",") if token.strip()]

    def matches(step_id: str) -> bool:
        return any(step_id.upper() == w or step_id.upper().startswith(w + "-") for w in wanted)

    return [s for s in scenarios if any(matches(step.id) for step in s.steps)]


def sizes_text(sizes: Sizes) -> str:
    return (
        f"large file {sizes.big_file / (1 << 20):.0f} MiB; {sizes.n_files} files of 1–8 KiB, "
        f"{sizes.n_changed} changed ({sizes.s3_files} files for S3); "
        f"stages sleep {sizes.stage_s:g} s; "
        f"{sizes.n_trivial} trivial stages; start-up x{sizes.startup_reps}"
    )


def _output(argv: Sequence[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (
        proc.stdout.strip().splitlines()[0] if proc.returncode == 0 and proc.stdout else "unknown"
    )


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> str:
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
        ram_text = f"{ram:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        ram_text = "RAM unknown"
    return (
        f"{os.cpu_count()} cores, {ram_text}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def meta(
    args: argparse.Namespace, sizes: Sizes, tools: Sequence[Tool], started: str
) -> dict[str, Any]:
    return {
        "started": started,
        "mode": "quick" if args.quick else "full",
        "reps": sizes.reps,
        "commit": _output(["git", "rev-parse", "--short", "HEAD"], BENCH_DIR.parent),
        "machine": machine(),
        "tools": [t.name for t in tools],
        "versions": {t.name: _output(t.argv("--version")) for t in tools},
        "executables": {t.name: str(t.exe) for t in tools},
        "sizes": dataclasses.asdict(sizes),
        "sizes_text": sizes_text(sizes),
        "load_at_start": load_average(),
    }


def make_tools(args: argparse.Namespace) -> list[Tool]:
    pv = args.pv or default_pv()
    if pv is None or not pv.exists():
        raise SystemExit("error: no pv executable found — install pipever or pass --pv PATH")
    tools = [Tool(PV, pv.absolute())]
    if args.compare == "dvc":
        tools.append(Tool(DVC, (args.dvc or ensure_dvc()).absolute()))
    return tools


def run_all(
    runner: Runner,
    scenarios: Sequence[Scenario],
    after_each: Callable[[Sequence[Scenario]], object],
) -> None:
    with contextlib.ExitStack() as stack:
        if any(s.needs_s3 for s in scenarios) and MotoS3.available():
            server = stack.enter_context(MotoS3())
            runner.s3_url, runner.s3_endpoint, runner.s3_requests = server.url, server.endpoint, server.requests
            runner.s3 = server
        stack.callback(runner.cleanup)
        for index, scenario in enumerate(scenarios):
            runner.run(scenario)
            after_each(scenarios[: index + 1])


def write_results(out: Path, info: dict[str, Any], limits: Limits | None, rows: list[Row]) -> str:
    """Write latest.json and latest.md into ``out``; return the Markdown."""
    limits_json = limits.to_json() if limits else None
    out.mkdir(parents=True, exist_ok=True)
    document = to_json(info, limits_json, rows)
    (out / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    markdown = to_markdown(info, limits_json, rows)
    (out / "latest.md").write_text(markdown)
    return markdown


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.reps:
        sizes = dataclasses.replace(sizes, reps=args.reps)
    tools = make_tools(args)
    scenarios = select(ALL_SCENARIOS, args.only)
    if not scenarios:
        print(f"error: no workload matches --only {args.only}", file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = meta(args, sizes, tools, started)
    log = sys.stderr
    limits = None
    if not args.no_limits:
        print("[limits] measuring physical limits", file=log, flush=True)
        limits = measure_limits(sizes, args.tmp_dir)
    bounds = lower_bounds(limits, sizes)
    names = [t.name for t in tools]
    results: Results = {}
    rows: list[Row] = []

    def publish(done: Sequence[Scenario]) -> None:
        """Rewrite the results after every scenario, so a long run that stops keeps its work."""
        nonlocal rows
        rows = build_rows([step for s in done for step in s.steps], results, names, bounds)
        info["load_at_end"] = load_average()
        info["complete"] = len(done) == len(scenarios)
        write_results(args.out, info, limits, rows)

    runner = Runner(tools, sizes, results, log, args.tmp_dir, args.keep_tmp)
    run_all(runner, scenarios, publish)
    print((args.out / "latest.md").read_text())
    failed = any(f.status == "error" for row in rows for f in row.figures.values())
    return 1 if failed and args.fail_on_error else 0
