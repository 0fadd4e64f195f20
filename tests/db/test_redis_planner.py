"""db_redis operations: which Redis commands for which DB call, against the ``redis-cli
MONITOR`` traces of real Kamailio 5.6.3 (kamailio-surface.md §6 and traces captured for
this work), on fakeredis and on a real redis-server.

Deliberate difference: table scans use ``SCAN ... MATCH ... COUNT`` (Kamailio >= 5.8)
where 5.6 sends ``KEYS``."""

from __future__ import annotations

import pytest

from dbr_support import FakeScript, make_tables, raw
from kscript.db.api import (DATETIME, DOUBLE, INT, OP_LT, OP_NEQ, STR, STRING, DateTime, DbError, DbVal, Double,
                            Int, Null, Str)
from kscript.db.redis import SREM_KEY_LUA, RedisDbConnection
from kscript.db.redis.layout import format_datetime
from kscript.db.redis.planner import TsScan, compare, range_patterns
from kscript.db.url import parse_db_url

SHA = "ff8125173aac90adb3923d92b7c49a24747e2c6f"  # SHA1 of SREM_KEY_LUA, as in the trace
NOW = 1795635081
RUID = "uloc-6b073783-65fb-1"
ENTRY = f"location:entry::{RUID}"


def usrloc_insert_row(ruid=RUID, user="alice", contact="sip:alice@127.0.0.1:5791", expires=NOW + 120, q=-1.0):
    """The columns and values usrloc's db_insert_ucontact() passes (use_domain=1)."""
    keys = ["username", "contact", "expires", "q", "callid", "cseq", "flags", "cflags", "user_agent", "socket",
            "last_modified", "ruid", "reg_id", "server_id", "connection_id", "keepalive", "partition", "domain"]
    vals = [Str(user), Str(contact), DateTime(expires), Double(q), Str("reg-alice-1"), Int(1), Int(0), Int(0),
            Str("regua"), Str("udp:127.0.0.1:5770"), DateTime(NOW), Str(ruid), Int(0), Int(0), Int(-1), Int(0),
            Int(0), Str("127.0.0.1")]
    return keys, vals


def test_srem_script_sha():
    import hashlib
    assert hashlib.sha1(SREM_KEY_LUA.encode()).hexdigest() == SHA


def test_insert_trace(dbconn):
    keys, vals = usrloc_insert_row()
    dbconn.insert(keys, vals, table="location")
    t = dbconn.trace
    # HMSET with exactly the caller's columns in the caller's order
    assert t[0] == ["HMSET", ENTRY, "username", "alice", "contact", "sip:alice@127.0.0.1:5791", "expires",
                    format_datetime(NOW + 120), "q", "-1.000000", "callid", "reg-alice-1", "cseq", "1", "flags",
                    "0", "cflags", "0", "user_agent", "regua", "socket", "udp:127.0.0.1:5770", "last_modified",
                    format_datetime(NOW), "ruid", RUID, "reg_id", "0", "server_id", "0", "connection_id", "-1",
                    "keepalive", "0", "partition", "0", "domain", "127.0.0.1"]
    assert t[1:] == [
        ["SADD", "location:usrdom::alice:127.0.0.1", ENTRY],
        ["SADD", "location::index::usrdom", "location:usrdom::alice:127.0.0.1"],
        ["SADD", "location:timer::0:0", ENTRY],
        ["SADD", "location::index::timer", "location:timer::0:0"],
    ]
    assert raw(dbconn, "TYPE", ENTRY) == "hash"


def test_query_by_mapping_trace(dbconn):
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.trace.clear()
    cols = ["contact", "expires", "q", "received"]
    res = dbconn.query(["username", "domain"], None, [Str("alice"), Str("127.0.0.1")], cols, table="location")
    assert dbconn.trace == [
        ["SMEMBERS", "location:usrdom::alice:127.0.0.1"],
        ["EXISTS", ENTRY],
        # after a mapping lookup every WHERE column is re-checked: they come first
        ["HMGET", ENTRY, "username", "domain", "contact", "expires", "q", "received"],
    ]
    assert res.rows == [["sip:alice@127.0.0.1:5791", NOW + 120, -1.0, None]]
    assert res.types == [STRING, DATETIME, DOUBLE, STRING]


