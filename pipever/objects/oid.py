"""Object ids: ``blake3:<64 lowercase hex>``."""

from __future__ import annotations

import re
from dataclasses import dataclass

ALGO = "blake3"
PREFIX = ALGO + ":"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Oid:
    hex: str

    def __post_init__(self) -> None:
        if not _HEX64.fullmatch(self.hex):
            raise ValueError(f"not a 64-digit lowercase hex digest: {self.hex!r}")

    def __str__(self) -> str:
        return PREFIX + self.hex

    def __hash__(self) -> int:  # the generated one builds a tuple per call (sets of 20k oids)
        return hash(self.hex)

    @classmethod
    def trusted(cls, hexd: str) -> Oid:
        """An Oid from our own state db, skipping validation (hot path: thousands of files)."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "hex", hexd)
        return obj

    @property
    def shard(self) -> tuple[str, str]:
        """(``xx``, ``rest``): the two path parts below ``<root>/blake3/``."""
        return self.hex[:2], self.hex[2:]

    def relpath(self, *, is_dir: bool = False) -> str:
        """Object path below a cache or remote root: ``blake3/xx/yyyy…[.dir]``."""
        return f"{ALGO}/{self.hex[:2]}/{self.hex[2:]}" + (".dir" if is_dir else "")


def parse_oid(text: object) -> Oid:
    """Parse ``blake3:<hex>``; ValueError with the reason otherwise."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise ValueError(f"oid must look like 'blake3:<64 hex digits>', got {text!r}")
    return Oid(text[len(PREFIX):])


def oid_from_relpath(rel: str) -> tuple[Oid, bool] | None:
    """Inverse of ``Oid.relpath`` for names found on disk or a remote; None when it is no object."""
    parts = rel.split("/")
    if len(parts) != 3 or parts[0] != ALGO or len(parts[1]) != 2:
        return None
    name, is_dir = parts[2], False
    if name.endswith(".dir"):
        name, is_dir = name[:-4], True
    hexd = parts[1] + name
    if not _HEX64.fullmatch(hexd):
        return None
    return Oid(hexd), is_dir
