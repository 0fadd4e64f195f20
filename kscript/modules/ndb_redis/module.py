"""ndb_redis: Redis commands from the script (Kamailio 5.6 ``ndb_redis.so``).

Functions (every parameter a PV format, evaluated per call):

* ``redis_cmd(srv, cmd[, a1[, a2[, a3]]], replyid)`` -> 1 / -1
* ``redis_pipe_cmd(...)`` (same forms) -> 1 queued / -1
* ``redis_execute(srv)`` -> 1 / -1 / -2 (server disabled)
* ``redis_free(replyid)`` -> 1 / -1

PVs: ``$redis(replyid=>type|value|info|size|value[i]|type[i]|value[i]=>...)``
and ``$redisd(rpl_str|rpl_arr|rpl_int|rpl_nil|rpl_sts|rpl_err)``.

Where the servers are (``Script.redis_mode``, the ``redis=`` argument of
``kscript.load``):

* ``"embedded"`` (default): fakeredis in-process, one fake server per address
  of the cfg (see :mod:`.embedded`); nothing listens, nothing is needed;
* ``"cfg"``: the addresses of the cfg, as Kamailio would connect;
* a URL (``redis://[:pass@]host:port``, ``rediss://...`` for TLS,
  ``unix:///path``): every server of the cfg is redirected there, each keeping
  its own ``db`` index (a password in the URL replaces the cfg's).

Connections are opened at load time like Kamailio's ``child_init``: with
``init_without_redis=0`` a server that cannot be reached makes ``kscript.load``
raise :class:`~kscript.errors.ConfigError`, as Kamailio refuses to start.
Start-up log lines are kept in :attr:`NdbRedisModule.init_log`.

Deliberate differences to Kamailio 5.6.3 (documented in the report and tests):

* ``init_without_redis=1`` behaves as in Kamailio 6.1+: every server is tried
  and a server that failed is reconnected when used; 5.6.3 stops initialising at
  the first failing server, leaving the servers declared before it without a
  connection for good;
* the parameters ``ca_path`` (5.8+) and ``debug`` (5.7+) and the server
  attributes ``tls``, ``connect_timeout``, ``command_timeout`` are understood
  (Kamailio 5.6.3 refuses the parameters and ignores the attributes);
* a server created from a cluster ``MOVED`` reply (``allow_dynamic_nodes``)
  inherits the password and TLS setting of the server that got the reply;
* sentinels are asked in order and the first answer is used;
* all replies of a pipeline are read even when they did not arrive in one read;
* a command whose format has ``%b``, a printf conversion (``%d``...) or more
  ``%s`` than arguments (undefined behaviour in Kamailio: garbage or a crash) is
  refused with an error log and -1 instead of being sent;
* the command timeout also applies to ``AUTH`` during a connect;
* DBG-level lines of ndb_redis (pointer values, reply dumps) are not produced.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ...errors import ConfigError, KscriptError
from ...pv.base import PVClass
from ..base import Module, Param, function
from .command import FORMAT_ERROR, Plan, compile_format, has_arg_specifier, pack_text
from .connection import Connector, Server, Settings, moved_target
from .params import ServerSpec, ServerSpecError, parse_server
from .replies import (KEY_VALUE, REDISD_NAMES, Box, ErrorReply, IndexNotInt, _int32, parse_accessor,
                      read_accessor)

SRC = "ndb_redis"
MAXIMUM_PIPELINED_COMMANDS = 1000
# evaluated command texts kept with their protocol bytes or plan (texts built from changing
# PV values would only churn the cache: the first ones, the constant ones of the cfg, stay)
COMMAND_CACHE_LIMIT = 4096
_PASS_RE = re.compile(r"(pass\s*=\s*)(\"[^\"]*\"|'[^']*'|[^;]*)")


def mask_password(spec: str) -> str:
    """A ``server`` value with its password replaced by ``***``."""
    return _PASS_RE.sub(lambda m: m.group(1) + "***", spec)


class RedirectURL:
    """The ``redis=URL`` mode: where every server goes."""

    __slots__ = ("host", "port", "unix", "tls", "password", "text")

    def __init__(self, url: str):
        u = urlsplit(url)
        if u.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"unknown redis URL scheme '{u.scheme}' (redis://, rediss://, unix://)")
        self.tls = u.scheme == "rediss"
        self.unix = unquote(u.path) if u.scheme == "unix" else None
        self.host = u.hostname or "127.0.0.1"
        try:
            self.port = u.port or 6379
        except ValueError:
            raise ValueError(f"bad port in redis URL '{mask_url(url)}'") from None
        self.password = unquote(u.password) if u.password is not None else None
        if self.password is None and u.username and not u.password and "@" in u.netloc:
            self.password = None
        self.text = mask_url(url)

    def __repr__(self) -> str:
        return f"RedirectURL({self.text})"


def mask_url(url: str) -> str:
    return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)


# ---------------------------------------------------------------- PV classes
class _RedisName:
    __slots__ = ("rname", "keys", "box", "plain_value")

    def __init__(self, rname, keys):
        self.rname = rname
        self.keys = keys
        self.box = None
        # ``$redis(id=>value)``: the common read, done without the general accessor walk
        self.plain_value = keys == ((KEY_VALUE, -1),)


class RedisPV(PVClass):
    """``$redis(replyid=>key...)``: read a stored reply (read-only)."""

    name = "redis"
    takes_name = True

    def parse_name(self, inner, compiler):
        if inner is None:
            raise ValueError("$redis needs a name: $redis(replyid=>key)")
        rname, keys = parse_accessor(inner, compiler)
        return _RedisName(rname, keys)

    def get(self, ctx, name, idx):
        box = name.box
        if box is None:
            box = name.box = self.module.get_box(name.rname)
        r = box.reply
        if r is None:
            return None
        if name.plain_value:
            t = type(r)
            if t is bytes:
                return r.decode("utf-8", "surrogateescape")
            if t is int:
                return r if -2147483648 <= r <= 2147483647 else _int32(r)
            return None
        try:
            return read_accessor(ctx, r, name.keys)
        except IndexNotInt:
            ctx.log("ERR", "Could not convert PV to int", source="core")
            return None


class RedisdPV(PVClass):
    """``$redisd(rpl_str|...)``: the reply type constants."""

    name = "redisd"
    takes_name = True

    def parse_name(self, inner, compiler):
        if inner not in REDISD_NAMES:
            raise ValueError(f"unknown redisd name {inner}")
        return REDISD_NAMES[inner]

    def get(self, ctx, name, idx):
        return name


# ---------------------------------------------------------------- the module
class NdbRedisModule(Module):
    name = "ndb_redis"
    params = {
        "server": Param("str", None, multi=True),
        "init_without_redis": Param("int", 0),
        "connect_timeout": Param("int", 1000),
        "cmd_timeout": Param("int", 1000),
        "cluster": Param("int", 0),
        "allowed_timeouts": Param("int", -1),
        "disable_time": Param("int", 0),
        "flush_on_reconnect": Param("int", 0),
        "allow_dynamic_nodes": Param("int", 0),
        "debug": Param("int", 3),  # 5.7+
        "ca_path": Param("str", None),  # 5.8+
    }
    pv_classes = (RedisPV, RedisdPV)

    def __init__(self, script):
        super().__init__(script)
        self._param_pos: dict = {}
        self.servers: dict[str, Server] = {}
        self.server_list: list[Server] = []
        self.boxes: dict[str, Box] = {}
        # command text -> protocol bytes (no %s slot) or Plan / Undefined / FORMAT_ERROR
        self.commands: dict[str, object] = {}
        self.init_log: list = []
        self.settings: Settings | None = None
        self.connector = None
        self.embedded = None
        self.mode = "embedded"
        self._clients: dict = {}
        self.cluster = False

    # ------------------------------------------------------------ configuration
    def set_param(self, pname, value, pos=None):
        super().set_param(pname, value, pos)
        self._param_pos[pname] = pos
        if pname == "server":
            # never keep a password in clear text on the module
            vals = self.param_values["server"]
            v, p = vals[-1]
            self._raw_specs = getattr(self, "_raw_specs", [])
            self._raw_specs.append((v, p))
            vals[-1] = (mask_password(v), p)

    def _int_param(self, name: str, minimum: int | None = None) -> int:
        v = self.param_values[name]
        if minimum is not None and v < minimum:
            raise ConfigError(f"ndb_redis: parameter '{name}' must be >= {minimum}, not {v}",
                              self._param_pos.get(name))
        return v

    def init(self) -> None:
        mode = getattr(self.script, "redis_mode", None) or "embedded"
        self.mode = mode
        clock = getattr(self.script, "clock", None)
        self.settings = settings = Settings(
            connect_timeout=self._int_param("connect_timeout", 0),
            cmd_timeout=self._int_param("cmd_timeout", 0),
            cluster=self._int_param("cluster"),
            allowed_timeouts=self._int_param("allowed_timeouts"),
            disable_time=self._int_param("disable_time", 0),
            flush_on_reconnect=self._int_param("flush_on_reconnect"),
            allow_dynamic_nodes=self._int_param("allow_dynamic_nodes"),
            ca_path=self.param_values["ca_path"],
            clock=clock,
        )
        self.cluster = bool(settings.cluster)
        raw = getattr(self, "_raw_specs", [])
        self._raw_specs = []
        specs: list[tuple[ServerSpec, object]] = []
        for value, pos in raw:
            try:
                specs.append((parse_server(value), pos))
            except ServerSpecError as e:
                raise ConfigError(f"ndb_redis: bad 'server' parameter: {e}", pos) from None
        if not specs:
            raise ConfigError("ndb_redis: no redis servers defined (modparam \"server\")",
                              self._param_pos.get("server"))
        if mode == "embedded":
            from .embedded import EmbeddedConnector, EmbeddedRedis
            self.embedded = EmbeddedRedis(self.script, cluster=self.cluster)
            self.connector = EmbeddedConnector(settings, self.embedded)
        elif mode == "cfg":
            self.connector = Connector(settings)
        else:
            try:
                url = RedirectURL(str(mode))
            except ValueError as e:
                raise ConfigError(f"ndb_redis: redis mode must be 'embedded', 'cfg' or a redis:// URL: {e}") \
                    from None
            self.connector = Connector(settings, url)
        for spec, pos in specs:
            srv = Server(spec, settings, self.connector, pos)
            self.server_list.append(srv)
            self.servers[spec.name] = srv  # a later declaration shadows an earlier one
        init_without = self.param_values["init_without_redis"] == 1
        log = self._init_logger()
        # Kamailio prepends servers to its list: initialisation runs last-declared first
        for srv in reversed(self.server_list):
            err = srv.connect_initial(log)
            if err is None:
                continue
            if not init_without:
                log("ERR", "failed to initialize redis connections")
                self.close()
                raise ConfigError(f"ndb_redis: failed to initialize redis connections: {err} "
                                  "(init_without_redis=0: Kamailio does not start)", srv.pos)
            log("WARN", "failed to initialize redis connections, but initializing module anyway.")

    def _init_logger(self):
        from ...runtime.context import LEVELS, LogRecord

        def log(level, text):
            if LEVELS.get(level, 0) <= getattr(self.script, "debug_level", 0):
                self.init_log.append(LogRecord(level, text, SRC))
        return log

    def close(self) -> None:
        for srv in self.server_list:
            srv.close()
        for c in self._clients.values():
            try:
                c.close()
            except Exception:
                pass
        self._clients.clear()
        if self.embedded is not None:
            self.embedded.close()

    # ------------------------------------------------------------ helpers
    def get_box(self, name: str) -> Box:
        """The reply container ``name`` (created when missing, like ``redisc_get_reply``)."""
        box = self.boxes.get(name)
        if box is None:
            box = self.boxes[name] = Box(name)
        return box

    def server(self, name: str) -> Server:
        srv = self.servers.get(name)
        if srv is None:
            raise KscriptError(f"ndb_redis has no server named '{name}'")
        return srv

    @staticmethod
    def _logger(ctx):
        def log(level, text):
            ctx.log(level, text, source=SRC)
        return log

    def _pack(self, ctx, cmd: str, args: tuple, plan=None):
        """Protocol bytes for ``cmd`` with ``args``, FORMAT_ERROR, or None (refused, logged).

        ``plan`` is what :attr:`commands` holds for ``cmd`` (None: not compiled yet)."""
        if plan is None:
            if "%" not in cmd:
                plan = pack_text(cmd)
            else:
                plan = compile_format(cmd)
                if type(plan) is Plan and plan.packed is not None:
                    plan = plan.packed
            cache = self.commands
            if len(cache) < COMMAND_CACHE_LIMIT:
                cache[cmd] = plan
        t = type(plan)
        if t is bytes:
            return plan
        if t is Plan:
            if plan.nargs > len(args):
                ctx.log("ERR", f"command \"{cmd}\" has {plan.nargs} %s but {len(args)} argument(s): "
                               "undefined in Kamailio, not sent by kscript", source=SRC)
                return None
            return plan.pack(args)
        if plan is FORMAT_ERROR:
            return FORMAT_ERROR
        ctx.log("ERR", f"command \"{cmd}\" uses {plan.reason}: undefined in Kamailio, not sent by kscript",
                source=SRC)
        return None

    # ------------------------------------------------------------ redisc_exec
    def _packed(self, ctx, cmd: str, args: tuple) -> bytes | None:
        """The protocol bytes of a command (cached per evaluated text); None after an error log."""
        packed = self.commands.get(cmd)
        t = type(packed)
        if t is bytes:
            return packed
        if t is Plan and packed.nargs <= len(args):
            return packed.pack(args)
        return self._pack(ctx, cmd, args, packed)

    def _server_for(self, ctx, srv: str, res: str, cmd: str):
        """The server a command goes to, after redisc_exec's checks of the parameters
        (None, with the error logged, when one is empty or the server unknown)."""
        if not srv or not res or not cmd:
            ctx.log("ERR", "invalid parameters", source=SRC)
            return None
        server = self.servers.get(srv)
        if server is None:
            ctx.log("ERR", f"no redis server found: {srv}", source=SRC)
        return server

    def _exec(self, ctx, srv: str, res: str, cmd: str, args: tuple) -> int:
        server = self._server_for(ctx, srv, res, cmd)
        if server is None:
            return -1
        if server.pipe:
            ctx.log("NOTICE", "Calling redis_cmd with pipelined commands in the buffer. "
                              "Automatically call redis_execute", source=SRC)
            server.execute_pipeline(self._logger(ctx))
        if server.disabled and server.check_disabled(self._logger(ctx)):
            return -2
        box = self.boxes.get(res)
        if box is None:
            box = self.get_box(res)
        packed = self._packed(ctx, cmd, args)
        if packed is None:
            return -1
        box.reply = None
        conn = server.conn
        r = conn.call(packed) if conn is not None else None
        if r is None:
            log = self._logger(ctx)
            if server.reconnect(log) == 0:
                r = server.call(packed)
                if r is None:
                    server.count_error(log)
                    return -1
            else:
                server.count_error(log)
                log("ERR", f"unable to reconnect to redis server: {srv}")
                return -1
        box.reply = r
        if self.cluster:
            mt = moved_target(r)
            if mt is not None:
                log = self._logger(ctx)
                target = self._cluster_target(mt, server, log)
                if target is not None:
                    box.reply = None
                    r = target.call(packed)
                    if r is None:
                        if target.reconnect(log) == 0:
                            r = target.call(packed)
                            if r is None:
                                target.count_error(log)
                                return -1
                        else:
                            log("ERR", f"unable to reconnect to redis server: {srv}")
                            return -1
                    box.reply = r
                    server = target
        if type(r) is ErrorReply:
            ctx.log("ERR", "Redis error:" + r.decode("utf-8", "surrogateescape"), source=SRC)
            return -1
        server.consecutive_errors = 0
        return 0

    def _cluster_target(self, mt, server: Server, log) -> Server | None:
        """``check_cluster_reply``: the server to resend to, or None."""
        if isinstance(mt, str):
            log("ERR", mt)
            return None
        host, port = mt
        name = f"{host}:{port}"
        target = self.servers.get(name)
        if target is not None:
            return target
        if not self.settings.allow_dynamic_nodes:
            log("ERR", f"No Connection with name ({name})")
            return None
        orig = server.spec
        spec = ServerSpec(name=name, addr=host, port=port, password=orig.password, tls=orig.tls,
                          connect_timeout=orig.connect_timeout, command_timeout=orig.command_timeout,
                          dynamic=True)
        target = Server(spec, self.settings, self.connector)
        self.server_list.append(target)
        self.servers[name] = target
        if target.reconnect(log) == 0:
            return target
        log("ERR", f"ERROR connecting to the new server with name: {name}")
        return None

    # ------------------------------------------------------------ redisc_append_cmd
    def _append(self, ctx, srv: str, res: str, cmd: str, args: tuple) -> int:
        server = self._server_for(ctx, srv, res, cmd)
        if server is None:
            return -1
        if len(server.pipe) >= MAXIMUM_PIPELINED_COMMANDS:
            ctx.log("ERR", f"Too many pipelined commands, maximum is {MAXIMUM_PIPELINED_COMMANDS}", source=SRC)
            return -1
        box = self.get_box(res)
        packed = self._packed(ctx, cmd, args)
        if packed is None:
            return -1
        if packed is FORMAT_ERROR:
            ctx.log("ERR", f"Invalid redis command : {cmd}", source=SRC)
            return -1
        server.pipe.append((packed, box))
        return 0

    def _pipe_refused(self, ctx) -> bool:
        if self.cluster:
            ctx.log("ERR", "Pipelining is not supported if cluster parameter is enabled", source=SRC)
            return True
        return False

    # ------------------------------------------------------------ cfg functions
    @function("redis_cmd", "fmt", "fmt", "fmt")
    def redis_cmd3(self, ctx, srv, cmd, res):
        if "%" in cmd and has_arg_specifier(cmd):
            ctx.log("ERR", "command argument specifier found, but no params", source=SRC)
            return -1
        return 1 if self._exec(ctx, srv, res, cmd, ()) >= 0 else -1

    @function("redis_cmd", "fmt", "fmt", "fmt", "fmt")
    def redis_cmd4(self, ctx, srv, cmd, a1, res):
        return 1 if self._exec(ctx, srv, res, cmd, (a1,)) >= 0 else -1

    @function("redis_cmd", "fmt", "fmt", "fmt", "fmt", "fmt")
    def redis_cmd5(self, ctx, srv, cmd, a1, a2, res):
        return 1 if self._exec(ctx, srv, res, cmd, (a1, a2)) >= 0 else -1

    @function("redis_cmd", "fmt", "fmt", "fmt", "fmt", "fmt", "fmt")
    def redis_cmd6(self, ctx, srv, cmd, a1, a2, a3, res):
        return 1 if self._exec(ctx, srv, res, cmd, (a1, a2, a3)) >= 0 else -1

    @function("redis_pipe_cmd", "fmt", "fmt", "fmt")
    def redis_pipe_cmd3(self, ctx, srv, cmd, res):
        if self._pipe_refused(ctx):
            return -1
        return 1 if self._append(ctx, srv, res, cmd, ()) >= 0 else -1

    @function("redis_pipe_cmd", "fmt", "fmt", "fmt", "fmt")
    def redis_pipe_cmd4(self, ctx, srv, cmd, a1, res):
        if self._pipe_refused(ctx):
            return -1
        return 1 if self._append(ctx, srv, res, cmd, (a1,)) >= 0 else -1

    @function("redis_pipe_cmd", "fmt", "fmt", "fmt", "fmt", "fmt")
    def redis_pipe_cmd5(self, ctx, srv, cmd, a1, a2, res):
        if self._pipe_refused(ctx):
            return -1
        return 1 if self._append(ctx, srv, res, cmd, (a1, a2)) >= 0 else -1

    @function("redis_pipe_cmd", "fmt", "fmt", "fmt", "fmt", "fmt", "fmt")
    def redis_pipe_cmd6(self, ctx, srv, cmd, a1, a2, a3, res):
        if self._pipe_refused(ctx):
            return -1
        return 1 if self._append(ctx, srv, res, cmd, (a1, a2, a3)) >= 0 else -1

    @function("redis_execute", "fmt")
    def redis_execute(self, ctx, srv):
        if self._pipe_refused(ctx):
            return -1
        if not srv:
            ctx.log("ERR", "invalid parameters", source=SRC)
            return -1
        server = self.servers.get(srv)
        if server is None:
            ctx.log("ERR", f"no redis server found: {srv}", source=SRC)
            return -1
        rv = server.execute_pipeline(self._logger(ctx))
        return rv if rv else 1

    @function("redis_free", "fmt")
    def redis_free(self, ctx, res):
        if not res:
            ctx.log("ERR", "invalid parameters", source=SRC)
            return -1
        box = self.boxes.get(res)
        if box is None:
            return -1
        box.reply = None
        return 1

    # ------------------------------------------------------------ Python API
    def reply(self, name: str):
        """The raw stored reply of container ``name`` (None when empty)."""
        box = self.boxes.get(name)
        return None if box is None else box.reply

    def client(self, name: str):
        """A redis-py client (decoded strings) on the keyspace of server ``name``:
        fakeredis in the embedded mode, redis-py (``RedisCluster`` with ``cluster=1``) else."""
        srv = self.server(name)
        return self._client_for(srv, None if self.cluster else srv.spec.db)

    def _client_for(self, srv: Server, db: int | None):
        if self.embedded is not None:
            if db is None or db == srv.spec.db:
                return self.embedded.client(srv.spec)
            import copy
            spec = copy.copy(srv.spec)
            spec.db = db
            return self.embedded.client(spec)
        import redis as redis_py
        addr, port, unix, tls, password = self.connector.target(srv)
        key = (addr, port, unix, tls, db, self.cluster)
        c = self._clients.get(key)
        if c is not None:
            return c
        s = self.settings
        timeout = (s.cmd_timeout or 0) / 1000.0 or None
        kw = dict(password=password, decode_responses=True, socket_timeout=max(timeout or 0, 5.0),
                  socket_connect_timeout=max((s.connect_timeout or 0) / 1000.0, 5.0))
        if tls:
            kw.update(ssl=True, ssl_cert_reqs="required", ssl_check_hostname=False)
            if s.ca_path:
                kw["ssl_ca_path" if Path(s.ca_path).is_dir() else "ssl_ca_certs"] = s.ca_path
        if self.cluster:
            c = redis_py.RedisCluster(host=addr, port=port, **kw)
        elif unix:
            kw.pop("ssl", None)
            c = redis_py.Redis(unix_socket_path=unix, db=db or 0, **kw)
        else:
            c = redis_py.Redis(host=addr, port=port, db=db or 0, **kw)
        self._clients[key] = c
        return c

    def seed(self, path) -> int:
        """Run the Redis commands of file ``path`` (see :func:`.embedded.parse_seed`); returns
        how many ran.  Commands go to the first server of the cfg unless an ``@NAME`` line
        names another; ``SELECT n`` switches the database of the lines that follow."""
        from .embedded import parse_seed

        text = Path(path).read_text(encoding="utf-8")
        try:
            items = parse_seed(text)
        except ValueError as e:
            raise KscriptError(f"redis seed {path}: {e}") from None
        if not self.server_list:
            raise KscriptError("ndb_redis has no server to seed")
        srv = self.server_list[0]
        db = None if self.cluster else srv.spec.db
        n = 0
        for name, argv in items:
            if not argv:
                srv = self.server(name)
                db = None if self.cluster else srv.spec.db
                continue
            if argv[0].upper() == "SELECT" and len(argv) == 2 and not self.cluster:
                try:
                    db = int(argv[1])
                except ValueError:
                    raise KscriptError(f"redis seed {path}: bad SELECT {argv[1]!r}") from None
                continue
            client = self._client_for(srv, db)
            try:
                client.execute_command(*argv)
            except Exception as e:
                raise KscriptError(f"redis seed {path}: {' '.join(argv[:2])}...: {e}") from None
            n += 1
        return n
