"""What ``pv migrate dvc`` will do, found without changing anything: DVC's files, its config
translated for pv, and where every object the migration needs can be read from.

Data in neither DVC's cache, the workspace nor the DVC remote is ``missing``; the CLI stops there
(nothing changed) unless ``--allow-missing``, which keeps the ``.dvc`` files of such data as they
are and drops the lock entries of stages whose outputs are missing (pv runs those again).
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipever.errors import PvError, SchemaError
from pipever.commands.migrate import dvcconfig, dvcfiles
from pipever.commands.migrate.dvcfiles import DvcFile, Hashed, LockEntry
from pipever.commands.migrate.dvcobjects import DirEntry
from pipever.commands.migrate.sources import DvcObjects, Failure, ObjectNotAvailable
from pipever.paths import check_relpath, join
from pipever.pipeline.stage import Stage

if TYPE_CHECKING:
    from pipever.remote.dvclayout import DvcRemote

DVC_DIR = ".dvc"
PIPELINE = "dvc.yaml"
LOCK = "dvc.lock"
IGNORE = ".dvcignore"


class NotADvcRepoError(PvError):
    def __init__(self, where: str) -> None:
        super().__init__(f"'{where}' is not a DVC repository (no .dvc directory, .dvc files or dvc.yaml)",
                         hint="run 'pv migrate dvc' at the root of the Git work tree of a DVC project")


class MissingDataError(PvError):
    """Data the migration needs is in neither DVC's cache, the workspace nor the DVC remote."""

    def __init__(self, failures: list[Failure], *, remote: str | None, changed: bool = False) -> None:
        shown = "; ".join(f"{f.what} (md5 {f.md5}: {f.reason})" for f in failures[:5])
        more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
        fix = "run 'dvc fetch' or 'dvc push' where the data is" + (
            "" if remote else ", or name the DVC remote that has it with --remote")
        what = "DVC's files were left as they are" if changed else "nothing was changed"
        super().__init__(f"{len(failures)} object(s) cannot be migrated, {what}: {shown}{more}",
                         hint=f"{fix}, or rerun with --allow-missing to leave their .dvc files as they are")
        self.failures = failures


@dataclass(frozen=True)
class Need:
    """One DVC object the migration reads."""

    md5: str
    is_dir: bool
    legacy: bool
    what: str  # repo path of the data
    owner: str  # the .dvc file, or 'dvc.yaml:STAGE'

    @property
    def key(self) -> tuple[str, bool, bool]:
        return (self.md5, self.is_dir, self.legacy)


@dataclass
class Pipeline:
    yaml_rel: str  # repo-relative dvc.yaml (or None when only its lock is left: a rerun)
    lock_rel: str | None
    text: str | None
    lock: dict[str, LockEntry] = field(default_factory=dict)
    stages: dict[str, Stage] = field(default_factory=dict)  # of dvc.yaml, loaded as pv.yaml

    @property
    def dir(self) -> str:
        return posixpath.dirname(self.yaml_rel) or "."

    def owner(self, stage: str) -> str:
        return f"{self.yaml_rel}:{stage}"


@dataclass
class MigrationPlan:
    root: Path
    dvcfiles: list[DvcFile] = field(default_factory=list)  # to migrate
    pipelines: list[Pipeline] = field(default_factory=list)
    ignores: list[str] = field(default_factory=list)  # .dvcignore files
    config: dvcconfig.Translated = field(default_factory=dvcconfig.Translated)
    dvc_cache: Path = Path()
    remote: str | None = None  # the DVC remote data may come from
    remote_display: str | None = None
    needs: list[Need] = field(default_factory=list)
    dirs: dict[tuple[str, bool], list[DirEntry]] = field(default_factory=dict)  # (md5, legacy) -> entries
    missing: list[Failure] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # DVC files left as they are, and why
    dropped_stages: list[str] = field(default_factory=list)  # 'dvc.yaml:STAGE' whose lock entry is dropped
    leftovers: list[str] = field(default_factory=list)  # DVC files whose pv counterpart exists (a rerun)
    objects: DvcObjects | None = None

    def dvc_paths(self) -> list[str]:
        """DVC's files that the migration replaces (removed unless --keep-dvc)."""
        kept = {k for k, _ in self.kept}
        paths = [d.rel for d in self.dvcfiles if d.rel not in kept]
        paths += self.ignores
        paths += [p.yaml_rel for p in self.pipelines if p.text is not None]
        paths += [p.lock_rel for p in self.pipelines if p.lock_rel]
        return [*paths, *self.leftovers]