def test_empty_mapping_set_means_no_rows_and_no_scan(dbconn):
    res = dbconn.query(["username", "domain"], None, [Str("dummy_user"), Str("dummy_domain")], ["username"],
                       table="location")
    assert res.rows == [] and dbconn.trace == [["SMEMBERS", "location:usrdom::dummy_user:dummy_domain"]]


def test_query_by_entry_key_manual_columns(dbconn):
    """Entry key (username, domain): only the WHERE columns before the last entry-key
    column are re-checked -- the subscriber trace: HMGET <key> username password."""
    raw(dbconn, "HSET", "subscriber:entry::alice:127.0.0.1", "username", "alice", "domain", "127.0.0.1",
        "password", "secret123")
    res = dbconn.query(["username", "domain"], None, [Str("alice"), Str("127.0.0.1")], ["password"],
                       table="subscriber")
    assert dbconn.trace == [["EXISTS", "subscriber:entry::alice:127.0.0.1"],
                            ["HMGET", "subscriber:entry::alice:127.0.0.1", "username", "password"]]
    assert res.rows == [["secret123"]]


def test_full_scan_uses_scan_and_rechecks_all_columns(dbconn):
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.insert(*usrloc_insert_row(ruid="uloc-x-2", user="alice2"), table="location")
    dbconn.trace.clear()
    res = dbconn.query(["username"], None, [Str("alice")], ["contact"], table="location")
    t = dbconn.trace
    assert t[0] == ["SCAN", "0", "MATCH", "location:entry::*", "COUNT", "1000"]
    assert not any(c[0] == "KEYS" for c in t)
    hmgets = [c for c in t if c[0] == "HMGET"]
    assert all(c[2:] == ["username", "contact"] for c in hmgets) and len(hmgets) == 2
    # DB1_STR values are compared with strncmp(stored, value, len(value)): alice2 matches alice
    assert len(res.rows) == 2
    assert dbconn.stats["full_scans"] == [("location", ["username"], "doing the query")]


def test_full_scan_warning_and_counter(dbconn):
    class Ctx:
        def __init__(self):
            self.data, self.logs = {}, []

        def log(self, level, text, source="script", pos=None):
            self.logs.append((level, source, text))
    ctx = Ctx()
    dbconn.query(["username", "contact"], None, [Str("a"), Str("b")], ["q"], table="location", ctx=ctx)
    assert ctx.logs == [("WARN", "db_redis", "performing full table scan on table 'location' while doing the query"),
                        ("WARN", "db_redis", "  scan key 0 is 'username'"),
                        ("WARN", "db_redis", "  scan key 1 is 'contact'")]
    assert ctx.data["db_full_scans"] == 1


def test_version_query_answered_from_schema(dbconn):
    res = dbconn.query(["table_name"], None, [Str("location")], ["table_version"], table="version")
    assert res.rows == [[9]] and dbconn.trace == []


def test_update_by_ruid_trace(dbconn):
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.trace.clear()
    n = dbconn.update(["ruid"], None, [Str(RUID)], ["expires", "q", "received", "contact"],
                      [DateTime(NOW + 3600), Double(0.9), Null(STR), Str("sip:alice@127.0.0.1:5790")],
                      table="location")
    assert n == 1
    assert dbconn.trace == [
        ["EXISTS", ENTRY],
        ["HMGET", ENTRY, "username", "domain", "partition", "keepalive"],
        ["HMSET", ENTRY, "expires", format_datetime(NOW + 3600), "q", "0.900000", "received", "",
         "contact", "sip:alice@127.0.0.1:5790"],
    ]


