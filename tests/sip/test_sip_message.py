"""kscript.sip.message: parsing real-world messages; checked against what Kamailio 5.6.3
showed for the same messages (tests/sip/golden_messages.json, tests/sip/record_messages.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kscript.errors import Position, SipParseError
from kscript.sip import Header, SipMessage, serialize
from kscript.sip.message import CSeq

from sip_samples import INVALID, LAZY_BAD, VALID

GOLDEN = json.loads((Path(__file__).resolve().parent / "golden_messages.json").read_text())


def fill(text: str) -> str:
    return text.replace("@@LPORT@@", "5099").replace("@@PORT@@", "5098")


def norm(v):
    return None if v is None else re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:P", v)


def pv_view(m: SipMessage) -> dict:
    """What kscript's model says for each PV recorded from Kamailio."""
    def tb(body, attr):
        if body is None:
            return None
        return getattr(body, attr) or None

    def uri_part(body, part):
        return None if body is None else (getattr(body.parsed_uri, part) or None)

    def nth(name, i):
        vals = m.headers_named(name)
        try:
            return vals[i]
        except IndexError:
            return None

    req = m.is_request
    out = {
        "$rm": m.method if req else m.cseq.method, "$ru": m.ruri if req else None, "$rv": m.version,
        "$rs": None if req else str(m.status), "$rr": None if req else m.reason,
        "$rU": (m.parsed_ruri.user or None) if req else None, "$rd": m.parsed_ruri.host if req else None,
        "$tu": tb(m.to, "uri"), "$tn": tb(m.to, "display"), "$tt": tb(m.to, "tag"),
        "$ci": m.call_id, "$cs": m.cseq.number, "$cl": m.header("content-length"), "$bs": str(m.body_bytes_len),
        "$rb": m.body, "$ct": m.header("contact"), "$cT": m.header("content-type"), "$ua": m.header("user-agent"),
        "$mt": "1" if req else "2", "$hdrc(Via)": str(m.header_count("via")), "$hdr(Via)": m.header("Via"),
        "$(hdr(Via)[1])": nth("Via", 1), "$(hdr(Via)[-1])": nth("Via", -1),
        "$hdr(X-Trailing)": m.header("X-Trailing"), "$hdr(X-Empty)": m.header("X-Empty"),
        "$hdr(Subject)": m.header("Subject"), "$hdr(Route)": m.header("Route"),
        "$hdrc(Contact)": str(m.header_count("Contact")), "$(hdr(Contact)[1])": nth("Contact", 1),
        "$hdr(From)": m.header("From"), "$hdr(To)": m.header("To"), "$hdr(CSeq)": m.header("CSeq"),
        "$hdr(Content-Length)": m.header("Content-Length"), "$hdr(f)": m.header("f"), "$hdr(i)": m.header("i"),
        "$hdr(v)": m.header("v"), "$hdr(Max-Forwards)": m.header("Max-Forwards"),
        "$hdrc(Record-Route)": str(m.header_count("Record-Route")),
    }
    try:
        out.update({"$fu": tb(m.from_, "uri"), "$fn": tb(m.from_, "display"), "$ft": tb(m.from_, "tag"),
                    "$fU": uri_part(m.from_, "user"), "$fd": uri_part(m.from_, "host")})
    except SipParseError:
        out.update({"$fu": None, "$fn": None, "$ft": None, "$fU": None, "$fd": None})
    return out


@pytest.mark.parametrize("name", list(VALID) + list(LAZY_BAD))
def test_matches_kamailio(name):
    rec = GOLDEN["messages"][name]
    assert rec["ran_script"], "Kamailio accepted this message"
    text = VALID[name] if name in VALID else LAZY_BAD[name][0]
    m = SipMessage.parse(fill(text))
    mine = pv_view(m)
    for pv in GOLDEN["pvs"]:
        assert norm(mine[pv]) == norm(rec["pvs"][pv]), pv
    if m.is_request:
        assert rec["reply"] == "SIP/2.0 200 OK" or rec["reply"] == m.version + " 200 OK"


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_messages(name):
    text, line = INVALID[name]
    rec = GOLDEN["messages"][name]
    assert rec["reply"] is None, "Kamailio could not answer this message"
    with pytest.raises(SipParseError) as ei:
        SipMessage.parse(fill(text), source_name="in.sip")
    err = ei.value
    assert err.pos is not None and err.pos.file == "in.sip"
    assert err.pos.line == line, str(err)
    assert f"line {line}" in err.message
    assert err.source_line is not None


