"""Start-up cost guard: the CLI must not import heavy modules it does not need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("git", "fsspec", "networkx", "rich", "pydantic", "s3fs", "pathspec")


def _loaded(code: str, cwd: Path | None = None) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=cwd,
    ).stdout.split()
    return {m.split(".")[0] for m in out}


def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = _loaded("import pipever.cli.app")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_status_in_a_small_repo_loads_no_heavy_module(pv_repo: Path) -> None:
    (pv_repo / "f").write_text("x")
    subprocess.run([sys.executable, "-m", "pipever", "add", "f"], check=True, cwd=pv_repo)
    loaded = _loaded(
        "from pipever.cli.app import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): assert main(['status']) == 0",
        cwd=pv_repo,
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_version_loads_no_heavy_module() -> None:
    loaded = _loaded(
        "from pipever.cli.app import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])"
    )
    assert not loaded & set(HEAVY)
