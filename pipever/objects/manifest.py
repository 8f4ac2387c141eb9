"""Directory manifests: the sorted list of a directory's files; identity from canonical bytes.

Canonical bytes are compact UTF-8 JSON, one object per entry with keys in the fixed order
``path, oid, size, isexec``, entries sorted by path. ``from_bytes`` treats input as untrusted:
every entry path must be a plain relative POSIX path that stays inside the directory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pipever.errors import ManifestError, PathOutsideRepoError
from pipever.objects.hashing import hash_bytes
from pipever.objects.oid import PREFIX, Oid, parse_oid
from pipever.paths import RESERVED, check_relpath

# What check_relpath returns unchanged, told by one match (20k entries per big directory): no
# empty, '.' or '..' part, no NUL or backslash, not absolute ('/', '~', 'C:'); the names it
# reserves are looked for apart (and anything else goes through check_relpath itself).
_PART = r"(?!\.\.?(?:/|\Z))[^/\x00\\]+"
_PLAIN_PATH = re.compile(rf"(?!~)(?!.:){_PART}(?:/{_PART})*", re.DOTALL)
_OID_TEXT = re.compile(r"blake3:[0-9a-f]{64}")
_RESERVED_TOPS = tuple(name + "/" for name in RESERVED)
_KEYS = {"path", "oid", "size", "isexec"}
_encode_str = json.JSONEncoder(ensure_ascii=False).encode  # a JSON string literal, as dumps writes it


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # relative to the directory, POSIX
    oid: Oid
    size: int
    isexec: bool = False


@dataclass(frozen=True, slots=True)
class Manifest:
    entries: tuple[Entry, ...]

    @staticmethod
    def build(entries: Iterable[Entry]) -> Manifest:
        ordered = tuple(sorted(entries, key=lambda e: e.path))
        _check_tree(ordered, "(new)")
        return Manifest(ordered)

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def nfiles(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def by_path(self) -> dict[str, Entry]:
        return {e.path: e for e in self.entries}


def to_bytes(manifest: Manifest) -> bytes:
    """The canonical bytes: what ``json.dumps(entries, ensure_ascii=False, separators=(",", ":"))``
    writes for the list of entry objects, built by formatting (it runs once per file of a
    directory on every add)."""
    quote = _encode_str
    body = ",".join([
        f'{{"path":{quote(e.path)},"oid":"blake3:{e.oid.hex}","size":{e.size:d},"isexec":{"true" if e.isexec else "false"}}}'
        for e in manifest.entries
    ])
    return f"[{body}]".encode("utf-8")


def manifest_oid(manifest: Manifest) -> Oid:
    return hash_bytes(to_bytes(manifest))


def from_bytes(data: bytes, *, what: str = "") -> Manifest:
    """Parse (untrusted) manifest bytes; ManifestError on anything malformed or escaping."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(what, f"not valid JSON ({exc})") from exc
    except RecursionError:  # '[[[[…' from a hostile remote or commit
        raise ManifestError(what, "nested too deeply to be a manifest") from None
    if not isinstance(raw, list):
        raise ManifestError(what, "expected a list of entries")
    entries = []
    plain, oid_text, trusted, skip = _PLAIN_PATH.fullmatch, _OID_TEXT.fullmatch, Oid.trusted, len(PREFIX)
    for item in raw:
        if not isinstance(item, dict) or item.keys() != _KEYS:
            raise ManifestError(what, f"bad entry {item!r}")
        path, text = item["path"], item["oid"]
        low = path.lower() if isinstance(path, str) else ""
        if not (low and plain(path) and ".git" not in low and low not in RESERVED and not low.startswith(_RESERVED_TOPS)):
            try:  # not plainly a normalized path inside: the full check says what is wrong
                path = check_relpath(path)
            except PathOutsideRepoError as exc:
                raise ManifestError(what, f"entry {exc.message}") from exc
        if isinstance(text, str) and oid_text(text):
            oid = trusted(text[skip:])
        else:
            try:
                oid = parse_oid(text)
            except ValueError as exc:
                raise ManifestError(what, str(exc)) from exc
        size, isexec = item["size"], item["isexec"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or not isinstance(isexec, bool):
            raise ManifestError(what, f"bad size or isexec in {item!r}")
        entries.append(Entry(path, oid, size, isexec))
    ordered = tuple(entries)
    if any(a.path >= b.path for a, b in zip(ordered, ordered[1:])):
        raise ManifestError(what, "entries are not sorted and unique")
    _check_tree(ordered, what)
    return Manifest(ordered)


def _check_tree(entries: tuple[Entry, ...], what: str) -> None:
    """No entry may be a parent directory of another (a file 'a' and a file 'a/b')."""
    paths = {e.path for e in entries}
    for e in entries:
        head = e.path
        while "/" in head:
            head = head.rsplit("/", 1)[0]
            if head in paths:
                raise ManifestError(what, f"'{head}' is both a file and a directory")
