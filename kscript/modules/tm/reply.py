"""Replies: tm's own replies and the processing of replies from the branches
(modules/tm/t_reply.c ``_reply``/``reply_received``/``t_should_relay_response``/
``relay_reply``/``t_pick_branch`` @5.6.3, core/receive.c and forward.c for the
reply path).

A reply received by kscript goes through, in order: the core ``reply_route``
(``drop``, ``return 0`` or a negative last value stop it), the transaction
lookup by the branch tm put in its Via, the branch's ``onreply_route`` (with
the transaction's flags and AVPs; ``drop`` discards a provisional reply), and
the relay decision: 100 is absorbed, other provisional and 2xx replies are
relayed upstream at once (our Via removed, onreply_route edits applied),
negative final replies to INVITE are ACKed hop by hop and kept until every
branch has a final reply, then the best one wins (6xx > 2xx... see
:func:`get_prio`), the armed ``failure_route`` runs and -- unless it replied or
forwarded again -- the winner is relayed.  A reply matching no transaction is
forwarded statelessly to the second Via.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from ...runtime.ser_errors import err2reason as _err2reason
from ...sip import output
from .cancel import (F_CANCEL_B_FORCE_C, F_CANCEL_B_KILL, CancelReason, cancel_b_flags, cancel_branch, cancel_uacs,
                     prepare_to_cancel, send_ack)
from .failure import (BRANCH_IDX, extra_flags_of, run_branch_failure_handlers, run_failure_handlers,
                      uas_context)
from .lookup import E_UNSPEC, put_on_wait, set_kr, stop_timers, t_check, t_check_msg
from .transaction import FAKED_REPLY, KR_RPLD, RB_CANCELED, RB_FR_INV, RB_RELAYREPLY, RB_REPLIED, Transaction

FAKED = FAKED_REPLY

# reply processing status (enum rps)
RPS_ERROR = "error"
RPS_PUSHED_AFTER_COMPLETION = "pushed"
RPS_DISCARDED = "discarded"
RPS_STORE = "store"
RPS_PROVISIONAL = "provisional"
RPS_COMPLETED = "completed"
RPS_TGONE = "tgone"

_ERROR_TEXT = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
    200: "OK", 300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy",
    380: "Alternative Service", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone", 413: "Request Entity Too Large",
    414: "Request-URI Too Long", 415: "Unsupported Media Type", 416: "Unsupported URI Scheme",
    417: "Bad Extension", 421: "Extension Required", 423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-Out", 505: "Version Not Supported",
    513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}

_CLASS_PRIO = {0: 32000, 1: 11000, 2: 0, 3: 3000, 4: 4000, 5: 5000, 6: 1000}


def error_text(code: int) -> str:
    """core/error.c ``error_text``: the reason phrase tm uses for replies it makes up."""
    t = _ERROR_TEXT.get(code)
    if t is not None:
        return t
    for limit, text in ((600, "Global Failure"), (500, "Server Failure"), (400, "Request Failure"),
                        (300, "Redirection"), (200, "Successful"), (100, "Provisional")):
        if code >= limit:
            return text
    return "Unspecified"


def err2reason(error: int, signature: str = "TM") -> tuple[int, str]:
    """core ``err2reason_phrase`` with tm's signature."""
    return _err2reason(error, signature)


def tm_to_tag(ctx) -> str:
    """tm's To tag: MD5("SER-TM/tags" + first listen address + port) "-" CRC suffix."""
    script = ctx.script
    first = script.listen[0] if script.listen else None
    prefix = _tm_tag_prefix(first.ip if first else "", str(first.port) if first else "")
    return f"{prefix}-{output.to_tag_suffix(ctx)}"


@lru_cache(maxsize=64)
def _tm_tag_prefix(ip: str, port: str) -> str:
    return hashlib.md5(("SER-TM/tags" + ip + port).encode("utf-8", "surrogateescape")).hexdigest()


def _needs_tag(msg) -> bool:
    to = msg.to
    return to is not None and not to.tag


