"""kscript.sip.uri: Kamailio-compatible URI parsing (values cross-checked against Kamailio
5.6.3 in tests/pv/test_transformations_uri.py; here: API, fast path == state machine)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kscript.errors import SipParseError
from kscript.sip.uri import PROTO_TCP, PROTO_UDP, SipUri, parse_uri, parse_uri_slow


def fields(u: SipUri) -> tuple:
    return (u.scheme, u.user, u.password, u.host, u.port, u.params, u.headers, u.params_text, u.kind, u.port_no,
            u.proto, u.transport, u.ttl, u.user_param, u.maddr, u.method, u.lr, u.r2, u.gr, u.user_params)


def test_basic_parts():
    u = parse_uri("sip:alice:secret@example.com:5070;transport=TCP;lr;foo=bar?h1=v1&h2=v2")
    assert (u.scheme, u.user, u.password, u.host, u.port, u.headers) == (
        "sip", "alice", "secret", "example.com", "5070", "h1=v1&h2=v2")
    assert u.params == [("transport", "TCP"), ("lr", None), ("foo", "bar")]
    assert u.port_no == 5070 and u.proto == PROTO_TCP and u.transport == "TCP"
    assert u.param("TRANSPORT") == "TCP" and u.param("lr") == "" and u.param("nope") is None
    assert u.has_param("LR") and not u.has_param("x")
    assert str(u) == "sip:alice:secret@example.com:5070;transport=TCP;lr;foo=bar?h1=v1&h2=v2"


@pytest.mark.parametrize("text,user,host,port", [
    ("sip:example.com", None, "example.com", None),
    ("sip:example.com:5060", None, "example.com", "5060"),
    ("sip:example.com:", None, "example.com", ""),
    ("sips:bob@[2001:db8::1]:5061", "bob", "[2001:db8::1]", "5061"),
    ("sip:[::1]", None, "[::1]", None),
    ("SIP:Alice@Example.COM", "Alice", "Example.COM", None),
    ("sip:al;ice@example.com", "al;ice", "example.com", None),
    ("sip:alice%40home@example.com", "alice%40home", "example.com", None),
    ("sip:exa_mple.com", None, "exa_mple.com", None),          # host not validated without user
    ("urn:service:sos", "service", "sos", None),
])
def test_shapes(text, user, host, port):
    u = parse_uri(text)
    assert (u.user, u.host, u.port) == (user, host, port)
    assert str(u) == text
    c = text.index(":")
    assert u.replace().build() == text[:c].lower() + text[c:]      # rebuilt with the lower-case scheme


def test_tel_uri():
    u = parse_uri("tel:+1-555-123-4567;phone-context=example.com")
    assert u.scheme == "tel" and u.kind == "tel"
    assert u.user == "+1-555-123-4567" and u.host == ""
    assert u.params == [("phone-context", "example.com")]
    assert u.params_text is None          # Kamailio's sip_params: only for sip/sips
    assert str(u) == "tel:+1-555-123-4567;phone-context=example.com"
    assert u.replace(user="+1").build() == "tel:+1;phone-context=example.com"


def test_user_phone_becomes_tel():
    u = parse_uri("sip:+4930123;npdi@gw.example.com;user=phone")
    assert u.kind == "tel" and u.user == "+4930123" and u.user_params == [("npdi", None)]
    assert u.params == [("user", "phone")] and u.params_text == "user=phone"
    assert u.replace(host="gw2").build() == "sip:+4930123;npdi@gw2;user=phone"
    assert u.replace(user="+49").build() == "sip:+49@gw.example.com;user=phone"
    assert parse_uri("sip:+4930123;npdi@gw;user=phone", phone2tel=False).user == "+4930123;npdi"
    assert parse_uri("sip:+4930;npdi@gw;user=Phone").user == "+4930;npdi"   # case-sensitive "phone"


@pytest.mark.parametrize("bad", [
    "", "sip:", "sip", "tels:+123", "http://example.com", "alice@example.com", "sip:@example.com",
    "sip:alice@", "sip:alice@exa_mple.com", "sip:alice@-x.com", "sip:alice@example.com:65536",
    "sip:alice@example.com:005060", "sip:alice@example.com:50a", "sip:alice:12345678@example.com",
    "sip:alice@example.com?x=1;y=2", "sip:alice@[::1", "sip:alice@[::1]x", "sip:a:b:c@example.com",
    "sip:alice@example.com;maddr", "sip:alice@example.com;ma", "sip:alice@example.com;maddr=",
])
def test_invalid(bad):
    with pytest.raises(SipParseError):
        parse_uri(bad)
    with pytest.raises(SipParseError):
        parse_uri_slow(bad)


def test_recognised_params_and_proto():
    u = parse_uri("sip:a@b;transport=udp;transport=foo;ttl=5;maddr=1.2.3.4;method=INVITE;user=ip;lr=on;r2=on")
    assert u.transport == "foo" and u.proto == PROTO_UDP     # proto only set by an exact match, never reset
    assert (u.ttl, u.maddr, u.method, u.user_param, u.lr, u.r2) == ("5", "1.2.3.4", "INVITE", "ip", "on", "on")
    assert parse_uri("sip:a@b;transport=").transport is None


def test_replace_rebuilds():
    u = parse_uri("sip:alice@example.com:5060;transport=tcp")
    v = u.replace(host="other.net", params=[("lr", None)])
    assert str(v) == "sip:alice@other.net:5060;lr"
    assert v.params_text == "lr"
    assert str(u.replace(user=None, port=None)) == "sip:example.com;transport=tcp"
    assert u.aor == "sip:alice@example.com"


def test_last_param_wins():
    assert parse_uri("sip:a@b;x=1;X=2").param("x") == "2"


# ----------------------------------------------------------------------------- fast path == state machine

_PIECES = ["alice", "bob", "+49-30", "1", "5060", "65535", "99999", "example.com", "10.0.0.1", "[::1]", "@", ":",
           ";", "?", "=", "transport", "udp", "tcp", "TLS", "sctp", "ws", "lr", "maddr", "ma", "user", "phone",
           "ttl", "method", "r2", "gr", "x", "-", ".", "%40", "&", "[", "]", "(", ")", " ", "_", "h=v", "T", "U",
           "M", "L", "R", "G", "é", "\t"]


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["sip:", "sips:", "tel:", "urn:", "SIP:", "sIpS:"]),
       st.lists(st.sampled_from(_PIECES), max_size=12))
def test_fast_path_equals_state_machine(scheme, pieces):
    text = scheme + "".join(pieces)
    try:
        want = fields(parse_uri_slow(text))
    except SipParseError:
        want = None
    try:
        got = fields(parse_uri(text))
    except SipParseError:
        got = None
    assert got == want, text


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet="ab1:@;?=[].-&%t", max_size=20))
def test_fast_path_equals_state_machine_chars(rest):
    text = "sip:" + rest
    try:
        want = fields(parse_uri_slow(text))
    except SipParseError:
        want = None
    try:
        got = fields(parse_uri(text))
    except SipParseError:
        got = None
    assert got == want, text
