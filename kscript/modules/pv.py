"""The pv module: script variables ($var, $vn, $vz, $shv), AVPs ($avp, $xavp) and
the message PVs ($ru, $fU, $hdr(...)...), with Kamailio 5.6's typing: a PV is
int-typed only where Kamailio marks it so (§3.2 of the surface map)."""

from __future__ import annotations

import os
import re
import time

from ..errors import KscriptError
from ..pv.base import PVClass, PVFailed
from ..runtime.values import str2int, to_str
from ..sip.uri import parse_uri
from .base import Module, Param
from .pv_functions import PvFunctions
from .pv_msg import MORE_PVS


# ================================================================ script variables
class VarPV(PVClass):
    """``$var(x)``: process-local, int 0 until set, null assignment stores 0, persists across messages."""

    name = "var"
    takes_name = True
    writable = True

    def get(self, ctx, name, idx):
        return ctx.script.vars.get(name, 0)

    def set(self, ctx, name, idx, value):
        ctx.script.vars[name] = 0 if value is None else value


class VzPV(VarPV):
    name = "vz"


class VnPV(PVClass):
    """``$vn(x)``: like ``$var`` but may hold null (null until set)."""

    name = "vn"
    takes_name = True
    writable = True

    def get(self, ctx, name, idx):
        return ctx.script.vns.get(name)

    def set(self, ctx, name, idx, value):
        ctx.script.vns[name] = value


class ShvPV(PVClass):
    """``$shv(x)``: shared variable (initial values from modparam("pv", "shvset", ...))."""

    name = "shv"
    takes_name = True
    writable = True

    def get(self, ctx, name, idx):
        return ctx.script.shv.get(name, 0)

    def set(self, ctx, name, idx, value):
        if value is None:
            ctx.script.shv[name] = 0
        else:
            ctx.script.shv[name] = value


# ================================================================ AVPs
_AVP_NAME = re.compile(r"^(?:([si]):)?(.+)$")


class AvpPV(PVClass):
    """``$avp(x)``: a stack per name, newest first (pv/pv_core.c@5.6.3:1861-2930)."""

    name = "avp"
    takes_name = True
    indexed = True
    writable = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        if inner.startswith("$"):
            pv = compiler.pv(inner, None)
            return ("dyn", pv)
        m = _AVP_NAME.match(inner)
        kind, nm = m.group(1) or "s", m.group(2)
        if kind == "i":
            if not nm.isdigit():
                raise ValueError(f"bad integer AVP name 'i:{nm}'")
            return ("i", int(nm))
        return ("s", nm)

    @staticmethod
    def _key(ctx, name):
        if name[0] == "dyn":
            v = name[1].value(ctx)
            if type(v) is int:
                return ("i", v)
            return ("s", to_str(v))
        return name

    def get(self, ctx, name, idx):
        stack = ctx.avps.get(self._key(ctx, name))
        if not stack:
            return None
        if idx is None:
            return stack[0]
        if callable(idx):
            idx = idx(ctx)
        if idx == "*":
            return ", ".join(to_str(v) for v in stack)
        if idx == "+":
            return stack[0]
        if idx >= 0:
            return stack[idx] if idx < len(stack) else None
        # 5.6.3 quirk: the search state is consumed while counting, so only
        # [-count] finds anything (the newest value).
        return stack[0] if -idx == len(stack) else None

    def set(self, ctx, name, idx, value):
        key = self._key(ctx, name)
        stack = ctx.avps.setdefault(key, [])
        if idx == "*":
            stack.clear()
            if value is not None:
                stack.insert(0, value)
            return
        if value is None:
            if stack:
                stack.pop(0)
            return
        stack.insert(0, value)

    def count(self, ctx, name) -> int:
        return len(ctx.avps.get(self._key(ctx, name), ()))


_XAVP_PART = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[\s*([^\]]*?)\s*\])?\s*$")


