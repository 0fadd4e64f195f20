"""The fast paths of ndb_redis give what the general code gives.

* :func:`pack_text` (formats without ``%``) and :meth:`Plan.pack` (one bytes
  formatting per command) against the protocol of the tokenised arguments;
* :meth:`SocketTransport.call`'s one-read reply parsing against a peer that sends
  whole, split, concatenated, truncated and malformed replies;
* ``$redis(r=>value)``'s shortcut against the general accessor.
"""

from __future__ import annotations

import random
import socket

import pytest

from kscript.modules.ndb_redis.command import Plan, compile_format, pack_argv, pack_text, pack_words
from kscript.modules.ndb_redis.connection import EOF_TEXT, SocketTransport
from kscript.modules.ndb_redis.replies import NIL, ErrorReply, Status, parse_accessor, read_accessor
from ndb_support import options, script_log


# ---------------------------------------------------------------- packing
def _expected(plan: Plan, args=()) -> bytes:
    return pack_argv(*plan.argv_bytes(args))


@pytest.mark.parametrize("fmt", ["PING", "SET k v", "  SET   sp   x  ", "   ", "", "SET tab\tv", "SET u h\u00e9llo",
                                 "SET s \udcff", "GET a\0b", "SET k 100%", " ".join(f"a{i}" for i in range(30))])
def test_pack_text_is_the_static_plan(fmt):
    plan = compile_format(fmt)
    assert pack_text(fmt) == plan.packed == _expected(plan)


@pytest.mark.parametrize("fmt,args", [
    ("SET k %s", ("a b",)),
    ("SET pre:%s:post %s", ("mid", "")),
    ("SET %s%s %s", ("a", "b", "c d")),
    ("HSET h:%s f%%%s %s", ("x%d", "\u00e9", "a\0b")),
    ("SET k5 %s", ("a", "b")),
    ("%s %s %s", ("", "", "")),
    ("SET 100%% %s", ("%s",)),
])
def test_plan_pack(fmt, args):
    plan = compile_format(fmt)
    assert plan.pack(args) == _expected(plan, args)


def test_pack_random_formats():
    rnd = random.Random(7)
    alphabet = ["a", " ", " ", "%s", "%s", "%%", "\u00e9", "\0", "\t", "%"]
    for _ in range(3000):
        fmt = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 10)))
        plan = compile_format(fmt)
        if not isinstance(plan, Plan):
            continue
        args = tuple(rnd.choice(["", "x y", "%", "\u00e9", "a\0b", "%s"]) for _ in range(plan.nargs))
        assert plan.pack(args) == _expected(plan, args), (fmt, args)
        if "%" not in fmt.split("\0")[0]:
            assert pack_text(fmt) == plan.packed


def test_pack_words():
    for n in (0, 1, 5, 11, 12, 40):
        words = [b"w%d" % i for i in range(n)]
        assert pack_words(words) == pack_argv(*words)


# ---------------------------------------------------------------- one-read replies
@pytest.fixture
def peer():
    a, b = socket.socketpair()
    t = SocketTransport(a, "pair")
    yield t, b
    t.close()
    b.close()


def _roundtrip(t, b, reply: bytes):
    b.sendall(reply)  # the reply is there before the command: the read sees it whole
    r = t.call(b"*1\r\n$4\r\nPING\r\n")
    assert b.recv(100) == b"*1\r\n$4\r\nPING\r\n"
    return r


@pytest.mark.parametrize("reply,value,typ", [
    (b"+OK\r\n", b"OK", Status), (b"+QUEUED\r\n", b"QUEUED", Status), (b"+FOO BAR\r\n", b"FOO BAR", Status),
    (b":1\r\n", 1, int), (b":-1\r\n", -1, int), (b":12345678901\r\n", 12345678901, int), (b":-77\r\n", -77, int),
    (b"-ERR bad\r\n", b"ERR bad", ErrorReply), (b"$3\r\nabc\r\n", b"abc", bytes), (b"$0\r\n\r\n", b"", bytes),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb", bytes), (b"*2\r\n$1\r\na\r\n:2\r\n", [b"a", 2], list),
    (b"*0\r\n", [], list),
])
def test_call_parses_whole_replies(peer, reply, value, typ):
    t, b = peer
    r = _roundtrip(t, b, reply)
    assert type(r) is typ and r == value


