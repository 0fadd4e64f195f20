"""db_redis: schema files, the keys modparam, value conversions, key names, db_url."""

from __future__ import annotations

import time

import pytest

from kscript.db.api import BIGINT, BITMAP, BLOB, DATETIME, DOUBLE, INT, STR, STRING, UBIGINT, UINT
from kscript.db.redis.keys import join_keys, parse_keys
from kscript.db.redis.layout import (ConversionError, c_atoi, entry_key, index_key, str2val, type_key,
                                     val2str)
from kscript.db.redis.schema import SchemaError, column_type, load_schema, parse_schema_text
from kscript.db.url import UrlError, parse_db_url

from dbr_support import schema_path


# ---------------------------------------------------------------- schema files
def test_schema_files_of_the_distribution():
    tables = load_schema(schema_path())
    loc = tables["location"]
    assert loc.version == 9
    assert list(loc.columns)[:5] == ["id", "ruid", "username", "domain", "contact"]
    assert loc.columns["expires"] == DATETIME and loc.columns["q"] == DOUBLE and loc.columns["cseq"] == INT
    assert tables["version"].version == 1 and tables["subscriber"].version == 7
    assert tables["acc"].columns["time"] == INT  # acc's schema says int; acc writes a DATETIME


@pytest.mark.parametrize("text,want", [
    ("string", STRING), ("Str", STRING), ("int", INT), ("uint", UINT), ("ubigint", UBIGINT), ("UB", UBIGINT),
    ("time", DATETIME), ("timestamp", DATETIME), ("double", DOUBLE), ("blob", BLOB), ("bigint", BIGINT),
    ("bi", BIGINT),
])
def test_column_type_by_first_letters(text, want):
    assert column_type(text) == want


def test_bad_column_type_and_schema_errors():
    with pytest.raises(SchemaError):
        column_type("xml")
    with pytest.raises(SchemaError, match="Invalid column definition"):
        parse_schema_text("t", "a/int,b\n1\n")
    with pytest.raises(SchemaError, match="duplicate column"):
        parse_schema_text("t", "a/int,a/string,\n1\n")
    with pytest.raises(SchemaError, match="end of file"):
        parse_schema_text("t", "a/int")


def test_schema_parsing_details():
    t = parse_schema_text("t", "a/int,b/string,\r\n7\r\nignored\n")  # trailing comma, \r ignored
    assert t.columns == {"a": INT, "b": STRING} and t.version == 7
    t = parse_schema_text("t", "a/int\n12abc\n")  # no trailing comma; atoi
    assert t.columns == {"a": INT} and t.version == 12
    t = parse_schema_text("t", "a/int,\n")  # version missing -> 0
    assert t.version == 0


# ---------------------------------------------------------------- keys
def _tables():
    return load_schema(schema_path())


def test_keys_definition():
    tables = _tables()
    parse_keys("version=entry:table_name;location=entry:ruid&usrdom:username,domain&timer:partition,keepalive",
               tables)
    loc = tables["location"]
    assert loc.entry_keys == ["ruid"]
    assert loc.types == [("usrdom", ["username", "domain"]), ("timer", ["partition", "keepalive"])]
    assert loc.version_code == "" and loc.keyed
    assert not tables["acc"].keyed


def test_keys_modparams_are_joined_and_prefix_kept():
    tables = _tables()
    spec = join_keys(["version=entry:table_name", "v2:location=entry:ruid&usrdom:username,domain"])
    assert spec == "version=entry:table_name;v2:location=entry:ruid&usrdom:username,domain"
    parse_keys(spec, tables)
    assert tables["location"].version_code == "v2:"
    assert entry_key("v2:", "location", ["x"]) == "v2:location:entry::x"


@pytest.mark.parametrize("spec,msg", [
    ("", "empty 'keys'"),
    ("nosuchtable=entry:a", "No table schema found for table 'nosuchtable'"),
    ("location = entry:ruid", "No table schema found for table 'location '"),  # nothing is trimmed
    ("location", "expecting <table>=<definition>"),
    ("location=entry", "expecting <type>:<definition>"),
    ("version=entry:table_name;;location=entry:ruid", "No table schema found for table ';location'"),
])
def test_keys_errors(spec, msg):
    with pytest.raises(SchemaError, match=msg):
        parse_keys(spec, _tables())


