"""The vendored Vega, Vega-Lite and vega-embed scripts (``pipever/ui/static/vendor``), shared by
the ``pv plots`` reports (inlined) and ``pv ui`` (served). They ship inside the package, so charts
draw offline; nothing is fetched from a CDN."""

from __future__ import annotations

import functools
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent.parent / "ui" / "static" / "vendor"
SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")  # in load order
SOURCE_MAP = "//# sourceMappingURL="


@functools.lru_cache(maxsize=None)
def script(name: str) -> str:
    """One vendored script's text, without its source map comment (the maps are not shipped)."""
    if name not in SCRIPTS:
        raise KeyError(name)
    text = (VENDOR_DIR / name).read_text(encoding="utf-8")
    cut = text.rfind(SOURCE_MAP)
    return text[:cut].rstrip() + "\n" if cut != -1 else text


def vega_scripts() -> list[str]:
    """vega, vega-lite and vega-embed, in the order a page loads them."""
    return [script(name) for name in SCRIPTS]
