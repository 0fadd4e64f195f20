"""Unit tests of ndb_redis's pieces: server attributes, hiredis formatting, replies, $redis names.

The expected argv values are what ``redis-cli MONITOR`` showed for Kamailio 5.6.3
(see tests/conformance/cases/ndb_formatting for the recorded counterpart).
"""

from __future__ import annotations

import pytest

from kscript.modules.ndb_redis.command import (FORMAT_ERROR, Plan, PlanCache, Undefined, compile_format,
                                               has_arg_specifier, pack_argv)
from kscript.modules.ndb_redis.module import mask_password, RedirectURL
from kscript.modules.ndb_redis.params import ServerSpecError, parse_param_list, parse_server
from kscript.modules.ndb_redis.replies import (NIL, ErrorReply, RespReader, Status, parse_accessor,
                                               read_accessor, reply_type, to_python)


# ---------------------------------------------------------------- server attributes
def test_server_attributes():
    s = parse_server("name=srvA;addr=10.0.0.1;port=7000;db=3;pass=secret")
    assert (s.name, s.addr, s.port, s.db, s.password) == ("srvA", "10.0.0.1", 7000, 3, "secret")
    assert "secret" not in repr(s) and "secret" not in str(s)
    assert s.where() == "(10.0.0.1:7000/3)"


def test_server_defaults_and_bad_numbers():
    s = parse_server("name=x;port=abc;db=-1;sentinel_master=z")
    assert (s.port, s.db, s.sentinel_master, s.addr, s.unix) == (6379, 0, 1, "", None)


def test_server_trailing_semicolon_quotes_and_order():
    s = parse_server('name=a;addr="127.0.0.1";port=1;port=2;')
    assert s.addr == "127.0.0.1"
    assert s.port == 1  # Kamailio walks the attributes last-to-first: the first one wins
    assert parse_server("name=a;name=b").name == "b"


def test_server_unix_sentinels_tls():
    s = parse_server("name=u;unix=/run/redis.sock;db=2")
    assert s.unix == "/run/redis.sock" and s.where() == "(unix:/run/redis.sock db:2)"
    s = parse_server("name=s;sentinel_group=mymaster;sentinel_master=0;sentinel=127.0.0.1:26379;"
                     "sentinel=127.0.0.2:26380;tls=3")
    assert s.sentinels == [("127.0.0.2", 26380), ("127.0.0.1", 26379)]
    assert (s.sentinel_group, s.sentinel_master, s.tls) == ("mymaster", 0, 3)
    with pytest.raises(ServerSpecError, match="too many sentinels"):
        parse_server("name=s;" + ";".join(f"sentinel=h{i}:1" for i in range(6)))


@pytest.mark.parametrize("bad", ["addr=1.2.3.4", "", "name=a;;", "name=a b=c", 'name="a'])
def test_server_refused(bad):
    with pytest.raises(ServerSpecError):
        parse_server(bad)


def test_param_list_edge_cases():
    assert parse_param_list("a=1, b=2") == [("a", "1")]
    assert parse_param_list("a;b=") == [("a", ""), ("b", "")]
    assert parse_param_list("a = 1 ; b=2") == [("a", "1"), ("b", "2")]


def test_password_masking():
    assert mask_password("name=a;pass=secret;db=1") == "name=a;pass=***;db=1"
    u = RedirectURL("redis://:pw@127.0.0.1:7000")
    assert (u.host, u.port, u.password, u.tls) == ("127.0.0.1", 7000, "pw", False)
    assert "pw" not in repr(u)
    assert RedirectURL("rediss://h:1").tls and RedirectURL("unix:///tmp/r.sock").unix == "/tmp/r.sock"
    with pytest.raises(ValueError):
        RedirectURL("http://x")


# ---------------------------------------------------------------- formatting
def argv(fmt, *args):
    p = compile_format(fmt)
    assert isinstance(p, Plan), p
    return [a.decode() for a in p.argv_bytes(args)]


@pytest.mark.parametrize("fmt,args,expected", [
    ("SET k1 a b  c", (), ["SET", "k1", "a", "b", "c"]),
    ("SET k2 %s", ("a b  c",), ["SET", "k2", "a b  c"]),
    ("SET pre:%s:post %s", ("mid", ""), ["SET", "pre:mid:post", ""]),
    ("SET pct 100%%", (), ["SET", "pct", "100%"]),
    ("SET pct2 100%", (), ["SET", "pct2", "100%"]),
    ("  SET   sp   x  ", (), ["SET", "sp", "x"]),
    ("SET %s%s %s", ("a", "b", "c d"), ["SET", "ab", "c d"]),
    ("SET tab\tv", (), ["SET", "tab\tv"]),
    ("SET nl a\nb", (), ["SET", "nl", "a\nb"]),
    ("SET k5 %s", ("a", "b"), ["SET", "k5", "a"]),
    ("SET e %s", ("",), ["SET", "e", ""]),
    ("SET u %s", ("h\u00e9llo",), ["SET", "u", "h\u00e9llo"]),
    ("   ", (), []),
])
def test_hiredis_tokenising(fmt, args, expected):
    assert argv(fmt, *args) == expected


