"""`kscript repl` without a terminal: statements and meta-commands from a pipe, plain output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CFG = str(Path(__file__).parent / "data" / "repl.cfg")
ROOT = Path(__file__).absolute().parents[2]


def run_repl(stdin: str, *args: str, cfg: str | None = CFG, timeout: float = 60) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "kscript", "repl"] + ([cfg] if cfg else []) + list(args)
    env = dict(os.environ, KSCRIPT_HISTORY=os.devnull)
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def test_statements_through_a_pipe():
    r = run_repl('$ru\n$var(n) = 2\n$var(n) * 21\nxlog("L_INFO", "hi $fU\\n")\n')
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.splitlines() == [
        '"sip:bob@example.com" (str)',
        "$var(n) = 2 (int)",
        "42 (int)",
        "  INFO   hi alice",
        "=> 1 (true)",
    ]


def test_multi_line_blocks_accumulate_until_complete():
    r = run_repl('if ($rU == "bob") {\n  xlog("L_INFO", "bob\\n");\n} else {\n  xlog("L_INFO", "other\\n");\n}\n'
                 "1\n")
    assert r.stdout.splitlines() == ["  INFO   bob", "1 (int)"]


def test_errors_do_not_stop_the_session_and_no_traceback():
    r = run_repl("1 +* 2\nnosuch()\n:frob\n$var(x) = 1 +\n")
    assert r.returncode == 0
    assert "Traceback" not in r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "<repl>:1:4: error: syntax error: unexpected '*'"
    assert any("unknown command" in line and "nosuch" in line for line in lines)
    assert any("unknown command ':frob'" in line for line in lines)
    # the unfinished last input is reported at the end of the input
    assert lines[-3] == "<repl>:1:14: error: syntax error: unexpected end of input"


def test_meta_commands_and_quit():
    r = run_repl(":routes\n:send\n:quit\n$ru\n")
    out = r.stdout.splitlines()
    assert out[0].split() == ["request_route", "repl.cfg:13"]
    assert "== sample INVITE" in out
    assert out[-1] == "  .. ended with 1; 0 message(s) sent"  # nothing after :quit


def test_pasted_message_after_msg():
    r = run_repl(":msg\nOPTIONS sip:127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKq\n"
                 "From: <sip:q@example.com>;tag=1\nTo: <sip:127.0.0.1>\nCall-ID: q1\nCSeq: 1 OPTIONS\n"
                 "Content-Length: 0\n\n$si\n$rm\n:send\n")
    out = r.stdout.splitlines()
    assert out[0] == "current message: OPTIONS sip:127.0.0.1 SIP/2.0 (pasted message, from udp:127.0.0.1:5060)"
    assert out[1:3] == ['"127.0.0.1" (str)', '"OPTIONS" (str)']
    assert "  INFO   keepalive  [repl.cfg:35]" in out


def test_debugger_in_plain_mode():
    r = run_repl(":break CHECK\n:send\n$rU\n:where\n:next\n:continue\n")
    out = r.stdout.splitlines()
    assert "stopped in route[CHECK] at repl.cfg:25 (breakpoint #1 route[CHECK])" in out
    assert '"bob" (str)' in out
    assert "  #1 request_route at repl.cfg:20  route(CHECK);" in out
    assert out[-1] == "  .. ended with 1; 0 message(s) sent"


def test_echo_prints_a_transcript():
    r = run_repl("$var(a) = 1\nif (1) {\n$var(a) = 2;\n}\n$var(a)\n", "--echo")
    out = r.stdout.splitlines()
    assert out[0].startswith("kscript ") and out[0].endswith("REPL for Kamailio 5.6 configs. :help lists the commands, "
                                                             "Ctrl-D quits.")
    assert out[1].startswith(f"loaded {CFG}: 3 modules")
    assert out[2] == "current message: INVITE sip:bob@example.com SIP/2.0 (sample INVITE, from udp:127.0.0.1:5060)"
    assert out[3:] == [
        "kscript> $var(a) = 1",
        "$var(a) = 1 (int)",
        "kscript> if (1) {",
        "     ...> $var(a) = 2;",
        "     ...> }",
        "  ~ $var(a): 1 -> 2",
        "kscript> $var(a)",
        "2 (int)",
    ]


def test_a_config_that_fails_to_load_exits_1(tmp_path):
    bad = tmp_path / "bad.cfg"
    bad.write_text("request_route {\n\txlog(\n}\n")
    r = run_repl("1\n", cfg=str(bad))
    assert r.returncode == 1
    assert "bad.cfg:3:1: error" in r.stderr
    assert "Traceback" not in r.stderr


def test_without_a_config():
    r = run_repl('$(ru{uri.user})\nxlog("L_INFO", "$rm\\n")\n', cfg=None)
    assert r.stdout.splitlines() == ['"bob" (str)', "  INFO   INVITE", "=> 1 (true)"]


def test_defines_from_the_command_line():
    r = run_repl("FOO * 2\n", "-A", "FOO=21")
    assert r.stdout.splitlines() == ["42 (int)"]
