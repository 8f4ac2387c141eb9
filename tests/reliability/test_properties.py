"""Properties that hold for every input (Hypothesis): path validation never accepts an escaping
path (lexically, and physically through random symlink layouts); manifests round-trip
canonically; pointer rewrites keep extra keys; untrusted bytes never crash the parsers."""

from __future__ import annotations

import os
import posixpath
import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipever.data import pointer as ptr
from pipever.errors import ManifestError, PathOutsideRepoError, PointerError
from pipever.objects.manifest import Entry, Manifest, from_bytes, to_bytes
from pipever.objects.oid import Oid
from pipever.paths import check_physical, check_relpath, join, resolve_inside
from tests.reliability.harness import FULL

EXAMPLES = 5000 if FULL else 200
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(SETTINGS, max_examples=EXAMPLES // 3)  # a YAML or JSON round trip per example

# pieces an attacker would combine, and single characters of the classic tricks
SEGMENTS = st.sampled_from([
    "", ".", "..", "...", "a", "b", ".git", ".GIT", ".Git", ".pv", ".PV", "git", "pv", "~", "~root", "C:", "c:",
    "\\", "\\\\srv", "a\\..", "..\\..", "\x00", "a\x00", "hooks", "config", " ", ".git ", "é",
])
CHARS = st.text(alphabet=["/", ".", "\\", "~", ":", "\x00", "a", "b", "g", "i", "t", "p", "v", "G", "C", " "], max_size=24)
PATHS = st.one_of(CHARS, st.lists(SEGMENTS, max_size=8).map("/".join))


def escapes(rel: str) -> str | None:
    """Why ``rel`` (taken from a root) would leave the work tree or enter .git/.pv, if it does."""
    if rel.startswith(("/", "~")) or "\x00" in rel or "\\" in rel or (len(rel) > 1 and rel[1] == ":"):
        return "absolute or special"
    norm = posixpath.normpath(posixpath.join("/root", rel))
    if norm != "/root" and not norm.startswith("/root/"):
        return "leaves the root"
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "has '..'"
    if any(p.lower() == ".git" for p in parts) or (parts and parts[0].lower() == ".pv"):
        return "enters .git/.pv"
    return None


@SETTINGS
@given(PATHS)
def test_check_relpath_never_accepts_an_escaping_path(path: str) -> None:
    try:
        rel = check_relpath(path)
    except PathOutsideRepoError:
        return
    assert escapes(path) is None, (path, escapes(path))
    assert escapes(rel) is None and rel not in ("", ".") and rel == posixpath.normpath(rel)
    assert check_relpath(rel) == rel  # normalized: stable


@SETTINGS
@given(st.lists(st.sampled_from(["a", "b", "sub", "é"]), max_size=3).map("/".join), PATHS)
def test_a_path_relative_to_a_subdirectory_never_escapes_either(base: str, path: str) -> None:
    """Pointer outs are relative to the pointer's directory: join, then check."""
    try:
        rel = check_relpath(join(base or ".", path))
    except PathOutsideRepoError:
        return
    assert escapes(rel) is None


LINK_TARGETS = ["/", "/tmp", "..", "../..", ".git", ".pv", "../outside", ".", "a", "b/c", "/etc/passwd", "x/../.git"]


@SLOW
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "b/c", "l1", "b/l2", "a/l3"]), st.sampled_from(LINK_TARGETS)),
                max_size=4),
       st.lists(st.sampled_from(["a", "b", "c", "l1", "l2", "l3", "x", "config", "HEAD"]), min_size=1, max_size=4))
def test_resolve_inside_and_check_physical_never_follow_a_symlink_out(links: list[tuple[str, str]], parts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        for d in ("a", "b/c", ".git", ".pv", "x"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (Path(tmp) / "outside").mkdir()
        for where, target in links:
            p = root / where
            if not os.path.lexists(p):
                p.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, p)
        rel = "/".join(parts)
        real_root = os.path.realpath(root)
        try:
            full = resolve_inside(root, rel)
        except PathOutsideRepoError:
            pass
        else:
            real = os.path.realpath(full)
            inside = os.path.relpath(real, real_root)
            assert not inside.startswith(".."), (links, rel, real)
            first = inside.split(os.sep)[0].lower()
            assert first not in (".git", ".pv") and ".git" not in inside.lower().split(os.sep), (links, rel, real)
        try:
            check_physical(root, rel)
        except PathOutsideRepoError:
            return
        cur = root
        for part in parts[:-1]:
            cur = cur / part
            assert not cur.is_symlink(), (links, rel)


# -- manifests ---------------------------------------------------------------------------------------
NAME = st.text(alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)), min_size=1, max_size=6)
REL = st.lists(NAME, min_size=1, max_size=3).map("/".join)
OIDS = st.binary(min_size=32, max_size=32).map(lambda b: Oid(b.hex()))


