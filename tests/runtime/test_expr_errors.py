"""Failing expressions (division/modulo by 0): Kamailio's core logs while the failure
unwinds (core/rvalue.c@5.6.3 int_intop2, rval_expr_eval, lval_assign; core/action.c
IF_T, DROP_T), and what the statement does then. Recorded in
tests/conformance/cases/core_expr_errors; these cover the forms that case leaves out."""

from __future__ import annotations

import kscript

HEADER = """#!KAMAILIO
debug=3
loadmodule "pv.so"
loadmodule "xlog.so"
"""

OPTIONS = kscript.sip.request("OPTIONS", "sip:bob@127.0.0.1", from_="sip:alice@example.com")


def _run(tmp_path, body_lines: list[str], extra: str = "") -> list[str]:
    """Run the request_route made of ``body_lines`` (the first is line 7 of the file);
    the core lines (with their level) and the script's lines, in order."""
    head = HEADER + "\nrequest_route {\n"
    assert head.count("\n") == 6
    cfg = tmp_path / "t.cfg"
    cfg.write_text(head + "".join(line + "\n" for line in body_lines) + "}\n" + extra)
    res = kscript.load(cfg).process(OPTIONS)
    return [f"{r.level} {r.text.rstrip()}" if r.source == "core" else r.text.rstrip()
            for r in res.log if r.source in ("core", "script")]


DIV0 = "ERR rv div by 0"
MOD0 = "ERR rv mod by 0"


def _failed(span):
    return f"ERR rval expression evaluation failed {span}"


def test_assignment_keeps_the_old_value_and_logs_twice(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(z) = 0; $var(q) = 7;',
        '\t$var(q) = 10 mod $var(z);',               # line 8
        '\txlog("L_INFO", "q=$var(q)\\n");',
    ])
    assert logs == [MOD0, _failed("(8,12-8,25)"), _failed("(8,12-8,25)"), "q=7"]


def test_if_condition_is_false(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(z) = 0;',
        '\tif (1 + 10 / $var(z)) { xlog("L_INFO", "then\\n"); } else { xlog("L_INFO", "else\\n"); }',
    ])
    assert logs == [DIV0, "ERR if expression evaluation failed (8,6-8,21)", "else"]


def test_exit_and_drop_values_are_e_bug(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(z) = 0;',
        '\troute(R);',
        '\txlog("L_INFO", "rc=$rc\\n");',
        '\texit(1 / $var(z));',
        '\txlog("L_INFO", "not reached\\n");',
    ], extra='route[R] {\n\treturn 1 mod $var(z);\n}\n')
    assert logs[:3] == [MOD0, "WARN failed to eval int expression", "rc=-5"]
    assert logs[3:5] == [DIV0, "WARN failed to eval int expression"]
    assert "not reached" not in logs


def test_while_stops_silently_and_switch_without_default_returns_minus_one(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(z) = 0; $var(w) = 0;',
        '\twhile ($var(w) < 3 && 1 / $var(z)) { $var(w) = $var(w) + 1; }',
        '\txlog("L_INFO", "w=$var(w)\\n");',
        '\troute(S);',
        '\txlog("L_INFO", "rc=$rc\\n");',
    ], extra='route[S] {\n\tswitch (5 mod $var(z)) {\n\t\tcase 1:\n\t\t\tbreak;\n\t}\n}\n')
    assert logs == [DIV0, "w=0", MOD0, "rc=-1"]


def test_int_context_of_a_str_cast_logs_nothing_more(tmp_path):
    # rval_expr_eval_int(RVE_STR_OP) evaluates its operand with rval_expr_eval_rvint:
    # the division's failure is not logged again on the way up
    logs = _run(tmp_path, [
        '\t$var(z) = 0;',
        '\tif ((str)(1 / $var(z))) { xlog("L_INFO", "then\\n"); } else { xlog("L_INFO", "else\\n"); }',
    ])
    assert logs == [DIV0, "ERR if expression evaluation failed (8,12-8,22)", "else"]


def test_defined_of_a_compound_expression_does_not_evaluate_it(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(z) = 0; $var(s) = "a";',
        '\t$var(q) = defined ($var(s) + 1 / $var(z));',
        '\txlog("L_INFO", "q=$var(q)\\n");',
    ])
    assert logs == ["q=1"]


def test_int_var_compared_with_empty_strings(tmp_path):
    logs = _run(tmp_path, [
        '\t$var(i) = 0; $var(e) = "";',
        '\tif ($var(i) == "") { xlog("L_INFO", "lit: true\\n"); } else { xlog("L_INFO", "lit: false\\n"); }',
        '\tif ($var(i) == $var(e)) { xlog("L_INFO", "var: true\\n"); } else { xlog("L_INFO", "var: false\\n"); }',
        '\tif ($var(i) != "") { xlog("L_INFO", "ne: true\\n"); } else { xlog("L_INFO", "ne: false\\n"); }',
    ])
    # `x == ""` is strempty(x) (rve_opt_01); an int 0 is "0"; `!=` compares as ints
    assert logs == ["lit: false", "var: true", "ne: false"]
