"""Kamailio's parse-time checks (kscript/checker.py, kscript/typecheck.py).

Each expectation was checked against ``kamailio -c`` 5.6.3: same verdict, same line
(the comment quotes Kamailio's message).
"""

from __future__ import annotations

import pytest

from kscript import nodes as N
from kscript.check import check_text
from kscript.checker import CheckContext, check_config
from kscript.catalogue import load as load_catalogue

K = '#!KAMAILIO\nloadmodule "pv.so"\n'


def check(text: str, **kw):
    return check_text(text, "t.cfg", **kw)


def first(text: str):
    rep = check(text)
    assert rep.errors, "expected an error"
    e = rep.errors[0]
    return e.pos.line, e.message


def ok(text: str) -> bool:
    rep = check(text)
    return rep.ok


# ---------------------------------------------------------------- modules and modparam
class TestModules:
    def test_unknown_module(self):
        assert first('loadmodule "nosuch.so"\nrequest_route { exit; }\n') == \
            (1, "failed to load module 'nosuch': Kamailio 5.6 has no such module (could not find module <nosuch>)")

    def test_only_the_basename_of_a_module_path_matters(self):
        assert ok('loadmodule "/usr/lib/x86_64-linux-gnu/kamailio/modules/tm.so"\nloadmodule "sl"\n'
                  'request_route { t_relay(); sl_send_reply("404", "x"); }\n')

    def test_loading_a_module_twice_fails(self):
        # load_module(): "attempting to load the same module twice" -> failed to load module
        line, msg = first('loadmodule "sl.so"\nloadmodule "/usr/lib/x86_64-linux-gnu/kamailio/modules/sl.so"\n')
        assert line == 2 and "twice" in msg

    @pytest.mark.parametrize("mp,detail", [
        ('modparam("tm", "fr_timer", "3000")', "takes an integer"),  # <1:string> not found
        ('modparam("tm", "nosuch", 1)', "has no parameter 'nosuch'"),
        ('modparam("nosuch", "x", 1)', "no loaded module matches"),
    ])
    def test_modparam_errors_at_the_closing_paren(self, mp, detail):
        rep = check(f'loadmodule "tm.so"\n{mp}\nrequest_route {{ exit; }}\n')
        e = rep.errors[0]
        assert e.pos.line == 2 and e.pos.column == len(mp) and detail in e.message
        assert e.message.startswith("Can't set module parameter")

    def test_modparam_regex_is_anchored_case_insensitive_posix(self):
        assert ok('loadmodule "tm.so"\nloadmodule "sl.so"\nmodparam("t.", "fr_timer", 3000)\n'
                  'modparam("TM|nosuch", "fr_timer", 3000)\nrequest_route { exit; }\n')

    def test_modparam_before_its_loadmodule(self):
        assert first('modparam("tm", "fr_timer", 3000)\nloadmodule "tm.so"\n')[0] == 1

    def test_shm_and_user_must_come_before_modparam_and_routes(self):
        rep = check('shm_force_alloc=1\nloadmodule "pv.so"\nmodparam("pv", "varset", "a=i:1")\n'
                    'shm_force_alloc=1\nuser="root"\nrequest_route { exit; }\n')
        assert [e.pos.line for e in rep.errors] == [4, 5]

    def test_bad_log_facility(self):
        assert first("log_facility=LOG_FOO\nrequest_route { exit; }\n")[1].startswith("bad facility")