def list_files(root: Path) -> list[str]:
    """Files of the work tree Git knows or would add (tracked, and untracked but not ignored)."""
    from pipever.git import Git

    out = Git(root).run("ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p})


def _read(root: Path, rel: str) -> str:
    from pipever.paths import read_inside

    data = read_inside(root, rel)
    if data is None:
        raise SchemaError(rel, "cannot be read")
    return data.decode("utf-8")


def _is_dvc_name(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return (name.endswith(".dvc") and name != ".dvc") or name in (PIPELINE, LOCK, IGNORE)


def make_plan(root: Path, *, remote: str | None = None, allow_missing: bool = False) -> MigrationPlan:
    """Read the DVC repository at ``root`` (a Git work tree) and decide what to migrate."""
    files = [f for f in list_files(root) if _is_dvc_name(f) and not f.startswith((".dvc/", ".git/", ".pv/"))
             and (root / f).is_file()]
    dvc_dir = root / DVC_DIR
    if not files and not (dvc_dir / "config").is_file():
        raise NotADvcRepoError(str(root))
    plan = MigrationPlan(root)
    conf_files = [(f".dvc/{n}", (dvc_dir / n).read_text(encoding="utf-8"))
                  for n in ("config", "config.local") if (dvc_dir / n).is_file() and not (dvc_dir / n).is_symlink()]
    conf = dvcconfig.merged(conf_files)
    parts = {name: dvcconfig.parse(text, name) for name, text in conf_files}
    plan.config = dvcconfig.translate(conf, root=str(root), committed=parts.get(".dvc/config"),
                                      local=parts.get(".dvc/config.local"))
    cache_dir = conf.get("cache", {}).get("dir")
    plan.dvc_cache = (dvc_dir / os.path.expanduser(str(cache_dir))).resolve() if cache_dir else dvc_dir / "cache"
    plan.objects = DvcObjects(root, plan.dvc_cache, _open_remote(plan, conf, remote))
    _read_files(plan, files)
    _collect_needs(plan, allow_missing=allow_missing)
    return plan


def _open_remote(plan: MigrationPlan, conf: dict[str, dict[str, object]], name: str | None) -> DvcRemote | None:
    """The DVC remote to read missing data from (``name``, or DVC's default); None if there is none."""
    from pipever.remote.dvclayout import open_dvc_remote

    confs = dvcconfig.remotes(conf)
    chosen = name or conf.get("core", {}).get("remote")
    if not chosen:
        return None
    if chosen not in confs:
        raise PvError(f"DVC remote '{chosen}' is not in .dvc/config",
                      hint="name one of " + (", ".join(sorted(confs)) or "(none configured)") + " with --remote")
    assert isinstance(chosen, str)
    url = dvcconfig.pv_url(dvcconfig.resolve_url(chosen, confs))
    prefix = f"remote.{chosen}."
    options = {k[len(prefix):]: v for level in (plan.config.repo, plan.config.local) for k, v in level.items()
               if k.startswith(prefix) and k != prefix + "url"}
    try:
        rem = open_dvc_remote(chosen, url, options, base_dir=str(plan.root))
    except PvError as exc:  # e.g. a scheme pv has no backend for: the cache may have everything
        plan.config.notes.append(f"DVC remote '{chosen}' cannot be read by pv ({exc.message}): data is taken "
                                 "from DVC's cache and the workspace only")
        return None
    plan.remote, plan.remote_display = chosen, rem.display
    return rem


def _read_files(plan: MigrationPlan, files: list[str]) -> None:
    root = plan.root
    pipelines: dict[str, Pipeline] = {}
    for rel in files:
        name = rel.rsplit("/", 1)[-1]
        if name == IGNORE:
            plan.ignores.append(rel)
        elif name in (PIPELINE, LOCK):
            d = posixpath.dirname(rel)
            p = pipelines.setdefault(d, Pipeline(join(d, PIPELINE) if d else PIPELINE, None, None))
            if name == PIPELINE:
                p.text = _read(root, rel)
            else:
                p.lock_rel = rel
                p.lock = dvcfiles.parse_lock(_read(root, rel), rel)
        else:
            dvcfile = dvcfiles.parse_dvcfile(_read(root, rel), rel)
            if dvcfile.cmd is not None:
                plan.kept.append((rel, "a DVC 1 stage file: move its stage into dvc.yaml with DVC first"))
            elif any(not o.cache for o in dvcfile.outs):
                plan.kept.append((rel, "an out with 'cache: false' (pv tracks cached data only)"))
            elif any(o.md5 is None for o in dvcfile.outs):
                plan.kept.append((rel, "no md5 recorded (run 'dvc commit' or 'dvc update' first)"))
            plan.dvcfiles.append(dvcfile)
    for d, p in sorted(pipelines.items()):
        pv_yaml = root / (join(d, "pv.yaml") if d else "pv.yaml")
        if p.text is not None and pv_yaml.is_file() and pv_yaml.read_text(encoding="utf-8") != p.text:
            raise PvError(f"'{pv_yaml.relative_to(root).as_posix()}' already exists and differs from '{p.yaml_rel}'",
                          hint="merge the two pipelines into dvc.yaml (or remove pv.yaml), then rerun")
        if p.text is None:
            if (root / (join(d, "pv.yaml") if d else "pv.yaml")).exists():
                plan.leftovers.append(p.lock_rel or "")  # a rerun: dvc.yaml is already pv.yaml
                continue
            plan.kept.append((p.lock_rel or "", "a dvc.lock without its dvc.yaml"))
            continue
        plan.pipelines.append(p)


def _needs_of_out(plan: MigrationPlan, out: Hashed, rel: str, owner: str) -> None:
    if out.md5 is not None and out.cache:
        plan.needs.append(Need(out.md5, out.is_dir, out.legacy, rel, owner))


def lock_rel(p: Pipeline, entry_path: str, wdir: str) -> str:
    """A dvc.lock path (relative to the stage's wdir) as a repo-relative path."""
    return check_relpath(posixpath.normpath(posixpath.join(wdir, entry_path)), source=p.lock_rel)


def load_stages(plan: MigrationPlan, p: Pipeline) -> dict[str, Stage]:
    """The stages of ``p``'s dvc.yaml, loaded as pv loads it as pv.yaml (repo-relative paths)."""
    from pipever.pipeline.schema import load_pipeline

    def read(rel: str) -> str | None:
        from pipever.paths import read_inside

        data = read_inside(plan.root, rel)
        return None if data is None else data.decode("utf-8")

    assert p.text is not None
    pv_yaml = join(p.dir, "pv.yaml") if p.dir != "." else "pv.yaml"
    try:
        loaded = load_pipeline(p.text, pv_yaml, read_file=read)
    except SchemaError as exc:
        raise SchemaError(p.yaml_rel, exc.message.split(": ", 1)[-1], line=exc.line,
                          hint="pv reads dvc.yaml as pv.yaml; fix it (or report what pv should accept)") from exc
    return dict(loaded.stages)


def _collect_needs(plan: MigrationPlan, *, allow_missing: bool) -> None:
    objects = plan.objects
    assert objects is not None
    kept = {k for k, _ in plan.kept}
    for d in plan.dvcfiles:
        if d.rel in kept:
            continue
        for out in d.outs:
            _needs_of_out(plan, out, d.out_rel(out), d.rel)
    for p in plan.pipelines:
        p.stages = load_stages(plan, p)
        for name, entry in p.lock.items():
            stage = p.stages.get(name)
            if stage is None:
                continue
            cached = {o.path for o in stage.all_outs if o.cache}
            for out in entry.outs:
                if not dvcfiles.is_url(out.path):
                    rel = lock_rel(p, out.path, stage.wdir)
                    if rel in cached:
                        _needs_of_out(plan, out, rel, p.owner(name))
    # directories first: their manifests say which files are needed
    objects.check_remote([n.key for n in plan.needs if n.is_dir and objects.cache_path(n.md5, is_dir=True, legacy=n.legacy) is None])
    files: list[Need] = []
    dirs = [n for n in plan.needs if n.is_dir]
    for n in list(plan.needs):
        if not n.is_dir:
            files.append(n)
            continue
        entries = plan.dirs.get((n.md5, n.legacy))
        if entries is None:
            try:
                entries = objects.read_dir(n.md5, legacy=n.legacy, what=n.what)
            except ObjectNotAvailable as exc:
                entries = objects.workspace_dir(n.what, n.md5)
                if entries is None:
                    plan.missing.append(exc.failure)
                    continue
            plan.dirs[(n.md5, n.legacy)] = entries
        files += [Need(e.md5, False, n.legacy, f"{n.what}/{e.relpath}", n.owner) for e in entries]
    objects.check_remote([n.key for n in files if objects.cache_path(n.md5, is_dir=False, legacy=n.legacy) is None
                          and objects.workspace_file(n.what) is None])
    for n in files:
        if not objects.available(n.md5, is_dir=False, legacy=n.legacy, workspace=n.what):
            plan.missing.append(Failure(n.what, n.md5))
    plan.needs = list(dict.fromkeys([*dirs, *files]))
    if plan.missing and allow_missing:
        _leave_out_missing(plan)


def _leave_out_missing(plan: MigrationPlan) -> None:
    missing = {f.what for f in plan.missing}  # a file, or a directory whose manifest is missing
    owners = {n.owner for n in plan.needs if n.what in missing}
    for d in plan.dvcfiles:
        if d.rel in owners and d.rel not in {k for k, _ in plan.kept}:
            plan.kept.append((d.rel, "its data is missing"))
    plan.dropped_stages = sorted(o for o in owners if ":" in o)
    plan.needs = [n for n in plan.needs if n.owner not in owners]
