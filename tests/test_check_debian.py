"""kscript check agrees with ``kamailio -c`` on Debian's default kamailio.cfg under every define
set of tests/golden/check/debian_default.json (none, each WITH_* alone, large combinations)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kscript.check import check_file

ROOT = Path(__file__).resolve().parent.parent
CFG = ROOT / "tests" / "data" / "debian" / "kamailio.cfg"
GOLDEN = json.loads((ROOT / "tests" / "golden" / "check" / "debian_default.json").read_text())


@pytest.mark.parametrize("golden", GOLDEN, ids=[g["name"] for g in GOLDEN])
def test_debian_default(golden):
    report = check_file(CFG, golden["defines"])
    got = "accept" if report.ok else "reject"
    first = report.errors[0] if report.errors else None
    assert got == golden["verdict"], f"kamailio: {golden['message']} at {golden['line']}; kscript: {first}"
    if got == "reject":
        assert first.pos.line == golden["line"], str(first)
        assert first.message.startswith(golden["message"]), str(first)


def test_debian_default_ast():
    report = check_file(CFG, ["WITH_MYSQL", "WITH_AUTH", "WITH_NAT"])
    assert report.ok
    s = report.summary()
    assert "tm" in s["modules"] and s["routes"]["request"] == 1 and s["routes"]["route"] >= 10
