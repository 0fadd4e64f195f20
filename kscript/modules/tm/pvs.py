"""tmx's pseudo-variables (modules/tmx/t_var.c, tmx_mod.c @5.6.3).

``$T_branch_idx``, ``$T_reply_code``, ``$T_reply_reason``, ``$T_reply_last``,
``$T_reply_ruid``, ``$T(name)``, ``$T_branch(name)``, ``$T_req(pv)``,
``$T_rpl(pv)``, ``$T_inv(pv)``.  Their value depends on the route type:
the current reply in reply routes, the winning reply in failure routes, the
last reply sent upstream in request/branch routes.
"""

from __future__ import annotations

from ...pv.base import PVClass, PVFailed
from ...runtime.context import MsgContext
from .failure import BRANCH_IDX
from .lookup import t_check
from .reply import FAKED, error_text

_T_NAMES = {"id_label": 0, "id_index": 1, "reply_code": 2, "reply_type": 3, "branch_index": 4, "flags": 5,
            "uri": 6, "ruid": 7, "id_label_n": 8, "id_index_n": 9, "reply_reason": 10}


def _tm(ctx):
    return ctx.script.modules.get("tm")


def _rt(ctx) -> str:
    return ctx.route_type


# core/route.h@5.6.3 route type bits, for Kamailio's "unsupported route_type N" logs
ROUTE_TYPE_BITS = {"request": 1, "route": 1, "failure": 2, "onreply": 4, "branch": 8, "onsend": 16,
                   "local": 64, "reply": 128, "branch_failure": 256, "event": 1 | 512}


def branch_idx(ctx):
    """``$T_branch_idx``."""
    if not ctx.msg.is_request:
        return ctx.data.get(BRANCH_IDX, -1)
    rt = _rt(ctx)
    if rt in ("branch", "branch_failure"):
        return ctx.data.get(BRANCH_IDX, -1)
    if rt == "request":
        return len(ctx.branches)
    if rt == "failure":
        t = ctx.transaction
        if t is None:
            return None
        return len(t.uacs) + len(ctx.branches)
    return -1


def reply_code(ctx):
    """``$T_reply_code``."""
    rt = _rt(ctx)
    if rt in ("reply", "onreply"):
        return ctx.msg.status
    tm = _tm(ctx)
    if tm is None or t_check(tm, ctx) == -1:
        return None
    t = ctx.transaction
    if t is None:
        return 0
    if rt in ("request", "branch"):
        return t.uas_status
    if rt in ("failure", "branch_failure"):
        b = t.picked_branch
        return t.uacs[b].last_received if 0 <= b < len(t.uacs) else 0
    return 0


def reply_reason(ctx):
    """``$T_reply_reason``."""
    tm = _tm(ctx)
    if tm is None or t_check(tm, ctx) == -1:
        return None
    t = ctx.transaction
    if t is None:
        return ""
    rt = _rt(ctx)
    if rt in ("reply", "onreply"):
        if rt == "reply":
            ctx.transaction = None
            ctx.data.pop("tm_lookup_done", None)
        return ctx.msg.reason or ""
    if rt == "failure":
        b = t.picked_branch
        if not 0 <= b < len(t.uacs):
            return None
        r = t.uacs[b].reply
        if r is FAKED:
            return error_text(t.uacs[b].last_received)
        if r is None:
            return None
        return r.msg.reason or ""
    # any other route: tmx logs an error and the read fails (prints empty; recorded)
    ctx.log("ERR", f"unsupported route_type {ROUTE_TYPE_BITS.get(rt, 0)}", source="tmx")
    raise PVFailed("$T_reply_reason")


class _TmPV(PVClass):
    fn = None

    def get(self, ctx, name, idx):
        return type(self).fn(ctx)


class TBranchIdxPV(_TmPV):
    name = "T_branch_idx"
    fn = staticmethod(branch_idx)


class TReplyCodePV(_TmPV):
    name = "T_reply_code"
    fn = staticmethod(reply_code)


class TReplyReasonPV(_TmPV):
    name = "T_reply_reason"
    fn = staticmethod(reply_reason)


class TReplyLastPV(PVClass):
    name = "T_reply_last"

    def get(self, ctx, name, idx):
        if _rt(ctx) != "onreply":
            return None
        tm = _tm(ctx)
        if tm is None or t_check(tm, ctx) == -1 or ctx.transaction is None:
            return None
        b = ctx.data.get(BRANCH_IDX, -1)
        t = ctx.transaction
        return t.uacs[b].last_received if 0 <= b < len(t.uacs) else None


class TReplyRuidPV(PVClass):
    name = "T_reply_ruid"

    def get(self, ctx, name, idx):
        tm = _tm(ctx)
        if tm is None or t_check(tm, ctx) == -1:
            return None
        t = ctx.transaction
        if t is None:
            return ""
        rt = _rt(ctx)
        if rt in ("failure", "branch_failure"):
            b = t.picked_branch if rt == "failure" else ctx.data.get(BRANCH_IDX, -1)
        elif rt == "onreply":
            b = ctx.data.get(BRANCH_IDX, -1)
        else:
            return ""
        if not 0 <= b < len(t.uacs):
            return ""
        return t.uacs[b].ruid or ""