def test_pack_matches_protocol():
    p = compile_format("SET k %s")
    assert p.pack(("a b",)) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n"
    assert compile_format("PING").packed == b"*1\r\n$4\r\nPING\r\n"
    assert pack_argv("GET", "k") == b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    assert compile_format("GET a\0b").argv_bytes() == [b"GET", b"a"]  # C strings end at NUL


@pytest.mark.parametrize("fmt", ["SET k %q", "SET k %y", "x%-z", "%lq"])
def test_invalid_format(fmt):
    assert compile_format(fmt) is FORMAT_ERROR


@pytest.mark.parametrize("fmt", ["SET k %b", "SET k %d", "SET k %5.2f", "SET k %lld", "SET k %hhx", "a %-",
                                 "%ld"])
def test_undefined_formats(fmt):
    assert isinstance(compile_format(fmt), Undefined)


def test_arg_specifier_check_is_naive():
    assert has_arg_specifier("SET k %s") and has_arg_specifier("%b")
    assert has_arg_specifier("a%%b")  # Kamailio's scan sees "%b" inside "%%b"
    assert not has_arg_specifier("100%") and not has_arg_specifier("a%%c") and not has_arg_specifier("")


def test_plan_cache():
    c = PlanCache(limit=2)
    p = c.get("GET a")
    assert c.get("GET a") is p
    c.get("GET b")
    q = c.get("GET c")
    assert c.get("GET a") is p and c.get("GET c") is not q


# ---------------------------------------------------------------- replies
def test_resp_reader_types_and_partial_reads():
    r = RespReader()
    data = b"+OK\r\n$5\r\nhello\r\n:-7\r\n$-1\r\n*-1\r\n-ERR bad\r\n*3\r\n+QUEUED\r\n:1\r\n*1\r\n$0\r\n\r\n"
    for i in range(len(data)):  # byte by byte
        r.feed(data[i:i + 1])
    out = []
    while True:
        x = r.get()
        if x is None:
            break
        out.append(x)
    assert [reply_type(x) for x in out] == [5, 1, 3, 4, 4, 6, 2]
    assert out[0] == b"OK" and type(out[0]) is Status
    assert out[5] == b"ERR bad" and type(out[5]) is ErrorReply
    assert to_python(out[6]) == ["QUEUED", 1, [""]]
    assert [reply_type(x) for x in out[6]] == [5, 3, 2]


class _PV:
    def __init__(self, v):
        self.v = v

    def get(self, ctx):
        return self.v


class _Compiler:
    def __init__(self, value):
        self.value = value

    def pv(self, text, pos):
        return _PV(self.value)


def acc(reply, name, value=None):
    rname, keys = parse_accessor(name, _Compiler(value))
    return read_accessor(None, reply, keys)


def test_accessor_semantics():
    s, arr, i, st, err = b"hello", [b"a", 5, NIL, [b"x", 2**40 + 256]], 10000000000, Status(b"OK"), ErrorReply(b"ERR x")
    assert [acc(s, k) for k in ("r=>type", "r=>value", "r=>info", "r=>size", "r=>value[0]", "r=>value[-1]",
                                "r=>type[0]", "r=>type[-1]")] == [1, "hello", "hello", None, None, "hello", None, 1]
    assert [acc(arr, k) for k in ("r=>type", "r=>value", "r=>info", "r=>size", "r=>value[0]", "r=>value[1]",
                                  "r=>value[2]", "r=>value[3]", "r=>value[9]", "r=>type[2]", "r=>type[3]",
                                  "r=>value[3]=>value[1]", "r=>value[3]=>size")] == \
        [2, None, None, 4, "a", 5, None, None, None, 4, 2, 256, 2]
    assert acc(i, "r=>value") == 1410065408 and acc(-3000000000, "r=>value") == 1294967296
    assert acc(i, "r=>info") is None
    assert (acc(st, "r=>type"), acc(st, "r=>value"), acc(st, "r=>info")) == (5, None, "OK")
    assert (acc(err, "r=>type"), acc(err, "r=>value"), acc(err, "r=>info")) == (6, None, "ERR x")
    assert acc(NIL, "r=>type") == 4 and acc(NIL, "r=>info") is None
    assert acc(arr, "r=>value[$var(i)]", 1) == 5
    assert acc(arr, " r => value[ $var(i) ]=>size", 3) == 2


def test_accessor_ten_levels():
    deep = b"leaf"
    for _ in range(10):
        deep = [deep]
    # ten keys at most: nine descents and the last key
    assert acc(deep, "r=>" + "=>".join(["value[0]"] * 9) + "=>type") == 2
    assert acc(deep, "r=>" + "=>".join(["value[0]"] * 9) + "=>type[0]") == 1
    assert acc(deep[0], "r=>" + "=>".join(["value[0]"] * 9) + "=>value[0]") is None
    assert acc([deep], "r=>" + "=>".join(["value[0]"] * 10)) is None
    with pytest.raises(ValueError, match="Too many nested"):
        parse_accessor("r=>" + "=>".join(["value[0]"] * 10) + "=>type")


@pytest.mark.parametrize("bad", ["r", "r=>", "r=>valu", "r=>value[", "r=>value[]", "r=>value[x]",
                                 "r=>infox", "r=>value[0] =>type", "=>value", "r=>sizes"])
def test_accessor_refused(bad):
    with pytest.raises(ValueError):
        parse_accessor(bad)