# ---------------------------------------------------------------- conversions
def test_value_to_string():
    assert val2str(INT, 5) == "5" and val2str(INT, -1) == "-1" and val2str(INT, 2 ** 32 + 3) == "3"
    assert val2str(UINT, -1) == "4294967295" and val2str(BITMAP, 7) == "7"
    assert val2str(BIGINT, 42) == "0000000042" and val2str(BIGINT, -1) == "-000000001"
    assert val2str(UBIGINT, 12345678901) == "12345678901"
    assert val2str(DOUBLE, -1) == "-1.000000" and val2str(DOUBLE, 0.5) == "0.500000"
    assert val2str(STR, "a b") == "a b" and val2str(STRING, "") == ""
    assert val2str(STR, None) is None
    ts = 1795635081
    assert val2str(DATETIME, ts) == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
    with pytest.raises(ConversionError):
        val2str(BLOB, "x")


def test_string_to_value():
    assert str2val(INT, "12") == 12 and str2val(INT, "") == 0 and str2val(INT, "-1") == -1
    with pytest.raises(ConversionError):
        str2val(INT, "12x")
    assert str2val(DOUBLE, "0.900000") == 0.9 and str2val(DOUBLE, "") == 0.0 and str2val(DOUBLE, "1.5e") == 1.5
    ts = 1795635081
    assert str2val(DATETIME, val2str(DATETIME, ts)) == ts
    with pytest.raises(ConversionError):
        str2val(DATETIME, "")  # a NULL written as "" cannot be read back as a datetime
    assert str2val(BIGINT, "0000000042") == 42
    assert str2val(STRING, "x") == "x" and str2val(INT, None) is None


def test_c_atoi():
    assert c_atoi("  12abc") == 12 and c_atoi("abc") == 0 and c_atoi("-7") == -7 and c_atoi("4294967297") == 1


def test_key_names():
    assert entry_key("", "location", ["uloc-1"]) == "location:entry::uloc-1"
    assert type_key("", "location", "usrdom", ["alice", "example.com"]) == "location:usrdom::alice:example.com"
    assert type_key("", "location", "timer", []) == "location:timer"
    assert index_key("", "location", "usrdom") == "location::index::usrdom"


# ---------------------------------------------------------------- db_url
def test_db_url():
    u = parse_db_url("redis://127.0.0.1:6379/2")
    assert (u.scheme, u.host, u.port, u.database, u.db_index, u.password) == ("redis", "127.0.0.1", 6379, "2", 2,
                                                                              None)
    u = parse_db_url("redis://user:pa@ss@10.0.0.1:7000/1")
    assert (u.username, u.password, u.host, u.port) == ("user", "pa@ss", "10.0.0.1", 7000)
    assert "pa@ss" not in str(u)
    u = parse_db_url("redis://127.0.0.1/0")
    assert u.port == 0  # srdb1: no port given -> 0 (db_redis then fails to connect)
    assert parse_db_url("mysql://kamailio:kamailiorw@localhost/kamailio").database == "kamailio"
    assert parse_db_url("redis://[::1]:6379/4").host == "::1"
    with pytest.raises(UrlError):
        parse_db_url("redis://127.0.0.1:6379")  # the /database part is required
    with pytest.raises(UrlError):
        parse_db_url("redis:/x/y")


def test_memory_backend():
    from kscript import db
    from kscript.db.api import Str

    class S:
        pass
    s = S()
    c = db.connect(s, "memory://x/test")
    c.insert(["username", "domain", "password"], [Str("alice"), Str("example.com"), Str("pw")], table="subscriber")
    assert c.query(["username"], None, [Str("alice")], ["password"], table="subscriber").rows == [["pw"]]
    assert c.query(["username"], None, [Str("ali")], ["password"], table="subscriber").rows == []  # exact
    assert c.update(["username"], None, [Str("alice")], ["password"], [Str("x")], table="subscriber") == 1
    assert c.delete(["username"], None, [Str("alice")], table="subscriber") == 1
    assert c.table_version("subscriber") in (7, None)
