"""Sample SIP messages shared by the message tests and ``record_messages.py``.

``VALID`` messages are accepted by Kamailio 5.6.3 (it runs the route and answers);
``INVALID`` ones are dropped (the expected SipParseError line is given).  ``@@LPORT@@``
is replaced by the sender's port when sent to a real Kamailio.
"""

from __future__ import annotations

SDP = ("v=0\r\n"
       "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
       "s=-\r\n"
       "c=IN IP4 192.0.2.10\r\n"
       "t=0 0\r\n"
       "m=audio 49170 RTP/AVP 0 8 101\r\n"
       "a=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\n"
       "a=sendrecv\r\n")

INVITE_SDP = (
    "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bK74bf9;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 31862 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY\r\n"
    "Supported: replaces, timer\r\n"
    "User-Agent: kscript-test/1.0\r\n"
    "Content-Type: application/sdp\r\n"
    f"Content-Length: {len(SDP)}\r\n"
    "\r\n" + SDP)

REGISTER = (
    "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;rport;branch=z9hG4bKnashds7\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:bob@192.0.2.4>;expires=7200, \"Bob Mobile\" <sip:bob@192.0.2.5:5070>;q=0.5\r\n"
    "Contact: <sip:bob@192.0.2.6>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1\r\n"
    "Expires: 7200\r\n"
    "Content-Length: 0\r\n"
    "\r\n")

COMPACT = (
    "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKcompact1\r\n"
    "f: <sip:alice@example.com>;tag=c1\r\n"
    "t: <sip:bob@example.com>\r\n"
    "i: compact-1@example.com\r\n"
    "CSeq: 5 MESSAGE\r\n"
    "c: text/plain\r\n"
    "k: path\r\n"
    "m: <sip:alice@192.0.2.1>\r\n"
    "l: 5\r\n"
    "\r\n"
    "hello")

FOLDED = (
    "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKfold1\r\n"
    "From: <sip:alice@example.com>\r\n"
    " ;tag=f1\r\n"
    "To:\r\n"
    "  <sip:bob@example.com>\r\n"
    "Call-ID: folded-1\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Subject: a very long\r\n"
    "   subject line\r\n"
    "X-Trailing: value  \r\n"
    "X-Empty:\r\n"
    "Content-Length: 0\r\n"
    "\r\n")

MULTI_VIA = (
    "BYE sip:bob@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKmv1, SIP/2.0/TCP 10.0.0.2:5070;branch=z9hG4bKmv2;received=10.9.9.9\r\n"
    "Via: SIP/2.0/UDP [2001:db8::9];branch=z9hG4bKmv3;rport=5062\r\n"
    "Route: <sip:proxy1.example.com;lr>, <sip:proxy2.example.com;lr>\r\n"
    "Max-Forwards: 69\r\n"
    "From: <sip:alice@example.com>;tag=mv\r\n"
    "To: <sip:bob@example.com>;tag=mvb\r\n"
    "Call-ID: multivia-1\r\n"
    "CSeq: 2 BYE\r\n"
    "Content-Length: 0\r\n"
    "\r\n")

LF_ONLY = (INVITE_SDP.replace("\r\n", "\n")
           .replace(f"Content-Length: {len(SDP)}", f"Content-Length: {len(SDP.replace(chr(13), ''))}")
           .replace("Call-ID: 3848276298220188511@", "Call-ID: lf-only-1@"))

LEADING_BLANK = "\r\n\r\n" + MULTI_VIA.replace("multivia-1", "leading-1")

CL_MISMATCH = (
    "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKcl1\r\n"
    "From: <sip:alice@example.com>;tag=cl\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: clmismatch-1\r\n"
    "CSeq: 1 MESSAGE\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 100\r\n"
    "\r\n"
    "0123456789")

NO_CL_UTF8 = (
    "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKutf\r\n"
    "From: \"Jos\u00e9 \u00c7a\u011fr\u0131\" <sip:jose@example.com>;tag=u8\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: utf8-1\r\n"
    "CSeq: 1 MESSAGE\r\n"
    "Content-Type: text/plain;charset=utf-8\r\n"
    "\r\n"
    "gr\u00fc\u00dfe \u2603")

