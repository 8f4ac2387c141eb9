"""Stage names as targets of data commands (``pv push train``, ``pv pull --with-deps evaluate``):
a stage stands for its cached outputs; with ``with_deps`` also for those of every stage upstream
of it, as DVC's ``--with-deps``. Paths stay as they are (a directory holds every tracked out
below it, so targets are recursive already; ``-R`` is accepted for DVC's command lines)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pipever.context import RepoContext
from pipever.paths import cwd_target


def data_targets(repo: RepoContext, targets: Sequence[str], *, with_deps: bool = False) -> list[str]:
    """``targets`` with each stage name replaced by the cached output paths it stands for
    (relative to the current directory, as a user's path targets are)."""
    if not targets or not (repo.root / "pv.yaml").exists():
        return list(targets)
    from pipever.services import stages as st

    pipeline = st.load_pipeline(repo)
    names = [t for t in targets if pipeline.resolve(t) and not (repo.root / cwd_target(repo.root, t)).exists()]
    if not names:
        return list(targets)
    from pipever.pipeline import dag

    stages = st.resolve_targets(pipeline, names, root=repo.root)
    if with_deps:
        stages = list(dag.plan(dag.build_graph(pipeline), stages))
    here = Path.cwd()
    outs = [os.path.relpath(repo.root / o.path, here) for n in stages for o in pipeline.stages[n].all_outs if o.cache]
    return [t for t in targets if t not in names] + list(dict.fromkeys(outs))
