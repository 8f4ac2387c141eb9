"""The hostile-input corpus and the guard that proves nothing escaped (issue 6, guarantee 3).

``HOSTILE_PATHS`` are paths a commit can carry in a pointer, a manifest, ``pv.yaml`` or
``pv.lock``: each one leaves the work tree or enters ``.git``/``.pv``, lexically. ``Guard``
snapshots everything a hostile input could reach -- a canary directory outside the work tree
(holding a secret), ``$HOME``, ``.git`` and ``.pv`` -- and checks after a command that none of it
changed, that the secret appears in no output and no file of the work tree, and that a failure
was a clean ``ERROR:`` (exit 1, no traceback).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import PvRunner, Result, git

ESCAPE_ABS = "/tmp/pv-escape-canary-7f3a"
HOSTILE_PATHS = [
    "../x", "a/../../x", "../../../../../../../../tmp/pv-escape-canary-7f3a", "..", "a/..", "./../x",
    "a/b/../../../x", ESCAPE_ABS, "/etc/passwd", "~", "~/x", "~root/x", "C:\\x", "C:/x", "c:x",
    "\\\\srv\\x", "//srv/x", "a\\..\\..\\x", ".git/hooks/post-checkout", ".GIT/config", ".Git/hooks/x",
    "a/.git/x", "a/.GIT/x", ".pv/x", ".PV/config.yaml", ".pv/cache/blake3/00/x", "x\x00y", "\x00", "",
    ".", "./", "./.",
]


def shown(path: str) -> str:
    return repr(path)


def tree(root: Path, *, skip: tuple[str, ...] = (), names_only: tuple[str, ...] = ()) -> dict[str, bytes | str]:
    """Every file below ``root`` with its content (a symlink: its target; below ``names_only``,
    where files are content-addressed, just that it is there)."""
    out: dict[str, bytes | str] = {}
    if not os.path.lexists(root):
        return out
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        dirs[:] = [d for d in dirs if (d if rel_dir == "." else f"{rel_dir}/{d}") not in skip]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            p = Path(dirpath, name)
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            else:
                out[rel] = "object" if rel.startswith(names_only) else p.read_bytes()
        out.update({f"{rel_dir}/{d}/": "dir" for d in dirs})
    return out


@dataclass
class Guard:
    repo: Path
    outside: Path
    secret: str = field(default_factory=lambda: f"TOP-SECRET-{uuid.uuid4().hex}")
    cases: int = 0
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.outside.mkdir(parents=True, exist_ok=True)
        (self.outside / "secret.txt").write_text(self.secret + "\n")
        (self.outside / "secret.yaml").write_text(f"token: {self.secret}\nseed: 1\n")
        (self.outside / "metrics.json").write_text(f'{{"token": "{self.secret}", "acc": 1}}\n')
        (self.outside / "drop").mkdir(exist_ok=True)

    def _state(self) -> dict[str, object]:
        git_dir = tree(self.repo / ".git", skip=("logs",), names_only=("objects/",))
        pv_dir = tree(self.repo / ".pv", skip=("tmp",), names_only=("cache/",))
        return {
            "outside": tree(self.outside),
            "home": tree(Path(os.environ["HOME"])),
            "escape": os.path.lexists(ESCAPE_ABS),
            ".git": {k: v for k, v in git_dir.items() if not k.startswith("objects/") and k != "index"},
            ".pv": {k: v for k, v in pv_dir.items() if not k.startswith("cache/")},
            # what a command that succeeds may change: Git objects, the index, the cache
            ".git/objects": {k: v for k, v in git_dir.items() if k.startswith("objects/")},
            ".git/index": git("ls-files", "-s", cwd=self.repo),
            ".pv/cache": {k: v for k, v in pv_dir.items() if k.startswith("cache/") and v != "dir"},
        }

    def run(self, pv: PvRunner, what: str, *args: str, must_fail: bool = True) -> Result:
        """Run ``pv ARGS`` on hostile input ``what``; record every escape or unclean failure."""
        self.cases += 1
        before = self._state()
        res = pv(*args, cwd=self.repo)
        after = self._state()
        where = f"{what}: pv {' '.join(map(repr, args))}"
        for key in before:
            if res.exit_code == 0 and key in (".git/objects", ".git/index", ".pv/cache"):
                continue
            if before[key] != after[key]:
                changed: object = sorted(set(before[key]) ^ set(after[key])) if isinstance(before[key], dict) else key  # type: ignore[arg-type]
                if isinstance(before[key], dict) and not changed:
                    changed = [k for k in before[key] if before[key][k] != after[key].get(k)]  # type: ignore[index,union-attr]
                self.failures.append(f"{where}: wrote into {key}: {changed}")
        if self.secret in res.stdout + res.stderr:
            self.failures.append(f"{where}: printed the secret from outside the work tree")
        leaked = [p for p, v in tree(self.repo, skip=(".git", ".pv")).items() if isinstance(v, bytes) and self.secret.encode() in v]
        if leaked:  # (the index can only get it from a work-tree file: autostage adds those)
            self.failures.append(f"{where}: copied the secret into the work tree: {leaked}")
        if "Traceback" in res.stderr or "unexpected" in res.stderr:
            self.failures.append(f"{where}: crashed: {res.stderr.strip()[-300:]}")
        last = res.stderr.strip().splitlines()[-1:] or [""]
        if must_fail and (res.exit_code != 1 or not last[0].startswith("ERROR: ")):
            self.failures.append(f"{where}: expected a clean 'ERROR:' and exit 1, got {res}")
        if not must_fail and res.exit_code not in (0, 1):
            self.failures.append(f"{where}: exit {res.exit_code}: {res}")
        return res

    def check(self) -> None:
        from tests.reliability.harness import stat

        stat("crafted cases", self.cases, len({f.split(": pv ")[0] + f.split("'")[1] for f in self.failures if "'" in f}))
        assert not self.failures, f"{len(self.failures)} of {self.cases} cases failed:\n" + "\n".join(self.failures[:60])
