"""Evaluation of REPL input and the meta-commands, through ReplSession (no terminal)."""

from __future__ import annotations

import threading
import time

import pytest

from kscript.errors import KscriptError
from kscript.repl.session import ReplSession


# ---------------------------------------------------------------- evaluation
def test_expression_prints_value_and_type(repl):
    assert repl.run("$ru") == '"sip:bob@example.com" (str)'
    assert repl.run("1 + 2 * 3") == "7 (int)"
    assert repl.run("$hdr(X-Missing)") == "<null> (null)"
    assert repl.run("$(ru{uri.user}{s.len})") == "3 (int)"
    assert repl.run('"a" + "b"') == '"ab" (str)'
    assert repl.run("method") == '"INVITE" (str)'  # a core keyword, shown as $rm


def test_assignment_persists(repl):
    assert repl.run("$var(n) = 41") == "$var(n) = 41 (int)"
    assert repl.run("$var(n) = $var(n) + 1;") == "$var(n) = 42 (int)"
    assert repl.run("$var(n)") == "42 (int)"
    assert repl.run("$avp(who) = $fU") == '$avp(who) = "alice" (str)'
    assert repl.run("$avp(who)") == '"alice" (str)'
    out = repl.run(":pv")
    assert "$var(n) = 42 (int)" in out and '$avp(who) = "alice" (str)' in out


def test_function_call_prints_what_it_did_and_return_code(repl):
    out = repl.run('xlog("L_INFO", "hello $fU\\n")')
    assert out.splitlines() == ["  INFO   hello alice", "=> 1 (true)"]
    assert repl.run('is_method("REGISTER")') == "=> -1 (false)"
    out = repl.run('rewriteuser("carol")')
    assert '~ $ru: "sip:bob@example.com" -> "sip:carol@example.com"' in out
    assert repl.run("$rU") == '"carol" (str)'


def test_statements_and_blocks(repl):
    out = repl.run('if ($fU == "alice") {\n  $var(a) = 1;\n  xlog("L_INFO", "alice\\n");\n}')
    assert out.splitlines() == ["  INFO   alice", "  ~ $var(a): unset -> 1"]
    assert repl.run("exit").endswith(": exit (the script stops here)")
    assert repl.run("exit(3)") == "=> 3: exit (the script stops here)"
    assert repl.run("drop") == "=> drop (the script stops here; nothing is sent)"
    assert repl.run("return 3") == "=> return 3 (true)"


def test_route_runs_the_route(repl):
    out = repl.run("route(CHECK)")
    assert out.splitlines() == [
        "  INFO   known user bob  [repl.cfg:26]",
        "  ~ $var(known): unset -> 1",
        "=> route[CHECK] returned 1 (true)",
    ]
    repl.run('$ru = "sip:eve@example.com"')
    out = repl.run("route(CHECK)")
    assert "WARN   unknown user eve  [repl.cfg:30]" in out
    assert out.endswith("=> route[CHECK] returned -1 (false)")


def test_defines_of_the_config_work(repl):
    assert repl.run("DEFAULT_USER") == '"bob" (str)'
    assert repl.run("#!define TWICE 2\nTWICE * 21") == "42 (int)"
    assert repl.run("TWICE") == "2 (int)"  # typed defines persist


def test_errors_print_and_the_session_goes_on(repl):
    out = repl.run("1 +* 2")
    assert out.splitlines() == ["<repl>:1:4: error: syntax error: unexpected '*'", "  1 +* 2", "     ^"]
    out = repl.run("nosuch(1)")
    assert "unknown command" in out and "nosuch" in out and "^" in out
    out = repl.run("$nosuchpv")
    assert out.startswith("<repl>:1:1: error:") and "$nosuchpv" in out
    out = repl.run("route(NOPE)")
    assert 'route "NOPE" not found' in out or "not defined" in out
    out = repl.run('$ru = 1 +')
    assert "unexpected end of input" in out
    assert "Traceback" not in "\n".join(repl.lines)
    assert repl.run("1") == "1 (int)"


