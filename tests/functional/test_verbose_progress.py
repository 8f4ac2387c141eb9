"""-v logs what pv does (git calls, files hashed, remote requests) on stderr; progress of big
files is reported byte by byte through the Progress protocol (only cli/ draws it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import PvRunner, gen, git_commit


def test_verbose_logs_git_calls_hashing_and_remote_requests(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    gen({"data": {"a.csv": "1\n", "b.csv": "2\n"}})
    res = pv.ok("add", "-v", "data")
    assert "git: git add -- " in res.stderr
    assert "objects.hashing: hashed " in res.stderr and "a.csv (2 bytes): blake3:" in res.stderr
    assert "objects.build: 2 file(s) hashed, 0 known unchanged from the state db" in res.stderr
    assert res.stdout.startswith("Added data")  # the log never goes to stdout
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    res = pv.ok("push", "-v")
    assert "remote: store: put " in res.stderr and "remote: store: list " in res.stderr
    quiet = pv.ok("status")
    assert "DEBUG" not in quiet.stderr  # the next command in the same process logs nothing


def test_verbose_in_a_real_process_writes_the_log_to_stderr(pv_repo: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pipever", "status", "-v"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0
    assert "DEBUG" in proc.stderr and "git: git " in proc.stderr and "DEBUG" not in proc.stdout


class Recorder:
    def __init__(self) -> None:
        self.bars: list[tuple[str, int | None, str]] = []
        self.steps: list[list[int]] = []

    def start(self, description: str, total: int | None = None, *, unit: str = "files") -> None:
        self.bars.append((description, total, unit))
        self.steps.append([])

    def advance(self, n: int = 1) -> None:
        self.steps[-1].append(n)

    def done(self) -> None:
        return None


def test_big_files_report_progress_byte_by_byte(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    from pipever.commands.data.add import add
    from pipever.commands.remotes.fetch import fetch
    from pipever.commands.remotes.push import push
    from pipever.repo import Repo

    size = 70 << 20  # three 32 MiB hashing windows
    with open("big.bin", "wb") as f:
        f.truncate(size)
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    repo = Repo(pv_repo)
    rec = Recorder()
    add(repo, ["big.bin"], progress=rec)
    adding = rec.bars.index(("Adding big.bin", size, "bytes"))
    assert len(rec.steps[adding]) >= 3 and sum(rec.steps[adding]) == size
    rec = Recorder()
    push(repo, [], progress=rec)
    assert rec.bars[-1] == ("Pushing to 'store'", size, "bytes") and sum(rec.steps[-1]) == size
    repo.close()
    subprocess.run(["chmod", "-R", "u+w", ".pv/cache"], check=True)
    subprocess.run(["rm", "-rf", ".pv/cache"], check=True)
    repo = Repo(pv_repo)  # as a new process would
    rec = Recorder()
    res = fetch(repo, [], progress=rec)
    assert res.fetched == 1, res
    assert rec.bars[-1] == ("Fetching files from 'store'", size, "bytes") and sum(rec.steps[-1]) == size
    repo.close()