# ---------------------------------------------------------------- functions
class TestFunctions:
    def test_unknown_command_at_the_closing_paren(self):
        rep = check('loadmodule "xlog.so"\nrequest_route {\n  xlog("L_INFO", "a",\n  "b", "c");\n}\n')
        e = rep.errors[0]
        assert (e.pos.line, e.pos.column) == (4, 11)
        assert e.message.startswith("unknown command, missing loadmodule? failed to find command xlog (params 4)")

    def test_function_of_a_module_not_loaded(self):
        assert "missing loadmodule" in first("request_route { t_relay(); }\n")[1]

    def test_module_loaded_after_the_use(self):
        assert first('request_route { t_relay(); }\nloadmodule "tm.so"\n')[0] == 1

    @pytest.mark.parametrize("block,func,allowed", [
        ("request_route", "t_drop_replies()", False),
        ("route[X]", "t_drop_replies()", False),  # sub-routes are checked as request routes [V]
        ("failure_route[F]", "t_drop_replies()", True),
        ("failure_route[F]", 'sl_send_reply("404", "x")', False),
        ("failure_route[F]", "loose_route()", False),
        ("onreply_route[R]", "sl_forward_reply()", True),  # tm onreply route
        ("onreply_route", "sl_forward_reply()", True),  # core reply route
        ("reply_route", "t_relay()", False),
        ("branch_route[B]", "t_drop_replies()", False),
        ("event_route[xhttp:request]", "loose_route()", True),
    ])
    def test_command_cannot_be_used_in_the_block(self, block, func, allowed):
        cfg = ('loadmodule "tm.so"\nloadmodule "sl.so"\nloadmodule "rr.so"\nloadmodule "xhttp.so"\n'
               f"{block} {{\n  {func};\n}}\n")
        rep = check(cfg)
        if allowed:
            assert rep.ok, rep.errors
        else:
            assert rep.errors[0].pos.line == 6
            assert rep.errors[0].message.startswith("Command cannot be used in the block")

    def test_onsend_route_allows_few_commands(self):
        line, msg = first('loadmodule "pv.so"\nonsend_route {\n  setflag(1);\n  rewritehost("x");\n}\n')
        assert line == 4 and msg.startswith("command not allowed in onsend_route")
        assert first("onsend_route {\n  route(X);\n}\nroute[X] { exit; }\n")[0] == 2

    def test_onsend_keywords_outside_onsend_route(self):
        assert first("request_route { if (snd_ip == 1.2.3.4) exit; }\n")[1] == "snd_ip allowed only in onsend_routes"
        assert ok("onsend_route { if (snd_ip == 1.2.3.4) drop; }\n")

    def test_parameter_not_constant(self):
        # mod_f_params_pre_fixup: xlog_fixup has no free function -> constants only [V]
        line, msg = first(K + 'loadmodule "xlog.so"\nrequest_route { xlog("L_INFO", $var(x)); }\n')
        assert line == 4 and msg == "function xlog: parameter 2 is not constant"
        # fixup_igp_null (maxfwd) has one: a PV is fine
        assert ok(K + 'loadmodule "maxfwd.so"\nrequest_route { mf_process_maxfwd_header($var(x)); }\n')

    def test_function_call_in_the_parameters_of_a_function(self):
        line, msg = first(K + 'loadmodule "xlog.so"\nloadmodule "sl.so"\n'
                          'request_route { sl_send_reply("404", xlog("x")); }\n')
        assert line == 5 and msg.startswith("use of function execution inside params not allowed")

    def test_flags(self):
        assert first('flags F1, F2:3;\nrequest_route {\n setflag(F2);\n setflag(F4);\n}\n') == \
            (4, "flag not declared: 'F4' (declare it with `flags F4;` or #!define it as a number)")
        assert first("request_route { setflag(32); }\n")[1].startswith("bad flag value 32")
        assert first("flags F1:40;\nrequest_route { exit; }\n")[1].startswith("register flag failed")


