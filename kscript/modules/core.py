"""Kamailio core: the cfg actions that are keywords (setflag, strip, rewrite*, log...)
and the core PVs ($null, $rc, $def, $env). Core actions return 1 and do not
change ``$rc`` (core/action.c@5.6.3)."""

from __future__ import annotations

import os

from ..errors import KscriptError
from ..pv.base import PVClass
from .base import Module, function


# ---------------------------------------------------------------- core PVs
class NullPV(PVClass):
    name = "null"

    def get(self, ctx, name, idx):
        return None


class RetcodePV(PVClass):
    name = "rc"

    def get(self, ctx, name, idx):
        return ctx.rc


class RetcodeAliasPV(RetcodePV):
    name = "retcode"


class QuestionPV(RetcodePV):
    name = "?"


class DefPV(PVClass):
    """``$def(ID)``: the raw define text (quotes kept); null when not defined or empty."""

    name = "def"
    takes_name = True

    def get(self, ctx, name, idx):
        return ctx.script.defines_map.get(name)


class DefnPV(DefPV):
    name = "defn"

    def get(self, ctx, name, idx):
        from ..runtime.values import str2int
        v = super().get(ctx, name, idx)
        if v is None:
            return None
        n = str2int(v.strip())
        return n if n is not None else None


class EnvPV(PVClass):
    name = "env"
    takes_name = True

    def get(self, ctx, name, idx):
        return os.environ.get(name)


class EnvnPV(EnvPV):
    name = "envn"

    def get(self, ctx, name, idx):
        from ..runtime.values import str2int
        v = os.environ.get(name)
        return None if v is None else str2int(v)


# ---------------------------------------------------------------- helpers
def _rewrite(ctx, **parts) -> int:
    """Rebuild the R-URI with some parts replaced (SET_*_T actions)."""
    from ..sip.uri import parse_uri
    try:
        u = parse_uri(ctx.ruri)
    except KscriptError as e:
        ctx.log("ERR", f"bad uri <{ctx.ruri}>, dropping packet ({e.message})", source="core")
        return -1
    ctx.new_uri = str(u.replace(**parts))
    return 1


_LOG_LEVELS = {-5: "ALERT", -4: "BUG", -3: "CRIT", -2: "CRIT", -1: "ERR", 0: "WARN", 1: "NOTICE", 2: "INFO", 3: "DBG"}


class CoreModule(Module):
    name = "core"
    pv_classes = (NullPV, RetcodePV, RetcodeAliasPV, QuestionPV, DefPV, DefnPV, EnvPV, EnvnPV)

    # ---- flags (message flags)
    @function("setflag", "flag")
    def setflag(self, ctx, n):
        ctx.flags |= 1 << n
        return 1

    @function("resetflag", "flag")
    def resetflag(self, ctx, n):
        ctx.flags &= ~(1 << n)
        return 1

    @function("isflagset", "flag")
    def isflagset(self, ctx, n):
        return 1 if ctx.flags & (1 << n) else -1

    # ---- R-URI edits
    @function("strip", "int")
    def strip(self, ctx, n):
        from ..sip.uri import parse_uri
        u = parse_uri(ctx.ruri)
        user = u.user or ""
        if n > len(user):
            ctx.log("ERR", f"strip: cannot strip {n} chars from user '{user}'", source="core")
            return -1
        return _rewrite(ctx, user=user[n:])

    @function("strip_tail", "int")
    def strip_tail(self, ctx, n):
        from ..sip.uri import parse_uri
        u = parse_uri(ctx.ruri)
        user = u.user or ""
        if n > len(user):
            ctx.log("ERR", f"strip_tail: cannot strip {n} chars from user '{user}'", source="core")
            return -1
        return _rewrite(ctx, user=user[:len(user) - n])

    @function("prefix", "str")
    def prefix(self, ctx, s):
        from ..sip.uri import parse_uri
        u = parse_uri(ctx.ruri)
        return _rewrite(ctx, user=s + (u.user or ""))

    @function("rewriteuser", "str")
    @function("setuser", "str")
    @function("setu", "str")
    def rewriteuser(self, ctx, s):
        return _rewrite(ctx, user=s)

    @function("rewriteuserpass", "str")
    @function("setuserpass", "str")
    @function("setup", "str")
    def rewriteuserpass(self, ctx, s):
        # SET_USERPASS_T replaces the whole "user[:password]" part with the string (recorded)
        return _rewrite(ctx, user=s, password=None)

    @function("rewritehost", "str")
    @function("sethost", "str")
    @function("seth", "str")
    def rewritehost(self, ctx, s):
        return _rewrite(ctx, host=s)

    @function("rewritehostport", "str")
    @function("sethostport", "str")
    @function("sethp", "str")
    def rewritehostport(self, ctx, s):
        host, _, port = s.rpartition(":") if ":" in s and not s.endswith("]") else (s, "", "")
        return _rewrite(ctx, host=host or s, port=port or None)

    @function("rewriteport", "str")
    @function("setport", "str")
    @function("setp", "str")
    def rewriteport(self, ctx, s):
        return _rewrite(ctx, port=s or None)

    @function("rewriteuri", "str")
    @function("seturi", "str")
    def rewriteuri(self, ctx, s):
        ctx.new_uri = s
        return 1

    @function("revert_uri")
    def revert_uri(self, ctx):
        ctx.new_uri = None
        return 1

    # ---- transport flags
    @function("force_rport")
    @function("add_rport")
    def force_rport(self, ctx):
        ctx.force_rport = True
        return 1

    @function("add_local_rport")
    def add_local_rport(self, ctx):
        ctx.add_local_rport = True
        return 1

    @function("set_forward_no_connect")
    @function("set_reply_no_connect")
    @function("set_forward_close")
    @function("set_reply_close")
    def set_conn_flags(self, ctx):
        return 1  # connection-reuse flags: no effect on UDP/offline sending

    @function("force_send_socket", "str")
    def force_send_socket(self, ctx, s):
        from ..runtime.context import Socket
        ctx.force_socket = Socket.parse(s)
        return 1

    # ---- stateless forwarding (FORWARD_T and friends, core/action.c@5.6.3:373-507)
    @function("forward")
    def forward0(self, ctx):
        return _forward(ctx, "uri:host", "uri:port", None)

    @function("forward", "fmt")
    def forward1(self, ctx, host):
        return _forward(ctx, host, None, None)

    @function("forward", "fmt", "fmt")
    def forward2(self, ctx, host, port):
        return _forward(ctx, host, port, None)

    @function("forward_udp", "fmt")
    def forward_udp1(self, ctx, host):
        return _forward(ctx, host, None, "udp")

    @function("forward_udp", "fmt", "fmt")
    def forward_udp2(self, ctx, host, port):
        return _forward(ctx, host, port, "udp")

    @function("forward_tcp", "fmt")
    def forward_tcp1(self, ctx, host):
        return _forward(ctx, host, None, "tcp")

    @function("forward_tcp", "fmt", "fmt")
    def forward_tcp2(self, ctx, host, port):
        return _forward(ctx, host, port, "tcp")

    @function("forward_tls", "fmt")
    def forward_tls1(self, ctx, host):
        return _forward(ctx, host, None, "tls")

    @function("forward_tls", "fmt", "fmt")
    def forward_tls2(self, ctx, host, port):
        return _forward(ctx, host, port, "tls")

    @function("forward_sctp", "fmt")
    def forward_sctp1(self, ctx, host):
        return _forward(ctx, host, None, "sctp")

    @function("forward_sctp", "fmt", "fmt")
    def forward_sctp2(self, ctx, host, port):
        return _forward(ctx, host, port, "sctp")

    @function("set_advertised_address", "fmt")
    def set_advertised_address(self, ctx, addr):
        ctx.data["advertised_address"] = addr
        return 1

    @function("set_advertised_port", "fmt")
    def set_advertised_port(self, ctx, port):
        ctx.data["advertised_port"] = str(port)
        return 1

    # ---- logging
    @function("log", "str")
    def log1(self, ctx, text):
        # LOG_T with level L_DBG+1: printed only with debug >= 4
        if ctx.script.debug_level >= 4:
            ctx.logs.append(_record("DBG", text, ctx))
        return 1

    @function("log", "int", "str")
    def log2(self, ctx, level, text):
        name = _LOG_LEVELS.get(level, "DBG")
        ctx.log(name, text, source="script")
        return 1

    @function("error", "str", "str")
    def error(self, ctx, a, b):
        ctx.log("NOTICE", f"error(\"{a}\", \"{b}\") not implemented yet", source="core")
        return 1


