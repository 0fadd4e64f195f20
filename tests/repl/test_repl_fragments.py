"""Parsing REPL input: expression or statements, complete or not (the parser decides)."""

from __future__ import annotations

import pytest

from kscript import nodes as N
from kscript.errors import KscriptError
from kscript.repl.fragments import Incomplete, input_status, parse_input


@pytest.mark.parametrize("text, kind", [
    ("$ru", "expr"),
    ("1 + 2 * 3", "expr"),
    ('$(hdr(From){tobody.user})', "expr"),
    ('xlog("L_INFO", "x\\n")', "expr"),  # a call: run as a statement by the session
    ("route(RELAY)", "expr"),
    ("$var(x) = 1", "stmts"),  # the final ';' may be left out
    ("$var(x) = 1;", "stmts"),
    ("$var(x) = 1; $var(y) = 2;", "stmts"),
    ("exit", "stmts"),
    ("drop", "stmts"),
    ("return 1", "stmts"),
    ('if ($rU == "bob") xlog("L_INFO", "b\\n")', "stmts"),
    ("# only a comment", "empty"),
    ("", "empty"),
])
def test_kinds(text, kind):
    assert parse_input(text).kind == kind


@pytest.mark.parametrize("text", [
    "if ($var(x) == 1) {",
    "if ($var(x) == 1) {\n  xlog(\"L_INFO\", \"one\\n\");",
    'switch ($rm) {\ncase "INVITE":',
    "1 +",
    "$var(x) = 1 +",
    'xlog("L_INFO", "an unterminated string',
    "/* an open comment",
    "#!ifdef WITH_X",
    "while ($var(i) < 3)",
])
def test_incomplete_input_continues(text):
    with pytest.raises(Incomplete):
        parse_input(text)
    assert input_status(text) == "incomplete"


def test_complete_after_closing_brace():
    text = 'if ($var(x) == 1) {\n  xlog("L_INFO", "one\\n");\n}'
    assert input_status(text) == "complete"
    p = parse_input(text)
    assert isinstance(p.stmts[0], N.If)
    assert p.stmts[0].then.body[0].pos.line == 2  # positions are those of the input


@pytest.mark.parametrize("text, line, col, message", [
    ("1 +* 2", 1, 4, "unexpected '*'"),
    ("$var(x) = = 2", 1, 11, "unexpected '='"),
    ("foo bar", 1, 5, "unexpected 'bar'"),
    ("if (1) {\n  $var(x) 2;\n}", 2, 11, "unexpected number 2"),
    ("$var(x) += 1", 1, 9, "'+=' does not exist"),
])
def test_syntax_errors_have_position_and_caret(text, line, col, message):
    assert input_status(text) == "error"
    with pytest.raises(KscriptError) as ei:
        parse_input(text)
    e = ei.value
    assert (e.pos.file, e.pos.line, e.pos.column) == ("<repl>", line, col)
    assert message in e.message
    rendered = str(e).split("\n")
    assert rendered[-1] == "  " + " " * (col - 1) + "^"  # the caret under the offending token


def test_defines_of_the_config_and_typed_ones():
    p = parse_input("FOO * 2", {"FOO": "21"})
    assert isinstance(p.expr, N.Binary) and p.expr.left.value == 21
    assert p.expr.right.pos.column == 7  # columns of what was typed, not of the expansion
    p = parse_input('#!define GREETING "hi"\nGREETING')
    assert p.expr.value == "hi"
    assert p.defines["GREETING"] == '"hi"'


def test_meta_commands_are_complete():
    assert input_status(":help") == "complete"
    assert input_status("  :show CHECK") == "complete"
