"""``.pvignore``: gitignore-syntax files, at the root or in any directory, that leave paths out of
tracked directories. pathspec is imported only when a ``.pvignore`` file exists."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipever.errors import SchemaError
from pipever.paths import read_inside

NAME = ".pvignore"


@dataclass(frozen=True)
class Match:
    source: str  # repo-relative .pvignore path
    line: int
    pattern: str
    negated: bool


class PvIgnore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[str, list[tuple[int, str, Any]] | None] = {}
        self._applies: dict[str, bool] = {}

    def _patterns(self, d: str) -> list[tuple[int, str, Any]] | None:
        if d not in self._specs:
            rel = f"{d}/{NAME}" if d != "." else NAME
            # a commit's .pvignore may be a symlink: read only when it stays in the work tree
            data = read_inside(self.root, rel) if os.path.lexists(self.root / rel) else None
            if data is None:
                self._specs[d] = None
            else:
                from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    raise SchemaError(rel, "not UTF-8 text") from None
                pats = []
                for i, line in enumerate(text.splitlines(), 1):
                    if line.strip() and not line.startswith("#"):
                        p = GitIgnoreSpecPattern(line)
                        if p.include is not None:
                            pats.append((i, line, p))
                self._specs[d] = pats
        return self._specs[d]

    def explain(self, rel: str, is_dir: bool) -> Match | None:
        """The last pattern deciding ``rel`` (repo-relative), across every applicable .pvignore;
        the result decides whether the path is ignored (not negated) or not."""
        parts = rel.split("/")
        decision: Match | None = None
        # a path is also ignored when one of its parent directories is
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            sub_is_dir = is_dir if depth == len(parts) else True
            for k in range(depth):
                d = "/".join(parts[:k]) or "."
                pats = self._patterns(d)
                if not pats:
                    continue
                relative = "/".join(parts[k:depth]) + ("/" if sub_is_dir else "")
                for line_no, text, pat in pats:
                    if pat.match_file(relative) is not None:
                        src = NAME if d == "." else f"{d}/{NAME}"
                        decision = Match(src, line_no, text, not pat.include)
            if decision is not None and not decision.negated and depth < len(parts):
                return decision
        return decision

    def applies_below(self, rel_dir: str) -> bool:
        """False when no .pvignore in ``rel_dir`` or its ancestors has patterns (fast path)."""
        hit = self._applies.get(rel_dir)
        if hit is None:
            parts = [] if rel_dir in ("", ".") else rel_dir.split("/")
            dirs = ["."] + ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
            hit = self._applies[rel_dir] = any(self._patterns(d) for d in dirs)
        return hit

    def __call__(self, rel: str, is_dir: bool) -> bool:
        m = self.explain(rel, is_dir)
        return m is not None and not m.negated


def has_any(root: Path) -> bool:
    return os.path.exists(root / NAME)
