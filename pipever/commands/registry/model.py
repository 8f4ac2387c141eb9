"""``pv model``: register versions, promote them to stages behind metric gates, roll back,
deprecate, and read the registry (SPEC §10). State lives only in annotated Git tags; see
``pipever.registry`` for the tag format and the pure state computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipever.errors import GitError, RegistryError
from pipever.registry import gates, names, semver, state, tags
from pipever.registry.semver import Bump
from pipever.registry.tags import Action
from pipever.context import RepoContext

GIT_REMOTE = "origin"


@dataclass(frozen=True)
class TagResult:
    artifact: str
    tags: tuple[str, ...]  # created, in order
    commit: str
    version: str | None = None
    stage: str | None = None
    previous: str | None = None  # promote/rollback: the version that held the stage before
    checks: tuple[gates.CheckResult, ...] = ()
    pushed: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)  # warnings for the user


def registry(repo: RepoContext) -> dict[str, state.Artifact]:
    _need_git(repo)
    return state.compute(repo.git.list_tags())


def find_artifact(repo: RepoContext, name: str) -> state.Artifact:
    art = registry(repo).get(name)
    if art is None:
        raise RegistryError(f"artifact '{name}' has no registered versions",
                            hint=f"register one with 'pv model register {name}'")
    return art


def find_version(art: state.Artifact, spec: str) -> state.Version:
    """A version named ``vX.Y.Z`` (the 'v' is optional), ``latest``, or a commit hexsha."""
    if spec == "latest":
        if art.latest is None:
            raise RegistryError(f"artifact '{art.name}' has no active versions", hint="register a version first")
        return art.latest
    parsed = semver.try_parse(spec)
    found = art.find(str(parsed)) if parsed is not None else art.find(spec)
    if found is None and parsed is not None:  # tags written with build metadata order-equal
        found = next((v for v in art.versions if v.semver is not None and v.semver.key() == parsed.key()), None)
    if found is None:
        known = ", ".join(v.version for v in art.versions if v.registered) or "none"
        raise RegistryError(f"version '{spec}' of artifact '{art.name}' is not registered (versions: {known})",
                            hint=f"see 'pv model show {art.name}'")
    return found


def find_in_stage(art: state.Artifact, stage: str) -> state.Version:
    held = art.stages.get(stage)
    if held is None:
        raise RegistryError(f"no version of artifact '{art.name}' is in stage '{stage}'",
                            hint=f"promote one with 'pv model promote {art.name} VERSION {stage}'")
    found = art.find(held)
    assert found is not None
    return found


def show(repo: RepoContext, name: str | None = None) -> dict[str, state.Artifact]:
    """Every artifact in the registry, or just ``name``."""
    return {name: find_artifact(repo, name)} if name is not None else registry(repo)


def history(repo: RepoContext, name: str) -> list[state.Event]:
    """Every registry event of ``name``, newest first."""
    return list(reversed(find_artifact(repo, name).events))


# -- register --------------------------------------------------------------------------------
def register(repo: RepoContext, name: str, *, version: str | None = None, bump: Bump | None = None, rev: str = "HEAD",
             message: str | None = None, push: bool = False) -> TagResult:
    names.check_artifact_name(name)
    if version is not None and bump is not None:
        raise RegistryError("give either --version or --bump, not both", hint="drop one of them")
    _need_git(repo)
    commit = repo.git.resolve(rev)
    from pipever.commands.registry.model_locate import artifact_def, locate

    art_def = artifact_def(repo, name, commit)
    if art_def is None:
        raise RegistryError(
            f"artifact '{name}' is not declared in pv.yaml",
            hint=f"add it under 'artifacts:' ({name}: {{path: PATH, type: model}}) and commit pv.yaml",
        )
    locate(repo, commit, art_def.path)  # RegistryError when the commit does not have the artifact
    refs = repo.git.list_tags()
    art = state.compute(refs).get(name)
    known = [v for v in art.versions if v.registered] if art else []
    top = max((v for v in known if v.semver), key=lambda v: v.semver.key(), default=None)  # type: ignore[union-attr]
    if version is not None:
        new = semver.parse(version)
        same = next((v for v in known if v.semver is not None and v.semver.key() == new.key()), None)
        if same is not None:
            raise RegistryError(f"version {new} of artifact '{name}' is already registered (tag '{same.event.tag}')",
                                hint=f"use a higher version, or --bump patch for {_bumped(top, Bump.PATCH)}")
        if top is not None and top.semver is not None and new.key() < top.semver.key():
            raise RegistryError(
                f"version {new} of artifact '{name}' is lower than the latest registered {top.version} "
                f"(tag '{top.event.tag}')",
                hint=f"versions must increase: use --version {_bumped(top, Bump.PATCH)} or --bump minor|major",
            )
    else:
        new = _bumped(top, bump or Bump.PATCH) if top is not None or bump is not None else semver.SemVer(0, 0, 1)
    at_commit = art.at_commit(commit) if art else None
    if at_commit is not None and at_commit.registered:
        raise RegistryError(
            f"commit {commit[:7]} already has version {at_commit.version} of artifact '{name}' "
            f"(tag '{at_commit.event.tag}')",
            hint="commit the new artifact first, or register at another --rev",
        )
    tag = tags.format(tags.TagName(name, Action.REGISTER, version=str(new)))
    text = message or f"Registering artifact {name} version {new}"
    pushed, notes = _create_and_push(repo, [(tag, commit, text)], name=name, commit=commit, push=push)
    return TagResult(name, (tag,), commit, str(new), pushed=pushed, notes=notes)


def _bumped(top: state.Version | None, part: Bump) -> semver.SemVer:
    base = top.semver if top is not None and top.semver is not None else semver.ZERO
    return base.bump(part)


# -- promote / rollback ------------------------------------------------------------------------
def promote(repo: RepoContext, name: str, version: str, stage: str, *, require: Sequence[str] = (),
            message: str | None = None, push: bool = False) -> TagResult:
    names.check_stage_name(stage)
    art = find_artifact(repo, name)
    found = find_version(art, version)
    if art.deprecated:
        raise RegistryError(f"artifact '{name}' is deprecated", hint="register a new version to use it again")
    if not found.registered:
        raise RegistryError(f"'{version}' is not a registered version of artifact '{name}'",
                            hint=f"register it first with 'pv model register {name} --rev {found.commit[:7]}'")
    if not found.active:
        raise RegistryError(f"version {found.version} of artifact '{name}' is deprecated (deregistered)",
                            hint=f"promote another version; see 'pv model show {name}'")
    if art.stages.get(stage) == found.version:
        raise RegistryError(f"version {found.version} of artifact '{name}' is already in stage '{stage}'",
                            hint=f"see 'pv model history {name}'")
    from pipever.commands.registry.model_gates import run_checks

    checks = run_checks(repo, name, found, stage, require)
    failed = [c for c in checks if not c.passed]
    if failed:
        raise RegistryError(
            f"refusing to promote artifact '{name}' {found.version} to '{stage}': "
            + "; ".join(c.describe() for c in failed),
            hint="the metrics recorded at that version must pass every check",
        )
    text = message or f"Assigning stage {stage} to artifact {name} version {found.version}"
    if checks:
        text += "\n\nChecks passed:\n" + "\n".join(f"  {c.check} ({c.check.key} = {c.actual})" for c in checks)
    existing = {r.name for r in repo.git.list_tags()}
    tag = tags.name_for(Action.ASSIGN, name, existing=existing, stage=stage, simple=False)
    pushed, notes = _create_and_push(repo, [(tag, found.commit, text)], name=name, commit=found.commit, push=push)
    return TagResult(name, (tag,), found.commit, found.version, stage, art.stages.get(stage), tuple(checks),
                     pushed, notes)


def rollback(repo: RepoContext, name: str, stage: str, *, message: str | None = None, push: bool = False) -> TagResult:
    """Unassign the stage from its holder (``NAME#STAGE!#N``) and assign it again to the version that
    held it before (``NAME#STAGE#N+1``), so GTO and CI/CD watching tags both see the change."""
    names.check_stage_name(stage)
    art = find_artifact(repo, name)
    current = find_in_stage(art, stage)
    before = art.previous.get(stage)
    if before is None:
        raise RegistryError(
            f"stage '{stage}' of artifact '{name}' has no earlier version to roll back to "
            f"({current.version} is the only one that held it)",
            hint=f"promote another version with 'pv model promote {name} VERSION {stage}'",
        )
    target = art.find(before)
    assert target is not None
    existing = {r.name for r in repo.git.list_tags()}
    off = tags.name_for(Action.UNASSIGN, name, existing=existing, stage=stage, simple=False)
    on = tags.name_for(Action.ASSIGN, name, existing=existing | {off}, stage=stage, simple=False)
    text = message or f"Rolling back stage {stage} of artifact {name} from {current.version} to {target.version}"
    pushed, notes = _create_and_push(
        repo, [(off, current.commit, text), (on, target.commit, text)], name=name, commit=target.commit, push=push
    )
    return TagResult(name, (off, on), target.commit, target.version, stage, current.version, pushed=pushed,
                     notes=notes)


# -- deprecate ---------------------------------------------------------------------------------
def deprecate(repo: RepoContext, name: str, version: str | None = None, *, message: str | None = None,
              push: bool = False) -> TagResult:
    """Deregister one version (``NAME@vX.Y.Z!#N``) or deprecate the artifact (``NAME@deprecated#N``).

    GTO writes these without the counter by default; pv always adds it so that events created within
    the same second still have an order (GTO reads both forms)."""
    art = find_artifact(repo, name)
    existing = {r.name for r in repo.git.list_tags()}
    if version is not None:
        found = find_version(art, version)
        if not found.registered or not found.active:
            raise RegistryError(f"version {found.version} of artifact '{name}' is not an active registered version",
                                hint=f"see 'pv model show {name}'")
        tag = tags.name_for(Action.DEREGISTER, name, existing=existing, version=found.version, simple=False)
        text = message or f"Deregistering artifact {name} version {found.version}"
        commit, shown = found.commit, found.version
    else:
        if art.deprecated:
            raise RegistryError(f"artifact '{name}' is already deprecated", hint=f"see 'pv model history {name}'")
        tag = tags.name_for(Action.DEPRECATE, name, existing=existing, simple=False)
        text = message or f"Deprecating artifact '{name}'"
        commit, shown = art.events[-1].commit, None
    pushed, notes = _create_and_push(repo, [(tag, commit, text)], name=name, commit=commit, push=push,
                                     objects=False)
    return TagResult(name, (tag,), commit, shown, pushed=pushed, notes=notes)


# -- tags out ----------------------------------------------------------------------------------
def _create_and_push(repo: RepoContext, new: list[tuple[str, str, str]], *, name: str, commit: str, push: bool,
                     objects: bool = True) -> tuple[bool, tuple[str, ...]]:
    notes: list[str] = []
    if push and repo.git.remote_url(GIT_REMOTE) is None:
        raise RegistryError(f"there is no Git remote '{GIT_REMOTE}' to push the tag to",
                            hint="add one with 'git remote add origin URL', or drop --push")
    if push and objects:
        notes.extend(push_artifact(repo, name, commit))
    with repo.locked():
        for tag, at, text in new:
            repo.git.create_tag(tag, at, text)
    if push:
        created = [t for t, _, _ in new]
        try:
            repo.git.push_tags(GIT_REMOTE, created)
        except GitError as exc:
            raise GitError(f"the tag was created but pushing it failed: {exc.message}",
                           hint=f"push it later with 'git push {GIT_REMOTE} {' '.join(created)}'") from exc
    return push, tuple(notes)


def _need_git(repo: RepoContext) -> None:
    if not repo.scm:
        raise RegistryError("the model registry needs Git: its state is kept in Git tags",
                            hint="use pv in a Git repository (not 'pv init --no-scm')")


def push_artifact(repo: RepoContext, name: str, commit: str) -> list[str]:
    """Push artifact ``name``'s objects at ``commit`` to its pv remote; warnings to show."""
    from pipever.commands.registry.model_locate import artifact_def, locate
    from pipever.commands.remotes.push import push

    art = artifact_def(repo, name, commit)
    if art is None:
        return []
    loc = locate(repo, commit, art.path)
    if loc.oid is None:
        return []  # Git tracks it: it travels with the commit
    res = push(repo, [loc.rel], revs=[commit], workspace=False)
    notes = list(res.warnings)
    for rem, missing in res.missing.items():
        notes.append(f"{len(missing)} object(s) of '{loc.rel}' are neither in the cache nor on remote '{rem}': "
                     + ", ".join(missing[:5]))
    return notes
