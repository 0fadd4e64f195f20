"""The db_redis module: modparams, start-up errors, the shared embedded Redis, the scan
counter in results."""

from __future__ import annotations

import pytest

import kscript
from reg_support import DB_HEAD, load_reg, register, request, script_logs
from kscript.errors import ConfigError


def test_keys_error_fails_start_up(tmp_path):
    head = DB_HEAD.replace("location=entry:ruid", "locaton=entry:ruid")
    with pytest.raises(ConfigError, match="No table schema found for table 'locaton'"):
        load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\n', head=head)


def test_keys_is_required(tmp_path):
    head = "\n".join(ln for ln in DB_HEAD.splitlines() if '"keys"' not in ln) + "\n"
    with pytest.raises(ConfigError, match="empty 'keys'"):
        load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\n', head=head)


def test_bad_schema_path(tmp_path):
    head = DB_HEAD.replace("/usr/share/kamailio/db_redis/kamailio", str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="Failed to open schema directory"):
        load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\n', head=head)


def test_several_keys_modparams_are_joined(tmp_path):
    head = DB_HEAD.replace('modparam("db_redis", "keys", "version=entry:table_name;',
                           'modparam("db_redis", "keys", "version=entry:table_name")\n'
                           'modparam("db_redis", "keys", "')
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 1)\n', head=head)
    s.process(register())
    assert "location:usrdom::alice:127.0.0.1" in s.redis_dump()


def test_embedded_server_shared_with_ndb_redis(tmp_path):
    head = DB_HEAD + 'loadmodule "ndb_redis.so"\nmodparam("ndb_redis", "server", "name=srv;addr=127.0.0.1;port=6379")\n'
    route = """
    request_route {
        if (is_method("REGISTER")) { save("location"); exit; }
        redis_cmd("srv", "SCARD location:usrdom::alice:127.0.0.1", "r");
        xlog("L_INFO", "contacts=$redis(r=>value)\\n");
        sl_send_reply("200", "OK");
    }
    """
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 1)\n',
                 head=head, route=route)
    s.process(register(contacts=["<sip:alice@127.0.0.1:1>, <sip:alice@127.0.0.1:2>"]))
    assert script_logs(s.process(request("OPTIONS"))) == ["contacts=2"]


def test_full_scan_counter_per_message(tmp_path):
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 0)\n')
    r = s.process(register())
    assert r.ctx.data["db_full_scans"] == 1
    r = s.process(request())
    assert r.ctx.data["db_full_scans"] == 1
    # plus the start-up test query of usrloc (dummy_user): 3 in all, its warning outside any message
    dbr = s.modules["db_redis"]
    assert len(dbr.full_scans) == 3
    assert [x.text for x in dbr.log_records][:2] == [
        "performing full table scan on table 'location' while doing the query", "  scan key 0 is 'username'"]


def test_client_helper(tmp_path):
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 1)\n')
    c = s.modules["db_redis"].client()
    c.hset("x", "a", "1")
    assert s.redis_dump()["x"]["value"] == {"a": "1"}


def test_unreachable_real_redis_fails_start_up(tmp_path):
    with pytest.raises(ConfigError, match="cannot open connection"):
        load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\n', redis="redis://127.0.0.1:1/0")
    _ = kscript
