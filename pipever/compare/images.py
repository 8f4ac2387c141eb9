"""Image plots (SPEC §8.1): a plots entry that is an image (png, jpg, jpeg, gif, svg) or a folder
of them is shown as the images themselves, one per revision.

In the report each image is inlined as a ``data:`` URI in an ``<img>`` (so the page still opens
offline, and an SVG from a commit cannot run scripts there). Pure: no I/O.
"""

from __future__ import annotations

import base64
import posixpath
from dataclasses import dataclass
from html import escape

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
        ".svg": "image/svg+xml"}


def is_image(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in MIME


def data_uri(path: str, data: bytes) -> str:
    return f"data:{MIME[posixpath.splitext(path)[1].lower()]};base64,{base64.b64encode(data).decode('ascii')}"


def static_name(rev: str, path: str) -> str:
    """The file name DVC gives an image of a revision in its report folder ('static/')."""
    return f"{rev}_{path}".replace("/", "_").replace("\\", "_")


@dataclass(frozen=True)
class ImageShot:
    rev: str
    path: str  # repo-relative
    data: bytes


def figures_html(shots: list[ImageShot]) -> str:
    """The images of one plot, side by side, each captioned with its revision."""
    parts = []
    for shot in shots:
        parts.append(f'<figure class="image"><img alt="{escape(shot.path)} ({escape(shot.rev)})" '
                     f'src="{data_uri(shot.path, shot.data)}" style="max-width: 480px">'
                     f"<figcaption>{escape(shot.rev)}</figcaption></figure>")
    return "".join(parts)
