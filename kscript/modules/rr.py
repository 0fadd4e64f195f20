"""rr: record-routing and loose routing (modules/rr @5.6.3).

``record_route([params])`` adds, as lumps before the first header, Kamailio's
``Record-Route: <sip:ADDR;lr;ftag=<from tag><params>>`` where ADDR is the
receiving socket (a substitution resolved when the message is built); with
``enable_double_rr`` (default 1) a second, outbound Record-Route with ``;r2=on``
is added -- both only printed when the sending socket differs from the receiving
one (conditional lumps), as Kamailio does.  ``add_rr_param()`` adds parameters
(before or after ``record_route()``); ``record_route_preset()``,
``record_route_advertised_address()``, ``remove_record_route()``.

``loose_route()`` processes the Route headers of a request: Route entries
pointing at this proxy are removed (lumps), the next Route goes to ``$du`` (loose
router) or the R-URI (strict router); returns 1 when routed by the Route set, -1
when there is no Route or it is not for us, -3 for a pre-loaded route (no To tag)
that only held our own entry.  ``check_route_param(re)``, ``is_direction("upstream"|
"downstream")`` (needs ``append_fromtag``), ``loose_route_mode``,
``loose_route_preloaded``, ``rr_next_hop_route``.  PVs: ``$route_uri``, ``$fti``,
``$tti``, ``$rdir(id|name)``.
"""

from __future__ import annotations

from ..errors import KscriptError
from ..pv.base import PVClass, PVFailed
from ..sip import lumps as L
from ..sip.lumps import lumps_of
from ..sip.nameaddr import find_not_quoted
from ..sip.uri import parse_uri
from .base import Module, Param, function

RR_ERROR = -1
RR_DRIVEN = 1
RR_NOT_DRIVEN = -1
RR_PRELOADED = -3
DOWNSTREAM, UPSTREAM = 1, 2


def _params_state(params: str, first: str, second: str) -> bool:
    """The is_strict/is_2rr scanner: does ``params`` hold a parameter named
    ``first+second`` (``lr``/``r2``), with or without value?"""
    state = 0
    for ch in params:
        if state == 0:
            if ch in " \r\n\t":
                continue
            state = 1 if ch.lower() == first else 4
        elif state == 1:
            state = 2 if ch.lower() == second else 4
        elif state in (2, 3):
            if ch in ";=":
                return True
            state = 3 if ch in " \r\n\t" else 4
        elif state == 4:
            if ch == '"':
                state = 5
            elif ch == ";":
                state = 0
        elif state == 5:
            if ch == "\\":
                state = 6
            elif ch == '"':
                state = 4
        elif state == 6:
            state = 5
    return state in (2, 3)


def is_strict(params: str) -> bool:
    return not params or not _params_state(params, "l", "r")


def is_2rr(params: str) -> bool:
    return bool(params) and _params_state(params, "r", "2")


class RouteEntry:
    __slots__ = ("hdr", "start", "end", "uri", "params")

    def __init__(self, hdr, start, end, uri, params):
        self.hdr = hdr
        self.start = start
        self.end = end
        self.uri = uri
        self.params = params


def route_headers(msg) -> list[tuple[int, list[RouteEntry]]]:
    """Route headers as (header index, entries with absolute offsets)."""
    out = []
    text = msg.text
    for i, h in enumerate(msg.headers):
        if h.key != "route":
            continue
        _, bs, be, _ = msg.spans[i]
        entries = []
        pos = bs
        while pos < be:
            while pos < be and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= be:
                break
            lt = find_not_quoted(text, "<", pos, be)
            if lt < 0:
                break
            gt = find_not_quoted(text, ">", lt + 1, be)
            if gt < 0:
                break
            uri = text[lt + 1:gt]
            end = gt + 1
            # params after '>' up to the next ',' (outside quotes)
            j = end
            quoted = False
            while j < be:
                c = text[j]
                if c == '"':
                    quoted = not quoted
                elif c == "," and not quoted:
                    break
                j += 1
            k = j
            while k > end and text[k - 1] in " \t\r\n":
                k -= 1
            try:
                u = parse_uri(uri)
                params = u.params_text or ""
            except KscriptError:
                params = ""
            entries.append(RouteEntry(i, pos, k, uri, params))
            pos = j + 1
        out.append((i, entries))
    return out


