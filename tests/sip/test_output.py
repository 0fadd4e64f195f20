"""kscript.sip.output: replies and forwarded requests built like Kamailio 5.6.3.

Expected texts come from tests/conformance goldens (recorded from kamailio)."""

from __future__ import annotations

import pytest

import kscript
from kscript.runtime.context import Socket
from kscript.sip import output
from kscript.sip.message import SipMessage

CFG = """#!KAMAILIO
debug=3
loadmodule "pv.so"
loadmodule "xlog.so"
{extra}
request_route {{
	exit;
}}
"""

REQ = ("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-sl_reply_pv_reason-reason\r\n"
       "Max-Forwards: 70\r\n"
       "From: \"Alice\" <sip:alice@127.0.0.1>;tag=a-reason\r\n"
       "To: <sip:bob@127.0.0.1>\r\n"
       "Call-ID: sl_reply_pv_reason-reason@127.0.0.1\r\n"
       "CSeq: 1 OPTIONS\r\n"
       "Contact: <sip:alice@127.0.0.1:5080>\r\n"
       "X-Case: reason\r\n"
       "User-Agent: conf-uac\r\n"
       "Content-Length: 0\r\n\r\n")


@pytest.fixture
def make_ctx(tmp_path):
    def make(text=REQ, src="udp:127.0.0.1:5080", extra=""):
        cfg = tmp_path / "o.cfg"
        cfg.write_text(CFG.format(extra=extra))
        script = kscript.load(cfg)
        return script.new_context(SipMessage.parse(text), src)
    return make


def with_via(via, extra_hdrs=""):
    return REQ.replace("Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-sl_reply_pv_reason-reason", "Via: " + via) \
        .replace("X-Case: reason\r\n", "X-Case: reason\r\n" + extra_hdrs)


# ---------------------------------------------------------------- ids and tags
def test_transaction_hash_and_stateless_branch_match_kamailio(make_ctx):
    assert output.reverse_hex(output.hash2("rr_record_route_loose_route-invite@127.0.0.1", "1")) == "09f"
    assert output.reverse_hex(output.hash2("rr_record_route_loose_route-invite@127.0.0.1", "2")) == "d8f"
    fwd = REQ.replace("sl_reply_pv_reason-reason@", "forward_stateless-options@") \
        .replace("z9hG4bK-sl_reply_pv_reason-reason", "z9hG4bK-forward_stateless-options") \
        .replace("tag=a-reason", "tag=a-options").replace("X-Case: reason\r\n", "")
    assert output.stateless_branch(make_ctx(fwd)) == "z9hG4bK493f.03c4786ef8a08fc42af47c7658b02f9d.0"


def test_sl_to_tag_matches_kamailio(make_ctx):
    assert output.sl_to_tag(make_ctx()) == "9dd61ff61e802d8e2bef5f14621ef3c2.b1992a5f"


def test_reverse_hex_and_q2str():
    assert output.reverse_hex(0) == "0" and output.reverse_hex(0xf90) == "09f"
    assert [output.q2str(q) for q in (1000, 500, 25, 0)] == ["1", "0.5", "0.025", "0"]


# ---------------------------------------------------------------- replies
def test_stateless_reply_exact(make_ctx):
    ctx = make_ctx()
    text = output.build_reply(ctx, 404, "No bob here", to_tag=output.sl_to_tag(ctx))
    assert text == ("SIP/2.0 404 No bob here\r\n"
                    "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-sl_reply_pv_reason-reason\r\n"
                    "From: \"Alice\" <sip:alice@127.0.0.1>;tag=a-reason\r\n"
                    "To: <sip:bob@127.0.0.1>;tag=9dd61ff61e802d8e2bef5f14621ef3c2.b1992a5f\r\n"
                    "Call-ID: sl_reply_pv_reason-reason@127.0.0.1\r\n"
                    "CSeq: 1 OPTIONS\r\n"
                    "Server: kamailio (5.6.3 (x86_64/linux))\r\n"
                    "Content-Length: 0\r\n\r\n")


