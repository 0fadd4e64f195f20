"""sl: stateless replies (modules/sl @5.6.3).

* ``sl_send_reply(code, reason)`` / ``sl_reply(...)`` -- reply statelessly (code: an
  integer or a PV holding an integer -- a PV holding a string makes Kamailio log
  "Could not convert PV to int" and use ``default_code`` 500; reason: a PV
  format).  No reply to ACK (-1).  Replies >= 180 to a request whose To has no
  tag get sl's To tag; 3xx replies get a Contact with the destination set.
* ``send_reply(code, reason)`` / ``send_reply_mode(code, reason, mode)`` -- stateful
  when a transaction exists, else stateless.  The transaction module decides:
  if the loaded ``tm`` kscript module has a ``send_reply_hook(ctx, code, reason)``
  method, it is called first; it returns ``None`` when there is no transaction
  (sl then replies statelessly) or the function's return code.
* ``sl_reply_error()`` -- reply with the code/text of the last internal error.
* ``sl_forward_reply([code[, reason]])`` -- forward the received reply statelessly
  (``onreply_route``), optionally changing its code (same class) and reason.
* ACK filtering: an ACK carrying sl's To tag for this request, received within
  2 s of the last stateless reply, is absorbed before the script runs
  (``sl_filter_ACK``); kscript calls :meth:`SlModule.pre_script`.
"""

from __future__ import annotations

from ..sip import output
from ..sip.lumps import Lumps, lumps_of, reason_span
from .base import Module, Param, function

from ..runtime.ser_errors import E_UNSPEC, err2reason as _err2reason

SL_RPL_WAIT_TIME = 2.0  # seconds an ACK to a stateless reply is filtered


def err2reason(err: int, signature: str = "SL") -> tuple[int, str]:
    """core ``err2reason_phrase`` with sl's signature."""
    return _err2reason(err, signature)


class SlModule(Module):
    name = "sl"
    params = {
        "default_code": Param("int", 500),
        "default_reason": Param("str", "Internal Server Error"),
        "bind_tm": Param("int", 1),
        "rich_redirect": Param("int", 0),
        "event_callback_fl_ack": Param("str", ""),
        "event_callback_lres_sent": Param("str", ""),
    }

    def init(self):
        self._last_reply_at: float | None = None

    # ------------------------------------------------------------ helpers
    def _code(self, ctx, code):
        if code is None:
            ctx.log("ERR", "Could not convert PV to int", source="core")
            return self.param("default_code")
        return code

    def stateless_reply(self, ctx, code: int, reason: str, to_tag: str | None = None) -> int:
        """``sl_reply_helper`` (used by other modules too: sanity, maxfwd...)."""
        ret = output.send_stateless_reply(ctx, code, reason, to_tag, source="sl")
        if ret == 1:
            self._last_reply_at = ctx.script.clock()
        return ret

    def pre_script(self, ctx) -> bool:
        """``sl_filter_ACK``: False when ``ctx.msg`` is an ACK to a local stateless reply."""
        msg = ctx.msg
        if not msg.is_request or (msg.method or "").upper() != "ACK":
            return True
        last = self._last_reply_at
        if last is None or ctx.script.clock() - last >= SL_RPL_WAIT_TIME:
            return True
        to = msg.to
        if to is None or not to.tag:
            return True
        if to.tag == output.sl_to_tag(ctx):
            ctx.log("DBG", "SL local ACK found -> dropping it!", source="sl")
            return False
        return True

    # ------------------------------------------------------------ functions
    @function("sl_send_reply", "igp", "fmt")
    @function("sl_reply", "igp", "fmt")
    def sl_send_reply(self, ctx, code, reason):
        return self.stateless_reply(ctx, self._code(ctx, code), reason)

    @function("send_reply", "igp", "fmt")
    def send_reply(self, ctx, code, reason):
        return self.send_reply_impl(ctx, self._code(ctx, code), reason)

    @function("send_reply_mode", "igp", "fmt", "igp")
    def send_reply_mode(self, ctx, code, reason, mode):
        return self.send_reply_impl(ctx, self._code(ctx, code), reason)

    def send_reply_impl(self, ctx, code: int, reason: str) -> int:
        """``send_reply()``: tm if a transaction exists, else stateless."""
        if ctx.data.get("noreply"):
            ctx.log("INFO", "message marked with no-reply flag", source="sl")
            return -2
        if self.param("bind_tm"):
            tm = ctx.script.modules.get("tm")
            hook = getattr(tm, "send_reply_hook", None) if tm is not None else None
            if hook is not None:
                ret = hook(ctx, code, reason)
                if ret is not None:
                    return ret
        if not ctx.msg.is_request:
            return -1
        return self.stateless_reply(ctx, code, reason)

    @function("sl_reply_error")
    def sl_reply_error(self, ctx):
        if ctx.data.get("noreply"):
            ctx.log("INFO", "message marked with no-reply flag", source="sl")
            return -2
        # prev_ser_error: the error of the action started just before this one (Kamailio
        # resets ser_error when every action starts; the compiler clears ctx.data's at the
        # start of that action, see Compiler._plan_error_resets). Popped: this action's
        # own start reset it.
        err = ctx.data.pop("ser_error", E_UNSPEC)
        code, text = err2reason(err)
        self.stateless_reply(ctx, code, text)
        ctx.log("ERR", f"stateless error reply used: {text}", source="sl")
        return 1

    @function("sl_forward_reply")
    def sl_forward_reply0(self, ctx):
        return self._forward_reply(ctx, None, None)

    @function("sl_forward_reply", "fmt")
    def sl_forward_reply1(self, ctx, code):
        return self._forward_reply(ctx, code, None)

    @function("sl_forward_reply", "fmt", "fmt")
    def sl_forward_reply2(self, ctx, code, reason):
        return self._forward_reply(ctx, code, reason)

    def _forward_reply(self, ctx, code: str | None, reason: str | None) -> int:
        msg = ctx.msg
        if msg.is_request:
            self.log(ctx, "ERR", "invalid SIP message type")
            return -1
        if code:
            if len(code) != 3:
                self.log(ctx, "ERR", f"invalid reply code value {code}")
                return -1
            if str(msg.status)[0] != code[0]:
                self.log(ctx, "ERR", "reply code class cannot be changed")
                return -1
            if not (code[1].isdigit() and code[2].isdigit()):
                self.log(ctx, "ERR", f"invalid reply code value {code}!")
                return -1
        base = lumps_of(ctx)
        work: Lumps = base.clone()
        if code:
            # the status code is changed in the buffer itself
            start = msg.first_line_start + len(msg.version) + 1
            anchor = work.delete(start, 3)
            work.insert_after(anchor, code)
        if reason:
            rs, re_ = reason_span(msg)
            ldel = work.delete(rs, re_ - rs)
            work.insert_after(ldel, reason)
        saved = ctx.lumps
        ctx.lumps = work
        try:
            ret = output.forward_reply(ctx, source="core", run_callbacks=False)
        finally:
            ctx.lumps = saved
        return 1 if ret == 0 else ret
