"""``{uri.*}`` and ``{urialias.*}`` transformations (pv/pv_trans.c@5.6.3:1548-1818, 2478-2525).

Failure rules (the PV read fails, :class:`TransformFailed`): null input, empty input, a
URI that does not parse, and for ``uri.param`` a parameter list that Kamailio's
``parse_params()`` refuses.  An int input is used as its decimal string (Kamailio's
int-valued PVs carry that string too).  A trailing ``;`` is dropped before parsing when
the input is longer than 4 characters.

Recorded against the real Kamailio 5.6.3 in ``tests/golden/transformations_uri.json``.
Reproduced 5.6.3 quirks:

* ``uri.saor`` / ``uri.suri`` / ``uri.duri`` insert one stray byte after ``scheme:``
  (an extra length increment fixed only in 5.8: commit 3fe9a279ab).  In Kamailio the
  byte is stale buffer content (a NUL on a fresh buffer, so xlog prints just ``sip:``);
  kscript inserts :data:`SAOR_STRAY_BYTE` (``"\\x00"``; set it to ``""`` to get the
  fixed behaviour).
* ``uri.tosocket`` is ``""`` (not a failure) when the URI has no (recognised)
  ``transport`` parameter.
* ``uri.port`` is int-typed; when the URI has no port it prints as ``""`` -- kscript
  returns ``""`` then (the value model has no int-typed empty string).
* ``urialias.*`` never fail on a bad value: they give ``""``.  ``urialias.decode`` of a
  value with fewer than two ``~`` returns a 64 KiB buffer in Kamailio (NUL after the
  converted text); kscript returns the converted text followed by one NUL.
"""

from __future__ import annotations

from ...errors import SipParseError
from ...sip.params import ParamsError, lookup, parse_params
from ...sip.uri import PROTO_NAMES, PROTO_NONE, PROTO_TLS, PROTO_UDP, PROTO_WSS, SipUri, parse_uri
from . import TransformFailed, Value, transformation

#: byte inserted by 5.6.3's uri.saor/suri/duri after "scheme:" (see module docstring)
SAOR_STRAY_BYTE = "\x00"
TR_BUFFER_SIZE = 65536

_cache_key: str | None = None
_cache_uri: SipUri | None = None
_cache_params = None


def _input(value: Value) -> str:
    if value is None:
        raise TransformFailed("null input")
    if isinstance(value, int):
        value = str(value)
    if not value:
        raise TransformFailed("empty input")
    return value


def _uri(value: Value) -> tuple[str, SipUri]:
    global _cache_key, _cache_uri, _cache_params
    text = _input(value)
    if text == _cache_key:
        return text, _cache_uri
    t = text[:-1] if len(text) > 4 and text[-1] == ";" else text
    try:
        u = parse_uri(t)
    except SipParseError:
        _cache_key = _cache_uri = _cache_params = None
        raise TransformFailed(f"invalid uri [{text}]") from None
    _cache_key, _cache_uri, _cache_params = text, u, None
    return text, u


def _s(x: str | None) -> str:
    return "" if x is None else x


@transformation("uri.user")
def tr_uri_user(value: Value) -> Value:
    return _s(_uri(value)[1].user)


@transformation("uri.host")
def tr_uri_host(value: Value) -> Value:
    return _s(_uri(value)[1].host)


@transformation("uri.domain")
def tr_uri_domain(value: Value) -> Value:
    return _s(_uri(value)[1].host)


@transformation("uri.passwd")
def tr_uri_passwd(value: Value) -> Value:
    return _s(_uri(value)[1].password)


@transformation("uri.port")
def tr_uri_port(value: Value) -> Value:
    port = _uri(value)[1].port
    if not port:
        return ""
    return int(port) if port.isdigit() and str(int(port)) == port else port


@transformation("uri.params")
def tr_uri_params(value: Value) -> Value:
    return _s(_uri(value)[1].params_text)


@transformation("uri.param", "str")
def tr_uri_param(value: Value, name) -> Value:
    global _cache_params
    text, u = _uri(value)
    if not u.params_text:
        return ""
    if _cache_params is None or _cache_key != text:
        try:
            _cache_params = parse_params(u.params_text)[0]
        except ParamsError:
            raise TransformFailed("invalid uri params") from None
    p = lookup(_cache_params, "" if name is None else str(name))
    return "" if p is None or p.value is None else p.value


@transformation("uri.headers")
def tr_uri_headers(value: Value) -> Value:
    return _s(_uri(value)[1].headers)


@transformation("uri.transport")
def tr_uri_transport(value: Value) -> Value:
    return _s(_uri(value)[1].transport)