class XavpPV(PVClass):
    """``$xavp(root[i]=>field[j])``: lists of items, each a dict of field stacks."""

    name = "xavp"
    takes_name = True
    writable = True

    @staticmethod
    def _store(ctx):
        return ctx.xavps

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        parts = inner.split("=>")
        if len(parts) > 2:
            raise ValueError("only two levels are supported ($xavp(root=>field))")
        out = []
        for p in parts:
            m = _XAVP_PART.match(p)
            if not m:
                raise ValueError(f"bad xavp name '{p}'")
            idx = m.group(2)
            if idx is not None and idx not in ("*", "+"):
                if idx.startswith("$"):
                    pv = compiler.pv(idx, None)
                    idx = ("pv", pv)
                else:
                    try:
                        idx = int(idx)
                    except ValueError:
                        raise ValueError(f"bad xavp index '{idx}'") from None
            out.append((m.group(1), idx))
        return tuple(out)

    @staticmethod
    def _idx(ctx, i):
        if isinstance(i, tuple):
            from ..runtime.values import to_int
            return to_int(i[1].value(ctx))
        return i

    def get(self, ctx, name, idx):
        (root, ridx) = name[0]
        items = self._store(ctx).get(root)
        if not items:
            return None
        ri = self._idx(ctx, ridx)
        if ri in (None, "+"):
            ri = 0
        if ri == "*":
            ri = 0
        if ri < 0:
            ri += len(items)
        if not 0 <= ri < len(items):
            return None
        item = items[ri]
        if len(name) == 1:
            return item if not isinstance(item, dict) else f"<<xavp:{id(item):x}>>"
        fname, fidx = name[1]
        if not isinstance(item, dict):
            return None
        vals = item.get(fname)
        if not vals:
            return None
        fi = self._idx(ctx, fidx)
        if fi in (None, "+"):
            fi = 0
        if fi == "*":
            return ",".join(to_str(v) for v in vals)
        if fi < 0:
            fi += len(vals)
        return vals[fi] if 0 <= fi < len(vals) else None

    def set(self, ctx, name, idx, value):
        (root, ridx) = name[0]
        items = self._store(ctx).setdefault(root, [])
        ri = self._idx(ctx, ridx)
        if len(name) == 1:
            if ri == "*":
                items.clear()
                if value is not None:
                    items.insert(0, value)
                return
            if ri is None:
                if value is None:
                    if items:
                        items.pop(0)
                else:
                    items.insert(0, value)
                return
            if ri < 0:
                ri += len(items)
            if 0 <= ri < len(items):
                if value is None:
                    items.pop(ri)
                else:
                    items[ri] = value
            return
        fname, fidx = name[1]
        fi = self._idx(ctx, fidx)
        if ri is None:
            # no root index: a new root item holding just this field
            if value is None:
                if items and isinstance(items[0], dict):
                    items[0].pop(fname, None)
                return
            items.insert(0, {fname: [value]})
            return
        if ri == "*":
            ri = 0
        if ri < 0:
            ri += len(items)
        if not 0 <= ri < len(items):
            if ri == 0 and value is not None:
                items.insert(0, {fname: [value]})
            return
        item = items[ri]
        if not isinstance(item, dict):
            return
        vals = item.setdefault(fname, [])
        if fi == "*":
            vals.clear()
            if value is not None:
                vals.insert(0, value)
        elif fi is None:
            if value is None:
                if vals:
                    vals.pop(0)
            else:
                vals.insert(0, value)
        else:
            if fi < 0:
                fi += len(vals)
            if 0 <= fi < len(vals):
                if value is None:
                    vals.pop(fi)
                else:
                    vals[fi] = value

    def count(self, ctx, name) -> int:
        (root, ridx) = name[0]
        items = self._store(ctx).get(root) or []
        if len(name) == 1:
            return len(items)
        ri = self._idx(ctx, ridx) or 0
        if ri == "*" or ri == "+":
            ri = 0
        if not 0 <= ri < len(items) or not isinstance(items[ri], dict):
            return 0
        return len(items[ri].get(name[1][0], ()))


