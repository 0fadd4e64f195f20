"""tm/tmx unit tests: matching, best-reply selection, timers, serial forking, CANCEL,
the feed_reply/tick API.  Expected behaviours were checked against Kamailio 5.6.3
(see the recorded cases in tests/modules/tm/cases and tests/conformance/cases/tm_*)."""

from __future__ import annotations

import pytest

from kscript.modules.tm.reply import error_text, err2reason, get_prio, t_pick_branch
from kscript.modules.tm.transaction import FAKED_REPLY, RequestState, Transaction, TransactionTable, Uac
from kscript.sip import SipMessage, reply
from kscript.testing import Clock

TM = ("pv", "xlog", "sl", "textops", "tm", "tmx")
SRC = "udp:127.0.0.1:5080"


def logs(res, source="script"):
    return [r.text.rstrip("\n") for r in res.log if r.source == source]


def invite(ks_msg, n=1, **kw):
    kw.setdefault("via", f"SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKinv{n}")
    kw.setdefault("call_id", f"call-{n}@test")
    return ks_msg("INVITE", "sip:bob@127.0.0.1", **kw)


RELAY = '''
    if (is_method("ACK")) { if (t_check_trans()) { xlog("L_INFO", "ack passed\\n"); } exit; }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    $du = "sip:127.0.0.1:5090";
    t_on_failure("FAIL");
    t_on_reply("RPL");
    t_relay();
'''
ROUTES = '''
onreply_route[RPL] { xlog("L_INFO", "reply $rs branch $T_branch_idx\\n"); }
failure_route[FAIL] { xlog("L_INFO", "failure $T_reply_code $T_reply_reason type=$T(reply_type)\\n"); }
'''


@pytest.fixture
def tm_script(ks_load):
    def make(body=RELAY, routes=ROUTES, extra="", clock=None, modules=TM):
        return ks_load(body, modules=modules, extra=extra, routes=routes, clock=clock)
    return make


# ---------------------------------------------------------------- best reply
def _t(codes, replies=None):
    t = Transaction(0, 1, "0" * 32, RequestState(None, None, None), "INVITE")
    for i, c in enumerate(codes):
        u = Uac(index=i, request="x", last_received=c)
        u.reply = (replies or {}).get(i, object() if c >= 200 else None)
        t.uacs.append(u)
    return t


def test_priorities_follow_t_pick_branch():
    assert (get_prio(200, None), get_prio(603, None), get_prio(486, None)) == (0, 1003, 4186)
    assert get_prio(200, None) < get_prio(603, None) < get_prio(302, None) < get_prio(486, None) < get_prio(503, None)
    # 401, 407, 415, 420, 484 beat the other 4xx
    assert get_prio(401, None) < get_prio(404, None) and get_prio(484, None) < get_prio(480, None)
    assert get_prio(1000, None) > get_prio(503, None)


def test_pick_branch_waits_for_pending_and_skips_replyless_branches():
    assert t_pick_branch(_t([486, 180]), 0, 486)[0] == -2
    assert t_pick_branch(_t([486, 0]), 0, 486)[0] == -2
    b, code = t_pick_branch(_t([486, 503]), 1, 503)
    assert (b, code) == (0, 486)
    b, code = t_pick_branch(_t([486, 603]), 0, 486)
    assert (b, code) == (1, 603)
    # a branch whose request could not be sent (408 set, no reply) is never picked
    t = _t([408, 486], replies={0: None})
    assert t_pick_branch(t, 1, 486) == (1, 486)
    # a faked 408 (timeout) is a reply like any other -- and 408 beats 486 (4xx order: 1xx < ... < 86)
    t = _t([408, 486], replies={0: FAKED_REPLY})
    assert t_pick_branch(t, 1, 486) == (0, 408)
    assert t_pick_branch(_t([408, 404], replies={0: FAKED_REPLY}), 1, 404) == (1, 404)


def test_error_texts():
    assert error_text(487) == "Request Terminated"
    assert error_text(499) == "Request Failure"
    assert err2reason(-478) == (478, "Unresolvable destination (478/TM)")
    assert err2reason(-6) == (500, "I'm terribly sorry, server error occurred (6/TM)")


