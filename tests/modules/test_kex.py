"""kex: script/branch flags, dst URI helpers (values recorded in tests/conformance/cases/flags)."""

from __future__ import annotations

MODS = ("pv", "xlog", "sl", "kex")


def test_flags_across_messages(ks_load, ks_msg, ks_logs):
    script = ks_load('''
        xlog("L_INFO", "start sf=$sf bf=$bf\\n");
        setsflag(2);
        if (issflagset(2)) { xlog("L_INFO", "sf=$sf\\n"); }
        resetsflag(2);
        if (!issflagset(2)) { xlog("L_INFO", "sflag reset\\n"); }
        setbflag(3); setbflag(6); resetbflag(3);
        if (isbflagset(6)) { xlog("L_INFO", "bf=$bf\\n"); }
        if (!isbflagset(3)) { xlog("L_INFO", "bflag 3 not set\\n"); }
        if (!setsflag(32)) { xlog("L_INFO", "32 out of range\\n"); }
    ''', modules=MODS)
    for _ in range(2):  # script and branch flags start empty for each message
        res = script.process(ks_msg(), src="udp:127.0.0.1:5080")
        assert ks_logs(res) == ["start sf=0 bf=0", "sf=4", "sflag reset", "bf=64", "bflag 3 not set",
                                "32 out of range"]


def test_branch_flags_of_other_branches(ks_run, ks_logs):
    res = ks_run('''
        if (!setbflag(1, 1)) { xlog("L_INFO", "no branch 1\\n"); }
        append_branch("sip:x@127.0.0.1");
        setbflag(1, 1);
        if (isbflagset(1, 1)) { xlog("L_INFO", "branch 1 flag\\n"); }
        if (!isbflagset(1)) { xlog("L_INFO", "not on branch 0\\n"); }
    ''', modules=MODS + ("corex",))
    assert ks_logs(res) == ["no branch 1", "branch 1 flag", "not on branch 0"]


def test_dst_uri_helpers_and_misc(ks_run, ks_logs):
    res = ks_run('''
        if (!isdsturiset()) { xlog("L_INFO", "unset\\n"); }
        setdsturi("sip:127.0.0.1:5090");
        if (isdsturiset()) { xlog("L_INFO", "du=$du\\n"); }
        resetdsturi();
        xlog("L_INFO", "du=$du\\n");
        pv_printf("$var(x)", "r=$rU");
        xlog("L_INFO", "$var(x)\\n");
        if (is_myself("sip:127.0.0.1")) { xlog("L_INFO", "myself\\n"); }
        if (!is_myself("sip:10.9.9.9")) { xlog("L_INFO", "not myself\\n"); }
    ''', modules=MODS)
    assert ks_logs(res) == ["unset", "du=sip:127.0.0.1:5090", "du=<null>", "r=bob", "myself", "not myself"]