# ---------------------------------------------------------------- local replies
def t_reply(tm, t: Transaction, ctx, code: int, reason: str) -> int:
    """``_reply``: send a reply of our own for ``t`` (built from ``ctx``, the request)."""
    if code >= 200:
        set_kr(ctx, KR_RPLD)
    if 300 <= code < 400:
        dset = output.print_dset(ctx)
        if dset:
            from ...sip.lumps import add_reply_lump
            add_reply_lump(ctx, dset)
    tag = tm_to_tag(ctx) if code >= 180 and _needs_tag(ctx.msg) else None
    try:
        text = output.build_reply(ctx, code, reason, to_tag=tag)
    except ValueError:
        text = None
    return _reply_light(tm, t, ctx, text, code, tag, reason)


def _reply_light(tm, t: Transaction, ctx, text: str | None, code: int, tag: str | None, reason: str = "") -> int:
    if text is None:
        tm.log(ctx, "ERR", "response building failed")
        if t.is_invite:
            cancel_uacs(tm, t, prepare_to_cancel(t), None, F_CANCEL_B_KILL, ctx)
        stop_timers(t)
        put_on_wait(tm, t)
        return -1
    if t.uas_status >= 200:
        tm.log(ctx, "INFO", f"can't generate {code} reply when a final {t.uas_status} was sent out")
        stop_timers(t)
        put_on_wait(tm, t)
        return -1
    t.uas_status = code
    t.uas_response = text
    if tag:
        t.local_totag = tag
    t.relayed_reply_branch = -2
    if code >= 200:
        stop_timers(t)
        if t.is_invite:
            cancel_uacs(tm, t, prepare_to_cancel(t), CancelReason(cause=code), F_CANCEL_B_KILL, ctx)
    _send_upstream(t, ctx, text)
    if code >= 200 and not t.is_local and "response_out" in t.tmcb:
        tm.run_tmcb("response_out", t, code, reply=FAKED, sink=ctx, reason=reason, to_tag=tag)
    if code >= 200:
        put_on_wait(tm, t)
    return 1


def _send_upstream(t: Transaction, sink, text: str) -> None:
    sent = sink.send("reply", t.uas_dst, text)
    sent.src = t.uas_sock


def t_retransmit_reply(tm, t: Transaction, ctx) -> int:
    """Send the last reply again (a request retransmission arrived)."""
    if not t.uas_response:
        return -1
    _send_upstream(t, ctx, t.uas_response)
    return 1


def kill_transaction(tm, t: Transaction, ctx, error: int) -> int:
    """A stateful error reply for an internal error (``kill_transaction``)."""
    code, reason = err2reason(error)
    return t_reply(tm, t, ctx, code, reason)


def script_t_reply(tm, ctx, code: int, reason: str) -> int:
    """``t_reply()`` from the script (``ki_t_reply``)."""
    if (ctx.msg.method or "").upper() == "ACK":
        return -1
    if ctx.data.get("noreply"):
        tm.log(ctx, "INFO", "message marked with no-reply flag")
        return -2
    if t_check(tm, ctx) == -1:
        return -1
    t = ctx.transaction
    if t is None:
        tm.log(ctx, "ERR", "cannot send a t_reply to a message for which no T-state has been established")
        return -1
    t.flags.add("admin_reply")
    rt = ctx.route_type
    if rt in ("failure", "request"):
        return t_reply(tm, t, ctx, code, reason)
    if rt in ("onreply", "reply"):
        ret = t_reply(tm, t, uas_context(t, ctx), code, reason)
        if rt == "reply":
            ctx.transaction = None
            ctx.data.pop("tm_lookup_done", None)
        return ret
    tm.log(ctx, "CRIT", "w_t_reply entered in unsupported mode")
    return -1


# ---------------------------------------------------------------- picking
def _4xx_prio(xx: int) -> int:
    return xx if xx in (1, 7, 15, 20, 84) else 100 + xx


