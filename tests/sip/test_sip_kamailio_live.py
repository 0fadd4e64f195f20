"""Builder output against the real Kamailio 5.6.3 (skipped when /usr/sbin/kamailio is absent).

Kamailio runs ``sl_send_reply("200", "OK")`` for everything; every request built by
:func:`kscript.sip.request` must be answered with 200, Kamailio's view of it ($ci, $fu, $ft,
$cs, $rm, $bs, $ct) must equal kscript's parse, and Kamailio's reply must parse.
"""

from __future__ import annotations

import pytest

from kamailio_oracle import kamailio_available, run_kamailio
from kscript.sip import SipMessage, reply, request
from sip_samples import SDP

pytestmark = pytest.mark.skipif(not kamailio_available(), reason="kamailio 5.6 not installed")

ROUTE = r'''
    xlog("L_ERR", "KSLIVE|$ci|$fu|$ft|$cs|$rm|$bs|$(ct{s.encode.hexa})|$(hdr(Via){s.encode.hexa})|\n");
    sl_send_reply("200", "OK");
'''


def _requests():
    src = "udp:127.0.0.1:5060"   # the Via has ;rport, so Kamailio answers to the real source port
    return [
        request("OPTIONS", "sip:kamailio@127.0.0.1", src=src),
        request("INVITE", "sip:bob@127.0.0.1", from_='"Alice Liddell" <sip:alice@example.com>', body=SDP, src=src),
        request("REGISTER", "sip:127.0.0.1", from_="sip:bob@example.com", to="sip:bob@example.com",
                headers={"Expires": "3600"}, src=src),
        request("SUBSCRIBE", "sip:bob@127.0.0.1", headers=[("Event", "presence"), ("Expires", "600")], src=src),
        request("MESSAGE", "sip:bob@127.0.0.1", body="grüße ☃", src=src, cseq=7),
        request("BYE", "sip:bob@127.0.0.1", to="<sip:bob@127.0.0.1>;tag=xyz", cseq=3, src=src),
        request("CANCEL", "sip:bob@127.0.0.1", src=src),
        request("NOTIFY", "sip:bob@127.0.0.1", headers={"Event": "dialog", "Subscription-State": "active"},
                src=src),
    ]


@pytest.fixture(scope="module")
def live():
    reqs = _requests()
    run = run_kamailio(ROUTE, [r.encode("utf-8") for r in reqs], timeout=20)
    return reqs, run


def test_every_request_answered_200(live):
    reqs, run = live
    assert len(run.replies) == len(reqs)
    for req, rpl in zip(reqs, run.replies):
        assert rpl, f"no reply to {req.splitlines()[0]}"
        r = SipMessage.parse(rpl)
        q = SipMessage.parse(req)
        assert (r.status, r.reason) == (200, "OK")
        assert r.call_id == q.call_id and r.cseq == q.cseq and r.from_.tag == q.from_.tag
        assert r.to.tag, "Kamailio adds a To tag"
        assert r.vias[0].branch == q.vias[0].branch


def test_kamailio_view_matches_ours(live):
    reqs, run = live
    lines = {fields[0]: fields for fields in (l.split("|") for l in run.marked("KSLIVE|"))}
    for req in reqs:
        q = SipMessage.parse(req)
        ci, fu, ft, cs, rm, bs, ct_hex, via_hex = lines[q.call_id][:8]
        assert (fu, ft, cs, rm) == (q.from_.uri, q.from_.tag, q.cseq.number, q.method)
        assert int(bs) == q.body_bytes_len == q.content_length
        ct = bytes.fromhex(ct_hex).decode() if ct_hex else None
        assert ct == q.header("contact")
        via = bytes.fromhex(via_hex).decode()
        assert via.split(";branch=")[1] == q.header("via").split(";branch=")[1]


def test_reply_builder_accepted_in_reply_route():
    """A reply built by kscript.sip.reply() reaches Kamailio's reply_route intact."""
    req = request("INVITE", "sip:bob@127.0.0.1", call_id="live-reply-1")
    rpl = reply(req, 180, "Ringing", to_tag="tt1")
    run = run_kamailio("    drop;", [rpl.encode()], wait_reply=False,
                       reply_body='    xlog("L_ERR", "KSLIVER|$rs|$rr|$ci|$tt|\\n");\n    drop;')
    assert run.marked("KSLIVER|") == ["180|Ringing|live-reply-1|tt1|"]