def test_lazy_bad_from():
    text, line = LAZY_BAD["bad_from"]
    m = SipMessage.parse(fill(text))
    with pytest.raises(SipParseError) as ei:
        m.from_
    assert ei.value.pos.line == line


# ----------------------------------------------------------------------------- model details

def test_invite_with_sdp():
    m = SipMessage.parse(fill(VALID["invite_sdp"]))
    assert m.is_request and not m.is_reply and m.method == "INVITE" and m.method_id == "INVITE"
    assert m.ruri == "sip:bob@127.0.0.1" and m.version == "SIP/2.0"
    assert m.from_.display == '"Alice Liddell"' and m.from_.tag == "9fxced76sl"
    assert m.to.display == "Bob" and m.to.tag is None
    assert m.cseq == CSeq("31862", "INVITE") and m.max_forwards == 70
    assert m.content_length == len(m.body) == 187 and m.body.startswith("v=0\r\n")
    assert m.contacts[0].uri == "sip:alice@192.0.2.10:5060;transport=udp"
    assert m.vias[0].branch == "z9hG4bK74bf9" and m.vias[0].rport == ""
    assert [h.name for h in m.headers][:3] == ["Via", "Max-Forwards", "From"]
    assert m.headers[0].line == 2 and m.headers[0].key == "via"
    assert m.text == fill(VALID["invite_sdp"])


def test_register_contacts():
    m = SipMessage.parse(fill(VALID["register"]))
    assert [c.uri for c in m.contacts] == ["sip:bob@192.0.2.4", "sip:bob@192.0.2.5:5070", "sip:bob@192.0.2.6"]
    assert m.contacts[0].expires == "7200" and m.contacts[1].q == "0.5" and m.contacts[1].name == '"Bob Mobile"'
    assert m.contacts[2].param("+sip.instance") == "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"
    assert m.contact_body.contacts[0].uri == "sip:bob@192.0.2.4" and not m.contact_star
    assert m.header("expires") == "7200"


def test_compact_headers():
    m = SipMessage.parse(fill(VALID["compact"]))
    assert m.header("From") == m.header("f") == "<sip:alice@example.com>;tag=c1"
    assert m.call_id == "compact-1@example.com" and m.header("Supported") == "path"
    assert m.header("Content-Type") == "text/plain" and m.content_length == 5 and m.body == "hello"
    assert m.headers_named("contact") == ["<sip:alice@192.0.2.1>"]
    assert m.has_header("v") and m.header_count("via") == 1 and m.header("nope") is None


def test_folded_lines():
    m = SipMessage.parse(fill(VALID["folded"]))
    assert m.header("From") == "<sip:alice@example.com>\r\n ;tag=f1" and m.from_.tag == "f1"
    assert m.to.uri == "sip:bob@example.com"
    assert m.header("Subject") == "a very long\r\n   subject line"
    assert m.header("X-Trailing") == "value  " and m.header("X-Empty") == ""
    assert [h.line for h in m.headers] == [2, 3, 5, 7, 8, 9, 11, 12, 13]
    out = m.to_text()
    assert "Subject: a very long\r\n   subject line\r\n" in out


def test_multi_via_and_routes():
    m = SipMessage.parse(fill(VALID["multi_via"]))
    assert [(v.transport, v.host, v.port) for v in m.vias] == [
        ("UDP", "127.0.0.1", "5099"), ("TCP", "10.0.0.2", "5070"), ("UDP", "[2001:db8::9]", None)]
    assert m.vias[1].received == "10.9.9.9" and m.vias[2].rport == "5062"
    assert [r.uri for r in m.routes] == ["sip:proxy1.example.com;lr", "sip:proxy2.example.com;lr"]
    assert m.record_routes == [] and m.to.tag == "mvb"


