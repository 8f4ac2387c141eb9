"""What push, fetch, pull, ``status -c`` and ``gc -c`` work on: which remote serves each out,
and which objects the selected outs need, with a display name for every object.

Remote choice for an out: ``-r NAME`` when given; else the out's own ``remote:``; else the
default remote (``PV_REMOTE`` for one run, or ``core.remote``).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipever.data import pointer as ptr
from pipever.errors import CorruptObjectError, ManifestError, ObjectNotFoundError, RemoteError, RemoteNotFoundError, TargetError
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.services import used
from pipever.paths import is_inside, to_repo_path
from pipever.remote import options as remote_options, url as remote_url
from pipever.remote.base import Remote
from pipever.remote.local import make_remote
from pipever.context import RepoContext

ENV_REMOTE = "PV_REMOTE"


@dataclass(frozen=True)
class Scope:
    """Which revisions' outs to include besides (or instead of) the workspace."""

    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    revs: tuple[str, ...] = ()  # explicit revisions (e.g. the commits a git push sends)
    workspace: bool = True


# -- remotes -------------------------------------------------------------------------------------
def default_remote(repo: RepoContext) -> str | None:
    env = os.environ.get(ENV_REMOTE)
    if env:
        return env
    name = repo.config.get("core.remote")
    return str(name) if name else None


def _section(repo: RepoContext, level: str, name: str) -> dict[str, Any]:
    remotes = repo.config.levels.get(level, {}).get("remote") or {}
    opts = remotes.get(name)
    return dict(opts) if isinstance(opts, dict) else {}


def open_remote(repo: RepoContext, name: str | None) -> Remote:
    """The remote ``name`` (the default one when None), with its options merged safely."""
    name = name or default_remote(repo)
    if not name:
        raise RemoteNotFoundError(None)
    levels = {lvl: _section(repo, lvl, name) for lvl in ("global", "repo", "local")}
    if not any(levels.values()):
        raise RemoteNotFoundError(name)
    url = next((levels[lvl]["url"] for lvl in ("local", "repo", "global") if "url" in levels[lvl]), None)
    if not url:
        raise RemoteError(f"remote '{name}' has no URL", hint=f"set it with 'pv remote modify {name} url URL'")
    base = str(repo.root) if "url" in levels["local"] or "url" in levels["repo"] else None
    spec = remote_url.parse(str(url), base_dir=base)
    opts, ignored = remote_options.split_trusted(levels["repo"], levels["global"], levels["local"], spec.backend)
    return make_remote(name, spec, opts, ignored=ignored)


def ignored_warning(rem: Remote) -> str:
    """The warning for options of the committed config that were not honoured."""
    return (f"remote '{rem.name}': option(s) {', '.join(rem.ignored_options)} in the committed .pv/config.yaml "
            f"are ignored; set them with 'pv remote modify --local {rem.name} OPTION VALUE' if you trust them")


# -- outs ----------------------------------------------------------------------------------------
def select_outs(repo: RepoContext, targets: Sequence[str], scope: Scope) -> list[used.UsedOut]:
    """Outs of the workspace and/or revisions in ``scope``, limited to ``targets`` (data paths,
    directories holding them, or pointer files); an unknown target is an error."""
    outs: list[used.UsedOut] = []
    if scope.workspace:
        outs += used.outs_in_workspace(repo)
    if repo.scm and (scope.all_branches or scope.all_tags or scope.all_commits or scope.revs):
        revs = set(scope.revs)
        if scope.all_branches or scope.all_tags or scope.all_commits:
            revs |= set(repo.git.revisions(
                all_branches=scope.all_branches, all_tags=scope.all_tags, all_commits=scope.all_commits,
            ))
        for rev in sorted(revs):
            outs += used.outs_at_rev(repo, repo.git.resolve(rev))
    if targets:
        outs = _filter(repo, outs, targets, check=scope.workspace)
    seen: dict[tuple[ObjectRef, str | None, bool], used.UsedOut] = {}
    for o in outs:
        seen.setdefault((o.ref, o.remote, o.push), o)
    return list(seen.values())


