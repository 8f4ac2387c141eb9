"""The HTML shell of each view: navigation and an empty ``<main>`` that ``static/app.js`` fills
from the view's ``/api/`` JSON. Nothing is loaded from outside the server."""

from __future__ import annotations

from html import escape

VIEWS = {"/": "Overview", "/experiments": "Experiments", "/plots": "Plots", "/pipeline": "Pipeline",
         "/data": "Data", "/registry": "Registry"}
VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")


def page(path: str, *, repo_name: str, action_token: str | None) -> str:
    title = VIEWS[path]
    view = "overview" if path == "/" else path.strip("/")
    current = ' aria-current="page"'
    nav = "".join(f'<a href="{p}"{current if p == path else ""}>{escape(t)}</a>' for p, t in VIEWS.items())
    scripts = [f'<script src="/static/vendor/{name}"></script>' for name in VENDOR] if view == "plots" else []
    meta = f'<meta name="pv-action-token" content="{escape(action_token)}">' if action_token else ""
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', meta,
        f"<title>{escape(title)} · {escape(repo_name)} · pv ui</title>",
        '<link rel="icon" href="data:,">', '<link rel="stylesheet" href="/static/app.css">', *scripts,
        '<script src="/static/app.js" defer></script>', "</head>",
        f'<body data-view="{view}">',
        f'<header><a class="brand" href="/">pv</a><nav>{nav}</nav><span class="repo">{escape(repo_name)}</span></header>',
        '<main id="main"><p class="loading">Loading…</p></main>', "</body>", "</html>", "",
    ])
