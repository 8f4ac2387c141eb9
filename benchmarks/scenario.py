"""Scenarios: a body that prepares a repo and times named steps, run per tool and repetition.

Every repetition of every tool gets a fresh ``Sandbox``. A step whose command the tool lacks is
recorded as skipped; a failing command ends that tool's scenario with an error on the steps
it did not reach, and never ends the benchmark run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from benchmarks.measure import Sample, combine, run_timed
from benchmarks.sandbox import Sandbox
from benchmarks.tools import Tool

Cmd = tuple[Sequence[str], Path]


@dataclass(frozen=True)
class Sizes:
    """Workload sizes; ``QUICK`` keeps the whole run under about two minutes."""

    big_file: int
    n_files: int
    n_changed: int
    stage_s: float
    n_trivial: int
    reps: int
    startup_reps: int
    s3_files: int


FULL = Sizes(2 << 30, 20_000, 10, 1.0, 100, 3, 10, 20_000)
QUICK = Sizes(64 << 20, 500, 10, 0.2, 15, 2, 5, 200)


@dataclass(frozen=True)
class Step:
    """One reported row: id (``W3``), what it measures, and the sub-commands it needs."""

    id: str
    label: str
    requires: tuple[str, ...] = ()
    unit: str = "s"
    counts_requests: bool = False  # report the HTTP requests the S3 server answered


@dataclass
class Outcome:
    """Everything measured for one step and one tool."""

    values: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    command: str | None = None
    requests: list[int] = field(default_factory=list)  # HTTP requests to the S3 server, per run


Results = dict[tuple[str, str], Outcome]


class StepFailed(RuntimeError):
    def __init__(self, step_id: str, argv: Sequence[str], sample: Sample) -> None:
        super().__init__(
            f"error: `{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(argv))}` "
            f"exited {sample.returncode}: {' '.join(sample.output_tail.split())[-300:]}"
        )
        self.step_id = step_id


class CheckFailed(RuntimeError):
    """A workload's own check failed (e.g. a pulled file differs from what was pushed): an error
    on that step in the report, never a number."""

    def __init__(self, step_id: str, message: str) -> None:
        super().__init__(f"error: {message}")
        self.step_id = step_id


@dataclass
class Ctx:
    """What a scenario body works with for one tool and one repetition."""

    tool: Tool
    sizes: Sizes
    sandbox: Sandbox
    results: Results
    steps: dict[str, Step]
    s3_url: Callable[[], str] | None = None
    s3_endpoint: str = ""
    s3_requests: Callable[[], int] | None = None
    s3: Any = None  # the MotoS3 server (traffic, stored bytes), when a scenario needs S3
    reached: set[str] = field(default_factory=set)

    @property
    def root(self) -> Path:
        return self.sandbox.root

    def outcome(self, step_id: str) -> Outcome:
        return self.results.setdefault((step_id, self.tool.name), Outcome())

    def new_repo(self, name: str = "repo") -> Path:
        """``git init`` plus the tool's ``init`` in ``root/name``."""
        repo = self.root / name
        repo.mkdir()
        self.sandbox.run(["git", "init", "-q"], cwd=repo)
        self.sandbox.run(self.tool.argv("init"), cwd=repo)
        return repo

    def setup(self, argv: Sequence[str], cwd: Path) -> str:
        """An untimed command."""
        return self.sandbox.run(argv, cwd=cwd)

    def run_tool(self, *args: str, cwd: Path) -> str:
        """An untimed command of the tool under test."""
        return self.sandbox.run(self.tool.argv(*args), cwd=cwd)

    def can(self, step_id: str) -> bool:
        """False (and the step recorded as skipped) when the tool lacks a needed command."""
        reason = self.tool.missing(self.steps[step_id].requires, self.sandbox.env)
        if reason:
            self.outcome(step_id).skipped = reason
            self.reached.add(step_id)
        return reason is None

    def time(self, step_id: str, *cmds: Cmd, repeat: int = 1) -> bool:
        """Time the commands run back to back, ``repeat`` times; False when skipped."""
        if not self.can(step_id):
            return False
        self.reached.add(step_id)
        self.outcome(step_id).command = " && ".join(self.show(argv) for argv, _ in cmds)
        for _ in range(repeat):
            samples: list[Sample] = []
            os.sync()  # what the setup wrote is on disk: no writeback of it during the timing
            before = self.s3_requests() if self.s3_requests else 0
            for argv, cwd in cmds:
                samples.append(run_timed(argv, cwd=cwd, env=self.sandbox.env))
                if not samples[-1].ok:
                    raise StepFailed(step_id, argv, samples[-1])
            total = combine(samples)
            self.outcome(step_id).values.append(total.wall_s)
            self.outcome(step_id).rss_mb.append(total.peak_rss_mb)
            if self.s3_requests and self.steps[step_id].counts_requests:
                self.outcome(step_id).requests.append(self.s3_requests() - before)
        return True

    def show(self, argv: Sequence[str]) -> str:
        """A command as the report prints it: tool by name, temp paths relative."""
        words = [self.tool.name if a == str(self.tool.exe) else a for a in argv]
        return " ".join(words).replace(str(self.root) + "/", "")

    def record(self, step_id: str, value: float, *, requests: int | None = None) -> None:
        """A measured value that is not a run time (e.g. installed megabytes), optionally with
        the S3 requests it took."""
        self.reached.add(step_id)
        self.outcome(step_id).values.append(value)
        if requests is not None:
            self.outcome(step_id).requests.append(requests)

    def fail(self, step_id: str, message: str) -> None:
        """Report ``step_id`` as an error and end this tool's run of the scenario."""
        self.reached.add(step_id)
        raise CheckFailed(step_id, message)


