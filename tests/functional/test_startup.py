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


def test_version_from_the_console_script_does_not_import_typer() -> None:
    loaded = _loaded(
        "import sys; sys.argv = ['pv', '--version']\n"
        "import contextlib, io\n"
        "from pipever.cli.entry import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: assert main() == 0\n"
        "assert out.getvalue() == 'pipever ' + __import__('pipever').__version__ + '\\n'"
    )
    assert "typer" not in loaded


def test_a_command_builds_only_its_own_module_and_help_lists_all(pv_repo: Path) -> None:
    code = (
        "import contextlib, io\nfrom pipever.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()): assert app.main(['status']) == 0\n"
        "print(sorted(app._REGISTERED))\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: app.main(['--help'])\n"
        "print(all(w in out.getvalue() for w in ('repro', 'push', 'model', 'params', 'ls', 'install')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=pv_repo).stdout
    assert out.split("\n")[:2] == ["['data']", "True"], out


def test_ctrl_c_caught_inside_exec_still_exits_130(tmp_path: Path) -> None:
    """CPython 3.11 remembers a KeyboardInterrupt that surfaced inside exec() of a string (as in
    dataclass creation during a lazy import) and, under ``python -m``, kills itself with SIGINT
    at exit even though it was caught; pv's entry point must still exit 130."""
    (tmp_path / "pv_ctrl_c.py").write_text(
        "import sys\n"
        "from pipever.cli import app, entry\n"
        "def fake_main(argv=None):\n"
        "    try:\n"
        "        exec('import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(10**7): pass')\n"
        "    except KeyboardInterrupt:\n"
        "        sys.stderr.write('ERROR: interrupted\\n')\n"
        "        return 130\n"
        "    return 0\n"
        "app.main = fake_main\n"
        "sys.argv = ['pv', 'pull']\n"
        "raise SystemExit(entry.main())\n"
    )
    proc = subprocess.run([sys.executable, "-m", "pv_ctrl_c"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 130, proc
    assert proc.stderr == "ERROR: interrupted\n"