@pytest.mark.parametrize("reply", [b"$-1\r\n", b"*-1\r\n"])
def test_call_nil(peer, reply):
    t, b = peer
    assert _roundtrip(t, b, reply) is NIL


def test_call_split_and_concatenated_replies(peer):
    t, b = peer
    b.sendall(b"$5\r\nhel")
    import threading
    timer = threading.Timer(0.05, lambda: b.sendall(b"lo\r\n"))
    timer.start()
    assert t.call(b"*1\r\n$4\r\nPING\r\n") == b"hello"
    timer.join()
    # two replies in one read: the second is kept for the next call
    b.sendall(b":7\r\n+OK\r\n")
    assert t.call(b"*1\r\n$4\r\nPING\r\n") == 7
    r = t.call(b"*1\r\n$4\r\nPING\r\n")
    assert r == b"OK" and type(r) is Status
    assert not t.err


def test_call_eof_and_protocol_error():
    for reply, text in ((b"", EOF_TEXT), (b"?what\r\n", "Protocol error"), (b"$x\r\nab\r\n", "Protocol error"),
                        (b":1x\r\n", "Protocol error")):
        a, b = socket.socketpair()
        t = SocketTransport(a, "pair")
        if reply:
            b.sendall(reply)
        else:
            b.shutdown(socket.SHUT_WR)
        assert t.call(b"*1\r\n$4\r\nPING\r\n") is None
        assert t.err and t.errstr == text, reply
        assert t.call(b"*1\r\n$4\r\nPING\r\n") is None  # errored until replaced
        b.close()


# ---------------------------------------------------------------- $redis(r=>value)
def test_plain_value_read_matches_the_accessor(load):
    s = load("""
modparam("ndb_redis", "server", "name=srv;addr=127.0.0.1;port=6379")
request_route {
	redis_cmd("srv", "SET s hello", "st");
	redis_cmd("srv", "GET s", "str");
	redis_cmd("srv", "SET n 4294967297", "x");
	redis_cmd("srv", "INCR n", "big");
	redis_cmd("srv", "GET missing", "nil");
	redis_cmd("srv", "LPUSH l a", "x");
	redis_cmd("srv", "LRANGE l 0 -1", "arr");
	redis_cmd("srv", "NOSUCH", "err");
	xlog("L_INFO", "st=$redis(st=>value) str=$redis(str=>value) big=$redis(big=>value) "
	               "nil=$redis(nil=>value) arr=$redis(arr=>value) err=$redis(err=>value) "
	               "none=$redis(never=>value)\\n");
}
""")
    assert script_log(s.process(options(1)))[-1] == (
        "INFO script: st=<null> str=hello big=2 nil=<null> arr=<null> err=<null> none=<null>")
    mod = s.modules["ndb_redis"]
    for name in ("st", "str", "big", "nil", "arr", "err"):
        _, keys = parse_accessor(f"{name}=>value")
        assert mod.reply(name) is not None
        want = read_accessor(None, mod.reply(name), keys)
        got = s.pv(f"$redis({name}=>value)")
        assert got == want, name


# ---------------------------------------------------------------- pipelines
def test_pipeline_missing_replies_are_logged_with_their_command():
    from kscript.modules.ndb_redis.connection import Server, Settings
    from kscript.modules.ndb_redis.params import parse_server
    from kscript.modules.ndb_redis.replies import Box

    a, b = socket.socketpair()
    srv = Server(parse_server("name=x;addr=127.0.0.1"), Settings(), connector=None)
    srv.conn = SocketTransport(a, "pair")
    boxes = [Box(f"r{i}") for i in range(3)]
    for box in boxes:
        box.reply = b"old"
    srv.pipe = [(pack_argv("INCR", "k"), boxes[0]), (pack_argv("GET", "k"), boxes[1]), (pack_argv("PING"), boxes[2])]
    b.sendall(b":1\r\n")
    b.shutdown(socket.SHUT_WR)  # one reply, then the server is gone
    logs = []
    assert srv.execute_pipeline(lambda level, text: logs.append((level, text))) == 0
    assert [box.reply for box in boxes] == [1, None, None]
    assert logs == [("ERR", "Trying to read reply for command *2\r\n$3\r\nGET\r\n$1\r\nk\r\n but nothing in buffer!"),
                    ("ERR", "Trying to read reply for command *1\r\n$4\r\nPING\r\n but nothing in buffer!")]
    assert srv.pipe == []
    srv.close()
    b.close()
