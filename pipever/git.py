"""Git access: the only module that imports gitpython (lazily, it costs ~0.15 s to import).

Plain porcelain calls (ls-files, add) run the ``git`` binary directly; reading files at a revision
goes through gitpython's object database without checking the revision out. Git failures become
``GitError`` here.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pipever.errors import GitError
from pipever.registry.tags import TagRef

log = logging.getLogger(__name__)

WORKSPACE = None  # a "revision" meaning the work tree


@dataclass(frozen=True)
class RefInfo:
    """A ref pointing at a commit (``list_refs``)."""

    name: str  # full ref name, e.g. refs/exps/swift-otter
    sha: str
    parents: tuple[str, ...]
    time: int  # committer date, seconds since the epoch
    subject: str = ""


# Git's worktree admin files are not safe against a concurrent 'worktree add' and 'prune' (the
# prune drops the half-made entry: "failed to read .git/worktrees/../commondir"); experiments run
# in parallel threads of one pv process (other processes are kept out by the repo lock)
_WORKTREES = threading.Lock()

_TAG_FIELDS = (
    "%(refname:strip=2)", "%(objecttype)", "%(objectname)", "%(*objecttype)", "%(*objectname)", "%(taggername)",
    "%(taggeremail)", "%(taggerdate:unix)", "%(taggerdate:iso-strict)", "%(contents)", "%(contents:signature)",
)


def find_git_root(start: Path) -> Path | None:
    """The top of the Git work tree containing ``start`` (None outside Git)."""
    cur = start.resolve()
    for d in (cur, *cur.parents):
        if (d / ".git").exists():
            return d
    return None


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root

    # -- porcelain through the git binary ------------------------------------------------------
    def run(self, *args: str, input: bytes | None = None, check: bool = True, no_hooks: bool = False,
            index: Path | None = None) -> bytes:
        """``git ARGS`` in the work tree; ``no_hooks`` keeps the user's hooks out (e.g. a
        post-checkout hook while pv makes a temporary worktree); ``index``: another index file."""
        hooks = ["-c", "core.hooksPath=/dev/null"] if no_hooks else []
        env = {**os.environ, "GIT_INDEX_FILE": str(index)} if index is not None else None
        if log.isEnabledFor(logging.DEBUG):
            from pipever.remote.url import mask_url

            log.debug("git %s", " ".join(mask_url(a) for a in args))
        try:
            proc = subprocess.run(
                ["git", "-C", str(self.root), *hooks, *args], input=input, capture_output=True, check=False, env=env,
            )
        except FileNotFoundError as exc:
            raise GitError("the 'git' program was not found", hint="install Git") from exc
        if check and proc.returncode != 0:
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            msg = [line for line in lines if not line.startswith("hint:")] or lines  # git's advice is no reason
            raise GitError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}", hint="see 'git status'")
        return proc.stdout

    def tracked(self, paths: Sequence[str]) -> list[str]:
        """Which of ``paths`` (files or directories) Git tracks files at or below."""
        files = self.tracked_files(paths)
        hit = []
        for p in paths:
            if any(f == p or f.startswith(p + "/") for f in files):
                hit.append(p)
        return hit

    def tracked_files(self, paths: Sequence[str]) -> list[str]:
        """The files Git tracks at or below ``paths`` (files or directories)."""
        if not paths:
            return []
        out = self.run("ls-files", "-z", "--cached", "--", *[":(literal)" + p for p in paths])
        return [f for f in out.decode(errors="surrogateescape").split("\0") if f]

    def ignored(self, paths: Sequence[str]) -> list[str]:
        """Which of ``paths`` Git ignores (tracked files never are, as for ``git add``)."""
        if not paths:
            return []
        out = self.run("check-ignore", "-z", "--stdin", input="\0".join(paths).encode() + b"\0", check=False)
        found = set(out.decode().split("\0"))
        return [p for p in paths if p in found]

    def add(self, paths: Iterable[str]) -> None:
        items = sorted(set(paths))
        if items:
            self.run("add", "--", *[":(literal)" + p for p in items])

    def ls_pointer_files(self, suffix: str) -> list[str]:
        """Pointer files in the index and untracked-not-ignored in the work tree."""
        out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", f"*{suffix}")
        return sorted({f for f in out.decode().split("\0") if f.endswith(suffix)})

    def ls_named(self, name: str) -> list[str]:
        """Files called ``name`` in any folder: in the index or untracked and not ignored."""
        out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
                       f":(glob){name}", f":(glob)**/{name}")
        return sorted({f for f in out.decode().split("\0") if f and os.path.basename(f) == name})

    def ls_named_at(self, rev: str, name: str) -> list[str]:
        """Files called ``name`` in any folder of the tree of commit ``rev``."""
        sha = self.resolve(rev)
        out = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", sha)
        return sorted({f for f in out.decode().split("\0") if f and os.path.basename(f) == name})

    def files_under_at(self, rev: str, folder: str) -> list[str]:
        """Files below ``folder`` (repo-relative) in the tree of commit ``rev``."""
        sha = self.resolve(rev)
        out = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", sha, "--", folder.rstrip("/") + "/")
        return sorted(f for f in out.decode().split("\0") if f)

    # -- history through gitpython -------------------------------------------------------------
    @cached_property
    def repo(self) -> Any:
        import git

        try:
            return git.Repo(self.root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise GitError(f"'{self.root}' is not a Git repository", hint="run 'git init'") from exc

    def resolve(self, rev: str) -> str:
        import git

        try:
            return str(self.repo.commit(rev).hexsha)
        except (git.BadName, ValueError, git.GitCommandError) as exc:
            raise GitError(f"unknown revision '{rev}'", hint="use a branch, tag or commit that exists ('git log')") from exc

    def has_commits(self) -> bool:
        try:
            self.repo.head.commit  # noqa: B018
        except ValueError:
            return False
        return True

    def read_file(self, rev: str, path: str) -> bytes | None:
        """Bytes of ``path`` at ``rev`` (None when it does not exist there)."""
        import git

        commit = self.repo.commit(self.resolve(rev))
        try:
            blob = commit.tree / path
        except KeyError:
            return None
        if blob.type != "blob":
            return None
        try:
            return bytes(blob.data_stream.read())
        except git.GitCommandError as exc:
            raise GitError(f"cannot read '{path}' at '{rev}'", hint="check the repository with 'git fsck'") from exc

    def files_at(self, rev: str, suffix: str | None = None, names: Sequence[str] = ()) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of every blob at ``rev`` whose name ends with ``suffix`` or is in ``names``."""
        commit = self.repo.commit(self.resolve(rev))
        for item in commit.tree.traverse():
            if item.type != "blob":
                continue
            name = os.path.basename(item.path)
            if (suffix and name.endswith(suffix)) or name in names:
                yield item.path, bytes(item.data_stream.read())

    def revisions(self, *, all_branches: bool, all_tags: bool, all_commits: bool,
                  all_experiments: bool = False) -> list[str]:
        """Commit shas selected by -a/-T/-A and experiments (``refs/exps/``); HEAD is not
        included: callers add the workspace."""
        shas: set[str] = set()
        if all_experiments:
            out = self.run("for-each-ref", "--format=%(objectname)", "refs/exps")
            shas.update(out.decode().split())
        if all_commits:
            out = self.run("rev-list", "--all")
            shas.update(out.decode().split())
        if all_branches:
            for head in self.repo.heads:
                shas.add(head.commit.hexsha)
        if all_tags:
            for tag in self.repo.tags:
                try:
                    shas.add(tag.commit.hexsha)
                except ValueError:
                    continue  # a tag of a tree or a blob: no commit, no data
        return sorted(shas)

    def named_commits(self, *, all_branches: bool, all_tags: bool, all_commits: bool) -> list[tuple[str, str]]:
        """(name, sha) for -a/-T/-A: branches, then tags, then (-A) every other commit, newest first,
        named by its short id. A commit with several names is listed once, its names joined by ','."""
        names: dict[str, list[str]] = {}
        kinds = (["refs/heads"] if all_branches else []) + (["refs/tags"] if all_tags else [])
        if kinds:
            fmt = "--format=%(refname:short)%00%(objectname)%00%(*objectname)%00%(objecttype)%00%(*objecttype)"
            out = self.run("for-each-ref", fmt, *kinds)
            for line in out.decode().splitlines():
                name, sha, peeled, otype, ptype = line.split("\0")
                if (ptype or otype) == "commit":  # a tag of a tree or a blob names no data
                    names.setdefault(peeled or sha, []).append(name)
        if all_commits:
            for sha in self.run("rev-list", "--all", "--topo-order").decode().split():
                names.setdefault(sha, [sha[:7]])
        return [(",".join(n), sha) for sha, n in names.items()]

    def current_branch(self) -> str | None:
        try:
            return str(self.repo.active_branch.name)
        except TypeError:
            return None

    # -- tags (the model registry) ---------------------------------------------------------------
    def list_tags(self) -> list[TagRef]:
        """Every tag pointing (directly or through an annotated tag) at a commit."""
        out = self.run("for-each-ref", "--format=" + "%00".join(_TAG_FIELDS) + "%00", "refs/tags")
        fields = out.decode("utf-8", errors="replace").split("\0")
        refs: list[TagRef] = []
        for i in range(0, len(fields) - len(_TAG_FIELDS) + 1, len(_TAG_FIELDS)):
            name, otype, oid, ptype, peeled, tagger, email, unix, iso, contents, sig = fields[i:i + len(_TAG_FIELDS)]
            name = name.lstrip("\n")
            if otype == "commit":
                refs.append(TagRef(name, oid, False))
            elif otype == "tag" and ptype == "commit":
                message = contents[: len(contents) - len(sig)] if sig and contents.endswith(sig) else contents
                refs.append(TagRef(name, peeled, True, tagger, email.strip("<>"), int(unix or 0), iso,
                                   message.rstrip("\n")))
        return refs

    def create_tag(self, name: str, commit: str, message: str) -> None:
        """Create the annotated tag ``name`` at ``commit`` (the tagger is Git's committer identity)."""
        self.run("tag", "-a", "-F", "-", "--", name, commit, input=message.encode("utf-8"))

    def remote_url(self, remote: str) -> str | None:
        out = self.run("remote", "get-url", "--", remote, check=False)
        return out.decode().strip() or None

    def push_tags(self, remote: str, names: Sequence[str]) -> None:
        if names:
            self.run("push", "--quiet", remote, *[f"refs/tags/{n}:refs/tags/{n}" for n in names])

    # -- refs and worktrees (experiments) ---------------------------------------------------------
    def list_refs(self, prefix: str) -> list[RefInfo]:
        """Refs under ``prefix`` (e.g. ``refs/exps/``) that point at commits, sorted by name."""
        fmt = "%(refname)%00%(objectname)%00%(objecttype)%00%(parent)%00%(committerdate:unix)%00%(subject)"
        out = self.run("for-each-ref", "--format=" + fmt, prefix)
        refs = []
        for line in out.decode("utf-8", errors="replace").splitlines():
            name, sha, otype, parents, unix, subject = line.split("\0")
            if otype == "commit":
                refs.append(RefInfo(name, sha, tuple(parents.split()), int(unix or 0), subject))
        return sorted(refs, key=lambda r: r.name)

    def ref_sha(self, ref: str) -> str | None:
        """The commit ``ref`` (a full ref name) points at, None when it does not exist."""
        out = self.run("rev-parse", "--verify", "--quiet", ref + "^{commit}", check=False)
        return out.decode().strip() or None

    def create_ref(self, ref: str, sha: str, message: str) -> None:
        """Create ``ref`` at ``sha``; GitError when it exists already (atomic check)."""
        self.run("update-ref", "-m", message, "--create-reflog", ref, sha, "0" * len(sha))

    def delete_ref(self, ref: str) -> None:
        self.run("update-ref", "-d", ref)

    def workspace_tree(self, include: Sequence[str], scratch: Path) -> str:
        """The tree of HEAD with the work tree's changes to tracked files and the untracked (not
        ignored) ``include`` paths, built in the scratch index file ``scratch``: the real index
        and the work tree are untouched."""
        try:
            self.run("read-tree", "HEAD", index=scratch)
            self.run("add", "-u", "--", ".", index=scratch)
            if include:
                self.run("add", "--", *[":(literal)" + p for p in include], index=scratch)
            return self.run("write-tree", index=scratch).decode().strip()
        finally:
            scratch.unlink(missing_ok=True)

    def commit_tree(self, tree: str, parent: str, message: str) -> str:
        """A commit of ``tree`` with one parent (no hooks run, the index is untouched)."""
        out = self.run("commit-tree", tree, "-p", parent, "-F", "-", input=message.encode("utf-8"))
        return out.decode().strip()

    def changed_files(self, a: str, b: str) -> list[tuple[str, str]]:
        """(status letter, path) of files that differ between commits ``a`` and ``b`` (no renames)."""
        out = self.run("diff", "--name-status", "--no-renames", "-z", a, b, "--").decode("utf-8")
        fields = [f for f in out.split("\0") if f]
        return [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]

    def changed_in_worktree(self, rev: str) -> list[str]:
        """Paths whose work-tree content differs from commit ``rev``: tracked files modified or
        deleted, and files added to the index (untracked files are not listed)."""
        out = self.run("diff", "--name-only", "--no-renames", "-z", rev, "--").decode("utf-8")
        return [f for f in out.split("\0") if f]

    def worktree_add(self, path: Path, commit: str) -> None:
        """A detached worktree of ``commit`` at ``path`` (hooks off: no post-checkout there)."""
        with _WORKTREES:
            self.run("worktree", "add", "--detach", "--quiet", str(path), commit, no_hooks=True)

    def worktree_remove(self, path: Path) -> None:
        """Forget and delete the worktree at ``path``; tolerant of one that is half gone."""
        with _WORKTREES:
            self.run("worktree", "remove", "--force", "--force", str(path), check=False)
            if path.exists():
                from pipever import fsutil

                fsutil.remove(path)
            self.run("worktree", "prune", check=False)

    def branch_exists(self, name: str) -> bool:
        return self.ref_sha("refs/heads/" + name) is not None

    def valid_branch_name(self, name: str) -> bool:
        if name.startswith("-"):
            return False
        proc = self.run("check-ref-format", "--branch", name, check=False)
        return bool(proc.strip()) and proc.decode().strip() == name

    def create_branch(self, name: str, sha: str) -> None:
        self.run("branch", "--no-track", "--", name, sha)

    def has_remote(self, remote: str) -> bool:
        if remote.startswith("-"):
            return False
        return remote in self.run("remote").decode().split()

    def remote_refs(self, remote: str, pattern: str) -> dict[str, str]:
        """``{ref: sha}`` on Git remote ``remote`` matching ``pattern`` (``git ls-remote``)."""
        out = self.run("ls-remote", "--refs", remote, pattern).decode()
        refs = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            refs[ref] = sha
        return refs

    def push_refs(self, remote: str, refspecs: Sequence[str]) -> None:
        if refspecs:
            self.run("push", "--quiet", "--", remote, *refspecs)

    def fetch_refs(self, remote: str, refspecs: Sequence[str]) -> None:
        if refspecs:
            self.run("fetch", "--quiet", "--no-tags", "--", remote, *refspecs)
