"""CANCEL and hop-by-hop ACK (modules/tm/t_cancel.c, t_fwd.c ``e2e_cancel``,
t_msgbuilder.c ``build_local_reparse``, t_reply.c ``build_ack`` @5.6.3).

tm builds its own CANCELs (for a received CANCEL, after a 2xx/6xx on another
branch, a local final reply or a timeout) and the ACKs for negative final
replies to INVITE from the INVITE it sent on that branch (``reparse_invite=1``):
same request line and top Via, From, Call-ID, Route and Max-Forwards copied,
To taken from the original request (CANCEL) or from the reply (ACK), CSeq with
the new method, ``Content-Length: 0``, every other header dropped.

A branch that never got a provisional reply is not CANCELed at once (default
``cancel_b_method`` 1): the CANCEL goes out when a provisional reply arrives.
"""

from __future__ import annotations

from ...sip.headers import header_key
from .transaction import RB_CANCELED, RB_RELAYREPLY, Transaction, _raw_header

# cancel_branch() flags (t_cancel.h)
F_CANCEL_B_KILL = 1
F_CANCEL_B_FAKE_REPLY = 2
F_CANCEL_B_FORCE_C = 4
F_CANCEL_B_FORCE_RETR = 8

CANCELING = "canceling"
CANCEL_DONE = "ok -- no more pending branches"
CANCELED = "Request canceled"

_REASON_TEXT = {200: "Call completed elsewhere"}


class CancelReason:
    """What goes in the Reason header of tm's CANCELs: a final reply code (``cause``,
    with a ``text`` when :func:`cancel_uacs` found one), or the Reason headers of the
    CANCEL that was received (``headers``)."""

    __slots__ = ("cause", "headers", "reason_text")

    def __init__(self, cause: int = 0, headers: str | None = None):
        self.cause = cause
        self.headers = headers
        self.reason_text: str | None = None

    def text(self, tm) -> str:
        if self.headers:
            return self.headers
        if self.cause > 0 and tm.param("local_cancel_reason"):
            s = f"Reason: SIP;cause={self.cause}"
            if self.reason_text:
                s += f';text="{self.reason_text}"'
            return s + "\r\n"
        return ""


def cancel_b_flags(tm) -> int:
    return {0: F_CANCEL_B_FAKE_REPLY, 1: F_CANCEL_B_FORCE_RETR, 2: F_CANCEL_B_FORCE_C}.get(
        tm.param("cancel_b_method"), F_CANCEL_B_FAKE_REPLY)


# ---------------------------------------------------------------- building
def _lines(text: str) -> list[str]:
    """Header lines of a message (continuation lines kept with their header),
    the end-of-headers line excluded."""
    head = text.split("\r\n\r\n", 1)[0] if "\r\n\r\n" in text else text.split("\n\n", 1)[0]
    raw = head.split("\n")
    out: list[str] = []
    for ln in raw[1:]:
        full = ln + "\n"
        if out and ln[:1] in (" ", "\t"):
            out[-1] += full
        else:
            out.append(full)
    return [raw[0] + "\n"] + out


def build_local_reparse(invite: str, method: str, to_line: str | None, reason: str = "") -> str:
    """A CANCEL or ACK built from the INVITE sent on a branch."""
    lines = _lines(invite)
    first = lines[0]
    sp = first.find(" ")
    out = [method + first[sp:]]
    first_via = True
    for ln in lines[1:]:
        name = ln.split(":", 1)[0].rstrip(" \t") if ":" in ln else ln.strip()
        key = header_key(name)
        if key == "cseq":
            i = len(name)
            while i < len(ln) and (ln[i] in ": \t" or ln[i].isdigit()):
                i += 1
            out.append(ln[:i] + method + "\r\n")
        elif key == "via":
            if first_via:
                out.append(ln)
                first_via = False
        elif key == "to":
            out.append(to_line if to_line else ln)
        elif key in ("from", "call-id", "route", "max-forwards"):
            out.append(ln)
        elif key == "content-length":
            out.append(ln[:len(name)] + ": 0\r\n")
        # everything else (Require, Proxy-Require, Contact, ...) is dropped
    out.append(reason)
    out.append("\r\n")
    return "".join(out)


def build_ack(t: Transaction, branch: int, reply_msg) -> str | None:
    """The hop-by-hop ACK for a negative final reply on ``branch``."""
    uac = t.uacs[branch]
    if not uac.request:
        return None
    to_line = _raw_header(reply_msg, "to")
    if to_line is None:
        return None
    return build_local_reparse(uac.request, "ACK", to_line)


def send_ack(tm, t: Transaction, branch: int, reply_ctx) -> None:
    ack = build_ack(t, branch, reply_ctx.msg)
    if ack is None:
        tm.log(reply_ctx, "ERR", "cannot generate a HBH ACK if key HFs in reply missing")
        return
    uac = t.uacs[branch]
    sent = reply_ctx.send("request", uac.dst, ack)
    sent.src = uac.send_sock


