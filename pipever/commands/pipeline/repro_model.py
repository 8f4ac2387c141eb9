"""The values of a ``pv repro`` run: stage outcomes, options, the result, the reporter protocol the
CLI implements, and the error a failed run raises. Shared by the planner (``repro``) and the
executor of the schedule (``repro_run``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from pipever.errors import StageError
from pipever.services.stage_env import Experiment


class Outcome(str, enum.Enum):
    RAN = "ran"
    RESTORED = "restored"  # from the run cache
    UNCHANGED = "unchanged"
    MISSING = "missing"  # only data missing, skipped with allow_missing
    FROZEN = "frozen"
    FAILED = "failed"
    BLOCKED = "blocked"  # not run: a stage it needs failed
    STOPPED = "stopped"  # not run: the run stopped at a failure (no keep_going)
    WOULD_RUN = "would run"  # dry run: stale now
    MAY_RUN = "may run"  # dry run: downstream of a stage that would run, runs if its outputs change


RECORDED = (Outcome.RAN, Outcome.RESTORED, Outcome.UNCHANGED, Outcome.MISSING, Outcome.FROZEN)


class Reporter(Protocol):
    """What the CLI shows while stages run; called on the thread that called ``repro``."""

    def planned(self, names: tuple[str, ...]) -> None: ...

    def started(self, name: str, commands: tuple[str, ...]) -> None: ...

    def output(self, name: str, text: str, *, stderr: bool) -> None: ...

    def finished(self, name: str, outcome: Outcome, detail: str | None) -> None: ...


class NullReporter:
    def planned(self, names: tuple[str, ...]) -> None:
        return None

    def started(self, name: str, commands: tuple[str, ...]) -> None:
        return None

    def output(self, name: str, text: str, *, stderr: bool) -> None:
        return None

    def finished(self, name: str, outcome: Outcome, detail: str | None) -> None:
        return None


NULL_REPORTER = NullReporter()


@dataclass(frozen=True)
class Options:
    force: bool = False
    jobs: int = 1
    keep_going: bool = False
    allow_missing: bool = False
    run_cache: bool = True
    download: bool = True  # outputs made on a cluster are checked out (else left on the remote)
    experiment: Experiment | None = None  # the experiment the stages run for (their environment)


@dataclass
class ReproResult:
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # planned stages, in run order
    failures: dict[str, str] = field(default_factory=dict)  # stage -> why it failed
    staged: list[str] = field(default_factory=list)  # paths staged in Git
    warnings: list[str] = field(default_factory=list)

    def of(self, *kinds: Outcome) -> list[str]:
        return [n for n, o in self.outcomes.items() if o in kinds]

    @property
    def changed(self) -> bool:
        """Whether anything ran or was restored (or would run, dry)."""
        return bool(self.of(Outcome.RAN, Outcome.RESTORED, Outcome.WOULD_RUN))


class ReproFailedError(StageError):
    def __init__(self, result: ReproResult) -> None:
        failed = list(result.failures.items())
        name, why = failed[0]
        more = f" (and {len(failed) - 1} more: {', '.join(repr(n) for n, _ in failed[1:])})" if len(failed) > 1 else ""
        super().__init__(f"failed to reproduce '{name}': {why}{more}",
                         hint="fix it and rerun 'pv repro'; the stages that succeeded are recorded in pv.lock")
        self.result = result
