"""Commands that read other pv repositories: ls, get, import, update."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from pipever.cli import context, render

if TYPE_CHECKING:
    from pipever.repo import Repo

REV_HELP = "A branch, tag or commit of that repository (default: its default branch)."


def register(app: typer.Typer) -> None:
    app.command("ls", help="List the files of a pv repository (a path or Git URL), marking pv-tracked ones.")(ls)
    app.command("get", help="Download data from another pv repository (its default remote), untracked.")(get)
    app.command("import", help="Download data from another pv repository and track where it came from.")(import_)
    app.command("update", help="Refresh data brought in by 'pv import' or 'pv import-url' from its source.")(update)
    app.command("import-url", help="Download a file or folder from a URL (https, s3, gs, azure...) and track it.")(import_url)
    app.command("get-url", help="Download a file or folder from a URL (https, s3, gs, azure...), untracked.")(get_url)


def _local_repo() -> Repo | None:
    from pipever.errors import NotARepoError

    try:
        return context.repo()
    except NotARepoError:
        return None


def _default_url() -> str:
    from pipever.git import find_git_root

    root = find_git_root(Path.cwd())
    return str(root) if root is not None else "."


def _what(size: int, nfiles: int | None) -> str:
    return (f"{nfiles} files, " if nfiles is not None else "") + render.human_size(size)


def ls(
    repo_url: Optional[str] = typer.Argument(None, metavar="[REPO]", help="A local path or Git URL (default: this repository)."),  # noqa: UP007
    path: Optional[str] = typer.Argument(None, metavar="[PATH]", help="A directory or file in it (default: the top)."),  # noqa: UP007
    rev: Optional[str] = typer.Option(None, "--rev", help=REV_HELP),  # noqa: UP007
    recursive: bool = typer.Option(False, "-R", "--recursive", help="List every file below, recursively."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    from pipever.commands.repos.ls import ls as do_ls

    local = _local_repo()
    res = do_ls(repo_url or _default_url(), path, rev=rev, recursive=recursive,
                cache_dir=local.cache_dir if local is not None else None)
    for warning in res.warnings:
        render.warn(warning)
    if as_json:
        render.json_out([e.to_json() for e in res.entries])
        return
    rows = [(e.path + ("/" if e.isdir else ""), render.human_size(e.size), "pv" if e.isout else "git" if not e.isdir else "")
            for e in res.entries]
    render.table(["Path", "Size", "Tracked by"], rows)


def get(
    repo_url: str = typer.Argument(..., metavar="REPO", help="A local path or Git URL of a pv repository."),
    path: str = typer.Argument(..., help="The file or directory to download, relative to its root."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Where to write it (default: PATH's name here)."),  # noqa: UP007
    rev: Optional[str] = typer.Option(None, "--rev", help=REV_HELP),  # noqa: UP007
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=0, help="Parallel downloads."),  # noqa: UP007
) -> None:
    from pipever.commands.repos.get import get as do_get

    local = _local_repo()
    res = do_get(repo_url, path, out=out, rev=rev, jobs=jobs, cache_dir=local.cache_dir if local is not None else None)
    render.out(f"Downloaded {path} ({_what(res.size, res.nfiles)}) at {res.rev_lock[:10]} to {res.out}")


def import_(
    repo_url: str = typer.Argument(..., metavar="REPO", help="A local path or Git URL of a pv repository."),
    path: str = typer.Argument(..., help="The file or directory to import, relative to its root."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Where to put it (default: PATH's name here)."),  # noqa: UP007
    rev: Optional[str] = typer.Option(None, "--rev", help=REV_HELP),  # noqa: UP007
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=0, help="Parallel downloads."),  # noqa: UP007
) -> None:
    from pipever.commands.repos.imports import import_ as do_import

    imported, staged = do_import(context.repo(), repo_url, path, out=out, rev=rev, jobs=jobs)
    render.out(f"Imported {path} ({_what(imported.size, imported.nfiles)}) from {imported.source.url} "
               f"at {imported.source.rev_lock[:10]} -> {imported.pointer}")
    if staged:
        render.out("Staged in Git: " + " ".join(staged))


def update(
    targets: Optional[List[str]] = typer.Argument(None, help="Import pointer files or their data (default: every import)."),  # noqa: UP006, UP007
    rev: Optional[str] = typer.Option(None, "--rev", help="Move the imports to this revision of their source."),  # noqa: UP007
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=0, help="Parallel downloads."),  # noqa: UP007
    force: bool = typer.Option(False, "-f", "--force", help="Discard local changes to the imported data."),
    to_remote: bool = typer.Option(False, "--to-remote", help="URL imports: stream the new data to a remote, without a cache or workspace copy."),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Remote for --to-remote (default: the default remote)."),  # noqa: UP007
) -> None:
    from pipever.commands.repos.update import update as do_update

    if remote and not to_remote:
        raise typer.BadParameter("-r/--remote needs --to-remote")
    res = do_update(context.repo(), targets or [], rev=rev, jobs=jobs, force=force, to_remote=to_remote, remote=remote)
    for i in res.updated:
        render.out(f"Updated {i.rel} ({_what(i.size, i.nfiles)}) to {i.source.rev_lock[:10]} of {i.source.url}")
    for rel in res.unchanged:
        render.out(f"{rel} is up to date")
    if res.staged:
        render.out("Staged in Git: " + " ".join(res.staged))


def import_url(
    url: str = typer.Argument(..., help="https://, s3://, gs://, azure://... URL of a file or folder."),
    out: Optional[str] = typer.Argument(None, help="Where to put it (default: the URL's name here)."),  # noqa: UP007
    to_remote: bool = typer.Option(False, "--to-remote", help="Stream the data to a remote instead of the cache and workspace (data bigger than the disk)."),
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="Remote for --to-remote (default: the default remote)."),  # noqa: UP007
) -> None:
    if remote and not to_remote:
        raise typer.BadParameter("-r/--remote needs --to-remote")
    if to_remote:
        from pipever.commands.repos.import_url_remote import import_url_to_remote

        imported, staged = import_url_to_remote(context.repo(), url, out, remote=remote)
    else:
        from pipever.commands.repos.import_url import import_url as do_import

        imported, staged = do_import(context.repo(), url, out)
    render.out(f"Imported {imported.rel} ({_what(imported.size, imported.nfiles)}) from {imported.source.url} "
               f"-> {imported.pointer}")
    if staged:
        render.out("Staged in Git: " + " ".join(staged))


def get_url(
    url: str = typer.Argument(..., help="https://, s3://, gs://, azure://... URL of a file or folder."),
    out: Optional[str] = typer.Argument(None, help="Where to write it (default: the URL's name here)."),  # noqa: UP007
) -> None:
    from pipever.commands.repos.import_url import get_url as do_get

    dest = do_get(url, out, repo=_local_repo())
    render.out(f"Downloaded to {dest}")
