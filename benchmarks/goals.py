"""The performance goals of issue 7 (set for a 2-core machine) and how a row meets them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    DVC_RATIO = "dvc"  # pv median / dvc median
    LIMIT = "limit"  # pv median / physical lower bound
    SECONDS = "seconds"  # pv median, absolute
    RSS = "rss"  # pv peak RSS over all repetitions, MiB
    PERCENT = "percent"  # pv median, a percentage (W13: remote growth per new version)
    REQUESTS = "requests"  # HTTP requests pv sent to the S3 server (the most of any run)
    RATIO = "ratio"  # pv median of a ratio between two of its own runs (W1-push: packed/loose)


@dataclass(frozen=True)
class Goal:
    kind: Kind
    bound: float

    @property
    def text(self) -> str:
        if self.kind is Kind.DVC_RATIO:
            return f"≤{self.bound:.2g}× DVC"
        if self.kind is Kind.LIMIT:
            return f"≤{self.bound:g}× limit"
        if self.kind is Kind.SECONDS:
            return f"≤{self.bound:g} s"
        if self.kind is Kind.PERCENT:
            return f"≤{self.bound:g}%"
        if self.kind is Kind.REQUESTS:
            return f"≤{self.bound:g} requests"
        if self.kind is Kind.RATIO:
            return f"≤{self.bound:g}×"
        return f"RSS <{self.bound:g} MiB"


@dataclass(frozen=True)
class Figures:
    """What a goal can be checked against; None where it was not measured."""

    pv: float | None
    pv_rss_mb: float | None
    ratio: float | None
    multiple: float | None
    pv_requests: int | None = None


@dataclass(frozen=True)
class Check:
    goal: Goal
    verdict: str  # PASS, MISS or n/a


def _dvc(bound: float) -> Goal:
    return Goal(Kind.DVC_RATIO, bound)


def _rss(bound: float) -> Goal:
    return Goal(Kind.RSS, bound)


def _requests(bound: int) -> Goal:
    return Goal(Kind.REQUESTS, bound)


def _dedup(case: str, percent: float) -> dict[str, tuple[Goal, ...]]:
    """Bucket growth, bytes received by the push and bytes served to the pull of a new version,
    each at most ``percent`` of the file (and that share of DVC's, which sends whole files)."""
    bound = (_dvc(percent / 100), Goal(Kind.PERCENT, percent))
    return {case: bound, f"{case}-sent": bound, f"{case}-pull": bound}


RSS_DATA = _rss(200)
RSS_BULK = _rss(150)
GOALS: dict[str, tuple[Goal, ...]] = {
    "W1": (_dvc(0.15), Goal(Kind.LIMIT, 1.5), _rss(100)),
    "W2": (_dvc(0.25), RSS_DATA),
    "W3": (_dvc(0.1), Goal(Kind.SECONDS, 0.3), RSS_DATA),
    "W4": (_dvc(0.2), RSS_DATA),
    "W5": (_dvc(0.2), Goal(Kind.LIMIT, 2), RSS_DATA),
    # issue 14 (packed remotes): transfers an order of magnitude below DVC, in few requests
    "W6": (_dvc(0.2), RSS_BULK),
    "W6-noop": (_dvc(0.3), Goal(Kind.SECONDS, 1), RSS_BULK),
    "W6-incr": (_dvc(0.3), RSS_BULK),
    "W7": (_dvc(0.1), _requests(60), RSS_BULK),
    "W7-noop": (_dvc(0.3), RSS_BULK),
    "W7-incr": (_requests(10), RSS_BULK),
    "W8-local": (_dvc(0.3), RSS_BULK),
    "W8-s3": (_dvc(0.1), _requests(60), RSS_BULK),
    # issue 15 (chunks): what S3 stores, receives and serves per new version, % of the file
    **_dedup("W13-overwrite", 15),
    **_dedup("W13-insert", 2),
    **_dedup("W13-append", 3),
    # issue 15: a push of the 2 GiB file, packed (chunked) / loose
    "W1-push-ratio": (Goal(Kind.RATIO, 1.2),),
    "W9-full": (Goal(Kind.LIMIT, 1.2),),
    "W10-first": (_dvc(0.3),),
    "W10-noop": (_dvc(0.3),),
    "W11-version": (Goal(Kind.SECONDS, 0.15),),
    "W12-packages": (_dvc(1 / 3),),
    "W12-mb": (_dvc(1 / 3),),
}


def check(goal: Goal, figures: Figures) -> Check:
    value = {
        Kind.DVC_RATIO: figures.ratio,
        Kind.LIMIT: figures.multiple,
        Kind.SECONDS: figures.pv,
        Kind.PERCENT: figures.pv,
        Kind.RATIO: figures.pv,
        Kind.RSS: figures.pv_rss_mb,
        Kind.REQUESTS: figures.pv_requests,
    }[goal.kind]
    if value is None:
        return Check(goal, "n/a")
    ok = value < goal.bound if goal.kind is Kind.RSS else value <= goal.bound
    return Check(goal, "PASS" if ok else "MISS")


def verdict(checks: list[Check]) -> str:
    """MISS if any goal is missed; PASS if all passed; PASS* if those that could be checked did."""
    verdicts = {c.verdict for c in checks}
    if "MISS" in verdicts:
        return "MISS"
    if verdicts == {"PASS"}:
        return "PASS"
    return "PASS*" if "PASS" in verdicts else "n/a"


def evaluate(step_id: str, figures: Figures) -> tuple[list[Check], str]:
    checks = [check(goal, figures) for goal in GOALS.get(step_id, ())]
    return checks, verdict(checks) if checks else ""