REPLY_200 = (
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:@@PORT@@;branch=z9hG4bKreply1\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKreply0\r\n"
    "Record-Route: <sip:127.0.0.1;lr>\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=r1\r\n"
    "To: <sip:bob@example.com>;tag=r2\r\n"
    "Call-ID: reply-1\r\n"
    "CSeq: 31862 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Length: 0\r\n"
    "\r\n")

REPLY_EMPTY_REASON = REPLY_200.replace("SIP/2.0 200 OK", "SIP/2.0 480 ").replace("reply-1", "reply-2")

VALID = {
    "invite_sdp": INVITE_SDP,
    "register": REGISTER,
    "compact": COMPACT,
    "folded": FOLDED,
    "multi_via": MULTI_VIA,
    "lf_only": LF_ONLY,
    "leading_blank": LEADING_BLANK,
    "cl_mismatch": CL_MISMATCH,
    "no_cl_utf8": NO_CL_UTF8,
    "reply_200": REPLY_200,
    "reply_empty_reason": REPLY_EMPTY_REASON,
}

_BASE = ("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKbad\r\n"
         "From: <sip:a@b>;tag=1\r\n"
         "To: <sip:x@y>\r\n"
         "Call-ID: bad-{n}\r\n"
         "CSeq: 1 OPTIONS\r\n"
         "{extra}"
         "Content-Length: 0\r\n"
         "\r\n")


def _bad(n, extra="", first=None):
    m = _BASE.format(n=n, extra=extra)
    if first is not None:
        m = m.replace("OPTIONS sip:x@127.0.0.1 SIP/2.0", first, 1)
    return m


#: name -> (message, line of the error)
INVALID = {
    "space_in_header_name": (_bad(1, "X A: b\r\n"), 7),
    "no_colon": (_bad(2, "NoColonHere\r\n"), 7),
    "dup_from": (_bad(3, "From: <sip:dup@b>;tag=2\r\n"), 7),
    "dup_to": (_bad(4, "To: <sip:dup@y>\r\n"), 7),
    "dup_cseq": (_bad(5, "CSeq: 2 OPTIONS\r\n"), 7),
    "dup_max_forwards": (_bad(6, "Max-Forwards: 70\r\nMax-Forwards: 69\r\n"), 8),
    "dup_content_length": (_bad(7, "Content-Length: 0\r\n"), 8),
    "tab_after_method": (_bad(8, first="OPTIONS\tsip:x@127.0.0.1 SIP/2.0"), 1),
    "double_space_after_method": (_bad(9, first="OPTIONS  sip:x@127.0.0.1 SIP/2.0"), 1),
    "http_version": (_bad(10, first="OPTIONS sip:x@127.0.0.1 HTTP/1.1"), 1),
    "bad_status": (_bad(11, first="SIP/2.0 20 OK"), 1),
    "bad_via": (_bad(12).replace("SIP/2.0/UDP 127.0.0.1:@@LPORT@@", "SIP/2.0/UDP 127.0.0.1:port"), 2),
    "bad_cseq": (_bad(14).replace("CSeq: 1 OPTIONS", "CSeq: 1 OPTIONS extra"), 6),
    "bad_content_length": (_bad(15).replace("Content-Length: 0", "Content-Length: abc"), 7),
    "missing_call_id": (_bad(16).replace("Call-ID: bad-16\r\n", ""), 1),
    "no_via": (_bad(17).replace("Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKbad\r\n", ""), 1),
    # the method of a CSeq may not be on a continuation line (Kamailio: "no method found")
    "folded_cseq": (_bad(18).replace("CSeq: 1 OPTIONS", "CSeq: 1\r\n OPTIONS"), 6),
    "bad_to": (_bad(19).replace("To: <sip:x@y>", "To: <sip:x@y"), 4),
}

#: accepted by Kamailio although a header is malformed: the From header is only parsed when
#: the script uses it ($fu is null then); kscript's From accessor raises SipParseError
LAZY_BAD = {
    "bad_from": (_bad(13).replace("From: <sip:a@b>;tag=1", "From: <sip:a@b"), 3),
}
