"""auth: challenges, Kamailio-shaped nonces, digest checks with pv_*_authenticate,
consume_credentials; kscript.sip.digest builds the answers."""

from __future__ import annotations

import base64
import hashlib
import struct

from reg_support import register, request, script_logs
from kscript.sip.digest import authorization_header, calc_ha1, calc_response, parse_challenge, parse_credentials
from kscript.testing.clock import Clock

HEAD = """#!KAMAILIO
debug=3
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "auth.so"
modparam("auth", "secret", "kscriptsecret")
"""

ROUTE = """
request_route {
    $var(rc) = 0;
    if (is_method("REGISTER")) {
        if (!pv_www_authenticate("$fd", "secret123", "0")) {
            $var(rc) = $rc;
            xlog("L_INFO", "auth rc=$var(rc)\\n");
            www_challenge("$fd", "$var(flags)");
            exit;
        }
        xlog("L_INFO", "auth ok\\n");
        consume_credentials();
        sl_send_reply("200", "OK");
        exit;
    }
    if (!pv_proxy_authenticate("$fd", "secret123", "0")) {
        $var(rc) = $rc;
        xlog("L_INFO", "proxy auth rc=$var(rc)\\n");
        auth_challenge("$fd", "1");
        exit;
    }
    consume_credentials();
    $du = "sip:127.0.0.1:5090";
    forward();
}
"""


def _load(tmp_path, extra="", clock=None, flags=1):
    import kscript
    cfg = tmp_path / "auth.cfg"
    cfg.write_text(HEAD + extra + ROUTE.replace('"$var(flags)"', f'"{flags}"'))
    return kscript.load(cfg, clock=clock or Clock())


def test_www_challenge_and_nonce(tmp_path):
    clock = Clock(1795635000)
    s = _load(tmp_path, clock=clock)
    r = s.process(register())
    rep = r.replies[0]
    assert (rep.status, rep.reason) == (401, "Unauthorized")
    assert script_logs(r) == ["auth rc=-5"]
    ch = parse_challenge(rep.header("WWW-Authenticate"))
    assert rep.header("WWW-Authenticate").startswith('Digest realm="127.0.0.1", nonce="')
    assert ch["qop"] == "auth" and ch["realm"] == "127.0.0.1"
    raw = base64.b64decode(ch["nonce"])
    expires, since = struct.unpack(">ii", raw[:8])
    assert (since, expires - since, len(raw)) == (1795635000, 300, 24)
    assert raw[8:] == hashlib.md5(raw[:8] + b"kscriptsecret").digest()  # Kamailio's format, checked on 5.6.3


def test_answering_the_challenge(tmp_path):
    s = _load(tmp_path)
    r1 = s.process(register())
    hdr = authorization_header(r1.replies[0], "alice", "secret123", "REGISTER", "sip:127.0.0.1")
    assert hdr.startswith('Authorization: Digest username="alice", realm="127.0.0.1", nonce="')
    r2 = s.process(register(cseq=2, extra=[hdr]))
    assert script_logs(r2) == ["auth ok"] and r2.replies[0].status == 200
    bad = authorization_header(r1.replies[0], "alice", "wrong", "REGISTER", "sip:127.0.0.1")
    r3 = s.process(register(cseq=3, extra=[bad]))
    assert script_logs(r3) == ["auth rc=-2"] and r3.replies[0].status == 401


def test_stale_nonce(tmp_path):
    clock = Clock()
    s = _load(tmp_path, clock=clock, flags=17)
    r1 = s.process(register())
    assert r1.replies[0].header("WWW-Authenticate").endswith('qop="auth", stale=true')
    hdr = authorization_header(r1.replies[0], "alice", "secret123", "REGISTER", "sip:127.0.0.1")
    clock.advance(301)
    assert script_logs(s.process(register(cseq=2, extra=[hdr]))) == ["auth rc=-4"]