class XaviPV(XavpPV):
    """``$xavi(...)``: like ``$xavp`` with case-insensitive names (a separate list)."""

    name = "xavi"

    @staticmethod
    def _store(ctx):
        return ctx.data.setdefault("xavi", {})

    def parse_name(self, inner, compiler):
        return tuple((n.lower(), i) for n, i in super().parse_name(inner, compiler))


class CntPV(PVClass):
    """``$cnt($avp(x))`` / ``$cnt($xavp(r))``: number of values."""

    name = "cnt"
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        pv = compiler.pv(inner, None)
        if not hasattr(pv.cls, "count"):
            raise ValueError(f"$cnt() needs an $avp or $xavp, not '{inner}'")
        return pv

    def get(self, ctx, pv, idx):
        return pv.cls.count(ctx, pv.name)


# ================================================================ the message
def _req(ctx):
    return ctx.msg.is_request


def _ruri_parsed(ctx):
    cache = ctx.data.get("_ruri_cache")
    cur = ctx.ruri
    if cache is not None and cache[0] is cur:
        return cache[1]
    try:
        u = parse_uri(cur)
    except KscriptError:
        raise PVFailed("bad R-URI") from None
    ctx.data["_ruri_cache"] = (cur, u)
    return u


class _Simple(PVClass):
    """A read-only PV computed from the context by ``fn``."""

    fn = None

    def get(self, ctx, name, idx):
        return type(self).fn(ctx)


def _simple(pvname: str, fn, writable_set=None):
    attrs = {"name": pvname, "fn": staticmethod(fn)}
    if writable_set is not None:
        attrs["writable"] = True
        attrs["set"] = lambda self, ctx, name, idx, value: writable_set(ctx, value)
    return type("PV_" + pvname.replace(".", "_"), (_Simple,), attrs)


def _set_ruri(ctx, value):
    if value is None:
        _pv_set_failed(ctx, "bad parameters")
    if type(value) is int:
        _pv_set_failed(ctx, "str value required to set R-URI")
    ctx.new_uri = value


def _assign_error(pv, msg):
    from ..runtime.compiler import AssignError
    return AssignError(f"{pv}: {msg}")


def _pv_set_failed(ctx, text):
    """A pv setter failing as Kamailio's does: the pv module logs ``text``, the core
    then logs "setting pvar failed" (the compiler prints the AssignError)."""
    from ..runtime.compiler import AssignError
    ctx.log("ERR", text, source="pv")
    raise AssignError("setting pvar failed")


_RURI_PART_ERR = {"user": "str value required to set R-URI user",
                  "host": "str value required to set R-URI hostname"}


def _ruri_part_setter(part, pvname):
    def setter(ctx, value):
        if part == "host" and value is None:
            _pv_set_failed(ctx, "bad parameters")
        if type(value) is int:
            _pv_set_failed(ctx, _RURI_PART_ERR.get(part, f"str value required to set {pvname}"))
        u = _ruri_parsed(ctx)
        if part == "user" and (value is None or value == ""):
            _rewrite_ruri(ctx, u, "user", "")
        else:
            _rewrite_ruri(ctx, u, part, to_str(value))
    return setter


def _set_port(ctx, value):
    u = _ruri_parsed(ctx)
    _rewrite_ruri(ctx, u, "port", None if value in (None, "") else to_str(value))


def _params_str(params):
    return ";".join(n if v is None else f"{n}={v}" for n, v in params)


