"""siputils: SIP helper tests and URI helpers (modules/siputils @5.6.3).

Return codes follow Kamailio: most tests give 1 / -1; ``cmp_uri``/``cmp_aor`` give
1 (match), -1 (no match), -2 (a URI does not parse); ``is_tel_number``/
``is_numeric`` -2 when not matching, ``is_alphanum`` -3.  ``is_user()`` checks the
user of the authorized credentials (none without ``auth``: -1 with an error log).
"""

from __future__ import annotations

from ..errors import KscriptError
from ..sip.lumps import add_reply_lump
from ..sip.uri import parse_uri
from .base import Module, Param, function


def _parse(uri: str):
    try:
        return parse_uri(uri)
    except KscriptError:
        return None


def _cmp_params(p1, p2) -> bool:
    """core ``cmp_str_params``: every parameter present in both must have the same value
    (case-insensitive)."""
    for n1, v1 in p1:
        for n2, v2 in p2:
            if n1.lower() == n2.lower() and (v1 or "").lower() != (v2 or "").lower():
                return False
    return True


def cmp_uri(s1: str, s2: str) -> int:
    """core ``cmp_uri_str``: 0 match, 1 no match, -1 parse error (RFC 3261 19.1.4)."""
    u1, u2 = _parse(s1), _parse(s2)
    if u1 is None or u2 is None:
        return -1
    if u1.scheme.lower() != u2.scheme.lower():
        return 1
    if (u1.user or "") != (u2.user or "") or (u1.port or "") != (u2.port or "") \
            or (u1.password or "") != (u2.password or ""):
        return 1
    if u1.host.lower() != u2.host.lower():
        return 1
    if not u1.params and not u2.params:
        return 0
    special = ("user", "ttl", "method", "maddr")
    if not u1.params and any(u2.has_param(p) for p in special):
        return 1
    if not u2.params and any(u1.has_param(p) for p in special):
        return 1
    return 0 if _cmp_params(u1.params, u2.params) else 1


def cmp_aor(s1: str, s2: str) -> int:
    """core ``cmp_aor_str``: user, host (case-insensitive), port (absent = 5060)."""
    u1, u2 = _parse(s1), _parse(s2)
    if u1 is None or u2 is None:
        return -1
    if (u1.user or "") != (u2.user or "") or len(u1.host) != len(u2.host):
        return 1
    if (u1.port or "") != (u2.port or ""):
        if not u1.port and u2.port_no != 5060:
            return 1
        if not u2.port and u1.port_no != 5060:
            return 1
    if u1.host.lower() != u2.host.lower():
        return 1
    return 0


def e164_check(user: str) -> int:
    if 2 < len(user) < 17 and user[0] == "+" and all("0" <= c <= "9" for c in user[1:]):
        return 1
    return -1


def _cmp_ret(r: int) -> int:
    return 1 if r == 0 else (-1 if r > 0 else -2)


