"""kex: core extensions (modules/kex @5.6.3).

Script flags (``setsflag``/``resetsflag``/``issflagset``: per message in kscript as in
Kamailio, which resets them for every message), branch flags (``setbflag(flag[, branch])``:
branch 0 is the R-URI's, ``$bf``; branch ``i`` is ``ctx.branches[i-1]``), the
destination URI (``setdsturi``/``resetdsturi``/``isdsturiset``), ``pv_printf``/
``avp_printf``, ``is_myself``, ``setdebug``/``resetdebug``.  Flag numbers outside 0-31
make the functions return -1.
"""

from __future__ import annotations

from .base import Module, function


def _flag_ok(mod, ctx, flag) -> bool:
    if flag is None:
        mod.log(ctx, "ERR", "no flag value")
        return False
    return 0 <= flag <= 31


class _BranchFlags:
    """Access to the flags of branch ``idx`` (0 = the R-URI)."""

    @staticmethod
    def get(ctx, idx):
        if idx == 0:
            return ctx.bflags
        if 0 < idx <= len(ctx.branches):
            return getattr(ctx.branches[idx - 1], "flags", 0)
        return None

    @staticmethod
    def set(ctx, idx, value):
        if idx == 0:
            ctx.bflags = value & 0xFFFFFFFF
        else:
            ctx.branches[idx - 1].flags = value & 0xFFFFFFFF


class KexModule(Module):
    name = "kex"

    # ---- script flags
    @function("setsflag", "igp")
    def setsflag(self, ctx, flag):
        if not _flag_ok(self, ctx, flag):
            return -1
        ctx.sflags |= 1 << flag
        return 1

    @function("resetsflag", "igp")
    def resetsflag(self, ctx, flag):
        if not _flag_ok(self, ctx, flag):
            return -1
        ctx.sflags &= ~(1 << flag) & 0xFFFFFFFF
        return 1

    @function("issflagset", "igp")
    def issflagset(self, ctx, flag):
        if not _flag_ok(self, ctx, flag):
            return -1
        return 1 if ctx.sflags & (1 << flag) else -1

    # ---- branch flags
    def _bflag(self, ctx, flag, idx, op):
        if not _flag_ok(self, ctx, flag):
            return -1
        if idx is None:
            self.log(ctx, "ERR", "no idx value")
            return -1
        if idx < 0:
            return -1
        cur = _BranchFlags.get(ctx, idx)
        if cur is None:
            return -1
        bit = 1 << flag
        if op == "set":
            _BranchFlags.set(ctx, idx, cur | bit)
            return 1
        if op == "reset":
            _BranchFlags.set(ctx, idx, cur & ~bit)
            return 1
        return 1 if cur & bit else -1

    @function("setbflag", "igp")
    def setbflag(self, ctx, flag):
        return self._bflag(ctx, flag, 0, "set")

    @function("setbflag", "igp", "igp")
    def setbflag2(self, ctx, flag, idx):
        return self._bflag(ctx, flag, idx, "set")

    @function("resetbflag", "igp")
    def resetbflag(self, ctx, flag):
        return self._bflag(ctx, flag, 0, "reset")

    @function("resetbflag", "igp", "igp")
    def resetbflag2(self, ctx, flag, idx):
        return self._bflag(ctx, flag, idx, "reset")

    @function("isbflagset", "igp")
    def isbflagset(self, ctx, flag):
        return self._bflag(ctx, flag, 0, "is")

    @function("isbflagset", "igp", "igp")
    def isbflagset2(self, ctx, flag, idx):
        return self._bflag(ctx, flag, idx, "is")

    # ---- destination URI
    @function("setdsturi", "fmt")
    def setdsturi(self, ctx, uri):
        if not uri:
            return -1
        ctx.dst_uri = uri
        return 1

    @function("resetdsturi")
    def resetdsturi(self, ctx):
        ctx.dst_uri = None
        return 1

    @function("isdsturiset")
    def isdsturiset(self, ctx):
        return 1 if ctx.dst_uri else -1

    # ---- misc
    @function("pv_printf", "pvar", "fmt")
    @function("avp_printf", "pvar", "fmt")
    def pv_printf(self, ctx, dst, value):
        if not dst.cls.writable:
            self.log(ctx, "ERR", "read-only script variable in first parameter")
            return -1
        try:
            dst.set(ctx, value)
        except Exception:  # noqa: BLE001 - a setter refusing the value
            self.log(ctx, "ERR", "setting PV failed")
            return -1
        return 1

    @function("is_myself", "fmt")
    def is_myself(self, ctx, uri):
        script = ctx.script
        if uri.startswith(("sip:", "sips:", "tel:", "tels:")) or "@" in uri:
            return 1 if script.uri_is_myself(uri) else -1
        host, _, port = uri.rpartition(":") if uri.count(":") == 1 else (uri, "", "")
        return 1 if script.host_is_myself(host or uri, int(port) if port.isdigit() else None) else -1

    @function("setdebug", "igp")
    def setdebug(self, ctx, level):
        if level is None:
            return -1
        ctx.data.setdefault("saved_debug", ctx.script.debug_level)
        ctx.script.debug_level = level
        return 1

    @function("resetdebug")
    def resetdebug(self, ctx):
        if "saved_debug" in ctx.data:
            ctx.script.debug_level = ctx.data.pop("saved_debug")
        return 1
