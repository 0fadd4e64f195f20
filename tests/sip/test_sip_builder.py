"""kscript.sip.builder: request()/reply() produce messages our parser (and Kamailio, see
test_sip_kamailio_live.py) accept."""

from __future__ import annotations

import pytest

from kscript.sip import SipMessage, parse_src, reply, request
from sip_samples import SDP


def test_defaults_options():
    text = request("OPTIONS", "sip:bob@example.com")
    assert text.count("\r\n\r\n") == 1 and text.endswith("\r\n\r\n")
    m = SipMessage.parse(text)
    assert (m.method, m.ruri, m.version) == ("OPTIONS", "sip:bob@example.com", "SIP/2.0")
    v = m.vias[0]
    assert (v.transport, v.host, v.port) == ("UDP", "127.0.0.1", "5060")
    assert v.branch.startswith("z9hG4bK") and len(v.branch) > 10 and v.rport == ""
    assert m.max_forwards == 70
    assert m.from_.uri == "sip:kscript@127.0.0.1" and m.from_.tag
    assert m.to.uri == "sip:bob@example.com" and m.to.tag is None
    assert m.call_id.endswith("@127.0.0.1") and m.cseq.number == "1" and m.cseq.method == "OPTIONS"
    assert m.contacts == [] and m.content_length == 0 and m.body == ""
    # random parts differ between calls
    m2 = SipMessage.parse(request("OPTIONS", "sip:bob@example.com"))
    assert m2.vias[0].branch != v.branch and m2.call_id != m.call_id and m2.from_.tag != m.from_.tag


@pytest.mark.parametrize("method,has_contact", [("INVITE", True), ("REGISTER", True), ("SUBSCRIBE", True),
                                                ("MESSAGE", False), ("BYE", False), ("OPTIONS", False)])
def test_contact_rule(method, has_contact):
    m = SipMessage.parse(request(method, "sip:bob@example.com", src="tcp:10.1.2.3:5070"))
    assert bool(m.contacts) == has_contact
    if has_contact:
        assert m.contacts[0].uri == "sip:kscript@10.1.2.3:5070;transport=tcp"
    assert m.vias[0].transport == "TCP" and m.vias[0].sent_by == "10.1.2.3:5070"


def test_invite_with_sdp_and_options():
    text = request("INVITE", "sip:bob@example.com", from_='"Alice" <sip:alice@example.com>', to="sip:bob@example.com",
                   call_id="call-1", cseq=42, body=SDP, contact="sip:alice@192.0.2.1",
                   headers=[("X-Custom", "1"), "Subject: hi", ("Max-Forwards", "10")], branch="z9hG4bKfixed",
                   from_tag="ftag")
    m = SipMessage.parse(text)
    assert m.from_.display == '"Alice"' and m.from_.tag == "ftag" and m.to.uri == "sip:bob@example.com"
    assert m.call_id == "call-1" and m.cseq.number == "42" and m.vias[0].branch == "z9hG4bKfixed"
    assert m.header("Content-Type") == "application/sdp" and m.content_length == len(SDP) and m.body == SDP
    assert m.contacts[0].uri == "sip:alice@192.0.2.1"
    assert m.header("X-Custom") == "1" and m.header("subject") == "hi"
    assert m.headers_named("Max-Forwards") == ["10"]      # replaced, not duplicated
    names = [h.name for h in m.headers]
    assert names.index("Max-Forwards") == 1 and names[-1] == "Content-Length"


def test_from_with_tag_kept_and_text_body():
    m = SipMessage.parse(request("MESSAGE", "sip:bob@example.com", from_="<sip:a@b>;tag=mine", body="hé",
                                 headers={"Content-Type": "text/x-custom"}))
    assert m.from_.tag == "mine" and m.header("content-type") == "text/x-custom" and m.content_length == 3
    m = SipMessage.parse(request("MESSAGE", "sip:bob@example.com", body="hello"))
    assert m.header("content-type") == "text/plain"


def test_explicit_vias():
    m = SipMessage.parse(request("BYE", "sip:b@h", via=["SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1",
                                                          "SIP/2.0/TCP 10.0.0.2:5070;branch=z9hG4bK2"]))
    assert [v.branch for v in m.vias] == ["z9hG4bK1", "z9hG4bK2"] and m.header_count("via") == 2


def test_parse_src():
    assert parse_src("udp:127.0.0.1:5060") == ("udp", "127.0.0.1", 5060)
    assert parse_src("tls:example.com") == ("tls", "example.com", 5061)
    assert parse_src("[::1]:5080") == ("udp", "[::1]", 5080)
    with pytest.raises(ValueError):
        parse_src("udp:")


def test_reply_copies_and_tags():
    req = request("INVITE", "sip:bob@example.com", via=["SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1",
                                                        "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2"],
                  headers=[("Record-Route", "<sip:p1;lr>"), ("Record-Route", "<sip:p2;lr>")], call_id="c9")
    r = SipMessage.parse(reply(req, 200, "OK", headers={"Contact": "<sip:bob@192.0.2.4>"}, body="v=0\r\n"))
    assert r.is_reply and r.status == 200 and r.reason == "OK"
    assert [v.branch for v in r.vias] == ["z9hG4bK1", "z9hG4bK2"]
    assert r.call_id == "c9" and r.cseq.method == "INVITE" and r.to.tag and r.from_.tag
    assert r.headers_named("Record-Route") == ["<sip:p1;lr>", "<sip:p2;lr>"]
    assert r.header("content-type") == "application/sdp" and r.content_length == 5
    assert r.contacts[0].uri == "sip:bob@192.0.2.4"
    trying = SipMessage.parse(reply(SipMessage.parse(req), 100, "Trying"))
    assert trying.to.tag is None and trying.header_count("record-route") == 0
    busy = SipMessage.parse(reply(req, 486, "Busy Here", to_tag="tt"))
    assert busy.to.tag == "tt" and busy.header_count("record-route") == 0
    # an existing To tag is kept
    again = SipMessage.parse(reply(busy.text.replace("SIP/2.0 486 Busy Here", "ACK sip:bob@example.com SIP/2.0")
                                   .replace("INVITE", "ACK"), 200, "OK"))
    assert again.to.tag == "tt"


def test_reply_errors():
    with pytest.raises(Exception):
        reply(reply(request("OPTIONS", "sip:a@b"), 200, "OK"), 200, "OK")
    with pytest.raises(ValueError):
        reply(request("OPTIONS", "sip:a@b"), 99, "x")
