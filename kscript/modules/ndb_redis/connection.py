"""Connections to Redis servers with ndb_redis's semantics (ndb/redis_client.c@5.6.3).

Two layers:

* a *transport* is one connection (a hiredis ``redisContext``):
  :class:`SocketTransport` speaks RESP2 over TCP, TLS or a unix socket with
  blocking sockets and ``SO_RCVTIMEO``/``SO_SNDTIMEO`` set to the command
  timeout, as hiredis does; the embedded mode has its own transport over
  fakeredis (:mod:`.embedded`).  A transport that met an I/O error is *errored*
  and fails every later call until it is replaced, like a hiredis context
  whose ``err`` is set.
* a :class:`Server` is one configured ``server`` (a ``redisc_server_t``): it
  connects (sentinel resolution, TLS, AUTH, PING, SELECT), reconnects, keeps
  the pipeline queue and the failure counter, and runs commands the way
  ``redisc_exec``/``redisc_exec_pipelined`` do: on a missing reply one full
  reconnect and one retry, failures counted and the server disabled for
  ``disable_time`` seconds once they exceed ``allowed_timeouts``, cluster
  ``MOVED`` replies followed once.  Log lines are Kamailio's.

Replies are parsed by :class:`~.replies.RespReader`, which keeps the status and
string types apart (hiredis-py's reader does not); redis-py is used for the
convenience clients (``Script.redis(name)``) only.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import struct
from typing import Callable

from .command import FORMAT_ERROR, pack_argv
from .params import ServerSpec
from .replies import NIL, ErrorReply, ProtocolError, RespReader, Status, _Incomplete, _parse

LogFn = Callable[[str, str], None]

# hiredis's error strings
EOF_TEXT = "Server closed the connection"
TIMEOUT_TEXT = os.strerror(errno.EAGAIN)  # "Resource temporarily unavailable"
CONNECT_TIMEOUT_TEXT = os.strerror(errno.ETIMEDOUT)  # "Connection timed out"
FORMAT_TEXT = "Invalid format string"


class ConnectError(Exception):
    """A connection could not be established; ``str()`` is hiredis's ``errstr``."""


# whole replies often seen, and their immutable values (a dict hit saves the parsing)
_COMMON = {b"+OK\r\n": Status(b"OK"), b"+QUEUED\r\n": Status(b"QUEUED"), b"+PONG\r\n": Status(b"PONG"),
           b"$-1\r\n": NIL, b"*-1\r\n": NIL, **{b":%d\r\n" % i: i for i in range(-1, 10)}}


def _errstr(e: BaseException) -> str:
    if isinstance(e, (socket.timeout, ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError)):
        return TIMEOUT_TEXT
    if isinstance(e, EOFError):
        return EOF_TEXT
    if isinstance(e, ProtocolError):
        return "Protocol error"
    if isinstance(e, OSError):
        if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            return TIMEOUT_TEXT
        if e.strerror:
            return e.strerror
    return str(e) or type(e).__name__


