"""Repo-relative POSIX paths, and the checks that keep untrusted paths inside the work tree.

Paths that come from pointer files, manifests, ``pv.yaml`` or ``pv.lock`` may have been written by
anyone: ``check_relpath`` accepts only plain relative POSIX paths that stay below the root and do
not enter ``.git`` or ``.pv``. ``check_physical`` additionally refuses to go through a symlinked
parent directory, so a crafted symlink cannot redirect a write outside the repository.
``read_inside`` reads a file a commit names (a pointer, ``pv.yaml``, params, metrics) only when,
with every symlink on the way resolved, it is still in the work tree and not in ``.git``/``.pv``:
a committed symlink cannot make pv read (and then print or record) a file from elsewhere.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

from pipever.errors import FileNameError, PathOutsideRepoError, escaped

RESERVED = (".git", ".pv")


def check_utf8(paths: list[str]) -> None:
    """FileNameError naming the first of ``paths`` (as read from disk) that is not valid UTF-8:
    manifests and pointers record names as UTF-8 (SPEC §4). One encode for the whole list."""
    try:
        "\0".join(paths).encode("utf-8")
    except UnicodeEncodeError:
        for p in paths:
            try:
                p.encode("utf-8")
            except UnicodeEncodeError:
                raise FileNameError(p, f"file name '{escaped(p)}' is not valid UTF-8",
                                    hint="rename it (pv records names as UTF-8)") from None


def check_relpath(path: object, *, source: str | None = None, allow_root: bool = False) -> str:
    """Validate an untrusted repo-relative POSIX path and return it normalized."""
    if not isinstance(path, str):
        raise PathOutsideRepoError(str(path), reason="is not a string", source=source)
    if path in ("", ".") and not allow_root:
        raise PathOutsideRepoError(path, reason="is empty", source=source)
    if "\x00" in path or "\\" in path:
        raise PathOutsideRepoError(path.replace("\x00", "\\0"), reason="contains a NUL byte or a backslash", source=source)
    if path.startswith(("/", "~")) or (len(path) >= 2 and path[1] == ":"):
        raise PathOutsideRepoError(path, reason="is absolute", source=source)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts:
        if allow_root:
            return "."
        raise PathOutsideRepoError(path, reason="is empty", source=source)
    if parts[0].startswith("~") or (len(parts[0]) >= 2 and parts[0][1] == ":"):  # './~/x' is '~/x'
        raise PathOutsideRepoError(path, reason="is absolute", source=source)
    for part in parts:
        if part == "..":
            raise PathOutsideRepoError(path, reason="contains '..'", source=source)
        if part.lower() in RESERVED and (part.lower() == ".git" or part is parts[0]):
            raise PathOutsideRepoError(path, reason=f"points into '{part}'", source=source)
    return "/".join(parts)


def join(base: str, rel: str) -> str:
    """Join repo-relative ``base`` (a directory, '.' for the root) and a relative path."""
    return rel if base in ("", ".") else f"{base}/{rel}"


def parent(rel: str) -> str:
    head = posixpath.dirname(rel)
    return head or "."


def is_inside(path: str, directory: str) -> bool:
    """True when repo-relative ``path`` equals ``directory`` or lies below it."""
    return directory in ("", ".") or path == directory or path.startswith(directory + "/")


def to_repo_path(root: Path, arg: str | os.PathLike[str], *, cwd: Path | None = None) -> str:
    """Turn a user-given path (absolute, or relative to cwd) into a checked repo-relative path."""
    base = cwd if cwd is not None else Path.cwd()
    full = Path(os.path.abspath(base / Path(arg)))
    try:
        rel = full.relative_to(root)
    except ValueError:
        raise PathOutsideRepoError(str(arg)) from None
    rel_posix = rel.as_posix()
    if rel_posix == ".":
        raise PathOutsideRepoError(str(arg), reason="is the repository root")
    return check_relpath(rel_posix)


def cwd_target(root: Path, arg: str) -> str:
    """A path the user gave as a target, repo-relative: relative to the current directory when
    that is below ``root`` (as DVC's targets), else to ``root`` itself (not checked further)."""
    cwd = Path(os.path.abspath(os.curdir))
    if cwd != root and cwd.is_relative_to(root):
        try:
            return to_repo_path(root, arg)
        except PathOutsideRepoError:
            pass
    return arg.rstrip("/").removeprefix("./")


def check_physical(root: Path, rel: str, *, checked: set[str] | None = None) -> Path:
    """Refuse ``rel`` when one of its parent directories is a symlink or not a directory.

    ``checked`` caches parents already known to be real directories (checkout of many files).
    """
    parts = rel.split("/")
    cur = ""
    for part in parts[:-1]:
        cur = f"{cur}/{part}" if cur else part
        if checked is not None and cur in checked:
            continue
        try:
            st = os.lstat(root / cur)
        except FileNotFoundError:
            break
        if stat.S_ISLNK(st.st_mode):
            raise PathOutsideRepoError(rel, reason=f"goes through the symlink '{cur}'")
        if not stat.S_ISDIR(st.st_mode):
            raise PathOutsideRepoError(rel, reason=f"has the non-directory '{cur}' as a parent")
        if checked is not None:
            checked.add(cur)
    return root / rel


def resolve_inside(root: Path, rel: str) -> Path:
    """``root / rel``; PathOutsideRepoError when symlinks (of parents or of the file itself) take
    it out of the work tree or into ``.git``/``.pv``. Symlinks that stay inside are fine."""
    full = root / rel
    real = os.path.realpath(full)
    real_root = os.path.realpath(root)
    inside = real == real_root or real.startswith(real_root + os.sep)
    parts = os.path.relpath(real, real_root).split(os.sep) if inside else []
    if inside and not any(p.lower() == ".git" or (i == 0 and p.lower() in RESERVED) for i, p in enumerate(parts)):
        return full
    cur = ""
    for part in rel.split("/")[:-1]:  # name the symlink that leads away
        cur = f"{cur}/{part}" if cur else part
        if os.path.islink(root / cur):
            raise PathOutsideRepoError(rel, reason=f"goes through the symlink '{cur}' (to '{real}')")
    raise PathOutsideRepoError(rel, reason=f"is a symlink to '{real}', outside the work tree")


def read_inside(root: Path, rel: str) -> bytes | None:
    """Bytes of the work-tree file ``rel`` (None when it does not exist), read only when it
    resolves inside the work tree (``resolve_inside``)."""
    full = resolve_inside(root, rel)
    try:
        return full.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
