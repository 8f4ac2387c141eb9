"""Stage names as targets of data commands (``pv push train``, ``pv pull --with-deps evaluate``):
a stage stands for its outputs; with ``with_deps`` also for the outputs of every stage upstream
of it, as DVC's ``--with-deps``. Paths stay as they are (a directory holds every tracked out
below it, so targets are recursive already; ``-R`` is accepted for DVC's command lines)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pipever.context import RepoContext


def data_targets(repo: RepoContext, targets: Sequence[str], *, with_deps: bool = False) -> list[str]:
    """``targets`` with each stage target replaced by the output paths it stands for (relative to
    the current directory, as a user's path targets are)."""
    from pipever.services import stages as st

    data, stage_targets = st.split_targets(repo, list(targets))
    if not stage_targets:
        return list(targets)
    from pipever.pipeline import dag

    pipeline = st.load_pipeline(repo)
    names = st.resolve_targets(pipeline, stage_targets, root=repo.root)
    if with_deps:
        names = list(dag.plan(dag.build_graph(pipeline), names))
    here = Path.cwd()
    outs = [os.path.relpath(repo.root / o.path, here) for n in names for o in pipeline.stages[n].all_outs]
    return data + list(dict.fromkeys(outs))
