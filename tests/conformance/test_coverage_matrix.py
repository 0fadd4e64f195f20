"""Issue 3: at least one conformance case per emulated function, PV class,
transformation and operator (plus the statements and route block kinds).

The matrix comes from ``tools/conformance_coverage.py`` (run it to see which cases
cover what, and what is missing); only cases with a ``golden.json`` count.  When
this test fails because something is uncovered, write a case for it under
``tests/conformance/cases/`` and record it with ``tools/record_conformance.py``
-- the allow-list below is only for what real Kamailio 5.6 cannot show with the
recorder's set-up (one UDP listener on 127.0.0.1, fake next hops on loopback).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_tool():
    name = "kscript_conformance_coverage_tool"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "conformance_coverage.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


cov = _load_tool()

#: Items that need no conformance case, by category, each with its reason.
#: Keep this short: an entry is only justified when real Kamailio cannot show the
#: item in a recording over UDP on loopback.  Everything kscript emulates today can
#: be shown -- failures included (forward_tcp/tls/sctp, t_relay_to_tcp/tls/sctp and
#: t_forward_nonack_tcp/tls run and fail for want of a listener, which is recorded;
#: the htable expiry event is recorded with a waiting step) -- so it is empty.
#: Form: {"function": {"module.name": "reason"}, "pv": {"$name": "reason"}, ...}
ALLOW: dict[str, dict[str, str]] = {
    "function": {},
    "pv": {},
    "transformation": {},
    "operator": {},
    "statement": {},
}


@pytest.fixture(scope="module")
def matrix():
    return cov.compute()


@pytest.mark.parametrize("category", cov.CATEGORIES)
def test_everything_emulated_has_a_case(matrix, category):
    missing = [k for k in cov.uncovered(matrix)[category] if k not in ALLOW.get(category, {})]
    assert not missing, (
        f"{len(missing)} emulated {category}(s) without a conformance case "
        f"(python3 tools/conformance_coverage.py): {' '.join(missing)}")


@pytest.mark.parametrize("category", cov.CATEGORIES)
def test_allow_list_is_current(matrix, category):
    items = matrix["items"][category]
    unknown = [k for k in ALLOW.get(category, {}) if k not in items]
    assert not unknown, f"allow-listed {category}(s) kscript does not emulate: {unknown}"
    covered = [k for k in ALLOW.get(category, {}) if items[k]]
    assert not covered, f"allow-listed {category}(s) now have a case, drop them from ALLOW: {covered}"


def test_allow_list_entries_are_justified():
    for category, entries in ALLOW.items():
        assert category in cov.CATEGORIES
        for item, reason in entries.items():
            assert isinstance(reason, str) and len(reason.split()) >= 5, (category, item)


# ---------------------------------------------------------------- the scanner itself

CFG = r'''#!KAMAILIO
# comment with sl_send_reply("1", "x") and $fake and {s.md5} -- ignored
debug=2
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "sl.so"
loadmodule "textops.so"
/* block comment: append_hf("x") $rU */
request_route {
	$var(a) = 1 + 2 * (3 - 1) / 4 mod 3;
	$var(b) = (1 | 2) & 3 ^ 4;
	$var(c) = ~1 << 2 >> 1;
	if (!($var(a) == 1) && $var(b) != 2 || $rU =~ "x" || $var(a) <= 3 || $var(a) >= 1) { exit; }
	if ($rU eq "a" || $rU ne "b" || $var(a) ieq 1 || $var(a) ine 2 || $var(a) < 1 || $var(a) > 2) { drop; }
	if (defined $avp(x) && strlen($rU) > 0 && strempty($fU)) { $var(d) = selval(1, (int)"5", (str)6); }
	xlog("L_INFO", "$(hdr($var(h)){s.tolower}{uri.user}) $(ru{param.value,$var(p)}) $$notapv\n");
	switch ($rU) { case "a": break; case /"^b": route(R); default: return 1; }
	while ($var(a) < 3) { $var(a) = $var(a) + 1; }
	if (is_method("INVITE")) { sl_send_reply("200", "OK"); } else { append_hf("X: 1\r\n"); }
}
route[R] { return; }
'''


@pytest.fixture
def fake_cases(tmp_path):
    d = tmp_path / "cases" / "one"
    d.mkdir(parents=True)
    (d / "case.cfg").write_text(CFG)
    (d / "case.yaml").write_text("steps: [x.sip]\n")
    (d / "golden.json").write_text("{}")
    u = tmp_path / "cases" / "unrecorded"
    u.mkdir()
    (u / "case.cfg").write_text(CFG.replace("append_hf", "remove_hf"))
    (u / "case.yaml").write_text("steps: [x.sip]\n")
    return tmp_path / "cases"


def test_scanner_finds_uses(fake_cases):
    res = cov.compute(fake_cases)
    assert res["cases"] == ["one"] and res["unrecorded"] == ["unrecorded"]
    assert not res["unparsed"]
    items = res["items"]
    for op in cov.OPERATORS:
        assert items["operator"][op] == ["one"], op
    for st in ("if", "else", "switch", "case", "case-regex", "default", "while", "break",
               "return", "exit", "drop", "route()", "assignment", "request_route", "route[]"):
        assert items["statement"][st] == ["one"], st
    assert items["function"]["textops.is_method"] == ["one"]
    assert items["function"]["sl.sl_send_reply"] == ["one"]
    assert items["function"]["textops.append_hf"] == ["one"]
    assert items["function"]["xlog.xlog"] == ["one"]
    assert items["function"]["textops.remove_hf"] == []  # only in the unrecorded case
    for pv in ("$var", "$rU", "$fU", "$avp", "$hdr", "$ru"):
        assert items["pv"][pv] == ["one"], pv
    for tr in ("{s.tolower}", "{uri.user}", "{param.value}"):
        assert items["transformation"][tr] == ["one"], tr
    assert items["transformation"]["{s.md5}"] == []  # only in a comment
    assert res["arities"]["xlog.xlog"][2] == ["one"]


def test_scanner_text_fallback(tmp_path):
    """A cfg kscript cannot parse is still scanned (textually)."""
    d = tmp_path / "cases" / "bad"
    d.mkdir(parents=True)
    (d / "case.cfg").write_text('loadmodule "sl.so"\nrequest_route {\n\tsl_send_reply("200", "OK") ;;; }}\n'
                                '\tif ($var(x) << 2) { xlog("$(rU{s.len})"); }\n')
    (d / "case.yaml").write_text("steps: [x.sip]\n")
    (d / "golden.json").write_text("{}")
    res = cov.compute(tmp_path / "cases")
    assert "bad" in res["unparsed"]
    assert res["items"]["function"]["sl.sl_send_reply"] == ["bad"]
    assert res["items"]["operator"]["<<"] == ["bad"]
    assert res["items"]["transformation"]["{s.len}"] == ["bad"]