# ---------------------------------------------------------------- matching
def test_reply_matching_by_branch_and_method(tm_script, ks_msg):
    s = tm_script()
    res = s.process(invite(ks_msg), src=SRC)
    inv = res.requests[0]
    tm = s.modules["tm"]
    msg = SipMessage.parse(reply(inv.text, 180, "Ringing", to_tag="x"))
    t, b = tm.table.match_reply(msg)
    assert t is not None and b == 0
    # same branch, CSeq method CANCEL: only once tm sent a CANCEL on that branch
    cancel_reply = reply(inv.text.replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL"), 200, "OK", to_tag="x")
    assert tm.table.match_reply(SipMessage.parse(cancel_reply)) == (None, -1)
    assert TransactionTable.parse_branch("z9hG4bKa1.0123456789abcdef0123456789abcdef.b") == \
        (0x1a, "0123456789abcdef0123456789abcdef", 11)
    assert TransactionTable.parse_branch("z9hG4bK-other") is None


def test_retransmission_gets_the_last_reply_and_ends_the_script(tm_script, ks_msg):
    s = tm_script(body='xlog("L_INFO", "in\\n"); ' + RELAY + ' xlog("L_INFO", "after\\n");')
    first = s.process(invite(ks_msg), src=SRC)
    assert [r.status for r in first.replies] == [100]
    again = s.process(invite(ks_msg), src=SRC)  # same branch: a retransmission
    assert logs(again) == ["in", "after"]  # t_relay() answered it and returned 1
    assert [r.text for r in again.replies] == [first.replies[0].text]
    assert not again.requests


def test_t_check_trans_on_retransmission_and_negative_ack(tm_script, ks_msg):
    body = '''
        if (t_check_trans()) { xlog("L_INFO", "found\\n"); } else { xlog("L_INFO", "not found\\n"); }
    ''' + RELAY
    s = tm_script(body=body)
    res = s.process(invite(ks_msg), src=SRC)
    assert logs(res) == ["not found"]
    res = s.feed_reply(486)
    assert [r.status for r in res.replies] == [486] and res.requests[0].method == "ACK"
    # the hop-by-hop ACK for the 486 (same branch): absorbed, t_check_trans() returned 0
    ack = ks_msg("ACK", "sip:bob@127.0.0.1", via="SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKinv1",
                 call_id="call-1@test", to_tag="sink")
    res = s.process(ack, src=SRC)
    assert logs(res) == [] and not res.sent


def test_pre_3261_matching_without_magic_cookie(tm_script, ks_msg):
    s = tm_script()
    msg = invite(ks_msg, via="SIP/2.0/UDP 127.0.0.1:5080;branch=oldstyle1")
    s.process(msg, src=SRC)
    again = s.process(msg, src=SRC)
    assert [r.status for r in again.replies] == [100] and not again.requests


def test_cancel_matches_the_invite(tm_script, ks_msg):
    s = tm_script()
    s.process(invite(ks_msg), src=SRC)
    s.feed_reply(180)
    cancel = ks_msg("CANCEL", "sip:bob@127.0.0.1", via="SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKinv1",
                    call_id="call-1@test")
    res = s.process(cancel, src=SRC)
    methods = [(x.kind, x.method or x.status) for x in res.sent]
    assert methods == [("request", "CANCEL"), ("reply", 200)]
    assert res.replies[0].reason == "canceling"
    c = res.requests[0]
    assert c.text.startswith("CANCEL sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK")
    assert "\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n" in c.text
    # the 200 for our CANCEL is absorbed, the 487 is ACKed, failure_route runs, 487 relayed
    res = s.feed_reply(reply(c.text, 200, "OK", to_tag="sink"))
    assert not res.sent and not res.log
    res = s.feed_reply(487)
    assert [x.method or x.status for x in res.sent] == ["ACK", 487]
    assert logs(res) == ["reply 487 branch 0", "failure 487 Request Terminated type=0"]


def test_cancel_before_any_provisional_waits_for_it(tm_script, ks_msg):
    s = tm_script()
    s.process(invite(ks_msg), src=SRC)
    cancel = ks_msg("CANCEL", "sip:bob@127.0.0.1", via="SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKinv1",
                    call_id="call-1@test", headers=["Reason: Q.850;cause=16"])
    res = s.process(cancel, src=SRC)
    assert [(x.kind, x.status) for x in res.sent] == [("reply", 200)]  # no CANCEL downstream yet
    res = s.feed_reply(180)
    # the 180 is not relayed: it triggers our CANCEL (with the Reason of the received CANCEL)
    assert [x.method for x in res.sent] == ["CANCEL"]
    assert "\r\nReason: Q.850;cause=16\r\n\r\n" in res.sent[0].text
    assert logs(res) == []


def test_unmatched_ack_for_2xx_is_forwarded_statelessly(tm_script, ks_msg):
    s = tm_script()
    s.process(invite(ks_msg), src=SRC)
    s.feed_reply(200)
    ack = ks_msg("ACK", "sip:bob@127.0.0.1:5090", via="SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKack2",
                 call_id="call-1@test", to_tag="t1")
    body = 'if (is_method("ACK")) { if (!t_check_trans()) { t_relay(); } exit; }'
    s2 = tm_script(body=body + RELAY)
    s2.process(invite(ks_msg), src=SRC)
    s2.feed_reply(200)
    res = s2.process(ack, src=SRC)
    assert [x.method for x in res.requests] == ["ACK"] and str(res.requests[0].dst) == "udp:127.0.0.1:5090"


# ---------------------------------------------------------------- replies
def test_100_absorbed_provisional_relayed_without_our_via(tm_script, ks_msg):
    s = tm_script()
    s.process(invite(ks_msg), src=SRC)
    assert not s.feed_reply(100).replies
    r = s.feed_reply(183).replies[0]
    assert str(r.dst) == SRC and r.text.count("Via:") == 1 and "branch=z9hG4bKinv1" in r.text


def test_drop_in_onreply_route_discards_provisional_only(tm_script, ks_msg):
    routes = ROUTES.replace('onreply_route[RPL] {', 'onreply_route[RPL] { if ($rs < 300) { drop; }')
    s = tm_script(routes=routes)
    s.process(invite(ks_msg), src=SRC)
    assert not s.feed_reply(180).replies
    assert [r.status for r in s.feed_reply(200).replies] == [200]  # final replies are not dropped


def test_reply_route_drop_stops_tm(tm_script, ks_msg):
    s = tm_script(routes=ROUTES + 'reply_route { if ($rs == 180) { drop; } }')
    s.process(invite(ks_msg), src=SRC)
    res = s.feed_reply(180)
    assert not res.sent and logs(res) == []


def test_t_reply_in_failure_route_and_to_tag(tm_script, ks_msg):
    routes = ROUTES.replace('type=$T(reply_type)\\n");', 'type=$T(reply_type)\\n"); t_reply("404", "Not found");')
    s = tm_script(routes=routes)
    s.process(invite(ks_msg), src=SRC)
    res = s.feed_reply(486)
    assert [x.method or x.status for x in res.sent] == ["ACK", 404]
    to = res.replies[0].header("To")
    assert to.startswith("<sip:bob@127.0.0.1>;tag=") and "-" in to.split("tag=")[1]


def test_503_is_relayed_as_500(tm_script, ks_msg):
    s = tm_script(routes='onreply_route[RPL] { return; } failure_route[FAIL] { return; }')
    s.process(ks_msg("MESSAGE", "sip:bob@127.0.0.1"), src=SRC)
    r = s.feed_reply(503).replies[0]
    assert (r.status, r.reason) == (500, "Service Unavailable")


def test_send_reply_is_stateful_after_t_newtran(tm_script, ks_msg):
    s = tm_script(body='t_newtran(); send_reply("404", "Nope");')
    r = s.process(ks_msg("MESSAGE"), src=SRC).replies[0]
    assert r.header("To").split("tag=")[1].startswith("a6a1c5f60faecf035a1ae5b6e96e979a-")


def test_t_reply_reason_is_not_a_format_but_a_pv_is_read(tm_script, ks_msg):
    s = tm_script(body='t_newtran(); $var(r) = "From var"; t_reply("403", "$var(r)");')
    assert s.process(ks_msg("MESSAGE"), src=SRC).replies[0].reason == "From var"
    s = tm_script(body='t_newtran(); t_reply("403", "Hi $rm");')
    assert s.process(ks_msg("MESSAGE"), src=SRC).replies[0].reason == "Hi $rm"


def test_unreleased_transaction_warning(tm_script, ks_msg):
    s = tm_script(body='t_newtran();')
    res = s.process(ks_msg("MESSAGE"), src=SRC)
    assert "script writer didn't release transaction" in logs(res, "tm")


def test_stateless_reply_forwarding(tm_script, ks_msg):
    s = tm_script(routes=ROUTES + 'reply_route { xlog("L_INFO", "core $rs\\n"); }')
    text = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKnone\r\n"
            "Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bKup\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n"
            "Call-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")
    res = s.feed_reply(text, src="udp:127.0.0.1:5090")
    assert logs(res) == ["core 200"]
    assert str(res.replies[0].dst) == "udp:10.0.0.7:5070" and res.replies[0].text.count("Via:") == 1


