"""Kamailio 5.6 semantics of the evaluator: the ten points of §8 of the surface map
(values recorded from the real binary, marked [V] there and in tests/conformance)."""

from __future__ import annotations


def test_plus_follows_left_type(run_cfg):
    logs = run_cfg('''
        $var(a) = "5" + 1; xlog("L_INFO", "$var(a)\\n");
        $var(one) = 1; $var(b) = $var(one) + "5"; xlog("L_INFO", "$var(b)\\n");
        $var(c) = $hdr(X-Num) + 1; xlog("L_INFO", "$var(c)\\n");
        $var(d) = $cs + 1; xlog("L_INFO", "$var(d)\\n");
        $var(e) = $hdr(X-Missing) + 1; xlog("L_INFO", "$var(e)\\n");
        $var(f) = "" + 5 + 6; xlog("L_INFO", "$var(f)\\n");
        $var(g) = (int)$hdr(X-Num) + 1; xlog("L_INFO", "$var(g)\\n");
    ''')
    assert logs == ["51", "6", "51", "11", "1", "56", "6"]


def test_comparisons_are_type_directed(run_cfg):
    logs = run_cfg('''
        if ("05" == 5) xlog("L_INFO", "a\\n");
        if ("5" == 5) xlog("L_INFO", "b\\n");
        if ($hdr(X-Missing) == "") xlog("L_INFO", "c\\n");
        if ($hdr(X-Missing) == 0) xlog("L_INFO", "d\\n");
        if ("abc" == "ABC") xlog("L_INFO", "e\\n");
        if ($rm =~ "opt") xlog("L_INFO", "f\\n");
        if (method == "options") xlog("L_INFO", "g\\n");
        if ($rm == "options") xlog("L_INFO", "h\\n");
        $var(i0) = 0;
        if ($var(i0) == "") xlog("L_INFO", "i\\n");
        if ($var(i0) != "") xlog("L_INFO", "j\\n");
    ''')
    assert logs == ["b", "c", "d", "f", "g"]


def test_return_codes(run_cfg):
    logs = run_cfg('''
        route(NEG);
        xlog("L_INFO", "rc=$rc\\n");
        $var(r) = is_method("INVITE");
        xlog("L_INFO", "raw=$var(r)\\n");
        $var(s) = is_method("INVITE") + 5;
        xlog("L_INFO", "bool=$var(s)\\n");
        if (route(LAST)) xlog("L_INFO", "last true\\n");
        xlog("L_INFO", "rc2=$rc\\n");
        $var(x) = -1; $var(y) = 1;
        if ($var(x)) xlog("L_INFO", "x true\\n");
        if ($var(x) && $var(y)) xlog("L_INFO", "and true\\n");
        if ($var(x) && 1) xlog("L_INFO", "opt true\\n");
        route(ZERO);
        xlog("L_INFO", "not reached\\n");
    ''', extra='''
route[NEG] { return -3; }
route[LAST] { $var(z) = 1; }
route[ZERO] { return 0; }
''')
    assert logs == ["rc=-3", "raw=-1", "bool=5", "last true", "rc2=1", "and true"]


def test_break_outside_loop_ends_route_with_zero(run_cfg):
    logs = run_cfg('''
        route(B);
        xlog("L_INFO", "rc=$rc\\n");
    ''', extra='route[B] { if (1) { break; } xlog("L_INFO", "no\\n"); }\n')
    assert logs == ["rc=0"]


def test_var_persists_and_is_not_null(run_cfg):
    logs = run_cfg('''
        xlog("L_INFO", "n=$var(n)\\n");
        $var(n) = $var(n) + 1;
        if ($var(never) == $null) xlog("L_INFO", "null\\n");
        if (defined $var(never)) xlog("L_INFO", "defined\\n");
        $var(z) = $null; xlog("L_INFO", "z=$var(z)\\n");
        $vn(v) = $null; xlog("L_INFO", "vn=$vn(v)\\n");
    ''', messages=2)
    assert logs == [["n=0", "defined", "z=0", "vn=<null>"], ["n=1", "defined", "z=0", "vn=<null>"]]


