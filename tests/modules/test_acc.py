"""acc on db_redis: acc_db_request/acc_log_request, transaction accounting (db_flag,
db_missed_flag, log_flag) through tm's callbacks."""

from __future__ import annotations

import textwrap

import pytest

import kscript
from reg_support import keyspace, request, script_logs
from kscript.modules.acc import parse_comment, parse_extra
from kscript.testing.clock import Clock

CFG = """#!KAMAILIO
debug=3
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "db_redis.so"
loadmodule "acc.so"
modparam("db_redis", "schema_path", "/usr/share/kamailio/db_redis/kamailio")
modparam("db_redis", "keys", "version=entry:table_name;acc=entry:callid,time;missed_calls=entry:callid,time")
modparam("acc", "db_url", "redis://127.0.0.1:6379/0")
modparam("acc", "db_flag", 2)
modparam("acc", "db_missed_flag", 3)
modparam("acc", "log_flag", 4)
modparam("acc", "log_missed_flag", 5)
modparam("acc", "db_extra", "src_user=$fU;dst_user=$rU;src_ip=$si")
modparam("acc", "log_extra", "src_user=$fU;dst_user=$rU")
request_route {
    if (is_method("INVITE")) {
        if ($rU == "answered") { setflag(2); setflag(4); } else { setflag(3); setflag(5); }
        $ru = "sip:" + $rU + "@127.0.0.1:5090";
        t_relay();
        exit;
    }
    if (is_method("MESSAGE")) {
        acc_db_request("202 Accepted here", "acc");
        xlog("L_INFO", "rc=$rc\\n");
        acc_log_request("202 Accepted here");
        sl_send_reply("202", "Accepted");
        exit;
    }
}
"""

NOW = 1795636609


def _load(tmp_path):
    cfg = tmp_path / "acc.cfg"
    cfg.write_text(textwrap.dedent(CFG))
    return kscript.load(cfg, clock=Clock(NOW))


def _reply(req_text: str, code: int, reason: str) -> str:
    lines = req_text.split("\r\n")
    out = [f"SIP/2.0 {code} {reason}"]
    for ln in lines[1:]:
        low = ln.lower()
        if low.startswith(("via:", "from:", "call-id:", "cseq:")):
            out.append(ln)
        elif low.startswith("to:"):
            out.append(ln + ";tag=callee")
    out.append("Content-Length: 0")
    return "\r\n".join(out) + "\r\n\r\n"


def _acc_rows(script, prefix):
    return {k: v["value"] for k, v in keyspace(script).items() if k.startswith(prefix)}


def test_acc_db_request(tmp_path):
    s = _load(tmp_path)
    r = s.process(request("MESSAGE", "sip:carol@127.0.0.1", call_id="m1"))
    assert script_logs(r) == ["rc=1"]
    rows = _acc_rows(s, "acc:entry::")
    key = next(iter(rows))
    assert key.startswith("acc:entry::m1:")
    row = rows[key]
    assert {k: row[k] for k in ("method", "from_tag", "to_tag", "callid", "sip_code", "sip_reason", "src_user",
                                "dst_user", "src_ip")} == {
        "method": "MESSAGE", "from_tag": "f1", "to_tag": "", "callid": "m1", "sip_code": "202",
        "sip_reason": "Accepted here", "src_user": "bob", "dst_user": "carol", "src_ip": "127.0.0.1"}
    log = [x.text for x in r.log if x.source == "acc"]
    assert log == [f"ACC: request accounted: timestamp={NOW};method=MESSAGE;from_tag=f1;to_tag=;call_id=m1;"
                   "code=202;reason=Accepted here;src_user=bob;dst_user=carol"]


def _tm_ready(script) -> bool:
    return hasattr(script.modules.get("tm"), "run_tmcb")


def test_answered_and_missed_calls(tmp_path):
    s = _load(tmp_path)
    if not _tm_ready(s):
        pytest.skip("tm without transaction callbacks")
    inv = request("INVITE", "sip:answered@127.0.0.1", call_id="c-ans")
    r = s.process(inv)
    fwd = r.requests[0]
    s.feed_reply(_reply(fwd.text, 200, "OK"), src="udp:127.0.0.1:5090")
    row = _acc_rows(s, "acc:entry::c-ans:")
    [v] = row.values()
    assert (v["sip_code"], v["sip_reason"], v["to_tag"], v["dst_user"]) == ("200", "OK", "callee", "answered")
    inv2 = request("INVITE", "sip:missed@127.0.0.1", call_id="c-mis")
    r = s.process(inv2)
    res = s.feed_reply(_reply(r.requests[0].text, 486, "Busy Here"), src="udp:127.0.0.1:5090")
    [m] = _acc_rows(s, "missed_calls:entry::c-mis:").values()
    assert (m["sip_code"], m["sip_reason"], m["to_tag"]) == ("486", "Busy Here", "callee")
    logs = [x.text for x in (res.log if hasattr(res, "log") else []) if x.source == "acc"]
    assert logs == [f"ACC: call missed: timestamp={NOW};method=INVITE;from_tag=f1;to_tag=callee;call_id=c-mis;"
                    "code=486;reason=Busy Here;src_user=bob;dst_user=missed"]


def test_parsers():
    assert parse_extra("a=$fU; b = $tU;c=$avp(x)") == [("a", "$fU"), ("b", "$tU"), ("c", "$avp(x)")]
    assert parse_comment("486 Busy Here") == (486, "486", "Busy Here")
    assert parse_comment("no code") == (0, "", "no code")
    from kscript.errors import ConfigError
    with pytest.raises(ConfigError):
        parse_extra("a=$fU;")


def test_acc_needs_tm(tmp_path):
    from kscript.errors import ConfigError
    cfg = tmp_path / "x.cfg"
    cfg.write_text('loadmodule "sl.so"\nloadmodule "acc.so"\nrequest_route { exit; }\n')
    with pytest.raises(ConfigError, match="TM API"):
        kscript.load(cfg)
