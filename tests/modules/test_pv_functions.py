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


def test_pv_xavp_print_is_the_core_dump(ks_run, ks_logs):
    # ids are get_hash1_raw(name), as in the cov_pv_functions golden; newest first
    import re
    res = ks_run('$xavp(bar=>num) = 42; $xavp(bar[0]=>str) = "from xavp"; $xavp(pr=>k) = "v"; pv_xavp_print();')
    norm = [re.sub(r"0x[0-9a-f]+", "<P>", x) for x in ks_logs(res, "core")]
    assert norm[:6] == ["+++++ start XAVP list: <P> (<P>) (level=0)", "     *** (l:0 - <P>) XAVP name: pr",
                        "     XAVP id: 32398", "     XAVP value type: 6", "     XAVP value: <xavp:<P>>",
                        "+++++ start XAVP list: <P> (<P>) (level=1)"]
    assert "     XAVP id: 7224978" in norm and "     XAVP value (int): 42" in norm
    assert norm.index("     XAVP value (str): from xavp") < norm.index("     XAVP value (int): 42")
    assert norm[-1] == "----- end XAVP list: <P> (level=0)"
