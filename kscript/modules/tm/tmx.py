"""The tmx module: route-type tests, flag flushing and the ``$T_*`` PVs
(modules/tmx/tmx_mod.c, tmx_pretran.c @5.6.3)."""

from __future__ import annotations

from ..base import Module, Param, function
from .pvs import TMX_PVS


class TmxModule(Module):
    name = "tmx"
    params = {"precheck_trans": Param("int", 1)}
    pv_classes = TMX_PVS
    requires = ("tm",)

    def _tm(self, ctx):
        return ctx.script.modules.get("tm")

    @function("t_is_failure_route")
    def t_is_failure_route(self, ctx):
        return 1 if ctx.route_type == "failure" else -1

    @function("t_is_branch_route")
    def t_is_branch_route(self, ctx):
        return 1 if ctx.route_type == "branch" else -1

    @function("t_is_reply_route")
    def t_is_reply_route(self, ctx):
        return 1 if ctx.route_type in ("reply", "onreply") else -1

    @function("t_is_request_route")
    def t_is_request_route(self, ctx):
        return 1 if ctx.route_type == "request" else -1

    @function("t_precheck_trans")
    def t_precheck_trans(self, ctx):
        # true only while another worker processes the same request: never offline
        return -1

    @function("t_flush_flags")
    def t_flush_flags(self, ctx):
        t = ctx.transaction
        if t is None:
            self.log(ctx, "ERR", "failed to flush flags - no transaction found")
            return -1
        t.request.flags = ctx.flags
        return 1

    @function("t_flush_xflags")
    def t_flush_xflags(self, ctx):
        if ctx.transaction is None:
            self.log(ctx, "ERR", "failed to flush flags - no transaction found")
            return -1
        return 1

    @function("t_drop")
    def t_drop0(self, ctx):
        return self._drop(ctx, 500)

    @function("t_drop", "igp")
    def t_drop1(self, ctx, code):
        return self._drop(ctx, 500 if code is None else code)

    def _drop(self, ctx, code: int) -> int:
        t = ctx.transaction
        tm = self._tm(ctx)
        if t is None or tm is None:
            self.log(ctx, "ERR", "no transaction")
            return -1
        from .lookup import t_release_transaction
        t.uas_status = code
        t_release_transaction(tm, ctx, t)
        return 0

    @function("t_cancel_branches", "str")
    def t_cancel_branches(self, ctx, which):
        """``t_cancel_branches("all"|"others"|"this")`` in an onreply_route."""
        from .cancel import F_CANCEL_B_FORCE_C, CancelReason, cancel_uacs, prepare_to_cancel
        from .failure import BRANCH_IDX
        t = ctx.transaction
        tm = self._tm(ctx)
        if t is None or tm is None or ctx.route_type != "onreply":
            return -1
        b = ctx.data.get(BRANCH_IDX, -1)
        if which == "all":
            skip = set()
        elif which == "others":
            skip = {b}
        elif which == "this":
            skip = {i for i in range(len(t.uacs)) if i != b}
        else:
            return -1
        bm = prepare_to_cancel(t, skip)
        cancel_uacs(tm, t, bm, CancelReason(), F_CANCEL_B_FORCE_C if which == "this" else 0, ctx)
        return 1
