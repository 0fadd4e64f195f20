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
        return _rewrite(ctx, password=s)

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


def _record(level, text, ctx):
    from ..runtime.context import LogRecord
    return LogRecord(level, text, "script", ctx.cur_pos)
