"""kscript.sip.lumps: Kamailio's pending message edits."""

from __future__ import annotations

from types import SimpleNamespace

from kscript.runtime.context import Socket
from kscript.sip import lumps as L
from kscript.sip.lumps import Lumps, SendInfo, add_reply_lump, reply_body, reply_header_text
from kscript.sip.message import SipMessage

TEXT = ("OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
        "From: <sip:a@example.com>;tag=1\r\n"
        "To: <sip:b@example.com>\r\n"
        "Call-ID: c1\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "X-A: 1\r\n"
        "Content-Length: 5\r\n"
        "\r\n"
        "hello")


def msg():
    return SipMessage.parse(TEXT)


def span(m, name):
    i = next(i for i, h in enumerate(m.headers) if h.name == name)
    return m.spans[i]


def test_no_lumps_gives_the_original():
    m = msg()
    assert Lumps(m).apply() == TEXT


def test_message_spans_locate_headers_and_body():
    m = msg()
    s, bs, be, e = span(m, "X-A")
    assert m.text[s:e] == "X-A: 1\r\n" and m.text[bs:be] == "1"
    assert m.text[m.eoh:m.eoh + 2] == "\r\n" and m.text[m.body_start:] == "hello"


def test_delete_and_insert_after_a_deletion():
    m = msg()
    lumps = Lumps(m)
    s, bs, be, e = span(m, "X-A")
    d = lumps.delete(bs, be - bs)
    lumps.insert_after(d, "2")
    assert "X-A: 2\r\n" in lumps.apply()


def test_insert_before_at_end_of_headers_appends_a_header():
    m = msg()
    lumps = Lumps(m)
    a = lumps.anchor(m.eoh)
    lumps.insert_before(a, "X-B: 2\r\n")
    out = lumps.apply()
    assert out.endswith("Content-Length: 5\r\nX-B: 2\r\n\r\nhello")


def test_chain_order_newest_first_next_to_the_anchor():
    m = msg()
    lumps = Lumps(m)
    a = lumps.anchor(m.eoh)
    lumps.insert_after(a, "A")
    lumps.insert_after(a, "B")  # directly after the anchor: printed first
    b = lumps.anchor(m.eoh)
    lumps.insert_before(b, "C")
    lumps.insert_before(b, "D")  # printed first of b's before chain
    assert lumps.apply().endswith("Content-Length: 5\r\nBADC\r\nhello")


def test_chaining_on_a_chain_member_keeps_order():
    m = msg()
    lumps = Lumps(m)
    a = lumps.anchor(m.spans[0][0])
    x = lumps.insert_after(a, "1")
    y = lumps.insert_after(x, "2")
    lumps.insert_after(y, "3")
    assert lumps.apply().split("\r\n")[1].startswith("123Via:")


def test_anchors_at_the_same_offset_keep_creation_order():
    m = msg()
    lumps = Lumps(m)
    off = m.spans[0][0]
    lumps.insert_before(lumps.anchor(off), "first\r\n")
    lumps.insert_before(lumps.anchor(off), "second\r\n")
    assert lumps.apply().split("\r\n")[1:3] == ["first", "second"]


def test_overlapping_deletion_is_trimmed_and_keeps_its_chains():
    # lumps_len normalises: the second deletion shrinks to nothing at the end of
    # the first one, its additions still come out there
    m = msg()
    lumps = Lumps(m)
    s, _, _, e = span(m, "X-A")
    lumps.delete(s, e - s)
    d2 = lumps.delete(s, e - s)  # remove_hf twice
    lumps.insert_after(d2, "X-Kept: 1\r\n")
    out = lumps.apply()
    assert "X-A" not in out and "\r\nX-Kept: 1\r\n" in out
    assert (d2.offset, d2.length) == (e, 0)


def test_anchor_inside_a_deleted_range_moves_to_its_end():
    # set_body: delete the body, then anchor at its start and insert the new one
    m = msg()
    lumps = Lumps(m)
    lumps.delete(m.body_start, 5)
    lumps.insert_after(lumps.anchor(m.body_start), "new body")
    assert lumps.body_text() == "new body"
    assert lumps.apply().endswith("\r\n\r\nnew body")


def test_new_uri_replaces_the_request_line_uri():
    m = msg()
    out = Lumps(m).apply(new_uri="sip:carol@example.net")
    assert out.startswith("OPTIONS sip:carol@example.net SIP/2.0\r\n")


def test_body_lumps_and_delta():
    m = msg()
    lumps = Lumps(m)
    d = lumps.delete(m.body_start, 5)
    lumps.insert_after(d, "goodbye!")
    assert lumps.body_head is not None and lumps.head is None
    assert lumps.body_text() == "goodbye!"
    assert lumps.body_delta() == 3
    assert lumps.apply().endswith("\r\n\r\ngoodbye!")


def test_subst_and_conditional_lumps():
    m = msg()
    lumps = Lumps(m)
    a = lumps.anchor(m.spans[0][0])
    x = lumps.insert_after(a, "Record-Route: <sip:")
    x = lumps.insert_subst_after(x, L.SUBST_RCV_ALL)
    x = lumps.insert_cond_after(x, L.COND_IF_DIFF_REALMS)
    lumps.insert_after(x, ";r2=on")
    rcv = Socket("udp", "127.0.0.1", 5060)
    same = SendInfo(send=Socket("udp", "127.0.0.1", 5060), rcv=rcv)
    assert "Record-Route: <sip:127.0.0.1Via" in lumps.apply(same)
    other = SendInfo(send=Socket("udp", "127.0.0.2", 5070), rcv=Socket("tcp", "127.0.0.1", 5070))
    assert "Record-Route: <sip:127.0.0.1:5070;transport=tcp;r2=onVia" in lumps.apply(other)


def test_subst_send_address_omits_5060_and_brackets_ipv6():
    assert L._subst_text(L.SUBST_SND_ALL, SendInfo(send=Socket("udp", "10.0.0.1", 5060))) == "10.0.0.1"
    assert L._subst_text(L.SUBST_SND_ALL, SendInfo(send=Socket("tls", "::1", 5061))) == "[::1]:5061;transport=tls"
    assert L._subst_text(L.SUBST_SND_PROTO, SendInfo(send=Socket("tcp", "10.0.0.1", 5060))) == "tcp"


def test_remove_and_clone_are_independent():
    m = msg()
    lumps = Lumps(m)
    a = lumps.anchor(m.eoh, "x")
    lumps.insert_before(a, "X-B: 2\r\n")
    copy = lumps.clone()
    copy.insert_before(copy.anchor(m.eoh), "X-C: 3\r\n")
    assert "X-C" not in lumps.apply() and "X-C" in copy.apply() and "X-B" in copy.apply()
    assert lumps.remove_where(lambda t: t.htype == "x") == 1
    assert lumps.apply() == TEXT


def test_reply_lumps_headers_and_one_body():
    ctx = SimpleNamespace(reply_lumps=[])
    assert add_reply_lump(ctx, "X-A: 1\r\n")
    assert add_reply_lump(ctx, "<b/>", body=True)
    assert not add_reply_lump(ctx, "<c/>", body=True)  # LUMP_RPL_BODY already added
    assert not add_reply_lump(ctx, "")
    assert reply_header_text(ctx) == "X-A: 1\r\n" and reply_body(ctx) == "<b/>"
