"""The tm module: stateful processing (modules/tm/tm.c @5.6.3: parameters and the
script functions, with Kamailio's return codes).

Hooks used by the rest of kscript:

* ``on_reply(ctx)`` -- :meth:`Script.process` hands every received reply to tm
  (core ``reply_route`` included, see :mod:`.reply`);
* ``send_reply_hook(ctx, code, reason)`` -- sl's ``send_reply()`` replies through
  tm when the message has a transaction;
* ``post_script(ctx)`` -- end of the request route (delayed error replies,
  transactions left unreplied);
* ``on_clock(now)`` -- timers (:mod:`.timers`), called by
  :func:`kscript.testing.clock.run_timers` and :meth:`Script.tick`.
"""

from __future__ import annotations

from ...runtime.regex import compile_posix
from ...runtime.values import to_str
from ...sip.output import transaction_hash
from ..base import Module, Param, function
from . import serial, timers
from .cancel import e2e_cancel
from .failure import BRANCH_IDX, MSG_FLAGS
from .lookup import (E_SCRIPT, E_UNSPEC, get_t, set_kr, t_check, t_check_msg, t_newtran, t_release_transaction,
                     t_unref)
from .relay import Proxy, parse_proxy, save_msg_lumps, t_forward_nonack, t_relay_to
from .reply import on_reply, script_t_reply, t_pick_branch, t_pick_branch_blind, t_retransmit_reply
from .transaction import KR_FWDED, RB_REPLIED, RB_TIMEOUT, TransactionTable, method_of

_T_IS_SET = {"failure_route": "failure", "onreply_route": "onreply", "branch_route": "branch"}