# ---------------------------------------------------------------- PVs
class TestPVs:
    def test_unknown_pv_class_in_kamailio_mode(self):
        line, msg = first("#!KAMAILIO\nrequest_route {\n  $xyz = 1;\n}\n")
        assert line == 3 and msg.startswith("Can't get from cache: $xyz")

    def test_pv_of_a_module_not_loaded(self):
        line, msg = first("#!KAMAILIO\nrequest_route { $var(a) = $sht(t=>k); }\n")
        assert msg.startswith("Can't get from cache: $var(a)") and "pv" in msg

    def test_unknown_bare_pv_is_an_avp_in_max_compat_mode(self):
        # no #!KAMAILIO: `$xyz` that is not a PV is the AVP `xyz` (cfg.y avp_pvar) [V]
        rep = check('loadmodule "pv.so"\nrequest_route { $xyz = 1; $var(a) = $abc + $ru; }\n')
        assert rep.ok
        assign = rep.config.routes()[0].body.body[0]
        assert assign.target.text == "$avp(xyz)"

    def test_unknown_transformation(self):
        assert first(K + "request_route { $var(a) = $(ru{uri.nosuch}); }\n")[1].startswith(
            "Can't get from cache: $(ru{uri.nosuch})")

    def test_pv_forms_accepted(self):
        assert ok(K + 'loadmodule "htable.so"\nloadmodule "xlog.so"\n'
                  'request_route {\n $var(a) = $hdr(From) + $(hdr(X)[*]{s.len}) + $avp(s:x) + $xavp(a[0]=>b);\n'
                  ' $var(b) = $sht(t=>$fU) + $(ru{uri.user}{s.tolower});\n}\n')

    def test_read_only_and_transformed_lvalues(self):
        rep = check(K + "request_route {\n  $(ru{uri.user}) = 1;\n  $si = 1;\n}\n")
        assert [(e.pos.line, e.message.split(":")[0]) for e in rep.errors] == [
            (4, "pvar with transformations in assignment left side"), (5, "read only pvar in assignment left side")]

    def test_pv_error_stops_the_check(self):
        # "Can't get from cache" is followed by YYABORT: nothing after it is reported
        rep = check("#!KAMAILIO\nrequest_route {\n  $xyz = 1;\n  nosuch();\n}\n")
        assert len(rep.errors) == 1


# ---------------------------------------------------------------- types
class TestTypes:
    @pytest.mark.parametrize("e,bad", [
        ('3 + "4"', True), ('"5" + 1', False), ('5 == "5"', True), ('"5" == 5', False),
        ('5 + 6 + ""', True), ('"" + 5 + 6', False), ('"10" < "9"', True), ('-"a"', True),
        ("strlen(5)", True), ('strlen("abc") + strempty($var(x))', False), ("defined 5", True),
        ('5 =~ "x"', True), ('"a" =~ 5', False), ('5 eq "5"', True), ('is_method("X") == "1"', True),
        ('(str)5 + 1', False), ('(int)"5" + 1', False), ('1 && "a"', True), ("5 == $null", True),
        ('@ruri.user - 1', True), ('$var(a) + "x" - 1', False),
    ])
    def test_constant_type_errors(self, e, bad):
        rep = check(K + 'loadmodule "textops.so"\nrequest_route {\n  $var(r) = ' + e + ";\n}\n")
        assert (not rep.ok) is bad, rep.errors
        if bad:
            assert rep.errors[0].pos.line == 5 and rep.errors[0].message.startswith("bad expression: type mismatch")

    def test_innermost_mismatch_is_reported_at_its_left_operand(self):
        rep = check(K + 'request_route {\n  $var(r) = 1 + (2 - "x");\n}\n')
        assert rep.errors[0].pos.column == 18  # the `2` (Kamailio: "column 18-24")

    def test_type_errors_in_conditions(self):
        assert first(K + 'request_route {\n  if (3 + "4") { exit; }\n}\n')[0] == 4


# ---------------------------------------------------------------- switch, routes
class TestSwitchAndRoutes:
    def test_switch_checks(self):
        assert first(K + 'request_route { switch ($var(a)) { case 1: break; case "a": break; } }\n')[1] \
            .startswith("type mismatch in case")
        assert first(K + "request_route { switch ($var(a)) { default: break; case 1: break; default: exit; } }\n")[1] \
            .startswith('bad switch(): too many "default:" labels')
        assert first(K + "request_route { switch ($var(a)) { case $var(b): break; } }\n")[1] \
            .startswith("non constant expression in case")

    def test_duplicate_route(self):
        rep = check("request_route { exit; }\nroute[A] { exit; }\nroute[A] {\n  drop;\n}\n")
        assert rep.errors[0].pos.line == 5 and rep.errors[0].message.startswith("duplicate route")
        # the default route is also named "0"; an unnamed block is appended to it
        assert first("request_route { exit; }\nrequest_route { drop; }\nroute[0] { exit; }\n")[0] == 3
        assert ok("route[0] { exit; }\nrequest_route { drop; }\nonreply_route { drop; }\nonreply_route[0] { drop; }\n")


