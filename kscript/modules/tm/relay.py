"""Stateful forwarding: ``t_relay()`` and friends (modules/tm/t_funcs.c ``t_relay_to``,
t_fwd.c ``t_forward_nonack``/``add_uac``/``prepare_new_uac``/``t_send_branch``/
``t_forward_cancel`` @5.6.3).

``t_relay()`` creates the transaction (``t_newtran``), answers an INVITE with
tm's own ``100 trying -- your call is important to us``, then adds one branch
for the R-URI (when it was not used yet -- after a ``t_relay()`` it is only
usable again once ``$ru``/``$du`` is written) and one per appended branch
(``ctx.branches``), running the armed ``branch_route`` for each on a copy of
the message edits, and sends them.  ACKs that match no transaction are
forwarded statelessly; CANCELs cancel the INVITE transaction they match
(:mod:`.cancel`).
"""

from __future__ import annotations

from ...sip import output
from ...sip.output import DestinationError, reverse_hex
from .failure import BRANCH_IDX, consume_ruri, ruri_is_new, track_ruri
from .lookup import (E_BAD_ADDRESS, E_CANCELED, E_CFG, E_NO_SOCKET, E_SCRIPT, E_SEND, E_TOO_MANY_BRANCHES,
                     E_UNSPEC, get_t, set_kr, t_newtran, t_release_transaction)
from .transaction import KR_ERR_DELAYED, KR_FWDED, Transaction, Uac, method_of

PROTOS = ("udp", "tcp", "tls", "sctp", "ws", "wss")


class Proxy:
    """A fixed destination given to ``t_relay(host, port)``/``t_relay_to*``
    (``struct proxy_l``): host (an IP offline), port, protocol (None = any)."""

    __slots__ = ("host", "port", "proto")

    def __init__(self, host: str, port: int | None, proto: str | None = None):
        self.host = host
        self.port = port
        self.proto = proto

    def socket(self, force_proto: str | None):
        proto = force_proto or self.proto or "udp"
        ip = output._host_ip(self.host)
        if ip is None:
            raise DestinationError(f"bad host name {self.host}")
        port = self.port or (5061 if proto in ("tls", "wss") else 5060)
        from ...runtime.context import Socket
        return Socket(proto, ip, int(port))

    def __repr__(self) -> str:
        return f"Proxy({self.proto or ''}:{self.host}:{self.port})"


def parse_proxy(text: str, default_proto: str | None = None) -> Proxy:
    """``[proto:]host[:port]`` (``parse_phostport``)."""
    s = text.strip()
    proto = default_proto
    head, sep, tail = s.partition(":")
    if sep and head.lower() in PROTOS:
        proto, s = head.lower(), tail
    port = None
    if s.startswith("["):
        end = s.find("]")
        host = s[:end + 1]
        rest = s[end + 1:]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    else:
        host, sep, p = s.rpartition(":")
        if sep and p.isdigit() and host:
            port = int(p)
        else:
            host = s
    return Proxy(host, port, proto)


def tm_branch_id(t: Transaction, branch: int) -> str:
    """``t_calc_branch``: ``z9hG4bK<hash>.<md5>.<branch>``."""
    return f"z9hG4bK{reverse_hex(t.hash_index)}.{t.md5}.{reverse_hex(branch)}"


def _uri_dst(uri: str, force_proto: str | None):
    dst = output.uri_destination(uri)
    if force_proto:
        dst.proto = force_proto
    return dst