def _filter(repo: RepoContext, outs: list[used.UsedOut], targets: Sequence[str], *, check: bool) -> list[used.UsedOut]:
    chosen: list[used.UsedOut] = []
    wanted: list[str] = []
    for arg in targets:
        rel = to_repo_path(repo.root, arg)
        if rel.endswith(ptr.SUFFIX) and (repo.root / rel).is_file():
            from pipever.services.tracked import read_pointer

            p = read_pointer(repo, rel)
            paths = [p.out_rel(o) for o in p.outs]
        else:
            paths = [rel]
        hit = False
        for path in paths:
            for o in outs:
                if is_inside(o.rel, path) or is_inside(path, o.rel):
                    hit = True
        if check and not hit:
            raise TargetError(f"'{arg}' is not tracked by pipever", hint=f"run 'pv add {arg}' to track it")
        wanted += paths
    for o in outs:
        if any(is_inside(o.rel, w) or is_inside(w, o.rel) for w in wanted):
            chosen.append(o)
    return chosen


def by_remote(repo: RepoContext, outs: Iterable[used.UsedOut], explicit: str | None) -> dict[str, list[used.UsedOut]]:
    """Outs grouped by the name of the remote that serves them (RemoteNotFoundError when an out
    needs the default remote and there is none)."""
    groups: dict[str, list[used.UsedOut]] = defaultdict(list)
    default = None if explicit else default_remote(repo)
    for o in outs:
        name = explicit or o.remote or default
        if not name:
            raise RemoteNotFoundError(None)
        groups[name].append(o)
    return dict(groups)


# -- objects -------------------------------------------------------------------------------------
@dataclass
class Needed:
    """The objects some outs need, as far as the local cache can tell."""

    names: dict[ObjectRef, str] = field(default_factory=dict)  # object -> path for messages
    manifests: dict[ObjectRef, list[ObjectRef]] = field(default_factory=dict)  # dir -> its files
    unknown_dirs: list[used.UsedOut] = field(default_factory=list)  # manifest not in the cache
    optional: set[ObjectRef] = field(default_factory=set)  # of ``push: false`` outs only
    sizes: dict[ObjectRef, int] = field(default_factory=dict)  # file objects' recorded sizes

    @property
    def files(self) -> list[ObjectRef]:
        return [r for r in self.names if not r.is_dir]

    def name(self, ref: ObjectRef) -> str:
        return self.names.get(ref, str(ref.oid))

    def label(self, ref: ObjectRef) -> str:
        """``path (blake3:…)`` for error lists."""
        return f"{self.name(ref)} ({ref.oid})"


def needed(odb: ObjectDB, outs: Iterable[used.UsedOut]) -> Needed:
    result = Needed()
    required: set[ObjectRef] = set()
    for out in outs:
        _add(result, out.ref, out.rel + ("/" if out.is_dir else ""), required, out.push)
        if not out.is_dir:
            if out.size is not None:
                result.sizes[out.ref] = out.size
            continue
        try:
            manifest = odb.read_manifest(out.oid)
        except (ObjectNotFoundError, CorruptObjectError, ManifestError):
            result.unknown_dirs.append(out)
            continue
        files = [ObjectRef(e.oid, False) for e in manifest.entries]
        result.manifests[out.ref] = files
        for e, ref in zip(manifest.entries, files):
            _add(result, ref, f"{out.rel}/{e.path}", required, out.push)
            result.sizes[ref] = e.size
    result.optional -= required
    return result


def _add(result: Needed, ref: ObjectRef, name: str, required: set[ObjectRef], push: bool) -> None:
    result.names.setdefault(ref, name)
    (required if push else result.optional).add(ref)


def present_on_remote(rem: Remote, need: Needed, *, jobs: int) -> set[ObjectRef]:
    """Which of ``need``'s objects the remote has.

    Directory manifests are asked about first: a manifest on the remote vouches for every file
    it lists, because pipever uploads a manifest only after all of its files and ``gc --cloud``
    deletes manifests before files. Only the remaining objects are looked up (``pv fsck -r``
    checks a remote that was damaged behind pipever's back)."""
    wanted = set(need.names)
    dirs = {r for r in wanted if r.is_dir}
    present = rem.existing(dirs, jobs=jobs) if dirs else set()
    vouched: set[ObjectRef] = set()
    for m in present:
        vouched.update(need.manifests.get(m, ()))
    present |= vouched
    present |= rem.existing(wanted - dirs - vouched, jobs=jobs)
    return present