class TmModule(Module):
    name = "tm"
    params = {
        "ruri_matching": Param("int", 1), "via1_matching": Param("int", 1), "callid_matching": Param("int", 0),
        "callid_cseq_matching": Param("int", 0),
        "fr_timer": Param("int", 30000), "fr_inv_timer": Param("int", 120000), "wt_timer": Param("int", 5000),
        "retr_timer1": Param("int", 500), "retr_timer2": Param("int", 4000),
        "max_inv_lifetime": Param("int", 180000), "max_noninv_lifetime": Param("int", 32000),
        "noisy_ctimer": Param("int", 1), "auto_inv_100": Param("int", 1),
        "auto_inv_100_reason": Param("str", "trying -- your call is important to us"),
        "unix_tx_timeout": Param("int", 500), "restart_fr_on_each_reply": Param("int", 1),
        "fr_timer_avp": Param("str", ""), "fr_inv_timer_avp": Param("str", ""),
        "tw_append": Param("str", None, multi=True), "pass_provisional_replies": Param("int", 0),
        "aggregate_challenges": Param("int", 1), "unmatched_cancel": Param("int", 0),
        "default_code": Param("int", 500), "default_reason": Param("str", "Server Internal Error"),
        "reparse_invite": Param("int", 1), "ac_extra_hdrs": Param("str", ""),
        "blst_503": Param("int", 0), "blst_503_def_timeout": Param("int", 0),
        "blst_503_min_timeout": Param("int", 0), "blst_503_max_timeout": Param("int", 3600),
        "blst_methods_add": Param("int", 1), "blst_methods_lookup": Param("int", -9),
        "cancel_b_method": Param("int", 1), "reparse_on_dns_failover": Param("int", 1),
        "on_sl_reply": Param("str", ""), "contacts_avp": Param("str", ""), "contact_flows_avp": Param("str", ""),
        "disable_6xx_block": Param("int", 0), "local_ack_mode": Param("int", 0),
        "failure_reply_mode": Param("int", 3), "faked_reply_prio": Param("int", 0),
        "remap_503_500": Param("int", 1), "failure_exec_mode": Param("int", 0),
        "dns_reuse_rcv_socket": Param("int", 0), "local_cancel_reason": Param("int", 1),
        "e2e_cancel_reason": Param("int", 1), "xavp_contact": Param("str", ""),
        "event_callback": Param("str", ""), "relay_100": Param("int", 0), "rich_redirect": Param("int", 0),
        "event_callback_lres_sent": Param("str", ""), "exec_time_check": Param("int", 5000),
        "reply_relay_mode": Param("int", 1), "enable_uac_fr": Param("int", 0),
    }

    def init(self) -> None:
        from ...errors import ConfigError
        self._tmcb_fns: dict[str, list] = {}  # all modules are added before init()
        if self.param("contacts_avp") and not self.param("contact_flows_avp"):
            raise ConfigError("tm: contact_flows_avp param has not been defined")
        if self.param("cancel_b_method") not in (0, 1, 2):
            raise ConfigError("tm: bad cancel branch method")
        self.table = TransactionTable(self.param_values)
        self.drop_replies = self.param("failure_reply_mode")
        self._pv_cache: dict = {}
        self._rx_cache: dict = {}

    # ------------------------------------------------------------ helpers
    def now(self) -> float:
        return self.script.clock()

    def hash_of(self, ctx) -> int:
        # asked several times per request (t_check_trans, t_newtran...): kept with the
        # message's parsed views (dropped when Call-ID or CSeq is patched)
        cache = ctx.msg._cache
        h = cache.get("tm_hash")
        if h is None:
            h = cache["tm_hash"] = transaction_hash(ctx)
        return h

    def max_branches(self) -> int:
        v = self.script.core_params.get("max_branches", 12)
        return v if isinstance(v, int) and v > 0 else 12

    def purge(self) -> None:
        self.table.purge(self.now())

    def log(self, ctx, level: str, text: str, source: str | None = None) -> None:
        ctx.log(level, text, source=source or "tm")

    def start_fr(self, t, uac) -> None:
        timers.start_fr(self, t, uac)

    def restart_fr(self, t, uac, timeout: float) -> None:
        timers.start_fr(self, t, uac, timeout)

    def var_str(self, ctx, value):
        """A ``fixup_var_str`` parameter: a string starting with ``$`` is read as a PV."""
        if not isinstance(value, str) or not value.strip().startswith("$"):
            return None if value is None else to_str(value)
        text = value.strip()
        pv = self._pv_cache.get(text)
        if pv is None:
            from ...pv.spec import PVSyntaxError, scan_pv
            try:
                _, end = scan_pv(text, 0)
                pv = self.script.compiler.pv(text[:end], ctx.cur_pos)
            except (PVSyntaxError, Exception):  # noqa: BLE001 - not a PV: a plain string
                pv = False
            self._pv_cache[text] = pv
        if pv is False:
            return text
        v = pv.value(ctx)
        return None if v is None else to_str(v)

    # ------------------------------------------------------------ transaction callbacks (tmcb)
    def run_tmcb(self, kind: str, *args, **kw) -> None:
        """Call ``tmcb_<kind>(...)`` of every module defining it (Kamailio's TMCB_*
        callbacks).  ``request_in`` runs for every new transaction; the others only
        for transactions where a module registered ``kind`` in ``t.tmcb``."""
        fns = self._tmcb_fns.get(kind)
        if fns is None:  # modules are fixed once loaded: resolve each kind once
            fns = []
            for mod in list(self.script.modules.values()):
                fn = getattr(mod, "tmcb_" + kind, None)
                if callable(fn):
                    fns.append(fn)
            self._tmcb_fns[kind] = fns
        for fn in fns:
            fn(*args, **kw)

    def registered_tmcb(self, t) -> None:
        """Per-transaction callbacks registered in TMCB_REQUEST_IN (acc keeps its
        registration in ``t.request.data["acc_tmcb"]``)."""
        reg = t.request.data.get("acc_tmcb")
        if reg is not None:
            t.tmcb.add("response_out")
            if reg.get("failure"):
                t.tmcb.add("on_failure")
            if reg.get("ack"):
                t.tmcb.add("e2eack")

    # ------------------------------------------------------------ hooks
    def on_reply(self, ctx):
        return on_reply(self, ctx)

    def send_reply_hook(self, ctx, code: int, reason: str):
        """sl's ``send_reply()``: reply statefully when the message has a transaction."""
        if ctx.transaction is None:
            return None
        return script_t_reply(self, ctx, code, reason)

    def post_script(self, ctx) -> None:
        if ctx.msg.is_request and ctx.route_type == "request":
            t_unref(self, ctx)

    def on_clock(self, now: float):
        return timers.run_timers(self, now) or None

    # ------------------------------------------------------------ creating / finding
    @function("t_newtran")
    def t_newtran(self, ctx):
        ret = t_newtran(self, ctx)
        if ret == E_SCRIPT:
            self.log(ctx, "NOTICE", f"transaction already in process {_ptr(get_t(ctx))}")
        return ret

    @function("t_lookup_request")
    def t_lookup_request(self, ctx):
        return 1 if t_check_msg(self, ctx) == 1 else -1

    @function("t_lookup_cancel")
    def t_lookup_cancel0(self, ctx):
        return self._lookup_cancel(ctx, 0)

    @function("t_lookup_cancel", "igp")
    def t_lookup_cancel1(self, ctx, flags):
        return self._lookup_cancel(ctx, flags or 0)

    def _lookup_cancel(self, ctx, flags: int) -> int:
        if method_of(ctx.msg) != "CANCEL":
            self.log(ctx, "WARN", "script error - t_lookup_cancel() called for non-CANCEL request")
            return -1
        t = self.table.lookup_original(ctx.msg, self.hash_of(ctx))
        if t is None:
            return -1
        if flags:
            ctx.flags = t.request.flags
        return 1

    @function("t_check_trans")
    def t_check_trans(self, ctx):
        rt = ctx.route_type
        if rt in ("failure", "branch", "branch_failure", "onreply"):
            return 1
        if not ctx.msg.is_request:
            return 1 if t_check_msg(self, ctx) == 1 else -1
        if method_of(ctx.msg) == "CANCEL":
            return self._lookup_cancel(ctx, 0)
        st = t_check_msg(self, ctx)
        if st == -2:
            return 1
        if st == 1:
            t = get_t(ctx)
            if method_of(ctx.msg) == "ACK":
                t_release_transaction(self, ctx, t)
            else:
                t_retransmit_reply(self, t, ctx)
            return 0
        return -1

    @function("t_release")
    def t_release(self, ctx):
        if ctx.route_type != "request":
            self.log(ctx, "INFO", "invalid usage - not in request route")
            return -1
        if t_check(self, ctx) == -1:
            return -1
        t = get_t(ctx)
        if t is not None:
            ret = t_release_transaction(self, ctx, t)
            ctx.transaction = None
            ctx.data.pop("tm_lookup_done", None)
            return ret
        return 1

    @function("t_retransmit_reply")
    def t_retransmit_reply(self, ctx):
        if t_check(self, ctx) == -1:
            return 1
        t = get_t(ctx)
        if t is None:
            return -1
        if method_of(ctx.msg) == "ACK":
            self.log(ctx, "WARN", "ACKs transmit_replies not replied")
            return -1
        return t_retransmit_reply(self, t, ctx)

    @function("t_save_lumps")
    def t_save_lumps(self, ctx):
        if ctx.route_type == "request":
            t = get_t(ctx)
            if t is None:
                self.log(ctx, "ERR", "transaction has not been created yet")
                return -1
            save_msg_lumps(t, ctx)
        return 1

    # ------------------------------------------------------------ replying
    def _code_reason(self, ctx, code, reason):
        if code is None:
            code = self.param("default_code")
        r = self.var_str(ctx, reason)
        if r is None:
            r = self.param("default_reason")
        return code, r

    @function("t_reply", "igp", "any")
    def t_reply(self, ctx, code, reason):
        if method_of(ctx.msg) == "ACK" and ctx.msg.is_request:
            return -1
        code, reason = self._code_reason(ctx, code, reason)
        return script_t_reply(self, ctx, code, reason)

    @function("t_send_reply", "igp", "any")
    def t_send_reply(self, ctx, code, reason):
        if method_of(ctx.msg) == "ACK" and ctx.msg.is_request:
            return -1
        code, reason = self._code_reason(ctx, code, reason)
        if t_newtran(self, ctx) == 0:
            self.log(ctx, "NOTICE", f"transaction already in process {_ptr(get_t(ctx))}")
        return script_t_reply(self, ctx, code, reason)

    # ------------------------------------------------------------ relaying
    def _relay(self, ctx, proxy: Proxy | None, proto: str | None) -> int:
        rt = ctx.route_type
        if rt in ("failure", "branch_failure"):
            t = get_t(ctx)
            if t is None:
                self.log(ctx, "CRIT", "undefined T")
                return -1
            res = t_forward_nonack(self, t, ctx, proxy, proto)
            if res <= 0:
                if res != -6:
                    self.log(ctx, "ERR", "t_forward_noack failed")
                t.tm_error = ctx.data.get("ser_error", E_UNSPEC)
                return -1
            return 1
        if rt == "request":
            return t_relay_to(self, ctx, proxy, proto)
        self.log(ctx, "CRIT", f"unsupported route type: {rt}")
        return 0

    @function("t_relay")
    def t_relay0(self, ctx):
        return self._relay(ctx, None, None)

    @function("t_relay", "str", "str")
    def t_relay2(self, ctx, host, port):
        return self._relay(ctx, self._hostport(host, port, None), ctx.src.proto)

    def _hostport(self, host: str, port: str, proto: str | None) -> Proxy:
        p = port.strip()
        return Proxy(host.strip(), int(p) if p.isdigit() else None, proto)

    @function("t_relay_to_udp")
    def t_relay_to_udp0(self, ctx):
        return self._relay(ctx, None, "udp")

    @function("t_relay_to_udp", "str", "str")
    def t_relay_to_udp2(self, ctx, host, port):
        return self._relay(ctx, self._hostport(host, port, None), "udp")

    @function("t_relay_to_tcp")
    def t_relay_to_tcp0(self, ctx):
        return self._relay(ctx, None, "tcp")

    @function("t_relay_to_tcp", "str", "str")
    def t_relay_to_tcp2(self, ctx, host, port):
        return self._relay(ctx, self._hostport(host, port, None), "tcp")

    @function("t_relay_to_tls")
    def t_relay_to_tls0(self, ctx):
        return self._relay(ctx, None, "tls")

    @function("t_relay_to_tls", "str", "str")
    def t_relay_to_tls2(self, ctx, host, port):
        return self._relay(ctx, self._hostport(host, port, None), "tls")

    @function("t_relay_to_sctp")
    def t_relay_to_sctp0(self, ctx):
        return self._relay(ctx, None, "sctp")

    @function("t_relay_to_sctp", "str", "str")
    def t_relay_to_sctp2(self, ctx, host, port):
        return self._relay(ctx, self._hostport(host, port, None), "sctp")

    @function("t_relay_to")
    def t_relay_to0(self, ctx):
        return self._relay(ctx, None, None)

    @function("t_relay_to", "str")
    def t_relay_to1(self, ctx, arg):
        flags = _parse_flags(arg)
        if flags is not None:
            return self._relay_flags(ctx, None, flags)
        return self._relay(ctx, parse_proxy(arg), None)

    @function("t_relay_to", "str", "str")
    def t_relay_to2(self, ctx, addr, flags):
        fl = _parse_flags(flags) or 0
        return self._relay_flags(ctx, parse_proxy(addr), fl)

    def _relay_flags(self, ctx, proxy, flags: int) -> int:
        if flags & 1:
            self._set_flag(ctx, "auto_inv_100", False)
        if flags & 2:
            self._set_flag(ctx, "disable_internal_reply", True)
        if flags & 4:
            self._set_flag(ctx, "disable_failover", True)
        return self._relay(ctx, proxy, None)

    @function("t_relay_to_avp", "any", "any")
    def t_relay_to_avp(self, ctx, proto, addr):
        # The parameters name AVPs the old way ("$proto" = the AVP "proto"; so
        # "$avp(proto)" names an AVP called "avp(proto)", which never exists -- recorded);
        # other strings are used as they are.
        p = self._avp_param(ctx, proto)
        a = self._avp_param(ctx, addr)
        if not a:
            self.log(ctx, "ERR", "host name is empty")
            return -1
        px = parse_proxy(a, (p or "").lower() or None)
        return self._relay(ctx, px, None)

    @staticmethod
    def _avp_param(ctx, value) -> str:
        text = "" if value is None else str(value)
        if not text.startswith("$"):
            return text
        name = text[1:]
        stack = ctx.avps.get(("s", name[2:] if name.startswith("s:") else name))
        return "" if not stack else str(stack[0])

    @function("t_forward_nonack", "str", "str")
    def t_forward_nonack2(self, ctx, host, port):
        return self._forward_nonack(ctx, self._hostport(host, port, None), None)

    @function("t_forward_nonack_uri")
    def t_forward_nonack_uri(self, ctx):
        return self._forward_nonack(ctx, None, None)

    @function("t_forward_nonack_udp", "str", "str")
    def t_forward_nonack_udp(self, ctx, host, port):
        return self._forward_nonack(ctx, self._hostport(host, port, None), "udp")

    @function("t_forward_nonack_tcp", "str", "str")
    def t_forward_nonack_tcp(self, ctx, host, port):
        return self._forward_nonack(ctx, self._hostport(host, port, None), "tcp")

    @function("t_forward_nonack_tls", "str", "str")
    def t_forward_nonack_tls(self, ctx, host, port):
        return self._forward_nonack(ctx, self._hostport(host, port, None), "tls")

    def _forward_nonack(self, ctx, proxy, proto) -> int:
        if t_check(self, ctx) == -1:
            self.log(ctx, "ERR", "can't forward when no transaction was set up")
            return -1
        t = get_t(ctx)
        if t is None:
            return -1
        if method_of(ctx.msg) == "ACK":
            self.log(ctx, "WARN", "you don't really want to fwd hop-by-hop ACK")
            return -1
        return t_forward_nonack(self, t, ctx, proxy, proto)

    @function("t_relay_cancel")
    def t_relay_cancel(self, ctx):
        if method_of(ctx.msg) != "CANCEL":
            return 1
        t_invite = self.table.lookup_original(ctx.msg, self.hash_of(ctx))
        if t_invite is None:
            return 1
        new_tran = t_newtran(self, ctx)
        if new_tran <= 0 and new_tran != E_SCRIPT:
            return 0 if new_tran == 0 else new_tran
        e2e_cancel(self, ctx, get_t(ctx), t_invite)
        set_kr(ctx, KR_FWDED)
        return 0

    # ------------------------------------------------------------ route arming
    def _arm(self, ctx, kind: str, name: str) -> int:
        value = None if name in ("", "0") else name
        t = get_t(ctx)
        if t is None:
            ctx.armed[kind] = value
        else:
            setattr(t, {"failure": "on_failure", "onreply": "on_reply", "branch": "on_branch",
                        "branch_failure": "on_branch_failure"}[kind], value)
        return 1

    @function("t_on_failure", "str")
    def t_on_failure(self, ctx, name):
        return self._arm(ctx, "failure", name)

    @function("t_on_reply", "str")
    def t_on_reply(self, ctx, name):
        return self._arm(ctx, "onreply", name)

    @function("t_on_branch", "str")
    def t_on_branch(self, ctx, name):
        return self._arm(ctx, "branch", name)

    @function("t_on_branch_failure", "str")
    def t_on_branch_failure(self, ctx, name):
        return self._arm(ctx, "branch_failure", name)

    @function("t_is_set", "str")
    def t_is_set(self, ctx, target):
        kind = _T_IS_SET.get(target)
        if kind is None:
            self.log(ctx, "ERR", f"invalid parameter value: {target}")
            return -1
        t = get_t(ctx)
        if t is None:
            v = ctx.armed.get(kind)
        else:
            v = {"failure": t.on_failure, "onreply": t.on_reply, "branch": t.on_branch}[kind]
        return 1 if v else -1

    # ------------------------------------------------------------ status checks
    @function("t_check_status", "any")
    def t_check_status(self, ctx, pattern):
        text = self.var_str(ctx, pattern)
        if text is None:
            return -1
        rx = self._rx_cache.get(text)
        if rx is None:
            try:
                rx = compile_posix(text, icase=True)
            except Exception:  # noqa: BLE001 - bad regex at run time
                self.log(ctx, "ERR", f"Bad regular expression '{text}'")
                return -1
            self._rx_cache[text] = rx
        status = self._status_for_check(ctx)
        if ctx.route_type == "reply" and ctx.transaction is not None:
            ctx.transaction = None
            ctx.data.pop("tm_lookup_done", None)
        if status is None:
            return -1
        return 1 if rx.search(status) else -1

    def _status_for_check(self, ctx) -> str | None:
        if t_check(self, ctx) == -1:
            return None
        t = get_t(ctx)
        if t is None:
            self.log(ctx, "ERR", "cannot check status for a reply which has no T-state established")
            return None
        rt = ctx.route_type
        if rt == "request":
            return str(t.uas_status)
        if rt in ("onreply", "reply"):
            return f"{ctx.msg.status:03d}"
        if rt == "failure":
            b, code = t_pick_branch(t, -1, 0, self.param("faked_reply_prio"))
            if b == -1:
                b, code = t_pick_branch_blind(t)
            if b < 0:
                self.log(ctx, "CRIT", "BUG: t_pick_branch failed to get a final response in FAILURE_ROUTE")
                return None
            return str(code)
        if rt == "branch_failure":
            b = ctx.data.get(BRANCH_IDX, -1)
            return str(t.uacs[b].last_received) if 0 <= b < len(t.uacs) else None
        self.log(ctx, "ERR", f"unsupported route type {rt}")
        return None

    @function("t_get_status_code")
    def t_get_status_code(self, ctx):
        if t_check(self, ctx) == -1:
            return -1
        t = get_t(ctx)
        if t is None:
            self.log(ctx, "ERR", "cannot check status for a reply which has no T-state established")
            return -1
        rt = ctx.route_type
        if rt == "request":
            code = t.uas_status
        elif rt in ("onreply", "reply"):
            code = ctx.msg.status
        elif rt == "failure":
            b, code = t_pick_branch(t, -1, 0)
            if b == -1:
                b, code = t_pick_branch_blind(t)
            if b < 0:
                return -1
        elif rt == "branch_failure":
            b = ctx.data.get(BRANCH_IDX, -1)
            code = t.uacs[b].last_received
        else:
            self.log(ctx, "ERR", f"unsupported route type {rt}")
            return -1
        return code if code else -1

    def _need_t(self, ctx):
        if t_check(self, ctx) == -1:
            return None
        t = get_t(ctx)
        if t is None:
            self.log(ctx, "ERR", "cannot check a message for which no T-state has been established")
        return t

    @function("t_is_canceled")
    def t_is_canceled(self, ctx):
        t = self._need_t(ctx)
        return 1 if t is not None and t.canceled else -1

    @function("t_is_expired")
    def t_is_expired(self, ctx):
        t = self._need_t(ctx)
        if t is None:
            return -1
        return -1 if t.end_of_life > self.now() else 1

    @function("t_is_retr_async_reply")
    def t_is_retr_async_reply(self, ctx):
        t = self._need_t(ctx)
        return -1 if t is None or "async_suspended" not in t.flags else 1

    @function("t_any_timeout")
    def t_any_timeout(self, ctx):
        t = self._need_t(ctx)
        if t is None:
            return -1
        return 1 if any(RB_TIMEOUT in u.flags for u in t.uacs) else -1

    @function("t_any_replied")
    def t_any_replied(self, ctx):
        t = self._need_t(ctx)
        if t is None:
            return -1
        return 1 if any(RB_REPLIED in u.flags for u in t.uacs) else -1

    @function("t_grep_status", "igp")
    def t_grep_status(self, ctx, code):
        if code is None:
            return -1
        t = self._need_t(ctx)
        if t is None:
            return -1
        return 1 if any(u.last_received == code and RB_REPLIED in u.flags for u in t.uacs) else -1

    @function("t_branch_timeout")
    def t_branch_timeout(self, ctx):
        if ctx.route_type not in ("failure", "branch_failure"):
            self.log(ctx, "ERR", f"unsupported route type {ctx.route_type}")
            return -1
        return 1 if ctx.data.get(MSG_FLAGS, 0) & 1 else -1

    @function("t_branch_replied")
    def t_branch_replied(self, ctx):
        if ctx.route_type not in ("failure", "branch_failure"):
            self.log(ctx, "ERR", f"unsupported route type {ctx.route_type}")
            return -1
        return 1 if ctx.data.get(MSG_FLAGS, 0) & 2 else -1

    @function("t_drop_replies")
    def t_drop_replies0(self, ctx):
        self.drop_replies = 1
        return 1

    @function("t_drop_replies", "str")
    def t_drop_replies1(self, ctx, mode):
        self.drop_replies = {"n": 0, "l": 2}.get(mode[:1], 1)
        return 1

    # ------------------------------------------------------------ timers and flags
    def _user(self, ctx) -> dict:
        return ctx.data.setdefault("tm_user", {})

    @function("t_set_fr", "igp")
    def t_set_fr1(self, ctx, fr_inv):
        return self._set_fr(ctx, fr_inv, 0)

    @function("t_set_fr", "igp", "igp")
    def t_set_fr2(self, ctx, fr_inv, fr):
        return self._set_fr(ctx, fr_inv, fr)

    def _set_fr(self, ctx, fr_inv, fr) -> int:
        if fr_inv is None or fr is None:
            return -1
        t = get_t(ctx)
        if t is None:
            u = self._user(ctx)
            u["fr_inv"] = fr_inv
            u["fr"] = fr
        else:
            timers.change_fr(self, t, fr_inv / 1000.0 if fr_inv else None, fr / 1000.0 if fr else None)
        return 1

    @function("t_reset_fr")
    def t_reset_fr(self, ctx):
        t = get_t(ctx)
        if t is None:
            u = self._user(ctx)
            u.pop("fr_inv", None)
            u.pop("fr", None)
        else:
            timers.change_fr(self, t, self.param("fr_inv_timer") / 1000.0, self.param("fr_timer") / 1000.0)
        return 1

    @function("t_set_retr", "igp", "igp")
    def t_set_retr(self, ctx, t1, t2):
        return 1  # retransmissions are not emulated

    @function("t_reset_retr")
    def t_reset_retr(self, ctx):
        return 1

    @function("t_set_max_lifetime", "igp", "igp")
    def t_set_max_lifetime(self, ctx, inv, noninv):
        if inv is None or noninv is None:
            return -1
        t = get_t(ctx)
        if t is None:
            u = self._user(ctx)
            u["max_inv_lifetime"] = inv
            u["max_noninv_lifetime"] = noninv
        else:
            life = inv if t.is_invite else noninv
            if life:
                t.end_of_life = t.created + life / 1000.0
        return 1

    @function("t_reset_max_lifetime")
    def t_reset_max_lifetime(self, ctx):
        u = self._user(ctx)
        u.pop("max_inv_lifetime", None)
        u.pop("max_noninv_lifetime", None)
        return 1

    def _set_flag(self, ctx, name: str, state: bool) -> int:
        t = get_t(ctx)
        if t is None:
            self._user(ctx).setdefault("flags", {})[name] = state
        elif state:
            t.flags.add(name)
        else:
            t.flags.discard(name)
        return 1

    @function("t_set_auto_inv_100", "igp")
    def t_set_auto_inv_100(self, ctx, v):
        return -1 if v is None else self._set_flag(ctx, "auto_inv_100", bool(v))

    @function("t_set_disable_6xx", "igp")
    def t_set_disable_6xx(self, ctx, v):
        return -1 if v is None else self._set_flag(ctx, "disable_6xx", bool(v))

    @function("t_set_disable_failover", "igp")
    def t_set_disable_failover(self, ctx, v):
        return -1 if v is None else self._set_flag(ctx, "disable_failover", bool(v))

    @function("t_set_no_e2e_cancel_reason", "igp")
    @function("t_disable_e2e_cancel_reason", "igp")
    def t_set_no_e2e_cancel_reason(self, ctx, v):
        return -1 if v is None else self._set_flag(ctx, "no_e2e_cancel_reason", bool(v))

    @function("t_set_disable_internal_reply", "igp")
    def t_set_disable_internal_reply(self, ctx, v):
        return -1 if v is None else self._set_flag(ctx, "disable_internal_reply", bool(v))

    @function("t_load_contacts")
    def t_load_contacts0(self, ctx):
        return serial.t_load_contacts(self, ctx)

    @function("t_load_contacts", "igp")
    def t_load_contacts1(self, ctx, mode):
        if mode is None:
            return -1
        if mode == 1:
            self.log(ctx, "WARN", "proportional t_load_contacts() mode is not emulated: standard order used")
        return serial.t_load_contacts(self, ctx, mode)

    @function("t_next_contacts")
    def t_next_contacts(self, ctx):
        return serial.t_next_contacts(self, ctx)

    @function("t_use_uac_headers")
    def t_use_uac_headers(self, ctx):
        ctx.data["tm_use_uac_headers"] = True
        return 1

    @function("t_clean")
    def t_clean(self, ctx):
        return 1


def _ptr(obj) -> str:
    """A C-pointer-looking text for log lines that print one (``%p``)."""
    return "(nil)" if obj is None else f"0x{id(obj) & 0xFFFFFFFFFFFF:x}"


def _parse_flags(s: str) -> int | None:
    s = s.strip()
    if len(s) > 2 and s[:2] == "0x":
        try:
            return int(s[2:], 16)
        except ValueError:
            return None
    return int(s) if s.isdigit() else None