# ---------------------------------------------------------------- serial forking
SERIAL = ROUTES.replace('type=$T(reply_type)\\n");', '''type=$T(reply_type)\\n");
    if (t_check_status("486")) {
        $du = "sip:127.0.0.1:5091";
        append_hf("X-Retry: $T_branch_idx\\r\\n");
        t_on_failure("FAIL2");
        if (t_relay()) { xlog("L_INFO", "forked\\n"); }
    }
}
failure_route[FAIL2] {
    xlog("L_INFO", "failure2 $T_reply_code\\n");''')


def test_serial_forking_from_failure_route(tm_script, ks_msg):
    s = tm_script(routes=SERIAL)
    s.process(invite(ks_msg), src=SRC)
    res = s.feed_reply(486)
    assert [(x.method, str(x.dst)) for x in res.requests] == [("ACK", "udp:127.0.0.1:5090"),
                                                              ("INVITE", "udp:127.0.0.1:5091")]
    inv2 = res.requests[1]
    assert "X-Retry: 1\r\n" in inv2.text and inv2.message.vias[0].branch.endswith(".1")
    assert not res.replies  # the 486 is not relayed: a new branch is pending
    assert logs(res)[-1] == "forked"
    res = s.feed_reply(480, branch=1)
    assert logs(res) == ["reply 480 branch 1", "failure2 480"]
    # failure_reply_mode 3: the 486 of the first step was dropped, the 480 is relayed
    assert [r.status for r in res.replies] == [480]