# ---------------------------------------------------------------- t_relay()
def t_relay_to(tm, ctx, proxy: Proxy | None = None, proto: str | None = None, replicate: bool = False) -> int:
    """``t_relay_to`` (request route)."""
    msg = ctx.msg
    method = method_of(msg)
    if method == "CANCEL":
        ret, t = t_forward_cancel(tm, ctx, proxy, proto)
        if t is None:
            return ret
        return _handle_ret(tm, ctx, t, ret, replicate)
    new_tran = t_newtran(tm, ctx)
    if new_tran != E_SCRIPT:
        if new_tran < 0:
            return new_tran
        if new_tran == 0:
            return 1
    elif method == "ACK":
        tm.log(ctx, "WARN", "negative or local ACK caught, please report")
        t_release_transaction(tm, ctx, get_t(ctx))
        return 1
    if method == "ACK":
        return forward_ack(tm, ctx, proxy, proto)
    t = get_t(ctx)
    if replicate:
        t.flags.add("local")
    if method == "INVITE" and "auto_inv_100" in t.flags and t.uas_status < 100:
        from .reply import t_reply
        t_reply(tm, t, ctx, 100, tm.param("auto_inv_100_reason"))
    ret = t_forward_nonack(tm, t, ctx, proxy, proto)
    return _handle_ret(tm, ctx, t, ret, replicate)


def _handle_ret(tm, ctx, t, ret: int, replicate: bool) -> int:
    if ret <= 0:
        if not replicate:
            err = ctx.data.get("ser_error", E_UNSPEC)
            if "disable_internal_reply" in t.flags:
                ctx.data["tm_error"] = err
                return -4
            ctx.data["tm_error"] = err
            set_kr(ctx, KR_ERR_DELAYED)
        else:
            t_release_transaction(tm, ctx, t)
    return ret


def forward_ack(tm, ctx, proxy: Proxy | None, proto: str | None) -> int:
    """An ACK that matched no transaction (end-to-end ACK for a 2xx): stateless."""
    try:
        if proxy is None:
            dst = _uri_dst(ctx.dst_uri or ctx.ruri, proto)
        else:
            dst = proxy.socket(proto)
    except DestinationError as e:
        tm.log(ctx, "ERR", str(e), source="core")
        return E_BAD_ADDRESS
    ret = output.forward_request(ctx, dst)
    return 1 if ret >= 0 else ret


# ---------------------------------------------------------------- branches
def t_forward_nonack(tm, t: Transaction, ctx, proxy: Proxy | None, proto: str | None) -> int:
    """Add and send the branches of ``t`` (request and failure routes)."""
    backup_bflags = ctx.bflags
    if t.canceled:
        return _canceled(tm, ctx, t, backup_bflags)
    if method_of(ctx.msg) == "CANCEL":
        t_invite = tm.table.lookup_original(ctx.msg, tm.hash_of(ctx))
        if t_invite is not None:
            from .cancel import e2e_cancel
            e2e_cancel(tm, ctx, t, t_invite)
            set_kr(ctx, KR_FWDED)
            return 1
    lowest_ret = E_UNSPEC
    added: list[int] = []
    first_branch = len(t.uacs)
    branch_route = t.on_branch
    if branch_route is not None:
        t.on_branch_delayed = branch_route
        t.on_branch = None
    if first_branch == 0 and ctx.route_type == "request":
        save_msg_lumps(t, ctx)
    try_new = 0
    if ruri_is_new(ctx):
        try_new = 1
        ret = add_uac(tm, t, ctx, ctx.ruri, ctx.dst_uri or ctx.ruri, proxy, proto,
                      skip_br_dst=not ctx.dst_uri, branch_route=branch_route,
                      fsocket=ctx.force_socket, path=ctx.data.get("path_vec"),
                      extra=_ruri_extra(ctx))
        if t.canceled:
            return _canceled(tm, ctx, t, backup_bflags)
        if ret >= 0:
            added.append(ret)
        else:
            lowest_ret = min(lowest_ret, ret)
    for b in list(ctx.branches):
        try_new += 1
        ctx.bflags = getattr(b, "flags", 0) or 0
        uri = getattr(b, "uri", b)
        dst_uri = getattr(b, "dst_uri", None)
        ret = add_uac(tm, t, ctx, uri, dst_uri or uri, proxy, proto, skip_br_dst=not dst_uri,
                      branch_route=branch_route, fsocket=getattr(b, "socket", None),
                      path=getattr(b, "path", None),
                      extra={"instance": getattr(b, "instance", None), "ruid": getattr(b, "ruid", None),
                             "location_ua": getattr(b, "location_ua", None)})
        if t.canceled:
            return _canceled(tm, ctx, t, backup_bflags)
        if ret >= 0:
            added.append(ret)
        else:
            lowest_ret = min(lowest_ret, ret)
    clear_branches(ctx)
    ctx.bflags = backup_bflags
    t.request.flags = ctx.flags
    if not added:
        if try_new == 0:
            tm.log(ctx, "ERR", "no branches for forwarding")
            ctx.data["ser_error"] = min(lowest_ret, E_CFG)
            return -1
        if lowest_ret != E_CFG:
            tm.log(ctx, "ERR", "failure to add branches")
        ctx.data["ser_error"] = lowest_ret
        return lowest_ret
    t.uacs[first_branch].first_in_step = True
    ctx.data["ser_error"] = 0
    success = 0
    for i in added:
        if t_send_branch(tm, t, i, ctx) == i:
            success += 1
    if success <= 0:
        ctx.data["ser_error"] = E_SEND
        return -1
    ctx.data["ser_error"] = 0
    set_kr(ctx, KR_FWDED)
    return 1


