"""What the pipeline declares, as other verbs need it (e.g. ``pv add`` refuses stage outputs)."""

from __future__ import annotations

from pipever.repo import Repo

PIPELINE_FILE = "pv.yaml"


def stage_out_paths(repo: Repo) -> set[str]:
    """Repo-relative outputs (outs, metrics, plots) of every stage in ``pv.yaml``."""
    path = repo.root / PIPELINE_FILE
    if not path.exists():
        return set()
    try:
        from pipever.pipeline.schema import load_pipeline  # type: ignore[attr-defined]
    except ImportError:
        return set()
    pipeline = load_pipeline(path.read_text(encoding="utf-8"), PIPELINE_FILE, read_file=lambda rel: _read(repo, rel))
    return {out.path for stage in pipeline.stages.values() for out in stage.all_outs}


def _read(repo: Repo, rel: str) -> str | None:
    try:
        return (repo.root / rel).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def stage_status(repo: Repo, targets: list[str]) -> dict[str, list[dict[str, object]]]:
    """Stale stages and why; filled in by the pipeline layer."""
    return {}


def stage_names(repo: Repo) -> set[str]:
    return set()


def commit_stages(repo: Repo, names: list[str] | None, *, force: bool) -> list[str]:
    """Record stage outputs into pv.lock; filled in by the pipeline layer."""
    return []
