"""corex: branches and raw sending."""

from __future__ import annotations

MODS = ("pv", "xlog", "sl", "corex", "kex")


def test_append_branch_moves_the_ruri(ks_run, ks_load, ks_msg):
    script = ks_load('''
        $du = "sip:127.0.0.1:5090"; setbflag(4);
        append_branch();
        append_branch("sip:y@127.0.0.1", "0.5");
    ''', modules=MODS)
    res = script.process(ks_msg(), src="udp:127.0.0.1:5080")
    b = res.ctx.branches
    assert [x.uri for x in b] == ["sip:bob@127.0.0.1", "sip:y@127.0.0.1"]
    assert b[0].dst_uri == "sip:127.0.0.1:5090" and b[0].flags == 16 and b[1].q == 500
    assert res.ctx.dst_uri is None and res.ctx.bflags == 0  # reset after moving the R-URI


def test_send_udp_sends_the_message_as_received(ks_run, ks_msg):
    res = ks_run('append_hf("X-Lump: 1\\r\\n"); send_udp("127.0.0.1:5099");', modules=MODS + ("textops",))
    s = res.sent[0]
    assert str(s.dst) == "udp:127.0.0.1:5099" and s.text == ks_msg() and "X-Lump" not in s.text


def test_send_data(ks_run):
    res = ks_run('send_data("sip:127.0.0.1:5098", "hello $rU");', modules=MODS)
    assert str(res.sent[0].dst) == "udp:127.0.0.1:5098" and res.sent[0].text == "hello bob"


def test_xflags_and_iflags(ks_run, ks_logs):
    res = ks_run('''
        setxflag(40); if (isxflagset(40)) { xlog("L_INFO", "x40\\n"); }
        resetxflag(40); if (!isxflagset(40)) { xlog("L_INFO", "reset\\n"); }
        msg_iflag_set("USE_UAC_FROM"); if (msg_iflag_is_set("USE_UAC_FROM")) { xlog("L_INFO", "iflag\\n"); }
    ''', modules=MODS)
    assert ks_logs(res) == ["x40", "reset", "iflag"]