# ---------------------------------------------------------------- canceling
def prepare_cancel_branch(t: Transaction, b: int, noreply: bool) -> bool:
    uac = t.uacs[b]
    if uac.blind and uac.request is None:
        return False
    lr = uac.last_received
    if lr < 200 and (noreply or lr >= 100):
        if uac.local_cancel is None and not uac.cancel_busy:
            uac.cancel_busy = True
            return True
    return False


def prepare_to_cancel(t: Transaction, skip: set | None = None) -> list[int]:
    skip = skip or set()
    return [i for i in range(len(t.uacs)) if i not in skip and prepare_cancel_branch(t, i, True)]


def cancel_branch(tm, t: Transaction, b: int, reason: CancelReason | None, flags: int, sink) -> int:
    """Cancel one branch: send tm's CANCEL (or wait for a provisional reply, or fake a 487)."""
    uac = t.uacs[b]
    uac.flags.add(RB_CANCELED)
    ret = 1
    if flags & F_CANCEL_B_KILL:
        uac.fr_deadline = None
        ret = 0
        if uac.last_received < 100 and not flags & F_CANCEL_B_FORCE_C:
            uac.cancel_busy = False
            if (flags & F_CANCEL_B_FAKE_REPLY and RB_RELAYREPLY not in uac.flags
                    and "admin_reply" not in t.flags):
                from .reply import FAKED, relay_reply
                st = relay_reply(tm, t, FAKED, b, 487, [], sink, do_put_on_wait=True)
                if st in ("error", "tgone"):
                    return -1
            return ret
    else:
        if uac.last_received < 100 and not flags & F_CANCEL_B_FORCE_C:
            uac.cancel_busy = False
            if flags & F_CANCEL_B_FAKE_REPLY:
                uac.fr_deadline = None
                from .reply import FAKED, relay_reply
                st = relay_reply(tm, t, FAKED, b, 487, [], sink, do_put_on_wait=True)
                if st in ("error", "tgone"):
                    return -1
                return 0
            return 1
    if not uac.request:
        uac.cancel_busy = False
        return -1
    to_line = _raw_header(t.request.msg, "to")
    text = build_local_reparse(uac.request, "CANCEL", to_line, reason.text(tm) if reason else "")
    uac.local_cancel = text
    uac.cancel_busy = False
    sent = sink.send("request", uac.dst, text)
    sent.src = uac.send_sock
    return ret


def cancel_uacs(tm, t: Transaction, branches: list[int], reason: CancelReason | None, flags: int, sink) -> int:
    if reason is not None and reason.cause > 0 and reason.reason_text is None:
        reason.reason_text = _REASON_TEXT.get(reason.cause)  # cancel_reason_text()
    ret = 0
    for i in branches:
        f = flags | (F_CANCEL_B_FAKE_REPLY if t.uacs[i].request is None else 0)
        r = cancel_branch(tm, t, i, reason, f, sink)
        ret |= (r != 0) << i
    return ret


def e2e_cancel(tm, ctx, t_cancel: Transaction, t_invite: Transaction) -> None:
    """A CANCEL for ``t_invite`` arrived (its transaction is ``t_cancel``)."""
    from .failure import uas_context
    from .reply import t_reply
    t_invite.flags.add("canceled")
    t_invite.cancel_trans = t_cancel
    if not t_invite.uacs:
        t_reply(tm, t_invite, uas_context(t_invite, ctx), 487, CANCELED)
        t_reply(tm, t_cancel, ctx, 200, CANCEL_DONE)
        return
    bm = prepare_to_cancel(t_invite)
    if not bm:
        t_reply(tm, t_invite, uas_context(t_invite, ctx), 487, CANCELED)
        t_reply(tm, t_cancel, ctx, 200, CANCEL_DONE)
        return
    if t_invite.cancel_reason is None and "no_e2e_cancel_reason" not in t_invite.flags:
        msg = ctx.msg
        hdrs = []
        for i, h in enumerate(msg.headers):
            if h.key == "reason":
                start, _, _, end = msg.spans[i]
                hdrs.append(msg.text[start:end])
        if hdrs:
            t_invite.cancel_reason = "".join(hdrs)
    reason = CancelReason(headers=t_invite.cancel_reason)
    lowest = 0
    remaining = []
    for i in bm:
        f = cancel_b_flags(tm) | (F_CANCEL_B_FAKE_REPLY if t_invite.uacs[i].request is None else 0)
        r = cancel_branch(tm, t_invite, i, reason, f, ctx)
        if r >= 0:
            remaining.append(i)
        lowest = min(lowest, r)
    if lowest < 0:
        tm.log(ctx, "ERR", "cancel error")
        t_reply(tm, t_cancel, ctx, 500, "cancel error")
    elif remaining:
        t_reply(tm, t_cancel, ctx, 200, CANCELING)
    else:
        t_reply(tm, t_cancel, ctx, 200, CANCEL_DONE)
