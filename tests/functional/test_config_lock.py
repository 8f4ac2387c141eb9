from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import PvRunner, git


def test_config_set_get_unset_list_levels(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "core.autostage", "false")
    assert pv.ok("config", "core.autostage").stdout == "False\n"
    pv.ok("config", "--local", "cache.type", "hardlink,copy")
    pv.ok("config", "--global", "core.check_update", "false")
    listing = pv.ok("config", "--list", "--show-origin").stdout.splitlines()
    assert "repo\tcore.autostage=False" in listing
    assert "local\tcache.type=hardlink,copy" in listing
    assert "global\tcore.check_update=False" in listing
    assert (Path(os.environ["XDG_CONFIG_HOME"]) / "pipever/config.yaml").exists()
    assert "cache" not in (pv_repo / ".pv/config.yaml").read_text()
    assert git("check-ignore", ".pv/config.local.yaml").strip() == ".pv/config.local.yaml"
    pv.ok("config", "--unset", "core.autostage")
    res = pv("config", "core.autostage")
    assert res.exit_code == 1 and res.stderr == "ERROR: 'core.autostage' is not set — see 'pv config --list'\n"


def test_config_rejects_unknown_keys(pv_repo: Path, pv: PvRunner) -> None:
    res = pv("config", "core.nope", "1")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: unknown config option 'core.nope' — options of 'core' are")
    res = pv("config", "bogus.x", "1")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: unknown config section 'bogus'")


def test_config_rejects_values_pv_would_misread(pv_repo: Path, pv: PvRunner) -> None:
    """'core.autostage 0' or 'maybe' was stored and read as 'on'; a bad cache.type was stored and
    broke every later add/checkout."""
    for value in ("0", "maybe"):
        res = pv("config", "core.autostage", value)
        assert res.exit_code == 1, res
        assert res.stderr == (f"ERROR: 'core.autostage' must be true or false, got '{value}'"
                              " — e.g. 'pv config core.autostage false'\n")
    res = pv("config", "cache.type", "hardlnk")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: unknown cache.type ['hardlnk']")
    assert "core" not in (pv_repo / ".pv/config.yaml").read_text()
    assert "cache" not in (pv_repo / ".pv/config.yaml").read_text()
    pv.ok("config", "state.enabled", "false")
    pv.ok("config", "cache.type", "hardlink,copy")


def test_invalid_config_file_is_a_clear_error(pv_repo: Path, pv: PvRunner) -> None:
    (pv_repo / ".pv/config.yaml").write_text("core: [\n")
    res = pv("status")
    assert res.exit_code == 1
    assert res.stderr.startswith(f"ERROR: {pv_repo}/.pv/config.yaml:2: invalid YAML")
    assert "Traceback" not in res.stderr


def test_cache_dir_and_env_override(pv_repo: Path, pv: PvRunner, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert pv.ok("cache", "dir").stdout.strip() == str(pv_repo / ".pv/cache")
    other = tmp_path / "shared-cache"
    monkeypatch.setenv("PV_CACHE_DIR", str(other))
    (pv_repo / "f").write_text("x")
    pv.ok("add", "f")
    assert any(p.is_file() for p in other.rglob("*"))


def test_second_process_is_refused_naming_holder_and_wait_works(pv_repo: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pipever.lock import repo_lock; from pathlib import Path\n"
         "with repo_lock(Path('.pv/tmp'), command='pv add big'):\n"
         "    print('locked', flush=True); time.sleep(8)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    (pv_repo / "f").write_text("x")
    start = time.monotonic()  # what start-up alone costs on this (possibly busy) machine
    subprocess.run([sys.executable, "-m", "pipever", "status"], capture_output=True, check=True)
    startup = time.monotonic() - start
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "pipever", "add", "f"], capture_output=True, text=True)
    assert time.monotonic() - start - startup < 3.0  # refused within 3 s of trying
    assert res.returncode == 1
    assert res.stderr == f"ERROR: the repository is locked by process {holder.pid} ('pv add big') — wait for it to finish, or rerun with --wait\n"
    res = subprocess.run([sys.executable, "-m", "pipever", "--wait", "add", "f"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    holder.wait()


def test_lock_of_a_killed_process_is_taken_over(pv_repo: Path, pv: PvRunner) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from pipever.lock import repo_lock; from pathlib import Path\n"
         "with repo_lock(Path('.pv/tmp'), command='pv add'):\n"
         "    print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    (pv_repo / "f").write_text("x")
    pv.ok("add", "f")
    assert not (pv_repo / ".pv/tmp/lock.info").exists()  # released after the command


def test_config_refuses_secrets_in_the_committed_file(pv_repo: Path, pv: PvRunner) -> None:
    """'pv config remote.s.secret_access_key X' wrote the secret into the committed config, where
    'pv remote modify' refuses it."""
    secret = "s3cr3t-VALUE-never-committed"
    pv.ok("remote", "add", "s", "s3://b/p")
    res = pv("config", "remote.s.secret_access_key", secret)
    assert res.exit_code == 1, res
    assert res.stderr == (
        "ERROR: 'secret_access_key' is a secret and .pv/config.yaml is committed — store it in the git-ignored "
        "local config: 'pv config --local remote.s.secret_access_key VALUE'\n"
    )
    res = pv("config", "--project", "remote.s.url", f"s3://user:{secret}@b/p")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("ERROR: the URL of remote 's' contains a password, which would be committed")
    assert secret not in res.stderr + (pv_repo / ".pv/config.yaml").read_text()
    pv.ok("config", "--local", "remote.s.secret_access_key", secret)
    assert secret in (pv_repo / ".pv/config.local.yaml").read_text()
    assert pv.ok("config", "remote.s.secret_access_key").stdout == "******\n"