def _ruri_extra(ctx) -> dict:
    return {"instance": ctx.data.get("instance"), "ruid": ctx.data.get("ruid"),
            "location_ua": ctx.data.get("location_ua")}


def _canceled(tm, ctx, t, backup_bflags) -> int:
    clear_branches(ctx)
    ctx.bflags = backup_bflags
    t.request.flags = ctx.flags
    ctx.data["ser_error"] = E_CANCELED
    return -1


def clear_branches(ctx) -> None:
    """``clear_branches``: the destination set is used up, the R-URI consumed."""
    ctx.branches.clear()
    consume_ruri(ctx)


def save_msg_lumps(t: Transaction, ctx) -> None:
    """Keep the request's edits with the transaction (for the failure route), once."""
    if ctx.data.get("tm_lumps_cloned") or method_of(ctx.msg) == "ACK":
        return
    ctx.data["tm_lumps_cloned"] = True
    t.request.lumps = ctx.lumps.clone() if ctx.lumps is not None else None
    t.request.reply_lumps = list(ctx.reply_lumps)
    t.request.lumps_saved = True
    t.request.flags = ctx.flags


def add_uac(tm, t: Transaction, ctx, uri: str, next_hop: str | None, proxy: Proxy | None,
            proto: str | None, *, skip_br_dst: bool, branch_route: str | None, fsocket=None,
            path: str | None = None, extra: dict | None = None) -> int:
    """Prepare one branch (``add_uac`` + ``prepare_new_uac``); its index or an error."""
    branch = len(t.uacs)
    if branch >= tm.max_branches():
        tm.log(ctx, "ERR", "maximum number of branches exceeded")
        ctx.data["ser_error"] = E_TOO_MANY_BRANCHES
        return E_TOO_MANY_BRANCHES
    uac = Uac(index=branch)
    dst = None
    if proxy is not None:
        try:
            dst = proxy.socket(proto)
        except DestinationError as e:
            tm.log(ctx, "ERR", str(e), source="core")
            ctx.data["ser_error"] = E_BAD_ADDRESS
            return E_BAD_ADDRESS
        next_hop = None
    elif next_hop is None:
        next_hop = uri
    bid = tm_branch_id(t, branch)
    # back up what the branch route may change
    saved = (ctx.new_uri, ctx.dst_uri, ctx.lumps, ctx.force_socket, ctx.route_type, ctx.data.get(BRANCH_IDX),
             ctx.data.get("tm_ruri_new"))
    work_lumps = ctx.lumps.clone() if ctx.lumps is not None else None
    ruri = uri
    try:
        if branch_route is not None:
            track_ruri(ctx)
            ctx.new_uri = uri
            ctx.dst_uri = None if skip_br_dst else next_hop
            ctx.lumps = work_lumps
            ctx.force_socket = fsocket
            ctx.route_type = "branch"
            ctx.data[BRANCH_IDX] = branch
            ref = tm.script.routes.get(("branch", branch_route))
            dropped = False
            if ref is not None:
                _, dropped = tm.script.run_top(ref, ctx)
            if dropped:
                ctx.data["ser_error"] = E_CFG
                return E_CFG
            work_lumps = ctx.lumps
            fsocket = ctx.force_socket
            ruri = ctx.ruri
            if ctx.dst_uri:
                next_hop = ctx.dst_uri
        if next_hop is not None:
            try:
                dst = _uri_dst(next_hop, proto)
            except DestinationError as e:
                tm.log(ctx, "ERR", str(e), source="core")
                ctx.data["ser_error"] = E_BAD_ADDRESS
                return E_BAD_ADDRESS
        uac.on_reply = t.on_reply
        uac.on_failure = t.on_failure
        uac.on_branch_failure = t.on_branch_failure
        ctx.force_socket = fsocket
        sock = output.send_socket(ctx, dst)
        if sock is None:
            tm.log(ctx, "ERR", f"can't fwd to af {10 if ':' in dst.ip else 2}, proto "
                               f"{output._proto_no(dst.proto)}  (no corresponding listening socket)")
            ctx.data["ser_error"] = E_NO_SOCKET
            return E_NO_SOCKET
        if work_lumps is None:
            from ...sip.lumps import Lumps
            work_lumps = Lumps(ctx.msg)
        text = output.build_request(ctx, ruri, dst, bid, send_sock=sock, lumps=work_lumps)
    finally:
        ctx.new_uri, ctx.dst_uri, ctx.lumps, ctx.force_socket, ctx.route_type = saved[:5]
        ctx.data[BRANCH_IDX] = saved[5] if saved[5] is not None else -1
        if saved[6] is None:
            ctx.data.pop("tm_ruri_new", None)
        else:
            ctx.data["tm_ruri_new"] = saved[6]
    uac.uri = ruri
    uac.dst = dst
    uac.send_sock = sock
    uac.request = text
    uac.path = path
    if extra:
        uac.instance = extra.get("instance")
        uac.ruid = extra.get("ruid")
        uac.location_ua = extra.get("location_ua")
    uac.branch_flags = ctx.bflags
    t.uacs.append(uac)
    return branch


