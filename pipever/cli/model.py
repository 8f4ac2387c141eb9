"""``pv model``: the model registry on Git tags (register, promote, rollback, show, history, get,
deprecate). Each command calls one ``pipever.commands.registry.model*`` function and renders its result."""

from __future__ import annotations

from typing import List, Optional

import typer

from pipever.cli import context, render
from pipever.registry.semver import Bump

PUSH_HELP = "Push the tag to the Git remote 'origin' (and the artifact's data to the default pv remote)."
MESSAGE_HELP = "Message of the annotated tag."


def register(app: typer.Typer) -> None:
    model = typer.Typer(help="Model registry on Git tags: versions, stages, rollbacks.", no_args_is_help=True)
    model.command("register", help="Register a new version of an artifact declared in pv.yaml.")(register_cmd)
    model.command("promote", help="Assign a stage to a version, if its metrics pass the gates.")(promote)
    model.command("rollback", help="Give a stage back to the version that held it before.")(rollback)
    model.command("show", help="Latest version and the version in each stage.")(show)
    model.command("history", help="Every registry event of an artifact.")(history)
    model.command("get", help="Materialize a version of an artifact (from the cache or the remote).")(get)
    model.command("deprecate", help="Deregister a version, or deprecate the whole artifact.")(deprecate)
    app.add_typer(model, name="model")


def _created(res: object) -> None:
    from pipever.commands.registry.model import TagResult

    assert isinstance(res, TagResult)
    for note in res.notes:
        render.warn(note)
    if res.pushed:
        render.out("Pushed to origin: " + " ".join(res.tags))
    else:
        render.out("To share it, run: git push origin " + " ".join(res.tags))


def register_cmd(
    name: str = typer.Argument(..., help="Artifact name (as declared under 'artifacts:' in pv.yaml)."),
    version: Optional[str] = typer.Option(None, "--version", "--ver", help="Version to register, e.g. v1.2.0."),
    bump: Optional[Bump] = typer.Option(None, "--bump", help="Bump the latest version instead (default: patch)."),
    rev: str = typer.Option("HEAD", "--rev", help="Commit holding the version."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help=MESSAGE_HELP),
    push: bool = typer.Option(False, "--push", help=PUSH_HELP),
) -> None:
    from pipever.commands.registry.model import register as do_register

    res = do_register(context.repo(), name, version=version, bump=bump, rev=rev, message=message, push=push)
    render.out(f"Created tag '{res.tags[0]}': registered {name} {res.version} at {res.commit[:7]}")
    _created(res)


def promote(
    name: str = typer.Argument(..., help="Artifact name."),
    version: str = typer.Argument(..., help="Registered version (vX.Y.Z or 'latest')."),
    stage: str = typer.Argument(..., help="Stage to assign, e.g. prod."),
    require: Optional[List[str]] = typer.Option(None, "--require", help="Metric check 'FILE:KEY OP VALUE' (OP: >= > <= < ==); repeatable."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help=MESSAGE_HELP),
    push: bool = typer.Option(False, "--push", help=PUSH_HELP),
) -> None:
    from pipever.commands.registry.model import promote as do_promote

    res = do_promote(context.repo(), name, version, stage, require=require or [], message=message, push=push)
    for check in res.checks:
        render.out(f"  {check.describe()}")
    was = f" (was {res.previous})" if res.previous else ""
    render.out(f"Created tag '{res.tags[0]}': {name} {res.version} is now in '{stage}'{was}")
    _created(res)


def rollback(
    name: str = typer.Argument(..., help="Artifact name."),
    stage: str = typer.Argument(..., help="Stage to roll back."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help=MESSAGE_HELP),
    push: bool = typer.Option(False, "--push", help=PUSH_HELP),
) -> None:
    from pipever.commands.registry.model import rollback as do_rollback

    res = do_rollback(context.repo(), name, stage, message=message, push=push)
    render.out(f"Rolled back '{stage}' of {name} from {res.previous} to {res.version} "
               f"(tags '{res.tags[0]}', '{res.tags[1]}')")
    _created(res)


def deprecate(
    name: str = typer.Argument(..., help="Artifact name."),
    version: Optional[str] = typer.Argument(None, help="Version to deregister (omit to deprecate the artifact)."),
    message: Optional[str] = typer.Option(None, "-m", "--message", help=MESSAGE_HELP),
    push: bool = typer.Option(False, "--push", help="Push the tag to the Git remote 'origin'."),
) -> None:
    from pipever.commands.registry.model import deprecate as do_deprecate

    res = do_deprecate(context.repo(), name, version, message=message, push=push)
    what = f"deregistered {name} {res.version}" if res.version else f"deprecated {name}"
    render.out(f"Created tag '{res.tags[0]}': {what}")
    _created(res)


def show(
    name: Optional[str] = typer.Argument(None, help="Artifact (default: all of them)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
) -> None:
    from pipever.commands.registry.model import show as do_show

    arts = do_show(context.repo(), name)
    if as_json:
        from pipever.registry import gto_json

        render.json_out(gto_json.versions(arts[name]) if name is not None else gto_json.registry(arts))
        return
    if name is not None:
        art = arts[name]
        rows = [[v.version if v.registered else v.commit[:7], ", ".join(v.stages), v.commit[:7],
                 v.event.date, v.event.author, "" if v.active else "deprecated"] for v in art.versions]
        render.table(["version", "stages", "commit", "created", "author", "status"], rows, md=md)
        return
    stages = sorted({s for a in arts.values() for s in a.stages})
    table: list[list[object]] = [[n + (" (deprecated)" if a.deprecated else ""), a.latest.version if a.latest else None,
                                  *(a.stages.get(s) for s in stages)] for n, a in arts.items()]
    if not table and not md:
        render.out("No artifacts are registered yet.")
        return
    render.table(["name", "latest", *(f"#{s}" for s in stages)], table, md=md)


def history(
    name: str = typer.Argument(..., help="Artifact name."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    md: bool = typer.Option(False, "--md", help="Print a Markdown table."),
) -> None:
    from pipever.commands.registry.model import history as do_history

    events = do_history(context.repo(), name)
    if as_json:
        from pipever.registry import gto_json

        render.json_out(gto_json.history(events))
        return
    rows = [[e.date, e.action.value, e.version, e.stage, e.tag, e.author, e.commit[:7],
             e.message.splitlines()[0] if e.message else ""] for e in events]
    render.table(["time", "event", "version", "stage", "tag", "author", "commit", "message"], rows, md=md)


def get(
    name: str = typer.Argument(..., help="Artifact name."),
    version: Optional[str] = typer.Option(None, "--version", "--ver", help="Version (default: the latest)."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Take the version in this stage."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Where to write it (default: its file name here)."),
    force: bool = typer.Option(False, "-f", "--force", help="Replace OUT if it exists."),
    repo_url: Optional[str] = typer.Option(None, "--repo", help="Another repository (local path or Git URL) whose registry to read."),
) -> None:
    if repo_url is not None:
        from pipever.cli.repos import _local_repo
        from pipever.commands.registry.model_remote import get_from_repo

        local = _local_repo()
        res = get_from_repo(repo_url, name, version=version, stage=stage, out=out, force=force,
                            cache_dir=local.cache_dir if local is not None else None, progress=render.progress())
    else:
        from pipever.commands.registry.model_get import get as do_get

        res = do_get(context.repo(), name, version=version, stage=stage, out=out, force=force, progress=render.progress())
    what = f"{res.nfiles} files, " if res.is_dir else ""
    render.out(f"Got {name} {res.version} -> {res.out} ({what}{render.human_size(res.size)})")