Body = Callable[[Ctx], None]


@dataclass(frozen=True)
class Scenario:
    """A body and the steps it reports. ``requires``: commands its setup cannot do without."""

    name: str
    steps: tuple[Step, ...]
    body: Body
    requires: tuple[str, ...] = ("init",)
    max_reps: int | None = None
    needs_s3: bool = False
    # Thousands of files per run: its temp dirs are removed at the end of the whole run, not
    # after each repetition (see ``Runner.cleanup``).
    many_files: bool = False


@dataclass
class Runner:
    """Runs scenarios for all tools, alternating tools within each repetition."""

    tools: list[Tool]
    sizes: Sizes
    results: Results
    log: TextIO
    tmp_parent: Path | None = None
    keep_tmp: bool = False
    s3_url: Callable[[], str] | None = None
    s3_endpoint: str = ""
    s3_requests: Callable[[], int] | None = None
    s3: Any = None
    kept: list[Sandbox] = field(default_factory=list)

    def run(self, scenario: Scenario) -> None:
        active = [t for t in self.tools if self._precheck(scenario, t)]
        reps = min(self.sizes.reps, scenario.max_reps or self.sizes.reps)
        for rep in range(reps):
            for tool in list(active):
                started = time.perf_counter()
                ok = self._run_once(scenario, tool)
                took = time.perf_counter() - started
                print(
                    f"[{scenario.name}] {tool.name} {rep + 1}/{reps} {took:.1f} s",
                    file=self.log,
                    flush=True,
                )
                if not ok:
                    active.remove(tool)

    def _precheck(self, scenario: Scenario, tool: Tool) -> bool:
        with Sandbox(self.tmp_parent) as sandbox:
            reason = tool.missing(scenario.requires, sandbox.env)
        if reason is None and scenario.needs_s3 and self.s3_url is None:
            reason = "skipped: no S3 server (moto[server] is not installed)"
        if reason:
            for step in scenario.steps:
                self.results.setdefault((step.id, tool.name), Outcome()).skipped = reason
        return reason is None

    def cleanup(self) -> None:
        """Remove the temp dirs of the many-file scenarios, at the end of the run.

        Removed after each repetition, their tens of thousands of files made the next ones
        slow to create, and so the next repetition's timings: without a journal (this
        machine's ext4) the kernel avoids reusing an inode for 60-360 s after its file was
        deleted, and scans past every such inode on each file it creates (``perf``: 37% of
        the samples of a 20k-file ``pv add`` in ``recently_deleted``/``find_inode_bit``). Both
        tools paid it, by how long ago the last ``rm -rf`` ran, not by what they do."""
        while self.kept:
            self.kept.pop().remove()

    def _run_once(self, scenario: Scenario, tool: Tool) -> bool:
        steps = {s.id: s for s in scenario.steps}
        keep = self.keep_tmp or scenario.many_files
        with Sandbox(self.tmp_parent, keep=keep) as sandbox:
            if scenario.many_files and not self.keep_tmp:
                self.kept.append(sandbox)
            tool.prepare_home(sandbox.home, sandbox.env)
            ctx = Ctx(tool, self.sizes, sandbox, self.results, steps, self.s3_url, self.s3_endpoint,
                      self.s3_requests, self.s3)
            try:
                scenario.body(ctx)
            except (StepFailed, CheckFailed) as exc:
                self._fail(ctx, scenario, str(exc), exc.step_id)
                return False
            except Exception as exc:  # noqa: BLE001 - a broken workload must not end the run
                self._fail(ctx, scenario, f"error: {type(exc).__name__}: {exc}", None)
                return False
        return True

    def _fail(self, ctx: Ctx, scenario: Scenario, message: str, step_id: str | None) -> None:
        print(f"  {message}", file=self.log, flush=True)
        for step in scenario.steps:
            outcome = ctx.outcome(step.id)
            if step.id == step_id:
                outcome.error = message
            elif step.id not in ctx.reached and outcome.skipped is None:
                outcome.error = f"error: not run, `{step_id}` failed" if step_id else message
