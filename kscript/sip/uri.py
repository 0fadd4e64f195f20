"""SIP / SIPS / TEL / URN URIs parsed the way Kamailio 5.6 parses them.

:func:`parse_uri` follows Kamailio's ``parse_uri()`` (core/parser/parse_uri.c@5.6.3),
including its quirks, because the values scripts see (``$rU``, ``{uri.user}``, ...)
come from that parser:

* the scheme is matched on its first four bytes, case-insensitively (``sip:``,
  ``sips:``, ``tel:``, ``urn:``); ``tels:`` is **not** recognised and fails;
* a URI without ``@`` is a host (``sip:example.com:5060``); the host is only
  validated (``[A-Za-z0-9][A-Za-z0-9.-]*`` or ``[...]``) when a user part precedes it;
* ``;`` and ``?`` may belong to the user part (``sip:al;ice@host`` has user
  ``al;ice``);
* IPv6 references keep their brackets (``[2001:db8::1]``);
* a port above 65535 or longer than 5 characters fails, an empty port (``host:``) is
  accepted;
* a URI ending in the parameter names ``ma``, ``mad``, ``madd``, ``maddr`` or
  ``maddr=`` fails (an unhandled parser state in 5.6.3);
* ``user=phone`` on a sip/sips URI (``phone2tel``, on by default) makes Kamailio treat
  it as a tel URI: the user part is cut at its first ``;`` (the rest is in
  :attr:`SipUri.user_params`);
* for tel URIs the number is the *user* and the host is empty.

Escapes (``%40``) are kept as written.  Parsing is done by a regular-expression fast
path for ordinary URIs and by a faithful port of the state machine otherwise; both give
identical results (checked by tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import SipParseError

__all__ = ["SipUri", "parse_uri", "PROTO_NONE", "PROTO_UDP", "PROTO_TCP", "PROTO_TLS", "PROTO_SCTP",
           "PROTO_WS", "PROTO_WSS", "PROTO_NAMES"]

PROTO_NONE, PROTO_UDP, PROTO_TCP, PROTO_TLS, PROTO_SCTP, PROTO_WS, PROTO_WSS, PROTO_OTHER = range(8)
PROTO_NAMES = {PROTO_UDP: "udp", PROTO_TCP: "tcp", PROTO_TLS: "tls", PROTO_SCTP: "sctp", PROTO_WS: "ws",
               PROTO_WSS: "ws"}
_TRANSPORT_PROTO = {"udp": PROTO_UDP, "tcp": PROTO_TCP, "tls": PROTO_TLS, "sctp": PROTO_SCTP, "ws": PROTO_WS}
MAX_PORT = 65535


@dataclass(slots=True)
class SipUri:
    """A parsed URI.  ``str(uri)`` gives the original text back (or, for a URI built or
    changed with :meth:`replace`, the text rebuilt from the fields).

    Absent parts are ``None``; a present but empty part is ``""`` (``sip:host:`` has
    port ``""``, ``sip:a:@host`` has password ``""``).  For tel URIs the number is in
    ``user`` and ``host`` is ``""`` (as in Kamailio).

    >>> u = parse_uri("sip:alice@example.com:5070;transport=tcp;lr")
    >>> u.user, u.host, u.port, u.param("TRANSPORT"), u.param("lr"), u.param("x")
    ('alice', 'example.com', '5070', 'tcp', '', None)
    """

    scheme: str
    user: str | None
    password: str | None
    host: str
    port: str | None = None
    params: list[tuple[str, str | None]] = field(default_factory=list)
    headers: str | None = None
    raw: str = field(default="", repr=False, compare=False)
    #: the raw text after the host's ``;`` (Kamailio's ``sip_params``; ``None`` for tel/urn)
    params_text: str | None = field(default=None, repr=False)
    #: Kamailio's URI type after ``phone2tel``: sip, sips, tel or urn
    kind: str = field(default="", repr=False)
    #: numeric port (0 when absent or empty)
    port_no: int = field(default=0, repr=False)
    #: PROTO_* number of the transport parameter (only exact udp/tcp/tls/sctp/ws; else 0)
    proto: int = field(default=PROTO_NONE, repr=False)
    #: values of the parameters Kamailio's parser recognises (None = not seen)
    transport: str | None = field(default=None, repr=False)
    ttl: str | None = field(default=None, repr=False)
    user_param: str | None = field(default=None, repr=False)
    maddr: str | None = field(default=None, repr=False)
    method: str | None = field(default=None, repr=False)
    lr: str | None = field(default=None, repr=False)
    r2: str | None = field(default=None, repr=False)
    gr: str | None = field(default=None, repr=False)
    #: for a sip/sips URI with ``user=phone``: the parameters cut from the user part
    #: (``sip:+123;npdi@gw;user=phone`` has user ``+123`` and user_params ``[("npdi", None)]``)
    user_params: list[tuple[str, str | None]] | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.raw or self.build()

    def build(self) -> str:
        """The URI text rebuilt from the fields."""
        out = [self.scheme, ":"]
        if self.scheme == "urn":
            out += [self.user, ":", self.host] if self.user else [self.host]
        elif self.scheme in ("tel", "tels"):
            out.append(self.user or "")
        else:
            if self.user is not None:
                out.append(self.user)
                for name, value in self.user_params or ():
                    out += [";", name] if value is None else [";", name, "=", value]
                if self.password is not None:
                    out += [":", self.password]
                out.append("@")
            out.append(self.host)
        if self.port is not None:
            out += [":", self.port]
        for name, value in self.params:
            out += [";", name] if value is None else [";", name, "=", value]
        if self.headers is not None:
            out += ["?", self.headers]
        return "".join(out)

    def replace(self, **changes) -> "SipUri":
        """A copy with some fields changed; its ``str()`` is rebuilt from the fields."""
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        if "user" in changes and "user_params" not in changes:
            d["user_params"] = None     # a new user part replaces the whole old one (as Kamailio's $rU=)
        d.update(changes)
        d["raw"] = ""
        d["params"] = list(d["params"])
        if "params" in changes:
            d["params_text"] = ";".join(n if v is None else f"{n}={v}" for n, v in d["params"]) or None
        return SipUri(**d)

    def param(self, name: str, default: str | None = None) -> str | None:
        """Value of parameter ``name`` (case-insensitive; the last occurrence wins, as in
        Kamailio's ``{uri.param,name}``); ``""`` for a parameter without value, ``default``
        when absent."""
        lname = name.lower()
        found = default
        for n, v in self.params:
            if n.lower() == lname:
                found = "" if v is None else v
        return found

    def has_param(self, name: str) -> bool:
        lname = name.lower()
        return any(n.lower() == lname for n, _ in self.params)

    @property
    def aor(self) -> str:
        """``scheme:user@host`` (``scheme:host`` without user)."""
        return f"{self.scheme}:{self.user}@{self.host}" if self.user else f"{self.scheme}:{self.host}"


def split_params(text: str | None) -> list[tuple[str, str | None]]:
    """``a=1;b;c=`` -> ``[("a", "1"), ("b", None), ("c", "")]`` (empty segments skipped)."""
    if not text:
        return []
    out = []
    for seg in text.split(";"):
        if not seg:
            continue
        name, eq, value = seg.partition("=")
        out.append((name, value if eq else None))
    return out


# --------------------------------------------------------------------------- fast path

_FAST = re.compile(
    r"(?:(?P<user>[^:@;?\[\]]+)(?::(?P<pw>[^:@;?\[\]]*))?@(?=[A-Za-z0-9\[]))?"
    r"(?P<host>\[[^\[\]&@;?]*\]|[A-Za-z0-9][A-Za-z0-9.\-]*)"
    r"(?::(?P<port>[0-9]{0,5}))?"
    r"(?:;(?P<params>[^:@?]*))?"
    r"(?:\?(?P<headers>[^@;]*))?\Z")
_LEADING_DIGITS = re.compile(r"[0-9]*")
_RECOGNISED = {"transport": "transport_val", "ttl": "ttl_val", "user": "uparam_val", "method": "method_val",
               "maddr": "maddr_val", "lr": "lr_val", "r2": "r2_val", "gr": "gr_val"}
_MADDR_ERR_TAILS = frozenset(("ma", "mad", "madd", "maddr", "maddr="))
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_DIGITS = "0123456789"


_SCHEME4 = {"sip:": ("sip", 4), "tel:": ("tel", 4), "urn:": ("urn", 4)}


def _scheme_of(text: str) -> tuple[str, int] | None:
    """Kamailio's 4-byte scheme test (bytes OR-ed with 0x20): (kind, offset after ':')."""
    if len(text) < 5:
        return None
    w = text[:4].lower()
    if "\x1a" in w:   # 0x1a | 0x20 == ':' -- the only non-letter difference to lower()
        w = w.replace("\x1a", ":")
    if not w.isascii():
        return None
    r = _SCHEME4.get(w)
    if r is not None:
        return r
    if w == "sips":
        return ("sips", 5) if text[4] == ":" else None
    return None


def _fast(text: str, kind: str, off: int):
    """Regex fast path: a dict of fields, a finished SipUri (common sip/sips case), or None."""
    m = _FAST.match(text, off)
    if m is None:
        return None
    user, pw, host, port, params, headers = m.groups()
    if pw:
        lead = _LEADING_DIGITS.match(pw).group()
        if lead and int(lead) > MAX_PORT:
            return None
    port_no = 0
    if port:
        port_no = int(port)
        if port_no > MAX_PORT:
            return None
    proto = PROTO_NONE
    rec = None
    if params is not None:
        segs = params.split(";")
        if headers is None and segs[-1].lower() in _MADDR_ERR_TAILS:
            return None
        for seg in segs:
            if len(seg) < 2 or seg[0] not in "tTuUmMlLrRgG":
                continue
            name, eq, value = seg.partition("=")
            if not value:
                continue
            key = _RECOGNISED.get(name.lower())
            if key is not None:
                if rec is None:
                    rec = {}
                rec[key] = value
                if key == "transport_val":
                    p = _TRANSPORT_PROTO.get(value.lower())
                    if p:
                        proto = p
    if rec is None:
        if kind == "sip" or kind == "sips":
            return SipUri(text[:len(kind)].lower(), user, pw, host, port, split_params(params), headers, text,
                          params, kind, port_no, proto)
        rec = {}
    elif (kind == "sip" or kind == "sips") and rec.get("uparam_val") != "phone":
        g = rec.get
        return SipUri(text[:len(kind)].lower(), user, pw, host, port, split_params(params), headers, text,
                      params, kind, port_no, proto, g("transport_val"), g("ttl_val"), g("uparam_val"),
                      g("maddr_val"), g("method_val"), g("lr_val"), g("r2_val"), g("gr_val"))
    rec.update(user=user, passwd=pw, host=host, port=port, port_no=port_no, params=params, headers=headers,
               proto=proto)
    return rec


# --------------------------------------------------------------------------- faithful state machine

(S_INIT, S_USER, S_PASSWORD, S_PASSWORD_ALPHA, S_HOST, S_HOST_P, S_HOST6_P, S_HOST6_END, S_PORT,
 S_PARAM, S_PARAM_P, S_VAL_P, S_HEADERS,
 PT_T, PT_R, PT_A, PT_N, PT_S, PT_P, PT_O, PT_R2, PT_T2, PT_eq,
 PTTL_T2, PTTL_L, PTTL_eq,
 PU_U, PU_S, PU_E, PU_R, PU_eq,
 PM_M, PM_E, PM_T, PM_H, PM_O, PM_D, PM_eq,
 PMA_A, PMA_D, PMA_D2, PMA_R, PMA_eq,
 PLR_L, PLR_R_FIN, PLR_eq,
 PR2_R, PR2_2_FIN, PR2_eq,
 PGR_G, PGR_R_FIN, PGR_eq,
 VU_U, VU_D, VU_P_FIN,
 VT_T, VT_C, VT_P_FIN,
 VTLS_L, VTLS_S_FIN,
 VS_S, VS_C, VS_T, VS_P_FIN,
 VW_W, VW_S_FIN) = range(66)

# param-name / value chains: state -> (chars (lowercase), next state)
_PARAM_SWITCH = {
    PT_R: ("a", PT_A), PT_A: ("n", PT_N), PT_N: ("s", PT_S), PT_S: ("p", PT_P), PT_P: ("o", PT_O),
    PT_O: ("r", PT_R2), PT_R2: ("t", PT_T2), PT_T2: ("=", PT_eq),
    PTTL_T2: ("l", PTTL_L), PTTL_L: ("=", PTTL_eq),
    PU_U: ("s", PU_S), PU_S: ("e", PU_E), PU_E: ("r", PU_R), PU_R: ("=", PU_eq),
    PM_E: ("t", PM_T), PM_T: ("h", PM_H), PM_H: ("o", PM_O), PM_O: ("d", PM_D), PM_D: ("=", PM_eq),
    PMA_A: ("d", PMA_D), PMA_D: ("d", PMA_D2), PMA_D2: ("r", PMA_R), PMA_R: ("=", PMA_eq),
    PLR_L: ("r", PLR_R_FIN), PR2_R: ("2", PR2_2_FIN), PGR_G: ("r", PGR_R_FIN),
}
_PARAM_SWITCH_BIG = {PT_T: (("r", PT_R), ("t", PTTL_T2)), PM_M: (("e", PM_E), ("a", PMA_A))}
_VALUE_SWITCH = {VU_U: ("d", VU_D), VU_D: ("p", VU_P_FIN), VT_C: ("p", VT_P_FIN), VTLS_L: ("s", VTLS_S_FIN),
                 VS_S: ("c", VS_C), VS_C: ("t", VS_T), VS_T: ("p", VS_P_FIN), VW_W: ("s", VW_S_FIN)}
_VALUE_SWITCH_BIG = {VT_T: (("c", VT_C), ("l", VTLS_L))}
_TRANSPORT_FIN = {VU_P_FIN: PROTO_UDP, VT_P_FIN: PROTO_TCP, VTLS_S_FIN: PROTO_TLS, VS_P_FIN: PROTO_SCTP,
                  VW_S_FIN: PROTO_WS}
_EQ_TARGET = {PT_eq: "transport", PTTL_eq: "ttl", PU_eq: "uparam", PM_eq: "method", PMA_eq: "maddr",
              PLR_eq: "lr", PR2_eq: "r2", PGR_eq: "gr"}
_FIN_FLAG = {PLR_R_FIN: ("lr", PLR_eq), PR2_2_FIN: ("r2", PR2_eq), PGR_R_FIN: ("gr", PGR_eq)}
_PARAM_START = {"t": PT_T, "u": PU_U, "m": PM_M, "l": PLR_L, "r": PR2_R, "g": PGR_G}
_END_PARAMS_ONLY = frozenset((S_PARAM, S_PARAM_P, PT_T, PT_R, PT_A, PT_N, PT_S, PT_P, PT_O, PT_R2, PT_T2, PT_eq,
                              PTTL_T2, PTTL_L, PTTL_eq, PU_U, PU_S, PU_E, PU_R, PU_eq,
                              PM_M, PM_E, PM_T, PM_H, PM_O, PM_D, PM_eq, PLR_L, PR2_R, PGR_G))
_END_VALUE = frozenset((S_VAL_P, VU_U, VU_D, VT_T, VT_C, VTLS_L, VS_S, VS_C, VS_T, VW_W))


class _UriError(Exception):
    pass


def _slow(text: str, kind: str, off: int) -> dict:
    """Port of Kamailio's parse_uri() state machine (positions are indexes into ``text``)."""
    end = len(text)
    u: dict = {}
    state = S_INIT
    s = off
    b = v = 0
    target = None           # name of the param whose value is being read (param/param_val)
    found_user = False
    error_headers = False
    pw = -1                 # position of a ':' that may start a password ("pass")
    port_no = 0
    p = off

    def fail(what):
        raise _UriError(what)

    def still_at_user():
        nonlocal s, found_user, error_headers, state
        if found_user:
            fail("bad char")
        hs = u.get("host", (s, s))[0]
        if pw >= 0:
            user = (hs, pw)
            passwd = (pw + 1, p)
        else:
            user = (hs, p)
            passwd = None
        u.clear()
        u["user"] = user
        if passwd is not None:
            u["passwd"] = passwd
        s = p + 1
        found_user = True
        error_headers = False
        state = S_HOST

    def semicolon():
        nonlocal found_user, pw, state
        if pw >= 0:
            found_user = True
            pw = -1
        state = S_PARAM

    def question():
        nonlocal s, found_user, pw, state
        u["params"] = (s, p)
        state = S_HEADERS
        s = p + 1
        if pw >= 0:
            found_user = True
            pw = -1

    def colon():
        nonlocal found_user, pw, state
        if not found_user:
            if pw >= 0:
                found_user = True
                pw = -1
            else:
                pw = p
        state = S_PARAM_P

    def param_common(c) -> bool:
        if c == "@":
            still_at_user()
        elif c == ";":
            semicolon()
        elif c == "?":
            question()
        elif c == ":":
            colon()
        else:
            return False
        return True

    def param_set():
        if target is not None:
            u[target] = (b, p)
            u[target + "_val"] = (v, p)

    def value_common(c) -> bool:
        nonlocal state
        if c == "@":
            still_at_user()
        elif c == ";":
            semicolon()
            param_set()
        elif c == "?":
            question()
            param_set()
        elif c == ":":
            colon()
            state = S_VAL_P
        else:
            return False
        return True

    def host_end(c) -> bool:
        nonlocal state, s
        if c == ":":
            u["host"] = (s, p)
            state = S_PORT
            s = p + 1
        elif c == ";":
            u["host"] = (s, p)
            state = S_PARAM
            s = p + 1
        elif c == "?":
            u["host"] = (s, p)
            state = S_HEADERS
            s = p + 1
        elif c in "&@":
            fail("bad char")
        else:
            return False
        return True

    while p < end:
        c = text[p]
        if state == S_INIT:
            if c == "[":
                state = S_HOST6_P
                s = p
            elif c in "]:":
                fail("bad char")
            else:
                state = S_USER
        elif state == S_USER:
            if c == "@":
                if p - s <= 0:
                    fail("bad char")
                u["user"] = (s, p)
                state = S_HOST
                found_user = True
                s = p + 1
            elif c == ":":
                u["user"] = (s, p)
                state = S_PASSWORD
                s = p + 1
            elif c == ";":
                u["host"] = (s, p)
                state = S_PARAM
                s = p + 1
            elif c == "?":
                u["host"] = (s, p)
                state = S_HEADERS
                s = p + 1
            elif c in "[]":
                fail("bad char")
        elif state == S_PASSWORD:
            if c == "@":
                u["passwd"] = (s, p)
                port_no = 0
                state = S_HOST
                found_user = True
                s = p + 1
            elif c in ";?":
                u["port"] = (s, p)
                u["port_no"] = port_no
                u["host"] = u.pop("user", (s, s))
                state = S_PARAM if c == ";" else S_HEADERS
                found_user = True
                s = p + 1
            elif c in _DIGITS:
                port_no = port_no * 10 + ord(c) - 48
                if port_no > MAX_PORT:
                    fail("bad port")
            elif c in "[]:":
                fail("bad char")
            else:
                port_no = 0
                state = S_PASSWORD_ALPHA
        elif state == S_PASSWORD_ALPHA:
            if c == "@":
                u["passwd"] = (s, p)
                state = S_HOST
                found_user = True
                s = p + 1
            elif c in ";?":
                fail("bad port")
            elif c in "[]:":
                fail("bad char")
        elif state == S_HOST:
            if c == "[":
                state = S_HOST6_P
            elif c in _ASCII_ALNUM:
                state = S_HOST_P
            else:
                fail("bad host")
        elif state == S_HOST_P:
            if not host_end(c) and c not in _ASCII_ALNUM and c not in ".-":
                fail("bad host")
        elif state == S_HOST6_END:
            if not host_end(c):
                fail("bad host")
        elif state == S_HOST6_P:
            if c == "]":
                state = S_HOST6_END
            elif c in "[&@;?":
                fail("bad host")
        elif state == S_PORT:
            if c == ";" or c == "?":
                u["port"] = (s, p)
                u["port_no"] = port_no
                state = S_PARAM if c == ";" else S_HEADERS
                s = p + 1
            elif c in _DIGITS:
                port_no = port_no * 10 + ord(c) - 48
                if port_no > MAX_PORT:
                    fail("bad port")
            else:
                fail("bad port")
        elif state == S_PARAM:
            if not param_common(c):
                nxt = _PARAM_START.get(c.lower()) if c.isascii() else None
                if nxt is not None:
                    b = p
                    state = nxt
                else:
                    state = S_PARAM_P
        elif state == S_PARAM_P:
            param_common(c)
        elif state in _PARAM_SWITCH:
            want, nxt = _PARAM_SWITCH[state]
            if c.lower() == want:
                state = nxt
            elif not param_common(c):
                state = S_PARAM_P
        elif state in _PARAM_SWITCH_BIG:
            (w1, n1), (w2, n2) = _PARAM_SWITCH_BIG[state]
            lc = c.lower()
            if lc == w1:
                state = n1
            elif lc == w2:
                state = n2
            elif not param_common(c):
                state = S_PARAM_P
        elif state == PT_eq:
            target = "transport"
            if not param_common(c):
                v = p
                lc = c.lower()
                state = {"u": VU_U, "t": VT_T, "s": VS_S, "w": VW_W}.get(lc, S_VAL_P)
        elif state == S_VAL_P:
            value_common(c)
        elif state in _VALUE_SWITCH:
            want, nxt = _VALUE_SWITCH[state]
            if c.lower() == want:
                state = nxt
            elif not value_common(c):
                state = S_VAL_P
        elif state in _VALUE_SWITCH_BIG:
            (w1, n1), (w2, n2) = _VALUE_SWITCH_BIG[state]
            lc = c.lower()
            if lc == w1:
                state = n1
            elif lc == w2:
                state = n2
            elif not value_common(c):
                state = S_VAL_P
        elif state in _TRANSPORT_FIN:
            if c == "@":
                still_at_user()
            elif c == ";":
                u["proto"] = _TRANSPORT_FIN[state]
                semicolon()
                param_set()
            elif c == "?":
                u["proto"] = _TRANSPORT_FIN[state]
                question()
                param_set()
            else:
                if c == ":":
                    colon()
                state = S_VAL_P
        elif state in _EQ_TARGET:  # PTTL_eq PU_eq PM_eq PMA_eq PLR_eq PR2_eq PGR_eq
            target = _EQ_TARGET[state]
            if not param_common(c):
                v = p
                state = S_VAL_P
        elif state in _FIN_FLAG:
            name, eq_state = _FIN_FLAG[state]
            if c == "@":
                still_at_user()
            elif c == "=":
                state = eq_state
            elif c == ";":
                semicolon()
                u[name] = (b, p)
            elif c == "?":
                question()
                u[name] = (b, p)
            elif c == ":":
                colon()
            else:
                state = S_PARAM_P
        elif state == S_HEADERS:
            if c == "@":
                still_at_user()
            elif c == ";":
                if found_user:
                    fail("bad char")
                error_headers = True
                if pw >= 0:
                    fail("bad headers")
            elif c == ":":
                if not found_user:
                    if pw >= 0:
                        found_user = True
                        pw = -1
                    else:
                        pw = p
            elif c == "?":
                if pw >= 0:
                    found_user = True
                    pw = -1
        else:  # pragma: no cover
            fail("bug")
        p += 1

    # end of URI
    if state == S_INIT:
        fail("too short")
    elif state == S_USER:
        if found_user:
            fail("bad uri")
        u["host"] = (s, p)
    elif state == S_PASSWORD:
        if found_user:
            fail("bad port")
        u["port"] = (s, p)
        u["port_no"] = port_no
        u["host"] = u.pop("user", (s, s))
    elif state == S_PASSWORD_ALPHA:
        if kind != "urn":
            fail("bad port")
        u["host"] = (s, p)
    elif state in (S_HOST_P, S_HOST6_END):
        u["host"] = (s, p)
    elif state in (S_HOST, S_HOST6_P):
        fail("bad host")
    elif state == S_PORT:
        u["port"] = (s, p)
        u["port_no"] = port_no
    elif state in _END_PARAMS_ONLY:
        u["params"] = (s, p)
    elif state in _FIN_FLAG or state in (PLR_eq, PR2_eq, PGR_eq):
        u["params"] = (s, p)
        name = {PLR_R_FIN: "lr", PLR_eq: "lr", PR2_2_FIN: "r2", PR2_eq: "r2", PGR_R_FIN: "gr", PGR_eq: "gr"}[state]
        u[name] = (b, p)
    elif state in _END_VALUE:
        u["params"] = (s, p)
        param_set()
    elif state in _TRANSPORT_FIN:
        u["params"] = (s, p)
        param_set()
        u["proto"] = _TRANSPORT_FIN[state]
    elif state == S_HEADERS:
        u["headers"] = (s, p)
        if error_headers:
            fail("bad headers")
    else:  # PMA_* states: not handled at the end of the URI in Kamailio 5.6
        fail("bad state at end of uri")

    def sub(key):
        span = u.get(key)
        return None if span is None else text[span[0]:span[1]]

    out = {k: sub(k) for k in ("user", "passwd", "host", "port", "params", "headers")}
    out["port_no"] = u.get("port_no", 0)
    out["proto"] = u.get("proto", PROTO_NONE)
    for name in ("transport", "ttl", "uparam", "method", "maddr", "lr", "r2", "gr"):
        span = u.get(name + "_val")
        if span is not None and span[1] > span[0]:
            out[name + "_val"] = text[span[0]:span[1]]
    # the host.s > buf sanity check needs the host position
    hs = u.get("host")
    out["_host_after_at"] = hs is not None and hs[1] > hs[0] and (text[hs[0] - 1] == "@" or text[hs[0]] == "@")
    return out


_URI_CACHE: dict = {}
_URI_CACHE_MAX = 4096


def parse_uri(text: str, *, phone2tel: bool = True) -> SipUri:
    """Parse ``text`` like Kamailio's ``parse_uri()``; raise :class:`SipParseError` if it fails.

    Results are cached per text: a message's R-URI, From and To are parsed several
    times per route, and SipUri values are treated as immutable (``replace()`` copies).
    """
    key = (text, phone2tel)
    u = _URI_CACHE.get(key)
    if u is None:
        u = _parse_uri(text, phone2tel)
        if len(_URI_CACHE) >= _URI_CACHE_MAX:
            _URI_CACHE.clear()
        _URI_CACHE[key] = u
    return u


def _parse_uri(text: str, phone2tel: bool) -> SipUri:
    """Parse ``text`` like Kamailio's ``parse_uri()``; raise :class:`SipParseError` if it fails.

    >>> parse_uri("tel:+1-555-0100;phone-context=example.com").user
    '+1-555-0100'
    >>> str(parse_uri("sips:bob@[2001:db8::1]:5061"))
    'sips:bob@[2001:db8::1]:5061'
    """
    sch = _scheme_of(text)
    if sch is None:
        raise SipParseError(f"invalid URI (unsupported scheme or too short): {text!r}")
    kind, off = sch
    f = _fast(text, kind, off)
    if f.__class__ is SipUri:
        return f
    if f is None:
        try:
            f = _slow(text, kind, off)
        except _UriError as e:
            raise SipParseError(f"invalid URI ({e}): {text!r}") from None
        host_after_at = f.pop("_host_after_at")
    else:
        host_after_at = False
    return _finish(text, kind, f, host_after_at, phone2tel)


def _finish(text: str, kind: str, f: dict, host_after_at: bool, phone2tel: bool) -> SipUri:
    user = f["user"]
    host = f["host"]
    params = f["params"]
    params_text = None
    utype = kind
    user_params = None
    if kind in ("sip", "sips"):
        params_text = params
        if phone2tel and f.get("uparam_val") == "phone":
            utype = "tel"
            if user is not None and ";" in user:
                user, uparams = user.split(";", 1)
                user_params = split_params(uparams)
            else:
                user_params = []
    elif kind == "tel":
        user = host
        host = ""
    port = f["port"]
    if port is not None and len(port) > 5:
        raise SipParseError(f"invalid URI (bad port): {text!r}")
    if host and not user and host_after_at:
        raise SipParseError(f"invalid URI (no user before '@'): {text!r}")
    return SipUri(
        scheme=text[:len(kind)].lower(), user=user, password=f["passwd"], host=host if host is not None else "",
        port=port, params=split_params(params), headers=f["headers"], raw=text, params_text=params_text,
        kind=utype, port_no=f["port_no"], proto=f["proto"], transport=f.get("transport_val"),
        ttl=f.get("ttl_val"), user_param=f.get("uparam_val"), maddr=f.get("maddr_val"), method=f.get("method_val"),
        lr=f.get("lr_val"), r2=f.get("r2_val"), gr=f.get("gr_val"), user_params=user_params)


def parse_uri_slow(text: str, *, phone2tel: bool = True) -> SipUri:
    """:func:`parse_uri` without the fast path (for tests)."""
    sch = _scheme_of(text)
    if sch is None:
        raise SipParseError(f"invalid URI (unsupported scheme or too short): {text!r}")
    kind, off = sch
    try:
        f = _slow(text, kind, off)
    except _UriError as e:
        raise SipParseError(f"invalid URI ({e}): {text!r}") from None
    host_after_at = f.pop("_host_after_at")
    return _finish(text, kind, f, host_after_at, phone2tel)
