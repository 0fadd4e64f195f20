"""The shortcuts that make ``kscript test`` fast give the same answers as the long ways:
the check memo (a cfg checked again is not parsed again, but is when it or an include
changes), fresh scripts from one checked cfg, the lazily worked out cfgt flow, the quick
YAML constructor, the status-line read, and no pytest assertion rewriting of kscript."""

import math
import os
import sys

import pytest
import yaml

import kscript
from kscript import check
from kscript.sip import request
from kscript.testing import yamlsrc
from kscript.testing.trace import RunTracer

from test_coverage_trace import CFGT_CFG, REAL_CFGT

CFG = """\
#!KAMAILIO
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "sl.so"
import_file "extra.cfg"

request_route {
    $var(n) = $var(n) + 1;
    xlog("L_ERR", "n=$var(n)\\n");
    sl_send_reply("200", "OK");
}
"""


# ---------------------------------------------------------------- check memo
def test_check_memo_reuses_the_ast_until_an_input_changes(tmp_path):
    cfg = tmp_path / "k.cfg"
    cfg.write_text(CFG)
    first = check.check_file(cfg)
    assert first.ok
    again = check.check_file(cfg)
    assert again.config is first.config and again is not first
    assert again.warnings == first.warnings and again.warnings is not first.warnings
    assert again.defines_map == first.defines_map and again.defines_map is not first.defines_map
    # other defines: checked on their own
    other = check.check_file(cfg, ["WITH_X"])
    assert other.config is not first.config and other.defines_map.get("WITH_X", 0) is None
    # the file changes (same size, maybe the same mtime): checked again
    cfg.write_text(CFG.replace("n=", "m="))
    changed = check.check_file(cfg)
    assert changed.config is not first.config
    # a file import_file names appears: checked again (and it is read)
    (tmp_path / "extra.cfg").write_text('loadmodule "textops.so"\n')
    with_extra = check.check_file(cfg)
    assert with_extra.config is not changed.config
    assert "textops" in [i.module for i in with_extra.config.items if hasattr(i, "module")]
    assert check.check_file(cfg).config is with_extra.config
    # the included file changes: checked again
    (tmp_path / "extra.cfg").write_text('loadmodule "textops.so"\nloadmodule "maxfwd.so"\n')
    assert "maxfwd" in [i.module for i in check.check_file(cfg).config.items if hasattr(i, "module")]