class SiputilsModule(Module):
    name = "siputils"
    params = {
        "options_accept": Param("str", "*/*"),
        "options_accept_encoding": Param("str", ""),
        "options_accept_language": Param("str", "en"),
        "options_support": Param("str", ""),
        "contact_flds_separator": Param("str", "*"),
        "rpid_prefix": Param("str", ""),
        "rpid_suffix": Param("str", ";party=calling;id-type=subscriber;screen=yes"),
        "rpid_avp": Param("str", "$avp(s:rpid)"),
    }

    # ---- message type / dialog
    @function("is_request")
    def is_request(self, ctx):
        return 1 if ctx.msg.is_request else -1

    @function("is_reply")
    def is_reply(self, ctx):
        return 1 if not ctx.msg.is_request else -1

    @function("has_totag")
    def has_totag(self, ctx):
        try:
            to = ctx.msg.to
        except KscriptError:
            self.log(ctx, "ERR", "To parsing failed")
            return -1
        if to is None:
            self.log(ctx, "ERR", "no To")
            return -1
        if not to.tag:
            self.log(ctx, "DBG", "no totag")
            return -1
        return 1

    @function("is_first_hop")
    def is_first_hop(self, ctx):
        return self._first_hop(ctx, 0)

    @function("is_first_hop", "igp")
    def is_first_hop1(self, ctx, mode):
        if mode is None:
            self.log(ctx, "ERR", "failed to get mode parameter")
            return -1
        return self._first_hop(ctx, mode)

    def _first_hop(self, ctx, mode: int) -> int:
        msg = ctx.msg
        if msg.is_request:
            return 1 if len(msg.vias) < 2 else -1
        rrs = msg.record_routes
        if not rrs:
            return 1
        u = _parse(rrs[0].uri)
        if u is None:
            return -1
        from ..sip.output import is_ip
        if mode == 0 and not is_ip(u.host):
            return -1
        port = u.port_no if u.port else None
        if not ctx.script.host_is_myself(u.host, port):
            return -1
        if mode == 0:
            host = u.host.strip("[]")
            proto = (u.param("transport") or "").lower()
            if host == ctx.src.ip and (ctx.src.port == u.port_no or (not u.port and ctx.src.port == 5060)) \
                    and (proto == ctx.src.proto or (not proto and ctx.src.proto == "udp")):
                return -1
        return 1

    # ---- credentials
    @function("is_user", "fmt")
    def is_user(self, ctx, user):
        cred = self._authorized_cred(ctx)
        if cred is None:
            self.log(ctx, "ERR", "no authorized credentials found (error in scripts)")
            self.log(ctx, "ERR", "Call {www,proxy}_authorize before calling is_user function !")
            return -1
        if not cred.user:
            self.log(ctx, "DBG", "username not found in credentials")
            return -1
        return 1 if cred.user == user else -1

    @staticmethod
    def _authorized_cred(ctx):
        """The credentials the auth module authorized (``get_authorized_cred``):
        Authorization first, then Proxy-Authorization."""
        authorized = ctx.data.get("auth_authorized") or {}
        msg = ctx.msg
        for key in ("authorization", "proxy-authorization"):
            idx = authorized.get(key)
            if idx is None:
                continue
            try:
                from ..sip.digest import parse_credentials
            except ImportError:  # pragma: no cover - auth support not installed
                return None
            cred = parse_credentials(msg.headers[idx].body)
            if cred is not None:
                return cred
        return None

    # ---- R-URI parameters
    def _ruri(self, ctx):
        if not ctx.msg.is_request:
            return None
        u = _parse(ctx.ruri)
        if u is None:
            self.log(ctx, "ERR", "ruri parsing failed")
        return u

    @function("uri_param", "fmt")
    def uri_param1(self, ctx, name):
        return self._uri_param(ctx, name, None)

    @function("uri_param", "fmt", "fmt")
    def uri_param2(self, ctx, name, value):
        return self._uri_param(ctx, name, value)

    def _uri_param(self, ctx, name, value):
        u = self._ruri(ctx)
        if u is None:
            return -1
        for n, v in u.params:
            if n == name:
                if value is not None:
                    return 1 if (v or "") == value else -1
                return -1 if v else 1
        return -1

    @function("uri_param_any", "fmt")
    def uri_param_any(self, ctx, name):
        u = self._ruri(ctx)
        if u is None:
            return -1
        return 1 if u.has_param(name) else -1

    @function("add_uri_param", "str")
    def add_uri_param(self, ctx, param):
        if not param:
            return 1
        u = self._ruri(ctx)
        if u is None:
            return -1
        cur = ctx.ruri
        if not u.headers:
            ctx.new_uri = cur + ";" + param
            return 1
        out = "sip:"
        if u.user:
            out += u.user
            if u.password:
                out += ":" + u.password
            out += "@"
        out += u.host
        if u.port:
            out += ":" + u.port
        if u.params_text:
            out += ";" + u.params_text
        out += ";" + param + "?" + u.headers
        ctx.new_uri = out
        return 1

    @function("uri_param_rm", "fmt")
    def uri_param_rm(self, ctx, name):
        u = self._ruri(ctx)
        if u is None:
            return -1
        if not u.params:
            return 1
        if not u.has_param(name):
            return 1
        params = [(n, v) for n, v in u.params]
        for i, (n, v) in enumerate(params):
            if n.lower() == name.lower():
                del params[i]
                break
        ctx.new_uri = str(u.replace(params=params))
        return 1

    @function("get_uri_param", "str", "pvar")
    def get_uri_param(self, ctx, name, dst):
        u = self._ruri(ctx)
        if u is None:
            return -1
        for n, v in u.params:
            if n == name:
                dst.set(ctx, v or "")
                return 1
        return -1

    @function("tel2sip", "fmt", "fmt", "pvar")
    def tel2sip(self, ctx, uri, hostpart, dst):
        if len(uri) < 4 or uri[:4].lower() != "tel:":
            return 2
        out = []
        in_params = False
        for c in uri:
            if not in_params and c == ";":
                in_params = True
            if not in_params and c in "-.()":
                continue
            out.append(c.lower())
        tel = "".join(out)
        dst.set(ctx, "sip:" + tel[4:] + "@" + hostpart + ";user=phone")
        return 1

    @function("is_uri", "fmt")
    def is_uri(self, ctx, uri):
        return 1 if _parse(uri) is not None else -1

    @function("is_e164", "pvar")
    def is_e164(self, ctx, pv):
        v = pv.value(ctx)
        if not isinstance(v, str):
            self.log(ctx, "ERR", "pseudo variable value is not string" if v is not None
                     else "failed to get pseudo variable value")
            return -1
        if not v:
            return -1
        return e164_check(v)

    @function("is_uri_user_e164", "pvar")
    def is_uri_user_e164(self, ctx, pv):
        v = pv.value(ctx)
        if not isinstance(v, str):
            self.log(ctx, "ERR", "pseudo variable value is not string")
            return -1
        if not v:
            return -1
        i = v.find(":")
        if i < 0:
            self.log(ctx, "ERR", "parsing URI failed")
            return -1
        j = v.find("@", i + 1)
        if j < 0:
            return -1
        return e164_check(v[i + 1:j])

    @function("cmp_uri", "fmt", "fmt")
    def cmp_uri(self, ctx, a, b):
        return _cmp_ret(cmp_uri(a, b))

    @function("cmp_aor", "fmt", "fmt")
    def cmp_aor(self, ctx, a, b):
        return _cmp_ret(cmp_aor(a, b))

    @function("cmp_hdr_name", "fmt", "fmt")
    def cmp_hdr_name(self, ctx, a, b):
        from ..sip.headers import header_key
        return 1 if header_key(a) == header_key(b) else -1

    @function("is_tel_number", "fmt")
    def is_tel_number(self, ctx, v):
        if not v:
            return -2
        i = 0
        if v[0] == "+":
            if len(v) < 2 or not "1" <= v[1] <= "9":
                return -2
            i = 2
        return 1 if all("0" <= c <= "9" for c in v[i:]) else -2

    @function("is_numeric", "fmt")
    def is_numeric(self, ctx, v):
        if not v:
            return -2
        return 1 if all("0" <= c <= "9" for c in v) else -2

    @function("is_alphanum", "fmt")
    def is_alphanum(self, ctx, v):
        if not v:
            return -2
        return 1 if all(c.isascii() and c.isalnum() for c in v) else -3

    @function("is_alphanumex", "fmt", "fmt")
    def is_alphanumex(self, ctx, v, extra):
        if not v:
            return -2
        for c in v:
            if not (c.isascii() and c.isalnum()) and c not in extra:
                return -3
        return 1

    @function("is_gruu")
    def is_gruu0(self, ctx):
        return self._gruu(ctx.ruri if ctx.msg.is_request else "")

    @function("is_gruu", "fmt")
    def is_gruu1(self, ctx, uri):
        return self._gruu(uri)

    def _gruu(self, uri):
        u = _parse(uri)
        if u is None:
            return -1
        if u.has_param("gr"):
            return 1 if u.param("gr") else 2
        return -1

    @function("is_supported", "str")
    def is_supported(self, ctx, option):
        opts = set()
        for body in ctx.msg.headers_named("supported"):
            opts.update(x.strip().lower() for x in body.split(","))
        return 1 if option.lower() in opts else -1

    @function("set_uri_user", "pvar", "pvar")
    def set_uri_user(self, ctx, uri_pv, value_pv):
        uri = uri_pv.value(ctx)
        value = value_pv.value(ctx)
        if not isinstance(uri, str) or not uri:
            self.log(ctx, "ERR", "missing uri value")
            return -1
        if not isinstance(value, str):
            self.log(ctx, "ERR", "uriuser value is not string")
            return -1
        colon = uri.find(":")
        if colon < 0:
            self.log(ctx, "ERR", "uri does not contain ':' character")
            return -1
        at = uri.find("@")
        if at < 0:
            if not value:
                return 1
            new = uri[:colon + 1] + value + "@" + uri[colon + 1:]
        elif not value:
            new = uri[:colon + 1] + uri[at + 1:]
        else:
            new = uri[:colon + 1] + value + uri[at:]
        uri_pv.set(ctx, new)
        return 1

    @function("set_uri_host", "pvar", "pvar")
    def set_uri_host(self, ctx, uri_pv, value_pv):
        uri = uri_pv.value(ctx)
        value = value_pv.value(ctx)
        if not isinstance(uri, str) or not uri:
            self.log(ctx, "ERR", "missing uri value")
            return -1
        if not isinstance(value, str):
            self.log(ctx, "ERR", "uri value is not string")
            return -1
        if not value:
            self.log(ctx, "ERR", "hostpart of uri cannot be empty")
            return -1
        colon = uri.find(":")
        if colon < 0:
            self.log(ctx, "ERR", "uri does not contain ':' character")
            return -1
        at = uri.find("@", colon + 1)
        nxt = colon + 1 if at < 0 else at + 1
        end = nxt
        while end < len(uri) and uri[end] not in ":;?":
            end += 1
        uri_pv.set(ctx, uri[:nxt] + value + uri[end:])
        return 1

    # ---- OPTIONS
    @function("options_reply")
    def options_reply(self, ctx):
        msg = ctx.msg
        if not msg.is_request or (msg.method or "").upper() != "OPTIONS":
            self.log(ctx, "ERR", "called for non-OPTIONS request")
            return -1
        u = _parse(ctx.ruri)
        if u is None:
            self.log(ctx, "ERR", "ERROR while parsing the R-URI")
            return -1
        if u.user:
            self.log(ctx, "ERR", "ruri contains username")
            return -1
        sl = ctx.script.modules.get("sl")
        hdrs = (f"Accept: {self.param('options_accept')}\r\n"
                f"Accept-Encoding: {self.param('options_accept_encoding')}\r\n"
                f"Accept-Language: {self.param('options_accept_language')}\r\n"
                f"Supported: {self.param('options_support')}\r\n")
        add_reply_lump(ctx, hdrs)
        if sl is None:
            self.log(ctx, "ERR", "failed to send 200 via send_reply")
            return -1
        if sl.send_reply_impl(ctx, 200, "OK") == -1:
            self.log(ctx, "ERR", "failed to send 200 via send_reply")
            return -1
        return 1

    # ---- Remote-Party-ID
    @function("append_rpid_hf")
    def append_rpid_hf(self, ctx):
        return self._append_rpid(ctx, self.param("rpid_prefix"), self.param("rpid_suffix"))

    @function("append_rpid_hf", "str", "str")
    def append_rpid_hf2(self, ctx, prefix, suffix):
        return self._append_rpid(ctx, prefix, suffix)

    def _append_rpid(self, ctx, prefix, suffix):
        pv = ctx.script.compiler.pv(self.param("rpid_avp"), None)
        rpid = pv.value(ctx)
        if rpid is None:
            return -1
        from .textops import add_hf
        return add_hf(ctx, f"Remote-Party-ID: {prefix}{rpid}{suffix}\r\n")