def _rewrite_ruri(ctx, u, part, value):
    """The core's SET_USER_T/SET_HOST_T/SET_PORT_T rewrite (core/action.c@5.6.3:
    do_action): the URI is rebuilt from its parsed parts; tel: URIs keep their
    parameters after the user and become sip: (with ;user=phone) when the host is set."""
    from ..runtime.compiler import AssignError
    if u.kind not in ("sip", "sips", "tel"):
        # urn: etc.: not rebuilt the Kamailio way (kept as before)
        if part == "user" and not value:
            ctx.new_uri = str(u.replace(user=None, password=None))
        else:
            ctx.new_uri = str(u.replace(**{part: value}))
        return
    scheme = u.scheme.lower()
    is_tel = u.kind == "tel"
    user_phone = is_tel and scheme in ("sip", "sips")   # URI_SIP_USER_PHONE
    if part == "port" and is_tel and not user_phone:
        ctx.log("ERR", "port number of a tel: URI cannot be set", source="core")
        raise AssignError("setting pvar failed")
    if scheme in ("sips", "tels"):
        out = ["sips" if (user_phone or part == "host" or scheme == "sips") else "tels", ":"]
    elif scheme == "tel":
        out = ["sip" if part == "host" else "tel", ":"]
    else:
        out = ["sip:"]
    user = value if part == "user" else (u.user or "")
    has_user = bool(user)
    out.append(user)
    if has_user and u.password is not None:
        out += [":", u.password]
    if is_tel:
        tparams = u.user_params if user_phone else u.params
        if tparams is not None and (tparams or not user_phone):
            ps = _params_str(tparams)
            if ps or (not user_phone and u.params):
                out += [";", ps]
    if part == "host":
        host = value
    elif not is_tel or user_phone:
        host = u.host
    else:
        host = None
    if host is not None:
        if has_user:
            out.append("@")
        out.append(host)
    port = value if part == "port" else u.port
    if port is not None and (port or part != "port"):
        out += [":", port]
    sip_params = u.params_text if scheme in ("sip", "sips") else None
    if sip_params is not None:
        out += [";", sip_params]
    if is_tel and not user_phone and part == "host":
        out.append(";user=phone")
    if u.headers is not None:
        out += ["?", u.headers]
    ctx.new_uri = "".join(out)


def _set_du(ctx, value):
    if value is None:
        ctx.dst_uri = None
        return
    if type(value) is int:
        _pv_set_failed(ctx, "error - str value required to set dst uri")
    ctx.dst_uri = value


# ---- From/To attributes: writes are lumps on the header (pv_set_xto_attr)
_XTO_WHAT = {"f": "From", "t": "To"}


def _xto_layout(ctx, which):
    """Absolute offsets of the From/To parts: dict with body, display, uri, user, host
    (each (start, end) or None)."""
    from ..sip.nameaddr import find_not_quoted
    msg = ctx.msg
    key = "from" if which == "f" else "to"
    idx = next((i for i, h in enumerate(msg.headers) if h.key == key), None)
    if idx is None:
        return None
    tb = _addr(ctx, which)
    if tb is None:
        return None
    _, bstart, bend, _ = msg.spans[idx]
    text = msg.text
    body = text[bstart:bend]
    lt = find_not_quoted(body, "<", 0, len(body))
    disp = None
    if tb.display:
        d = body.find(tb.display)
        if d >= 0:
            disp = (bstart + d, bstart + d + len(tb.display))
    if lt >= 0:
        ustart = bstart + lt + 1
    else:
        ustart = bstart + (len(body) - len(body.lstrip(" \t")))
    uri = (ustart, ustart + len(tb.uri))
    u = tb.parsed_uri
    rel = len(u.scheme) + 1
    user = None
    if u.user:
        ui = tb.uri.find(u.user, rel)
        if ui >= 0:
            user = (ustart + ui, ustart + ui + len(u.user))
            rel = ui + len(u.user)
    hi = tb.uri.find(u.host, rel) if u.host else -1
    host = (ustart + hi, ustart + hi + len(u.host)) if hi >= 0 else None
    return {"body": bstart, "display": disp, "uri": uri, "user": user, "host": host}