def test_update_moving_a_row_between_mapping_sets(dbconn):
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.trace.clear()
    dbconn.update(["ruid"], None, [Str(RUID)], ["username", "domain"], [Str("bob"), Str("example.com")],
                  table="location")
    assert dbconn.trace[2:] == [
        ["HMSET", ENTRY, "username", "bob", "domain", "example.com"],
        ["SADD", "location:usrdom::bob:example.com", ENTRY],
        ["SADD", "location::index::usrdom", "location:usrdom::bob:example.com"],
        ["EVAL", SREM_KEY_LUA, "3", "location:usrdom::alice:127.0.0.1", "location::index::usrdom", ENTRY],
    ]
    # the old (now empty) set left the index; the entry key was not renamed
    assert raw(dbconn, "EXISTS", "location:usrdom::alice:127.0.0.1") == 0
    assert sorted(raw(dbconn, "SMEMBERS", "location::index::usrdom")) == ["location:usrdom::bob:example.com"]
    assert raw(dbconn, "HGET", ENTRY, "ruid") == RUID


def test_update_without_where_does_nothing(dbconn):
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.trace.clear()
    assert dbconn.update([], None, [], ["q"], [Double(0.1)], table="location") == 0
    assert dbconn.trace == []


def test_delete_by_ruid_trace(dbconn):
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.trace.clear()
    assert dbconn.delete(["ruid"], None, [Str(RUID)], table="location") == 1
    assert dbconn.trace == [
        ["EXISTS", ENTRY],
        ["HMGET", ENTRY, "username", "domain", "partition", "keepalive"],
        ["DEL", ENTRY],
        ["EVALSHA", SHA, "3", "location:usrdom::alice:127.0.0.1", "location::index::usrdom", ENTRY],
        ["EVALSHA", SHA, "3", "location:timer::0:0", "location::index::timer", ENTRY],
    ]
    assert raw(dbconn, "KEYS", "*") == []


def test_delete_by_user_domain_trace(dbconn):
    """Contact: * in db_mode 3: delete WHERE username, domain (the unregister trace)."""
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.insert(*usrloc_insert_row(ruid="uloc-x-2", contact="sip:alice@127.0.0.1:5790"), table="location")
    dbconn.trace.clear()
    assert dbconn.delete(["username", "domain"], None, [Str("alice"), Str("127.0.0.1")], table="location") == 2
    t = dbconn.trace
    assert t[0] == ["SMEMBERS", "location:usrdom::alice:127.0.0.1"]
    hm = [c for c in t if c[0] == "HMGET"]
    assert all(c[2:] == ["username", "domain", "username", "domain", "partition", "keepalive"] for c in hm)
    # the second EVALSHA of each set also removes the emptied set from its index
    assert raw(dbconn, "KEYS", "*") == []


def test_delete_does_not_use_the_prefix_match(dbconn):
    """Kamailio's strncmp would make username=alice delete alice2's rows: kscript compares
    exactly in deletes and updates (documented deviation: it would lose data)."""
    dbconn.insert(*usrloc_insert_row(), table="location")
    dbconn.insert(*usrloc_insert_row(ruid="uloc-x-2", user="alice2"), table="location")
    assert dbconn.delete(["username"], None, [Str("alice")], table="location") == 1
    assert raw(dbconn, "EXISTS", "location:entry::uloc-x-2") == 1


def test_db_timer_delete_is_a_range_or_full_scan(dbconn):
    dbconn.insert(*usrloc_insert_row(expires=NOW - 10), table="location")
    dbconn.insert(*usrloc_insert_row(ruid="uloc-x-2", expires=NOW + 100), table="location")
    dbconn.trace.clear()
    n = dbconn.delete(["expires", "expires"], [OP_LT, OP_NEQ], [DateTime(NOW + 1), DateTime(0)], table="location")
    assert n == 1
    assert dbconn.trace[0][0] == "SCAN"
    assert raw(dbconn, "EXISTS", "location:entry::uloc-x-2") == 1


def test_insert_needs_the_entry_key_and_stops_at_a_null(dbconn):
    with pytest.raises(DbError, match="Failed to create direct entry key"):
        dbconn.insert(["username", "contact"], [Str("a"), Str("b")], table="location")
    # Kamailio quirk: a NULL value *before* the key column in the caller's list makes the
    # entry key unusable (usrloc with db_insert_null=1 + db_redis cannot insert)
    with pytest.raises(DbError, match="Failed to create direct entry key"):
        dbconn.insert(["username", "received", "ruid"], [Str("a"), Null(STR), Str("r1")], table="location")
    assert dbconn.trace == []


