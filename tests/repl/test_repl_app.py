"""The interactive application, driven through prompt_toolkit's pipe input (no terminal)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from kscript.repl.app import ABORT, CANCEL, ReplApp, history_path, make_history
from kscript.repl.completion import ReplCompleter
from kscript.repl.session import ReplSession

CFG = str(Path(__file__).parent / "data" / "repl.cfg")


@pytest.fixture
def pipe():
    with create_pipe_input() as inp:
        yield inp


@pytest.fixture
def app(pipe):
    lines: list[str] = []
    session = ReplSession(CFG, out=lines.append)
    a = ReplApp(session, input=pipe, output=DummyOutput(), history=InMemoryHistory(), printer=lines.append,
                color=False)
    a.lines = lines
    yield a
    session.close()


def drive(app: ReplApp, pipe, *keys: str, pause: float = 0.1) -> str:
    """Type ``keys`` (each chunk after a short pause, so completion can run) into one prompt;
    returns what the prompt returned (CANCEL for Ctrl-C, EOF for Ctrl-D)."""

    async def send():
        for k in keys:
            await asyncio.sleep(pause)
            pipe.send_text(k)
        await asyncio.sleep(10)
        app.prompt_session.app.exit(result="TIMEOUT")

    async def go():
        sender = asyncio.ensure_future(send())
        try:
            return await app.prompt_session.prompt_async(app._message)
        except EOFError:
            return EOF
        finally:
            sender.cancel()

    return asyncio.run(go())


EOF = "<EOF>"


# ---------------------------------------------------------------- multi-line
def test_enter_submits_only_complete_input(app, pipe):
    # One prompt receives all three lines: Enter after '{' and after the xlog line continues.
    text = drive(app, pipe, 'if ($rU == "bob") {\r', 'xlog("L_INFO", "hi $rU\\n");\r', "}\r")
    assert text == 'if ($rU == "bob") {\n    xlog("L_INFO", "hi $rU\\n");\n}'  # auto-indent, '}' dedents
    app.handle(text)
    assert app.lines == ["  INFO   hi bob"]


def test_enter_on_a_complete_line_submits(app, pipe):
    assert drive(app, pipe, "$var(x) = 2\r") == "$var(x) = 2"
    assert drive(app, pipe, "1 +* 2\r") == "1 +* 2"  # a syntax error is submitted, then reported
    app.handle("1 +* 2")
    assert app.lines[0].splitlines()[0] == "<repl>:1:4: error: syntax error: unexpected '*'"


def test_escape_enter_forces_submission(app, pipe):
    assert drive(app, pipe, "if (1) {", "\x1b\r") == "if (1) {"
    app.handle("if (1) {")
    assert "unexpected end of input" in app.lines[0]


def test_ctrl_c_cancels_the_input(app, pipe):
    assert drive(app, pipe, "$var(half", "\x03") == CANCEL
    assert drive(app, pipe, "2\r") == "2"


def test_ctrl_c_at_an_empty_prompt_aborts_a_paused_run(app, pipe):
    app.handle(":break CHECK")
    app.handle(":send")
    assert app.session.paused is not None
    assert drive(app, pipe, "\x03") == ABORT
    app.handle(ABORT)
    assert app.session.paused is None
    assert app.lines[-1] == "interrupted at repl.cfg:25"


def test_ctrl_d_exits(app, pipe):
    assert drive(app, pipe, "\x04") == EOF


# ---------------------------------------------------------------- completion
def test_tab_completes_in_the_prompt(app, pipe):
    assert drive(app, pipe, "$va", "\t", "x)\r") == "$var(x)"
    assert drive(app, pipe, "route(CH", "\t", ")\r") == "route(CHECK)"
    assert drive(app, pipe, ":sh", "\t", " CH", "\t", "\r") == ":show CHECK"


def _complete(session, text):
    c = ReplCompleter(session)
    return [(x.text, x.display_text, x.display_meta_text) for x in c.get_completions(Document(text), CompleteEvent())]


def test_completion_sources(app):
    s = app.session
    pv = _complete(s, "$r")
    assert ("$rU", "$rU", "PV · pv") in pv
    assert any(t == "$var(" for t, *_ in _complete(s, "$va"))
    assert [t for t, *_ in _complete(s, "$var(se")] == ["$var(seen)"]  # PVs the config uses
    trans = [t for t, *_ in _complete(s, "$(ru{uri.u")]
    assert trans == ["uri.uparam", "uri.user"]
    fn = _complete(s, "xlo")
    assert ("xlog(", "xlog()", "xlog · 1-3 params") in fn
    assert any(t == "is_method(" and "textops" in m for t, _d, m in _complete(s, "is_me"))
    assert [t for t, *_ in _complete(s, "route(C")] == ["CHECK"]
    assert ("DEFAULT_USER", "DEFAULT_USER", "define") in _complete(s, "DEFAULT_")
    assert [t for t, *_ in _complete(s, ":sh")] == [":show"]
    assert [t for t, *_ in _complete(s, ":trace o")] == ["on", "off"]
    assert [t for t, *_ in _complete(s, ":break SP")] == ["SPIN"]
    assert _complete(s, 'xlog("L_INFO", "$fU')[0][0] == "$fU"  # PVs inside strings
    assert _complete(s, 'xlog("L_INFO", "abc') == []


def test_completion_of_ndb_redis_servers_and_route_armers(tmp_path):
    cfg = tmp_path / "r.cfg"
    cfg.write_text('loadmodule "pv.so"\nloadmodule "tm.so"\nloadmodule "ndb_redis.so"\n'
                   'modparam("ndb_redis", "server", "name=cache;addr=127.0.0.1;port=6379")\n'
                   'modparam("ndb_redis", "server", "name=sessions;addr=127.0.0.1;port=6380")\n'
                   "request_route {\n\texit;\n}\nfailure_route[MISSED] {\n\texit;\n}\n")
    s = ReplSession(str(cfg), out=lambda t: None)
    try:
        assert [t for t, *_ in _complete(s, ":redis ")] == ["cache", "sessions"]
        assert [t for t, *_ in _complete(s, ":redis cache HG")][:2] == ["HGET", "HGETALL"]
        assert [t for t, *_ in _complete(s, 'redis_cmd("s')] == ["sessions"]
        assert [t for t, *_ in _complete(s, 't_on_failure("')] == ["MISSED"]
        assert ("redis_cmd(", "redis_cmd()") == _complete(s, "redis_cm")[0][:2]
    finally:
        s.close()


# ---------------------------------------------------------------- history
def test_history_file_across_sessions(tmp_path, pipe, monkeypatch):
    path = str(tmp_path / "state" / "history")
    monkeypatch.setenv("KSCRIPT_HISTORY", path)
    assert history_path() == path
    s = ReplSession(CFG, out=lambda t: None)
    a = ReplApp(s, input=pipe, output=DummyOutput(), printer=lambda t: None, color=False)
    assert isinstance(a.history, FileHistory)
    drive(a, pipe, "$var(first) = 1\r")
    drive(a, pipe, "if (1) {\r", "$var(second) = 2;\r", "}\r")
    assert drive(a, pipe, "\x1b[A", "\r") == "if (1) {\n    $var(second) = 2;\n}"  # Up recalls the block
    s.close()
    # a new session reads the same file
    s2 = ReplSession(CFG, out=lambda t: None)
    a2 = ReplApp(s2, input=pipe, output=DummyOutput(), history=make_history(), printer=lambda t: None, color=False)
    assert list(a2.history.load_history_strings())[-1] == "$var(first) = 1"  # newest first
    assert drive(a2, pipe, "\x1b[A", "\r") == "if (1) {\n    $var(second) = 2;\n}"
    s2.close()
    text = open(path).read()
    assert "+$var(first) = 1" in text and "+    $var(second) = 2;" in text


def test_history_path_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("KSCRIPT_HISTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path() == str(tmp_path / "kscript" / "history")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_path() == str(tmp_path / ".local" / "state" / "kscript" / "history")


# ---------------------------------------------------------------- highlighting
def test_highlighting_tokens_of_the_prompt(app):
    lexer = app.prompt_session.lexer
    line = lexer.lex_document(Document('if ($var(x) == 1) { xlog("L_INFO", "x=$var(x)\\n"); route(CHECK); }'))(0)
    styles = {}
    for style, text in line:
        styles.setdefault(text, style)
    assert styles["if"] == "class:pygments.keyword"
    assert styles["$var(x)"] == "class:pygments.name.variable"
    assert styles["xlog"] == "class:pygments.name.function"
    assert styles["CHECK"] == "class:pygments.name.label"
    assert "class:pygments.literal.string.interpol" in [s for s, t in line if t == "$var(x)"]
    meta = lexer.lex_document(Document(":show CHECK"))(0)
    assert meta[1] == ("class:meta-command", ":show")


def test_toolbar_and_prompt_follow_the_state(app):
    bar = "".join(t for _s, t in app._toolbar())
    assert "repl.cfg" in bar and "msg: INVITE sip:bob@example.com SIP/2.0" in bar
    app.handle(":trace on")
    app.handle(":break CHECK")
    app.handle(":send")
    bar = "".join(t for _s, t in app._toolbar())
    assert "trace on" in bar and "1 breakpoint(s)" in bar and "paused in route[CHECK] at repl.cfg:25" in bar
    assert app._message() == [("class:prompt.paused", "kscript[CHECK:25]> ")]
    app.handle(":continue")
    assert app._message() == [("class:prompt", "kscript> ")]


def test_paste_prompt_reads_a_message(app, pipe):
    async def go():
        task = asyncio.get_running_loop().run_in_executor(None, app.read_paste)
        await asyncio.sleep(0.3)
        pipe.send_text("OPTIONS sip:x@example.com SIP/2.0\rVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKp\r"
                       "From: <sip:p@example.com>;tag=1\rTo: <sip:x@example.com>\rCall-ID: paste-1\r"
                       "CSeq: 1 OPTIONS\rContent-Length: 0\r\r")
        return await asyncio.wait_for(task, 10)

    text = asyncio.run(go())
    assert text is not None and text.startswith("OPTIONS sip:x@example.com SIP/2.0\nVia:")
    assert "Call-ID: paste-1" in text
