"""The explicit package list of pyproject.toml (needed because kscript.grammar maps to
the top-level grammar/ folder) must name every kscript subpackage."""

from __future__ import annotations

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(conf["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kscript").rglob("__init__.py")}
    missing = found - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    assert "kscript.grammar" in listed


def test_grammar_ships_as_package_data():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert conf["tool"]["setuptools"]["package-dir"]["kscript.grammar"] == "grammar"
    assert (ROOT / "grammar" / "kamailio.lark").is_file()
