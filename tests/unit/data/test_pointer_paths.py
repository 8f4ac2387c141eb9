"""Pointer files and path containment: golden text, extra keys, hostile input."""

from __future__ import annotations

import pytest

from pipever.data import pointer as ptr
from pipever.errors import PathOutsideRepoError, PointerError
from pipever.paths import check_relpath

OID = "blake3:" + "ab" * 32
GOLDEN = f"""# pipever pointer: commit this file; the data itself is in the cache and on remotes
outs:
- path: data
  oid: {OID}
  size: 12
  nfiles: 2
"""


def test_pointer_text_is_pinned() -> None:
    p = ptr.Pointer("data.pv", (ptr.PointerOut("data", ptr.parse_oid(OID), 12, 2),))
    assert ptr.dump(p) == GOLDEN
    assert ptr.parse(GOLDEN, "data.pv") == p


def test_pointer_rewrite_keeps_extra_keys() -> None:
    text = GOLDEN.replace("  nfiles: 2\n", "  nfiles: 2\n  push: false\n  remote: backup\n  desc: raw data\n") + "meta:\n  owner: me\n"
    p = ptr.parse(text, "data.pv")
    assert p.outs[0].push is False and p.outs[0].remote == "backup"
    again = ptr.parse(ptr.dump(p), "data.pv")
    assert again == p
    assert again.extra == {"meta": {"owner": "me"}}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("outs: [", "invalid YAML"),
        ("- a\n", "expected a mapping"),
        ("outs: []\n", "non-empty list"),
        (f"outs:\n- path: a\n  oid: {OID}\nbogus: 1\n", "unknown key(s) 'bogus'"),
        (f"outs:\n- path: a\n  oid: {OID}\n  colour: red\n", "unknown key(s) 'colour'"),
        ("outs:\n- path: a\n", "missing 'oid'"),
        (f"outs:\n- oid: {OID}\n", "missing 'path'"),
        ("outs:\n- path: a\n  oid: md5:123\n", "oid must look like"),
        (f"outs:\n- path: /etc/passwd\n  oid: {OID}\n", "is absolute"),
        (f"outs:\n- path: ../x\n  oid: {OID}\n", "contains '..'"),
        (f"outs:\n- path: .git/config\n  oid: {OID}\n", "points into '.git'"),
        (f"outs:\n- path: .pv/cache\n  oid: {OID}\n", "points into '.pv'"),
        (f"outs:\n- path: a\n  oid: {OID}\n  size: -1\n", "non-negative"),
        (f"outs:\n- path: a\n  oid: {OID}\n- path: a\n  oid: {OID}\n  path: b\n", "duplicate key"),
    ],
)
def test_invalid_pointer_is_rejected_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(PointerError) as exc:
        ptr.parse(text, "sub/data.pv")
    assert "'sub/data.pv'" in exc.value.message
    assert problem in exc.value.message


def test_pointer_in_subdir_cannot_escape_through_its_base() -> None:
    with pytest.raises(PointerError):
        ptr.parse(f"outs:\n- path: ../../x\n  oid: {OID}\n", "sub/x.pv")


@pytest.mark.parametrize(
    "bad",
    ["", ".", "../x", "a/../../x", "/abs", "~", "~/x", "C:\\x", "\\\\srv\\x", ".git/hooks/x",
     ".GIT/config", "a/.git/x", ".pv/x", "a\x00b", "a\\b"],
)
def test_check_relpath_rejects_hostile_paths(bad: str) -> None:
    with pytest.raises(PathOutsideRepoError):
        check_relpath(bad)


def test_check_relpath_normalizes_harmless_forms() -> None:
    assert check_relpath("./a//b/") == "a/b"
    assert check_relpath("sub/.pv/x") == "sub/.pv/x"  # only the root .pv is pv's own
