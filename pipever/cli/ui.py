"""``pv ui``: serve the local web dashboard (``pipever.ui``) until Ctrl-C."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from pipever.cli import context, render


def register(app: typer.Typer) -> None:
    app.command("ui", help="Serve a local web dashboard: experiments, plots, pipeline, data, registry.")(ui)


def ui(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (not loopback: a token is required)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port (0: any free port)."),
    no_open: bool = typer.Option(False, "--no-open", help="Do not open a web browser."),
    allow_host: Optional[List[str]] = typer.Option(None, "--allow-host", help="Another Host name to accept (repeatable)."),
    allow_actions: bool = typer.Option(False, "--allow-actions",
                                       help="Let the page queue experiments and promote/roll back models."),
) -> None:
    from pipever.ui.server import make_server

    root = context.repo().root
    context.close_repo()  # each request opens its own
    server = make_server(root, host=host, port=port, allow_hosts=tuple(allow_host or ()),
                         allow_actions=allow_actions, verbose=context.STATE.verbose)
    server.warm_up()
    render.out(f"pv ui: serving {root} at {server.url}")
    render.out("Actions are on: the page can queue experiments and promote or roll back models." if allow_actions
               else "Read-only (start with --allow-actions to queue experiments or promote models). Ctrl-C stops it.")
    sys.stdout.flush()  # a script waiting for the URL sees it now
    if not no_open:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:  # the normal way to stop a server, as 'python -m http.server': exit 0
        render.out("pv ui stopped")
    finally:
        server.server_close()