def test_unemulated_function_fails_when_reached_with_a_hint(repl):
    out = repl.run(":mock")
    assert out == "(no mocks)"
    repl.session.script.mock  # the API exists
    out = repl.run(":mock is_method -5")
    assert out == "is_method(...) now returns -5"
    assert repl.run('is_method("INVITE")') == "=> -5 (false)"


# ---------------------------------------------------------------- messages
def test_send_processes_the_current_message_like_run(repl):
    out = repl.run(":send")
    assert out.splitlines() == [
        "== sample INVITE",
        "  INFO   INVITE from alice to bob (message 1)  [repl.cfg:15]",
        "  INFO   known user bob  [repl.cfg:26]",
        "  NOTICE done with kscript-repl-1  [repl.cfg:21]",
        "  .. ended with 1; 0 message(s) sent",
    ]
    # expressions now see the state after the route
    assert repl.run("$var(known)") == "1 (int)"


def test_msg_from_file_built_and_pasted(repl, tmp_path):
    f = tmp_path / "opt.sip"
    f.write_text("OPTIONS sip:alice@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n"
                 "From: <sip:carol@example.com>;tag=1\nTo: <sip:alice@example.com>\nCall-ID: f1\n"
                 "CSeq: 1 OPTIONS\nContent-Length: 0\n\n")
    out = repl.run(f":msg {f}")
    assert out.startswith("current message: OPTIONS sip:alice@example.com SIP/2.0")
    assert repl.run("$fU") == '"carol" (str)'
    out = repl.run(":send")
    assert "keepalive" in out and out.endswith("ended with 1; 0 message(s) sent")  # exit after route(OPTIONS)
    out = repl.run(":msg REGISTER sip:example.com")
    assert out.startswith("current message: REGISTER sip:example.com SIP/2.0 (REGISTER built")
    assert repl.run("$rm") == '"REGISTER" (str)'
    pasted = ("MESSAGE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2\n"
              "From: <sip:dave@example.com>;tag=2\nTo: <sip:bob@example.com>\nCall-ID: p1\nCSeq: 1 MESSAGE\n"
              "Content-Type: text/plain\nContent-Length: 99\n\nhello\n\n")
    repl.session.read_paste = lambda: pasted
    out = repl.run(":msg")
    assert "Content-Length set to 7" in out and "current message: MESSAGE" in out
    assert repl.run("$rb") == '"hello\\r\\n" (str)'
    assert repl.run("$cl") == "7 (int)"
    out = repl.run(":msg /nonexistent/file.sip")
    assert "cannot read" in out


def test_collect_message_rules():
    from kscript.repl.commands import collect_message, message_complete
    lines = iter(["", "OPTIONS sip:a SIP/2.0", "Content-Length: 5", "", "hello", "", "ignored"])
    assert collect_message(lambda: next(lines, None)) == "OPTIONS sip:a SIP/2.0\nContent-Length: 5\n\nhello\n"
    assert not message_complete("OPTIONS sip:a SIP/2.0\nContent-Length: 5\n")
    assert not message_complete("OPTIONS sip:a SIP/2.0\nContent-Length: 5\n\nhello")
    assert message_complete("OPTIONS sip:a SIP/2.0\nContent-Length: 5\n\nhello\n\n")
    assert message_complete("OPTIONS sip:a SIP/2.0\nContent-Length: 0\n\n")


def test_reply_from_a_file(repl, tmp_path):
    f = tmp_path / "200.sip"
    f.write_text("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\n"
                 "To: <sip:b@b>;tag=2\nCall-ID: r1\nCSeq: 1 INVITE\nContent-Length: 0\n\n")
    out = repl.run(f":reply {f}")
    assert f"== {f}" in out and "message(s) sent" in out


# ---------------------------------------------------------------- the config
def test_routes_and_show(repl):
    out = repl.run(":routes").splitlines()
    assert out[0].split() == ["request_route", "repl.cfg:13"]
    assert [line.split()[0] for line in out] == ["request_route", "route[CHECK]", "route[OPTIONS]", "route[SPIN]"]
    out = repl.run(":show CHECK").splitlines()
    assert out[0].startswith("route[CHECK]") and out[0].endswith("repl.cfg:24-32")
    assert out[1] == "   24  route[CHECK] {"
    assert out[-1] == "   32  }"
    assert "no route named" in repl.run(":show NOPE")


