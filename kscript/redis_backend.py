"""Which Redis a kscript module talks to, in which mode, and the connections to it.

Shared by every module that uses Redis (ndb_redis, db_redis), so that two modules
naming the same address see the same data -- in embedded mode too.

Modes (``kscript.load(..., redis=...)``, kept as ``script.redis_mode``):

``"embedded"`` (default)
    In-process fakeredis: one :class:`fakeredis.FakeServer` per distinct server
    *address* (``host:port``) of the cfg, created on first use, fresh per script,
    expiring keys on the script's clock (:func:`kscript.testing.clock.follow_clock`).
    Two modules naming the same address share a keyspace (per db index, as on a
    real server).  The registry is :func:`fake_servers` (a dict on the script,
    keyed ``"host:port"`` -- the key ndb_redis's embedded servers use too).
``"cfg"``
    The real servers the cfg names.
a URL ``redis://[user[:pass]@]host[:port][/db]``
    Every server is redirected there, each keeping its own db index (the URL's
    password, when given, replaces the cfg's).

Connections (:func:`connect`) speak RESP directly -- a socket and hiredis's
parser for real servers (:class:`RawConnection`), fakeredis for embedded ones
(:class:`FakeConnection`) -- with one small interface::

    conn.command("HMGET", key, "a", "b")      # one reply; an error reply raises ReplyError
    conn.pipeline([("EXISTS", k), ("HMGET", k, "a")])   # replies in order; errors as ReplyError values
    conn.trace                                 # None, or a list receiving every argv sent (tests)

Replies: bulk strings as ``str`` (UTF-8, undecodable bytes kept with
``surrogateescape``), integers as ``int``, nil as ``None``, arrays as ``list``,
status replies as ``str`` (``"OK"``).

Embedded servers run Lua scripts with fakeredis when ``lupa`` is installed (a kscript
dependency); without it ``SCRIPT LOAD`` and ``EVALSHA``/``EVAL`` are emulated for the
scripts registered with :func:`register_lua` (db_redis's set-cleanup script),
running the same commands in-process.
"""

from __future__ import annotations

import hashlib
import socket
from typing import Any, Callable
from urllib.parse import unquote

__all__ = [
    "ReplyError", "RedisIOError", "parse_url", "mode", "fake_servers", "fake_server", "target", "connect",
    "RawConnection", "FakeConnection", "register_lua", "redis_py_client", "note_used", "dump", "dump_client",
]

DEFAULT_PORT = 6379
REDIS_VERSION = (7, 0)


class ReplyError(Exception):
    """A Redis error reply (``-ERR ...``); ``str()`` is the error text."""


class RedisIOError(Exception):
    """The connection failed (connect, send or receive)."""


# ---------------------------------------------------------------- addresses and modes
def parse_url(url: str) -> tuple[str, int, int, str | None, str | None]:
    """``redis://[user[:pass]@]host[:port][/db]`` -> (host, port, db, user, password)."""
    rest = url
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
        if scheme.lower() not in ("redis", "rediss"):
            raise ValueError(f"not a redis URL: {url!r}")
    user = password = None
    if "@" in rest:
        cred, rest = rest.rsplit("@", 1)
        if ":" in cred:
            user, password = cred.split(":", 1)
            user, password = unquote(user) or None, unquote(password)
        else:
            user = unquote(cred) or None
    hostport, _, dbpart = rest.partition("/")
    db = int(dbpart) if dbpart.strip().isdigit() else 0
    if hostport.startswith("["):
        end = hostport.find("]")
        host = hostport[1:end]
        port_s = hostport[end + 2:] if hostport[end + 1:end + 2] == ":" else ""
    else:
        host, _, port_s = hostport.partition(":")
    port = int(port_s) if port_s.isdigit() else DEFAULT_PORT
    return host or "127.0.0.1", port, db, user, password


def mode(script) -> str:
    """``"embedded"``, ``"cfg"`` or ``"url"``."""
    m = getattr(script, "redis_mode", None) or "embedded"
    if m in ("embedded", "cfg"):
        return m
    return "url"


def target(script, host: str, port: int, db: int = 0, password: str | None = None):
    """Where a server named by the cfg really is in the script's mode:
    ``(host, port, db, password)`` (for embedded mode: the cfg's address, used as
    the fake server's key)."""
    m = mode(script)
    if m == "url":
        uhost, uport, _udb, _user, upass = parse_url(script.redis_mode)
        return uhost, uport, db, (upass if upass is not None else password)
    return host, port, db, password


def fake_servers(script) -> dict:
    """The embedded servers of ``script``: ``{"host:port": FakeServer}`` (created on demand)."""
    reg = getattr(script, "_kscript_fake_servers", None)
    if reg is None:
        reg = {}
        try:
            script._kscript_fake_servers = reg
        except AttributeError:  # pragma: no cover - slotted objects
            pass
    return reg