def test_strings_are_not_templates(run_cfg):
    logs = run_cfg('''
        $var(a) = "user $rU here";
        xlog("L_INFO", "[$var(a)] [$(rU)] [$$] [$hdr(X-Missing)] [$(hdr(X-Missing){s.len})]\\n");
    ''')
    assert logs == ["[user $rU here] [bob] [$] [<null>] []"]


def test_switch_falls_through(run_cfg):
    logs = run_cfg('''
        switch ($rm) {
            case "INVITE": xlog("L_INFO", "inv\\n");
            default: xlog("L_INFO", "def\\n");
            case "OPTIONS": xlog("L_INFO", "opt\\n");
            case "BYE": xlog("L_INFO", "bye\\n"); break;
            case "X": xlog("L_INFO", "x\\n");
        }
        switch (3) { case 1: xlog("L_INFO", "one\\n"); default: xlog("L_INFO", "idef\\n"); }
        switch ($rm) { case /"^OPT": xlog("L_INFO", "re\\n"); break; case /"^opt": xlog("L_INFO", "lower\\n"); }
    ''')
    assert logs == ["opt", "bye", "idef", "re"]


def test_precedence_and_literals(run_cfg):
    logs = run_cfg('''
        $var(a) = 6 & 3 == 2; $var(b) = 2 << 1 == 4; $var(c) = 010; $var(d) = 101b;
        $var(e) = yes + on + true; $var(f) = -7 / 2; $var(g) = -7 mod 3; $var(h) = 1 ^ 3 & 2;
        xlog("L_INFO", "$var(a) $var(b) $var(c) $var(d) $var(e) $var(f) $var(g) $var(h)\\n");
    ''')
    # ^ binds tighter than &: 1 ^ 3 & 2 == (1 ^ 3) & 2 == 2
    assert logs == ["0 2 8 5 3 -3 -1 2"]


def test_avp_and_xavp_writes(run_cfg):
    logs = run_cfg('''
        $avp(x) = 1; $avp(x) = "two"; $avp(x) = 3;
        xlog("L_INFO", "$avp(x) $(avp(x)[1]) $(avp(x)[*]) $(avp(x)[-1]) $(avp(x)[-3]) $cnt($avp(x))\\n");
        $avp(x) = $null;
        xlog("L_INFO", "$avp(x) $cnt($avp(x))\\n");
        $(avp(x)[*]) = "only";
        xlog("L_INFO", "$(avp(x)[*])\\n");
        $xavp(r=>a) = 1; $xavp(r=>b) = 2; $xavp(r[0]=>c) = 3;
        xlog("L_INFO", "$xavp(r=>a) $xavp(r=>b) $xavp(r=>c) $xavp(r[1]=>a) $cnt($xavp(r))\\n");
    ''')
    assert logs == ["3 two 3, two, 1 <null> 3 3", "two 2", "only", "<null> 2 3 1 2"]


def test_while_loops_on_nonzero_with_limit(run_cfg):
    logs = run_cfg('''
        $var(i) = -3;
        while ($var(i)) { $var(i) = $var(i) + 1; }
        xlog("L_INFO", "i=$var(i)\\n");
        $var(n) = 0;
        while (1) { $var(n) = $var(n) + 1; if ($var(n) >= 5) break; }
        xlog("L_INFO", "n=$var(n)\\n");
    ''')
    assert logs == ["i=0", "n=5"]


def test_exit_drop_and_return_zero_stop_the_script(run_cfg):
    assert run_cfg('xlog("L_INFO", "a\\n"); exit; xlog("L_INFO", "b\\n");') == ["a"]
    assert run_cfg('xlog("L_INFO", "a\\n"); drop; xlog("L_INFO", "b\\n");') == ["a"]
    assert run_cfg('route(R); xlog("L_INFO", "b\\n");', extra='route[R] { return 0; }\n') == []