def test_lf_only():
    m = SipMessage.parse(fill(VALID["lf_only"]))
    assert m.method == "INVITE" and m.body.startswith("v=0\no=alice")
    assert m.content_length == len(m.body)
    out = m.to_text(update_content_length=True)
    assert "\n" not in out.replace("\r\n", "") .replace(m.body, "")
    assert out.startswith("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: ")


def test_reply():
    m = SipMessage.parse(fill(VALID["reply_200"]))
    assert m.is_reply and m.status == 200 and m.reason == "OK" and m.ruri is None and m.method is None
    assert m.method_id == "INVITE" and m.parsed_ruri is None
    assert m.start_line == "SIP/2.0 200 OK"
    e = SipMessage.parse(fill(VALID["reply_empty_reason"]))
    assert e.status == 480 and e.reason == ""


def test_content_length_not_applied():
    m = SipMessage.parse(fill(VALID["cl_mismatch"]))
    assert m.content_length == 100 and m.body == "0123456789"


def test_bytes_and_utf8():
    text = fill(VALID["no_cl_utf8"])
    m = SipMessage.parse(text.encode("utf-8"))
    assert m.body == "grüße ☃" and m.body_bytes_len == 11 and m.content_length is None
    assert m.from_.display == '"José Çağrı"'
    m2 = SipMessage.parse(text.encode("utf-8") + b"\xff")
    assert m2.body.endswith("\udcff") and m2.body_bytes_len == 12


def test_no_end_of_headers():
    text = fill(VALID["multi_via"]).replace("Content-Length: 0\r\n\r\n", "Content-Length: 0\r\n")
    m = SipMessage.parse(text)
    assert not m.has_eoh and m.body == ""


def test_validate_off():
    text = fill(INVALID["dup_from"][0])
    m = SipMessage.parse(text, validate=False)
    assert m.headers_named("from") == ["<sip:a@b>;tag=1", "<sip:dup@b>;tag=2"]
    with pytest.raises(SipParseError):
        m.validate()


def test_error_rendering():
    with pytest.raises(SipParseError) as ei:
        SipMessage.parse(fill(INVALID["space_in_header_name"][0]), source_name="msg.sip")
    s = str(ei.value)
    assert s.startswith("msg.sip:7:2: error: invalid header name")
    assert "X A: b" in s and ei.value.pos == Position("msg.sip", 7, 2)


@pytest.mark.parametrize("text,line", [
    ("short", 1),
    ("OPTIONS sip:x@y SIP/2.0", 1),
    ("OPTIONS sip:x@y SIP/2.0\r\n", 1),
    ("OPTIONS sip:x@y SIP/2.0\r\n\r\n", 2),
    ("\r\n\r\nOPTIONS sip:x@y SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n", 4),
    ("OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n:x\r\n\r\n", 3),
    ("OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>", 3),
])
def test_structural_errors(text, line):
    with pytest.raises(SipParseError) as ei:
        SipMessage.parse(text, validate=False)
    assert ei.value.pos.line == line, str(ei.value)


def test_serialize():
    out = serialize("MESSAGE sip:a@b SIP/2.0", [Header("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("l", "99"),
                                                ("X-Fold", "a\n b")], "héllo", update_content_length=True)
    assert out == ("MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 6\r\n"
                   "X-Fold: a\r\n b\r\n\r\nhéllo")
    out = serialize("SIP/2.0 200 OK", [("Via", "x")], "")
    assert out == "SIP/2.0 200 OK\r\nVia: x\r\n\r\n"
    assert serialize("SIP/2.0 200 OK", [], "ab", update_content_length=True).endswith("Content-Length: 2\r\n\r\nab")


def test_first_line_variants():
    m = SipMessage.parse(fill(VALID["multi_via"]).replace("BYE sip:bob@127.0.0.1 SIP/2.0",
                                                          "bye sip:bob@127.0.0.1 sip/2.0  "))
    assert m.method == "bye" and m.version == "sip/2.0" and m.is_sip and m.method_id == "BYE"
    m = SipMessage.parse(fill(VALID["multi_via"]).replace("BYE sip:", "FOO sip:").replace("2 BYE", "2 FOO"))
    assert m.method == "FOO" and m.method_id is None