def test_nonce_from_before_start_is_stale(tmp_path):
    s1 = _load(tmp_path, clock=Clock(1000000000))
    hdr = authorization_header(s1.process(register()).replies[0], "alice", "secret123", "REGISTER",
                               "sip:127.0.0.1")
    s2 = _load(tmp_path, clock=Clock(1000000010))  # same secret, restarted later
    assert script_logs(s2.process(register(cseq=2, extra=[hdr]))) == ["auth rc=-4"]


def test_extra_checks_bind_the_nonce_to_the_call_id(tmp_path):
    s = _load(tmp_path, extra='modparam("auth", "auth_checks_register", 2)\n')
    r1 = s.process(register(call_id="c1"))
    raw = base64.b64decode(parse_challenge(r1.replies[0].header("WWW-Authenticate"))["nonce"])
    assert len(raw) == 40  # second MD5 over the selected message parts
    hdr = authorization_header(r1.replies[0], "alice", "secret123", "REGISTER", "sip:127.0.0.1")
    assert script_logs(s.process(register(cseq=2, call_id="c1", extra=[hdr]))) == ["auth ok"]
    assert script_logs(s.process(register(cseq=3, call_id="c2", extra=[hdr]))) == ["auth rc=-4"]


def test_proxy_challenge_and_consume_credentials(tmp_path):
    s = _load(tmp_path)
    r1 = s.process(request("INVITE", "sip:bob@127.0.0.1"))
    rep = r1.replies[0]
    assert (rep.status, rep.reason) == (407, "Proxy Authentication Required")
    assert rep.header("Proxy-Authenticate").startswith('Digest realm="127.0.0.1"')
    hdr = authorization_header(rep, "bob", "secret123", "INVITE", "sip:bob@127.0.0.1")
    assert hdr.startswith("Proxy-Authorization: ")
    r2 = s.process(request("INVITE", "sip:bob@127.0.0.1", call_id="inv-2", extra=[hdr]))
    fwd = r2.requests[0]
    assert fwd.header("Proxy-Authorization") is None  # consumed
    assert fwd.ruri == "sip:bob@127.0.0.1"


def test_digest_helpers():
    ha1 = calc_ha1("alice", "example.com", "pw")
    assert ha1 == hashlib.md5(b"alice:example.com:pw").hexdigest()
    ha2 = hashlib.md5(b"REGISTER:sip:example.com").hexdigest()
    assert calc_response(ha1, "n", "00000001", "c", "auth", "REGISTER", "sip:example.com") == \
        hashlib.md5(f"{ha1}:n:00000001:c:auth:{ha2}".encode()).hexdigest()
    assert calc_response(ha1, "n", "", "", "", "REGISTER", "sip:example.com") == \
        hashlib.md5(f"{ha1}:n:{ha2}".encode()).hexdigest()
    c = parse_credentials('Digest username="sip:bob@example.com", realm="r", nonce="n", uri="u", '
                          'response="x", qop=auth, nc=00000001, cnonce="c"')
    assert (c.username, c.user, c.domain, c.qop_kind, c.check()) == ("sip:bob@example.com", "bob", "example.com",
                                                                     "auth", True)
    assert parse_credentials("Basic abc") is None
    assert not parse_credentials('Digest username="a", realm="r"').check()


def test_pv_authenticate_challenge_in_avp(tmp_path):
    import kscript
    cfg = tmp_path / "avp.cfg"
    cfg.write_text(HEAD + """
request_route {
    if (!pv_www_authenticate("$fd", "secret123", "4")) {
        append_to_reply("$avp(digest_challenge)");
        sl_send_reply("401", "Unauthorized");
        exit;
    }
    sl_send_reply("200", "OK");
}
""")
    s = kscript.load(cfg, clock=Clock())
    rep = s.process(register()).replies[0]
    assert rep.status == 401
    assert rep.header("WWW-Authenticate").startswith('Digest realm="127.0.0.1", nonce="')
    hdr = authorization_header(rep, "alice", "secret123", "REGISTER", "sip:127.0.0.1")
    assert s.process(register(cseq=2, extra=[hdr])).replies[0].status == 200
