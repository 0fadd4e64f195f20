"""maxfwd: the Max-Forwards header (modules/maxfwd @5.6.3).

``mf_process_maxfwd_header(limit)`` (aliases ``maxfwd_process``, ``process_maxfwd``):
no header -> one is inserted before the first header (``Max-Forwards: <limit>``,
a lump) and 2 is returned; a value > 0 is decremented (capped first to
``max_limit``, default 70) **in the message buffer itself** -- so ``$hdr(Max-Forwards)``
reads the new value at once, right-aligned and padded with blanks in the old
width (``200`` -> `` 70``) -- and 1 is returned; 0 -> -1; a value that is not a
number -> -2 with an error log.

``is_maxfwd_lt(limit)`` (aliases ``maxfwd_at_least``, ``mf_lowlimit``): 1 when the
value is below ``limit``; -1 when not; -2 without header; -3 when unparsable.
"""

from __future__ import annotations

from ..sip.lumps import lumps_of
from .base import Module, Param, function


def _value_span(ctx):
    """(index, start, end, value) of the first Max-Forwards value (trimmed), or None."""
    msg = ctx.msg
    found = msg._idx().get("max-forwards")
    if not found:
        return None
    i = found[0]
    _, bs, be, _ = msg.spans[i]
    text = msg.text
    while bs < be and text[bs] in " \t\r\n":
        bs += 1
    while be > bs and text[be - 1] in " \t\r\n":
        be -= 1
    return i, bs, be, text[bs:be]


def _str2s(s: str) -> int | None:
    """core ``str2s``: an unsigned short from digits; None on error."""
    if not s or not s.isdigit() or not s.isascii():
        return None
    v = 0
    for c in s:
        v = v * 10 + ord(c) - 48
        if v > 65535:
            return None
    return v


class MaxfwdModule(Module):
    name = "maxfwd"
    params = {"max_limit": Param("int", 70)}

    def _present(self, ctx):
        """``is_maxfwd_present``: (value, span) -- value -1 absent, -2 error."""
        found = _value_span(ctx)
        if found is None:
            return -1, None
        _, bs, be, raw = found
        v = _str2s(raw)
        if v is None:
            self.log(ctx, "ERR", "unable to parse the max forwards number")
            return -2, None
        return v, (bs, be)

    @function("mf_process_maxfwd_header", "igp")
    @function("maxfwd_process", "igp")
    @function("process_maxfwd", "igp")
    def process_maxfwd(self, ctx, limit):
        if limit is None:
            ctx.log("ERR", "Could not convert PV to int", source="core")
            self.log(ctx, "ERR", "could not get param value")
            return -1
        return self.process(ctx, limit)

    def process(self, ctx, limit: int) -> int:
        if limit < 0 or limit > 255:
            self.log(ctx, "ERR", f"invalid param value: {limit}")
            return -1
        max_limit = self.param("max_limit")
        val, span = self._present(ctx)
        if val == -1:
            msg = ctx.msg
            lumps = lumps_of(ctx)
            anchor = lumps.anchor(msg.spans[0][0])
            lumps.insert_before(anchor, f"Max-Forwards: {limit}\r\n")
            return 2
        if val == -2:
            return -2
        if val == 0:
            return -1
        if val > max_limit:
            self.log(ctx, "DBG", f"value {val} decreased to {max_limit}")
            val = max_limit + 1
        val -= 1
        bs, be = span
        width = be - bs
        digits = str(val)[-width:] if width else ""
        new = digits.rjust(width)
        ctx.msg.patch_text(bs, new)  # in the buffer, as Kamailio does
        return 1

    @function("is_maxfwd_lt", "igp")
    @function("maxfwd_at_least", "igp")
    @function("mf_lowlimit", "igp")
    def is_maxfwd_lt(self, ctx, limit):
        if limit is None:
            ctx.log("ERR", "Could not convert PV to int", source="core")
            return -1
        if limit < 0 or limit > 255:
            self.log(ctx, "ERR", f"invalid param value: {limit}")
            return -1
        val, _ = self._present(ctx)
        if val < 0:
            return val - 1
        if val >= limit:
            return -1
        return 1
