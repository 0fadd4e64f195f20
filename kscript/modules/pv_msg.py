"""More pv-module PVs: identity/auth header attributes ($ai, $pu.., $re, $rt, $di..,
$au..), the branch set ($br, $bR, $ds, $branch(..), $sbranch(..)), $xavu, $sel,
$TV/$TF/$Tf/$Tb and the single-flag PVs $Mf/$Bf/$Sf (pv/pv_core.c, pv_branch.c,
pv_time.c @5.6.3 semantics)."""

from __future__ import annotations

import time

from ..errors import KscriptError
from ..pv.base import PVClass
from ..runtime.values import to_int, to_str


# ---------------------------------------------------------------- header attributes
def _first_body(ctx, hname):
    from ..sip.nameaddr import parse_to_body, split_comma_list
    body = ctx.msg.header(hname)
    if body is None:
        return None
    try:
        parts = split_comma_list(body)
        return parse_to_body(parts[0] if parts else body)
    except (KscriptError, IndexError):
        return None


def _tb_param(tb, name):
    found = None
    for p in tb.params:
        if p.name.lower() == name:
            found = "" if p.value is None else p.value
    return found


def _hdr_attr(pvname, hname, what):
    def get(self, ctx, name, idx):
        tb = _first_body(ctx, hname)
        if tb is None:
            return None
        if what == "uri":
            return tb.uri or None
        if what == "display":
            return tb.display or None
        if what in ("user", "host"):
            try:
                u = tb.parsed_uri
            except KscriptError:
                return None
            v = getattr(u, what)
            return v or None
        return _tb_param(tb, what)
    return type("PV_" + pvname, (PVClass,), {"name": pvname, "get": get})


def _cred(ctx):
    from ..sip import digest
    m = ctx.msg
    if not m.is_request or m.method in ("ACK", "CANCEL"):
        return None
    body = m.header("Proxy-Authorization")
    if body is None:
        body = m.header("Authorization")
    if body is None:
        return None
    return digest.parse_credentials(body)


def _auth_attr(pvname, attr):
    def get(self, ctx, name, idx):
        c = _cred(ctx)
        if c is None:
            return None
        v = getattr(c, attr)
        if attr == "uri" and not v:
            return None
        return "" if v is None else v
    return type("PV_" + pvname, (PVClass,), {"name": pvname, "get": get})


# ---------------------------------------------------------------- branches
def _q2str(q):
    from ..sip.output import q2str
    return q2str(q)


class BrPV(PVClass):
    name = "br"

    def get(self, ctx, name, idx):
        if not ctx.msg.is_request or not ctx.branches:
            return None
        return ctx.branches[0].uri


class BRPV(PVClass):
    name = "bR"

    def get(self, ctx, name, idx):
        if not ctx.msg.is_request or not ctx.branches:
            return None
        out = []
        for b in ctx.branches:
            out.append(b.uri if b.q == -1 else f"<{b.uri}>;q={_q2str(b.q)}")
        return ", ".join(out)


def _contact_str(uri, q, path):
    s = f"<{uri}>"
    if q != -1:
        s += f";q={_q2str(q)}"
    return s


class DsPV(PVClass):
    name = "ds"

    def get(self, ctx, name, idx):
        items = []
        if ctx.new_uri is not None:
            items.append(_contact_str(ctx.new_uri, ctx.data.get("ruri_q", -1), None))
        for b in ctx.branches:
            items.append(_contact_str(b.uri, b.q, b.path))
        if not items:
            ctx.log("WARN", "no r-uri or branches", source="core")
            return None
        return "Contact: " + ", ".join(items)


_BRANCH_FIELDS = ("uri", "dst_uri", "path", "q", "send_socket", "count", "flags", "ruid", "location_ua")


