"""The pre-commit check: refuse a Git commit whose tracked data or pipeline is not recorded.

``pv status`` says what differs; this module decides what blocks a commit and which command fixes
it. Data changed in the workspace but not in its pointer needs ``pv commit``; a stage whose cmd,
deps or params changed (or that never ran) needs ``pv repro``; a stage whose outputs alone changed
needs ``pv commit STAGE``. Missing data (not pulled, or deleted: a stage's deps and outs alike) and
objects missing from the cache only warn: they do not make the commit wrong. With ``hooks.pre_commit_warn_only: true`` nothing
blocks. Pointer files or ``pv.lock`` changed but not staged in Git are warned about too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from pipever.data import pointer as ptr
from pipever.context import RepoContext

WARN_ONLY_KEY = "hooks.pre_commit_warn_only"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    subject: str  # pointer file or stage name
    what: str  # e.g. "'data.csv' modified but not committed"
    fix: str  # the command to run

    def render(self) -> str:
        return f"{self.what} — {self.fix}"


@dataclass
class PreCommitReport:
    problems: list[Problem] = field(default_factory=list)
    warn_only: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def failed(self) -> bool:
        return bool(self.errors) and not self.warn_only


def classify(entries: Mapping[str, Sequence[object]]) -> list[Problem]:
    """Problems from ``status(...).entries`` (DVC's status vocabulary), errors first. Pure."""
    problems: list[Problem] = []
    for name, items in entries.items():
        if name.endswith(ptr.SUFFIX):
            problems.extend(_pointer_problems(name, items))
        else:
            problems.extend(_stage_problems(name, items))
    return sorted(problems, key=lambda p: (p.severity is not Severity.ERROR, p.subject))


def _changed(items: Sequence[object], kind: str) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get(kind), Mapping):
            found.update(item[kind])
    return found


def _pointer_problems(pointer: str, items: Sequence[object]) -> list[Problem]:
    out = []
    for path, state in _changed(items, "changed outs").items():
        if state == "modified":
            out.append(Problem(Severity.ERROR, pointer, f"'{path}' changed but the change is not recorded in '{pointer}'",
                               f"run 'pv commit {pointer}' (or 'pv checkout {pointer}' to restore the recorded version)"))
        elif state == "deleted":
            out.append(Problem(Severity.WARNING, pointer, f"'{path}' is missing from the workspace",
                               f"run 'pv checkout {pointer}' or 'pv pull {pointer}', or 'pv remove {pointer}' to stop tracking it"))
        else:
            out.append(Problem(Severity.WARNING, pointer, f"'{path}' is {state}",
                               f"run 'pv commit {pointer}' to store it in the cache"))
    return out


def _stage_problems(stage: str, items: Sequence[object]) -> list[Problem]:
    reasons = [i for i in items if isinstance(i, str) and i != "always changed"]
    deps = _changed(items, "changed deps")
    # a dep missing from the workspace is data not pulled (a code-only contributor), not a change
    absent = [p for p, s in deps.items() if s == "deleted"]
    changed_deps = [p for p in deps if p not in absent]
    if changed_deps:
        reasons.append("changed deps " + ", ".join(f"'{k}'" for k in changed_deps))
    params = _changed(items, "changed params")
    if params:
        reasons.append("changed params " + ", ".join(f"'{k}'" for k in params))
    outs = _changed(items, "changed outs")
    if reasons:
        return [Problem(Severity.ERROR, stage, f"stage '{stage}' is stale ({'; '.join(reasons)})",
                        f"run 'pv repro {stage}'")]
    edited = [p for p, s in outs.items() if s in ("modified", "new")]
    if edited:
        shown = ", ".join(f"'{p}'" for p in edited)
        return [Problem(Severity.ERROR, stage, f"outputs {shown} of stage '{stage}' changed but are not recorded in pv.lock",
                        f"run 'pv commit {stage}' to record them (or 'pv repro -f {stage}' to regenerate them)")]
    problems = []
    if absent:
        shown = ", ".join(f"'{p}'" for p in absent)
        problems.append(Problem(Severity.WARNING, stage, f"deps {shown} of stage '{stage}' are missing from the workspace",
                                "run 'pv pull' to get them"))
    missing = [p for p, s in outs.items() if s == "deleted"]
    if missing:
        shown = ", ".join(f"'{p}'" for p in missing)
        problems.append(Problem(Severity.WARNING, stage, f"outputs {shown} of stage '{stage}' are missing from the workspace",
                                f"run 'pv checkout' or 'pv pull', or 'pv repro {stage}'"))
    uncached = [p for p, s in outs.items() if s == "not in cache"]
    if uncached:
        shown = ", ".join(f"'{p}'" for p in uncached)
        problems.append(Problem(Severity.WARNING, stage, f"outputs {shown} of stage '{stage}' are not in the cache",
                                f"run 'pv commit {stage}'"))
    return problems


def unstaged_problems(repo: RepoContext) -> list[Problem]:
    """Pointer files and pv.lock with changes Git will not commit (not added, or not staged)."""
    if not repo.scm:
        return []
    specs = ["*" + ptr.SUFFIX, "pv.lock"]
    changed = repo.git.run("diff", "--name-only", "-z", "--", *specs).decode().split("\0")
    new = repo.git.run("ls-files", "-z", "--others", "--exclude-standard", "--", *specs).decode().split("\0")
    problems = [Problem(Severity.WARNING, p, f"'{p}' has changes that are not staged for this commit",
                        f"run 'git add {p}' to include them") for p in changed if p]
    problems += [Problem(Severity.WARNING, p, f"'{p}' is not tracked by Git",
                         f"run 'git add {p}' to commit it") for p in new if p]
    return problems


def pre_commit_check(repo: RepoContext) -> PreCommitReport:
    """Run ``pv status`` over everything and decide whether the commit may go ahead."""
    from pipever.commands.data.status import status

    report = PreCommitReport(warn_only=repo.config.get(WARN_ONLY_KEY, False) is True)
    report.problems = classify(status(repo, []).entries) + unstaged_problems(repo)
    return report
