"""The pytest plugin, through pytester: *.kst.yaml collection, failure text,
JUnit XML, the kscript_load / kscript_clock fixtures and the options."""

import pytest


PASSING = """\
name: options ping
config: small.cfg
mocks: {nat_uac_test: 1, sd_lookup: 1}
steps:
  - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
    expect:
      routes: [PING]
      mock_calls: {nat_uac_test: 1}
"""

FAILING = """\
name: expects a reply
config: small.cfg
mocks: {nat_uac_test: 1, sd_lookup: 1}
steps:
  - send: {method: MESSAGE, ruri: "sip:bob@127.0.0.1"}
    expect:
      reply: {status: 404, reason: Not Found}
"""


@pytest.fixture
def project(pytester, small_cfg_text):
    pytester.makefile(".cfg", small=small_cfg_text)
    return pytester


def test_collects_and_runs_scenarios(project):
    project.makefile(".kst.yaml", ok=PASSING)
    res = project.runpytest("-v")
    res.assert_outcomes(passed=1)
    res.stdout.fnmatch_lines(["*ok.kst.yaml::options ping PASSED*"])


def test_failure_shows_expected_sent_logged_and_lines(project):
    project.makefile(".kst.yaml", bad=FAILING)
    res = project.runpytest()
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines([
        "*scenario: expects a reply*",
        "*bad.kst.yaml:5: scenario 'expects a reply', step 1 of 1: send MESSAGE sip:bob@127.0.0.1",
        "  FAILED reply (line 7): expected a reply 404 'Not Found'; replies sent: none",
        "received from udp:127.0.0.1:5060:",
        "  | MESSAGE sip:bob@127.0.0.1 SIP/2.0",
        "sent: nothing",
        "log:",
        "  WARN   other MESSAGE*",
        "cfg lines that ran:",
        "  *small.cfg: 10-11, 16-17",
        "last statements that ran:",
        '  *small.cfg:17: sd_lookup("speed_dial", "sip:$rU@example.com");',
    ])
    # no Python traceback for a scenario failure
    assert "Traceback" not in res.stdout.str()


def test_schema_errors_fail_the_file_with_lines(project):
    project.makefile(".kst.yaml", broken="config: small.cfg\nsteps:\n  - send: {method: OPTIONS}\n")
    res = project.runpytest()
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*invalid scenario file:*",
                              "*broken.kst.yaml:3: steps?0?.send: give raw, or at least method and ruri*"])


def test_junit_xml(project):
    project.makefile(".kst.yaml", ok=PASSING, bad=FAILING)
    res = project.runpytest("--junitxml=junit.xml")
    res.assert_outcomes(passed=1, failed=1)
    xml = (project.path / "junit.xml").read_text()
    assert 'name="options ping"' in xml and 'name="expects a reply"' in xml
    assert "expected a reply 404" in xml


def test_skip_and_xfail_from_yaml(project):
    project.makefile(".kst.yaml", s="config: small.cfg\nrequires: [no_such_module]\nsteps: [{advance: 1}]\n",
                     x=FAILING.replace("name: expects a reply", "name: known\nxfail: bug 7"))
    res = project.runpytest("-rsx")
    res.assert_outcomes(skipped=1, xfailed=1)
    res.stdout.fnmatch_lines(["*needs kscript module no_such_module*"])


def test_kscript_load_fixture_and_helpers(project):
    project.makepyfile(test_api="""
        from kscript.sip import request
        from kscript.testing import expect, KscriptAssertionError
        import pytest

        def test_load(kscript_load, kscript_clock):
            script = kscript_load("small.cfg", mocks={"nat_uac_test": 1, "sd_lookup": 1})
            assert script.redis_mode == "embedded"
            assert script.clock is kscript_clock
            r = script.process(request("OPTIONS", "sip:127.0.0.1"), src="udp:10.0.0.1:5060")
            expect(r).no_reply().log("options from 10.0.0.1").routes("PING").pv("$var(n)", 1)
            kscript_clock.advance(60)
            r = script.process(request("OPTIONS", "sip:127.0.0.1"), src="udp:10.0.0.1:5060")
            expect(r).log("options from 10.0.0.1 n=2 at 1700000060")

        def test_helper_failure_text(kscript_load):
            script = kscript_load("small.cfg", mocks={"nat_uac_test": 1, "sd_lookup": 1})
            r = script.process(request("MESSAGE", "sip:bob@127.0.0.1"))
            with pytest.raises(KscriptAssertionError) as ei:
                expect(r).reply(404)
            text = str(ei.value)
            assert text.startswith("expected a reply 404; replies sent: none")
            assert "| MESSAGE sip:bob@127.0.0.1 SIP/2.0" in text
            assert "WARN   other MESSAGE" in text
            assert "route flow (cfgt): start|DEFAULT_ROUTE, return|DEFAULT_ROUTE" in text
            assert "small.cfg: 10-11, 16-17" in text
    """)
    res = project.runpytest()
    res.assert_outcomes(passed=2)


def test_scripts_are_closed_after_the_test(project):
    project.makepyfile(test_close="""
        import kscript.script
        closed = []
        orig = kscript.script.Script.close

        def test_a(monkeypatch, kscript_load):
            monkeypatch.setattr(kscript.script.Script, "close", lambda self: closed.append(self) or orig(self))
            kscript_load("small.cfg"); kscript_load("small.cfg")

        def test_b():
            assert len(closed) == 2
    """)
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_redis_option_and_ini(project):
    project.makepyfile(test_r="""
        def test_mode(kscript_load):
            assert kscript_load("small.cfg").redis_mode == "redis://127.0.0.1:1/0"
    """)
    project.runpytest("--kscript-redis", "redis://127.0.0.1:1/0").assert_outcomes(passed=1)
    project.makeini("[pytest]\nkscript_redis = redis://127.0.0.1:1/0\n")
    project.runpytest().assert_outcomes(passed=1)


def test_coverage_option(project):
    project.makefile(".kst.yaml", ok=PASSING)
    res = project.runpytest("--kscript-coverage", "--kscript-coverage-html", "htmlcov")
    res.assert_outcomes(passed=1)
    res.stdout.fnmatch_lines(["*kscript route coverage*", "*small.cfg*", "TOTAL*", "HTML report: *index.html"])
    assert (project.path / "htmlcov" / "index.html").exists()


def test_trace_option_writes_cfgt_json(project):
    import json
    project.makefile(".kst.yaml", ok=PASSING)
    project.runpytest("--kscript-trace", "traces").assert_outcomes(passed=1)
    doc = json.loads((project.path / "traces" / "ok-1" / "1.json").read_text())
    assert list(doc) == ["flow", "sip_in", "sip_out"]
    assert [next(iter(e)) for e in doc["flow"]] == ["start|DEFAULT_ROUTE", "start|PING", "return|PING",
                                                      "exit|DEFAULT_ROUTE"]
    assert doc["sip_in"][0].startswith("OPTIONS sip:127.0.0.1 SIP/2.0\r\n")