def _xto_setter(which, part):
    what = _XTO_WHAT[which]

    def setter(ctx, value):
        from ..errors import KscriptError
        from ..sip.lumps import lumps_of
        try:
            lay = _xto_layout(ctx, which)
        except KscriptError:
            lay = None
        if lay is None:
            if which == "f":
                _pv_set_failed(ctx, "cannot parse From header URI")
            raise _assign_error(f"${which}", f"no {what} header")
        text = ctx.msg.text
        buf = None
        anchor_at = None
        dele = None
        if part == "uri":
            if value is None:
                ctx.log("WARN", f"{what} header URI cannot be deleted", source="pv")
                return
            if type(value) is int:
                _pv_set_failed(ctx, f"attempt to assign non-str value to {what} header URI")
            buf, dele = value, lay["uri"]
        elif part == "user":
            user = lay["user"]
            if value is None:
                if user is None:
                    return
                end = user[1] + (1 if text[user[1]:user[1] + 1] == "@" else 0)
                dele = (user[0], end)
            else:
                if type(value) is int:
                    _pv_set_failed(ctx, f"attempt to assign non-str value to {what} header display name")
                if user is None:
                    anchor_at = lay["host"][0] if lay["host"] else lay["uri"][0]
                    buf = value + "@"
                else:
                    buf, dele = value, user
        elif part == "host":
            if value is None:
                ctx.log("WARN", f"{what} header URI domain cannot be deleted", source="pv")
                return
            if type(value) is int:
                _pv_set_failed(ctx, f"attempt to assign non-str value to {what} header URI domain")
            buf, dele = value, lay["host"]
        else:  # display
            disp = lay["display"]
            if value is None:
                if disp is None:
                    return
                end = disp[1] + (1 if text[disp[1]:disp[1] + 1] == " " else 0)
                dele = (disp[0], end)
            else:
                if type(value) is int:
                    _pv_set_failed(ctx, f"attempt to assign non-str value to {what} header display name")
                if disp is None:
                    anchor_at = lay["body"]
                    buf = value + " "
                else:
                    buf, dele = value, disp
        lumps = lumps_of(ctx)
        lump = None
        if dele is not None and dele[1] > dele[0]:
            lump = lumps.delete(dele[0], dele[1] - dele[0])
        elif anchor_at is not None:
            lump = lumps.anchor(anchor_at)
        if lump is not None and buf:
            lumps.insert_after(lump, buf)

    return setter


def _uri_user(u):
    return u.user if u.user else None


def _du_parsed(ctx):
    if ctx.dst_uri is None:
        return None
    try:
        return parse_uri(ctx.dst_uri)
    except KscriptError:
        raise PVFailed("bad dst uri") from None


def _orig_parsed(ctx):
    if not ctx.msg.is_request:
        return None
    try:
        return parse_uri(ctx.msg.ruri)
    except KscriptError:
        raise PVFailed("bad R-URI") from None


def _default_port(u):
    # 5.6: 5061 only for an explicit transport=tls (a sips: URI alone gives 5060)
    if u.port:
        return u.port
    return "5061" if (u.transport or "").lower() == "tls" else "5060"


def _transport(u):
    t = u.param("transport")
    return t if t else "UDP"


def _addr(ctx, which):
    return ctx.msg.from_ if which == "f" else ctx.msg.to


def _addr_uri(which):
    def f(ctx):
        a = _addr(ctx, which)
        return a.uri if a is not None else None
    return f


def _addr_part(which, part):
    def f(ctx):
        a = _addr(ctx, which)
        if a is None:
            return None
        try:
            u = a.parsed_uri
        except KscriptError:
            raise PVFailed("bad uri") from None
        v = getattr(u, part)
        return v if v else None
    return f


def _addr_display(which):
    def f(ctx):
        a = _addr(ctx, which)
        if a is None or not a.display:
            return None
        return a.display
    return f


def _addr_tag(which):
    def f(ctx):
        a = _addr(ctx, which)
        return a.tag if a is not None and a.tag else None
    return f


def _hdr_body(name):
    def f(ctx):
        return ctx.msg.header(name)
    return f


def _cseq_num(ctx):
    cs = ctx.msg.cseq
    return cs.number if cs else None


def _method(ctx):
    m = ctx.msg
    if m.is_request:
        return m.method
    cs = m.cseq
    return cs.method if cs else None