def test_help_lists_every_command(repl):
    out = repl.run(":help")
    for cmd in ("help", "load", "reload", "msg", "send", "reply", "routes", "show", "pv", "redis", "trace",
                "break", "step", "next", "continue", "where", "quit"):
        assert f":{cmd}" in out
    assert "unknown command ':frob'" in repl.run(":frob")


def test_load_and_reload(repl, tmp_path):
    other = tmp_path / "other.cfg"
    other.write_text('loadmodule "pv.so"\nloadmodule "xlog.so"\nrequest_route {\n\txlog("L_ERR", "other\\n");\n}\n'
                     "route[ONLY] {\n\t$var(only) = 1;\n}\n")
    repl.run("$var(x) = 1")
    out = repl.run(f":load {other}")
    assert out.startswith(f"loaded {other}: 2 modules, routes: request_route, route[ONLY]")
    assert repl.run("$var(x)") == "0 (int)"  # a new script: variables start afresh
    assert "known" not in repl.run(":routes")
    bad = tmp_path / "bad.cfg"
    bad.write_text("request_route {\n\txlog(\n}\n")
    out = repl.run(f":load {bad}")
    assert "bad.cfg:3:1: error" in out
    assert "route[ONLY]" in repl.run(":routes")  # the previous config stays
    assert repl.run(":reload").startswith(f"loaded {other}")


def test_redis_without_ndb_redis(repl):
    assert repl.run(":redis") == "ndb_redis servers: none"
    assert "ndb_redis" in repl.run(":redis cache GET x")


def test_default_config_when_none_is_given():
    lines = []
    s = ReplSession(None, out=lines.append)
    try:
        assert s.script.loaded[:3] == ["pv", "xlog", "textops"]
        s.execute('xlog("L_INFO", "ru=$ru\\n")')
        assert lines == ["  INFO   ru=sip:bob@example.com", "=> 1 (true)"]
    finally:
        s.close()


def test_a_config_that_does_not_load_is_an_error(tmp_path):
    bad = tmp_path / "bad.cfg"
    bad.write_text("request_route {\n")
    with pytest.raises(KscriptError):
        ReplSession(str(bad), out=lambda t: None)


# ---------------------------------------------------------------- trace and debugger
def test_trace_prints_each_action_with_file_line(repl):
    assert repl.run(":trace on") == "trace is on"
    out = repl.run("route(CHECK)").splitlines()
    assert out[:4] == [
        "  trace -> route[CHECK]",
        "  trace repl.cfg:25 route[CHECK]: if ($rU == DEFAULT_USER) {",
        '  trace repl.cfg:26 route[CHECK]: xlog("L_INFO", "known user $rU\\n");',
        "  INFO   known user bob  [repl.cfg:26]",
    ]
    assert "  trace <- route[CHECK] return 1" in out
    assert repl.run(":trace off") == "trace is off"
    assert "trace" not in repl.run("route(CHECK)")


def test_breakpoint_step_next_where_continue(repl):
    assert repl.run(":break CHECK") == "breakpoint #1 route[CHECK]"
    out = repl.run(":send").splitlines()
    assert out[-2] == "stopped in route[CHECK] at repl.cfg:25 (breakpoint #1 route[CHECK])"
    assert out[-1].startswith("=> 25")
    assert repl.session.prompt_text() == "kscript[CHECK:25]> "
    # evaluate in the paused message
    assert repl.run("$rU") == '"bob" (str)'
    assert repl.run("$var(seen)") == "1 (int)"
    out = repl.run(":where").splitlines()
    assert out == ["  #0 route[CHECK] at repl.cfg:25  if ($rU == DEFAULT_USER) {",
                   "  #1 request_route at repl.cfg:20  route(CHECK);"]
    out = repl.run(":step")
    assert "stopped in route[CHECK] at repl.cfg:26" in out
    out = repl.run(":next")
    assert out.splitlines()[0] == "  INFO   known user bob  [repl.cfg:26]"
    assert "at repl.cfg:27" in out
    out = repl.run(":finish")  # back in request_route after route(CHECK)
    assert "stopped in request_route at repl.cfg:21" in out
    assert "busy" not in repl.run(":send")  # refused while paused
    out = repl.run(":continue")
    assert out.splitlines() == ["  NOTICE done with kscript-repl-1  [repl.cfg:21]",
                                "  .. ended with 1; 0 message(s) sent"]
    assert repl.session.paused is None and repl.session.prompt_text() == "kscript> "