def t_send_branch(tm, t: Transaction, i: int, ctx) -> int:
    """Send branch ``i`` (onsend_route first) and start its final response timer."""
    uac = t.uacs[i]
    if not output.run_onsend(ctx, uac.dst, uac.send_sock, uac.request):
        uac.last_received = 408
        return -1
    sent = ctx.send("request", uac.dst, uac.request)
    sent.src = uac.send_sock
    tm.start_fr(t, uac)
    return i


# ---------------------------------------------------------------- CANCEL
def t_forward_cancel(tm, ctx, proxy: Proxy | None, proto: str | None):
    """A CANCEL given to ``t_relay()``: (return code, CANCEL transaction or None)."""
    mode = tm.param("unmatched_cancel")
    if mode == 0:  # UM_CANCEL_STATEFULL
        new_tran = t_newtran(tm, ctx)
        if new_tran <= 0 and new_tran != E_SCRIPT:
            return (1 if new_tran == 0 else new_tran), None
        t = get_t(ctx)
        return t_forward_nonack(tm, t, ctx, proxy, proto), t
    t_invite = tm.table.lookup_original(ctx.msg, tm.hash_of(ctx))
    if t_invite is not None:
        new_tran = t_newtran(tm, ctx)
        if new_tran <= 0 and new_tran != E_SCRIPT:
            return (1 if new_tran == 0 else new_tran), None
        t = get_t(ctx)
        from .cancel import e2e_cancel
        e2e_cancel(tm, ctx, t, t_invite)
        return 1, t
    if mode == 2:  # UM_CANCEL_DROP
        return 1, None
    return forward_ack(tm, ctx, proxy, proto), None  # stateless, like an e2e ACK
