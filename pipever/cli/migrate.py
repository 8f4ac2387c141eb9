"""``pv migrate dvc``: turn a DVC repository into a pipever one (SPEC §15)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipever.cli import context, render


def register(app: typer.Typer) -> None:
    migrate = typer.Typer(help="Move a repository from another tool to pipever.", no_args_is_help=True)
    migrate.command("dvc", help="Turn this DVC repository into a pipever one: data, pipelines, lock, remotes.")(dvc)
    app.add_typer(migrate, name="migrate")


def dvc(
    remote: Optional[str] = typer.Option(None, "-r", "--remote", help="The DVC remote to read missing data from (default: DVC's default remote)."),  # noqa: UP007
    pv_remote: Optional[str] = typer.Option(None, "--pv-remote", help="Push the migrated data to this pv remote."),  # noqa: UP007
    keep_dvc: bool = typer.Option(False, "--keep-dvc", help="Leave DVC's files in place (both tools side by side)."),
    dry: bool = typer.Option(False, "--dry", help="Print what would be done; change nothing."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Leave the .dvc files of data found nowhere as they are, migrate the rest."),
) -> None:
    from pipever.commands.migrate.dvc import migrate_dvc
    from pipever.commands.migrate.plan import MissingDataError

    res = migrate_dvc(Path.cwd(), remote=remote, pv_remote=pv_remote, keep_dvc=keep_dvc, dry=dry,
                      allow_missing=allow_missing, wait=context.STATE.wait, progress=render.progress())
    would = "Would migrate" if res.dry else "Migrated"
    for rel in res.pointers:
        render.out(f"{would} {rel[:-3]}.dvc -> {rel}")
    for rel in res.pipelines:
        render.out(f"{would} {rel[:-len('pv.yaml')]}dvc.yaml -> {rel}")
    for rel in res.locks:
        render.out(f"{would} {rel[:-len('pv.lock')]}dvc.lock -> {rel}")
    for rel in res.ignores:
        render.out(f"{would} {rel[:-len('.pvignore')]}.dvcignore -> {rel}")
    source = f", {res.from_remote} from DVC's remote" if res.from_remote else ""
    verb = "Would copy" if res.dry else "Copied"
    size = "" if res.dry else f" ({render.human_size(res.bytes)})"
    render.out(f"{verb} {res.objects} file(s){size} into pv's cache, each checked against its DVC md5{source}")
    if res.config_repo:
        render.out(("Would set" if res.dry else "Set") + " in .pv/config.yaml: " + ", ".join(res.config_repo))
    if res.config_local:
        render.out(("Would set" if res.dry else "Set") + " in .pv/config.local.yaml (pv honours these only from "
                   "local config: credentials, key files, a cache outside the work tree): " + ", ".join(res.config_local))
    for note in res.notes:
        render.warn(note)
    for stage in res.rerun_stages:
        render.warn(f"no pv.lock entry for {stage}: 'pv repro' will run it")
    for failure in res.missing:
        render.warn(f"not migrated: {failure.what} (md5 {failure.md5}: {failure.reason})")
    for rel, why in res.kept:
        render.warn(f"left as it is: {rel} ({why})")
    if res.removed:
        render.out(("Would remove" if res.dry else "Removed") + " DVC's files: " + " ".join(res.removed))
    if res.dvc_cache_left:
        render.out(f"DVC's cache is left in {res.dvc_cache_left} (it may hold data of other revisions): "
                   "delete it when you no longer need DVC")
    if res.staged:
        render.out("Staged in Git (nothing committed): review with 'git status', then 'git commit'")
    if res.pushed is not None:
        render.out(f"Pushed {res.pushed} object(s) to pv remote '{res.pv_remote}'")
    if res.dry and res.missing and not allow_missing:
        raise MissingDataError(res.missing, remote=remote)
