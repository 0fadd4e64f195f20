"""Failure handling: the faked request environment failure routes run in
(modules/tm/t_reply.c ``fake_req``/``faked_env``/``run_failure_handlers`` @5.6.3).

A failure route does not run on a message that arrived: tm runs it on a copy of
the request as the transaction stored it (R-URI and ``$du`` as they were when
the transaction was created, message flags as updated by the routes since, the
lumps saved by the first ``t_relay()``), with the transaction's AVPs/XAVPs and
the branch flags of the branch whose reply won.  Changes to the R-URI or
``$du`` make the R-URI usable again for a new branch (serial forking with
``t_relay()``); flag changes are written back to the transaction.

Also here: :class:`TmContext`, a :class:`~kscript.runtime.context.MsgContext`
that notices R-URI / ``$du`` writes (Kamailio's ``ruri_mark_new()``), used for
faked requests and for requests after their R-URI was consumed by ``t_relay()``.
"""

from __future__ import annotations

from ...runtime.context import MsgContext
from .transaction import FAKED_REPLY, RB_REPLIED, RB_TIMEOUT, Transaction

_NEW_URI = MsgContext.__dict__["new_uri"]
_DST_URI = MsgContext.__dict__["dst_uri"]

#: ctx.data keys
RURI_NEW = "tm_ruri_new"          # False once t_relay() consumed the R-URI
MSG_FLAGS = "tm_msg_flags"        # FL_TIMEOUT / FL_REPLIED of a faked request
BRANCH_IDX = "tm_branch"          # tm_ctx branch index (-1 undefined)


class TmContext(MsgContext):
    """A message context whose R-URI and ``$du`` writes mark the R-URI as new."""

    __slots__ = ()

    @property
    def new_uri(self):
        return _NEW_URI.__get__(self, MsgContext)

    @new_uri.setter
    def new_uri(self, value):
        _NEW_URI.__set__(self, value)
        _mark_new(self)

    @property
    def dst_uri(self):
        return _DST_URI.__get__(self, MsgContext)

    @dst_uri.setter
    def dst_uri(self, value):
        _DST_URI.__set__(self, value)
        if value is not None:  # $du = $null does not make the R-URI usable again
            _mark_new(self)


def _mark_new(ctx) -> None:
    try:
        ctx.data[RURI_NEW] = True
    except AttributeError:  # during construction
        pass


def track_ruri(ctx) -> None:
    """From now on, notice R-URI/``$du`` writes on ``ctx`` (plain contexts only)."""
    if type(ctx) is MsgContext:
        ctx.__class__ = TmContext


def ruri_is_new(ctx) -> bool:
    return ctx.data.get(RURI_NEW, True)


def consume_ruri(ctx) -> None:
    """``ruri_mark_consumed()`` (after the branches were used by ``t_relay()``)."""
    track_ruri(ctx)
    ctx.data[RURI_NEW] = False


def faked_request(t: Transaction, sink, uac=None, extra_flags: int = 0) -> TmContext:
    """``fake_req`` + ``faked_env``: a context on the transaction's stored request.

    Output (sent messages, log lines) goes to ``sink``'s lists, so that everything a
    reply or a timer caused is reported together, in order."""
    rs = t.request
    script = sink.script if sink is not None else rs.script
    ctx = MsgContext(script, rs.msg, rs.src, rs.rcv, route_type="failure", received_at=rs.received_at)
    ctx.__class__ = TmContext
    ctx.data = dict(rs.data)
    _NEW_URI.__set__(ctx, rs.new_uri)
    _DST_URI.__set__(ctx, rs.dst_uri)
    ctx.flags = rs.flags
    ctx.avps = rs.avps
    ctx.xavps = rs.xavps
    ctx.force_rport = rs.force_rport
    ctx.add_local_rport = rs.add_local_rport
    ctx.force_socket = rs.force_socket
    ctx.lumps = rs.lumps.clone() if rs.lumps is not None else None
    ctx.reply_lumps = list(rs.reply_lumps)
    ctx.bflags = uac.branch_flags if uac is not None else 0
    ctx.transaction = t
    ctx.data[RURI_NEW] = False   # ruri_mark_consumed() in faked_env
    ctx.data[BRANCH_IDX] = -1
    ctx.data[MSG_FLAGS] = extra_flags
    ctx.data["tm_lookup_done"] = True
    if sink is not None:
        ctx.sent = sink.sent
        ctx.logs = sink.logs
        ctx.flow = sink.flow
    return ctx


def uas_context(t: Transaction, sink) -> TmContext:
    """A context on the stored request, for building replies to it (no route runs)."""
    ctx = faked_request(t, sink)
    ctx.route_type = sink.route_type if sink is not None else "request"
    return ctx


def extra_flags_of(uac) -> int:
    """FL_TIMEOUT (1) / FL_REPLIED (2) of the faked request for a branch."""
    f = 0
    if RB_TIMEOUT in uac.flags:
        f |= 1
    if RB_REPLIED in uac.flags:
        f |= 2
    return f


def run_failure_handlers(tm, t: Transaction, code: int, extra_flags: int, sink) -> int:
    """Run the failure route armed for the picked branch; 1 when run."""
    uac = t.uacs[t.picked_branch]
    name = uac.on_failure
    if name is None and "on_failure" not in t.tmcb:
        return 1
    ctx = faked_request(t, sink, uac, extra_flags)
    if "on_failure" in t.tmcb:
        from .reply import FAKED, error_text
        rpl = uac.reply
        reason = error_text(code) if rpl is FAKED or rpl is None else (rpl.msg.reason or "")
        tag = None if rpl is FAKED or rpl is None or rpl.msg.to is None else rpl.msg.to.tag
        tm.run_tmcb("on_failure", t, code, reply=rpl, sink=sink, req_ctx=ctx, reason=reason, to_tag=tag)
    if name is not None:
        t.on_failure = None  # no recursion unless the failure route arms a new one
        ref = tm.script.routes.get(("failure", name))
        if ref is not None:
            tm.script.run_top(ref, ctx)
        t.request.flags = ctx.flags
    return 1


def run_branch_failure_handlers(tm, t: Transaction, branch: int, code: int, extra_flags: int, sink) -> int:
    """``event_route[tm:branch-failure:NAME]`` for a branch that failed."""
    uac = t.uacs[branch]
    name = uac.on_branch_failure
    if name is None:
        return 1
    ctx = faked_request(t, sink, uac, extra_flags)
    ctx.route_type = "branch_failure"
    ctx.data[BRANCH_IDX] = branch
    t.on_branch_failure = None
    ref = tm.script.routes.get(("event", f"tm:branch-failure:{name}"))
    if ref is not None:
        tm.script.run_top(ref, ctx)
    t.request.flags = ctx.flags
    return 1


def reply_of(t: Transaction, branch: int):
    """The stored reply context of a branch (None for none or a faked reply)."""
    r = t.uacs[branch].reply
    return None if r is None or r is FAKED_REPLY else r