class RouteUriPV(PVClass):
    name = "route_uri"

    def get(self, ctx, name, idx):
        # no Route header: an INFO log and a failed read (prints as empty)
        if not ctx.msg.has_header("route"):
            ctx.log("INFO", "No route header present.", source="rr")
            raise PVFailed("$route_uri")
        rh = route_headers(ctx.msg)
        if not rh or not rh[0][1]:
            ctx.log("ERR", "Error while parsing Route header", source="rr")
            raise PVFailed("$route_uri")
        return rh[0][1][0].uri


class FtiPV(PVClass):
    name = "fti"

    def get(self, ctx, name, idx):
        tb = ctx.msg.from_
        if self.module.direction(ctx) == UPSTREAM:
            tb = ctx.msg.to
        return tb.tag if tb is not None and tb.tag else None


class TtiPV(PVClass):
    name = "tti"

    def get(self, ctx, name, idx):
        tb = ctx.msg.to
        if self.module.direction(ctx) == UPSTREAM:
            tb = ctx.msg.from_
        return tb.tag if tb is not None and tb.tag else None


class RdirPV(PVClass):
    name = "rdir"
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        if inner not in ("id", "name"):
            raise ValueError(f"unknown PV af key: {inner}")
        return inner

    def get(self, ctx, name, idx):
        up = self.module.direction(ctx) == UPSTREAM
        if name == "name":
            return "upstream" if up else "downstream"
        return UPSTREAM if up else DOWNSTREAM


