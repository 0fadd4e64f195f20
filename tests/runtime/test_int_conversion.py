"""Failed string -> int conversions in expressions: Kamailio's two core warnings
(core/rvalue.c@5.6.3 rval_get_int, then rval_expr_eval_int with the expression's
``fpos`` as cfg.y computes it), and ``+`` evaluated in an int context."""

from __future__ import annotations

import kscript

HEADER = """#!KAMAILIO
debug=3
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
"""

OPTIONS = kscript.sip.request("OPTIONS", "sip:bob@127.0.0.1", from_="sip:alice@example.com")


def _run(tmp_path, body_lines: list[str]) -> list[str]:
    """Run the request_route made of ``body_lines`` (the first is line 8 of the file);
    the core warnings and the script's lines, in order."""
    head = HEADER + "\nrequest_route {\n"
    assert head.count("\n") == 7
    cfg = tmp_path / "t.cfg"
    cfg.write_text(head + "".join(line + "\n" for line in body_lines) + "}\n")
    res = kscript.load(cfg).process(OPTIONS)
    return [f"{r.level} {r.text.rstrip()}" if r.source == "core" else r.text.rstrip()
            for r in res.log if r.source in ("core", "script")]


def _auto(v):
    return f'WARN automatic string to int conversion for "{v}" failed'


def _rval(span):
    return f"WARN rval expression conversion to int failed {span}"


def test_cast_and_arithmetic_warn_with_the_operand_position(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(s) = "abc";',
        '\t$var(i) = (int)$var(s);',                      # line 9: operand at cols 17-23
        '\t$var(i) = $var(s) * 2;',                       # line 10
        '\t$var(i) = 1 + $var(s);',                       # line 11: int + x converts x
        '\t$var(i) = (int)(str)$var(s);',                 # line 12: (str) keeps its operand's
        '\txlog("L_INFO", "i=$var(i)\\n");',
    ])
    assert logs == [
        _auto("abc"), _rval("(9,17-9,23)"),
        _auto("abc"), _rval("(10,12-10,18)"),
        _auto("abc"), _rval("(11,16-11,22)"),
        _auto("abc"), _rval("(12,22-12,28)"),
        "i=0",
    ]


def test_a_value_right_after_a_parenthesis_has_the_next_tokens_position(tmp_path):
    # bison reads one more token to tell `($v)` from `($v = ...)`: the leaf's position
    # is that token's (recorded: tests/conformance/cases/str_to_int, s8_02_comparisons)
    logs = _run(tmp_path, [
        '\t$var(s) = "abc"; $var(t) = "abd";',
        '\tif ($var(s)) { xlog("L_INFO", "true\\n"); }',                 # line 9: `)`
        '\tif ($var(s) < $var(t)) { xlog("L_INFO", "lt\\n"); }',         # line 10: `<`, $var(t)
        '\t$var(i) = ($var(s) >= 1);',                                   # line 11: `>=`
    ])
    assert logs == [
        _auto("abc"), _rval("(9,13-9,13)"),
        _auto("abc"), _rval("(10,14-10,14)"), _auto("abd"), _rval("(10,16-10,22)"),
        _auto("abc"), _rval("(11,21-11,22)"),
    ]


def test_strings_that_convert_give_no_warning(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(s) = "0x10"; $var(m) = "-3"; $var(e) = "";',
        '\t$var(v) = $var(s) * 2 + (int)$var(m) + $var(e);',
        '\t$var(p) = "7"; if ($var(p)) { xlog("L_INFO", "v=$var(v)\\n"); }',
    ])
    assert logs == ["v=29"]


def test_plus_in_an_int_context_adds_the_operands_as_ints(tmp_path):
    # RVE_PLUS_OP under rval_expr_eval_int: "1" + "2" is 3 there (a value context
    # concatenates); a string on the left makes it a concatenation (RVE_CONCAT_OP),
    # converted as a whole, warned with the position of the whole `+`
    logs = _run(tmp_path, [
        '\t$var(a) = "1"; $var(b) = "2"; $var(x) = "x";',
        '\t$var(i) = (int)($var(a) + $var(b));',
        '\tif ($var(a) + $var(b) > 10) { xlog("L_INFO", "gt\\n"); }',
        '\t$var(c) = $var(a) + $var(b);',
        '\txlog("L_INFO", "i=$var(i) c=$var(c)\\n");',
        '\t$var(i) = (int)($var(x) + $var(a));',        # line 13: $var(x) warned at `+`
        '\t$var(i) = (int)("7" + $var(x));',            # line 14: the concatenation "7x"
    ])
    assert logs == [
        "i=3 c=12",
        _auto("x"), _rval("(13,26-13,26)"),
        _auto("7x"), _rval("(14,18-14,30)"),
    ]


def test_str2int_edges():
    from kscript.runtime.values import str2int
    # str2sint: a lone sign converts to 0; hexstr2int: hex digits only, low 32 bits, signed
    assert [str2int(s) for s in ("", "+", "-", "007", "-7", " 12", "12 ", "--5")] == [0, 0, 0, 7, -7, None, None, None]
    assert [str2int(s) for s in ("0x1A", "0X1f", "0x", "0x 1", "0x1_0", "0x-1", "-0x1")] == [26, 31] + [None] * 5
    assert [str2int(s) for s in ("0xFFFFFFFF", "0x100000001", "2147483648", "-2147483649")] == [-1, 1, None, None]
