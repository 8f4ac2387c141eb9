"""Entries pv adds to the ``.gitignore`` next to tracked data (``/name``), edited atomically.

A ``.gitignore`` that is a symlink is treated as absent (Git does not follow it either) and
replaced by a regular file: its target is never read nor written."""

from __future__ import annotations

from pathlib import Path

from pipever.fsutil import atomic_write_text
from pipever.paths import parent


def _entry(rel: str) -> tuple[str, str]:
    d = parent(rel)
    name = rel.rsplit("/", 1)[-1]
    escaped = name.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?").replace("[", "\\[")
    stem = escaped.rstrip(" ")  # Git drops trailing spaces unless each is escaped
    return d, "/" + stem + "\\ " * (len(escaped) - len(stem))


def gitignore_rel(rel: str) -> str:
    d = parent(rel)
    return ".gitignore" if d == "." else f"{d}/.gitignore"


def _read(path: Path) -> str:
    """The file's text; a symlink counts as no file, as for Git (>= 2.32), which never follows a
    symlinked ``.gitignore``: its target may be anything, and must not be copied into the repo."""
    if path.is_symlink():
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def add_entry(root: Path, rel: str) -> str | None:
    """Ensure ``/name`` is in the sibling .gitignore; returns that file's repo path if it changed."""
    d, entry = _entry(rel)
    path = root / gitignore_rel(rel)
    text = _read(path)
    if entry in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write_text(path, text + entry + "\n")
    return gitignore_rel(rel)


def remove_entry(root: Path, rel: str) -> str | None:
    """Remove ``/name`` from the sibling .gitignore (deleting the file if it becomes empty)."""
    _d, entry = _entry(rel)
    path = root / gitignore_rel(rel)
    if path.is_symlink() or not path.exists():
        return None
    lines = _read(path).splitlines()
    kept = [ln for ln in lines if ln != entry]
    if len(kept) == len(lines):
        return None
    if any(ln.strip() for ln in kept):
        atomic_write_text(path, "\n".join(kept) + "\n")
    else:
        path.unlink()
    return gitignore_rel(rel)
