"""What the ``post-checkout`` and ``pre-push`` Git hooks do (``pv git-hook NAME``).

post-checkout: after a branch switch (Git's flag argument ``1``; file checkouts pass ``0``), check
out the data whose pointer files differ between the old and the new HEAD. Data whose pointer did
not change is left alone, like Git leaves files that are the same on both branches, so local work
on it survives the switch. Skipped during a rebase.

pre-push: Git writes one line per pushed ref on stdin, ``<local ref> <local sha> <remote ref>
<remote sha>``. The commits being pushed are those reachable from the local sha and not from the
remote sha (or, for a new branch, from no ref of that Git remote). Their data is pushed to pv's
default remote through ``pipever.commands.remotes.push.push(repo, [], revs=..., workspace=False)``. Only commits that change a
pointer file or ``pv.lock`` can need new objects, plus each pushed tip.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipever.data import pointer as ptr
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.commands.data.checkout import CheckoutResult
    from pipever.commands.remotes.push import PushResult

ZERO_SHA = "0" * 40
DATA_SPECS = ("*" + ptr.SUFFIX, "pv.lock")


@dataclass(frozen=True)
class PostCheckoutResult:
    skipped: str | None = None  # why nothing was done
    targets: tuple[str, ...] = ()  # pointer files checked out
    checkout: CheckoutResult | None = None


def _is_zero(sha: str) -> bool:
    return not sha.strip("0")


def in_rebase(repo: RepoContext) -> bool:
    for name in ("rebase-merge", "rebase-apply"):
        where = repo.git.run("rev-parse", "--git-path", name).decode().strip()
        if (repo.root / where).exists():
            return True
    return False


def changed_pointers(repo: RepoContext, prev: str, new: str) -> list[str] | None:
    """Pointer files present at ``new`` that differ from ``prev`` (None: take every pointer)."""
    if _is_zero(prev):
        return None
    out = repo.git.run("diff", "--name-only", "--no-renames", "-z", prev, new, "--", *DATA_SPECS, check=False)
    names = [n for n in out.decode().split("\0") if n]
    if "pv.lock" in names:
        return None  # stage outs are checked out as a whole with the lock
    return [n for n in names if (repo.root / n).is_file()]


def post_checkout(repo: RepoContext, *, prev: str, new: str, branch_checkout: bool) -> PostCheckoutResult:
    """Check out the data of the new HEAD after ``git checkout``/``git switch`` of a branch."""
    if not branch_checkout:
        return PostCheckoutResult(skipped="a file checkout")
    if prev == new:
        return PostCheckoutResult(skipped="HEAD did not move")
    if not repo.scm:
        return PostCheckoutResult(skipped="not a Git repository")
    if in_rebase(repo):
        return PostCheckoutResult(skipped="a rebase is in progress")
    targets = changed_pointers(repo, prev, new)
    if targets == []:
        return PostCheckoutResult(skipped="no pointer file changed")
    from pipever.commands.data.checkout import checkout

    res = checkout(repo, targets or [])
    return PostCheckoutResult(targets=tuple(targets or ()), checkout=res)


# -- pre-push ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefUpdate:
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_ref_lines(lines: Iterable[str]) -> list[RefUpdate]:
    """The pre-push hook's stdin lines; deletions (local sha all zeros) are left out."""
    updates = []
    for line in lines:
        parts = line.split()
        if len(parts) == 4 and not _is_zero(parts[1]):
            updates.append(RefUpdate(*parts))
    return updates


def _commit_exists(repo: RepoContext, sha: str) -> bool:
    return not _is_zero(sha) and bool(repo.git.run("rev-parse", "-q", "--verify", f"{sha}^{{commit}}", check=False).strip())


def pushed_revisions(repo: RepoContext, updates: Sequence[RefUpdate], *, git_remote: str | None) -> list[str]:
    """Commits whose data a push needs: changes of pointers/pv.lock in the pushed range, and tips."""
    revs: dict[str, None] = {}
    for u in updates:
        tip = repo.git.run("rev-parse", "-q", "--verify", f"{u.local_sha}^{{commit}}", check=False).decode().strip()
        if not tip:
            continue  # a tag of a tree or blob: no data
        if _commit_exists(repo, u.remote_sha):
            exclude = [f"^{u.remote_sha}"]
        elif git_remote:
            exclude = ["--not", f"--remotes={git_remote}"]
        else:
            exclude = []
        out = repo.git.run("rev-list", tip, *exclude, "--", *DATA_SPECS, check=False)
        revs[tip] = None
        revs.update(dict.fromkeys(out.decode().split()))
    return list(revs)


def pre_push(repo: RepoContext, revisions: Sequence[str], *, remote: str | None = None, jobs: int | None = None) -> PushResult | None:
    """Push the objects ``revisions`` need to ``remote`` (default: each out's remote, else pv's
    default remote); None when there is nothing to push."""
    if not revisions:
        return None
    from pipever.commands.remotes.push import push

    return push(repo, [], remote=remote, jobs=jobs, revs=list(revisions), workspace=False)
