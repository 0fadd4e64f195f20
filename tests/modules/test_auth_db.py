"""auth_db on db_redis: the subscriber table with calculate_ha1 on and off, use_domain,
auth_check identity checks, is_subscriber, load_credentials."""

from __future__ import annotations

import hashlib

import pytest

from reg_support import DB_HEAD, load_reg, register, request, script_logs
from kscript.sip.digest import authorization_header

HEAD = DB_HEAD.replace('loadmodule "registrar.so"\n',
                       'loadmodule "registrar.so"\nloadmodule "auth.so"\nloadmodule "auth_db.so"\n')

ROUTE = """
request_route {
    if (is_method("OPTIONS")) {
        if (is_subscriber("$fu", "subscriber", "1")) { xlog("L_INFO", "subscriber $fU: yes $avp(sid)\\n"); }
        else { $var(rc) = $rc; xlog("L_INFO", "subscriber $fU: no rc=$var(rc)\\n"); }
        sl_send_reply("200", "OK");
        exit;
    }
    if (!auth_check("$fd", "subscriber", "1")) {
        $var(rc) = $rc;
        xlog("L_INFO", "auth_check rc=$var(rc)\\n");
        auth_challenge("$fd", "1");
        exit;
    }
    xlog("L_INFO", "authenticated $avp(sid)\\n");
    sl_send_reply("200", "OK");
}
"""


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def _load(tmp_path, params: str):
    base = ('modparam("usrloc", "db_mode", 0)\nmodparam("auth", "secret", "s3cr3t")\n'
            'modparam("auth_db", "db_url", "redis://127.0.0.1:6379/0")\n'
            'modparam("auth_db", "load_credentials", "$avp(sid)=id")\n')
    s = load_reg(tmp_path, base + params, route=ROUTE, head=HEAD)
    c = s.modules["db_redis"].client()
    c.hset("subscriber:entry::alice:127.0.0.1", mapping={
        "username": "alice", "domain": "127.0.0.1", "password": "secret123", "id": "42",
        "ha1": md5("alice:127.0.0.1:secret123"), "ha1b": md5("alice@127.0.0.1:127.0.0.1:secret123")})
    return s


@pytest.mark.parametrize("params", [
    'modparam("auth_db", "calculate_ha1", 1)\nmodparam("auth_db", "password_column", "password")\n'
    'modparam("auth_db", "use_domain", 1)\n',
    'modparam("auth_db", "calculate_ha1", 0)\nmodparam("auth_db", "use_domain", 1)\n',
], ids=["calculate_ha1", "stored_ha1"])
def test_register_challenge_then_authorized(tmp_path, params):
    s = _load(tmp_path, params)
    r1 = s.process(register())
    assert r1.replies[0].status == 401 and script_logs(r1) == ["auth_check rc=-5"]
    hdr = authorization_header(r1.replies[0], "alice", "secret123", "REGISTER", "sip:127.0.0.1")
    r2 = s.process(register(cseq=2, extra=[hdr]))
    assert script_logs(r2) == ["authenticated 42"] and r2.replies[0].status == 200
    # the subscriber lookup used the entry key (username, domain): no scan
    assert "db_full_scans" not in r2.ctx.data
    bad = authorization_header(r1.replies[0], "alice", "nope", "REGISTER", "sip:127.0.0.1")
    assert script_logs(s.process(register(cseq=3, extra=[bad]))) == ["auth_check rc=-2"]


def test_stored_ha1b_for_usernames_with_domain(tmp_path):
    s = _load(tmp_path, 'modparam("auth_db", "calculate_ha1", 0)\nmodparam("auth_db", "use_domain", 1)\n')
    r1 = s.process(register())
    hdr = authorization_header(r1.replies[0], "alice@127.0.0.1", "secret123", "REGISTER", "sip:127.0.0.1")
    assert script_logs(s.process(register(cseq=2, extra=[hdr]))) == ["authenticated 42"]


def test_unknown_user_and_identity_mismatch(tmp_path):
    s = _load(tmp_path, 'modparam("auth_db", "calculate_ha1", 1)\nmodparam("auth_db", "password_column", '
                        '"password")\nmodparam("auth_db", "use_domain", 1)\n')
    r1 = s.process(register(user="mallory"))
    hdr = authorization_header(r1.replies[0], "mallory", "x", "REGISTER", "sip:127.0.0.1")
    assert script_logs(s.process(register(user="mallory", cseq=2, extra=[hdr]))) == ["auth_check rc=-3"]
    # alice's credentials on a REGISTER for bob: -8 (user mismatch)
    r1 = s.process(register(user="bob", call_id="b"))
    hdr = authorization_header(r1.replies[0], "alice", "secret123", "REGISTER", "sip:127.0.0.1")
    assert script_logs(s.process(register(user="bob", cseq=2, call_id="b", extra=[hdr]))) == ["auth_check rc=-8"]


def test_use_domain_off_is_a_full_scan(tmp_path):
    s = _load(tmp_path, 'modparam("auth_db", "calculate_ha1", 1)\nmodparam("auth_db", "password_column", '
                        '"password")\n')
    r1 = s.process(register())
    hdr = authorization_header(r1.replies[0], "alice", "secret123", "REGISTER", "sip:127.0.0.1")
    r2 = s.process(register(cseq=2, extra=[hdr]))
    assert script_logs(r2) == ["authenticated 42"]
    assert r2.ctx.data["db_full_scans"] == 1
    assert [x.text for x in r2.log if x.source == "db_redis"] == [
        "performing full table scan on table 'subscriber' while doing the query", "  scan key 0 is 'username'"]


def test_is_subscriber(tmp_path):
    s = _load(tmp_path, 'modparam("auth_db", "use_domain", 1)\n')
    assert script_logs(s.process(request("OPTIONS", "sip:127.0.0.1", from_user="alice"))) == [
        "subscriber alice: yes 42"]
    assert script_logs(s.process(request("OPTIONS", "sip:127.0.0.1", from_user="zed"))) == [
        "subscriber zed: no rc=-2"]


def test_missing_db_module_fails_on_first_use(tmp_path):
    import kscript
    from kscript.errors import ConfigError
    cfg = tmp_path / "nodb.cfg"
    cfg.write_text('loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "auth.so"\nloadmodule "auth_db.so"\n'
                   'request_route { if (!www_authorize("$fd", "subscriber")) { www_challenge("$fd", "1"); } }\n')
    s = kscript.load(cfg)  # Kamailio refuses to start; kscript loads (mocks may replace the functions)
    r = s.process(register())
    assert r.replies[0].status == 401  # no credentials: no DB needed yet
    with pytest.raises(ConfigError, match="db_mysql"):
        s.process(register(cseq=2, extra=[authorization_header(r.replies[0], "alice", "x", "REGISTER",
                                                                 "sip:127.0.0.1")]))
