"""``pipever.Repo`` for programs: the same verbs as the CLI, returning values."""

from __future__ import annotations

from pathlib import Path

import pipever
from tests.helpers import gen


def test_repo_add_status_checkout_push_pull(pv_repo: Path, tmp_path: Path) -> None:
    gen({"data": {"a.csv": "1,2\n"}})
    with pipever.Repo(pv_repo) as repo:
        added = repo.add(["data"])
        assert [a.rel for a in added.added] == ["data"]
        assert repo.status().clean
        (pv_repo / "data/a.csv").write_text("changed")
        assert repo.status().entries == {"data.pv": [{"changed outs": {"data": "modified"}}]}
        repo.checkout(force=True)
        assert (pv_repo / "data/a.csv").read_text() == "1,2\n"
        repo.config.set("repo", "remote.store.url", str(tmp_path / "remote"))
        repo.config.set("repo", "core.remote", "store")
        assert repo.push().pushed == 2
        (pv_repo / "data/a.csv").unlink()
        repo.pull()
        assert (pv_repo / "data/a.csv").read_text() == "1,2\n"


def test_repo_lock_is_reentrant(pv_repo: Path) -> None:
    with pipever.Repo(pv_repo) as repo, repo.locked(), repo.locked():
        assert (pv_repo / ".pv/tmp/lock").exists()