def _branch_field(b, field):
    if field == "q":
        return None if b.q == -1 else b.q
    if field == "flags":
        return b.flags
    if field == "send_socket":
        s = b.socket
        if s is None:
            return None
        return f"{s.proto}:{s.ip}:{s.port}"
    if field == "location_ua":
        return b.location_ua or None
    v = getattr(b, field)
    return v or None


def _branch_set(b, field, value):
    if field == "q":
        b.q = -1 if value is None else to_int(value)
    elif field == "flags":
        b.flags = 0 if value is None else to_int(value) & 0xFFFFFFFF
    elif field in ("uri", "dst_uri", "path", "ruid", "location_ua"):
        v = None if value is None else to_str(value)
        if field == "uri":
            v = v or ""
        setattr(b, field, v)
    else:
        raise KscriptError(f"$branch({field}) cannot be set by kscript")


class BranchPV(PVClass):
    """``$branch(attr)[i]``: an attribute of the i-th appended branch."""

    name = "branch"
    takes_name = True
    indexed = True
    writable = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        if inner not in _BRANCH_FIELDS:
            raise ValueError(f"unknown branch attribute '{inner}'")
        return inner

    @staticmethod
    def _i(ctx, idx):
        if callable(idx):
            idx = idx(ctx)
        if idx in (None, "*", "+"):
            return 0
        return idx

    def get(self, ctx, name, idx):
        if name == "count":
            return len(ctx.branches)
        i = self._i(ctx, idx)
        if i < 0:
            i += len(ctx.branches)
        if not 0 <= i < len(ctx.branches):
            return None
        return _branch_field(ctx.branches[i], name)

    def set(self, ctx, name, idx, value):
        i = self._i(ctx, idx)
        if i < 0:
            i += len(ctx.branches)
        if not 0 <= i < len(ctx.branches):
            from ..runtime.compiler import AssignError
            raise AssignError("setting pvar failed")
        _branch_set(ctx.branches[i], name, value)


class SbranchPV(PVClass):
    """``$sbranch(attr)``: the static branch (sbranch_set_ruri / sbranch_append)."""

    name = "sbranch"
    takes_name = True
    writable = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        if inner not in _BRANCH_FIELDS or inner == "count":
            raise ValueError(f"unknown branch attribute '{inner}'")
        return inner

    def get(self, ctx, name, idx):
        sb = ctx.data.get("sbranch")
        if sb is None:
            return None if name not in ("q", "flags") else 0
        if name == "q":
            return sb.q
        return _branch_field(sb, name)

    def set(self, ctx, name, idx, value):
        from ..sip.output import Branch
        sb = ctx.data.get("sbranch")
        if sb is None:
            sb = ctx.data["sbranch"] = Branch("", q=0)
        _branch_set(sb, name, value)


# ---------------------------------------------------------------- $xavu
class XavuPV(PVClass):
    """``$xavu(root=>field)``: unique xavps (one item per root, one value per field)."""

    name = "xavu"
    takes_name = True
    writable = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        parts = [p.strip() for p in inner.split("=>")]
        if len(parts) > 2 or not all(parts):
            raise ValueError(f"bad xavu name '{inner}'")
        return tuple(parts)

    def get(self, ctx, name, idx):
        store = ctx.data.get("xavu", {})
        if name[0] not in store:
            return None
        v = store[name[0]]
        if len(name) == 1:
            return v if not isinstance(v, dict) else f"<<xavu:{id(v):x}>>"
        if not isinstance(v, dict):
            return None
        return v.get(name[1])

    def set(self, ctx, name, idx, value):
        store = ctx.data.setdefault("xavu", {})
        if len(name) == 1:
            if value is None:
                store.pop(name[0], None)
            else:
                store[name[0]] = value
            return
        item = store.get(name[0])
        if not isinstance(item, dict):
            if value is None:
                return
            item = store[name[0]] = {}
        if value is None:
            item.pop(name[1], None)
        else:
            item[name[1]] = value