# ---------------------------------------------------------------- ordering and warnings
class TestOrderAndWarnings:
    def test_semantic_errors_before_a_syntax_error_come_first(self):
        rep = check('request_route {\n  t_relay();\n  xlog("x")\n  exit;\n}\n')
        assert [e.pos.line for e in rep.errors] == [2, 3, 4]  # t_relay, xlog (not loaded), then `exit`

    def test_errors_are_ordered_as_kamailio_prints_them(self):
        # the type error of `1 + "a"` is printed when the following `+` is read, before the PV
        rep = check('#!KAMAILIO\nloadmodule "pv.so"\nrequest_route { $var(x) = 1 + "a" + $xyz; }\n')
        assert rep.errors[0].message.startswith("bad expression") and len(rep.errors) == 2

    def test_route_warnings(self):
        rep = check('loadmodule "tm.so"\nrequest_route {\n  route(NOPE);\n  t_on_failure("MISSING");\n'
                    '  t_on_reply("R");\n}\nonreply_route[R] { drop; }\n')
        assert rep.ok
        msgs = [w.message for w in rep.warnings]
        assert any("route 'NOPE' is called but not defined" in m for m in msgs)
        assert any('t_on_failure("MISSING")' in m for m in msgs)
        assert not any('t_on_reply("R")' in m for m in msgs)

    def test_not_emulated_warning(self):
        rep = check_text('loadmodule "tm.so"\nrequest_route { t_relay(); t_check_trans(); }\n', "t.cfg",
                         emulated={("tm", "t_relay")})
        msgs = [w.message for w in rep.warnings]
        assert any("t_check_trans() (module tm) is not emulated" in m for m in msgs)
        assert not any("t_relay()" in m for m in msgs)


def test_ast_walking_interface():
    """CheckContext/check_config (used by the REPL) run the same checks over a parsed tree."""
    from kscript.parser import parse_source
    from kscript.preprocessor import Preprocessor
    cfg = parse_source(Preprocessor().run_text(
        'loadmodule "tm.so"\nrequest_route { t_relay(); nosuch(1); $var(a) = 1 + "x"; }\n', "t.cfg"))
    ctx = CheckContext(load_catalogue())
    check_config(cfg, ctx)
    assert [e.message.split(",")[0] for e in ctx.errors][:2] == ["unknown command", "Can't get from cache: $var(a) ($var is exported by module pv"]
    assert isinstance(cfg, N.Config)


def test_fast_catalogue_agrees_with_the_catalogue():
    from kscript.checker import FastCatalogue
    full = load_catalogue()
    fast = FastCatalogue(FastCatalogue.digest(full))
    for m in full.modules():
        assert fast.has_module(m) and fast.exports_name(m) == full.exports_name(m)
        for fname in (full.module(m).get("functions") or {}):
            a = sorted((mod, e["nparams"], e.get("route_mask")) for mod, e in full.find_function(fname, [m]))
            b = sorted((mod, e["nparams"], e.get("route_mask")) for mod, e in fast.find_function(fname, [m]))
            assert a == b
        for pv in (full.module(m).get("pvs") or {}):
            fa, fb = full.pv_class(pv, [m]), fast.pv_class(pv, [m])
            assert (bool(fa["has_name"]), bool(fa["indexed"]), bool(fa["writable"])) == \
                (fb["has_name"], fb["indexed"], fb["writable"])
    for cls in ("s", "uri", "json", "nosuch"):
        assert fast.transformation_names(cls, ["pv", "json"]) == full.transformation_names(cls, ["pv", "json"])
