"""What a stage command sees of pv (SPEC §8.1): its environment, and what dvclive leaves behind.

pv sets ``PV_ROOT``, ``PV_STAGE`` (and ``PV_EXP_NAME`` in an experiment) and the names DVC sets and
dvclive reads to know it runs inside a pipeline (``DVC_ROOT``, ``DVC_STAGE``) or an experiment
(``DVC_EXP_NAME``, ``DVC_EXP_BASELINE_REV``). With ``DVC_ROOT`` set, dvclive does not try to save
an experiment of its own. It still looks for a DVC repository and, finding no ``.dvc`` folder,
runs ``dvc init`` (which stages ``.dvc/`` and ``.dvcignore`` in Git): no variable stops that
(making ``.dvc`` ignored crashes dvclive). pv takes those files out of the Git index again and says
so once; ``Live(dvcyaml=None)`` stops the ``dvc.yaml`` dvclive writes, which pv never reads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pipever.context import RepoContext

DVC_DIR = ".dvc"
DVC_INIT_FILES = (".dvc/config", ".dvc/.gitignore", ".dvcignore")


@dataclass(frozen=True)
class Experiment:
    name: str
    baseline: str  # commit sha


def stage_env(root: str, stage: str, exp: Experiment | None = None) -> dict[str, str]:
    """The variables pv adds to a stage command's environment."""
    env = {"PV_ROOT": root, "PV_STAGE": stage, "DVC_ROOT": root, "DVC_STAGE": stage}
    if exp is not None:
        env |= {"PV_EXP_NAME": exp.name, "DVC_EXP_NAME": exp.name, "DVC_EXP_BASELINE_REV": exp.baseline}
    return env


def command_env(root: str, stage: str, exp: Experiment | None = None,
                base: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**(os.environ if base is None else base), **stage_env(root, stage, exp)}


def had_dvc_dir(repo: RepoContext) -> bool:
    return os.path.isdir(repo.root / DVC_DIR)


def undo_dvc_init(repo: RepoContext, had_before: bool) -> str | None:
    """After stages ran: when a ``.dvc`` folder appeared (dvclive's ``dvc init``), take the files
    DVC staged out of the Git index (they stay on disk, so dvclive finds them next time and does
    not init again) and return the note to show; None when nothing happened."""
    if had_before or not had_dvc_dir(repo):
        return None
    if repo.scm:
        staged = [p for p in repo.git.run("diff", "--cached", "--name-only", "-z", "--", *DVC_INIT_FILES)
                  .decode().split("\0") if p]
        if staged:
            repo.git.run("rm", "--cached", "-q", "--", *staged, check=False)
    return ("a stage (dvclive) ran 'dvc init': '.dvc/' and '.dvcignore' are DVC's, not your data, and pv "
            "unstaged them; dvclive does so whenever it finds no '.dvc' folder. Delete them or leave them "
            "untracked; Live(dvcyaml=None) also stops the dvc.yaml dvclive writes")