def test_received_and_rport_on_the_top_via(make_ctx):
    # host differs from the source IP -> received; rport param -> rport=<src port>
    ctx = make_ctx(with_via("SIP/2.0/UDP pc.example.com:5080;branch=z9hG4bKx;rport"), src="udp:10.1.2.3:6000")
    via = output.build_reply(ctx, 200, "OK").split("\r\n")[1]
    assert via == "Via: SIP/2.0/UDP pc.example.com:5080;branch=z9hG4bKx;rport=6000;received=10.1.2.3"
    # force_rport() adds rport at the end even without the parameter (no received:
    # the host is the source IP and the Via had neither rport nor received)
    ctx = make_ctx(with_via("SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx"))
    ctx.force_rport = True
    assert output.build_reply(ctx, 200, "OK").split("\r\n")[1] == \
        "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx;rport=5080"
    # an rport with a value is replaced in place
    ctx = make_ctx(with_via("SIP/2.0/UDP 127.0.0.1:5080;rport=1;branch=z9hG4bKx"))
    assert output.build_reply(ctx, 200, "OK").split("\r\n")[1] == \
        "Via: SIP/2.0/UDP 127.0.0.1:5080;rport=5080;branch=z9hG4bKx;received=127.0.0.1"


def test_record_route_only_in_180_to_299(make_ctx):
    ctx = make_ctx(with_via("SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx", "Record-Route: <sip:p1;lr>\r\n"))
    assert "Record-Route: <sip:p1;lr>" in output.build_reply(ctx, 180, "Ringing")
    assert "Record-Route" not in output.build_reply(ctx, 100, "Trying")
    assert "Record-Route" not in output.build_reply(ctx, 404, "Not Found")


def test_to_tag_replaced_or_kept(make_ctx):
    text = REQ.replace("To: <sip:bob@127.0.0.1>", "To: <sip:bob@127.0.0.1>;tag=old")
    ctx = make_ctx(text)
    assert "To: <sip:bob@127.0.0.1>;tag=old\r\n" in output.build_reply(ctx, 200, "OK")
    assert "To: <sip:bob@127.0.0.1>;tag=new\r\n" in output.build_reply(ctx, 200, "OK", to_tag="new")


def test_reply_lumps_server_header_and_body(make_ctx):
    ctx = make_ctx(extra='server_header="Server: Test"')
    from kscript.sip.lumps import add_reply_lump
    add_reply_lump(ctx, "X-R: 1\r\n")
    add_reply_lump(ctx, "hello", body=True)
    text = output.build_reply(ctx, 200, "OK")
    assert text.endswith("CSeq: 1 OPTIONS\r\nX-R: 1\r\nServer: Test\r\nContent-Length: 5\r\n\r\nhello")
    ctx = make_ctx(extra="server_signature=no")
    assert "Server:" not in output.build_reply(ctx, 200, "OK")


def test_reply_destination(make_ctx):
    ctx = make_ctx(with_via("SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bKx"), src="udp:10.1.2.3:6000")
    assert str(output.reply_destination(ctx)) == "udp:10.1.2.3:5070"  # source IP, Via port
    ctx.force_rport = True
    assert str(output.reply_destination(ctx)) == "udp:10.1.2.3:6000"
    ctx = make_ctx(with_via("SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx;rport"), src="udp:10.1.2.3:6000")
    assert str(output.reply_destination(ctx)) == "udp:10.1.2.3:6000"
    ctx = make_ctx(with_via("SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx"), src="udp:10.1.2.3:6000")
    assert str(output.reply_destination(ctx)) == "udp:10.1.2.3:5060"


def test_send_stateless_reply_refuses_ack_and_adds_tag_from_180(make_ctx):
    ack = REQ.replace("OPTIONS sip:", "ACK sip:").replace("CSeq: 1 OPTIONS", "CSeq: 1 ACK")
    assert output.send_stateless_reply(make_ctx(ack), 200, "OK") == -1
    ctx = make_ctx()
    assert output.send_stateless_reply(ctx, 100, "Trying") == 1
    assert ";tag=" not in ctx.sent[0].text.split("To: ")[1].split("\r\n")[0]
    assert output.send_stateless_reply(ctx, 180, "Ringing") == 1
    assert ";tag=9dd61ff6" in ctx.sent[1].text
    assert str(ctx.sent[1].dst) == "udp:127.0.0.1:5080"


# ---------------------------------------------------------------- forwarding requests
def test_build_request_our_via_and_lumps(make_ctx):
    ctx = make_ctx(with_via("SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKx;rport"), src="udp:10.1.2.3:6000")
    dst = Socket("udp", "127.0.0.1", 5090)
    text = output.build_request(ctx, "sip:carol@127.0.0.1:5090", dst, "z9hG4bKabc")
    lines = text.split("\r\n")
    assert lines[0] == "OPTIONS sip:carol@127.0.0.1:5090 SIP/2.0"
    assert lines[1] == "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKabc"
    # received inserted after host:port (before the params), then rport rewritten in place
    assert lines[2] == "Via: SIP/2.0/UDP 10.0.0.9:5080;received=10.1.2.3;branch=z9hG4bKx;rport=6000"
    # not persistent by default: the message lumps stay untouched
    assert ctx.lumps is None or not ctx.lumps