def _body(ctx):
    b = ctx.msg.body
    return b if b else ""


def _cl(ctx):
    v = ctx.msg.header("Content-Length")
    if v is None:
        return None
    n = str2int(v.strip())
    return n


def _ct_contact(ctx):
    return ctx.msg.header("Contact")


_METHOD_IDS = {"INVITE": 1, "CANCEL": 2, "ACK": 4, "BYE": 8, "INFO": 16, "REGISTER": 32, "SUBSCRIBE": 64,
               "NOTIFY": 128, "MESSAGE": 256, "OPTIONS": 512, "PRACK": 1024, "UPDATE": 2048, "REFER": 4096,
               "PUBLISH": 8192, "KDMQ": 16384}


def _flags_setter(attr):
    def setter(ctx, value):
        from ..runtime.values import to_int
        setattr(ctx, attr, to_int(value) & 0xFFFFFFFF)
    return setter


MSG_PVS = [
    _simple("ru", lambda ctx: ctx.ruri if _req(ctx) else None, _set_ruri),
    _simple("ruri", lambda ctx: ctx.ruri if _req(ctx) else None, _set_ruri),
    _simple("rU", lambda ctx: _uri_user(_ruri_parsed(ctx)) if _req(ctx) else None, _ruri_part_setter("user", "$rU")),
    _simple("ruri.user", lambda ctx: _uri_user(_ruri_parsed(ctx)) if _req(ctx) else None,
            _ruri_part_setter("user", "$rU")),
    _simple("rd", lambda ctx: _ruri_parsed(ctx).host or None if _req(ctx) else None, _ruri_part_setter("host", "$rd")),
    _simple("ruri.domain", lambda ctx: _ruri_parsed(ctx).host or None if _req(ctx) else None,
            _ruri_part_setter("host", "$rd")),
    _simple("rp", lambda ctx: _default_port(_ruri_parsed(ctx)) if _req(ctx) else None, _set_port),
    _simple("rP", lambda ctx: _transport(_ruri_parsed(ctx)) if _req(ctx) else None),
    _simple("rz", lambda ctx: _ruri_parsed(ctx).scheme if _req(ctx) else None),
    _simple("rUl", lambda ctx: len(_ruri_parsed(ctx).user or "") if _req(ctx) else None),
    _simple("ou", lambda ctx: ctx.msg.ruri if _req(ctx) else None),
    _simple("ouri", lambda ctx: ctx.msg.ruri if _req(ctx) else None),
    _simple("oU", lambda ctx: _uri_user(_orig_parsed(ctx)) if _req(ctx) else None),
    _simple("od", lambda ctx: _orig_parsed(ctx).host or None if _req(ctx) else None),
    _simple("op", lambda ctx: _default_port(_orig_parsed(ctx)) if _req(ctx) else None),
    _simple("oP", lambda ctx: _transport(_orig_parsed(ctx)) if _req(ctx) else None),
    _simple("du", lambda ctx: ctx.dst_uri, _set_du),
    _simple("duri", lambda ctx: ctx.dst_uri, _set_du),
    _simple("dd", lambda ctx: (u := _du_parsed(ctx)) and u.host or None),
    _simple("dp", lambda ctx: (u := _du_parsed(ctx)) and _default_port(u) or None),
    _simple("dP", lambda ctx: (u := _du_parsed(ctx)) and _transport(u) or None),
    _simple("fu", _addr_uri("f"), _xto_setter("f", "uri")),
    _simple("from", _addr_uri("f"), _xto_setter("f", "uri")),
    _simple("fU", _addr_part("f", "user"), _xto_setter("f", "user")),
    _simple("from.user", _addr_part("f", "user"), _xto_setter("f", "user")),
    _simple("fd", _addr_part("f", "host"), _xto_setter("f", "host")),
    _simple("from.domain", _addr_part("f", "host"), _xto_setter("f", "host")),
    _simple("fn", _addr_display("f"), _xto_setter("f", "display")),
    _simple("ft", _addr_tag("f")),
    _simple("tu", _addr_uri("t"), _xto_setter("t", "uri")),
    _simple("to", _addr_uri("t"), _xto_setter("t", "uri")),
    _simple("tU", _addr_part("t", "user"), _xto_setter("t", "user")),
    _simple("to.user", _addr_part("t", "user"), _xto_setter("t", "user")),
    _simple("td", _addr_part("t", "host"), _xto_setter("t", "host")),
    _simple("to.domain", _addr_part("t", "host"), _xto_setter("t", "host")),
    _simple("tn", _addr_display("t"), _xto_setter("t", "display")),
    _simple("tt", _addr_tag("t")),
    _simple("ci", _hdr_body("Call-ID")),
    _simple("cs", _cseq_num),
    _simple("csb", _hdr_body("CSeq")),
    _simple("rm", _method),
    _simple("rmid", lambda ctx: _METHOD_IDS.get((_method(ctx) or "").upper(), 0)),
    _simple("rs", lambda ctx: None if _req(ctx) else ctx.msg.status),
    _simple("rr", lambda ctx: None if _req(ctx) else ctx.msg.reason),
    _simple("rv", lambda ctx: ctx.msg.version),
    _simple("mt", lambda ctx: 1 if _req(ctx) else 2),
    _simple("si", lambda ctx: ctx.src.ip),
    _simple("src_ip", lambda ctx: ctx.src.ip),
    _simple("sp", lambda ctx: ctx.src.port),
    _simple("Ri", lambda ctx: ctx.rcv.ip),
    _simple("Rp", lambda ctx: ctx.rcv.port),
    _simple("Ru", lambda ctx: f"sip:{ctx.rcv.ip}:{ctx.rcv.port}" + ("" if ctx.rcv.proto == "udp" else f";transport={ctx.rcv.proto}")),
    _simple("su", lambda ctx: f"sip:{ctx.src.ip}:{ctx.src.port}" + ("" if ctx.src.proto == "udp" else f";transport={ctx.src.proto}")),
    _simple("pr", lambda ctx: ctx.src.proto),
    _simple("proto", lambda ctx: ctx.src.proto),
    _simple("ua", _hdr_body("User-Agent")),
    _simple("ct", _ct_contact),
    _simple("cT", _hdr_body("Content-Type")),
    _simple("cl", _cl),
    _simple("rb", _body),
    _simple("bs", lambda ctx: len((ctx.msg.body or "").encode())),
    _simple("mb", lambda ctx: ctx.msg.text),
    _simple("ml", lambda ctx: len(ctx.msg.text.encode())),
    _simple("mi", lambda ctx: ctx.script._msg_seq),
    _simple("pp", lambda ctx: os.getpid()),
    _simple("TS", lambda ctx: int(ctx.script.clock())),
    _simple("Ts", lambda ctx: int(ctx.received_at)),
    _simple("mf", lambda ctx: ctx.flags, _flags_setter("flags")),
    _simple("mF", lambda ctx: f"{ctx.flags:08x}", _flags_setter("flags")),
    _simple("bf", lambda ctx: ctx.bflags, _flags_setter("bflags")),
    _simple("bF", lambda ctx: f"{ctx.bflags:08x}", _flags_setter("bflags")),
    _simple("sf", lambda ctx: ctx.sflags, _flags_setter("sflags")),
    _simple("sF", lambda ctx: f"{ctx.sflags:08x}", _flags_setter("sflags")),
]


