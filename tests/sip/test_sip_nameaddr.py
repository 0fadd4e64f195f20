"""kscript.sip.nameaddr / params / via: To-style bodies, name-addr, Contact, Route, Via."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kscript.errors import SipParseError
from kscript.sip.nameaddr import (find_not_quoted, parse_addr_spec, parse_contact_body, parse_nameaddr,
                                  parse_rr_body, parse_to_body, split_comma_list)
from kscript.sip.params import ParamsError, lookup, parse_params
from kscript.sip.via import parse_via_body, parse_via_scan


def slow_to(text: str):
    return parse_addr_spec(text + "\r\n")[0]


def to_fields(b):
    return (b.display, b.uri, [(p.name, p.value, p.is_tag) for p in b.params], b.tag, b.params_text)


# ----------------------------------------------------------------------------- To / From bodies

@pytest.mark.parametrize("text,display,uri,tag", [
    ('"Alice Smith" <sip:alice@example.com>;tag=abc', '"Alice Smith"', "sip:alice@example.com", "abc"),
    ("Alice Smith <sip:alice@example.com>", "Alice Smith", "sip:alice@example.com", None),
    ("  Bob   Smith   <sip:bob@example.com>", "Bob   Smith", "sip:bob@example.com", None),
    ("<sip:bob@example.com>;tag=a;tag=b", None, "sip:bob@example.com", "b"),
    ("sip:bob@example.com;tag=xyz", None, "sip:bob@example.com", "xyz"),
    ("<sip:bob@example.com>;TAG=Up", None, "sip:bob@example.com", "Up"),
    ("<sip:bob@example.com>;tag=a,b", None, "sip:bob@example.com", "a,b"),     # comma allowed in a tag
    ("<sip:bob@example.com>;tag=", None, "sip:bob@example.com", ""),
    ('"A \\" q" <sip:x@y>', '"A \\" q"', "sip:x@y", None),
    ("<sip:x@y> ; tag = v ", None, "sip:x@y", "v"),
])
def test_to_body(text, display, uri, tag):
    for b in (parse_to_body(text), slow_to(text)):
        assert (b.display, b.uri, b.tag) == (display, uri, tag)


def test_to_params_text_and_values():
    b = parse_to_body('<sip:bob@example.com>;foo;bar="q v";tag=t')
    assert [(p.name, p.value) for p in b.params] == [("foo", None), ("bar", "q v"), ("tag", "t")]
    assert b.params_text == 'foo;bar="q v";tag=t'
    assert b.param("BAR") == "q v" and b.param("foo") == "" and b.param("x") is None
    assert b.parsed_uri.user == "bob"


@pytest.mark.parametrize("bad", [
    "<sip:bob@example.com", '"Bob <sip:bob@example.com>', "<sip:a@b>, <sip:c@d>", "Bob", "Bob Smith;x",
    "<sip:a@b>;;tag=1", "<sip:a@b>;tag=1 x", '<sip:a@b>;x="a\\"b"', "<sip:a@b>;x=1,y=2", "", "<>",
])
def test_to_body_invalid(bad):
    with pytest.raises(SipParseError):
        b = parse_to_body(bad)
        b.parsed_uri  # "Bob" is a valid body whose URI fails
    with pytest.raises(SipParseError):
        b = slow_to(bad)
        b.parsed_uri


def test_to_body_folded_and_multi():
    b = parse_to_body("<sip:a@b>;\r\n tag=1")
    assert b.tag == "1"
    body, end = parse_addr_spec("<sip:a@b>;x=1, <sip:c@d>\r\n", allow_comma=True)
    assert body.uri == "sip:a@b" and end == 13   # stops at the comma


_TO_PIECES = ['"', "<", ">", " ", ";", ",", "\\", "=", "tag", "t", "a", "g", "Alice", "sip:a@b", "x", "\t", "TAG",
              "1", ":", "@", "sip:bob@10.0.0.1:5060;transport=tcp", '"Al ice"', "é"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_TO_PIECES), max_size=12))
def test_to_fast_path_equals_state_machine(pieces):
    text = "".join(pieces)
    try:
        want = to_fields(slow_to(text))
    except SipParseError:
        want = None
    try:
        got = to_fields(parse_to_body(text))
    except SipParseError:
        got = None
    assert got == want, text


# ----------------------------------------------------------------------------- name-addr, params, rr, contact

def test_nameaddr():
    na = parse_nameaddr('"Bob" <sip:bob@example.com>;lr')
    assert (na.name, na.uri, na.len) == ('"Bob" ', "sip:bob@example.com", 27)
    assert parse_nameaddr('"A <b>" <sip:x@y>').uri == "sip:x@y"
    with pytest.raises(SipParseError):
        parse_nameaddr("sip:x@y")
    with pytest.raises(SipParseError):
        parse_nameaddr("<sip:x@y")
    assert find_not_quoted('"a\\"<" <x>', "<") == 7


def test_params_parser():
    ps, end = parse_params("transport=TCP;lr;foo=bar")
    assert [(p.name, p.value) for p in ps] == [("transport", "TCP"), ("lr", None), ("foo", "bar")]
    assert lookup(ps, "FOO").value == "bar"
    assert lookup(parse_params("a=1;a=2")[0], "a").value == "2"          # last one wins
    ps, end = parse_params("a=1,b=2")
    assert [(p.name, p.value) for p in ps] == [("a", "1")] and end == 3
    assert parse_params("a='x y';b=\"q\"")[0][0].value == "x y"
    assert parse_params("a=")[0][0].value == ""
    for bad in ("a=1 x", "a=;b", "a;", 'a="x', "a='"):
        with pytest.raises(ParamsError):
            parse_params(bad)


def test_rr_body():
    rr = parse_rr_body("<sip:p1.example.com;lr>;foo=1, <sip:p2.example.com;lr>")
    assert [e.uri for e in rr] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert rr[0].params[0].name == "foo" and rr[0].parsed_uri.host == "p1.example.com"
    for bad in ("sip:x@y", "<sip:a@b> x", "<sip:a@b>,", ""):
        with pytest.raises(SipParseError):
            parse_rr_body(bad)


def test_contact_body():
    cb = parse_contact_body('"Bob" <sip:bob@10.0.0.1:5060;ob>;expires=60;q=0.5, sip:bob@10.0.0.2;+sip.instance="<urn:x>"')
    assert not cb.star
    c1, c2 = cb.contacts
    assert (c1.name, c1.uri, c1.expires, c1.q) == ('"Bob"', "sip:bob@10.0.0.1:5060;ob", "60", "0.5")
    assert (c2.name, c2.uri, c2.param("+sip.instance")) == ("", "sip:bob@10.0.0.2", "<urn:x>")
    assert parse_contact_body("*").star
    assert parse_contact_body("Bob sip:b@h").contacts[0].name == "Bob"
    for bad in ("", "<sip:a@b", "nocolon", "<sip:a@b>;", "<sip:a@b>,", ">x:y"):
        with pytest.raises(SipParseError):
            parse_contact_body(bad)


def test_split_comma_list():
    assert split_comma_list('"a, b" <sip:x@y;p=1,2>, <sip:z@w>') == ['"a, b" <sip:x@y;p=1,2>', "<sip:z@w>"]
    assert split_comma_list(" x ") == ["x"] and split_comma_list("") == []


# ----------------------------------------------------------------------------- Via

def test_via_multi_and_params():
    vias = parse_via_body("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport;received=1.2.3.4 (comment), "
                          "sip / 2.0 / tcp [2001:db8::1] : 5070 ; branch=z9hG4bK2 ; alias")
    assert [(v.transport, v.host, v.port, v.port_no, v.branch) for v in vias] == [
        ("UDP", "10.0.0.1", "5060", 5060, "z9hG4bK1"), ("tcp", "[2001:db8::1]", "5070", 5070, "z9hG4bK2")]
    assert vias[0].rport == "" and vias[0].received == "1.2.3.4" and vias[0].comment == "comment"
    assert vias[1].param("alias") == "" and vias[1].name == "sip"
    assert vias[0].raw == "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport;received=1.2.3.4 (comment)"


def test_via_folded():
    v = parse_via_body("SIP/2.0/UDP\r\n 10.0.0.1;branch=z9hG4bK1")[0]
    assert v.host == "10.0.0.1"


@pytest.mark.parametrize("bad", [
    "", "SIP/2.0/UDP", "SIP/3.0/UDP h", "SIP/2.0/UDP h:", "SIP/2.0/UDP h:50x", "SIP/2.0/UDP h:123456",
    "SIP/2.0/UDP h;branch", "SIP/2.0/UDP h;hidden=1", "SIP/2.0/UDP h;;x", "SIP/2.0/UDP h,",
    "SIP/2.0/UDP h;x=a=b", "SIP/2.0/UDP h (unterminated", "SIP/2.0/UDP h x",
])
def test_via_invalid(bad):
    with pytest.raises(SipParseError):
        parse_via_body(bad)


_VIA_PIECES = ["SIP/2.0/UDP ", "SIP/2.0/TCP ", "sip/2.0/udp ", "h.example.com", "10.0.0.1", "[::1]", ":5060", ":",
               ";branch=z9hG4bK1", ";branch", ";rport", ";rport=5", ";received=1.2.3.4", ";alias", ";alias=1",
               ";x", ";x=", ";x=y", ", ", ",", " ", "(c)", ";hidden", ";i=1", "=", '"', ";x=\"q\""]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_VIA_PIECES), min_size=1, max_size=8))
def test_via_fast_path_equals_scanner(pieces):
    text = "".join(pieces)
    try:
        want = parse_via_scan(text)
    except SipParseError:
        want = None
    try:
        got = parse_via_body(text)
    except SipParseError:
        got = None
    assert got == want, text
