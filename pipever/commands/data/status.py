"""``pv status``: what differs between the workspace, the pointers, ``pv.lock`` and the cache
(data through ``services.outstate``, stages through ``services.stages``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipever.context import RepoContext
from pipever.services.outstate import data_status


@dataclass
class StatusResult:
    # pointer or stage name -> list of {"changed outs": {path: state}} / {"changed deps": ...}
    entries: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.entries


def status(repo: RepoContext, targets: list[str]) -> StatusResult:
    result = StatusResult()
    if not targets and not (repo.root / "pv.yaml").exists():  # data only: no pipeline code to load
        result.entries.update(data_status(repo, []))
        repo.state.flush()
        return result
    from pipever.services.stages import split_targets, stage_status

    data_targets, stage_targets = split_targets(repo, targets)
    if data_targets or not targets:
        result.entries.update(data_status(repo, data_targets))
    if stage_targets or not targets:
        result.entries.update(stage_status(repo, stage_targets))
    repo.state.flush()
    return result
