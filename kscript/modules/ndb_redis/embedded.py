"""The embedded Redis of kscript (``redis="embedded"``, the default): fakeredis, in-process.

One :class:`fakeredis.FakeServer` stands for each distinct server *address* of
the cfg (``addr:port``, or the unix path, or the sentinel group), so two
``server`` entries with the same address and different ``db`` share a keyspace
per db index exactly as on a real Redis, and servers at different addresses are
separate.  With ``cluster=1`` all servers are one keyspace (a cluster is one
logical database; no ``MOVED`` happens).

Commands go through the same path as against a real server: the same
hiredis-compatible formatting into protocol bytes, parsed by fakeredis's own
command parser, and the reply kept with its exact type (status vs string).
A blocking command that would wait longer than ``cmd_timeout`` (``BLPOP k 0``)
gets no reply, as the real client would time out; nothing sleeps.

A server can be made unreachable for fault tests with
``module.embedded.server_for(name).connected = False``.

:func:`EmbeddedRedis.seed` / ``Script.seed_redis(path)`` run a file of Redis
commands (see :func:`parse_seed`).
"""

from __future__ import annotations

import queue
import shlex

import fakeredis
import redis as redis_py
from fakeredis._helpers import SimpleError, SimpleString
from fakeredis._socket._fakesocket import FakeSocket

from .command import FORMAT_ERROR
from .connection import EOF_TEXT, FORMAT_TEXT, TIMEOUT_TEXT, ConnectError
from .replies import NIL, ErrorReply, Status

try:  # the registry shared by kscript's Redis modules
    from ... import redis_backend as _backend
except ImportError:  # pragma: no cover
    _backend = None

REDIS_VERSION = (7, 0)


def _registry(script) -> dict:
    """The script's ``{address: FakeServer}`` registry (shared with db_redis when available)."""
    if script is None:
        return {}
    if _backend is not None:
        return _backend.fake_servers(script)
    reg = getattr(script, "_kscript_fake_servers", None)
    if reg is None:
        reg = script._kscript_fake_servers = {}
    return reg


class _NoReply(Exception):
    """A blocking command outlived the command timeout: the client gets no reply."""


class _KsFakeSocket(FakeSocket):
    """fakeredis's socket, keeping status/error replies typed as hiredis does."""

    _ks_timeout: float | None = 1.0

    def _decode_result(self, result):
        t = type(result)
        if t is bytes or t is int:
            return result
        if result is None:
            return NIL
        if t is list:
            conv = self._decode_result
            return [conv(x) for x in result]
        if isinstance(result, SimpleString):
            return Status(result.value)
        if isinstance(result, SimpleError):
            return ErrorReply(result.value)
        if t is bool:
            return int(result)
        if t is float:
            return repr(result).encode()
        if isinstance(result, str):
            return result.encode("utf-8", "surrogateescape")
        if isinstance(result, (tuple, set, frozenset)):
            conv = self._decode_result
            return [conv(x) for x in result]
        if isinstance(result, dict):
            out = []
            for k, v in result.items():
                out.append(self._decode_result(k))
                out.append(self._decode_result(v))
            return out
        return result

    _ks_fields = None

    def _process_command(self, fields):
        self._ks_fields = fields
        try:
            super()._process_command(fields)
        finally:
            self._ks_fields = None

    def _unknown_command(self, command, args=None):
        """Redis 7.0's text: original case, the first arguments quoted (fakeredis lower-cases)."""
        fields = self._ks_fields
        if not fields:
            return super()._unknown_command(command, args)
        name = fields[0].decode("utf-8", "replace").replace("\r", " ").replace("\n", " ")
        rest = ""
        for f in fields[1:]:
            if len(rest) >= 128:
                break
            rest += "'" + f[:128 - len(rest)].decode("utf-8", "replace") + "' "
        return SimpleError(f"ERR unknown command '{name[:128]}', with args beginning with: {rest}")

    def _blocking(self, timeout, func, shape=None):
        ret = func(True)
        if ret is not None or self._in_transaction:
            return ret if shape is None else shape(ret)
        cap = self._ks_timeout
        if not timeout or (cap and timeout > cap):
            raise _NoReply
        # nobody else can push meanwhile: the command's own timeout expires (without sleeping)
        return None if shape is None else shape(None)


