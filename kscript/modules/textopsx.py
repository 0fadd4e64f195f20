"""textopsx: more message operations (modules/textopsx @5.6.3).

* ``msg_apply_changes()`` -- apply the pending lumps (and a rewritten R-URI) to the
  message itself, so PVs read the edited message from now on (request_route and
  replies only; refused after ``record_route()`` -- Kamailio's FL_RR_ADDED check);
* ``msg_set_buffer(text)`` -- replace the whole message;
* ``change_reply_status(code, reason)`` / ``change_reply_status_code(code)`` -- in a
  reply route: the code is written into the buffer, the reason becomes a lump
  (the class of 1xx/2xx replies cannot change);
* ``remove_body()``, ``keep_hf([regex])`` (returns -1, as 5.6.3 does), ``fnmatch(value,
  pattern[, flags])`` (case-sensitive: the "i" flag has no effect in the 5.6.3 build).
"""

from __future__ import annotations

import fnmatch as _fnmatch

from ..errors import KscriptError
from ..sip import output
from ..sip.lumps import lumps_of, reason_span
from .base import Module, function

_KEEP_ALWAYS = frozenset(("from", "to", "call-id", "cseq", "via", "contact", "content-length", "content-type",
                          "route", "record-route", "max-forwards"))


class TextopsxModule(Module):
    name = "textopsx"

    @function("msg_apply_changes")
    def msg_apply_changes(self, ctx):
        return apply_changes(ctx)

    @function("msg_set_buffer", "fmt")
    def msg_set_buffer(self, ctx, text):
        if ctx.msg.is_request and ctx.route_type != "request":
            ctx.log("ERR", "invalid usage - not in request route or a reply", source="textopsx")
            return -1
        return _update_buffer(ctx, text)

    @function("change_reply_status", "igp", "fmt")
    def change_reply_status(self, ctx, code, reason):
        if code is None:
            ctx.log("ERR", "Could not convert PV to int", source="core")
            self.log(ctx, "ERR", "cannot get parameters")
            return -1
        if not reason:
            self.log(ctx, "ERR", "invalid reason parameter")
            return -1
        if self._set_code(ctx, code) < 0:
            return -1
        rs, re_ = reason_span(ctx.msg)
        lumps = lumps_of(ctx)
        d = lumps.delete(rs, re_ - rs)
        lumps.insert_after(d, reason)
        return 1

    @function("change_reply_status_code", "igp")
    def change_reply_status_code(self, ctx, code):
        if code is None:
            self.log(ctx, "ERR", "cannot get parameters")
            return -1
        return self._set_code(ctx, code)

    def _set_code(self, ctx, code: int) -> int:
        msg = ctx.msg
        if msg.is_request:
            self.log(ctx, "ERR", "not a reply")
            return -1
        if code < 100 or code > 699:
            self.log(ctx, "ERR", f"wrong status code: {code}")
            return -1
        if (code < 300 or msg.status < 300) and code // 100 != msg.status // 100:
            self.log(ctx, "ERR", "the class of provisional or positive final replies cannot be changed")
            return -1
        start = msg.first_line_start + len(msg.version) + 1
        msg.patch_text(start, f"{code:03d}")
        msg.status = code
        msg.first_line = msg.text[msg.first_line_start:msg.first_line_start + len(msg.first_line)]
        return 1

    @function("remove_body")
    def remove_body(self, ctx):
        msg = ctx.msg
        if not msg.has_eoh or msg.body_start >= len(msg.text):
            return 1
        lumps_of(ctx).delete(msg.body_start, len(msg.text) - msg.body_start)
        return 1

    @function("keep_hf")
    def keep_hf0(self, ctx):
        return self._keep(ctx, None)

    @function("keep_hf", "rei")
    def keep_hf1(self, ctx, rx):
        return self._keep(ctx, rx)

    def _keep(self, ctx, rx):
        msg = ctx.msg
        lumps = lumps_of(ctx)
        for i, h in enumerate(msg.headers):
            if h.key in _KEEP_ALWAYS:
                continue
            if rx is None or not rx.search(h.name):
                s, _, _, e = msg.spans[i]
                lumps.delete(s, e - s)
        return -1  # sic: keep_hf_helper() always returns -1 in 5.6.3

    @function("fnmatch", "fmt", "fmt")
    def fnmatch2(self, ctx, value, pattern):
        return 1 if _fnmatch.fnmatchcase(value, pattern) else -1

    @function("fnmatch", "fmt", "fmt", "fmt")
    def fnmatch3(self, ctx, value, pattern, flags):
        # "i" would be FNM_CASEFOLD, but 5.6.3 is built without it (no _GNU_SOURCE
        # there): the flag is ignored, as the cov_rr_textopsx golden shows
        return 1 if _fnmatch.fnmatchcase(value, pattern) else -1


def apply_changes(ctx) -> int:
    """core ``sip_msg_apply_changes``: 1, or -1 (refused / failed)."""
    msg = ctx.msg
    if msg.is_request:
        if ctx.route_type not in ("request", "route"):
            ctx.log("ERR", "invalid usage - not in request route or a reply", source="core")
            return -1
        if ctx.data.get("rr_added"):
            ctx.log("ERR", "cannot apply msg changes after adding record-route header - it breaks "
                           "conditional 2nd header", source="core")
            return -1
        text = output.build_request(ctx, None, None, "", send_sock=ctx.rcv, local_via=False, update_via1=False)
    else:
        text = output.build_forwarded_reply(ctx, remove_via1=False)
    return _update_buffer(ctx, text)


def _update_buffer(ctx, text: str) -> int:
    """core ``sip_msg_update_buffer``: re-parse the message from ``text``; pending lumps
    and the rewritten R-URI are gone (the new text holds them)."""
    msg = ctx.msg
    saved = msg.text
    try:
        msg.update_text(text)
        msg.from_, msg.to, msg.cseq, msg.call_id  # main headers must parse
    except KscriptError:
        ctx.log("ERR", "parsing new sip message failed", source="core")
        msg.update_text(saved)
        return 0
    ctx.lumps = None
    ctx.new_uri = None
    ctx.data.pop("_ruri_cache", None)
    return 1