def fake_server(script, host: str, port: int, password: str | None = None):
    """The embedded server for address ``host:port`` (created on first use)."""
    import fakeredis

    reg = fake_servers(script)
    key = f"{host}:{port}"
    fs = reg.get(key)
    if fs is None:
        config = None
        if password:
            config = {b"requirepass": password.encode("utf-8", "surrogateescape")}
        fs = fakeredis.FakeServer(version=REDIS_VERSION, config=config)
        clock = getattr(script, "clock", None)
        if clock is not None:
            from .testing.clock import follow_clock
            follow_clock(fs, lambda: script.clock())
        reg[key] = fs
    return fs


# ---------------------------------------------------------------- Lua emulation (embedded)
_LUA: dict[str, Callable] = {}  # sha1 -> fn(conn, keys, args)


def register_lua(text: str, fn: Callable) -> str:
    """Make ``EVAL text``/``EVALSHA sha1(text)`` run ``fn(conn, keys, args)`` on embedded servers."""
    sha = hashlib.sha1(text.encode("utf-8")).hexdigest()
    _LUA[sha] = fn
    return sha


_HAS_LUA: bool | None = None


def _has_lua() -> bool:
    """Does fakeredis run Lua here (the ``lupa`` package)?"""
    global _HAS_LUA
    if _HAS_LUA is None:
        try:
            import lupa  # noqa: F401
            _HAS_LUA = True
        except ImportError:
            _HAS_LUA = False
    return _HAS_LUA


# ---------------------------------------------------------------- connections
def _encode(a) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, str):
        return a.encode("utf-8", "surrogateescape")
    return str(a).encode()


try:  # hiredis >= 2.1
    from hiredis import pack_command as _hiredis_pack

    def pack(args) -> bytes:
        try:
            return _hiredis_pack(tuple(args))
        except (TypeError, UnicodeEncodeError):
            return _py_pack(args)
except ImportError:  # pragma: no cover
    def pack(args) -> bytes:
        return _py_pack(args)


def _py_pack(args) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = _encode(a)
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


class RawConnection:
    """A connection to a real Redis: a blocking socket, hiredis's reply parser.

    Connect sequence as hiredis-based Kamailio modules do it: connect (``timeout``
    seconds), ``AUTH`` when a password is given, ``PING``, ``SELECT db``.  A failed
    send/receive reconnects once and retries the command (or pipeline), like
    db_redis's ``db_redis_command_argv``.
    """

    def __init__(self, host: str, port: int, db: int = 0, password: str | None = None,
                 timeout: float | None = 1.0, *, select: bool = True, ping: bool = True):
        self.host, self.port, self.db, self.password = host, port, db, password
        self.timeout = timeout
        self.select = select
        self.ping = ping
        self.sock: socket.socket | None = None
        self.reader = None
        self.trace: list | None = None
        self.embedded = False
        self._connect()

    def _connect(self) -> None:
        import hiredis

        self.close()
        try:
            s = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as e:
            raise RedisIOError(f"cannot connect to redis {self.host}:{self.port}: {e}") from None
        s.settimeout(None if self.timeout is None else max(self.timeout, 5.0))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = s
        self.reader = hiredis.Reader(replyError=ReplyError, encoding="utf-8", errors="surrogateescape")
        if self.password:
            self._roundtrip([("AUTH", self.password)], raise_errors=True)
        if self.ping:
            self._roundtrip([("PING",)], raise_errors=True)
        if self.select:
            self._roundtrip([("SELECT", str(self.db))], raise_errors=True)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _roundtrip(self, cmds, raise_errors: bool = False) -> list:
        sock = self.sock
        if sock is None:
            raise RedisIOError("not connected")
        if len(cmds) == 1:
            data = pack(cmds[0])
        else:
            data = b"".join([pack(c) for c in cmds])
        sock.sendall(data)
        reader = self.reader
        out = []
        n = len(cmds)
        recv = sock.recv
        while len(out) < n:
            r = reader.gets()
            if r is False:
                chunk = recv(65536)
                if not chunk:
                    raise EOFError("Server closed the connection")
                reader.feed(chunk)
                continue
            out.append(r)
        if raise_errors:
            for r in out:
                if isinstance(r, ReplyError):
                    raise r
        return out

    def pipeline(self, cmds) -> list:
        """Send all commands at once, read all replies (error replies as ReplyError values)."""
        if not cmds:
            return []
        if self.trace is not None:
            self.trace.extend(list(c) for c in cmds)
        try:
            return self._roundtrip(cmds)
        except (OSError, EOFError):
            self._connect()
            try:
                return self._roundtrip(cmds)
            except (OSError, EOFError) as e:
                self.close()
                raise RedisIOError(str(e)) from None

    def command(self, *args):
        r = self.pipeline([args])[0]
        if isinstance(r, ReplyError):
            raise r
        return r


