"""Functions of the pv module (pv_unset, is_int, typeof, xavp_params_explode...)."""

from __future__ import annotations


def test_type_checks(ks_run, ks_logs):
    res = ks_run('''
        $var(i) = 5; $var(s) = "abc"; $var(e) = "";
        if (is_int("$var(i)")) { xlog("L_INFO", "i int\\n"); }
        if (!is_int("$var(s)")) { xlog("L_INFO", "s not int\\n"); }
        if (typeof("$var(s)", "str")) { xlog("L_INFO", "s str\\n"); }
        if (typeof("$hdr(X-None)", "null")) { xlog("L_INFO", "null\\n"); }
        if (not_empty("$var(s)")) { xlog("L_INFO", "s not empty\\n"); }
        if (!not_empty("$var(e)")) { xlog("L_INFO", "e empty\\n"); }
        if (pv_isset("$ru")) { xlog("L_INFO", "ru set\\n"); }
        $avp(a) = 1; pv_unset("$avp(a)");
        if (!pv_isset("$avp(a)")) { xlog("L_INFO", "avp unset\\n"); }
    ''')
    assert ks_logs(res) == ["i int", "s not int", "s str", "null", "s not empty", "e empty", "ru set", "avp unset"]


def test_xavp_params(ks_run, ks_logs):
    res = ks_run('''
        xavp_params_explode("a=1;b=two;c", "p");
        xlog("L_INFO", "$xavp(p=>a) $xavp(p=>b) [$xavp(p=>c)]\\n");
        xavp_child_sets("p", "d", "x");
        xlog("L_INFO", "$xavp(p=>d)\\n");
        xavp_rm("p");
        xlog("L_INFO", "$xavp(p=>a)\\n");
    ''')
    assert ks_logs(res) == ["1 two []", "x", "<null>"]


def test_pv_evalx(ks_run, ks_logs):
    res = ks_run('$var(f) = "user=$rU"; pv_evalx("$var(out)", "$var(f)"); xlog("L_INFO", "$var(out)\\n");')
    assert ks_logs(res) == ["user=bob"]