class HdrPV(PVClass):
    """``$hdr(name)``: body of a header (compact names map), ``[n]``, ``[-1]``, ``[*]``."""

    name = "hdr"
    takes_name = True
    indexed = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        if inner.startswith("$"):
            return ("dyn", compiler.pv(inner, None))
        return inner

    def _bodies(self, ctx, name):
        if isinstance(name, tuple):
            name = to_str(name[1].value(ctx))
        return ctx.msg.headers_named(name)

    def get(self, ctx, name, idx):
        bodies = self._bodies(ctx, name)
        if not bodies:
            return None
        if idx is None:
            return bodies[0]
        if callable(idx):
            idx = idx(ctx)
        if idx == "*":
            return ",".join(bodies)
        if idx == "+":
            return bodies[0]
        if idx < 0:
            idx += len(bodies)
        return bodies[idx] if 0 <= idx < len(bodies) else None


class HdrcPV(HdrPV):
    name = "hdrc"
    indexed = False

    def get(self, ctx, name, idx):
        return len(self._bodies(ctx, name))


class HflPV(HdrPV):
    """``$hfl(name)``: like ``$hdr`` but Via, Route, Record-Route and Contact bodies are
    indexed one value at a time (pv/pv_core.c@5.6.3:2237-2550)."""

    name = "hfl"

    def _bodies(self, ctx, name):
        from ..sip.headers import header_key
        from ..sip.nameaddr import split_comma_list
        if isinstance(name, tuple):
            name = to_str(name[1].value(ctx))
        key = header_key(name)
        msg = ctx.msg
        if key == "via":
            try:
                return [v.raw or str(v) for v in msg.vias]
            except KscriptError:
                return []
        if key in ("route", "record-route", "contact"):
            out = []
            for body in msg.headers_named(key):
                out.extend(split_comma_list(body))
            return out
        return msg.headers_named(name)


