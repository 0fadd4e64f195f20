"""textopsx: msg_apply_changes and reply status changes."""

from __future__ import annotations

MODS = ("pv", "xlog", "sl", "textops", "textopsx")


def test_msg_apply_changes_makes_edits_visible(ks_run, ks_msg, ks_logs):
    msg = ks_msg(headers=["User-Agent: ua"])
    res = ks_run('''
        append_hf("X-Added: yes\\r\\n");
        remove_hf("User-Agent");
        $fU = "carol";
        $rU = "erin";
        xlog("L_INFO", "$hdr(X-Added) $fU $ua $ou\\n");
        msg_apply_changes();
        xlog("L_INFO", "$hdr(X-Added) $fU $ua $ou\\n");
        $du = "sip:127.0.0.1:5090"; forward();
    ''', msg=msg, modules=MODS)
    assert ks_logs(res) == ["<null> alice ua sip:bob@127.0.0.1", "yes carol <null> sip:erin@127.0.0.1"]
    text = res.requests[0].text
    assert text.count("X-Added: yes") == 1 and "From: <sip:carol@127.0.0.1>" in text


def test_msg_apply_changes_refused_after_record_route(ks_run, ks_logs):
    res = ks_run('record_route(); if (!msg_apply_changes()) { xlog("L_INFO", "refused\\n"); }',
                 modules=MODS + ("rr",))
    assert ks_logs(res) == ["refused"]


REPLY = ("SIP/2.0 404 Not Found\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKb\r\n"
         "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
         "Content-Length: 0\r\n\r\n")


def test_change_reply_status(ks_load, ks_logs):
    script = ks_load('exit;', modules=MODS, routes='''
        reply_route {
            change_reply_status(486, "Busy Here");
            xlog("L_INFO", "rs=$rs\\n");
            if (!change_reply_status(200, "OK")) { xlog("L_INFO", "class kept\\n"); }
        }
    ''')
    res = script.process(REPLY, src="udp:127.0.0.1:5090")
    assert ks_logs(res) == ["rs=486", "class kept"]
    assert res.sent[0].text.startswith("SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKb")


def test_remove_body_keep_hf_fnmatch(ks_run, ks_msg, ks_logs):
    msg = ks_msg(headers=["X-A: 1", "X-B: 2", "Content-Type: text/plain"], body="hello")
    res = ks_run('''
        remove_body();
        if (!keep_hf("^X-A$")) { xlog("L_INFO", "keep_hf=-1\\n"); }
        if (fnmatch("$rU", "b*")) { xlog("L_INFO", "fnmatch\\n"); }
        if (!fnmatch("$rU", "B*", "i")) { xlog("L_INFO", "no casefold\\n"); }
        $du = "sip:127.0.0.1:5090"; forward();
    ''', msg=msg, modules=MODS)
    assert ks_logs(res) == ["keep_hf=-1", "fnmatch", "no casefold"]
    text = res.requests[0].text
    assert "X-A: 1" in text and "X-B" not in text and text.endswith("\r\n\r\n")
    assert "Content-Length: 0\r\n" in text