def test_t_relay_in_failure_route_needs_a_new_destination(tm_script, ks_msg):
    routes = ROUTES.replace('type=$T(reply_type)\\n");',
                            'type=$T(reply_type)\\n"); if (!t_relay()) { xlog("L_INFO", "no\\n"); }')
    s = tm_script(routes=routes)
    s.process(invite(ks_msg), src=SRC)
    res = s.feed_reply(486)
    assert logs(res)[-1] == "no" and "no branches for forwarding" in logs(res, "tm")
    assert [r.status for r in res.replies] == [486]


def test_parallel_branches_and_branch_route(tm_script, ks_msg):
    body = RELAY.replace('$du = "sip:127.0.0.1:5090";',
                         'append_branch("sip:carol@127.0.0.1:5091"); t_on_branch("BR");')
    s = tm_script(body=body, routes=ROUTES + 'branch_route[BR] { append_hf("X-B: $T_branch_idx\\r\\n"); }',
                  modules=TM + ("corex",))
    res = s.process(ks_msg("INVITE", "sip:bob@127.0.0.1:5090", via="SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKp"),
                    src=SRC)
    reqs = res.requests
    assert [str(r.dst) for r in reqs] == ["udp:127.0.0.1:5090", "udp:127.0.0.1:5091"]
    assert "X-B: 0\r\n" in reqs[0].text and "X-B: 1\r\n" in reqs[1].text
    s.feed_reply(486, branch=0)
    res = s.feed_reply(200, branch=1)
    assert [r.status for r in res.replies] == [200]