class EmbeddedTransport:
    """One connection to a fake server (same interface as SocketTransport)."""

    __slots__ = ("sock", "err", "errstr", "obuf", "responses")

    def __init__(self, server: fakeredis.FakeServer, timeout: float | None):
        self.sock = _KsFakeSocket(server, db=0, client_class=redis_py.Redis)
        self.sock._ks_timeout = timeout
        self.responses = self.sock.responses
        self.err = False
        self.errstr = ""
        self.obuf: list[bytes] = []

    def _fail(self, text: str) -> None:
        self.err = True
        self.errstr = text
        self.obuf = []
        try:
            self.sock.close()
        except Exception:
            pass

    def _send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except _NoReply:
            self._fail(TIMEOUT_TEXT)
        except (redis_py.ConnectionError, StopIteration, AttributeError, TypeError):
            self._fail(EOF_TEXT)
        return False

    def _next(self):
        try:
            return self.responses.get_nowait()
        except (queue.Empty, AttributeError):
            self._fail(TIMEOUT_TEXT)
            return None

    def call(self, packed):
        if self.err:
            return None
        if packed is FORMAT_ERROR:
            self.err = True
            self.errstr = FORMAT_TEXT
            return None
        if not self._send(packed):
            return None
        return self._next()

    def append(self, packed: bytes) -> None:
        self.obuf.append(packed)

    def get_reply(self):
        if self.err:
            return None
        if self.obuf:
            data = b"".join(self.obuf)
            self.obuf = []
            if not self._send(data):
                return None
        return self._next()

    def close(self) -> None:
        if not self.err:
            self._fail("closed")


class EmbeddedRedis:
    """The fake servers of one script, by address."""

    def __init__(self, script=None, cluster: bool = False):
        self.script = script
        self.cluster = cluster
        self.servers: dict[str, fakeredis.FakeServer] = _registry(script)
        self._clients: dict[tuple[str, int], fakeredis.FakeRedis] = {}

    @staticmethod
    def key_of(spec, cluster: bool = False) -> str:
        if cluster:
            return "cluster"
        if spec.sentinels:
            return f"sentinel:{spec.sentinel_group}"
        if spec.unix:
            return f"unix:{spec.unix}"
        return f"{spec.addr}:{spec.port}"

    def fake_server(self, spec) -> fakeredis.FakeServer:
        key = self.key_of(spec, self.cluster)
        fs = self.servers.get(key)
        if fs is None and _backend is not None and self.script is not None and key == f"{spec.addr}:{spec.port}":
            # shared with the other Redis modules of the script (db_redis), clocked like them
            fs = _backend.fake_server(self.script, spec.addr, spec.port, spec.password)
        if fs is None:
            config = {}
            if spec.password is not None:
                config[b"requirepass"] = spec.password.encode("utf-8", "surrogateescape")
            fs = fakeredis.FakeServer(version=REDIS_VERSION, config=config or None)
            self.servers[key] = fs
        return fs

    def client(self, spec) -> fakeredis.FakeRedis:
        fs = self.fake_server(spec)
        db = 0 if self.cluster else spec.db
        key = (self.key_of(spec, self.cluster), db)
        c = self._clients.get(key)
        if c is None:
            c = fakeredis.FakeRedis(server=fs, db=db, decode_responses=True)
            self._clients[key] = c
        return c

    def close(self) -> None:
        for c in self._clients.values():
            try:
                c.close()
            except Exception:
                pass
        self._clients.clear()


class EmbeddedConnector:
    """Opens :class:`EmbeddedTransport` connections for servers."""

    def __init__(self, settings, embedded: EmbeddedRedis):
        self.settings = settings
        self.embedded = embedded

    def target(self, server):
        spec = server.spec
        return spec.addr, spec.port, spec.unix, False, spec.password

    def open(self, server, addr, port, unix, tls) -> EmbeddedTransport:
        fs = self.embedded.fake_server(server.spec)
        if not fs.connected:
            raise ConnectError("Connection refused")
        s = self.settings
        cmt = server.spec.command_timeout if server.spec.command_timeout is not None else s.cmd_timeout
        return EmbeddedTransport(fs, cmt / 1000.0 if cmt else None)


def parse_seed(text: str) -> list[tuple[str | None, list[str]]]:
    """A seed file: one Redis command per line, shell-like quoting (``SET k "a b"``).

    Blank lines and lines starting with ``#`` are skipped.  A line ``@NAME`` sends
    the following commands to the ndb_redis server NAME (default: the first
    server of the cfg).  ``SELECT n`` switches the database for the lines after
    it, up to the next ``@`` line.  Returns ``[(server or None, argv), ...]``
    where a ``(NAME, [])`` item marks a server switch.
    """
    out: list[tuple[str | None, list[str]]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            out.append((line[1:].strip(), []))
            continue
        try:
            argv = shlex.split(line, posix=True)
        except ValueError as e:
            raise ValueError(f"line {lineno}: {e}") from None
        if argv:
            out.append((None, argv))
    return out