class FakeConnection:
    """A connection to an embedded (fakeredis) server, same interface as RawConnection."""

    def __init__(self, server, db: int = 0, password: str | None = None):
        import fakeredis

        self.client = fakeredis.FakeRedis(server=server, db=db, password=password or None,
                                          decode_responses=True)
        self.client.response_callbacks.clear()
        self.db = db
        self.trace: list | None = None
        self.embedded = True

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # pragma: no cover
            pass

    def _one(self, args):
        name = args[0].upper() if isinstance(args[0], str) else args[0]
        if name in ("SCRIPT", "EVALSHA", "EVAL") and not _has_lua():
            return self._lua_emulation(name, args)
        try:
            return self.client.execute_command(*args)
        except Exception as e:  # redis.exceptions.ResponseError and friends
            from redis.exceptions import ResponseError
            if isinstance(e, ResponseError):
                return ReplyError(str(e))
            raise RedisIOError(str(e)) from None

    def _lua_emulation(self, name, args):
        """Without lupa fakeredis has no Lua: scripts registered with :func:`register_lua`
        run as Python instead."""
        if name == "SCRIPT" and len(args) >= 3 and str(args[1]).upper() == "LOAD":
            sha = hashlib.sha1(_encode(args[2])).hexdigest()
            if sha not in _LUA:
                return ReplyError("ERR kscript's embedded Redis has no Lua interpreter (install lupa)")
            return sha
        if name in ("EVALSHA", "EVAL"):
            sha = args[1] if name == "EVALSHA" else hashlib.sha1(_encode(args[1])).hexdigest()
            fn = _LUA.get(str(sha).lower())
            if fn is None:
                return ReplyError("NOSCRIPT No matching script. Please use EVAL.")
            nk = int(args[2])
            return fn(self, list(args[3:3 + nk]), list(args[3 + nk:]))
        return ReplyError("ERR unknown command")

    def pipeline(self, cmds) -> list:
        if self.trace is not None:
            self.trace.extend(list(c) for c in cmds)
        return [self._one(tuple(c)) for c in cmds]

    def command(self, *args):
        if self.trace is not None:
            self.trace.append(list(args))
        r = self._one(args)
        if isinstance(r, ReplyError):
            raise r
        return r

    def raw(self, *args):
        """Run a command without tracing (used by Lua emulations)."""
        r = self._one(args)
        if isinstance(r, ReplyError):
            raise r
        return r


def connect(script, host: str, port: int, db: int = 0, password: str | None = None,
            timeout: float | None = 1.0, *, select: bool = True):
    """A connection to the server the cfg names at ``host:port`` (db ``db``), in the
    script's Redis mode; raises :class:`RedisIOError` when a real server is unreachable."""
    host, port, db, password = target(script, host, port, db, password)
    note_used(script, host, port, db, password)
    if mode(script) == "embedded":
        return FakeConnection(fake_server(script, host, port), db, password)
    return RawConnection(host, port, db, password, timeout, select=select)


def note_used(script, host: str, port: int, db: int, password: str | None) -> None:
    """Remember a (real or embedded) server/db the script uses (for :func:`dump`)."""
    used = getattr(script, "_kscript_redis_used", None)
    if used is None:
        used = []
        try:
            script._kscript_redis_used = used
        except AttributeError:  # pragma: no cover
            return
    item = (host, port, db, password)
    if item not in used:
        used.append(item)


def redis_py_client(script, host: str, port: int, db: int = 0, password: str | None = None):
    """A redis-py client (``decode_responses=True``) for a server the cfg names, in the
    script's mode (a FakeRedis on the shared embedded server in embedded mode)."""
    host, port, db, password = target(script, host, port, db, password)
    if mode(script) == "embedded":
        import fakeredis
        return fakeredis.FakeRedis(server=fake_server(script, host, port), db=db, password=password or None,
                                   decode_responses=True)
    import redis
    return redis.Redis(host=host, port=port, db=db, password=password, decode_responses=True)


def dump_client(client) -> dict:
    """The whole keyspace of a redis-py client's db as ``{key: {"type", "value", "ttl"}}``
    (hash -> dict, set -> sorted list, list -> list, zset -> [[member, score]...], string)."""
    def s(x):
        return x.decode("utf-8", "backslashreplace") if isinstance(x, bytes) else x

    out: dict[str, Any] = {}
    keys = sorted(s(k) for k in client.scan_iter(match="*", count=1000))
    for key in keys:
        t = s(client.type(key))
        if t == "string":
            v = s(client.get(key))
        elif t == "hash":
            v = dict(sorted((s(k), s(x)) for k, x in client.hgetall(key).items()))
        elif t == "list":
            v = [s(x) for x in client.lrange(key, 0, -1)]
        elif t == "set":
            v = sorted(s(x) for x in client.smembers(key))
        elif t == "zset":
            v = [[s(m), sc] for m, sc in client.zrange(key, 0, -1, withscores=True)]
        else:
            v = None
        out[key] = {"type": t, "value": v, "ttl": client.ttl(key) >= 0}
    return out


def dump(script, index: int = 0) -> dict | None:
    """The keyspace of the ``index``-th server/db the script used (first used by default),
    or None when the script used no Redis."""
    used = getattr(script, "_kscript_redis_used", None)
    if not used or index >= len(used):
        return None
    host, port, db, password = used[index]
    if mode(script) == "embedded":
        import fakeredis
        client = fakeredis.FakeRedis(server=fake_server(script, host, port), db=db, password=password or None,
                                     decode_responses=True)
    else:
        import redis
        client = redis.Redis(host=host, port=port, db=db, password=password, decode_responses=True)
    try:
        return dump_client(client)
    finally:
        client.close()
