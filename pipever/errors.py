"""The one error tree of pipever.

Every error a user can cause is a ``PvError``: ``message`` says what is wrong, ``hint`` says what
to do. Only ``pipever.cli.app.main`` turns them into ``ERROR: <message> — <hint>`` and exit 1.

PvError
├── NotARepoError, NotAGitRepoError, AlreadyInitializedError
├── UnsafeRepoError                 .pv (or its cache) is a link a commit could plant
├── PathOutsideRepoError            a path escapes the work tree or enters .git/.pv
├── PointerError(pointer_path)      an unreadable or invalid *.pv file
├── ManifestError                   a directory manifest that is corrupt or escapes
├── SchemaError(file, line)         invalid YAML / unknown keys in pv.yaml, config, ...
├── ConfigError
├── TargetError                     a target that is missing, tracked by Git, inside a tracked dir
│   └── FileNameError(path)         a name pv cannot record: not UTF-8, or its pointer's too long
├── CycleError(cycle), DuplicateOutError, OverlappingOutError, MissingDepError, StageError
├── DuplicatePointerOutError(out, pointers)  two pointer files name one output
├── RemoteNotFoundError, RemoteError, MissingExtraError(extra)
├── TransferError(failed)
├── CorruptObjectError(oid)
├── ObjectNotFoundError(oid)
├── CheckoutConflictError(paths)
├── RepoLockedError(pid, command)
├── FileSystemError(path, errno)    disk full, permission denied, too many open files, ...
├── GitError
├── RegistryError
├── ExperimentError               pv exp: bad -S, name, unknown or duplicate experiment
└── ExecutorError(address)        --executor: scheduler unreachable, extra missing, bad config
"""

from __future__ import annotations

import errno as errnos
from collections.abc import Sequence


class PvError(Exception):
    """Root of every user-facing error."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The text after ``ERROR: `` on stderr."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class NotARepoError(PvError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"'{where}' is not inside a pipever repository", hint="run 'pv init' first"
        )


class NotAGitRepoError(PvError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"'{where}' is not inside a Git work tree",
            hint="run 'git init' first, or 'pv init --no-scm' for a plain directory",
        )


class AlreadyInitializedError(PvError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"'{where}' is already a pipever repository", hint="use 'pv init --force' to reinitialize"
        )


class UnsafeRepoError(PvError):
    """The repository's own folders are not its own: ``.pv`` or ``.pv/cache`` from a commit
    leads to another project's config and cache."""


class PathOutsideRepoError(PvError):
    def __init__(self, path: str, *, reason: str = "is outside the repository", source: str | None = None) -> None:
        where = f" (in '{source}')" if source else ""
        super().__init__(
            f"path '{path}'{where} {reason}",
            hint="use a path inside the work tree, not in .git or .pv",
        )
        self.path = path
        self.source = source


class PointerError(PvError):
    def __init__(self, pointer_path: str, problem: str, *, conflicted: bool = False) -> None:
        super().__init__(
            f"invalid pointer file '{pointer_path}': {problem}",
            # 'git checkout -- X' is refused for an unmerged path
            hint=(f"resolve the merge conflict: keep one side ('git checkout --ours {pointer_path}' or "
                  f"'--theirs'), then 'pv checkout'; 'pv install' sets up a merge driver for pointers")
            if conflicted else "fix or restore it (e.g. 'git checkout -- " + pointer_path + "')",
        )
        self.pointer_path = pointer_path


class ManifestError(PvError):
    def __init__(self, what: str, problem: str) -> None:
        super().__init__(
            f"invalid directory manifest {what}: {problem}",
            hint="run 'pv fsck' and re-add or re-fetch the directory",
        )
        self.problem = problem


class SchemaError(PvError):
    def __init__(self, file: str, problem: str, *, line: int | None = None, hint: str | None = None) -> None:
        loc = f"{file}:{line}" if line is not None else file
        super().__init__(f"{loc}: {problem}", hint=hint or f"fix '{file}'")
        self.file = file
        self.line = line
        self.problem = problem


class ConfigError(PvError):
    pass


class TargetError(PvError):
    pass


class FileNameError(TargetError):
    """A file name pv cannot record (SPEC §4: names are UTF-8); ``path`` as found on disk."""

    def __init__(self, path: str, problem: str, *, hint: str) -> None:
        super().__init__(f"{problem}", hint=hint)
        self.path = path