def valid_tree(paths: list[str]) -> list[str]:
    """Drop paths that are not valid or that would make a file also a directory."""
    ok = []
    for p in sorted(set(paths)):
        try:
            if check_relpath(p) != p:
                continue
        except PathOutsideRepoError:
            continue
        ok.append(p)
    return [p for p in ok if not any(q.startswith(p + "/") for q in ok)]


@SETTINGS
@given(st.lists(st.tuples(REL, OIDS, st.integers(0, 2**53), st.booleans()), max_size=20), st.randoms())
def test_manifests_round_trip_canonically_whatever_the_order(raw: list[tuple[str, Oid, int, bool]], rnd: random.Random) -> None:
    keep = set(valid_tree([p for p, *_ in raw]))
    entries = {p: Entry(p, oid, size, x) for p, oid, size, x in raw if p in keep}
    m = Manifest.build(entries.values())
    data = to_bytes(m)
    assert from_bytes(data) == m
    shuffled = list(entries.values())
    rnd.shuffle(shuffled)
    assert to_bytes(Manifest.build(shuffled)) == data
    assert to_bytes(from_bytes(data)) == data


@SLOW
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
                              lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                     st.dictionaries(st.sampled_from(["path", "oid", "size", "isexec", "x"]), kids, max_size=5)),
                              max_leaves=12).map(lambda v: __import__("json").dumps(v).encode())))
def test_untrusted_manifest_bytes_are_valid_or_a_manifest_error(data: bytes) -> None:
    try:
        m = from_bytes(data, what="fuzz")
    except ManifestError:
        return
    for e in m.entries:
        assert escapes(e.path) is None


# -- pointers ------------------------------------------------------------------------------------------
YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=10)),
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(min_size=1, max_size=5), kids, max_size=3)),
    max_leaves=8,
)
OUT_EXTRA = st.fixed_dictionaries({}, optional={
    "desc": st.text(max_size=20), "meta": YAML_VALUES, "type": st.text(max_size=8),
    "labels": st.lists(st.text(max_size=5), max_size=3), "remote": st.text(min_size=1, max_size=8),
    "push": st.booleans(),
})
TOP_EXTRA = st.fixed_dictionaries({}, optional={"desc": st.text(max_size=20), "meta": YAML_VALUES, "frozen": st.booleans()})


@SLOW
@given(st.sampled_from(["data.csv", "sub/model.pkl", "d/é.bin"]), OIDS, st.integers(0, 2**40), OUT_EXTRA, TOP_EXTRA,
       OIDS, st.integers(0, 2**40))
def test_pointer_rewrite_keeps_extra_keys(
    target: str, oid: Oid, size: int, out_extra: dict[str, Any], top_extra: dict[str, Any], new_oid: Oid, new_size: int,
) -> None:
    rel = ptr.pointer_rel_for(target)
    name = target.rsplit("/", 1)[-1]
    p = ptr.Pointer(rel, (ptr.PointerOut(name, oid, size, None, out_extra),), top_extra)
    text = ptr.dump(p)
    parsed = ptr.parse(text, rel)
    assert parsed == p
    out = parsed.outs[0]
    rewritten = parsed.with_out(0, ptr.PointerOut(out.path, new_oid, new_size, None, out.extra))
    again = ptr.parse(ptr.dump(rewritten), rel)
    assert dict(again.outs[0].extra) == out_extra and dict(again.extra) == top_extra
    assert (again.outs[0].oid, again.outs[0].size) == (new_oid, new_size)


@SETTINGS
@given(st.text(max_size=300))
def test_untrusted_pointer_text_is_a_pointer_or_a_pointer_error(text: str) -> None:
    try:
        p = ptr.parse(text, "x.pv")
    except PointerError:
        return
    for out in p.outs:
        assert escapes(p.out_rel(out)) is None


def test_the_escape_oracle_agrees_with_the_corpus() -> None:
    """The oracle the properties use flags every path of the hostile corpus."""
    from tests.reliability.containment import HOSTILE_PATHS

    flagged = [p for p in HOSTILE_PATHS if escapes(p) is not None or p in ("", ".", "./", "./.")]
    assert flagged == HOSTILE_PATHS
