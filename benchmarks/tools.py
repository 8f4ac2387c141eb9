"""The tools under test, pv and dvc, and how each spells the same operation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

BENCH_DIR = Path(__file__).resolve().parent
DVC_VENV = BENCH_DIR / ".venv-dvc"
DVC_PACKAGES = ("dvc", "dvc-s3")


@dataclass(frozen=True)
class Flavor:
    """What differs between pv and dvc for equivalent commands."""

    name: str
    pipeline_file: str
    pointer_suffix: str
    endpoint_option: str


PV = Flavor("pv", "pv.yaml", ".pv", "endpoint_url")
DVC = Flavor("dvc", "dvc.yaml", ".dvc", "endpointurl")


@dataclass
class Tool:
    """An installed executable of one flavor; remembers which sub-commands it has."""

    flavor: Flavor
    exe: Path
    _help: dict[str, tuple[bool, str]] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.flavor.name

    def argv(self, *args: str) -> list[str]:
        return [str(self.exe), *args]

    def _probe(self, command: str, env: Mapping[str, str]) -> tuple[bool, str]:
        if command not in self._help:
            try:
                proc = subprocess.run(
                    self.argv(*command.split(), "--help"),
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                self._help[command] = (proc.returncode == 0, proc.stdout)
            except (OSError, subprocess.TimeoutExpired):
                self._help[command] = (False, "")
        return self._help[command]

    def has(self, command: str, env: Mapping[str, str]) -> bool:
        """True when ``<tool> COMMAND --help`` exits 0."""
        return self._probe(command, env)[0]

    def missing(self, commands: tuple[str, ...], env: Mapping[str, str]) -> str | None:
        """The skip reason for the first command the tool lacks, or None."""
        for command in commands:
            if not self.has(command, env):
                return f"skipped: {self.name} has no `{command}` command yet"
        return None

    def repro(self, env: Mapping[str, str], *, jobs: int | None = None) -> list[str]:
        """``repro`` with ``-j N`` when the tool's repro accepts it (dvc's does not)."""
        _, text = self._probe("repro", env)
        if jobs is not None and ("--jobs" in text or "-j " in text or "-j," in text):
            return self.argv("repro", "-j", str(jobs))
        return self.argv("repro")

    def prepare_home(self, home: Path, env: dict[str, str]) -> None:
        """User-level settings in an isolated HOME: no network calls, no state outside it."""
        if self.flavor is DVC:
            config = home / ".config" / "dvc" / "config"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text("[core]\n    analytics = false\n    check_update = false\n")
            env["DVC_SITE_CACHE_DIR"] = str(home / ".cache" / "dvc-site")


def default_pv() -> Path | None:
    """The ``pv`` next to the running interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "pv"
    if beside.exists():
        return beside
    found = shutil.which("pv")
    return Path(found) if found else None


def venv_bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_dvc(venv: Path = DVC_VENV, *, log: TextIO = sys.stderr) -> Path:
    """Create ``venv`` with dvc and dvc-s3 unless it already has them; return its ``dvc``."""
    exe = venv_bin(venv, "dvc")
    if exe.exists():
        return exe
    print(f"installing {' '.join(DVC_PACKAGES)} into {venv} ...", file=log, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_bin(venv, "python")), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *DVC_PACKAGES], check=True)
    return exe