class TPV(PVClass):
    """``$T(name)``: transaction attributes."""

    name = "T"
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        n = _T_NAMES.get(inner)
        if n is None or n in (5, 6, 7):
            raise ValueError(f"unknown PV name {inner}")
        return n

    def get(self, ctx, n, idx):
        if n == 2:
            return reply_code(ctx)
        if n == 4:
            return branch_idx(ctx)
        if n == 10:
            return reply_reason(ctx)
        t = ctx.transaction
        if t is None:
            if n in (8, 9) and ctx.msg.is_request:
                tm = _tm(ctx)
                from .lookup import t_newtran
                if tm is None or t_newtran(tm, ctx) < 0 or ctx.transaction is None:
                    return None
                t = ctx.transaction
            else:
                return None
        if n in (1, 9):
            return t.hash_index
        if n == 3:
            if _rt(ctx) == "failure":
                b = t.picked_branch
                if b < 0:
                    return 0
                if t.uacs[b].reply is FAKED:
                    return 1
            return 0
        return t.label


class TBranchPV(PVClass):
    """``$T_branch(flags|uri|ruid)``."""

    name = "T_branch"
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        n = _T_NAMES.get(inner)
        if n is None:
            raise ValueError(f"unknown PV name {inner}")
        return n

    def get(self, ctx, n, idx):
        t = ctx.transaction
        if t is None:
            return None
        rt = _rt(ctx)
        if n == 5:
            if rt in ("failure", "branch_failure"):
                b = t.picked_branch if rt == "failure" else ctx.data.get(BRANCH_IDX, -1)
            elif rt == "onreply":
                b = ctx.data.get(BRANCH_IDX, -1)
            else:
                return None
            return t.uacs[b].branch_flags if 0 <= b < len(t.uacs) else None
        if n == 6:
            if rt != "onreply":
                return None
            b = ctx.data.get(BRANCH_IDX, -1)
            return t.uacs[b].uri if 0 <= b < len(t.uacs) else None
        if n == 7:
            if rt == "branch":
                b = ctx.data.get(BRANCH_IDX, -1)
                return (t.uacs[b].ruid or "") if 0 <= b < len(t.uacs) else None
            return TReplyRuidPV().get(ctx, None, None)
        return None


class _TVarPV(PVClass):
    """``$T_req(pv)`` / ``$T_rpl(pv)`` / ``$T_inv(pv)``: a PV read on another message."""

    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        return compiler.pv(inner.strip(), None)

    def other(self, ctx):
        raise NotImplementedError

    def get(self, ctx, pv, idx):
        other = self.other(ctx)
        if other is None:
            return None
        return pv.value(other)


def _plain_ctx(ctx, msg, src, rcv, flags=0) -> MsgContext:
    c = MsgContext(ctx.script, msg, src, rcv, route_type=ctx.route_type)
    c.flags = flags
    c.sent = []
    c.logs = ctx.logs
    return c


class TReqPV(_TVarPV):
    name = "T_req"

    def other(self, ctx):
        if _rt(ctx) not in ("reply", "onreply"):
            return None
        t = ctx.transaction
        if t is None:
            tm = _tm(ctx)
            if tm is None or t_check(tm, ctx) == -1 or ctx.transaction is None:
                return None
            t = ctx.transaction
        rs = t.request
        return _plain_ctx(ctx, rs.msg, rs.src, rs.rcv, rs.flags)


class TRplPV(_TVarPV):
    name = "T_rpl"

    def other(self, ctx):
        if _rt(ctx) not in ("failure", "branch_failure") or not ctx.msg.is_request:
            return None
        t = ctx.transaction
        if t is None:
            return None
        b = t.picked_branch
        if not 0 <= b < len(t.uacs):
            return None
        r = t.uacs[b].reply
        if r is None or r is FAKED:
            return None
        return _plain_ctx(ctx, r.msg, r.src, r.rcv)


class TInvPV(_TVarPV):
    name = "T_inv"

    def other(self, ctx):
        msg = ctx.msg
        if not msg.is_request or (msg.method or "").upper() != "CANCEL":
            return None
        tm = _tm(ctx)
        if tm is None:
            return None
        t = tm.table.lookup_original(msg, tm.hash_of(ctx))
        if t is None:
            return None
        rs = t.request
        return _plain_ctx(ctx, rs.msg, rs.src, rs.rcv, rs.flags)


TMX_PVS = (TBranchIdxPV, TReplyCodePV, TReplyReasonPV, TReplyLastPV, TReplyRuidPV, TPV, TBranchPV, TReqPV,
           TRplPV, TInvPV)