@transformation("uri.ttl")
def tr_uri_ttl(value: Value) -> Value:
    return _s(_uri(value)[1].ttl)


@transformation("uri.uparam")
def tr_uri_uparam(value: Value) -> Value:
    return _s(_uri(value)[1].user_param)


@transformation("uri.maddr")
def tr_uri_maddr(value: Value) -> Value:
    return _s(_uri(value)[1].maddr)


@transformation("uri.method")
def tr_uri_method(value: Value) -> Value:
    return _s(_uri(value)[1].method)


@transformation("uri.lr")
def tr_uri_lr(value: Value) -> Value:
    return _s(_uri(value)[1].lr)


@transformation("uri.r2")
def tr_uri_r2(value: Value) -> Value:
    return _s(_uri(value)[1].r2)


@transformation("uri.scheme")
def tr_uri_scheme(value: Value) -> Value:
    text, _ = _uri(value)
    i = text.find(":")
    return text if i < 0 else text[:i]


def _sxuri(value: Value, kind: str) -> str:
    text, u = _uri(value)
    if len(text) >= TR_BUFFER_SIZE:
        return ""
    i = text.find(":")
    if i < 0:
        return ""
    out = [text[:i + 1], SAOR_STRAY_BYTE]
    if u.user and kind != "duri":
        out += [u.user, "@"]
    if u.host:
        out.append(u.host)
    if kind != "saor":
        if u.port:
            out += [":", u.port]
        if u.transport:
            out += [";transport=", u.transport]
    return "".join(out)


@transformation("uri.saor")
def tr_uri_saor(value: Value) -> Value:
    return _sxuri(value, "saor")


@transformation("uri.suri")
def tr_uri_suri(value: Value) -> Value:
    return _sxuri(value, "suri")


@transformation("uri.duri")
def tr_uri_duri(value: Value) -> Value:
    return _sxuri(value, "duri")


@transformation("uri.tosocket")
def tr_uri_tosocket(value: Value) -> Value:
    _, u = _uri(value)
    name = PROTO_NAMES.get(u.proto)
    if name is None:
        return ""
    return f"{name}:{u.host}:{u.port_no or 5060}"


# ----------------------------------------------------------------------------- urialias

def uri_alias_encode(uri: str) -> str | None:
    """``sip:host:port;transport=x`` -> ``host~port~protonumber`` (None if the URI is invalid).

    >>> uri_alias_encode("sip:10.0.0.1;transport=tcp")
    '10.0.0.1~5060~2'
    """
    try:
        u = parse_uri(uri)
    except SipParseError:
        return None
    if len(u.host) + 16 >= TR_BUFFER_SIZE:
        return None
    if u.port:
        port = u.port
    else:
        port = "5061" if u.proto in (PROTO_TLS, PROTO_WSS) else "5060"
    return f"{u.host}~{port}~{u.proto or PROTO_UDP}"


_ALIAS_PROTO = {2: "tcp", 3: "tls", 4: "sctp", 5: "ws", 6: "ws"}


def uri_alias_decode(alias: str) -> str | None:
    """``host~port~protonumber`` -> ``sip:host:port[;transport=x]`` (None on error).

    >>> uri_alias_decode("10.0.0.1~5070~2")
    'sip:10.0.0.1:5070;transport=tcp'
    """
    if len(alias) + 24 >= TR_BUFFER_SIZE:
        return None
    text = alias.split("\x00", 1)[0]
    first = text.find("~")
    if first < 0:
        return "sip:" + text + "\x00"
    second = text.find("~", first + 1)
    if second < 0:
        return "sip:" + text[:first] + ":" + text[first + 1:] + "\x00"
    base = "sip:" + text[:first] + ":" + text[first + 1:second]
    if second + 1 >= len(text):
        return None
    nproto = ord(text[second + 1]) - 48
    if nproto == PROTO_NONE:
        nproto = PROTO_UDP
    if nproto == PROTO_UDP:
        return base
    name = _ALIAS_PROTO.get(nproto)
    if name is None:
        return None
    return f"{base};transport={name}"


@transformation("urialias.encode")
def tr_urialias_encode(value: Value) -> Value:
    r = uri_alias_encode(_input(value))
    return "" if r is None else r


@transformation("urialias.decode")
def tr_urialias_decode(value: Value) -> Value:
    r = uri_alias_decode(_input(value))
    return "" if r is None else r


def reset_caches() -> None:
    """Forget the per-process parse cache (a new Kamailio worker)."""
    global _cache_key, _cache_uri, _cache_params
    _cache_key = _cache_uri = _cache_params = None
