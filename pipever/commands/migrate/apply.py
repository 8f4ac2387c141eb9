"""Carry out a ``MigrationPlan`` with pv's own services: ``pv init``, the config, objects verified
into pv's cache, pointers, ``pv.yaml``/``pv.lock``, ``.pvignore`` and ``.gitignore`` entries, a
checkout of data the workspace lacks, Git staging, and ``pv push`` with ``--pv-remote``.

Every step can run again: a migration interrupted half-way is completed by the next run (objects
already in pv's cache are not copied again, files pv already wrote are rewritten to the same
text). DVC's files are removed last: first from Git's index (with everything pv wrote staged in
the same step), then from the work tree, pointers first and ``dvc.lock`` after ``dvc.yaml``.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from blake3 import blake3

from pipever import fsutil
from pipever.data import gitignore
from pipever.data import pointer as ptr
from pipever.commands.migrate import dvcfiles
from pipever.commands.migrate.dvcfiles import DvcFile, Hashed
from pipever.commands.migrate.dvcobjects import hash_path
from pipever.commands.migrate.plan import MigrationPlan, Need, Pipeline, lock_rel
from pipever.commands.migrate.sources import Failure, Ingested, ObjectNotAvailable
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.oid import Oid
from pipever.services.progress import Progress
from pipever.paths import join, parent, read_inside
from pipever.pipeline.lockfile import LockedPath, LockedUrl, LockEntry, Lockfile
from pipever.pipeline.stage import Stage
from pipever.context import RepoContext
from pipever.errors import PvError

if TYPE_CHECKING:
    from pipever.services.url_deps import UrlProbe

PV_YAML = "pv.yaml"
PV_LOCK = "pv.lock"
PVIGNORE = ".pvignore"


@dataclass
class MigrateResult:
    pointers: list[str] = field(default_factory=list)  # written .pv files
    pipelines: list[str] = field(default_factory=list)  # written pv.yaml files
    locks: list[str] = field(default_factory=list)  # written pv.lock files
    ignores: list[str] = field(default_factory=list)  # written .pvignore files
    objects: int = 0  # files brought into pv's cache
    bytes: int = 0
    from_remote: int = 0
    from_workspace: int = 0
    config_repo: list[str] = field(default_factory=list)  # keys set in .pv/config.yaml
    config_local: list[str] = field(default_factory=list)  # keys set in .pv/config.local.yaml
    notes: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # DVC files left as they are, and why
    missing: list[Failure] = field(default_factory=list)
    rerun_stages: list[str] = field(default_factory=list)  # stages pv will run again, and why
    staged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # DVC files removed
    dvc_cache_left: str | None = None  # DVC's cache, left on disk
    pushed: int | None = None  # objects pushed to --pv-remote
    pv_remote: str | None = None
    dry: bool = False


def placeholder(md5: str) -> Oid:
    """The oid recorded for a dep or uncached out whose recorded content is nowhere to be read:
    it matches no real file, so pv sees the change DVC would see."""
    return Oid(blake3(b"dvc md5 " + md5.encode()).hexdigest())


class Migrator:
    def __init__(self, plan: MigrationPlan, repo: RepoContext, result: MigrateResult, progress: Progress) -> None:
        self.plan = plan
        self._probe: UrlProbe | None = None
        self.repo = repo
        self.result = result
        self.progress = progress
        self.files: dict[tuple[str, bool], Ingested] = {}  # (md5, legacy) -> in pv's cache
        self.dirs: dict[tuple[str, bool, str], tuple[Oid, int, int]] = {}  # (md5, legacy, rel) -> manifest oid, size, nfiles
        self.failed: list[Failure] = []

    # -- objects ----------------------------------------------------------------------------------
    def ingest_all(self) -> None:
        objects = self.plan.objects
        assert objects is not None
        objects.tmp_dir = self.repo.cache_dir / "blake3"
        todo: dict[tuple[str, bool], Need] = {}
        for n in self.plan.needs:
            if not n.is_dir:
                todo.setdefault((n.md5, n.legacy), n)
        self.progress.start("Migrating data", len(todo))
        try:
            retry = self._ingest(todo)
        finally:
            self.progress.done()
        if retry and objects.remote is not None:
            # bad bytes in DVC's cache or the workspace: the remote may hold a good copy
            self.failed = [f for f in self.failed if f.md5 not in {n.md5 for n in retry.values()}]
            objects.check_remote([n.key for n in retry.values()])
            self._ingest(retry)

    def _ingest(self, todo: dict[tuple[str, bool], Need]) -> dict[tuple[str, bool], Need]:
        objects = self.plan.objects
        assert objects is not None
        corrupt = {}
        for key, n in todo.items():
            try:
                got = objects.ingest(n.md5, legacy=n.legacy, what=n.what, workspace=n.what, odb=self.repo.odb)
            except ObjectNotAvailable as exc:
                self.failed.append(exc.failure)
                if exc.failure.corrupt and objects.remote_path(n.md5, is_dir=False, legacy=n.legacy) is None:
                    corrupt[key] = n
            else:
                self.files[key] = got
                self.result.objects += 1
                self.result.bytes += got.size
                self.result.from_remote += got.source == "remote"
                self.result.from_workspace += got.source == "workspace"
            self.progress.advance()
        return corrupt

    def file_oid(self, out: Hashed) -> Ingested | None:
        assert out.md5 is not None
        return self.files.get((out.md5, out.legacy))

    def dir_oid(self, out: Hashed, rel: str) -> tuple[Oid, int, int] | None:
        assert out.md5 is not None
        key = (out.md5, out.legacy, rel)
        if key in self.dirs:
            return self.dirs[key]
        entries = self.plan.dirs.get((out.md5, out.legacy))
        if entries is None:
            return None
        built = []
        for e in entries:
            got = self.files.get((e.md5, out.legacy))
            if got is None:
                return None
            built.append(Entry(e.relpath, got.oid, got.size, e.isexec or _executable(self.repo.root / rel / e.relpath)))
        manifest = Manifest.build(built)
        oid = self.repo.odb.add_manifest(manifest)
        self.repo.state.mark_complete(oid)
        self.dirs[key] = (oid, manifest.size, manifest.nfiles)
        return self.dirs[key]

    def locked(self, out: Hashed, rel: str) -> LockedPath | None:
        """A cached out as pv records it (None when its data did not come across)."""
        if out.is_dir:
            found = self.dir_oid(out, rel)
            return None if found is None else LockedPath(rel, found[0], found[1], found[2])
        got = self.file_oid(out)
        return None if got is None else LockedPath(rel, got.oid, got.size)

    # -- pointers ---------------------------------------------------------------------------------
    def pointer(self, d: DvcFile) -> ptr.Pointer | None:
        pointer_rel = d.rel[: -len(".dvc")] + ptr.SUFFIX
        outs = []
        for out in d.outs:
            rel = d.out_rel(out)
            found = self.locked(out, rel)
            if found is None:
                return None
            extra = {k: out.extra[k] for k in dvcfiles.KEPT_OUT_KEYS if k in out.extra}
            # DVC 2 did not record the execute bit: the workspace file's is taken then
            if not out.is_dir and (out.isexec or (out.legacy and _executable(self.repo.root / rel))):
                extra["isexec"] = True
            path = posixpath.relpath(rel, parent(pointer_rel))
            outs.append(ptr.PointerOut(path, found.oid, found.size, found.nfiles, extra))
        extra = dict(d.extra)
        if d.deps and (d.import_repo is not None or d.is_import_url):
            extra["deps"] = dvcfiles.import_deps(d)
        pointer = ptr.Pointer(pointer_rel, tuple(outs), extra)
        return ptr.parse(ptr.dump(pointer), pointer_rel)  # what pv will read back, checked now

    # -- pipelines --------------------------------------------------------------------------------
    def dep(self, dep: Hashed, rel: str) -> LockedPath:
        """A dep as pv records it: the content DVC recorded, found in what came across or in the
        workspace; a placeholder when it is nowhere (the stage is stale for DVC too)."""
        if dep.md5 is None:
            return LockedPath(rel, placeholder(""), dep.size or 0, dep.nfiles if dep.is_dir else None)
        if dep.is_dir:
            found = self.locked(dep, rel) if (dep.md5, dep.legacy) in self.plan.dirs else None
            if found is not None:
                return found
            objects = self.plan.objects
            assert objects is not None
            if objects.workspace_dir(rel, dep.md5) is not None:
                from pipever.services.save import save_path

                saved = save_path(self.repo, rel, store=False, link=False)
                return LockedPath(rel, saved.oid, saved.size, saved.nfiles)
            return LockedPath(rel, placeholder(dep.md5), dep.size or 0, dep.nfiles or 0)
        got = self.file_oid(dep)
        if got is not None:
            return LockedPath(rel, got.oid, got.size)
        full = self.repo.root / rel
        if full.is_file() and self.plan.objects is not None and self.plan.objects.workspace_file(rel) is not None:
            digest = hash_path(full)
            if digest.matches(dep.md5, legacy=dep.legacy):
                return LockedPath(rel, Oid(digest.blake3), digest.size)
        return LockedPath(rel, placeholder(dep.md5), dep.size or 0)

    def lock_entry(self, p: Pipeline, stage: Stage, entry: dvcfiles.LockEntry) -> LockEntry | str:
        """pv's lock entry for ``stage``, or why there is none (pv will run the stage)."""
        order = {path: i for i, path in enumerate(stage.deps)}
        deps = []
        urls: list[LockedUrl] = []
        for d in entry.deps:
            if dvcfiles.is_url(d.path):
                urls.append(self.url_dep(d))
                continue
            deps.append(self.dep(d, lock_rel(p, d.path, stage.wdir)))
        deps.sort(key=lambda lp: order.get(lp.path, len(order)))
        flags = {o.path: o for o in stage.all_outs}
        outs = []
        for o in entry.outs:
            if dvcfiles.is_url(o.path):
                continue  # pv records no URL out (it is declared only, never stored)
            rel = lock_rel(p, o.path, stage.wdir)
            declared = flags.get(rel)
            if declared is not None and not declared.cache:
                outs.append(self.dep(o, rel))  # measured from the workspace, as pv does
                continue
            found = self.locked(o, rel)
            if found is None:
                return "its outputs' data was not found"
            outs.append(found)
        order = {o.path: i for i, o in enumerate(stage.all_outs)}
        outs.sort(key=lambda lp: order.get(lp.path, len(order)))
        params = {lock_rel(p, f, stage.wdir): dict(v) for f, v in entry.params.items() if v}
        cmd = entry.cmd if isinstance(entry.cmd, str) else tuple(entry.cmd)
        return LockEntry(cmd=cmd, deps=tuple(deps), params=params, outs=tuple(outs), url_deps=tuple(urls))

    def url_dep(self, dep: Hashed) -> LockedUrl:
        """A URL dep as pv records it. When what DVC recorded (an ETag, version id or md5, DVC's
        'checksum' of an HTTP URL being its ETag) still names the URL's content, pv records the
        URL's identity as it asks for it today, so the stage stays up to date as it would for DVC;
        otherwise (changed, or unreachable now) DVC's values, so the stage is stale, as for DVC."""
        said = {str(v).strip('"') for k in ("etag", "checksum", "version_id") if (v := dep.extra.get(k))}
        if dep.md5:
            said.add(dep.md5)
        if self._probe is None:
            from pipever.services.url_deps import UrlProbe

            self._probe = UrlProbe(self.repo)
        try:
            now = self._probe.identity(dep.path)
        except PvError:
            now = None
        if now is not None and said and (dep.size is None or now.size in (None, dep.size)):
            if said & {str(v).strip('"') for v in (now.etag, now.version_id, now.checksum) if v}:
                return now
        etag = dep.extra.get("etag") or dep.extra.get("checksum")
        version = dep.extra.get("version_id")
        return LockedUrl(dep.path, size=dep.size, etag=str(etag) if etag else None,
                         version_id=str(version) if version else None, checksum=dep.md5)

    def write_pipeline(self, p: Pipeline) -> list[str]:
        """Write ``pv.yaml`` and ``pv.lock`` for ``p``; returns the cached outputs pv.lock records."""
        from pipever.pipeline.lockfile import write_lockfile

        assert p.text is not None
        pv_yaml = join(p.dir, PV_YAML) if p.dir != "." else PV_YAML
        target = self.repo.root / pv_yaml
        if not target.exists() or target.read_text(encoding="utf-8") != p.text:
            fsutil.atomic_write_text(target, p.text)
        self.result.pipelines.append(pv_yaml)
        if not p.lock:
            return []
        recorded: list[str] = []
        stages: dict[str, LockEntry] = {}
        for name, stage in p.stages.items():
            entry = p.lock.get(name)
            if entry is None:
                continue
            made = self.lock_entry(p, stage, entry)
            if isinstance(made, str):
                self.result.rerun_stages.append(f"{p.owner(name)} ({made})")
                continue
            stages[name] = made
            for out in stage.all_outs:
                if out.cache:
                    gitignore.add_entry(self.repo.root, out.path)
                    recorded.append(out.path)
        pv_lock = join(p.dir, PV_LOCK) if p.dir != "." else PV_LOCK
        write_lockfile(self.repo.root / pv_lock, Lockfile(stages), base=p.dir)  # beside its pv.yaml
        self.result.locks.append(pv_lock)
        return recorded