# ---------------------------------------------------------------- $sel
class SelPV(PVClass):
    """``$sel(cfg_get.group.var)``: only the cfg_get selects are supported."""

    name = "sel"
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        if not inner.startswith("cfg_get."):
            raise ValueError(f"select '@{inner}' is not supported by kscript")
        return inner[len("cfg_get."):]

    def get(self, ctx, name, idx):
        return ctx.script.cfg_vars.get(name)


# ---------------------------------------------------------------- time
class TVPV(PVClass):
    name = "TV"
    takes_name = True

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler).strip()
        if inner not in ("s", "u", "sn", "un", "Sn", "Sm"):
            raise ValueError(f"unknown $TV name '{inner}'")
        return inner

    def get(self, ctx, name, idx):
        if name in ("s", "u"):
            key = "_tv_cache"
            now = ctx.data.get(key)
            if now is None:
                now = ctx.data[key] = ctx.script.clock()
        else:
            now = ctx.script.clock()
        sec = int(now)
        usec = int(round((now - sec) * 1_000_000)) % 1_000_000
        if name in ("s", "sn"):
            return sec
        if name in ("u", "un"):
            return usec
        if name == "Sn":
            return f"{sec}.{usec:06d}"
        return int(time.monotonic() * 1000)


class TFPV(PVClass):
    name = "TF"

    def get(self, ctx, name, idx):
        return time.ctime(ctx.script.clock())


class TfPV(PVClass):
    name = "Tf"

    def get(self, ctx, name, idx):
        return time.ctime(ctx.received_at)


class TbPV(PVClass):
    name = "Tb"

    def get(self, ctx, name, idx):
        t = getattr(ctx.script, "_pv_started_at", None)
        if t is None:
            t = ctx.received_at
        return int(t)


# ---------------------------------------------------------------- single flags
def _flag_pv(pvname, attr):
    def parse_name(self, inner, compiler):
        inner = PVClass.parse_name(self, inner, compiler).strip()
        try:
            n = int(inner)
        except ValueError:
            raise ValueError(f"bad flag index '{inner}'") from None
        if not 0 <= n <= 31:
            raise ValueError(f"flag index out of range '{inner}'")
        return n

    def get(self, ctx, name, idx):
        return 1 if getattr(ctx, attr) & (1 << name) else 0

    def set(self, ctx, name, idx, value):
        cur = getattr(ctx, attr)
        on = value is not None and to_int(value) != 0
        setattr(ctx, attr, (cur | (1 << name)) if on else (cur & ~(1 << name)))

    return type("PV_" + pvname, (PVClass,), {"name": pvname, "takes_name": True, "writable": True,
                                             "parse_name": parse_name, "get": get, "set": set})


MORE_PVS = (
    _hdr_attr("ai", "P-Asserted-Identity", "uri"),
    _hdr_attr("pu", "P-Preferred-Identity", "uri"),
    _hdr_attr("pU", "P-Preferred-Identity", "user"),
    _hdr_attr("pd", "P-Preferred-Identity", "host"),
    _hdr_attr("pn", "P-Preferred-Identity", "display"),
    _hdr_attr("re", "Remote-Party-ID", "uri"),
    _hdr_attr("rt", "Refer-To", "uri"),
    _hdr_attr("di", "Diversion", "uri"),
    _hdr_attr("dir", "Diversion", "reason"),
    _hdr_attr("dip", "Diversion", "privacy"),
    _hdr_attr("dic", "Diversion", "counter"),
    _auth_attr("au", "user"),
    _auth_attr("ar", "realm"),
    _auth_attr("ad", "domain"),
    _auth_attr("aU", "username"),
    _auth_attr("adu", "uri"),
    BrPV, BRPV, DsPV, BranchPV, SbranchPV, XavuPV, SelPV, TVPV, TFPV, TfPV, TbPV,
    _flag_pv("Mf", "flags"), _flag_pv("Bf", "bflags"), _flag_pv("Sf", "sflags"),
)
