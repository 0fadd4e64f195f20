"""rr: record_route / loose_route (expected texts from the rr_record_route_loose_route golden)."""

from __future__ import annotations

MODS = ("pv", "xlog", "sl", "rr", "siputils", "textops")
ROUTE = "Route: <sip:127.0.0.1;lr;ftag=a-invite;mark=rr>"


def test_record_route_with_param(ks_run, ks_msg):
    res = ks_run('record_route(); add_rr_param(";mark=rr"); $du = "sip:127.0.0.1:5090"; forward();',
                 msg=ks_msg("INVITE", from_tag="a-invite"), modules=MODS)
    lines = res.requests[0].text.split("\r\n")
    # same sending and receiving socket: only one Record-Route, no r2
    assert lines[1] == "Record-Route: <sip:127.0.0.1;lr;ftag=a-invite;mark=rr>"
    assert lines[2].startswith("Via: SIP/2.0/UDP 127.0.0.1;branch=")


def test_add_rr_param_before_record_route_and_params_argument(ks_run, ks_msg):
    res = ks_run('add_rr_param(";a=1"); record_route(";b=2"); $du = "sip:127.0.0.1:5090"; forward();',
                 msg=ks_msg("INVITE", from_tag="t"), modules=MODS)
    assert res.requests[0].text.split("\r\n")[1] == "Record-Route: <sip:127.0.0.1;lr;ftag=t;b=2;a=1>"


def test_double_rr_when_the_socket_changes(ks_load, ks_msg):
    from kscript.runtime.context import Socket
    script = ks_load('record_route(); $du = "sip:127.0.0.1:5090;transport=tcp"; forward();', modules=MODS)
    script.listen.append(Socket("tcp", "127.0.0.1", 5070))
    res = script.process(ks_msg("INVITE", from_tag="t"), src="udp:127.0.0.1:5080")
    lines = res.requests[0].text.split("\r\n")
    assert lines[1] == "Record-Route: <sip:127.0.0.1:5070;transport=tcp;r2=on;lr;ftag=t>"
    assert lines[2] == "Record-Route: <sip:127.0.0.1;r2=on;lr;ftag=t>"


def test_double_record_route_attempt_fails(ks_run, ks_logs):
    res = ks_run('record_route(); if (!record_route()) { xlog("L_INFO", "twice\\n"); }', modules=MODS)
    assert ks_logs(res) == ["twice"]
    assert "Double attempt to record-route" in ks_logs(res, "rr")


def test_loose_route_removes_our_route(ks_run, ks_msg, ks_logs):
    msg = ks_msg("BYE", "sip:sink5090@127.0.0.1:5090", to_tag="sink5090", from_tag="a-invite", headers=[ROUTE])
    res = ks_run('''
        if (loose_route()) {
            xlog("L_INFO", "ru=$ru du=$du\\n");
            if (check_route_param("mark=rr")) { xlog("L_INFO", "param\\n"); }
            if (is_direction("downstream")) { xlog("L_INFO", "downstream\\n"); }
            forward();
        }
    ''', msg=msg, modules=MODS)
    assert ks_logs(res) == ["ru=sip:sink5090@127.0.0.1:5090 du=<null>", "param", "downstream"]
    assert "Route:" not in res.requests[0].text and str(res.requests[0].dst) == "udp:127.0.0.1:5090"


def test_loose_route_next_hop_goes_to_du(ks_run, ks_msg, ks_logs):
    msg = ks_msg("BYE", "sip:b@10.0.0.9", to_tag="x",
                 headers=["Route: <sip:127.0.0.1;lr>, <sip:127.0.0.2:5070;lr>", "Route: <sip:127.0.0.3;lr>"])
    res = ks_run('if (loose_route()) { xlog("L_INFO", "$du\\n"); forward(); }', msg=msg, modules=MODS)
    assert ks_logs(res) == ["sip:127.0.0.2:5070;lr"]
    text = res.requests[0].text
    assert "\r\nRoute: <sip:127.0.0.2:5070;lr>\r\nRoute: <sip:127.0.0.3;lr>\r\n" in text
    assert str(res.requests[0].dst) == "udp:127.0.0.2:5070"


def test_loose_route_without_route_and_preloaded(ks_run, ks_msg, ks_logs):
    res = ks_run('loose_route(); xlog("L_INFO", "rc=$rc\\n");', msg=ks_msg("INFO", to_tag="x"), modules=MODS)
    assert ks_logs(res) == ["rc=-1"]
    # initial request whose only Route is ours: RR_PRELOADED (-3)
    res = ks_run('loose_route(); xlog("L_INFO", "rc=$rc\\n");', msg=ks_msg(headers=["Route: <sip:127.0.0.1;lr>"]),
                 modules=MODS)
    assert ks_logs(res) == ["rc=-3"]


def test_strict_router_next_hop(ks_run, ks_msg, ks_logs):
    msg = ks_msg("BYE", "sip:b@10.0.0.9", to_tag="x", headers=["Route: <sip:127.0.0.1;lr>, <sip:10.0.0.8>"])
    res = ks_run('loose_route(); xlog("L_INFO", "ru=$ru\\n"); forward();', msg=msg, modules=MODS)
    assert ks_logs(res) == ["ru=sip:10.0.0.8"]
    text = res.requests[0].text
    assert text.startswith("BYE sip:10.0.0.8 SIP/2.0") and "\r\nRoute: <sip:b@10.0.0.9>\r\n\r\n" in text


def test_route_pvs(ks_run, ks_msg, ks_logs):
    msg = ks_msg("BYE", to_tag="tt", from_tag="other", headers=["Route: <sip:127.0.0.1;lr;ftag=a-invite>"])
    res = ks_run('xlog("L_INFO", "$route_uri $rdir(name) $fti $tti\\n");', msg=msg, modules=MODS)
    assert ks_logs(res) == ["sip:127.0.0.1;lr;ftag=a-invite upstream tt other"]


def test_route_uri_without_route_header_fails_with_info(ks_run, ks_logs):
    res = ks_run('xlog("L_INFO", "[route_uri=$route_uri]\\n");', modules=MODS)
    assert ks_logs(res) == ["[route_uri=]"]
    assert ks_logs(res, "rr") == ["No route header present."]
