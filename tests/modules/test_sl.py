"""sl: stateless replies (expected texts from tests/conformance/cases/sl_reply_pv_reason)."""

from __future__ import annotations


def test_sl_send_reply_with_pvs_in_the_reason(ks_run, ks_msg):
    res = ks_run('sl_send_reply("404", "No $rU here (from $si:$sp)");')
    assert len(res.replies) == 1
    r = res.replies[0]
    assert r.text.startswith("SIP/2.0 404 No bob here (from 127.0.0.1:5080)\r\n")
    assert str(r.dst) == "udp:127.0.0.1:5080"
    assert "\r\nTo: <sip:bob@127.0.0.1>;tag=" in r.text
    assert r.text.endswith("Server: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n")


def test_code_from_int_var_and_from_string_pv(ks_run, ks_msg, ks_logs):
    res = ks_run('$var(code) = 486; sl_send_reply("$var(code)", "Busy");')
    assert res.replies[0].status == 486
    res = ks_run('sl_send_reply("$hdr(X-Code)", "from header");', msg=ks_msg(headers=["X-Code: 503"]))
    # $hdr is a string PV: Kamailio's get_int_fparam fails -> default_code 500
    assert res.replies[0].status == 500
    assert "Could not convert PV to int" in ks_logs(res, "core")


def test_default_code_modparam(ks_run, ks_msg):
    res = ks_run('sl_send_reply("$hdr(X-Code)", "x");', msg=ks_msg(headers=["X-Code: 503"]),
                 extra='modparam("sl", "default_code", 503)\n')
    assert res.replies[0].status == 503


def test_null_pv_in_reason_prints_null(ks_run):
    res = ks_run('sl_send_reply("480", "Gone [$hdr(X-Missing)]");')
    assert res.replies[0].reason == "Gone [<null>]"


def test_append_to_reply_headers(ks_run):
    res = ks_run('append_to_reply("X-Reason: appended\\r\\nX-Second: $ci\\r\\n"); sl_send_reply("403", "Forbidden");')
    assert "CSeq: 1 OPTIONS\r\nX-Reason: appended\r\nX-Second: call-1@test\r\nServer:" in res.replies[0].text


def test_no_reply_to_ack_and_no_to_tag_below_180(ks_run, ks_msg, ks_logs):
    res = ks_run('if (!sl_send_reply("200", "OK")) { xlog("L_INFO", "failed\\n"); }',
                 msg=ks_msg("ACK", to_tag="x"))
    assert not res.replies and ks_logs(res) == ["failed"]
    res = ks_run('sl_send_reply("100", "Trying");')
    assert "To: <sip:bob@127.0.0.1>\r\n" in res.replies[0].text


def test_redirect_gets_a_contact_with_the_destination_set(ks_run):
    res = ks_run('$ru = "sip:carol@10.0.0.1"; sl_send_reply("302", "Moved");')
    assert "\r\nContact: <sip:carol@10.0.0.1>\r\n" in res.replies[0].text


def test_send_reply_without_transaction_is_stateless(ks_run):
    res = ks_run('send_reply("404", "Stateless $rU");')
    assert res.replies[0].reason == "Stateless bob"


def test_sl_reply_error_uses_the_last_error(ks_run, ks_logs):
    res = ks_run('sl_reply_error();')
    assert res.replies[0].status == 500
    assert res.replies[0].reason == "I'm terribly sorry, server error occurred (1/SL)"
    assert ks_logs(res, "sl") == ["stateless error reply used: I'm terribly sorry, server error occurred (1/SL)"]
    # forward() to a name kscript cannot resolve fails without setting ser_error (as in Kamailio)
    res = ks_run('$du = "sip:proxy.example.com"; if (!forward()) { sl_reply_error(); }')
    assert res.replies[0].status == 500


def test_force_rport_changes_the_destination_and_via(ks_run, ks_msg):
    msg = ks_msg(via="SIP/2.0/UDP 10.9.9.9:5070;branch=z9hG4bKx")
    res = ks_run('force_rport(); sl_send_reply("200", "OK");', msg=msg, src="udp:127.0.0.1:6000")
    r = res.replies[0]
    assert str(r.dst) == "udp:127.0.0.1:6000"
    assert "Via: SIP/2.0/UDP 10.9.9.9:5070;branch=z9hG4bKx;rport=6000;received=127.0.0.1\r\n" in r.text


