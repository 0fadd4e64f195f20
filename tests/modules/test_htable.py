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


def test_sht_print_dumps_slots_like_ht_dbg(ks_load, ks_msg, ks_logs):
    # values from the cov_htable_more golden (tables declared t then p; size=1 -> 8 slots)
    script = ks_load('''
        $sht(p=>one) = "1"; $sht(p=>two) = 2;
        sht_print();
    ''', modules=MODS, extra='modparam("htable", "htable", "t=>size=1")\nmodparam("htable", "htable", "p=>size=1")\n')
    logs = ks_logs(script.process(ks_msg(), src="udp:127.0.0.1:5080"), "htable")
    assert logs[:5] == ["htable[p] hid: 126 exp: 0>", "htable[0] -- <1>", "\tcell: two",
                        "\thid: 8064184 msize: 76 flags: 0 expire: 0", "\tv-i:2"]
    assert logs[9:13] == ["htable[5] -- <1>", "\tcell: one", "\thid: 6460173 msize: 78 flags: 2 expire: 0", "\tv-s:1"]
    assert logs[15] == "htable[t] hid: 122 exp: 0>" and len(logs) == 24


def test_iterator_writes_and_rm_follow_the_slot_lists(ks_load, ks_msg, ks_logs):
    script = ks_load('''
        $sht(p=>one) = "1"; $sht(p=>two) = 2; $sht(p=>a) = "A"; $sht(p=>b) = "B";
        sht_iterator_start("i", "p");
        while (sht_iterator_next("i")) {
            xlog("L_INFO", "it $shtitkey(i)=$shtitval(i)\\n");
            if ($shtitkey(i) == "a") { sht_iterator_sets("i", "longer value"); }
            else if ($shtitkey(i) == "two") { sht_iterator_seti("i", "22"); }
        }
        sht_iterator_end("i");
        sht_iterator_start("j", "p");
        sht_iterator_next("j");
        $var(r) = sht_iterator_rm("j");
        xlog("L_INFO", "rm first: rc=$var(r) now at $shtitkey(j)\\n");
        while (sht_iterator_next("j")) {
            if ($shtitkey(j) == "b") { $var(r) = sht_iterator_rm("j"); xlog("L_INFO", "rm b: rc=$var(r)\\n"); }
        }
        sht_iterator_end("j");
        xlog("L_INFO", "a=$sht(p=>a) two=$sht(p=>two) cn=$shtcn(p=>**)\\n");
    ''', modules=MODS, extra='modparam("htable", "htable", "p=>size=1")\n')
    logs = ks_logs(script.process(ks_msg(), src="udp:127.0.0.1:5080"))
    # removing the last item returns -2 (Kamailio's ht_iterator_rm)
    assert logs == ["it two=2", "it a=A", "it one=1", "it b=B", "rm first: rc=1 now at a",
                    "rm b: rc=-2", "a=longer value two=<null> cn=2"]


def test_expiry_timer_runs_the_expired_event_route(ks_load, ks_msg, ks_logs):
    from kscript.testing.clock import Clock
    clock = Clock(1_700_000_000)
    script = ks_load('''
        $sht(e=>k1) = "v1-" + $rU;
        $sht(e=>n) = 5;
        $sht(p=>k) = "persistent";
        xlog("L_INFO", "stored k1=$sht(e=>k1)\\n");
    }
    event_route[htable:expired:e] {
        xlog("L_INFO", "expired key=$shtrecord(key) value=$shtrecord(value)\\n");
    ''', modules=MODS, clock=clock, extra='modparam("htable", "htable", "e=>size=1;autoexpire=1")\n'
         'modparam("htable", "htable", "p=>size=1")\nmodparam("htable", "timer_interval", 1)\n')
    assert ks_logs(script.process(ks_msg(), src="udp:127.0.0.1:5080")) == ["stored k1=v1-bob"]
    clock.advance(1)
    assert [ks_logs(r) for r in script.tick()] == []  # expire = now + 1: not yet past
    clock.advance(2)
    logs = sorted(x for r in script.tick() for x in ks_logs(r))
    assert logs == ["expired key=k1 value=v1-bob", "expired key=n value=5"]
    mod = script.modules["htable"]
    assert not mod.table("e").cells and "k" in mod.table("p").cells
