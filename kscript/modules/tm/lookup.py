"""Creating and finding transactions for the message being processed
(modules/tm/t_lookup.c ``t_newtran``/``t_check_msg``, t_funcs.c, h_table.c @5.6.3).

Per message, Kamailio keeps "T", the transaction of the message: undefined
until something looks it up, then the transaction or none.  kscript keeps it
in ``ctx.transaction`` (``ctx.data["tm_lookup_done"]`` tells "looked up, none"
from "undefined"), and the kill reason (what the script did with the
transaction: replied, relayed, released) in ``ctx.data["tm_kr"]``.
"""

from __future__ import annotations

from ...sip import output
from .failure import BRANCH_IDX
from .transaction import KR_ERR_DELAYED, KR_EXIST, KR_RLSD, RequestState, Transaction, method_of

# core/error.h
E_UNSPEC = -1
E_OUT_OF_MEM = -2
E_BUG = -5
E_CFG = -6
E_NO_SOCKET = -7
E_BAD_VIA = -8
E_BAD_TUPEL = -9
E_SCRIPT = -10
E_TOO_MANY_BRANCHES = -12
E_BAD_REQ = -400
E_SEND = -477
E_BAD_ADDRESS = -478
E_BAD_URI = -479
E_CANCELED = -487

LOOKUP_DONE = "tm_lookup_done"
KR = "tm_kr"


def set_kr(ctx, bit: int) -> None:
    ctx.data[KR] = ctx.data.get(KR, 0) | bit


def get_kr(ctx) -> int:
    return ctx.data.get(KR, 0)


def get_t(ctx) -> Transaction | None:
    return ctx.transaction


def set_t(ctx, t: Transaction | None, branch: int = -1) -> None:
    ctx.transaction = t
    ctx.data[LOOKUP_DONE] = True
    ctx.data[BRANCH_IDX] = branch


def t_check_msg(tm, ctx) -> int:
    """Find the transaction of ``ctx`` (once per message): 1 found, -1 not found,
    -2 end-to-end ACK of a proxied transaction, 0 error."""
    if ctx.data.get(LOOKUP_DONE):
        return 1 if ctx.transaction is not None else -1
    tm.purge()
    msg = ctx.msg
    if msg.is_request:
        st, t, _canceled = tm.table.lookup_request(msg, tm.hash_of(ctx))
        if st == 0:
            ctx.data[LOOKUP_DONE] = True
            ctx.transaction = None
            return 0
        if st == 1:
            set_t(ctx, t)
            set_kr(ctx, KR_EXIST)
            return 1
        set_t(ctx, None)
        if st == -2:
            ctx.data["tm_e2e_ack"] = t
        return st
    t, branch = tm.table.match_reply(msg)
    set_t(ctx, t, branch if t is not None else -1)
    return 1 if t is not None else -1


def t_check(tm, ctx) -> int:
    """``t_check``: 1 found, 0 not found (or e2e ACK), -1 error."""
    ret = t_check_msg(tm, ctx)
    if ret in (-1, -2):
        return 0
    if ret == 0:
        return -1
    return 1


def snapshot(tm, ctx) -> RequestState:
    """The request as the transaction keeps it (``sip_msg_cloner``)."""
    data = {k: v for k, v in ctx.data.items() if not k.startswith("tm_")}
    return RequestState(script=ctx.script, received_at=ctx.received_at, msg=ctx.msg, src=ctx.src, rcv=ctx.rcv,
                        new_uri=ctx.new_uri, dst_uri=ctx.dst_uri, flags=ctx.flags, force_rport=ctx.force_rport,
                        add_local_rport=ctx.add_local_rport, force_socket=ctx.force_socket, avps=ctx.avps, xavps=ctx.xavps, data=data)