def test_ack_to_a_stateless_reply_is_absorbed(ks_load, ks_msg, ks_logs):
    now = [1000.0]
    script = ks_load('xlog("L_INFO", "script $rm\\n"); if (is_method("INVITE")) { sl_send_reply("486", "Busy"); }',
                     clock=lambda: now[0])
    inv = ks_msg("INVITE")
    res = script.process(inv, src="udp:127.0.0.1:5080")
    tag = res.replies[0].message.to.tag
    ack = ks_msg("ACK", to_tag=tag)
    assert ks_logs(script.process(ack, src="udp:127.0.0.1:5080")) == []  # filtered before the script
    now[0] += 3  # too late to be an ACK to our reply
    assert ks_logs(script.process(ack, src="udp:127.0.0.1:5080")) == ["script ACK"]


def test_sl_forward_reply_changes_code_and_reason(ks_load):
    script = ks_load('exit;', routes='''
        reply_route {
            sl_forward_reply("299", "Fine");
            drop;
        }
    ''')
    reply = ("SIP/2.0 200 OK\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa, SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKb\r\n"
             "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
             "Content-Length: 0\r\n\r\n")
    res = script.process(reply, src="udp:127.0.0.1:5090")
    assert len(res.sent) == 1
    assert res.sent[0].text.startswith("SIP/2.0 299 Fine\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKb\r\n")
    assert str(res.sent[0].dst) == "udp:127.0.0.1:5080"


_FILL_BRANCHES = """
$var(i) = 0;
while ($var(i) < 11) { append_branch("sip:b$var(i)@10.0.0.1"); $var(i) = $var(i) + 1; }
"""


def _reply_reason(ks_run, body, routes=""):
    res = ks_run(_FILL_BRANCHES + body, modules=("pv", "xlog", "sl", "corex"), routes=routes)
    assert len(res.replies) == 1, res.log
    return res.replies[0].reason


def test_sl_reply_error_sees_only_the_error_of_the_action_just_before(ks_run):
    # Kamailio's do_action() resets ser_error at the start of every action and
    # sl_reply_error() replies with the value it had then (prev_ser_error): the error
    # of the action started just before it (append_branch: E_TOO_MANY_BRANCHES, -12).
    forking = "Forking capacity exceeded (12/SL)"
    unspec = "I'm terribly sorry, server error occurred (1/SL)"
    assert _reply_reason(ks_run, 'if (!append_branch("sip:x@10.0.0.2")) { sl_reply_error(); }') == forking
    assert _reply_reason(ks_run, 'if (!append_branch("sip:x@10.0.0.2")) sl_reply_error();') == forking
    assert _reply_reason(ks_run, 'append_branch("sip:x@10.0.0.2"); sl_reply_error();') == forking
    # another action in between starts with E_UNSPEC and sets nothing
    assert _reply_reason(ks_run, 'append_branch("sip:x@10.0.0.2"); xlog("L_INFO", "x\\n"); sl_reply_error();') \
        == unspec
    assert _reply_reason(ks_run, 'append_branch("sip:x@10.0.0.2"); $var(x) = 1; sl_reply_error();') == unspec
    assert _reply_reason(ks_run, 'if (!append_branch("sip:x@10.0.0.2")) { xlog("L_INFO", "x\\n"); '
                                 'sl_reply_error(); }') == unspec
    # the `if` is an action too: its condition calls nothing here
    assert _reply_reason(ks_run, 'append_branch("sip:x@10.0.0.2"); if ($var(i) > 0) { sl_reply_error(); }') \
        == unspec
    # the last action of the previous statement counts, wherever it is nested
    assert _reply_reason(ks_run, 'if ($var(i) > 0) { $var(y) = 1; append_branch("sip:x@10.0.0.2"); } '
                                 'sl_reply_error();') == forking
    assert _reply_reason(ks_run, 'if ($var(i) > 0) { append_branch("sip:x@10.0.0.2"); $var(y) = 1; } '
                                 'sl_reply_error();') == unspec
    # the loop's last action was the assignment
    assert _reply_reason(ks_run, 'while ($var(i) < 13) { append_branch("sip:y@10.0.0.3"); '
                                 '$var(i) = $var(i) + 1; } sl_reply_error();') == unspec
    # route(FAIL) is the action just before the route's first one
    assert _reply_reason(ks_run, 'append_branch("sip:x@10.0.0.2"); route(FAIL);',
                         routes='route[FAIL] { sl_reply_error(); }') == unspec
    assert _reply_reason(ks_run, 'route(FAIL);',
                         routes='route[FAIL] { append_branch("sip:x@10.0.0.2"); sl_reply_error(); }') == forking