def get_prio(resp: int, rpl, faked_prio: int = 0) -> int:
    """Lower is better: 6xx, then 2xx... (``get_prio``)."""
    cls = resp // 100
    if cls < 7:
        xx = resp % 100
        prio = _CLASS_PRIO[cls] + (_4xx_prio(xx) if cls == 4 else xx)
    else:
        prio = 10000 + resp
    if rpl is FAKED:
        prio += faked_prio
    return prio


def t_pick_branch(t: Transaction, inc_branch: int, inc_code: int, faked_prio: int = 0) -> tuple[int, int]:
    """(branch, code) of the best final reply; branch -2 while a branch is still pending,
    -1 on error (``t_pick_branch``)."""
    best_b, best_s, best_rpl = -1, 0, None
    for b, uac in enumerate(t.uacs):
        rpl = uac.reply
        if b == inc_branch:
            if get_prio(inc_code, rpl, faked_prio) < get_prio(best_s, best_rpl, faked_prio):
                best_b, best_s, best_rpl = b, inc_code, rpl
            continue
        if uac.request is None and uac.last_received >= 200:
            continue
        if uac.last_received < 200:
            return -2, best_s
        if rpl is not None and get_prio(uac.last_received, rpl, faked_prio) < get_prio(best_s, best_rpl,
                                                                                         faked_prio):
            best_b, best_s, best_rpl = b, uac.last_received, rpl
    return best_b, best_s


def t_pick_branch_blind(t: Transaction) -> tuple[int, int]:
    best_b, best_s = -1, 0
    for b, uac in enumerate(t.uacs):
        if uac.last_received < 200:
            return -2, best_s
        rpl = uac.reply
        if rpl is not None and get_prio(uac.last_received, rpl) < get_prio(best_s, rpl):
            best_b, best_s = b, uac.last_received
    return best_b, best_s


# ---------------------------------------------------------------- relaying
def t_should_relay_response(tm, t: Transaction, new_code: int, branch: int, reply, cd: dict, sink):
    """The heart of reply processing: (status, store the reply, branch to relay or -1)."""
    uac = t.uacs[branch]
    inv_through = 200 <= new_code < 300 and t.is_invite
    if t.uas_status >= 200:
        if inv_through:
            uac.last_received = new_code
            return RPS_PUSHED_AFTER_COMPLETION, False, branch
        return RPS_DISCARDED, False, -1
    if uac.last_received >= 200 and not (inv_through and uac.last_received < 300):
        if uac.last_received != new_code and not (
                uac.last_received == 487 or (uac.last_received == 408 and new_code == 487)):
            tm.log(sink, "WARN", f"status rewrite by UAS: stored: {uac.last_received}, received: {new_code}")
        return RPS_DISCARDED, False, -1
    if new_code >= 300:
        uac.last_received = new_code
        if uac.on_branch_failure is not None:
            uac.reply = reply
            t.picked_branch = branch
            run_branch_failure_handlers(tm, t, branch, new_code, extra_flags_of(uac), sink)
            uac.reply = None
        faked_prio = tm.param("faked_reply_prio")
        picked, picked_code = t_pick_branch(t, branch, new_code, faked_prio)
        if picked == -2:
            if 600 <= new_code <= 699 and not ({"6xx", "disable_6xx"} & t.flags):
                cd["bm"] = prepare_to_cancel(t)
                t.flags.add("6xx")
                cd["reason"] = CancelReason(cause=new_code)
            return RPS_STORE, True, -1
        if picked == -1:
            tm.log(sink, "CRIT", "error -- lowest==-1")
            return RPS_DISCARDED, False, -1
        branch_cnt = len(t.uacs)
        uac.reply = reply
        t.flags.discard("6xx")
        tm.drop_replies = tm.param("failure_reply_mode")
        replies_dropped = False
        t.picked_branch = picked
        sink.data[BRANCH_IDX] = picked
        if t.uacs[picked].on_failure is not None or "on_failure" in t.tmcb:
            run_failure_handlers(tm, t, picked_code, extra_flags_of(t.uacs[picked]), sink)
            drop = tm.drop_replies
            if (drop == 3 and branch_cnt < len(t.uacs)) or (drop not in (0, 3)):
                i = 0
                if drop == 2:
                    i = branch_cnt - 1
                    while i >= 0 and not t.uacs[i].first_in_step:
                        i -= 1
                    i = max(i, 0)
                for j in range(i, branch_cnt):
                    t.uacs[j].reply = None
                picked = -1
                replies_dropped = True
        uac.reply = None
        if t.uas_status >= 200:
            return RPS_COMPLETED, False, -1
        if branch_cnt < len(t.uacs):
            nb, _code = t_pick_branch(t, -1 if replies_dropped else branch, new_code, faked_prio)
            if nb < 0:
                if not replies_dropped:
                    if nb == -2:
                        return RPS_STORE, True, -1
                else:
                    if nb == -2:
                        return RPS_DISCARDED, False, -1
                    return _branches_failed(tm, t, branch, sink)
            else:
                picked = nb
        elif replies_dropped:
            return _branches_failed(tm, t, branch, sink)
        return RPS_COMPLETED, False, picked
    if new_code >= 100:
        uac.last_received = new_code
        relay = -1 if (new_code == 100 and not tm.param("relay_100")) else branch
        if new_code >= 200:
            cd["bm"] = prepare_to_cancel(t)
            cd["reason"] = CancelReason(cause=new_code)
            return RPS_COMPLETED, False, relay
        return RPS_PROVISIONAL, False, relay
    tm.log(sink, "CRIT", f"error - unable to decide whether to relay {new_code}")
    return RPS_DISCARDED, False, -1