def new_transaction(tm, ctx) -> Transaction:
    """``new_t`` + ``init_new_t``: create the transaction of a request."""
    msg = ctx.msg
    now = tm.now()
    t = Transaction(hash_index=tm.hash_of(ctx), label=tm.table.next_label(), _md5=None,
                    request=snapshot(tm, ctx), method=method_of(msg), created=now)
    user = ctx.data.get("tm_user", {})
    if t.method == "INVITE":
        t.flags.add("invite")
        if tm.param("auto_inv_100"):
            t.flags.add("auto_inv_100")
        if tm.param("disable_6xx_block"):
            t.flags.add("disable_6xx")
        if not tm.param("e2e_cancel_reason"):
            t.flags.add("no_e2e_cancel_reason")
        for name, on in user.get("flags", {}).items():
            if on:
                t.flags.add(name)
            else:
                t.flags.discard(name)
        life = user.get("max_inv_lifetime") or tm.param("max_inv_lifetime")
    else:
        life = user.get("max_noninv_lifetime") or tm.param("max_noninv_lifetime")
    t.end_of_life = now + life / 1000.0
    armed = ctx.armed
    t.on_failure = armed.get("failure")
    t.on_branch_failure = armed.get("branch_failure")
    t.on_reply = armed.get("onreply")
    t.on_branch = armed.get("branch")
    t.fr_timeout = (user.get("fr") or tm.param("fr_timer")) / 1000.0
    t.fr_inv_timeout = (user.get("fr_inv") or tm.param("fr_inv_timer")) / 1000.0
    t.uas_dst = output.reply_destination(ctx)
    t.uas_sock = ctx.rcv
    tm.table.insert(t)
    tm.run_tmcb("request_in", ctx, t)
    tm.registered_tmcb(t)
    return t


def t_newtran(tm, ctx) -> int:
    """``t_newtran``: 1 new transaction (or a request that needs none), 0
    retransmission (handled: the script must end), E_SCRIPT when the message
    already has its transaction, another negative code on error."""
    t = ctx.transaction
    if t is not None:
        t.request.flags = ctx.flags
        return E_SCRIPT
    ctx.data[LOOKUP_DONE] = True
    ctx.transaction = None
    tm.purge()
    msg = ctx.msg
    st, found, canceled = tm.table.lookup_request(msg, tm.hash_of(ctx))
    if st == 0:
        return E_BAD_TUPEL
    if st > 0:
        set_t(ctx, found)
        set_kr(ctx, KR_EXIST)
        if method_of(msg) == "ACK":
            t_release_transaction(tm, ctx, found)
        else:
            from .reply import t_retransmit_reply  # circular: reply imports this module
            t_retransmit_reply(tm, found, ctx)
        return 0
    if st == -2:
        if found is not None and "e2eack" in found.tmcb and unmatched_totag(found, msg):
            tm.run_tmcb("e2eack_in", found, ctx)
        return 1
    if method_of(msg) == "ACK":
        return 1
    try:
        t = new_transaction(tm, ctx)
    except Exception as e:  # noqa: BLE001 - a header kscript cannot use
        tm.log(ctx, "ERR", f"new_t failed ({e})")
        return E_BAD_REQ
    if canceled:
        t.flags.add("canceled")
    set_t(ctx, t)
    return 1


def unmatched_totag(t: Transaction, ack) -> bool:
    """True for the first ACK carrying a To tag of a relayed 2xx (or an unknown tag)."""
    tag = ack.to.tag if ack.to is not None else None
    for entry in t.fwded_totags:
        if entry[0] == tag:
            first = not entry[1]
            entry[1] = True
            return first
    return True


def put_on_wait(tm, t: Transaction) -> None:
    """Schedule the removal of the transaction (wait timer, ``wt_timer``)."""
    if t.wait_until is None:
        tm.table.schedule_wait(t, tm.now() + tm.param("wt_timer") / 1000.0)


def stop_timers(t: Transaction) -> None:
    for uac in t.uacs:
        uac.fr_deadline = None


def t_release_transaction(tm, ctx, t: Transaction) -> int:
    if ctx is not None:
        set_kr(ctx, KR_RLSD)
    stop_timers(t)
    put_on_wait(tm, t)
    return 1


def t_unref(tm, ctx) -> None:
    """End of the request route (``t_unref``): a delayed error reply, or a
    transaction the script neither replied, relayed nor released."""
    t = ctx.transaction
    if t is None or not ctx.msg.is_request:
        return
    kr = get_kr(ctx)
    if kr == KR_ERR_DELAYED:
        from .reply import kill_transaction  # circular: reply imports this module
        if kill_transaction(tm, t, ctx, ctx.data.get("tm_error", E_UNSPEC)) <= 0:
            tm.log(ctx, "WARN", "generation of a delayed stateful reply failed")
            t_release_transaction(tm, ctx, t)
    elif kr == 0 or (method_of(ctx.msg) == "ACK" and not kr & KR_RLSD):
        tm.log(ctx, "WARN", "script writer didn't release transaction")
        t_release_transaction(tm, ctx, t)