E_BAD_URI = -479
E_BAD_ADDRESS = -478
E_BAD_PROTO = -480


def _forward(ctx, host: str, port: str | None, proto: str | None) -> int:
    """forward()/forward_udp()/...: stateless forwarding to the given host[:port] or,
    for ``uri:host``, to ``$du`` or the R-URI (no DNS: host names fail)."""
    from ..sip import output
    pos = ctx.cur_pos
    where = f"{pos.file}:{pos.line}" if pos is not None else ""
    if not ctx.msg.is_request:
        ctx.log("ERR", "forward: not a request", source="core")
        return -1
    if host == "uri:host":
        uri = ctx.dst_uri if ctx.dst_uri else ctx.ruri
        from ..errors import KscriptError
        from ..sip.uri import parse_uri
        try:
            u = parse_uri(uri)
        except KscriptError:
            ctx.log("ERR", "forward: bad_uri dropping packet", source="core")
            ctx.log("ERR", f"run action error at: {where}", source="core")
            return E_BAD_URI
        if port == "uri:port":
            port_no = int(u.port) if u.port else 0
        else:
            port_no = int(port) if port else 0
        p = proto
        if p is None:
            t = (u.param("transport") or "").lower()
            if t:
                if t not in output.PROTOS:
                    ctx.log("ERR", f"forward: bad uri transport {t}", source="core")
                    ctx.log("ERR", f"run action error at: {where}", source="core")
                    return E_BAD_PROTO
                p = t
            if u.scheme == "sips":
                if p == "udp":
                    ctx.log("ERR", "forward: secure uri incompatible with transport 1", source="core")
                    ctx.log("ERR", f"run action error at: {where}", source="core")
                    return E_BAD_PROTO
                p = "wss" if p == "wss" else "tls"
        p = p or "udp"
        dst_host = u.host or ""
    else:
        p = proto or ctx.rcv.proto
        dst_host = host
        port_no = int(port) if port and str(port).isdigit() else 0
    try:
        dst = output.destination_from_args(ctx, dst_host, port_no, p)
    except output.DestinationError:
        ctx.log("ERR", f"bad host name {dst_host}, dropping packet", source="core")
        return E_BAD_ADDRESS  # (forward_request() leaves ser_error alone here)
    ret = output.forward_request(ctx, dst)
    return 1 if ret >= 0 else ret


def _record(level, text, ctx):
    from ..runtime.context import LogRecord
    return LogRecord(level, text, "script", ctx.cur_pos)