def _branches_failed(tm, t, branch, sink):
    if t.is_local:
        return RPS_COMPLETED, False, branch
    code, reason = err2reason(t.tm_error or E_UNSPEC)
    if t_reply(tm, t, uas_context(t, sink), code, reason) <= 0:
        tm.log(sink, "ERR", "reply generation failed")
    return RPS_COMPLETED, False, -1


def _faked_reply_text(tm, t: Transaction, code: int, sink, reason: str | None = None) -> tuple[str, str | None]:
    uctx = uas_context(t, sink)
    tag = tm_to_tag(uctx) if code >= 180 and _needs_tag(uctx.msg) else None
    return output.build_reply(uctx, code, reason if reason is not None else error_text(code), to_tag=tag), tag


def _auth_count(t: Transaction, current) -> int:
    n = 0
    for u in t.uacs:
        r = u.reply
        if r is not None and r is not FAKED and r.msg.status in (401, 407):
            n += 1
    if current is not None and current is not FAKED and current.msg.status in (401, 407):
        if not any(u.reply is current for u in t.uacs):
            n += 1
    return n


def _aggregate_auth(tm, t: Transaction, code: int, current, sink) -> tuple[str, str | None]:
    """One reply carrying the challenges of every 401/407 received (``reply_aggregate_auth``)."""
    hdrs = []
    replies = [u.reply for u in t.uacs if u.reply is not None and u.reply is not FAKED]
    if current is not None and current is not FAKED and all(r is not current for r in replies):
        replies.append(current)
    for r in replies:
        if r.msg.status not in (401, 407):
            continue
        m = r.msg
        for i, h in enumerate(m.headers):
            if h.key in ("www-authenticate", "proxy-authenticate"):
                start, _, _, end = m.spans[i]
                hdrs.append(m.text[start:end])
    uctx = uas_context(t, sink)
    tag = tm_to_tag(uctx) if _needs_tag(uctx.msg) else None
    return output.build_reply(uctx, code, error_text(code), to_tag=tag, extra_headers="".join(hdrs)), tag


