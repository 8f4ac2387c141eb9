"""``pv doctor``, ``pv du``, ``pv ls-url`` and ``pv completion``: everyday tools around a repo."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.repo import Repo

SHELLS = ("bash", "zsh", "fish")


def register(app: typer.Typer) -> None:
    app.command("doctor", help="Versions, remote backends, link types, pyfastcdc, cache and remote formats.")(doctor)
    app.command("du", help="Disk usage of a repository's files and tracked data (at a revision).")(du)
    app.command("ls-url", help="List the files at a URL (local path, s3://, ssh://, ...).")(ls_url)
    app.command("completion", help="Print the shell completion script: pv completion bash|zsh|fish.")(completion)


def _repo_or_none() -> Repo | None:
    from pipever.errors import NotARepoError

    try:
        return context.repo()
    except NotARepoError:
        return None


def doctor(as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    from pipever.commands.project.doctor import doctor as do_doctor

    rep = do_doctor(_repo_or_none())
    if as_json:
        render.json_out(rep.as_dict())
        return
    render.out(f"pipever {rep.pipever}")
    render.out(f"Python {rep.python} on {rep.platform}; git {rep.git or 'not found'}")
    render.out("Packages: " + ", ".join(f"{k} {v or 'missing'}" for k, v in rep.packages.items()))
    render.out(f"pyfastcdc: {rep.fastcdc}")
    render.out("Remote backends:")
    for b in rep.backends:
        state = f"installed ({b.module} {b.version})" if b.installed else f"not installed ({b.install})"
        render.out(f"  {b.scheme}: {state}")
    if rep.repo is None:
        render.out("Repository: none here")
        return
    render.out(f"Repository: {rep.repo}")
    render.out(f"Cache: {rep.cache_dir} ({rep.cache_format}; {rep.cache_objects} objects)")
    works = [k for k, ok in rep.link_types.items() if ok]
    render.out("Link types that work here: " + (", ".join(works) or "none"))
    for r in rep.remotes:
        missing = "" if r.installed else " (backend not installed)"
        layout = f", layout option '{r.layout}'" if r.layout else ""
        render.out(f"Remote '{r.name}': {r.scheme}{missing}{layout}; format: {r.format}")


def _du_size(n: int) -> str:
    """Sizes as ``dvc du`` prints them: bytes below 1 KiB, then three significant digits."""
    if n < 1024:
        return str(n)
    size = float(n)
    for unit in ("k", "M", "G", "T", "P"):
        size /= 1024
        if size < 1024 or unit == "P":
            return f"{size:.3g}{unit}" if size < 100 else f"{size:.0f}{unit}"
    return str(n)


def du(
    repo_url: Optional[str] = typer.Argument(None, metavar="[REPO]", help="A local path or Git URL (default: this repository)."),  # noqa: UP007
    path: Optional[str] = typer.Argument(None, metavar="[PATH]", help="A directory or file in it (default: the top)."),  # noqa: UP007
    rev: Optional[str] = typer.Option(None, "--rev", help="Git revision (default: HEAD)."),  # noqa: UP007
    summarize: bool = typer.Option(False, "-s", "--summarize", help="Print only the total."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    from pipever.cli.repos import _default_url, _local_repo
    from pipever.commands.repos.du import du as do_du

    local = _local_repo()
    res = do_du(repo_url or _default_url(), path, rev=rev, summarize=summarize,
                cache_dir=local.cache_dir if local is not None else None)
    for warning in res.warnings:
        render.warn(warning)
    if as_json:
        render.json_out([e.to_json() for e in res.entries])
        return
    sizes = [_du_size(e.size) for e in res.entries]
    width = max(len(s) for s in sizes) + 2
    for e, s in zip(res.entries, sizes):
        render.out((s.ljust(width) + ("" if e.path == "." else e.path)).rstrip())


def ls_url(
    url: str = typer.Argument(..., help="A local path or a URL: s3://bucket/path, ssh://host/path, https://..."),
    recursive: bool = typer.Option(False, "-R", "--recursive", help="List every file below, recursively."),
    size: bool = typer.Option(False, "--size", help="Show sizes."),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Take the options (endpoint_url, profile, ...) of this pv remote."),  # noqa: UP007
    fs_config: Optional[List[str]] = typer.Option(None, "--fs-config", help="An option NAME=VALUE for the URL's backend (repeatable)."),  # noqa: UP006, UP007
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    from pipever.remote.listing import list_url

    options: dict[str, object] = {}
    base_dir = None
    if remote is not None:
        repo = context.repo()
        if remote not in repo.config.remote_names():
            from pipever.errors import RemoteNotFoundError

            raise RemoteNotFoundError(remote)
        options.update({k: v for k, v in repo.config.remote_options(remote).items() if k != "url"})
    for item in fs_config or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise typer.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--fs-config")
        options[key] = value
    entries = list_url(url, options=options, recursive=recursive, base_dir=base_dir)
    if as_json:
        render.json_out([e.to_json() for e in entries])
        return
    if not size:
        for e in entries:
            render.out(e.path)
        return
    sizes = ["" if e.size is None else _du_size(e.size) for e in entries]
    width = max((len(s) for s in sizes), default=0)
    for e, s in zip(entries, sizes):
        render.out(f"{s.rjust(width)}  {e.path}")


def completion(shell: str = typer.Argument(..., metavar="SHELL", help="bash, zsh or fish.")) -> None:
    if shell not in SHELLS:
        raise typer.BadParameter(f"'{shell}' is not one of {', '.join(SHELLS)}", param_hint="SHELL")
    from pipever.cli.app import completion_script

    render.out(completion_script(shell))