class HflcPV(HflPV):
    name = "hflc"
    indexed = False

    def get(self, ctx, name, idx):
        return len(self._bodies(ctx, name))


class TimePV(PVClass):
    """``$time(name)`` / ``$utime(name)``: broken-down time of this message."""

    name = "time"
    takes_name = True
    _utc = False
    _FIELDS = ("sec", "min", "hour", "mday", "mon", "year", "wday", "yday", "isdst")

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        if inner not in self._FIELDS:
            raise ValueError(f"unknown time field '{inner}'")
        return inner

    def get(self, ctx, name, idx):
        t = time.gmtime(ctx.received_at) if self._utc else time.localtime(ctx.received_at)
        return {"sec": t.tm_sec, "min": t.tm_min, "hour": t.tm_hour, "mday": t.tm_mday, "mon": t.tm_mon,
                "year": t.tm_year, "wday": (t.tm_wday + 1) % 7 + 1, "yday": t.tm_yday,
                "isdst": t.tm_isdst}[name]


class UtimePV(TimePV):
    name = "utime"
    _utc = True


class TimefPV(PVClass):
    name = "timef"
    takes_name = True
    _utc = False

    def get(self, ctx, name, idx):
        t = time.gmtime(ctx.script.clock()) if self._utc else time.localtime(ctx.script.clock())
        return time.strftime(name, t)


class UtimefPV(TimefPV):
    name = "utimef"
    _utc = True


class PvModule(PvFunctions, Module):
    name = "pv"
    params = {"shvset": Param("str", multi=True), "varset": Param("str", multi=True)}
    pv_classes = (VarPV, VzPV, VnPV, ShvPV, AvpPV, XavpPV, XaviPV, CntPV, HdrPV, HdrcPV, HflPV, HflcPV, TimePV, UtimePV, TimefPV,
                  UtimefPV, *MSG_PVS, *MORE_PVS)

    def init(self):
        from ..errors import ConfigError
        self.script._pv_started_at = self.script.clock()
        for pname, target in (("shvset", self.script.shv), ("varset", self.script.vars)):
            for value, pos in self.param_values[pname]:
                name, sep, rest = value.partition("=")
                typ, sep2, v = rest.partition(":")
                if not sep or not sep2 or typ not in ("i", "s"):
                    raise ConfigError(f"bad {pname} value '{value}' (expected name=i:value or name=s:value)", pos)
                if typ == "i":
                    n = str2int(v)
                    if n is None:
                        raise ConfigError(f"bad integer in {pname} '{value}'", pos)
                    target[name.strip()] = n
                else:
                    target[name.strip()] = v