def _timeval(ms: int | None) -> bytes:
    ms = ms or 0
    return struct.pack("ll", ms // 1000, (ms % 1000) * 1000)


# ---------------------------------------------------------------- transports
class SocketTransport:
    """One connection to a real server (TCP, TLS or unix socket)."""

    __slots__ = ("sock", "reader", "err", "errstr", "obuf", "peer")

    def __init__(self, sock: socket.socket, peer: str = ""):
        self.sock = sock
        self.reader = RespReader()
        self.err = False
        self.errstr = ""
        self.obuf: list[bytes] = []
        self.peer = peer

    @classmethod
    def open(cls, addr: str, port: int, unix: str | None = None, *, ssl_ctx: ssl.SSLContext | None = None,
             connect_timeout: int | None = 1000, cmd_timeout: int | None = 1000) -> "SocketTransport":
        """Connect (``connect_timeout`` ms, 0/None = no limit); raise :class:`ConnectError`."""
        ct = connect_timeout / 1000.0 if connect_timeout else None
        sock = None
        try:
            if unix:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(ct)
                sock.connect(unix)
            else:
                sock = socket.create_connection((addr, port), timeout=ct)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ssl_ctx is not None:
                sock = ssl_ctx.wrap_socket(sock, server_hostname=None if _is_ip(addr) or unix else addr)
            sock.settimeout(None)
            if cmd_timeout:
                tv = _timeval(cmd_timeout)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        except socket.timeout:
            _close(sock)
            raise ConnectError(CONNECT_TIMEOUT_TEXT) from None
        except socket.gaierror as e:
            _close(sock)
            raise ConnectError(e.strerror or str(e)) from None
        except ssl.SSLError as e:
            _close(sock)
            raise ConnectError(f"SSL error: {e.reason or e}") from None
        except OSError as e:
            _close(sock)
            raise ConnectError(_errstr(e)) from None
        return cls(sock, unix or f"{addr}:{port}")

    def _fail(self, e: BaseException) -> None:
        self.err = True
        self.errstr = _errstr(e)
        self.obuf = []
        self.reader.clear()
        _close(self.sock)

    def _read(self):
        reader = self.reader
        r = reader.get() if reader.pos < len(reader.buf) else None
        if r is not None:
            return r
        recv = self.sock.recv
        while True:
            data = recv(65536)
            if not data:
                raise EOFError
            reader.feed(data)
            r = reader.get()
            if r is not None:
                return r

    def call(self, packed):
        """Send one command and read its reply; None on any error (the transport is then errored)."""
        if self.err:
            return None
        if packed is FORMAT_ERROR:
            self.err = True
            self.errstr = FORMAT_TEXT
            return None
        reader = self.reader
        try:
            sock = self.sock
            sock.sendall(packed)
            if reader.pos < len(reader.buf):
                return self._read()
            # fast path: nothing buffered before, the whole reply in one read
            data = sock.recv(65536)
            r = _COMMON.get(data)
            if r is not None:
                return r
            e = data.find(b"\r\n")
            if e > 0:
                t = data[0]
                if t == 36:  # $ bulk string
                    n = int(data[1:e])
                    if n >= 0 and e + n + 4 == len(data):
                        return data[e + 2:e + 2 + n]
                elif e + 2 == len(data):  # one line
                    if t == 58:  # :
                        return int(data[1:e])
                    if t == 43:  # +
                        return Status(data[1:e])
                    if t == 45:  # -
                        return ErrorReply(data[1:e])
            if not data:
                raise EOFError
            try:
                r, end = _parse(data, 0)
            except _Incomplete:
                reader.feed(data)
                return self._read()
            if end != len(data):
                reader.buf, reader.pos = data, end
            return r
        except (OSError, EOFError, ProtocolError, ValueError, IndexError) as e:
            self._fail(e if isinstance(e, (OSError, EOFError, ProtocolError)) else ProtocolError(str(e)))
            return None

    def append(self, packed: bytes) -> None:
        """Queue bytes to send with the next :meth:`get_reply` (``redisAppendFormattedCommand``)."""
        self.obuf.append(packed)

    def get_reply(self):
        """Flush the queued bytes and read one reply (``redisGetReply``); None on error."""
        if self.err:
            return None
        try:
            if self.obuf:
                data = b"".join(self.obuf)
                self.obuf = []
                self.sock.sendall(data)
            return self._read()
        except (OSError, EOFError, ProtocolError) as e:
            self._fail(e)
            return None

    def close(self) -> None:
        _close(self.sock)
        self.err = True
        self.errstr = self.errstr or "closed"


def _close(sock) -> None:
    if sock is None:
        return
    try:
        sock.close()
    except OSError:
        pass


def _is_ip(addr: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)
        return True
    except OSError:
        return False


def make_ssl_context(ca_path: str | None) -> ssl.SSLContext:
    """hiredis's ``redisCreateSSLContext(NULL, ca_path, ...)``: peer verified, no host name check.

    ``ca_path`` is a directory of hashed CA certificates (``openssl rehash``) or,
    for convenience, one PEM file; without it OpenSSL's default locations are used
    (``SSL_CERT_FILE``/``SSL_CERT_DIR`` are honoured).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    if ca_path:
        if os.path.isdir(ca_path):
            ctx.load_verify_locations(capath=ca_path)
        else:
            ctx.load_verify_locations(cafile=ca_path)
    else:
        ctx.set_default_verify_paths()
    return ctx


# ---------------------------------------------------------------- settings
class Settings:
    """Module-wide parameters a :class:`Server` needs."""

    def __init__(self, *, connect_timeout=1000, cmd_timeout=1000, cluster=0, allowed_timeouts=-1,
                 disable_time=0, flush_on_reconnect=0, allow_dynamic_nodes=0, ca_path=None,
                 clock=None):
        import time
        self.connect_timeout = connect_timeout
        self.cmd_timeout = cmd_timeout
        self.cluster = cluster
        self.allowed_timeouts = allowed_timeouts
        self.disable_time = disable_time
        self.flush_on_reconnect = flush_on_reconnect
        self.allow_dynamic_nodes = allow_dynamic_nodes
        self.ca_path = ca_path
        self.clock = clock or time.time
        self._ssl_ctx = None

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_ctx is None:
            self._ssl_ctx = make_ssl_context(self.ca_path)
        return self._ssl_ctx

    def ticks(self) -> int:
        """Kamailio's ``get_ticks()``: whole seconds."""
        return int(self.clock())


# ---------------------------------------------------------------- connectors
class Connector:
    """Opens transports for servers (real sockets); the embedded mode has its own."""

    def __init__(self, settings: Settings, url=None):
        self.settings = settings
        self.url = url  # RedirectURL or None

    def target(self, server: "Server") -> tuple[str, int, str | None, bool, str | None]:
        """(addr, port, unix, tls, password) to connect ``server`` to, sentinels resolved."""
        spec = server.spec
        if self.url is not None and not spec.dynamic:
            u = self.url
            pw = u.password if u.password is not None else spec.password
            return u.host, u.port, u.unix, u.tls, pw
        addr, port = spec.addr, spec.port
        if spec.sentinels:
            found = self.resolve_sentinel(spec)
            if found is not None:
                addr, port = found
        return addr, port, spec.unix, bool(spec.tls & 1), spec.password

    def open(self, server: "Server", addr, port, unix, tls) -> SocketTransport:
        s = self.settings
        ct = server.spec.connect_timeout if server.spec.connect_timeout is not None else s.connect_timeout
        cmt = server.spec.command_timeout if server.spec.command_timeout is not None else s.cmd_timeout
        return SocketTransport.open(addr, port, unix, ssl_ctx=s.ssl_context() if tls else None,
                                    connect_timeout=ct, cmd_timeout=cmt)

    def resolve_sentinel(self, spec: ServerSpec) -> tuple[str, int] | None:
        """Ask the sentinels for the master (``sentinel_master`` != 0) or a replica.

        Kamailio 5.6.3 asks every sentinel and keeps the last answer (and mangles the
        address of every sentinel but the first); kscript takes the first answer.
        """
        s = self.settings
        ssl_ctx = s.ssl_context() if spec.tls & 2 else None
        for host, port in spec.sentinels:
            try:
                t = SocketTransport.open(host, port, ssl_ctx=ssl_ctx, connect_timeout=s.connect_timeout,
                                         cmd_timeout=s.connect_timeout or 1000)
            except ConnectError:
                continue
            try:
                if spec.sentinel_master != 0:
                    r = t.call(pack_argv("SENTINEL", "get-master-addr-by-name", spec.sentinel_group))
                    if type(r) is list and len(r) == 2 and type(r[0]) is bytes and type(r[1]) is bytes:
                        return r[0].decode(), _atoi(r[1])
                else:
                    r = t.call(pack_argv("SENTINEL", "slaves", spec.sentinel_group))
                    if type(r) is list:
                        addr = port_ = None
                        for row in r:
                            if type(row) is not list:
                                continue
                            for k in range(0, len(row) - 1, 2):
                                key = row[k]
                                if key == b"ip":
                                    addr = row[k + 1].decode()
                                elif key == b"port":
                                    port_ = _atoi(row[k + 1])
                                    break
                        if addr is not None and port_ is not None:
                            return addr, port_
            finally:
                t.close()
        return None


def _atoi(b: bytes) -> int:
    from .params import _atoi as atoi
    return atoi(b.decode("ascii", "replace"))


# ---------------------------------------------------------------- servers
class Server:
    """One ``server`` of the cfg and its connection (``redisc_server_t``)."""

    def __init__(self, spec: ServerSpec, settings: Settings, connector, pos=None):
        self.spec = spec
        self.name = spec.name
        self.settings = settings
        self.connector = connector
        self.pos = pos
        self.conn = None  # transport; None = never connected (acts as an errored context)
        self.addr = spec.addr
        self.port = spec.port
        self.pipe: list[tuple[bytes, object]] = []  # (packed command, reply box)
        self.disabled = False
        self.restore_tick = 0
        self.consecutive_errors = 0

    def __repr__(self) -> str:
        return f"Server({self.spec!r})"

    # -------------------------------------------------------- connecting
    def where(self) -> str:
        return self.spec.where(self.addr, self.port)

    def _connect_sequence(self, log: LogFn, initial: bool) -> tuple[bool, str | None]:
        """connect, AUTH, PING, SELECT (and FLUSHALL on reconnects); (ok, errstr for err2)."""
        spec = self.spec
        addr, port, unix, tls, password = self.connector.target(self)
        self.addr, self.port = addr, port
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        try:
            conn = self.connector.open(self, addr, port, unix, tls)
        except ConnectError as e:
            if initial:
                log("ERR", f"Failed to create REDIS returned an error: {e}")
            return False, str(e)
        self.conn = conn
        if password is not None:
            r = conn.call(pack_argv("AUTH", password))
            if r is None or type(r) is ErrorReply:
                log("ERR", "Redis authentication error")
                if initial:
                    log("ERR", "Authentication failed.")
                return False, conn.errstr
        r = conn.call(b"*1\r\n$4\r\nPING\r\n")
        if r is None:
            if initial:
                log("ERR", f"Failed to send PING (REDIS returned {conn.errstr}).")
            return False, conn.errstr
        if not self.settings.cluster:
            r = conn.call(pack_argv("SELECT", str(spec.db)))
            if r is None:
                if initial:
                    log("ERR", f"Failed to send \"SELECT {spec.db}\" (REDIS returned \"{conn.errstr}\","
                               " and not in cluster mode).")
                return False, conn.errstr
        if not initial and self.settings.flush_on_reconnect:
            if conn.call(b"*1\r\n$8\r\nFLUSHALL\r\n") is None:
                return False, conn.errstr
        return True, None

    def connect_initial(self, log: LogFn) -> str | None:
        """``redisc_init`` for this server: None when connected, else the error text."""
        ok, errstr = self._connect_sequence(log, initial=True)
        if ok:
            return None
        msg = f"error communicating with redis server [{self.name}] {self.where()}: {errstr}"
        log("ERR", msg)
        return msg

    def reconnect(self, log: LogFn) -> int:
        """``redisc_reconnect_server``: 0 when connected again, -1 (with Kamailio's logs) when not."""
        ok, errstr = self._connect_sequence(log, initial=False)
        if ok:
            return 0
        log("ERR", f"error communicating with redis server [{self.name}] {self.where()}: {errstr}")
        log("ERR", f"failed to connect to redis server [{self.name}] {self.where()}")
        return -1

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -------------------------------------------------------- failures
    def check_disabled(self, log: LogFn) -> bool:
        """``redis_check_server``: True while disabled (re-enables once the time has passed)."""
        if self.disabled:
            if self.settings.ticks() > self.restore_tick:
                log("NOTICE", f"REDIS server {self.name} re-enabled")
                self.disabled = False
                self.consecutive_errors = 0
            else:
                return True
        return False

    def count_error(self, log: LogFn) -> None:
        """``redis_count_err_and_disable``."""
        s = self.settings
        if s.allowed_timeouts < 0:
            return
        self.consecutive_errors += 1
        if self.consecutive_errors > s.allowed_timeouts:
            self.disabled = True
            self.restore_tick = s.ticks() + s.disable_time
            log("WARN", f"REDIS server {self.name} disabled for {s.disable_time} seconds")

    # -------------------------------------------------------- commands
    def call(self, packed):
        conn = self.conn
        if conn is None:
            return None
        return conn.call(packed)

    def execute_pipeline(self, log: LogFn) -> int:
        """``redisc_exec_pipelined``: 0, -1, or -2 when disabled."""
        if self.check_disabled(log):
            self.pipe = []
            return -2
        pipe = self.pipe
        if not pipe:
            log("WARN", "call for redis_cmd without any pipelined commands")
            return -1
        first_box = pipe[0][1]
        first_box.reply = None
        data = b"".join([p for p, _ in pipe])

        def create() -> int:
            if self.conn is None or self.conn.err:
                if self.reconnect(log):
                    log("ERR", f"unable to reconnect to REDIS server: {self.name}")
                    return -1
            self.conn.append(data)
            return 0

        create()
        r = self.conn.get_reply() if self.conn is not None else None
        if r is None:
            if create() == 0:
                r = self.conn.get_reply()
                if r is None:
                    self.count_error(log)
                    log("ERR", "Unable to read reply")
                    self.pipe = []
                    return -1
            else:
                self.count_error(log)
                self.pipe = []
                return -1
        first_box.reply = r
        conn = self.conn
        for packed, box in pipe[1:]:
            box.reply = None
            r = conn.get_reply()
            if r is None:
                text = packed.decode("utf-8", "surrogateescape")
                log("ERR", f"Trying to read reply for command {text} but nothing in buffer!")
                continue
            box.reply = r
        self.pipe = []
        self.consecutive_errors = 0
        return 0


def moved_target(reply) -> tuple[str, int] | None | str:
    """Parse ``MOVED <slot> host:port`` as ndb_redis does; None when not a MOVED text.

    Returns ("host", port), or an error message string for a malformed one.
    """
    t = type(reply)
    if not (t is bytes or t is Status or t is ErrorReply):
        return None
    if len(reply) <= 7 or not reply.startswith(b"MOVED"):
        return None
    text = reply.decode("utf-8", "surrogateescape")
    colon = text.find(":")
    if colon < 0:
        return f"No Port in REDIS MOVED Reply ({text})"
    tail = text[colon + 1:]
    port = int(tail) if tail.isdigit() and tail.isascii() else 6379
    sp = text.find(" ", 6)
    if sp < 0:
        return f"No Host in REDIS MOVED Reply ({text})"
    return text[sp + 1:colon], port