def _executable(path: Path) -> bool:
    try:
        return fsutil.is_executable(os.stat(path).st_mode)
    except OSError:
        return False


def write_config(repo: RepoContext, plan: MigrationPlan, result: MigrateResult) -> None:
    for level, values, keys in (("repo", plan.config.repo, result.config_repo),
                                ("local", plan.config.local, result.config_local)):
        for key, value in values.items():
            if repo.config.get(key, level=level) != value:
                repo.config.set(level, key, value)
            keys.append(key)
    result.notes += plan.config.notes


def write_ignores(root: Path, plan: MigrationPlan, result: MigrateResult) -> None:
    """Each ``.dvcignore`` becomes a ``.pvignore`` beside it (its lines added to one there)."""
    for rel in plan.ignores:
        data = read_inside(root, rel)  # never a symlink's target out of the work tree
        if data is None:
            continue
        text = data.decode("utf-8")
        target_rel = join(parent(rel), PVIGNORE) if parent(rel) != "." else PVIGNORE
        target = root / target_rel
        have = target.read_text(encoding="utf-8") if target.is_file() else ""
        lines = have.splitlines()
        new = [ln for ln in text.splitlines() if ln not in lines or not ln.strip()]
        if not have:
            merged = text
        elif all(ln in lines for ln in text.splitlines()):
            merged = have
        else:
            merged = have + ("" if have.endswith("\n") else "\n") + "\n".join(new) + "\n"
        if merged != have:
            fsutil.atomic_write_text(target, merged)
        result.ignores.append(target_rel)