# ---------------------------------------------------------------- timers
def test_fr_timer_408_failure_route(tm_script, ks_msg):
    clock = Clock()
    s = tm_script(extra='modparam("tm", "fr_timer", 2000)\n', clock=clock)
    s.process(ks_msg("MESSAGE"), src=SRC)
    clock.advance(1.9)
    assert s.tick() == []
    clock.advance(0.2)
    [res] = s.tick()
    assert logs(res) == ["failure 408 Request Timeout type=1"]
    assert [(r.status, r.reason) for r in res.replies] == [(408, "Request Timeout")]
    assert s.tick() == []


def test_fr_inv_timer_after_provisional_cancels_branch(tm_script, ks_msg):
    clock = Clock()
    s = tm_script(extra='modparam("tm", "fr_timer", 1000)\nmodparam("tm", "fr_inv_timer", 5000)\n', clock=clock)
    s.process(invite(ks_msg), src=SRC)
    s.feed_reply(180)
    clock.advance(4)
    assert s.tick() == []  # fr_timer no longer applies: restarted with fr_inv_timer
    clock.advance(1.5)
    [res] = s.tick()
    assert [x.status or x.method for x in res.sent] == [408, "CANCEL"]


def test_t_set_fr_before_and_after_the_transaction(tm_script, ks_msg):
    clock = Clock()
    s = tm_script(body='t_set_fr(0, 500);' + RELAY, clock=clock)
    s.process(ks_msg("MESSAGE"), src=SRC)
    clock.advance(0.6)
    assert len(s.tick()) == 1


def test_silent_invite_timeout_with_noisy_ctimer_off(tm_script, ks_msg):
    clock = Clock()
    body = RELAY.replace('t_on_failure("FAIL");', '')
    s = tm_script(body=body, extra='modparam("tm", "noisy_ctimer", 0)\nmodparam("tm", "fr_timer", 1000)\n',
                  clock=clock)
    s.process(invite(ks_msg), src=SRC)
    clock.advance(2)
    assert s.tick() == []  # no reply ever received, no failure route: dropped silently


def test_finished_transactions_are_removed_after_wt_timer(tm_script, ks_msg):
    clock = Clock()
    s = tm_script(clock=clock)
    s.process(ks_msg("MESSAGE"), src=SRC)
    s.feed_reply(200)
    assert len(s.modules["tm"].table) == 1
    clock.advance(6)
    s.tick()
    assert len(s.modules["tm"].table) == 0


# ---------------------------------------------------------------- feed_reply / PVs
def test_feed_reply_defaults(tm_script, ks_msg):
    s = tm_script()
    s.process(invite(ks_msg), src=SRC)
    res = s.feed_reply(180, reason="Ringing here", headers=["X-Foo: 1"])
    r = res.replies[0]
    assert (r.status, r.reason, r.header("X-Foo")) == (180, "Ringing here", "1")
    assert res.ctx.src.port == 5090  # from the address the INVITE went to
    with pytest.raises(Exception):
        s.feed_reply(200, branch=3)


def test_tmx_route_checks_and_pvs(tm_script, ks_msg):
    body = '''
        if (t_is_request_route()) { xlog("L_INFO", "request route\\n"); }
        if (!t_precheck_trans()) { xlog("L_INFO", "no precheck\\n"); }
        xlog("L_INFO", "code before=$T_reply_code idx=$T_branch_idx\\n");
        t_newtran();
        t_reply("486", "Busy");
        xlog("L_INFO", "code after=$T_reply_code\\n");
    '''
    s = tm_script(body=body)
    res = s.process(ks_msg("MESSAGE"), src=SRC)
    assert logs(res) == ["request route", "no precheck", "code before=0 idx=0", "code after=486"]


