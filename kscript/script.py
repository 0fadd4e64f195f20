"""The public façade: a loaded configuration ready to process SIP messages.

>>> import kscript
>>> script = kscript.load("kamailio.cfg", defines=["WITH_X"], redis="embedded")  # doctest: +SKIP
>>> result = script.process(kscript.sip.request("OPTIONS", "sip:127.0.0.1"))      # doctest: +SKIP
>>> result.replies[0].status                                                        # doctest: +SKIP
200
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import nodes as N
from .errors import ConfigError, KscriptError, NotSupportedError, Position
from .modules import registry
from .runtime import gcpolicy
from .runtime.compiler import CallSlot, Compiler
from .runtime.context import LogRecord, MsgContext, Sent, Socket
from .runtime.signals import BreakSignal, ExitSignal, ReturnSignal
from .sip.message import SipMessage, normalize_line_endings
from .sip.uri import parse_uri

DEFAULT_SRC = "udp:127.0.0.1:5060"
# Kamailio's faked message for event routes without a SIP message (core/fmsg.c@5.6.3:31)
FAKED_SIP_MSG = ("OPTIONS sip:you@kamailio.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n"
                 "From: <sip:you@kamailio.org>;tag=123\r\nTo: <sip:you@kamailio.org>\r\nCall-ID: 123\r\n"
                 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")


# ---------------------------------------------------------------- results
@dataclass
class Result:
    """What processing one message did."""

    sent: list[Sent] = field(default_factory=list)
    log: list[LogRecord] = field(default_factory=list)
    exit_code: int | None = None  # value the script ended with
    dropped: bool = False
    ctx: MsgContext | None = None

    @property
    def replies(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "reply"]

    @property
    def requests(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "request"]

    @property
    def db_full_scans(self) -> int:
        """How many DB queries of this message had to scan a whole table (db_redis)."""
        return self.ctx.data.get("db_full_scans", 0) if self.ctx is not None else 0

    def to_dict(self) -> dict:
        """The ``kscript run --json`` object for this message."""
        return {"sent": [s.to_dict() for s in self.sent], "log": [r.to_dict() for r in self.log]}


class RouteRef:
    """A route block compiled lazily (routes may call routes defined later)."""

    __slots__ = ("kind", "name", "block", "fn", "script")

    def __init__(self, script, kind: str, name: str | None, block: N.RouteBlock | None):
        self.script = script
        self.kind = kind
        self.name = name
        self.block = block
        self.fn = None

    def run(self, ctx) -> int:
        """Run as ``route(NAME)``: return/break are absorbed, exit propagates."""
        fn = self.fn
        if fn is None:
            fn = self.fn = self.script._compile_route(self)
        tracer = self.script.tracer
        if tracer is not None:
            return self._run_traced(ctx, fn, tracer)
        try:
            return fn(ctx)
        except ReturnSignal as r:
            return r.value
        except BreakSignal:
            return 0

    def _run_traced(self, ctx, fn, tracer) -> int:
        tracer.on_route_enter(ctx, self.kind, self.name)
        try:
            v = fn(ctx)
            how = "return"
        except ReturnSignal as r:
            v, how = r.value, "return"
        except BreakSignal:
            v, how = 0, "break"
        except ExitSignal as x:
            tracer.on_route_exit(ctx, self.kind, self.name, "drop" if x.drop else "exit", x.value)
            raise
        tracer.on_route_exit(ctx, self.kind, self.name, how, v)
        return v


# ---------------------------------------------------------------- the script
class Script:
    """A configuration loaded into kscript (use :func:`kscript.load`)."""

    def __init__(self, path: str, defines: list[str] | tuple[str, ...] = (), *, redis: str = "embedded",
                 mocks: dict | None = None, clock=None, tracer=None):
        from .check import check_file

        self.path = str(path)
        self.defines = list(defines)
        self.redis_mode = redis
        self.clock = clock or time.time
        self.tracer = tracer  # kscript.runtime.tracing.Tracer or None
        report = check_file(path, defines)
        if not report.ok:
            raise report.errors[0]
        self.report = report
        self.config: N.Config = report.config
        self.smap = report.smap
        self.core_params: dict[str, Any] = {}
        self.cfg_vars: dict[str, Any] = {}
        self.listen: list[Socket] = []
        self.aliases: list[tuple[str, int | None]] = []
        self.flag_names: dict[str, int] = {}
        self.modules: dict[str, Any] = {}  # kamailio module name -> kscript Module instance
        self.loaded: list[str] = []  # every loadmodule'd name, in order
        self.routes: dict[tuple[str, str | None], RouteRef] = {}
        self.vars: dict[str, Any] = {}  # $var
        self.shv: dict[str, Any] = {}
        self.vns: dict[str, Any] = {}  # $vn
        self.defines_map: dict[str, str | None] = report.defines_map
        self.mocks: dict[str, Any] = {}
        self._pv_classes: dict[str, Any] = {}
        self._unresolved: dict[str, list[Position]] = {}
        self._slots: dict[str, list[CallSlot]] = {}
        self._msg_seq = 0
        self._setup()
        for name, spec in (mocks or {}).items():
            self.mock(name, **(spec if isinstance(spec, dict) else {"returns": spec}))

    # ------------------------------------------------------------ set-up
    def _setup(self) -> None:
        self._add_module("core")
        for item in self.config.items:
            if isinstance(item, N.LoadModule):
                self.loaded.append(item.module)
                self._add_module(item.module)
        for item in self.config.items:
            if isinstance(item, N.CoreParam):
                self.core_params[item.name] = item.value
            elif isinstance(item, N.CfgVar):
                self.cfg_vars[f"{item.group}.{item.name}"] = item.value
            elif isinstance(item, N.Listen):
                self._add_listen(item)
            elif isinstance(item, N.FlagsDecl):
                for i, (fname, num) in enumerate(item.names):
                    self.flag_names[fname] = num if num is not None else len(self.flag_names)
            elif isinstance(item, N.ModParam):
                self._apply_modparam(item)
            elif isinstance(item, N.RouteBlock):
                key = (item.kind, item.name)
                self.routes[key] = RouteRef(self, item.kind, item.name, item)
        if not self.listen:
            self.listen.append(Socket("udp", "127.0.0.1", 5060))
        self.debug_level = int(self.core_params.get("debug", 0)) if isinstance(self.core_params.get("debug", 0), int) else 0
        mwl = self.core_params.get("max_while_loops", 100)
        self.max_while_loops = mwl if isinstance(mwl, int) else 100
        for mod in self.modules.values():
            mod.init()
        self.compiler = Compiler(self)
        for ref in list(self.routes.values()):
            ref.fn = self._compile_route(ref)
        self.startup_log: list[LogRecord] = []
        for mod in self.modules.values():
            if hasattr(mod, "post_compile"):
                mod.post_compile()
        if ("event", "core:worker-one-init") in self.routes and not self._unresolved:
            res = self.run_event_route("core:worker-one-init")
            self.startup_log.extend(res.log)

    def _add_module(self, name: str) -> None:
        if name in self.modules:
            return
        cls = registry.module_class(name)
        if cls is None:
            return
        inst = cls(self)
        self.modules[name] = inst
        for pvcls in cls.pv_classes:
            self._pv_classes.setdefault(pvcls.name, pvcls(inst))

    def _add_listen(self, item: N.Listen) -> None:
        text = str(item.socket)
        if item.kind == "alias":
            host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
            self.aliases.append(((host or text).lower(), int(port) if port.isdigit() else None))
            return
        try:
            self.listen.append(Socket.parse(text))
        except ValueError:
            raise ConfigError(f"bad listen address '{text}'", item.pos) from None

    def _apply_modparam(self, item: N.ModParam) -> None:
        import re
        rx = re.compile(f"^({item.module})$", re.I)
        for name in self.loaded:
            if rx.match(name):
                mod = self.modules.get(name)
                if mod is None:
                    continue  # not emulated: its functions are reported when used
                mod.set_param(item.param, item.value, item.pos)

    def _compile_route(self, ref: RouteRef):
        if ref.block is None:
            return lambda ctx: 1
        return self.compiler.route_body(ref.block.body.body)

    # ------------------------------------------------------------ resolver API (compiler)
    def pv_class(self, name: str):
        cls = self._pv_classes.get(name)
        if cls is None:
            from .catalogue import load as load_catalogue
            if load_catalogue().pv_class(name, self.loaded) is not None:
                raise NotSupportedError(f"pseudo-variable class ${name} is not supported by kscript yet")
        return cls

    def route_ref(self, kind: str, name: str, pos: Position | None) -> RouteRef:
        ref = self.routes.get((kind, name))
        if ref is None:
            raise ConfigError(f"route \"{name}\" not found", pos)
        return ref

    def bind_call(self, call: N.Call, compiler: Compiler):
        """Find the implementation of a call site and prepare its arguments (fixups)."""
        from .runtime.fixups import prepare_args

        n = len(call.args)
        for modname in ["core"] + self.loaded:
            mod = self.modules.get(modname)
            if mod is None:
                continue
            for fd in _defs_of(mod):
                if fd.name == call.name and fd.nparams == n:
                    impl = getattr(mod, fd.attr)
                    getters = prepare_args(call, fd.kinds, compiler, self)
                    slot = CallSlot(call.name, fd, impl, modname, core=(modname == "core"))
                    self._slots.setdefault(call.name, []).append(slot)
                    if call.name in self.mocks:
                        slot.impl = self.mocks[call.name].as_impl()
                    return slot, getters
        # known to Kamailio (the checker said so) but not emulated: resolvable by a mock
        from .runtime.fixups import prepare_args_any
        getters = prepare_args_any(call, compiler, self)
        slot = CallSlot(call.name, None, _unresolved_impl(call.name), None, unresolved=True)
        self._slots.setdefault(call.name, []).append(slot)
        if call.name in self.mocks:
            slot.impl = self.mocks[call.name].as_impl()
            slot.unresolved = False
        else:
            self._unresolved.setdefault(call.name, []).append(call.pos)
        return slot, getters

    def compile_select(self, e: N.SelectRef, compiler: Compiler):
        text = e.text
        if text.startswith("@cfg_get."):
            key = text[len("@cfg_get."):]
            return lambda ctx: self.cfg_vars.get(key)
        raise NotSupportedError(f"select '{text}' is not supported by kscript", e.pos)

    # ------------------------------------------------------------ myself
    def ip_is_myself(self, ip: str) -> bool:
        ip = ip.strip("[]")
        return any(s.ip == ip for s in self.listen)

    def host_is_myself(self, host: str, port: int | None, proto: str | None = None) -> bool:
        host = host.strip("[]").lower()
        for s in self.listen:
            if s.ip.lower() == host and (port is None or port == s.port):
                return True
        for h, p in self.aliases:
            if h == host and (p is None or port is None or p == port):
                return True
        return False

    def uri_is_myself(self, uri: str) -> bool:
        try:
            u = parse_uri(uri)
        except KscriptError:
            return False
        port = int(u.port) if u.port else (5061 if u.scheme == "sips" else 5060)
        return self.host_is_myself(u.host, port)

    # ------------------------------------------------------------ mocks
    def mock(self, name: str, returns=1, sets: dict | None = None, headers=None, side_effect=None):
        """Replace function ``name`` (emulated or not) by a mock; returns the :class:`Mock`
        (its ``calls`` records the evaluated arguments of every call)."""
        from .runtime.mocks import Mock
        m = Mock(self, name, returns=returns, sets=sets or {}, headers=headers, side_effect=side_effect)
        self.mocks[name] = m
        for slot in self._slots.get(name, []):
            slot.impl = m.as_impl()
            slot.unresolved = False
        self._unresolved.pop(name, None)
        return m

    def unresolved_functions(self) -> dict[str, list[Position]]:
        """Functions the cfg uses that kscript does not emulate and no mock covers."""
        return dict(self._unresolved)

    def ensure_runnable(self) -> None:
        if self._unresolved:
            names = ", ".join(f"{n} ({ps[0]})" for n, ps in sorted(self._unresolved.items()))
            raise NotSupportedError(
                f"the config calls functions kscript does not emulate: {names}; mock them "
                f"(--mock NAME=RET, or script.mock(...)) to run it")

    # ------------------------------------------------------------ processing
    def new_context(self, msg, src: str | Socket = DEFAULT_SRC, route_type: str = "request") -> MsgContext:
        src_sock = src if isinstance(src, Socket) else _parse_socket(src)
        rcv = self.listen[0]
        for s in self.listen:
            if s.proto == src_sock.proto:
                rcv = s
                break
        self._msg_seq += 1
        return MsgContext(self, msg, src_sock, rcv, route_type=route_type, received_at=self.clock())

    def process(self, message, src: str | Socket = DEFAULT_SRC) -> Result:
        """Run one SIP message (text, bytes or SipMessage) through the cfg, as Kamailio
        would on receiving it from ``src``."""
        self.ensure_runnable()
        if isinstance(message, SipMessage):
            msg = message
        else:
            if isinstance(message, (bytes, bytearray)):
                message = bytes(message).decode("utf-8", "surrogateescape")
            msg = SipMessage.parse(normalize_line_endings(message))
        if msg.is_request:
            ctx = self.new_context(msg, src, "request")
            ref = self.routes.get(("request", None))
        else:
            ctx = self.new_context(msg, src, "reply")
            tm = self.modules.get("tm")
            if tm is not None and hasattr(tm, "on_reply"):
                res = tm.on_reply(ctx)
                self._remember(res)
                return res
            ref = self.routes.get(("reply", None))
        res = Result(ctx=ctx)
        self._last_ctx = ctx
        # modules' pre-script callbacks (sl absorbs ACKs to its own replies)
        pre_mods, post_mods = self._hook_modules()
        skip = any(not mod.pre_script(ctx) for mod in pre_mods)
        forward = True
        if ref is not None and not skip:
            res.exit_code, res.dropped = code, dropped = self.run_top(ref, ctx)
            # receive_msg (core/receive.c@5.6.3:515,596): a negative code from the route
            if code is not None and code < 0:
                ctx.log("WARN", "error while trying script" if msg.is_request
                        else "error while trying onreply script", source="core")
                forward = False
            elif dropped or code == 0:
                forward = False  # a reply the reply_route dropped (or ended with 0)
        if msg.is_request and not skip:
            # modules' post-script callbacks (tm: delayed error replies, unreleased transactions)
            for mod in post_mods:
                mod.post_script(ctx)
        if not msg.is_request and not skip and forward:
            from .sip.output import forward_reply
            forward_reply(ctx)  # core stateless reply forwarding (no transaction module)
        res.sent = ctx.sent
        res.log = ctx.logs
        self._loopback(res)
        self._remember(res)
        return res

    _loop_depth = 0
    _hooks_cache: tuple | None = None

    def _hook_modules(self) -> tuple[tuple, tuple]:
        """The modules with a ``pre_script`` / ``post_script`` callback, in load order
        (recomputed when a module is added)."""
        mods = self.modules
        c = self._hooks_cache
        if c is None or c[0] is not mods or c[1] != len(mods):
            pre = tuple(m for m in mods.values() if callable(getattr(m, "pre_script", None)))
            post = tuple(m for m in mods.values() if callable(getattr(m, "post_script", None)))
            c = self._hooks_cache = (mods, len(mods), pre, post)
        return c[2], c[3]

    def _loopback(self, res: Result) -> None:
        """Messages sent to one of our own listen sockets come back as new datagrams
        (Kamailio sends them through the network): process them right away and merge
        what they did into ``res``; they are not "sent" to the outside."""
        sent = res.sent
        if not sent or all(s.kind != "request" for s in sent):
            return
        listen = {(l.proto, l.ip, l.port) for l in self.listen}

        def own(s):
            # Only requests: the default source (udp:127.0.0.1:5060) is also the default
            # listen socket, and its replies must reach the caller, not loop back.
            d = s.dst
            return s.kind == "request" and (d.proto, d.ip, d.port) in listen

        mine = [s for s in sent if own(s)]
        if not mine:
            return
        res.sent = [s for s in res.sent if not own(s)]
        res.log = list(res.log)
        for s in mine:
            if Script._loop_depth >= 16:
                res.log.append(LogRecord("WARN", "kscript: message loop to ourselves stopped after 16 hops",
                                         "core"))
                break
            Script._loop_depth += 1
            try:
                sub = self.process(s.text, src=s.src or self.listen[0])
            finally:
                Script._loop_depth -= 1
            res.sent.extend(sub.sent)
            res.log.extend(sub.log)

    # ------------------------------------------------------------ replies and timers (tm)
    def feed_reply(self, reply, branch=None, *, src: str | Socket | None = None, reason: str | None = None,
                   headers=None, body: str = "", to_tag: str | None = None) -> Result:
        """Feed a reply from a next hop, as if it arrived (``kscript run --reply``).

        ``reply`` is a whole reply (text, bytes or SipMessage), or a status code: the
        reply is then built with :func:`kscript.sip.reply` from a request kscript sent
        -- ``branch`` picks it: ``None`` the last request sent (ACK/CANCEL excepted), an
        int the tm branch of the transaction of that request, or a
        :class:`~kscript.runtime.context.Sent` -- with ``reason`` (default: the usual
        phrase), ``headers``, ``body`` and ``to_tag`` (default: a fixed tag per branch).

        ``src`` is where the reply comes from; by default the address the answered
        request was sent to (found by the top Via branch of the reply).  Returns the
        :class:`Result` of processing it (reply_route, onreply_route, failure_route,
        what was relayed)."""
        from .sip.builder import reply as build_reply
        from .sip.message import SipMessage

        req = None
        if isinstance(reply, int) or (isinstance(reply, str) and reply.strip().isdigit()):
            status = int(reply)
            req = self._answered_request(branch)
            if req is None:
                raise KscriptError("feed_reply: no request was sent to reply to")
            text = build_reply(req.text, status, reason or _REASONS.get(status, "Unknown"), headers=headers,
                               body=body, to_tag=to_tag or self._reply_tag(req))
            msg = SipMessage.parse(text)
        else:
            msg = reply if isinstance(reply, SipMessage) else SipMessage.parse(reply)
            if msg.is_request:
                raise KscriptError("feed_reply: the message given is a request, not a reply")
            if isinstance(branch, Sent) or isinstance(branch, int):
                req = self._answered_request(branch)
        if src is None:
            if req is None:
                req = self._request_for_branch(msg.vias[0].branch if msg.vias else None)
            src = req.dst if req is not None else DEFAULT_SRC
        return self.process(msg, src=src)

    def tick(self) -> list[Result]:
        """Run the module timers due at ``self.clock()`` (tm's final response timers:
        a local 408 and the failure_route; expired transactions are removed).  Returns
        one :class:`Result` per timer that did something."""
        from .testing.clock import run_timers
        results = run_timers(self, self.clock())
        for r in results:
            self._remember(r)
        return results

    def _remember(self, res: Result) -> None:
        reqs = getattr(self, "_sent_requests", None)
        if reqs is None:
            reqs = self._sent_requests = []
        for s in res.sent:
            if s.kind == "request":
                reqs.append(s)
        if len(reqs) > 1000:
            del reqs[:-1000]

    def _last_request(self):
        for s in reversed(getattr(self, "_sent_requests", [])):
            if (s.method or "").upper() not in ("ACK", "CANCEL"):
                return s
        return None

    def _answered_request(self, branch):
        if isinstance(branch, Sent):
            return branch
        last = self._last_request()
        if branch is None or last is None:
            return last
        tm = self.modules.get("tm")
        if tm is None:
            raise KscriptError("feed_reply: branch=N needs the tm module")
        t, _ = tm.table.match_reply_branch(last.message.vias[0].branch)
        if t is None or not 0 <= int(branch) < len(t.uacs) or not t.uacs[int(branch)].request:
            raise KscriptError(f"feed_reply: no branch {branch} in the transaction of the last relayed request")
        uac = t.uacs[int(branch)]
        for s in reversed(self._sent_requests):
            if s.text == uac.request:
                return s
        return Sent("request", uac.dst, uac.request, uac.send_sock)

    def _request_for_branch(self, via_branch: str | None):
        if not via_branch:
            return None
        for s in reversed(getattr(self, "_sent_requests", [])):
            try:
                vias = s.message.vias
            except KscriptError:
                continue
            if vias and vias[0].branch == via_branch:
                return s
        return None

    def _reply_tag(self, req) -> str:
        tags = getattr(self, "_reply_tags", None)
        if tags is None:
            tags = self._reply_tags = {}
        key = (req.dst.ip, req.dst.port, req.message.call_id)
        return tags.setdefault(key, f"kst{len(tags) + 1}")

    def run_event_route(self, name: str, message=None, src: str | Socket = DEFAULT_SRC) -> Result | None:
        """Run ``event_route[name]`` (with Kamailio's faked OPTIONS when no message is given)."""
        from .sip.message import SipMessage

        ref = self.routes.get(("event", name))
        if ref is None:
            return None
        msg = message if isinstance(message, SipMessage) else SipMessage.parse(message or FAKED_SIP_MSG)
        ctx = self.new_context(msg, src, "event")
        res = Result(ctx=ctx)
        res.exit_code, res.dropped = self.run_top(ref, ctx)
        res.sent, res.log = ctx.sent, ctx.logs
        return res

    def run_top(self, ref: RouteRef, ctx: MsgContext) -> tuple[int, bool]:
        """Run a top-level route (run_top_route): exit/drop end it."""
        ctx.rc = 0
        fn = ref.fn or self._compile_route(ref)
        try:
            if self.tracer is not None:
                v = ref._run_traced(ctx, fn, self.tracer)  # return/break handled there
            else:
                try:
                    v = fn(ctx)
                except ReturnSignal as r:
                    v = r.value
                except BreakSignal:
                    v = 0
        except ExitSignal as x:
            ctx.rc = x.value
            if x.drop:
                ctx.dropped = True
            return x.value, x.drop
        return v, False

    # ------------------------------------------------------------ redis
    def redis(self, server: str):
        """A redis-py client for the named ndb_redis server (embedded or real)."""
        mod = self.modules.get("ndb_redis")
        if mod is None:
            raise KscriptError("ndb_redis is not loaded by this config")
        return mod.client(server)

    def seed_redis(self, path) -> int:
        """Run a file of Redis commands against the cfg's ndb_redis servers (``--redis-seed``)."""
        mod = self.modules.get("ndb_redis")
        if mod is None:
            raise KscriptError("ndb_redis is not loaded by this config")
        return mod.seed(path)

    def redis_dump(self, index: int = 0) -> dict | None:
        """The keyspace of the ``index``-th Redis server/db the script used (type, value,
        whether a TTL is set), or None when it used none."""
        from . import redis_backend
        return redis_backend.dump(self, index)

    def pv(self, text: str):
        """The value of PV ``text`` in the state after the last message (``$var``, ``$shv``...)."""
        from .sip.message import SipMessage
        pv = self.compiler.pv(text, None)
        ctx = getattr(self, "_last_ctx", None) or self.new_context(
            SipMessage.parse("OPTIONS sip:kscript@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n"
                             "From: <sip:k@127.0.0.1>;tag=1\r\nTo: <sip:k@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
                             "Content-Length: 0\r\n\r\n"))
        return pv.value(ctx)

    def close(self) -> None:
        for mod in self.modules.values():
            mod.close()


@lru_cache(maxsize=256)
@lru_cache(maxsize=256)
def _parse_socket(text: str) -> Socket:
    # Sockets are never modified once made: the same few sources recur on every message
    return Socket.parse(text)


def _defs_of(mod):
    defs = type(mod).__dict__.get("_defs_cache")
    if defs is None:
        defs = type(mod).function_defs()
        type(mod)._defs_cache = defs
    return defs


_REASONS = {100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
            200: "OK", 202: "Accepted", 300: "Multiple Choices", 301: "Moved Permanently",
            302: "Moved Temporarily", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 407: "Proxy Authentication Required", 408: "Request Timeout",
            480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 486: "Busy Here",
            487: "Request Terminated", 488: "Not Acceptable Here", 500: "Server Internal Error",
            503: "Service Unavailable", 600: "Busy Everywhere", 603: "Decline"}


def _unresolved_impl(name: str):
    def impl(ctx, *args):
        raise NotSupportedError(f"function '{name}' is not emulated by kscript (mock it)")
    return impl


def load(path: str | os.PathLike, defines: list[str] | tuple[str, ...] = (), redis: str = "embedded",
         mocks: dict | None = None, clock=None, tracer=None) -> Script:
    """Load a kamailio.cfg; raises :class:`~kscript.errors.ConfigError` when Kamailio would refuse it.

    ``redis``: "embedded" (in-process, fresh), "cfg" (the servers the cfg names) or a
    ``redis://`` URL every server is redirected to. ``mocks``: {function: returns | dict of
    :meth:`Script.mock` arguments}. ``clock``: a callable returning the time (seconds).
    ``tracer``: a :class:`kscript.runtime.tracing.Tracer` (REPL, coverage, traces).

    The first load in a process raises the garbage collector's first threshold if it is
    still CPython's default (see :mod:`kscript.runtime.gcpolicy`; ``KSCRIPT_GC=default``
    keeps it).
    """
    gcpolicy.tune()
    return Script(str(path), defines, redis=redis, mocks=mocks, clock=clock, tracer=tracer)