def test_build_request_via_port_transport_and_local_rport(make_ctx):
    ctx = make_ctx()
    ctx.script.listen.append(Socket("tcp", "127.0.0.1", 5070))
    ctx.add_local_rport = True
    text = output.build_request(ctx, None, Socket("tcp", "127.0.0.1", 5090), "z9hG4bKabc")
    assert text.split("\r\n")[1] == "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKabc;rport"


def test_content_length_rewritten_only_when_the_body_changes(make_ctx):
    body = "v=0\r\n"
    text = REQ.replace("Content-Length: 0\r\n\r\n", f"Content-Length: {len(body)}\r\n\r\n{body}")
    ctx = make_ctx(text)
    dst = Socket("udp", "127.0.0.1", 5090)
    assert f"Content-Length: {len(body)}\r\n" in output.build_request(ctx, None, dst, "z9hG4bKa")
    from kscript.sip.lumps import lumps_of
    lumps = lumps_of(ctx)
    d = lumps.delete(ctx.msg.body_start, len(body))
    lumps.insert_after(d, "v=0\r\no=x\r\n")
    out = output.build_request(ctx, None, dst, "z9hG4bKa")
    assert "Content-Length: 10\r\n" in out and out.endswith("\r\n\r\nv=0\r\no=x\r\n")


def test_destinations():
    assert str(output.uri_destination("sip:10.0.0.1")) == "udp:10.0.0.1:5060"
    assert str(output.uri_destination("sip:10.0.0.1:5070;transport=TCP")) == "tcp:10.0.0.1:5070"
    assert str(output.uri_destination("sips:10.0.0.1")) == "tls:10.0.0.1:5061"
    assert str(output.uri_destination("sip:[2001:db8::1]:5080")) == "udp:[2001:db8::1]:5080"
    assert str(output.uri_destination("sip:localhost")) == "udp:127.0.0.1:5060"
    with pytest.raises(output.DestinationError, match="bad host name example.com"):
        output.uri_destination("sip:bob@example.com")


def test_next_hop_prefers_du(make_ctx):
    ctx = make_ctx()
    assert str(output.next_hop(ctx)) == "udp:127.0.0.1:5060"
    ctx.dst_uri = "sip:127.0.0.1:5090"
    assert str(output.next_hop(ctx)) == "udp:127.0.0.1:5090"
    ctx.dst_uri = "sip:proxy.example.com"
    assert output.next_hop(ctx) is None


def test_forward_request_persists_lumps_like_stateless_forward(make_ctx):
    ctx = make_ctx()
    assert output.forward_request(ctx, Socket("udp", "127.0.0.1", 5090)) == 1
    sent = ctx.sent[-1]
    assert sent.kind == "request" and str(sent.dst) == "udp:127.0.0.1:5090"
    assert sent.text.split("\r\n")[1].startswith("Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK")
    assert ctx.lumps  # the Via lumps stay on the message, as in Kamailio


# ---------------------------------------------------------------- forwarding replies
REPLY = ("SIP/2.0 200 OK\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKmine, SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKx;rport=6000;"
         "received=10.1.2.3\r\n"
         "From: <sip:alice@127.0.0.1>;tag=a\r\n"
         "To: <sip:bob@127.0.0.1>;tag=b\r\n"
         "Call-ID: c\r\n"
         "CSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n")


def test_forward_reply_removes_our_via_and_goes_to_the_second(make_ctx):
    ctx = make_ctx(REPLY, src="udp:127.0.0.1:5090")
    assert output.forward_reply(ctx) == 0
    sent = ctx.sent[-1]
    assert sent.kind == "reply" and str(sent.dst) == "udp:10.1.2.3:6000"
    assert sent.text.split("\r\n")[1] == ("Via: SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKx;rport=6000;"
                                          "received=10.1.2.3")


def test_forward_reply_without_second_via_fails(make_ctx):
    one = REPLY.replace(", SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKx;rport=6000;received=10.1.2.3", "")
    ctx = make_ctx(one, src="udp:127.0.0.1:5090")
    assert output.forward_reply(ctx) == -1 and not ctx.sent