def relay_reply(tm, t: Transaction, reply, branch: int, msg_status: int, cd, sink,
                do_put_on_wait: bool = True) -> str:
    """Decide on a reply (received, or FAKED) and relay what has to go upstream."""
    if not isinstance(cd, dict):
        cd = {"bm": [], "reason": None}
    st, save, relay = t_should_relay_response(tm, t, msg_status, branch, reply, cd, sink)
    if st == RPS_TGONE:
        return st
    if save:
        t.uacs[branch].reply = reply
    if relay >= 0:
        relayed = reply if branch == relay else t.uacs[relay].reply
        tag = None
        is_faked = relayed is FAKED or relayed is None
        if is_faked:
            if t.canceled:
                code = 487
            else:
                code = msg_status if branch == relay else t.uacs[relay].last_received
            reason = error_text(code)
            if tm.param("aggregate_challenges") and code in (401, 407) and _auth_count(t, reply) > 1:
                text, tag = _aggregate_auth(tm, t, code, reply, sink)
            else:
                text, tag = _faked_reply_text(tm, t, code, sink)
        else:
            code = relayed.msg.status
            reason = relayed.msg.reason or ""
            if code == 503 and tm.param("remap_503_500"):
                text, tag = _faked_reply_text(tm, t, 500, sink, reason=error_text(503))
                code, reason = 500, error_text(503)
                is_faked = True
            elif tm.param("aggregate_challenges") and code in (401, 407) and _auth_count(t, reply) > 1:
                text, tag = _aggregate_auth(tm, t, code, reply, sink)
                reason = error_text(code)
                is_faked = True
            else:
                text = output.build_forwarded_reply(relayed)
        totag_retr = False
        pushed_ok = tm.param("reply_relay_mode") == 0 or st != RPS_PUSHED_AFTER_COMPLETION
        if pushed_ok:
            t.uas_response = text
            t.uas_status = code
            t.relayed_reply_branch = relay
            if is_faked and tag:
                t.local_totag = tag
            if t.is_invite and not is_faked and 200 <= code < 300 and t.tmcb & {"response_out", "e2eack"}:
                totag_retr = _update_totag_set(t, relayed.msg)
        _send_upstream(t, sink, text)
        if not totag_retr and pushed_ok and "response_out" in t.tmcb:
            tm.run_tmcb("response_out", t, code, reply=FAKED if is_faked else relayed, sink=sink, reason=reason,
                        to_tag=tag)
        if do_put_on_wait and st == RPS_COMPLETED:
            put_on_wait(tm, t)
    return st


def _update_totag_set(t: Transaction, msg) -> bool:
    """Remember the To tag of a relayed 2xx; True when it was already known (a retransmission)."""
    tag = msg.to.tag if msg.to is not None else None
    if not tag:
        return False
    if any(entry[0] == tag for entry in t.fwded_totags):
        return True
    t.fwded_totags.append([tag, False])
    return False


# ---------------------------------------------------------------- replies received
def on_reply(tm, ctx):
    """A reply arrived (core receive_msg for replies, then tm's ``reply_received``)."""
    from ...script import Result
    script = tm.script
    res = Result(ctx=ctx)
    script._last_ctx = ctx
    forward = True
    ref = script.routes.get(("reply", None))
    if ref is not None:
        ctx.route_type = "reply"
        code, dropped = script.run_top(ref, ctx)
        res.exit_code, res.dropped = code, dropped
        if dropped or code == 0:
            forward = False
        elif code < 0:
            tm.log(ctx, "WARN", "error while trying onreply script", source="core")
            forward = False
    if forward:
        via1 = ctx.msg.vias[0]
        check_via = script.core_params.get("check_via", 0)
        if isinstance(check_via, int) and check_via and not script.host_is_myself(via1.host,
                                                                                     via1.port_no or 5060):
            tm.log(ctx, "ERR", f"host in first via!=me : {via1.host}:{via1.port_no}", source="core")
        elif reply_received(tm, ctx):
            output.forward_reply(ctx, run_callbacks=False)
    res.sent = ctx.sent
    res.log = ctx.logs
    return res