def escaped(path: str) -> str:
    """``path`` for a message: bytes that are not UTF-8 (``os.fsdecode``'s surrogates) as ``\\xNN``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class StageError(PvError):
    pass


class CycleError(PvError):
    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__(
            "pipeline has a cycle: " + " -> ".join([*cycle, cycle[0]]),
            hint="remove a dependency so that no stage depends on its own outputs",
        )
        self.cycle = list(cycle)


class DuplicateOutError(PvError):
    def __init__(self, out: str, stages: Sequence[str]) -> None:
        super().__init__(
            f"output '{out}' is produced by more than one stage: " + ", ".join(f"'{s}'" for s in stages),
            hint="give each output to exactly one stage",
        )
        self.out = out
        self.stages = list(stages)


class DuplicatePointerOutError(PvError):
    """Two pointer files (or two outs of one) name the same output: which version is the data?"""

    def __init__(self, out: str, pointers: Sequence[str]) -> None:
        super().__init__(
            f"output '{out}' is named by more than one pointer file: " + ", ".join(f"'{p}'" for p in pointers),
            hint="keep the one that is right and delete the others (e.g. 'git rm " + sorted(pointers)[-1] + "')",
        )
        self.out = out
        self.pointers = list(pointers)


class OverlappingOutError(PvError):
    def __init__(self, inner: str, outer: str, stages: Sequence[str]) -> None:
        super().__init__(
            f"output '{inner}' is inside output '{outer}' (stages " + ", ".join(f"'{s}'" for s in stages) + ")",
            hint="outputs must not overlap; track the enclosing directory only",
        )


class MissingDepError(PvError):
    def __init__(self, dep: str, stage: str) -> None:
        super().__init__(
            f"dependency '{dep}' of stage '{stage}' does not exist and no stage produces it",
            hint="create it, 'pv pull' it, or fix the stage's deps",
        )
        self.dep = dep
        self.stage = stage


class RemoteNotFoundError(PvError):
    def __init__(self, name: str | None) -> None:
        if name is None:
            super().__init__("no remote given and no default remote set", hint="run 'pv remote add -d NAME URL' or pass -r NAME")
        else:
            super().__init__(f"remote '{name}' does not exist", hint="see 'pv remote list'")
        self.name = name


class RemoteError(PvError):
    pass


class MissingExtraError(PvError):
    def __init__(self, scheme: str, extra: str) -> None:
        super().__init__(
            f"the '{scheme}' remote support is not installed",
            hint=f"run pip install 'pipever[{extra}]'",
        )
        self.extra = extra


class TransferError(PvError):
    def __init__(self, verb: str, failed: Sequence[str], *, done: int = 0, first_error: str | None = None) -> None:
        shown = ", ".join(failed[:10]) + (f" and {len(failed) - 10} more" if len(failed) > 10 else "")
        why = f" ({first_error})" if first_error else ""
        super().__init__(
            f"failed to {verb} {len(failed)} object(s){why}: {shown}",
            hint=f"{done} other object(s) were transferred; rerun the command to retry the rest",
        )
        self.failed = list(failed)


class CorruptObjectError(PvError):
    def __init__(self, oid: str, where: str = "cache") -> None:
        super().__init__(
            f"object '{oid}' in the {where} is corrupt (its content does not match its hash)",
            hint="run 'pv fsck --repair', or 'pv fetch' to get a good copy",
        )
        self.oid = oid


class CorruptRemoteObjectError(CorruptObjectError):
    """An object read from a remote without a cache copy (``pipever.api.open`` streams) whose
    bytes do not verify; ``why`` says which part (a chunk and its pack, the whole file)."""

    def __init__(self, oid: str, path: str | None, remote: str, why: str) -> None:
        what = f"'{path}' ({oid})" if path else f"'{oid}'"
        PvError.__init__(self, f"object {what} on remote '{remote}' is corrupt: {why}",
                         hint=f"run 'pv fsck -r {remote} --repair' where a good copy is cached, then read it again")
        self.oid = oid


class ObjectNotFoundError(PvError):
    def __init__(self, oid: str, path: str | None = None) -> None:
        what = f"'{path}' ({oid})" if path else f"'{oid}'"
        super().__init__(f"object {what} is not in the cache", hint="run 'pv pull' to fetch it")
        self.oid = oid


class CheckoutConflictError(PvError):
    def __init__(self, paths: Sequence[str]) -> None:
        shown = ", ".join(f"'{p}'" for p in paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")
        super().__init__(
            f"{len(paths)} file(s) changed in the workspace are not in the cache and would be lost: {shown}",
            hint="'pv add'/'pv commit' them to keep them, or rerun with --force to discard the changes",
        )
        self.paths = list(paths)


class RepoLockedError(PvError):
    def __init__(self, pid: int | None, command: str | None) -> None:
        holder = f"process {pid} ('{command}')" if pid else "another pv process"
        super().__init__(
            f"the repository is locked by {holder}",
            hint="wait for it to finish, or rerun with --wait",
        )
        self.pid = pid
        self.command = command


class FileSystemError(PvError):
    """Reading or writing a file failed for a reason outside pipever (``OSError``)."""

    def __init__(self, what: str, exc: OSError, *, path: str | None = None) -> None:
        super().__init__(f"{what}: {exc.strerror or type(exc).__name__}", hint=_os_hint(exc.errno))
        self.path = path
        self.errno = exc.errno


def _os_hint(code: int | None) -> str:
    if code in (errnos.ENOSPC, errnos.EDQUOT, errnos.EFBIG):
        return "free some space (or raise the file size limit) and rerun the command; nothing partial was kept"
    if code in (errnos.EACCES, errnos.EPERM):
        return "check the file's permissions (and those of its directory) and rerun the command"
    if code == errnos.EROFS:
        return "the file system is read-only; use a writable location"
    if code in (errnos.EMFILE, errnos.ENFILE):
        return "raise the open-file limit ('ulimit -n') and rerun the command"
    if code in (errnos.ENOENT, errnos.ENOTDIR, errnos.EISDIR):
        return "it changed while pv was working; rerun the command"
    return "rerun the command; use -v for details"


def os_error_hint(code: int | None) -> str:
    """What to do about an ``OSError`` with errno ``code`` (for the CLI's last-resort mapping)."""
    return _os_hint(code)


class GitError(PvError):
    pass


class RegistryError(PvError):
    pass


class ExperimentError(PvError):
    pass


class ExecutorError(PvError):
    """The cluster that runs stages (``--executor``): unreachable, misconfigured, lost."""

    def __init__(self, message: str, *, address: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.address = address
