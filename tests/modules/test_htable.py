"""htable (values recorded in tests/conformance/cases/htable_sht)."""

from __future__ import annotations

import pytest

from kscript.errors import ConfigError
from kscript.modules.htable import ht_hash, parse_table_spec

MODS = ("pv", "xlog", "sl", "htable")
TABLES = '''
modparam("htable", "htable", "cnt=>size=4;initval=0")
modparam("htable", "htable", "s=>size=4")
modparam("htable", "htable", "ex=>size=2;autoexpire=60;")
'''


def test_values_persist_across_messages(ks_load, ks_msg, ks_logs):
    script = ks_load('''
        xlog("L_INFO", "n=$sht(cnt=>n) last=$sht(s=>last) miss=$sht(s=>missing) user=$sht(s=>$fU)\\n");
        $sht(cnt=>n) = $sht(cnt=>n) + 1;
        $var(x) = $shtinc(cnt=>inc);
        $sht(s=>last) = $ci;
        $sht(s=>$fU) = "seen " + $cs;
        $sht(s=>tmp) = "x"; $sht(s=>tmp) = $null;
        xlog("L_INFO", "n+1=$var(x) tmp=$sht(s=>tmp) cn=$shtcn(s=>**) cv=$shtcv(s=>==seen 1)\\n");
    ''', modules=MODS, extra=TABLES)
    r1 = script.process(ks_msg(), src="udp:127.0.0.1:5080")
    r2 = script.process(ks_msg(call_id="call-2@test"), src="udp:127.0.0.1:5080")
    assert ks_logs(r1) == ["n=0 last=<null> miss=<null> user=<null>", "n+1=1 tmp=<null> cn=2 cv=1"]
    assert ks_logs(r2) == ["n=1 last=call-1@test miss=<null> user=seen 1", "n+1=2 tmp=<null> cn=2 cv=1"]


def test_autoexpire_uses_the_script_clock(ks_load, ks_msg, ks_logs):
    now = [1000.0]
    script = ks_load('''
        if ($hdr(X-Set) == "1") { $sht(ex=>k) = "v"; }
        xlog("L_INFO", "k=$sht(ex=>k) left=$shtex(ex=>k)\\n");
    ''', modules=MODS, extra=TABLES, clock=lambda: now[0])
    set_msg = ks_msg(headers=["X-Set: 1"])
    assert ks_logs(script.process(set_msg, src="udp:127.0.0.1:5080")) == ["k=v left=60"]
    now[0] += 30
    assert ks_logs(script.process(ks_msg(), src="udp:127.0.0.1:5080")) == ["k=v left=30"]
    now[0] += 31
    assert ks_logs(script.process(ks_msg(), src="udp:127.0.0.1:5080"))[0].startswith("k=<null>")


def test_functions(ks_run, ks_logs):
    res = ks_run('''
        $sht(s=>a1) = "x"; $sht(s=>a2) = "y"; $sht(s=>b1) = "x";
        sht_rm_name_re("s=>^a");
        xlog("L_INFO", "$shtcn(s=>**)\\n");
        if (sht_has_name("s", "eq", "b1")) { xlog("L_INFO", "has b1\\n"); }
        if (sht_match_str_value("s", "sw", "x")) { xlog("L_INFO", "value x\\n"); }
        sht_rm("s", "b1");
        xlog("L_INFO", "$shtcn(s=>**)\\n");
        $sht(cnt=>c) = 5; $var(d) = $shtdec(cnt=>c); xlog("L_INFO", "$var(d)\\n");
        $sht(s=>str) = "abc"; xlog("L_INFO", "inc str=$shtinc(s=>str)\\n");
        sht_reset("cnt"); xlog("L_INFO", "after reset=$sht(cnt=>c)\\n");
        sht_setxs("s", "k1", "v1", 0);
        sht_iterator_start("i1", "s");
        while (sht_iterator_next("i1")) { xlog("L_INFO", "it $shtitkey(i1)=$shtitval(i1)\\n"); }
        sht_iterator_end("i1");
    ''', modules=MODS, extra=TABLES)
    assert ks_logs(res)[:7] == ["1", "has b1", "value x", "0", "4", "inc str=<null>", "after reset=0"]
    assert sorted(ks_logs(res)[7:]) == ["it k1=v1", "it str=abc"]


def test_table_spec_and_hash():
    t = parse_table_spec("ipban=>size=8;autoexpire=300;")
    assert (t.name, t.size, t.autoexpire, t.initval) == ("ipban", 256, 300, None)
    assert parse_table_spec("a=>size=1").size == 8
    with pytest.raises(ValueError):
        parse_table_spec("a=>bogus=1")
    assert ht_hash("Key") == ht_hash("key")  # case-insensitive like core_case_hash


def test_bad_table_spec_is_a_config_error(ks_load):
    with pytest.raises(ConfigError, match="invalid htable parameter"):
        ks_load('exit;', modules=MODS, extra='modparam("htable", "htable", "t=>wrong=1")\n')