def test_null_is_stored_as_empty_string(dbconn):
    dbconn.insert(["ruid", "received", "username"], [Str("r1"), Null(STR), Str("u")], table="location")
    assert raw(dbconn, "HGET", "location:entry::r1", "received") == ""


def test_table_without_keys_definition_fails(dbconn):
    with pytest.raises(DbError, match="keys"):
        dbconn.insert(["callid"], [Str("c")], table="missed_calls")
    with pytest.raises(DbError, match="undefined table"):
        dbconn.insert(["a"], [Str("c")], table="nosuchtable")


def test_delete_from_table_without_mappings_by_first_entry_column_fails(dbconn):
    """HMGET with no field names (nothing to re-check, no mapping columns) is a Redis
    error: Kamailio 5.6's delete then fails -- reproduced."""
    raw(dbconn, "HSET", "version:entry::location", "table_name", "location", "table_version", "9")
    with pytest.raises(DbError, match="wrong number of arguments"):
        dbconn.delete(["table_name"], None, [Str("location")], table="version")


def test_bigint_keys_are_zero_padded():
    tables = make_tables("version=entry:table_name;dialog=entry:hash_entry,hash_id")
    conn = RedisDbConnection(FakeScript(), parse_db_url("redis://127.0.0.1:1/0"), tables)
    conn.trace = []
    from kscript.db.api import BIGINT
    conn.insert(["hash_entry", "hash_id", "callid"], [DbVal(INT, 5), DbVal(BIGINT, 7), Str("c")], table="dialog")
    assert conn.trace[0][:2] == ["HMSET", "dialog:entry::5:0000000007"]


# ---------------------------------------------------------------- matching rules
@pytest.mark.parametrize("vt,vv,op,stored,want", [
    (STR, "alice", "=", "alice2", True),  # strncmp prefix match
    (STRING, "alice", "=", "alice2", False),
    (STR, "alice", "=", None, False),
    (STR, None, "=", None, True),
    (INT, 5, ">", "6", True),
    (INT, 3, "&", "2", True),
    (INT, 4, "&", "2", False),
    (INT, 5, "=", "5abc", True),  # atoi
    (DOUBLE, 0.5, "<", "0.400000", True),
    (DATETIME, NOW, "<", format_datetime(NOW - 1), True),
    ("uint", 1, "=", "1", False),  # not supported by 5.6's comparison: never matches
])
def test_compare(vt, vv, op, stored, want):
    assert compare(vt, vv, op, stored) is want


def test_range_scan_patterns():
    ts = TsScan(key="location:timer::2019-07-17 17:33:16", offset=len("location:timer::"), length=19, lt=False,
                variable=False)
    pats = range_patterns(ts)
    assert pats[0] == "location:timer::[3-9]???-??-?? ??:??:??"
    assert "location:timer::2[1-9]??-??-?? ??:??:??" in pats
    lt = range_patterns(TsScan(key=ts.key, offset=ts.offset, length=19, lt=True, variable=False))
    assert lt[0] == "location:timer::[0-1]???-??-?? ??:??:??"  # no leading 0 class, 0 digits skipped
    assert "location:timer::20[0-0]?-??-?? ??:??:??" in lt


def test_set_cleanup_without_lua_interpreter(monkeypatch):
    """Without lupa the embedded server emulates db_redis's Lua script in Python."""
    from kscript import redis_backend
    monkeypatch.setattr(redis_backend, "_HAS_LUA", False)
    conn = RedisDbConnection(FakeScript(), parse_db_url("redis://127.0.0.1:2/0"), make_tables())
    conn.insert(*usrloc_insert_row(), table="location")
    conn.trace = []
    assert conn.delete(["ruid"], None, [Str(RUID)], table="location") == 1
    assert conn.trace[-1] == ["EVALSHA", SHA, "3", "location:timer::0:0", "location::index::timer", ENTRY]
    assert conn.conn.command("KEYS", "*") == []