def test_check_memo_keeps_only_clean_reports(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("request_route {\n  exit\n}\n")
    a = check.check_file(cfg)
    b = check.check_file(cfg)
    assert not a.ok and not b.ok and a.errors[0] is not b.errors[0]


def test_check_memo_defenv_reads_the_environment_again(tmp_path, monkeypatch):
    cfg = tmp_path / "env.cfg"
    cfg.write_text('#!KAMAILIO\n#!defenv ADDR=KST_TEST_ADDR\nrequest_route { exit; }\n')
    monkeypatch.setenv("KST_TEST_ADDR", "one")
    assert check.check_file(cfg).defines_map["ADDR"] == "one"
    monkeypatch.setenv("KST_TEST_ADDR", "two")
    assert check.check_file(cfg).defines_map["ADDR"] == "two"


def test_scripts_of_one_checked_cfg_share_nothing_else(tmp_path):
    cfg = tmp_path / "k.cfg"
    cfg.write_text(CFG)
    t1, t2 = RunTracer(), RunTracer()
    s1 = kscript.load(cfg, tracer=t1)
    s2 = kscript.load(cfg, tracer=t2)
    assert s1.config is s2.config  # the memo's AST
    msg = request("OPTIONS", "sip:127.0.0.1")
    s1.process(msg)
    s1.process(msg)
    r2 = t2.begin()
    res = s2.process(msg)
    assert s1.pv("$var(n)") == 2 and s2.pv("$var(n)") == 1
    assert [r.text for r in res.log] == ["n=1\n"]
    assert r2.lines and t1.step is not r2 and t1.step.lines is not r2.lines
    s1.mock("sl_send_reply", returns=1)
    assert "sl_send_reply" not in s2.mocks
    s1.close()
    s2.close()


# ---------------------------------------------------------------- lazy cfgt flow
def test_lazy_flow_and_lines_equal_the_eager_ones(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text(CFGT_CFG)
    lazy, eager = RunTracer(), RunTracer(snapshot=True)
    s1 = kscript.load(cfg, tracer=lazy)
    s2 = kscript.load(cfg, tracer=eager)
    eager.script = s2
    for case, want in REAL_CFGT.items():
        msg = request("OPTIONS", "sip:x@127.0.0.1", headers={"X-Case": case})
        a, b = lazy.begin(), eager.begin()
        s1.process(msg)
        s2.process(msg)
        assert a.flow_names() == [n for n, _ in want] == b.flow_names(), case
        assert [(p.file, p.line) for p in a.lines] == [(p.file, p.line) for p in b.lines], case
        assert a.routes == b.routes and a.lines_dropped == b.lines_dropped == 0
    # read in the middle of a step, then more runs: worked out again
    rec = lazy.begin()
    s1.process(request("OPTIONS", "sip:x@127.0.0.1", headers={"X-Case": "sub"}))
    assert len(rec.flow) == 4
    n = len(rec.lines)
    lazy.new_message()
    s1.process(request("OPTIONS", "sip:x@127.0.0.1", headers={"X-Case": "drop"}))
    assert rec.flow_names()[4:] == ["start|DEFAULT_ROUTE", "exit|DEFAULT_ROUTE"] and len(rec.lines) > n
    s1.close()
    s2.close()


def test_lazy_flow_in_the_api_tracer(tmp_path):
    cfg = tmp_path / "t.cfg"
    cfg.write_text(CFGT_CFG)
    tracer = RunTracer(auto_begin=True)
    script = kscript.load(cfg, tracer=tracer)
    res = script.process(request("OPTIONS", "sip:x@127.0.0.1", headers={"X-Case": "nested"}))
    res2 = script.process(request("OPTIONS", "sip:x@127.0.0.1", headers={"X-Case": "first"}))
    rec, rec2 = res.ctx.data[RunTracer.CTX_KEY], res2.ctx.data[RunTracer.CTX_KEY]
    assert rec.flow_names() == [n for n, _ in REAL_CFGT["nested"]]
    assert rec2.flow_names() == ["start|DEFAULT_ROUTE", "exit|DEFAULT_ROUTE"]
    script.close()


# ---------------------------------------------------------------- quick YAML
def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, yamlsrc.YDict):
        return (a.line == b.line and a.key_lines == b.key_lines and a.value_lines == b.value_lines
                and list(a) == list(b) and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, yamlsrc.YList):
        return (a.line == b.line and a.item_lines == b.item_lines and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _pyyaml(text):
    return [d for d in yaml.load_all(text, Loader=yamlsrc._FAST) if d is not None]


def _outcome(fn, text):
    try:
        return fn(text), None
    except Exception as e:  # noqa: BLE001 - compared below
        return None, (type(e).__name__, str(e), getattr(e, "line", None))


YAML_CASES = [
    "a: 1\n", "5\n", "---\n---\na: [1, 2.5, .nan, -.inf, 0x1f, 1_000, 0o17, 1:30, yes, No, ~, null, '', \"x\"]\n",
    "a: &x {b: 1}\nc: *x\nd: [*x, *x]\n", "? [1]\n: 2\n", "a: 1\na: 2\n", "<<: {a: 1}\nb: 2\n", "= : 3\n",
    "a: !!str 1\nb: !!binary aGk=\n", "a: 2024-01-01\nb: 12:30:00\n", "{1: a, 1.5: b, null: c, true: d}\n",
    "{1: a, true: b}\n", "a: !!set {x, y}\n", "a: !!omap [x: 1]\n", "&a [*a]\n", "a: 'x\n", "a: *nope\n",
    "- a\n- b: c\n  d: e\n- - 1\n  - 2\n", "a: |\n  text\n  more\nb: >\n  folded\n", "a: !custom 1\n",
    "steps:\n  - send: {method: OPTIONS}\n    expect: {reply: 200}\n---\nname: 2\n",
    "b: &b {x: 1, y: 2}\nc: {<<: *b, y: 3, z: 4}\nd: {<<: [*b, {w: 0}], x: 9}\n",
    "b: &b {x: 1}\nc: {<<: *b, x: 2, x: 3}\n", "c: {<<: 5}\n", "c: {<<: [5]}\n", "b: &b {x: 1}\nc: {<<: *b, = : 2}\n",
    "b: &b {x: 1}\nc: {x: 0, <<: *b}\n", "b: &b [1]\nc: {<<: *b}\n",
    "a: 1\n---\nb: [1,\n", "a:\n  - b\n c: d\n", "a: {b: 1\n", "\ta: 1\n", "a: 1\na: 2\n---\nb: [\n",
    "%YAML 1.1\n---\na: 1\n...\n", "a: ! 1\nb: !!int '7'\n", "a: {? b}\n", "[a, b]: 1\n",
]


@pytest.mark.parametrize("quick", ["_event_documents", "_quick_documents"])
@pytest.mark.parametrize("text", YAML_CASES)
def test_quick_yaml_constructors_equal_pyyaml(text, quick):
    want, want_err = _outcome(_pyyaml, text)
    try:
        got, got_err = getattr(yamlsrc, quick)(text), None
        got = [d for d in got if d is not None]
    except yamlsrc._Unusual:
        got, got_err = _outcome(_pyyaml, text)  # what load_documents then does
    except Exception as e:  # noqa: BLE001
        got, got_err = None, (type(e).__name__, str(e), getattr(e, "line", None))
    assert got_err == want_err
    if want_err is None:
        assert _same(got, want)



@pytest.mark.parametrize("text", YAML_CASES)
def test_load_documents_equals_its_pyyaml_only_form(text, monkeypatch):
    def unusual(text):
        raise yamlsrc._Unusual

    got, got_err = _outcome(yamlsrc.load_documents, text)
    monkeypatch.setattr(yamlsrc, "_event_documents", unusual)
    monkeypatch.setattr(yamlsrc, "_quick_documents", unusual)
    want, want_err = _outcome(yamlsrc.load_documents, text)
    assert got_err == want_err  # (the same YamlSyntaxError text and line)
    if want_err is None:
        assert _same(got, want)


def test_quick_yaml_on_every_scenario_file():
    import glob
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    files = glob.glob(os.path.join(root, "**", "*.kst.y*ml"), recursive=True)
    assert files
    quick = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        want = _pyyaml(text)
        assert _same(yamlsrc.load_documents(text), want), path
        try:
            assert _same([d for d in yamlsrc._event_documents(text) if d is not None], want), path
            quick += 1
        except yamlsrc._Unusual:
            pass
    assert quick > len(files) // 2


# ---------------------------------------------------------------- status line
@pytest.mark.parametrize("text", [
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
    "Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 404   Not  Here \r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
    "To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 183 \r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
    "Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 486\tBusy\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
    "Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
])
def test_status_line_read_equals_the_parser(text):
    from kscript.runtime.context import Sent, Socket
    from kscript.testing.expectations import _status_reason
    s = Sent("reply", Socket("udp", "1.2.3.4", 5060), text)
    quick = _status_reason(s)
    full = Sent("reply", Socket("udp", "1.2.3.4", 5060), text)
    assert quick == (full.status, full.reason)


# ---------------------------------------------------------------- pytest plugin
def test_plugin_stops_assert_rewriting_of_kscript(monkeypatch):
    from kscript.testing import pytest_plugin

    class AssertionRewritingHook:  # the shape of pytest's hook
        def __init__(self):
            self._must_rewrite = {"kscript", "pytest_timeout"}
            self._marked_for_rewrite_cache = {"kscript.script": True, "other": False}

        def find_spec(self, *a, **k):
            return None

    hook = AssertionRewritingHook()
    monkeypatch.setattr(sys, "meta_path", [hook] + sys.meta_path)
    pytest_plugin._skip_assert_rewriting_of_kscript()
    assert hook._must_rewrite == {"pytest_timeout"} and hook._marked_for_rewrite_cache == {}
