"""Helpers for the usrloc/registrar/auth/acc tests (imported by name)."""

from __future__ import annotations

import textwrap

import kscript
from kscript.testing.clock import Clock

DB_HEAD = """#!KAMAILIO
debug=3
log_stderror=yes
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "db_redis.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("db_redis", "schema_path", "/usr/share/kamailio/db_redis/kamailio")
modparam("db_redis", "keys", "version=entry:table_name;location=entry:ruid&usrdom:username,domain&timer:partition,keepalive;subscriber=entry:username,domain;acc=entry:callid,time;missed_calls=entry:callid,time")
modparam("usrloc", "db_url", "redis://127.0.0.1:6379/0")
"""

REG_ROUTE = """
request_route {
    if (is_method("REGISTER")) {
        save("location");
        xlog("L_INFO", "save rc=$rc\\n");
        exit;
    }
    if (is_method("OPTIONS")) {
        if (registered("location")) { xlog("L_INFO", "registered\\n"); } else { xlog("L_INFO", "not registered\\n"); }
        sl_send_reply("200", "OK");
        exit;
    }
    if (is_method("INVITE")) {
        if (!lookup("location")) {
            $var(rc) = $rc;
            xlog("L_INFO", "lookup rc=$var(rc)\\n");
            sl_send_reply("404", "Not Found");
            exit;
        }
        xlog("L_INFO", "lookup ok ru=$ru du=$du\\n");
        t_relay();
        exit;
    }
}
"""


def load_reg(tmp_path, params: str = "", route: str = REG_ROUTE, clock=None, name="reg.cfg", head: str = DB_HEAD,
             redis: str = "embedded"):
    cfg = tmp_path / name
    cfg.write_text(head + textwrap.dedent(params) + textwrap.dedent(route))
    return kscript.load(cfg, clock=clock if clock is not None else Clock(), redis=redis)


def register(user="alice", contacts=("<sip:alice@127.0.0.1:5081>",), *, cseq=1, call_id="reg-1@test",
             expires="3600", domain="127.0.0.1", extra=(), branch=None) -> str:
    lines = [f"REGISTER sip:{domain} SIP/2.0",
             f"Via: SIP/2.0/UDP 127.0.0.1:5080;branch={branch or f'z9hG4bK-{call_id}-{cseq}'}",
             "Max-Forwards: 70", f"From: <sip:{user}@{domain}>;tag=f{cseq}", f"To: <sip:{user}@{domain}>",
             f"Call-ID: {call_id}", f"CSeq: {cseq} REGISTER"]
    lines += [f"Contact: {c}" for c in contacts]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    lines += list(extra)
    lines.append("Content-Length: 0")
    return "\r\n".join(lines) + "\r\n\r\n"


def request(method="INVITE", ruri="sip:alice@127.0.0.1", *, call_id="inv-1@test", extra=(), from_user="bob",
            to_tag=None) -> str:
    lines = [f"{method} {ruri} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-{call_id}",
             "Max-Forwards: 70", f"From: <sip:{from_user}@127.0.0.1>;tag=f1",
             f"To: <{ruri}>" + (f";tag={to_tag}" if to_tag else ""), f"Call-ID: {call_id}",
             f"CSeq: 1 {method}"]
    lines += list(extra)
    lines.append("Content-Length: 0")
    return "\r\n".join(lines) + "\r\n\r\n"


def script_logs(res) -> list[str]:
    return [r.text.rstrip("\n") for r in res.log if r.source == "script"]


def keyspace(script) -> dict:
    return script.redis_dump() or {}