class RrModule(Module):
    name = "rr"
    params = {
        "append_fromtag": Param("int", 1),
        "enable_double_rr": Param("int", 1),
        "enable_full_lr": Param("int", 0),
        "add_username": Param("int", 0),
        "enable_socket_mismatch_warning": Param("int", 1),
        "custom_user_avp": Param("str", ""),
        "force_send_socket": Param("int", 0),
        "ignore_sips": Param("int", 0),
        "sockname_mode": Param("int", 0),
    }
    pv_classes = (RouteUriPV, FtiPV, TtiPV, RdirPV)

    # ------------------------------------------------------------ helpers
    def _is_myself(self, ctx, uri: str) -> bool:
        try:
            u = parse_uri(uri)
        except KscriptError:
            return False
        if not u.host:
            return False
        if u.has_param("gr"):
            return False
        return ctx.script.host_is_myself(u.host, u.port_no or 5060)

    def _user(self, ctx) -> str:
        if not self.param("add_username"):
            return ""
        avp = self.param("custom_user_avp")
        if avp:
            v = ctx.script.compiler.pv(avp, None).value(ctx)
            if isinstance(v, str) and v:
                return v
        try:
            u = parse_uri(ctx.msg.ruri)
            if not u.user and ctx.new_uri is not None:
                u = parse_uri(ctx.new_uri)
            return u.user or ""
        except KscriptError:
            return ""

    def _sips(self, ctx) -> bool:
        if self.param("ignore_sips"):
            return False
        try:
            return parse_uri(ctx.ruri).scheme == "sips"
        except KscriptError:
            return False

    def _tag(self, ctx) -> str:
        if not self.param("append_fromtag"):
            return ""
        tb = ctx.msg.to if self.direction(ctx) == UPSTREAM else ctx.msg.from_
        return tb.tag if tb is not None and tb.tag else ""

    def _param_buf(self, ctx) -> str:
        return ctx.data.get("rr_param_buf", "")

    def _build_rr(self, lumps: L.Lumps, l, l2, user, tag, params, inbound: bool, sips: bool):
        dbl = self.param("enable_double_rr")
        prefix = ("Record-Route: <sips:" if sips else "Record-Route: <sip:") + (user + "@" if user else "")
        suffix = (";lr=on" if self.param("enable_full_lr") else ";lr") + (";ftag=" + tag if tag else "") \
            + (params or "")
        l = lumps.insert_after(l, prefix)
        mode = self.param("sockname_mode")
        subst = (L.SUBST_RCV_ALL_EX if mode else L.SUBST_RCV_ALL) if inbound else \
            (L.SUBST_SND_ALL_EX if mode else L.SUBST_SND_ALL)
        l = lumps.insert_subst_after(l, subst)
        if dbl:
            l = lumps.insert_cond_after(l, L.COND_TRUE if dbl == 2 else L.COND_IF_DIFF_REALMS)
            l = lumps.insert_after(l, ";r2=on")
        l2 = lumps.insert_before(l2, suffix, "rr")
        buf = self._rr_buf
        if buf:
            l2 = lumps.insert_before(l2, buf, "rr")
        lumps.insert_before(l2, ">\r\n")

    def record_route(self, ctx, params: str | None) -> int:
        """rr ``record_route()``: 0 on success (like the C function)."""
        self._insert_rr(ctx, L.COND_IF_DIFF_REALMS,
                        lambda lumps, l, l2, user, tag, inbound, sips:
                        self._build_rr(lumps, l, l2, user, tag, params, inbound, sips))
        ctx.data["rr_param_buf"] = ""
        return 0

    def _insert_rr(self, ctx, double_cond, build) -> None:
        """Anchor Record-Route lumps before the first header: the outbound one first when
        double RR is on (under ``double_cond``, or always with enable_double_rr=2), then
        the inbound one; ``build(lumps, l, l2, user, tag, inbound, sips)`` fills them."""
        lumps = lumps_of(ctx)
        user = self._user(ctx)
        tag = self._tag(ctx)
        self._rr_buf = self._param_buf(ctx)
        sips = self._sips(ctx)
        first = ctx.msg.spans[0][0]
        dbl = self.param("enable_double_rr")
        if dbl:
            l = lumps.anchor(first, "rr")
            l2 = lumps.anchor(first)
            cond = L.COND_TRUE if dbl == 2 else double_cond
            l = lumps.insert_cond_after(l, cond)
            l2 = lumps.insert_cond_before(l2, cond)
            build(lumps, l, l2, user, tag, False, sips)
        l = lumps.anchor(first, "rr")
        l2 = lumps.anchor(first)
        build(lumps, l, l2, user, tag, True, sips)

    # ------------------------------------------------------------ record-route functions
    def _check_double(self, ctx) -> bool:
        if ctx.data.get("rr_added"):
            self.log(ctx, "ERR", "Double attempt to record-route")
            return False
        return True

    @function("record_route")
    def record_route0(self, ctx):
        return self._record_route(ctx, None)

    @function("record_route", "fmt")
    def record_route1(self, ctx, params):
        return self._record_route(ctx, params)

    def _record_route(self, ctx, params):
        if not self._check_double(ctx):
            return -1
        if self.record_route(ctx, params) < 0:
            return -1
        if ctx.route_type != "branch":
            ctx.data["rr_added"] = True
        return 1

    def _preset(self, ctx, data: str) -> int:
        msg = ctx.msg
        sips = self._sips(ctx)
        user = self._user(ctx)
        hdr = ("Record-Route: <sips:" if sips else "Record-Route: <sip:") + (user + "@" if user else "") + data
        if self.param("append_fromtag"):
            frm = msg.from_
            if frm is not None and frm.tag:
                hdr += ";ftag=" + frm.tag
        hdr += self._param_buf(ctx)
        lumps = lumps_of(ctx)
        first = msg.spans[0][0]
        l = lumps.anchor(first, "rr")
        l2 = lumps.anchor(first)
        lumps.insert_after(l, hdr)
        l2 = lumps.insert_before(l2, ";lr=on" if self.param("enable_full_lr") else ";lr", "rr")
        lumps.insert_before(l2, ">\r\n")
        return 1

    @function("record_route_preset", "fmt")
    def record_route_preset1(self, ctx, addr):
        if not self._check_double(ctx):
            return -1
        self._preset(ctx, addr)
        ctx.data["rr_added"] = True
        return 1

    @function("record_route_preset", "fmt", "fmt")
    def record_route_preset2(self, ctx, addr, addr2):
        if not self._check_double(ctx):
            return -1
        if not self.param("enable_double_rr"):
            self.log(ctx, "ERR", "Attempt to double record-route while 'enable_double_rr' param is disabled")
            return -1
        self._preset(ctx, addr)
        self._preset(ctx, addr2)
        ctx.data["rr_added"] = True
        return 1

    def _build_adv(self, lumps, l, l2, data, user, tag, inbound, sips):
        dbl = self.param("enable_double_rr")
        hdr = ("Record-Route: <sips:" if sips else "Record-Route: <sip:") + (user + "@" if user else "") + data
        suffix = (";ftag=" + tag if tag else "") + (";lr=on" if self.param("enable_full_lr") else ";lr")
        l = lumps.insert_after(l, hdr)
        l = lumps.insert_cond_after(l, L.COND_TRUE if dbl == 2 else L.COND_IF_DIFF_PROTO)
        l = lumps.insert_after(l, ";transport=")
        l = lumps.insert_subst_after(l, L.SUBST_RCV_PROTO if inbound else L.SUBST_SND_PROTO)
        if dbl:
            l = lumps.insert_cond_after(l, L.COND_TRUE if dbl == 2 else L.COND_IF_DIFF_REALMS)
            l = lumps.insert_after(l, ";r2=on")
        l2 = lumps.insert_before(l2, suffix, "rr")
        if self._rr_buf:
            l2 = lumps.insert_before(l2, self._rr_buf, "rr")
        lumps.insert_before(l2, ">\r\n")

    @function("record_route_advertised_address", "fmt")
    def record_route_advertised_address(self, ctx, data):
        if not self._check_double(ctx):
            return -1
        self._insert_rr(ctx, L.COND_IF_DIFF_PROTO,
                        lambda lumps, l, l2, user, tag, inbound, sips:
                        self._build_adv(lumps, l, l2, data, user, tag, inbound, sips))
        ctx.data["rr_added"] = True
        return 1

    @function("add_rr_param", "fmt")
    def add_rr_param(self, ctx, param):
        lumps = ctx.lumps if ctx.lumps is not None and ctx.lumps.msg is ctx.msg else None
        found = []
        if lumps is not None:
            for t in lumps.main(body=False):
                last = None
                for r in t.befores():
                    if r.htype == "rr" and r.op == L.ADD:
                        last = r
                if last is not None:
                    found.append(last)
        if found:
            lumps.insert_before(found[0], param, "rr")
            if self.param("enable_double_rr"):
                if len(found) < 2:
                    ctx.log("CRIT", "failed to locate double RR lump", source="rr")
                    return -1
                lumps.insert_before(found[1], param, "rr")
            return 1
        buf = ctx.data.get("rr_param_buf", "")
        if len(buf) + len(param) > 512:
            self.log(ctx, "ERR", "maximum size of rr_param_buf exceeded")
            return -1
        ctx.data["rr_param_buf"] = buf + param
        return 1

    @function("remove_record_route")
    def remove_record_route(self, ctx):
        if ctx.lumps is not None:
            ctx.lumps.remove_where(lambda t: t.htype == "rr")
        return 1

    # ------------------------------------------------------------ loose routing
    @function("loose_route")
    def loose_route(self, ctx):
        return self.loose_route_mode_impl(ctx, 0)

    @function("loose_route_preloaded")
    def loose_route_preloaded(self, ctx):
        return 1 if self.loose_route_mode_impl(ctx, 0) == RR_PRELOADED else -1

    @function("loose_route_mode", "igp")
    def loose_route_mode(self, ctx, mode):
        if mode is None:
            self.log(ctx, "ERR", "failed to get the mode parameter")
            return -1
        return self.loose_route_mode_impl(ctx, mode)

    def loose_route_mode_impl(self, ctx, mode: int) -> int:
        msg = ctx.msg
        if not msg.is_request:
            return -1
        rh = [x for x in route_headers(msg) if x[1]]
        if not rh:
            return -1
        try:
            parse_uri(ctx.ruri)
        except KscriptError:
            self.log(ctx, "ERR", "failed to parse Request URI")
            return -1
        to = msg.to
        if to is None:
            self.log(ctx, "ERR", "To header field not found")
            return -1
        ctx.data.pop("rr_routed_params", None)
        if not to.tag:
            return self._after_loose(ctx, rh, True)
        if mode == 0 and self._is_myself(ctx, ctx.ruri):
            return self._after_strict(ctx, rh)
        return self._after_loose(ctx, rh, False)

    def _del_header(self, ctx, hidx):
        msg = ctx.msg
        s, _, _, e = msg.spans[hidx]
        lumps_of(ctx).delete(s, e - s)

    def _del_range(self, ctx, start, end):
        if end > start:
            lumps_of(ctx).delete(start, end - start)

    def _after_loose(self, ctx, rh, preloaded: bool) -> int:
        msg = ctx.msg
        hpos = 0
        hidx, entries = rh[0]
        epos = 0
        rt = entries[0]
        try:
            puri = parse_uri(rt.uri)
        except KscriptError:
            self.log(ctx, "ERR", f"failed to parse the first route URI ({rt.uri})")
            return RR_ERROR
        routed_params = puri.params_text or ""
        status = RR_DRIVEN
        if self._is_myself(ctx, rt.uri):
            ctx.data["rr_routed_params"] = (routed_params, rt)
            first_params = routed_params
            if self.param("force_send_socket") and not (self.param("enable_double_rr") and is_2rr(first_params)):
                self._force_socket(ctx, puri)
            nxt = self._next_entry(ctx, rh, hpos, epos)
            if nxt is None:
                return RR_PRELOADED if preloaded else RR_DRIVEN
            hpos, epos = nxt
            hidx, entries = rh[hpos]
            rt = entries[epos]
            if self.param("enable_double_rr") and is_2rr(first_params):
                try:
                    p2 = parse_uri(rt.uri)
                except KscriptError:
                    self.log(ctx, "ERR", f"failed to parse the double route URI ({rt.uri})")
                    return RR_ERROR
                self._force_socket(ctx, p2)
                nxt = self._next_entry(ctx, rh, hpos, epos)
                if nxt is None:
                    return RR_PRELOADED if preloaded else RR_DRIVEN
                hpos, epos = nxt
                hidx, entries = rh[hpos]
                rt = entries[epos]
            try:
                puri = parse_uri(rt.uri)
            except KscriptError:
                self.log(ctx, "ERR", f"failed to parse the next route URI ({rt.uri})")
                return RR_ERROR
            ctx.data["route_addr"] = True
        if is_strict(puri.params_text or ""):
            # next hop is a strict router: save the R-URI in a last Route, put the
            # route in the R-URI
            lumps = lumps_of(ctx)
            anchor = lumps.anchor(msg.eoh)
            lumps.insert_before(anchor, f"Route: <{msg.ruri}>\r\n")
            ctx.new_uri = self._maddr_uri(rt.uri, puri)
            if epos == len(entries) - 1:
                self._del_header(ctx, hidx)
            else:
                _, bs, _, _ = msg.spans[hidx]
                self._del_range(ctx, bs, entries[epos + 1].start)
        else:
            ctx.dst_uri = self._maddr_uri(rt.uri, puri)
            if epos != 0:
                _, bs, _, _ = msg.spans[hidx]
                self._del_range(ctx, bs, rt.start)
        return status

    def _next_entry(self, ctx, rh, hpos, epos):
        """Advance past route entry (hpos, epos), removing the whole header when it was
        its last entry; None when no Route is left."""
        hidx, entries = rh[hpos]
        if epos + 1 < len(entries):
            return hpos, epos + 1
        self._del_header(ctx, hidx)
        if hpos + 1 < len(rh):
            return hpos + 1, 0
        return None

    @staticmethod
    def _maddr_uri(uri: str, puri) -> str:
        m = puri.param("maddr")
        if m is None:
            return uri
        return "sip:" + m + (":" + puri.port if puri.port else "")

    def _force_socket(self, ctx, puri):
        from ..runtime.context import Socket
        proto = (puri.param("transport") or "").lower()
        for s in ctx.script.listen:
            if s.ip == puri.host.strip("[]") and (not proto or s.proto == proto) \
                    and s.port == (puri.port_no or (5061 if proto == "tls" else 5060)):
                ctx.force_socket = Socket(s.proto, s.ip, s.port)
                return

    def _after_strict(self, ctx, rh) -> int:
        msg = ctx.msg
        hpos, epos = 0, 0
        hidx, entries = rh[0]
        rt = entries[0]
        try:
            puri = parse_uri(rt.uri)
        except KscriptError:
            self.log(ctx, "ERR", "failed to parse the first route URI")
            return RR_ERROR
        if self.param("enable_double_rr") and is_2rr(puri.params_text or "") and self._is_myself(ctx, rt.uri):
            self._force_socket(ctx, puri)
            nxt = self._next_entry(ctx, rh, 0, 0)
            if nxt is None:
                return RR_NOT_DRIVEN
            hpos, epos = nxt
            hidx, entries = rh[hpos]
            rt = entries[epos]
            try:
                puri = parse_uri(rt.uri)
            except KscriptError:
                self.log(ctx, "ERR", "failed to parse URI")
                return RR_ERROR
        try:
            ru = parse_uri(ctx.ruri)
            ctx.data["rr_routed_params"] = (ru.params_text or "", None)
        except KscriptError:
            pass
        if is_strict(puri.params_text or ""):
            ctx.new_uri = self._maddr_uri(rt.uri, puri)
            if epos + 1 < len(entries):
                _, bs, _, _ = msg.spans[hidx]
                self._del_range(ctx, bs, entries[epos + 1].start)
            else:
                self._del_header(ctx, hidx)
        else:
            ctx.dst_uri = self._maddr_uri(rt.uri, puri)
            if epos != 0:
                _, bs, _, _ = msg.spans[hidx]
                self._del_range(ctx, bs, rt.start)
            # the last Route URI is the remote target
            last_h, last_entries = rh[-1]
            last = last_entries[-1]
            ctx.new_uri = last.uri
            if len(last_entries) > 1:
                prev = last_entries[-2]
                self._del_range(ctx, prev.end, last.end)
            else:
                self._del_header(ctx, last_h)
        return RR_DRIVEN

    @function("rr_next_hop_route")
    def rr_next_hop_route(self, ctx):
        return 1 if ctx.data.get("route_addr") else -1

    # ------------------------------------------------------------ route params
    def _routed_params(self, ctx) -> str | None:
        """``redo_route_params``: the params of our top Route URI (";"-prefixed)."""
        rp = ctx.data.get("rr_routed_params")
        if rp is not None and rp[1] is not None:
            return ";" + rp[0] if rp[0] else None
        if not ctx.msg.is_request:
            return None
        rh = [x for x in route_headers(ctx.msg) if x[1]]
        if not rh:
            return None
        rt = rh[0][1][0]
        if not self._is_myself(ctx, rt.uri):
            return None
        try:
            p = parse_uri(rt.uri).params_text or ""
        except KscriptError:
            return None
        return ";" + p if p else None

    @function("check_route_param", "rei")
    def check_route_param(self, ctx, rx):
        params = self._routed_params(ctx)
        if not params:
            return -1
        return 1 if rx.search(params) else -1

    def _route_param(self, ctx, name: str) -> str | None:
        params = self._routed_params(ctx)
        if not params:
            return None
        for part in params.split(";"):
            k, eq, v = part.strip().partition("=")
            if k.strip() == name:
                return v.strip().strip('"\'') if eq else ""
        return None

    def direction(self, ctx) -> int:
        cached = ctx.data.get("rr_direction")
        if cached is not None:
            return cached
        d = DOWNSTREAM
        ftag = self._route_param(ctx, "ftag")
        if ftag:
            frm = ctx.msg.from_
            if frm is not None and frm.tag and frm.tag != ftag:
                d = UPSTREAM
        ctx.data["rr_direction"] = d
        return d

    @function("is_direction", "str")
    def is_direction(self, ctx, which):
        if not self.param("append_fromtag"):
            self.log(ctx, "ERR", "usage of \"is_direction\" function requires parameter"
                                 "\"append_fromtag\" enabled!!")
            return -1
        w = which.lower()
        if w == "downstream":
            want = DOWNSTREAM
        elif w == "upstream":
            want = UPSTREAM
        else:
            self.log(ctx, "ERR", f"unknown direction '{which}'")
            return -1
        return 1 if self.direction(ctx) == want else -1
