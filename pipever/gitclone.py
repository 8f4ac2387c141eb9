"""Cloning another repository safely, for ``pv ls/get/import/update`` and ``pipever.api``.

The URL comes from the user but names someone else's repository, so nothing of that repository
may run here: no hooks (``core.hooksPath`` pointed at ``/dev/null``, below which nothing can be planted), no checkout (so no
smudge filters such as Git LFS's), no ``ext::``/``fd::`` transports (which run commands) and no
URL that Git could take for an option; only the file, git, http(s) and ssh transports. The clone is shallow when the revision is a branch or tag
(or the default branch); a commit sha needs the history, so it falls back to a full clone.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from pipever.errors import GitError, PvError

# a remote helper spelled <transport>::<address> (ext:: runs a command, fd:: reads descriptors)
_HELPER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.-]*::")
_SAFE_CONFIG = (
    "protocol.allow=never", *(f"protocol.{p}.allow=always" for p in ("file", "git", "http", "https", "ssh")),
    "core.fsmonitor=false",
    "filter.lfs.smudge=", "filter.lfs.process=", "filter.lfs.required=false", "advice.detachedHead=false",
)


class UnsafeURLError(PvError):
    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"refusing the repository URL '{url}': {why}",
                         hint="use a local path, an https://, ssh:// or git@host:path URL")
        self.url = url


def check_url(url: str) -> str:
    """The URL, or UnsafeURLError when Git could run a command or read an option from it."""
    if not url or url.startswith("-"):
        raise UnsafeURLError(url, "it looks like a command-line option")
    if _HELPER.match(url):
        raise UnsafeURLError(url, "'<transport>::' URLs can run programs")
    if any(c in url for c in "\0\n\r"):
        raise UnsafeURLError(url.replace("\0", "\\0").replace("\n", "\\n").replace("\r", "\\r"), "it contains control characters")
    return url


def is_local(url: str) -> bool:
    """A path on this machine (not ``scheme://`` nor ``host:path``)."""
    if "://" in url:
        return url.startswith("file://")
    head = url.split("/", 1)[0]
    return ":" not in head or os.path.isdir(url) or (len(head) == 2 and head[1] == ":")


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    # hooks are looked up as /dev/null/<name>: no one can create a file there (a fixed folder
    # in /tmp could be created and filled with hooks by any local user first)
    config = [arg for c in (*_SAFE_CONFIG, f"core.hooksPath={os.devnull}") for arg in ("-c", c)]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_LFS_SKIP_SMUDGE": "1"}
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):  # set when run from a hook
        env.pop(var, None)
    import logging

    log = logging.getLogger(__name__)
    if log.isEnabledFor(logging.DEBUG):
        from pipever.remote.url import mask_url

        log.debug("git %s", " ".join(mask_url(a) for a in args))
    try:
        return subprocess.run(["git", *config, *args], cwd=cwd, capture_output=True, env=env, check=False)
    except FileNotFoundError as exc:
        raise GitError("the 'git' program was not found", hint="install Git") from exc


def _error(url: str, proc: subprocess.CompletedProcess[bytes]) -> GitError:
    lines = [line.strip() for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]  # git's reason, not its advice
    why = fatal[0].split(":", 1)[1].strip() if fatal else lines[-1] if lines else "git clone failed"
    from pipever.remote.url import mask_url

    return GitError(f"cannot clone '{mask_url(url)}': {mask_url(why)}",
                    hint="check the URL and that you can access it with 'git ls-remote URL'")


def clone(url: str, dest: Path, *, rev: str | None = None, checkout: bool = False, history: bool = False) -> str:
    """Clone ``url`` into ``dest``; returns the commit sha ``rev`` names (default: the remote's
    default branch). The work tree stays empty unless ``checkout`` (then: that commit, detached).
    ``history``: every commit and tag (a partial clone: file contents are fetched when read), as
    the model registry needs; otherwise only the one commit."""
    check_url(url)
    if rev is not None and (not rev or rev.startswith("-")):
        raise GitError(f"invalid revision '{rev}'", hint="use a branch, tag or commit")
    source = Path(url).resolve().as_uri() if is_local(url) and "://" not in url else url  # file:// allows --depth
    base = ["clone", "--quiet", "--no-checkout"]
    if history:
        base.append("--filter=blob:none")
    shallow = [] if history else ["--depth", "1", *([f"--branch={rev}"] if rev else [])]
    proc = _git(*base, *shallow, "--", source, str(dest))
    if proc.returncode != 0 and rev is not None and not history:  # a commit sha or an abbreviation: take the history
        if dest.exists():
            import shutil

            shutil.rmtree(dest)
        proc = _git(*base, "--", source, str(dest))
    if proc.returncode != 0:
        raise _error(url, proc)
    target = f"{rev}^{{commit}}" if rev else "HEAD^{commit}"
    found = _git("rev-parse", "--verify", "--quiet", "--end-of-options", target, cwd=dest)
    if found.returncode != 0:
        raise GitError(f"unknown revision '{rev}' in '{url}'", hint="use a branch, tag or commit that exists there")
    sha = found.stdout.decode().strip()
    if checkout:  # no filter of the other repository's .gitattributes may run (info/attributes wins)
        info = dest / ".git" / "info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "attributes").write_text("* -filter\n", encoding="utf-8")
        done = _git("checkout", "--quiet", "--detach", sha, "--", cwd=dest)
        if done.returncode != 0:
            raise _error(url, done)
    return sha
