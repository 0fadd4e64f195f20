"""core forward(): stateless forwarding (expected texts from the forward_stateless golden)."""

from __future__ import annotations


def test_forward_to_du(ks_run, ks_msg):
    res = ks_run('$du = "sip:127.0.0.1:5090"; forward();')
    assert len(res.requests) == 1
    r = res.requests[0]
    assert str(r.dst) == "udp:127.0.0.1:5090"
    lines = r.text.split("\r\n")
    assert lines[0] == "OPTIONS sip:bob@127.0.0.1 SIP/2.0"
    assert lines[1].startswith("Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK")
    assert lines[2] == "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKtest1"


def test_forward_forms(ks_run, ks_logs):
    assert str(ks_run('forward(127.0.0.1, 5091);').requests[0].dst) == "udp:127.0.0.1:5091"
    # (127.0.0.1:5060 is our own listen socket: a request sent there loops back)
    assert str(ks_run('forward("127.0.0.2");').requests[0].dst) == "udp:127.0.0.2:5060"
    # forward(uri:host) ignores the URI port (port 0 -> 5060)
    assert str(ks_run('$ru = "sip:x@127.0.0.2:5099"; forward(uri:host);').requests[0].dst) == "udp:127.0.0.2:5060"
    assert str(ks_run('$ru = "sip:x@127.0.0.1:5099"; forward(uri:host, uri:port);').requests[0].dst) \
        == "udp:127.0.0.1:5099"
    assert str(ks_run('$ru = "sip:x@127.0.0.1:5099"; forward(uri:host, 5098);').requests[0].dst) \
        == "udp:127.0.0.1:5098"


def test_forward_uses_the_rewritten_ruri(ks_run):
    res = ks_run('rewritehostport("127.0.0.1:5090"); prefix("00"); forward();')
    assert res.requests[0].text.startswith("OPTIONS sip:00bob@127.0.0.1:5090 SIP/2.0\r\n")
    assert str(res.requests[0].dst) == "udp:127.0.0.1:5090"


def test_forward_to_a_host_name_fails_with_kamailios_log(ks_run, ks_logs):
    res = ks_run('$du = "sip:proxy.example.com"; if (!forward()) { xlog("L_INFO", "failed\\n"); }')
    assert not res.sent
    assert ks_logs(res) == ["failed"]
    assert "bad host name proxy.example.com, dropping packet" in ks_logs(res, "core")


def test_forward_twice_keeps_the_first_via_lumps(ks_run):
    # stateless forward() leaves its Via lumps on the message (Kamailio does too)
    res = ks_run('$du = "sip:127.0.0.1:5090"; forward(); forward();')
    second = res.requests[1].text
    assert second.count("Via: SIP/2.0/UDP 127.0.0.1;branch=") == 2


def test_received_and_rport_added_to_the_top_via(ks_run, ks_msg):
    msg = ks_msg(via="SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx;rport")
    res = ks_run('$du = "sip:127.0.0.1:5090"; forward();', msg=msg, src="udp:127.0.0.1:6000")
    assert res.requests[0].text.split("\r\n")[2] == \
        "Via: SIP/2.0/UDP 10.0.0.1:5070;received=127.0.0.1;branch=z9hG4bKx;rport=6000"


def test_replies_are_forwarded_statelessly_after_reply_route(ks_load, ks_logs):
    script = ks_load('exit;', routes='''
        reply_route {
            xlog("L_INFO", "reply $rs from $si:$sp\\n");
        }
    ''')
    reply = ("SIP/2.0 180 Ringing\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKb\r\n"
             "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
             "Content-Length: 0\r\n\r\n")
    res = script.process(reply, src="udp:127.0.0.1:5091")
    assert ks_logs(res) == ["reply 180 from 127.0.0.1:5091"]
    assert len(res.sent) == 1 and res.sent[0].kind == "reply"
    assert res.sent[0].text.split("\r\n")[1] == "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKb"
    dropping = ks_load('exit;', routes='reply_route {\n drop;\n}\n')
    assert not dropping.process(reply, src="udp:127.0.0.1:5091").sent


def test_onsend_route_keywords_and_drop(ks_run, ks_logs):
    res = ks_run('''
        if (snd_port == 5060) { xlog("L_INFO", "not in onsend\\n"); }
        $du = "sip:127.0.0.1:5091"; forward();
        $du = "sip:127.0.0.1:5090"; forward();
    }
    onsend_route {
        xlog("L_INFO", "onsend $rm $du\\n");
        if (to_port == 5091 && snd_port == 5060) { drop; }
        if (to_port == 5090 && snd_proto == UDP && snd_ip == 127.0.0.1 && to_ip == 127.0.0.1 && snd_af == INET) {
            xlog("L_INFO", "udp to 5090 from 127.0.0.1\\n");
        }
    ''')
    assert [str(s.dst) for s in res.sent] == ["udp:127.0.0.1:5090"]
    assert ks_logs(res) == ["onsend OPTIONS sip:127.0.0.1:5091", "onsend OPTIONS sip:127.0.0.1:5090",
                            "udp to 5090 from 127.0.0.1"]
    assert ks_logs(res, "core")[:1] == ["eval_elem: snd_port unknown (not in a onsend_route?)"]
