"""Metric gates of a promotion: ``--require`` checks plus ``artifacts.NAME.gates.STAGE`` from the
workspace's ``pv.yaml`` (the current policy), evaluated on the metrics files as they were at the
version's commit: from Git objects, or from the cache (and the default remote) when pv tracks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipever.errors import RegistryError
from pipever.registry import gates
from pipever.registry.state import Version
from pipever.context import RepoContext


def declared_checks(repo: RepoContext, name: str, stage: str) -> list[gates.Check]:
    from pipever.commands.registry.model_locate import artifacts_at

    art = artifacts_at(repo, None).get(name)
    if art is None:
        return []
    source = f"pv.yaml (artifacts.{name}.gates.{stage})"
    return [gates.parse_check(text, source=source) for text in art.gates.get(stage, ())]


def run_checks(repo: RepoContext, name: str, version: Version, stage: str, require: Sequence[str]) -> list[gates.CheckResult]:
    checks = [gates.parse_check(text) for text in require] + declared_checks(repo, name, stage)
    metrics: dict[str, Any | RegistryError] = {}
    results = []
    for check in checks:
        if check.file not in metrics:
            metrics[check.file] = _load(repo, version.commit, check.file)
        data = metrics[check.file]
        if isinstance(data, RegistryError):
            results.append(gates.CheckResult(check, False, None, data.message))
        else:
            results.append(gates.evaluate(check, data))
    return results


def _load(repo: RepoContext, commit: str, file: str) -> Any | RegistryError:
    """The parsed metrics file at ``commit``; a RegistryError (reported as the failed check's reason)
    when it is not there."""
    from pipever.commands.registry.model_locate import locate, read_bytes
    from pipever.paths import check_relpath

    rel = check_relpath(file, source="a metric check")
    try:
        loc = locate(repo, commit, rel)
    except RegistryError:
        return RegistryError(f"'{rel}' does not exist at commit {commit[:7]}")
    return gates.parse_metrics(read_bytes(repo, loc), rel)
