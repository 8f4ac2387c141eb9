"""Filesystem primitives: atomic writes, read-only marking, links, removal. Stdlib only."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

from pipever.errors import FileSystemError

TMP_SUFFIX = ".pvtmp"
_TMP_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.pvtmp", re.DOTALL)


NAME_MAX = 255  # bytes in one file name (Linux, macOS; Windows: 255 UTF-16 units)
_TMP_EXTRA = len(".") + len(".0123456789ab") + len(TMP_SUFFIX)


def tmp_name(path: Path) -> Path:
    """A unique temporary sibling of ``path`` (same directory, so rename is atomic). Its name
    never exceeds NAME_MAX (see ``tmp_stem``)."""
    return path.with_name(f".{tmp_stem(path.name)}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}")


def tmp_stem(name: str) -> str:
    """``name`` as the middle of a temp name ``.NAME.<12 chars>.pvtmp``: a long name is cut (at a
    character boundary) so the temp name fits in NAME_MAX bytes."""
    raw = os.fsencode(name)
    if len(raw) + _TMP_EXTRA <= NAME_MAX:
        return name
    cut = raw[:NAME_MAX - _TMP_EXTRA]
    try:
        raw.decode("utf-8")
        return cut.decode("utf-8", "ignore")  # drop a character cut in two
    except UnicodeDecodeError:
        return os.fsdecode(cut)


def atomic_write(path: Path, data: bytes, *, fsync: bool = False, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file and ``os.replace``; FileSystemError naming
    ``path`` when that fails (the temp file is removed)."""
    tmp = tmp_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise FileSystemError(f"cannot write '{path}'", exc, path=str(path)) from exc
        raise


def atomic_write_text(path: Path, text: str, *, fsync: bool = False) -> None:
    atomic_write(path, text.encode("utf-8"), fsync=fsync)


def make_readonly(path: Path | str) -> None:
    mode = os.stat(path).st_mode
    os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def make_writable(path: Path | str) -> None:
    mode = os.stat(path).st_mode
    os.chmod(path, stat.S_IMODE(mode) | stat.S_IWUSR)


def is_executable(mode: int) -> bool:
    return bool(mode & stat.S_IXUSR)


def set_executable(path: Path | str, executable: bool) -> None:
    """Set (x where r is set) or clear every execute bit."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    new = mode | ((mode & 0o444) >> 2) if executable else mode & ~0o111
    if new != mode:
        os.chmod(path, new)


FICLONE = 0x40049409


def reflink(src: Path, dst: Path) -> None:
    """Copy-on-write clone (btrfs, xfs, apfs-like filesystems); OSError where unsupported."""
    import fcntl

    with open(src, "rb") as s:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(fd, FICLONE, s.fileno())
        except OSError:
            os.close(fd)
            os.unlink(dst)
            raise
        os.close(fd)


def copy_file(src: Path, dst: Path) -> None:
    """Copy bytes (kernel-side where possible) into a new file ``dst``."""
    shutil.copyfile(src, dst)


def remove(path: Path) -> None:
    """Remove a file, link or directory tree; missing is fine. Read-only entries are removed too."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        def onerror(func, p, exc):  # type: ignore[no-untyped-def]
            with contextlib.suppress(OSError):
                os.chmod(os.path.dirname(p), 0o755)
            func(p)

        shutil.rmtree(path, onerror=onerror)
    else:
        os.unlink(path)


def remove_empty_parents(path: Path, stop: Path) -> None:
    """Remove empty directories from ``path`` upwards, never ``stop`` itself."""
    cur = path
    while cur != stop and stop in cur.parents:
        try:
            os.rmdir(cur)
        except OSError:
            return
        cur = cur.parent


def is_tmp_name(name: str) -> bool:
    """True for the names ``tmp_name`` makes (what a killed pv process may leave behind)."""
    return name.endswith(TMP_SUFFIX) and _TMP_NAME.fullmatch(name) is not None


def remove_tmp_files(root: Path, *, skip: tuple[Path, ...] = ()) -> int:
    """Delete pv's temp files below ``root`` (not in ``.git`` directories nor in ``skip``), and
    its temp-named directories (a checkout's staging directory holds copies of cache objects
    only); returns how many. For recovery after a pv process was killed while it held the repo
    lock."""
    skipped = {os.path.abspath(p) for p in skip}
    removed = 0
    for dirpath, dirs, files in os.walk(root):
        for name in [d for d in dirs if is_tmp_name(d)]:
            remove(Path(dirpath, name))
            removed += 1
        dirs[:] = [d for d in dirs if d != ".git" and not is_tmp_name(d) and os.path.join(dirpath, d) not in skipped]
        for name in files:
            if is_tmp_name(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
    return removed


def cleanup_tmp_files(directory: Path) -> Iterator[Path]:
    """Yield leftover temp files (from a killed process) below ``directory``, and temp-named
    directories (a cache shard being built, see ``ObjectDB.bulk_writes``) without looking in."""
    for dirpath, dirs, files in os.walk(directory):
        for name in [d for d in dirs if is_tmp_name(d)]:
            yield Path(dirpath) / name
        dirs[:] = [d for d in dirs if not is_tmp_name(d)]
        for name in files:
            if name.endswith(TMP_SUFFIX):
                yield Path(dirpath) / name


def is_enospc(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
