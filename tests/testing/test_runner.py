"""The scenario runner and `kscript test`: passing and failing scenarios, the
failure text, JUnit XML, exit codes and the summary line."""

import xml.etree.ElementTree as ET

from kscript.cli import main
from kscript.testing.runner import Runner, summary_line


PASSING = """\
name: options ping
config: small.cfg
clock: 2024-03-01T12:00:00Z
mocks:
  nat_uac_test: 1
  sd_lookup: 1
steps:
  - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
    src: udp:10.1.2.3:5060
    expect:
      log: "options from 10.1.2.3 n=1 at 1709294400"
      pv: {$var(n): 1, $avp(seen): 10.1.2.3}
      routes: [PING]
      flow: [start|DEFAULT_ROUTE, start|PING, return|PING, exit|DEFAULT_ROUTE]
      mock_calls: {nat_uac_test: [["19"]], sd_lookup: 0}
      sent: 0
      not:
        log: other
        routes: [NOPE]
  - advance: 90s
  - send: {method: MESSAGE, ruri: "sip:bob@127.0.0.1", body: "hi"}
    expect:
      log: {level: WARN, regex: "^other MESSAGE$"}
      pv: {$var(n): 2, $Ts: 1709294490}
      mock_calls: {sd_lookup: [["speed_dial", "sip:bob@example.com"]]}
"""

FAILING = """\
name: wrong expectation
config: small.cfg
mocks: {nat_uac_test: 1, sd_lookup: 1}
steps:
  - send: {method: MESSAGE, ruri: "sip:bob@127.0.0.1"}
    expect:
      log: "options from"
      reply: 404
"""


def test_passing_scenario(tmp_path, small_cfg, write):
    write(tmp_path / "ok.kst.yaml", PASSING)
    [r] = Runner().run_paths([tmp_path])
    assert r.status == "passed", r.details
    assert r.steps_run == 3


def test_failing_scenario_explains_itself(tmp_path, small_cfg, write):
    write(tmp_path / "bad.kst.yaml", FAILING)
    [r] = Runner().run_paths([tmp_path])
    assert r.status == "failed"
    text = r.details
    assert "bad.kst.yaml:5: scenario 'wrong expectation', step 1 of 1: send MESSAGE sip:bob@127.0.0.1" in text
    # what was expected vs what happened, each pointing at its YAML line
    assert "FAILED log (line 7): expected a log line containing 'options from'; 1 log lines, none matched" in text
    assert "FAILED reply (line 8): expected a reply 404; replies sent: none" in text
    # what was sent in, sent out and logged
    assert "| MESSAGE sip:bob@127.0.0.1 SIP/2.0" in text
    assert "sent: nothing" in text
    assert "WARN   other MESSAGE [" in text
    # the route flow and the cfg lines that ran
    assert "route flow (cfgt): start|DEFAULT_ROUTE, exit|DEFAULT_ROUTE" in text or "route flow (cfgt):" in text
    assert "small.cfg: 10-11, 16-17" in text
    assert 'small.cfg:17: sd_lookup("speed_dial", "sip:$rU@example.com");' in text


def test_cli_summary_exit_code_and_junit(tmp_path, small_cfg, capsys, write):
    write(tmp_path / "ok.kst.yaml", PASSING)
    write(tmp_path / "bad.kst.yaml", FAILING)
    junit = tmp_path / "out" / "junit.xml"
    rc = main(["test", str(tmp_path), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 1
    assert out.rstrip().splitlines()[-1] == "1 passed, 1 failed"
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    fail = cases["wrong expectation"].find("failure")
    assert fail is not None and "expected a reply 404" in fail.text
    assert cases["options ping"].find("failure") is None


def test_cli_all_pass_exits_zero(tmp_path, small_cfg, capsys, write):
    write(tmp_path / "ok.kst.yaml", PASSING)
    assert main(["test", str(tmp_path / "ok.kst.yaml"), "-v"]) == 0
    out = capsys.readouterr().out.rstrip().splitlines()
    assert out[-1] == "1 passed, 0 failed"
    assert out[0].startswith("ok    ")


def test_skips_until_modules_exist(tmp_path, small_cfg, capsys, write):
    write(tmp_path / "s.kst.yaml", """\
        config: small.cfg
        requires: [no_such_module]
        steps: [{send: {method: OPTIONS, ruri: "sip:127.0.0.1"}}]
        """)
    [r] = Runner().run_paths([tmp_path])
    assert r.status == "skipped"
    assert r.message == "needs kscript module no_such_module (not emulated by this kscript yet)"
    assert summary_line([r]) == "0 passed, 0 failed, 1 skipped"


def test_xfail_and_xpass(tmp_path, small_cfg, write):
    write(tmp_path / "x.kst.yaml", FAILING.replace("name: wrong expectation", "name: known bug\nxfail: bug 12"))
    [r] = Runner().run_paths([tmp_path])
    assert r.status == "xfailed" and r.message.startswith("bug 12")
    write(tmp_path / "x.kst.yaml", PASSING.replace("name: options ping", "name: fixed\nxfail: bug 12"))
    [r] = Runner().run_paths([tmp_path])
    assert r.status == "xpassed" and r.failed


def test_unmocked_function_is_an_error_naming_it(tmp_path, small_cfg, write):
    write(tmp_path / "e.kst.yaml", """\
        config: small.cfg
        steps: [{send: {method: OPTIONS, ruri: "sip:127.0.0.1"}}]
        """)
    [r] = Runner().run_paths([tmp_path])
    assert r.failed
    assert "does not emulate" in r.details or "not emulated" in r.details
    assert "nat_uac_test" in r.details and "sd_lookup" in r.details


def test_repeat_and_keyword_filter(tmp_path, small_cfg, capsys, write):
    write(tmp_path / "r.kst.yaml", """\
        name: repeated
        config: small.cfg
        mocks: {nat_uac_test: 1, sd_lookup: 1}
        steps:
          - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
            repeat: 3
            expect: {mock_calls: {nat_uac_test: 1}}
          - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
            expect: {pv: {$var(n): 4}}
        ---
        name: other
        config: small.cfg
        steps: [{advance: 1}]
        """)
    assert main(["test", str(tmp_path), "-k", "repeated", "-q"]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == "1 passed, 0 failed"