def reply_received(tm, ctx) -> int:
    """tm's response callback: 0 when tm took the reply, 1 to forward it statelessly."""
    script = tm.script
    t_check_msg(tm, ctx)
    t = ctx.transaction
    branch = ctx.data.get(BRANCH_IDX, -1)
    if t is None or branch < 0:
        name = tm.param("on_sl_reply")
        if name:
            ref = script.routes.get(("onreply", name))
            if ref is not None:
                saved = ctx.route_type
                ctx.route_type = "reply"
                code, dropped = script.run_top(ref, ctx)
                ctx.route_type = saved
                return 0 if (dropped or code == 0) else 1
        return 1
    msg = ctx.msg
    msg_status = msg.status
    uac = t.uacs[branch]
    last = uac.last_received
    if msg.cseq.method.upper() == "CANCEL" and t.is_invite:
        return 0  # reply to our CANCEL: stops its timers, nothing else
    onreply = uac.on_reply
    if msg_status >= 200:
        uac.fr_deadline = None
        if t.is_invite and msg_status >= 300:
            send_ack(tm, t, branch, ctx)
    else:
        if RB_CANCELED in uac.flags:
            if uac.local_cancel:
                sent = ctx.send("request", uac.dst, uac.local_cancel)  # retransmit our CANCEL
                sent.src = uac.send_sock
            elif not uac.cancel_busy:
                if t.cancel_reason:
                    reason = CancelReason(headers=t.cancel_reason)
                else:
                    reason = CancelReason(cause=t.uas_status if t.uas_status >= 200 else 0)
                uac.cancel_busy = True
                cancel_branch(tm, t, branch, reason, F_CANCEL_B_FORCE_C, ctx)
            return 0
    if onreply is not None:
        ref = script.routes.get(("onreply", onreply))
        if ref is not None:
            saved = (ctx.route_type, ctx.flags, ctx.avps, ctx.xavps, ctx.bflags)
            ctx.route_type = "onreply"
            ctx.flags = t.request.flags
            ctx.avps = t.request.avps
            ctx.xavps = t.request.xavps
            ctx.bflags = uac.branch_flags
            if msg_status > last:
                uac.last_received = msg_status
            _, dropped = script.run_top(ref, ctx)
            uac.last_received = last
            t.request.flags = ctx.flags
            uac.branch_flags = ctx.bflags
            ctx.route_type = saved[0]
            ctx.avps, ctx.xavps, ctx.bflags = saved[2], saved[3], saved[4]
            ctx.flags = t.request.flags
            if dropped and msg_status < 200:
                return 0
    cd = {"bm": [], "reason": None}
    st = relay_reply(tm, t, ctx, branch, msg_status, cd, ctx)
    if st == RPS_TGONE:
        return 1
    if st == RPS_COMPLETED:
        stop_timers(t)
        if t.is_invite and cd["bm"]:
            cancel_uacs(tm, t, cd["bm"], cd["reason"], F_CANCEL_B_KILL, ctx)
    elif cd["bm"]:
        cancel_uacs(tm, t, cd["bm"], cd["reason"], cancel_b_flags(tm), ctx)
    uac.flags.add(RB_REPLIED)
    if st == RPS_ERROR:
        return 0
    if t.is_invite and msg_status < 200 and uac.fr_deadline is not None and (
            tm.param("restart_fr_on_each_reply") or (last < msg_status and (msg_status >= 180 or last == 0))):
        tm.restart_fr(t, uac, t.fr_inv_timeout)
        uac.flags.add(RB_FR_INV)
    return 0


# ---------------------------------------------------------------- timeouts
def fake_reply(tm, t: Transaction, branch: int, code: int, sink) -> None:
    """A branch timed out (``fake_reply``): a local 408 goes through the reply logic."""
    from .cancel import prepare_cancel_branch
    do_cancel = t.is_invite and prepare_cancel_branch(t, branch, False)
    uac = t.uacs[branch]
    uac.flags.add(RB_CANCELED)
    uac.flags.add(RB_RELAYREPLY)
    st = relay_reply(tm, t, FAKED, branch, code, {"bm": [], "reason": None}, sink, do_put_on_wait=False)
    if st == RPS_TGONE:
        return
    if do_cancel:
        cancel_branch(tm, t, branch, CancelReason(), 0, sink)
    if st == RPS_COMPLETED:
        put_on_wait(tm, t)