def test_line_breakpoint_and_abort(repl):
    out = repl.run(":break repl.cfg:29")  # a closing brace: the next statement is taken
    assert out == "breakpoint #1 repl.cfg:30 in route[CHECK] (the first statement at or after line 29)"
    repl.run('$ru = "sip:eve@example.com"')
    out = repl.run("route(CHECK)")
    assert "stopped in route[CHECK] at repl.cfg:30 (breakpoint #1 repl.cfg:30)" in out
    assert "a run is paused" in repl.run(":send")
    assert repl.run(":abort") == "interrupted at repl.cfg:30"
    assert repl.session.paused is None
    assert repl.run(":break") == "  #1 repl.cfg:30  hit 1 time(s)"
    assert repl.run(":clear 1") == "deleted breakpoint #1 repl.cfg:30"
    assert repl.run(":break") == "(no breakpoints)"
    assert "no statement" in repl.run(":break repl.cfg:999")


def test_step_before_a_run_stops_at_its_first_action(repl):
    assert "stops at its first action" in repl.run(":step")
    out = repl.run(":send")
    assert "stopped in request_route at repl.cfg:14" in out
    out = repl.run(":next")
    assert out.startswith("stopped in request_route at repl.cfg:15")
    out = repl.run(":next")
    assert out.splitlines()[0] == "  INFO   INVITE from alice to bob (message 1)  [repl.cfg:15]"
    assert "stopped in request_route at repl.cfg:16" in out
    repl.run(":continue")
    assert repl.session.paused is None


def test_ctrl_c_cancels_a_running_route(repl):
    """Ctrl-C while a route runs: the abort flag makes the next action raise ScriptAbort."""
    session = repl.session
    timer = threading.Timer(0.5, session.tracer.abort_flag.set)
    timer.start()
    t0 = time.monotonic()
    out = repl.run("route(SPIN)")
    timer.cancel()
    assert time.monotonic() - t0 < 10
    assert out.startswith("interrupted at repl.cfg:40")
    assert "~ $var(spin): unset -> " in out
    assert repl.run("1") == "1 (int)"


def test_reply_built_from_a_status_code_goes_to_the_relayed_branch(tmp_path):
    from kscript.modules import registry
    if registry.module_class("tm") is None:
        pytest.skip("tm is not emulated")
    cfg = tmp_path / "relay.cfg"
    cfg.write_text('debug=2\nloadmodule "pv.so"\nloadmodule "xlog.so"\nloadmodule "sl.so"\nloadmodule "tm.so"\n'
                   'request_route {\n\tt_on_reply("R");\n\t$du = "sip:10.0.0.9:5060";\n\tt_relay();\n}\n'
                   'onreply_route[R] {\n\txlog("L_INFO", "reply $rs $rr\\n");\n}\n')
    lines: list[str] = []
    s = ReplSession(str(cfg), out=lines.append)
    try:
        s.execute(":send")
        assert any("-> request to udp:10.0.0.9:5060: INVITE sip:bob@example.com SIP/2.0" in x for x in lines)
        del lines[:]
        s.execute(":reply 180")
        out = "\n".join(lines)
        assert out.startswith("== 180")
        assert "INFO   reply 180 Ringing  [relay.cfg:12]" in out
        assert "-> reply to udp:127.0.0.1:5060: SIP/2.0 180 Ringing" in out
        del lines[:]
        s.execute(":reply 486 Busy Here")
        assert "-> reply to udp:127.0.0.1:5060: SIP/2.0 486 Busy Here" in "\n".join(lines)
    finally:
        s.close()
