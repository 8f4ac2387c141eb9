"""pyproject.toml in the form current setuptools builds without deprecation warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert data["project"]["license"] == "Apache-2.0"  # a TOML table is deprecated (setuptools >= 77)
    assert not any(c.startswith("License ::") for c in data["project"].get("classifiers", []))  # deprecated too
    (req,) = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    m = re.fullmatch(r"setuptools>=(\d+)(\..*)?", req)
    assert m is not None and int(m.group(1)) >= 77
