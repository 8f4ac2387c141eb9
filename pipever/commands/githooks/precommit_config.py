"""pv's hooks in the pre-commit framework's ``.pre-commit-config.yaml`` (``pv install
--use-pre-commit-tool``).

The hooks are one ``repo: local`` entry with ``language: system`` running ``pv git-hook NAME``
(the ``pv`` on PATH of whoever commits: the file is shared, so no machine's paths go into it). The
entry is appended as a marked text block so the user's comments and layout survive, and
``pv uninstall`` removes exactly that block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipever import yamlio
from pipever.errors import PvError
from pipever.fsutil import atomic_write_text

CONFIG = ".pre-commit-config.yaml"
IDS = ("pv-pre-commit", "pv-pre-push", "pv-post-checkout")
BEGIN = "# pipever hooks (added by 'pv install --use-pre-commit-tool'; 'pv uninstall' removes them)"
END = "# end of pipever hooks"
NAMES = {
    "pre-commit": "pipever data and pipelines are committed",
    "pre-push": "pipever pushes the data the pushed commits need",
    "post-checkout": "pipever checks out the data of the new revision",
}


def _block() -> str:
    lines = [BEGIN, "- repo: local", "  hooks:"]
    for hook, name in NAMES.items():
        lines += [
            f"  - id: pv-{hook}",
            f"    name: {name}",
            f"    entry: pv git-hook {hook}",
            "    language: system",
            f"    stages: [{hook}]",
            "    always_run: true",
            "    pass_filenames: false",
            "    require_serial: true",
        ]
    return "\n".join([*lines, END]) + "\n"


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line for line in text.splitlines(keepends=True))


def _load(text: str) -> dict[str, Any]:
    data = yamlio.load(text, CONFIG) if text.strip() else {}
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("repos") or [], list):
        raise PvError(f"'{CONFIG}' is not a pre-commit config (no 'repos' list)", hint=f"fix '{CONFIG}'")
    return data


def _has_ours(data: dict[str, Any]) -> bool:
    return any(
        isinstance(h, dict) and h.get("id") in IDS
        for r in data.get("repos") or [] if isinstance(r, dict)
        for h in r.get("hooks") or []
    )


def add_hooks(root: Path) -> Path:
    """Append pv's hooks to the config (creating it); no change when they are there already."""
    path = root / CONFIG
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = _load(text)
    if _has_ours(data):
        return path
    if "repos" not in data:
        atomic_write_text(path, text + ("" if not text or text.endswith("\n") else "\n") + "repos:\n" + _block())
        return path
    ours = _load("repos:\n" + _block())["repos"]
    base = text if text.endswith("\n") else text + "\n"
    for indent in (0, 2, 4):  # match the indentation of the existing list items
        candidate = base + _indent(_block(), indent)
        try:
            parsed = _load(candidate)
        except PvError:
            continue
        if parsed.get("repos") == (data["repos"] or []) + ours and {k: v for k, v in parsed.items() if k != "repos"} == {
            k: v for k, v in data.items() if k != "repos"
        }:
            atomic_write_text(path, candidate)
            return path
    raise PvError(
        f"cannot append pv's hooks to '{CONFIG}' ('repos' is not the last block-style list)",
        hint="add this under 'repos:' by hand:\n" + _block(),
    )


def remove_hooks(root: Path) -> bool:
    """Remove the block ``add_hooks`` wrote (and the file, if nothing else is left in it)."""
    path = root / CONFIG
    if not path.exists():
        return False
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [i for i, ln in enumerate(lines) if ln.strip() == BEGIN]
    if not starts:
        return False
    start = starts[0]
    end = next((i for i in range(start, len(lines)) if lines[i].strip() == END), None)
    if end is None:
        return False
    rest = lines[:start] + lines[end + 1:]
    if "".join(rest).strip() in ("", "repos:"):
        path.unlink()
    else:
        atomic_write_text(path, "".join(rest))
    return True