def test_t_is_set_and_arming_after_the_transaction(tm_script, ks_msg):
    body = '''
        if (!t_is_set("failure_route")) { xlog("L_INFO", "not set\\n"); }
        t_on_failure("FAIL");
        if (t_is_set("failure_route")) { xlog("L_INFO", "set\\n"); }
        t_newtran();
        t_on_failure("0");
        if (!t_is_set("failure_route")) { xlog("L_INFO", "disarmed on T\\n"); }
    '''
    s = tm_script(body=body)
    assert logs(s.process(ks_msg("MESSAGE"), src=SRC)) == ["not set", "set", "disarmed on T"]


def test_t_load_and_next_contacts_by_q(tm_script, ks_msg):
    body = '''
        if (is_method("ACK")) { exit; }
        append_branch("sip:b@127.0.0.1:5091", "0.5");
        append_branch("sip:c@127.0.0.1:5092", "1.0");
        append_branch("sip:d@127.0.0.1:5093", "1.0");
        $ru = "sip:a@127.0.0.1:5090";
        t_load_contacts();
        xlog("L_INFO", "loaded $xavp(tmc=>uri) q_flag=$xavp(tmc=>q_flag)\\n");
        t_next_contacts();
        xlog("L_INFO", "next ru=$ru branches=$T_branch_idx\\n");
        t_on_failure("NEXT");
        t_relay();
    '''
    routes = '''failure_route[NEXT] {
        if (t_next_contacts()) { xlog("L_INFO", "then $ru\\n"); t_on_failure("NEXT"); t_relay(); }
        else { xlog("L_INFO", "no more: $rc\\n"); }
    }'''
    s = tm_script(body=body, routes=routes, extra='modparam("tm", "contacts_avp", "tmc")\nmodparam("tm", "contact_flows_avp", "tmf")\n',
                  modules=TM + ("corex",))
    res = s.process(ks_msg("INVITE", "sip:x@127.0.0.1"), src=SRC)
    assert logs(res) == ["loaded sip:d@127.0.0.1:5093 q_flag=0", "next ru=sip:d@127.0.0.1:5093 branches=1"]
    assert [str(r.dst) for r in res.requests] == ["udp:127.0.0.1:5093", "udp:127.0.0.1:5092"]
    s.feed_reply(486, branch=0)
    res = s.feed_reply(486, branch=1)
    assert logs(res) == ["then sip:b@127.0.0.1:5091"]
    assert [(r.method, str(r.dst)) for r in res.requests][-1] == ("INVITE", "udp:127.0.0.1:5091")
    res = s.feed_reply(480, branch=2)
    assert logs(res) == ["then sip:a@127.0.0.1:5090"]
    res = s.feed_reply(404, branch=3)
    assert logs(res) == ["no more: -2"]
    assert [r.status for r in res.replies] == [404]


def test_e2e_ack_matching_with_registered_callbacks(tm_script, ks_msg):
    """With an E2EACK callback (acc's report_ack) the ACK of a relayed 2xx matches the
    transaction: t_check_trans() is true, and t_relay() runs the callback once per To tag."""
    calls = []

    class Fake:
        def tmcb_request_in(self, ctx, t):
            t.tmcb.update({"e2eack", "response_out"})

        def tmcb_e2eack_in(self, t, ack_ctx):
            calls.append(ack_ctx.msg.to.tag)

        def tmcb_response_out(self, t, code, reply=None, sink=None, reason=None, to_tag=None):
            calls.append(code)

    body = 'if (is_method("ACK")) { if (t_check_trans()) { xlog("L_INFO", "e2e\\n"); t_relay(); } exit; }' + RELAY
    s = tm_script(body=body)
    s.modules["fake"] = Fake()
    s.process(invite(ks_msg), src=SRC)
    s.feed_reply(200)
    ack = ks_msg("ACK", "sip:bob@127.0.0.1:5090", via="SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKack9",
                 call_id="call-1@test", to_tag="kst1")
    res = s.process(ack, src=SRC)
    assert logs(res) == ["e2e"] and [r.method for r in res.requests] == ["ACK"]
    assert calls == [200, "kst1"]
    s.process(ack.replace("ack9", "ack10"), src=SRC)
    assert calls == [200, "kst1"]  # the same To tag again: a retransmission, no callback
