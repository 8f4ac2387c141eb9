"""W12: what a user installs — packages and disk of a fresh venv with ``pip install .`` or dvc."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scenario import Ctx, Scenario, Step
from benchmarks.tools import venv_bin

REPO_ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


@dataclass(frozen=True)
class Footprint:
    packages: int
    size_bytes: int


def measure_venv(venv: Path) -> Footprint:
    """Distributions installed (``*.dist-info``) and bytes of every file in the venv."""
    # lib/, not lib*/: lib64 is a symlink to lib and would count everything twice
    packages = sum(1 for _ in venv.glob("lib/python*/site-packages/*.dist-info"))
    packages += sum(1 for _ in venv.glob("Lib/site-packages/*.dist-info"))
    size = 0
    for folder, _dirs, files in os.walk(venv):
        for name in files:
            size += os.lstat(os.path.join(folder, name)).st_size
    return Footprint(packages, size)


def install_spec(tool_name: str) -> str:
    """What the user types after ``pip install``."""
    if tool_name != "pv":
        return tool_name
    if not (REPO_ROOT / "pyproject.toml").exists():
        raise RuntimeError(f"no pyproject.toml in {REPO_ROOT}")
    return str(REPO_ROOT)


def outer_pip_version() -> tuple[int, ...] | None:
    """Version of the runner's own pip, or None if it has none."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=False
    )
    words = proc.stdout.split()
    if proc.returncode != 0 or len(words) < 2:
        return None
    return tuple(int(p) for p in words[1].split(".") if p.isdigit())


def pip_command(venv: Path, outer: bool) -> list[str]:
    """pip ≥ 22.3 installs into another interpreter (``--python``): the venv needs no pip."""
    quiet = ["install", "-q", "--disable-pip-version-check"]
    if outer:
        return [sys.executable, "-m", "pip", "--python", str(venv_bin(venv, "python")), *quiet]
    return [str(venv_bin(venv, "python")), "-m", "pip", *quiet]


def install_footprint(ctx: Ctx) -> None:
    venv = ctx.root / "venv"
    spec = install_spec(ctx.tool.name)
    version = outer_pip_version()
    outer = version is not None and version >= (22, 3)
    # pip keeps the caller's HOME so its wheel cache is warm; only the venv is fresh
    make_venv = [sys.executable, "-m", "venv", *(["--without-pip"] if outer else []), str(venv)]
    subprocess.run(make_venv, check=True, capture_output=True)
    before = measure_venv(venv)
    proc = subprocess.run([*pip_command(venv, outer), spec], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip install {spec} failed: {proc.stderr.strip()[-300:]}")
    after = measure_venv(venv)
    ctx.record("W12-packages", after.packages - before.packages)
    ctx.record("W12-mb", (after.size_bytes - before.size_bytes) / MIB)


SCENARIOS = (
    Scenario(
        "W12",
        (
            Step("W12-packages", "install footprint: packages", unit="pkgs"),
            Step("W12-mb", "install footprint: disk", unit="MiB"),
        ),
        install_footprint,
        requires=(),
        max_reps=1,
    ),
)
