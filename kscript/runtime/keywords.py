"""Core keyword conditions: ``method == "INVITE"``, ``uri == myself``, ``src_ip == 10.0.0.0/8``...

These are Kamailio's ``exp_elem`` expressions (core/route.c@5.6.3:1805-2000):
string keywords compare case-insensitively, ``myself`` checks the local
sockets and aliases, IP keywords accept addresses, networks, names and strings.
"""

from __future__ import annotations

import ipaddress

from .. import nodes as N
from ..errors import ConfigError
from .regex import compile_posix
from .values import to_str

_PROTO = {"udp": 1, "tcp": 2, "tls": 3, "sctp": 4, "ws": 5, "wss": 6}
_AF = {"inet": 2, "ipv4": 2, "inet6": 10, "ipv6": 10}


def _method(ctx):
    m = ctx.msg
    if m.is_request:
        return m.method
    cs = m.cseq
    return cs.method if cs else ""


def _uri(ctx):
    m = ctx.msg
    if m.is_request:
        return ctx.ruri
    return str(m.status)


def _from_uri(ctx):
    fa = ctx.msg.from_
    return fa.uri if fa is not None else ""


def _to_uri(ctx):
    ta = ctx.msg.to
    return ta.uri if ta is not None else ""


_STR_GET = {"method": _method, "uri": _uri, "status": _uri, "from_uri": _from_uri, "to_uri": _to_uri}
_INT_GET = {
    "src_port": lambda ctx: ctx.src.port,
    "dst_port": lambda ctx: ctx.rcv.port,
    "af": lambda ctx: 10 if ":" in ctx.src.ip else 2,
    "proto": lambda ctx: _PROTO.get(ctx.src.proto, 0),
    "msg:len": lambda ctx: len(ctx.msg.text.encode()),
}
_IP_GET = {"src_ip": lambda ctx: ctx.src.ip, "dst_ip": lambda ctx: ctx.rcv.ip}


# onsend_route keywords (route.c SNDIP_O/TOIP_O/SNDPORT_O/TOPORT_O/SNDPROTO_O/SNDAF_O):
# the socket a message leaves from and its destination, as
# kscript.sip.output.run_onsend records them in ctx.data["onsend"]; elsewhere
# Kamailio logs a BUG and the condition is false.
class _NoOnsend(Exception):
    pass


def _onsend(ctx, kw: str, what: str):
    info = ctx.data.get("onsend")
    sock = info and info.get("sock" if what == "sock" else "dst")
    if sock is None:
        ctx.log("BUG", f"eval_elem: {kw} unknown (not in a onsend_route?)", source="core")
        raise _NoOnsend
    return sock


_ONSEND_INT = {
    "snd_port": lambda ctx: _onsend(ctx, "snd_port", "sock").port,
    "to_port": lambda ctx: _onsend(ctx, "to_port", "to").port,
    "snd_proto": lambda ctx: _PROTO.get(_onsend(ctx, "snd_proto", "sock").proto, 0),
    "snd_af": lambda ctx: 10 if ":" in _onsend(ctx, "snd_af", "sock").ip else 2,
}
_ONSEND_IP = {
    "snd_ip": lambda ctx: _onsend(ctx, "snd_ip", "sock").ip,
    "to_ip": lambda ctx: _onsend(ctx, "to_ip", "to").ip,
}


def _guard(get):
    def g(ctx):
        try:
            return get(ctx)
        except _NoOnsend:
            return None
    return g


_INT_GET.update({k: _guard(v) for k, v in _ONSEND_INT.items()})
_IP_GET.update({k: _guard(v) for k, v in _ONSEND_IP.items()})


def compile_keyword_cond(comp, e: N.Binary):
    kw = e.left.name
    op = e.op
    right = e.right
    if op not in ("==", "!=", "=~", "<", ">", "<=", ">=", "eq", "ne"):
        raise ConfigError(f"operator '{op}' cannot be used with '{kw}'", e.pos)
    neg = op in ("!=", "ne")
    is_myself = isinstance(right, N.Name) and right.name == "myself"
    script = comp.script

    if kw in _STR_GET:
        get = _STR_GET[kw]
        if is_myself:
            if kw == "method":
                raise ConfigError("'method == myself' makes no sense", e.pos)

            def f(ctx):
                return int(script.uri_is_myself(get(ctx)) != neg)

            return f
        if op == "=~":
            if isinstance(right, N.Literal):
                rx = compile_posix(to_str(right.value), icase=True, pos=right.pos)
                return lambda ctx: 1 if rx.search(get(ctx) or "") else 0
            rf = comp.expr(right)
            return lambda ctx: 1 if compile_posix(to_str(rf(ctx)), True).search(get(ctx) or "") else 0
        if op not in ("==", "!=", "eq", "ne"):
            raise ConfigError(f"operator '{op}' cannot be used with '{kw}'", e.pos)
        rf = _const_or_expr(comp, right)

        def f(ctx):
            v = get(ctx) or ""
            return int((v.lower() == to_str(rf(ctx)).lower()) != neg)

        return f

    if kw in _IP_GET:
        get = _IP_GET[kw]
        if is_myself:
            return lambda ctx: 0 if get(ctx) is None else int(script.ip_is_myself(get(ctx)) != neg)
        if op == "=~":
            rf = _const_or_expr(comp, right)
            return lambda ctx: 1 if compile_posix(to_str(rf(ctx)), True).search(get(ctx) or "") else 0
        if op not in ("==", "!=", "eq", "ne"):
            raise ConfigError(f"operator '{op}' cannot be used with '{kw}'", e.pos)
        if isinstance(right, N.IPLiteral):
            net = _network(right.text, right)

            def f(ctx):
                ip = get(ctx)
                return 0 if ip is None else int(_in_net(ip, net) != neg)

            return f
        rf = _const_or_expr(comp, right)

        def f(ctx):
            target = to_str(rf(ctx))
            ip = get(ctx)
            if ip is None:
                return 0
            try:
                res = _in_net(ip, _network(target, right))
            except ConfigError:
                res = ip == target
            return int(res != neg)

        return f

    if kw in _INT_GET:
        get = _INT_GET[kw]
        if isinstance(right, N.Name):
            name = right.name.lower()
            table = _PROTO if kw in ("proto", "snd_proto") else _AF if kw in ("af", "snd_af") else {}
            if name not in table:
                raise ConfigError(f"unknown value '{right.name}' for '{kw}'", right.pos)
            const = table[name]
            rf = lambda ctx: const  # noqa: E731
        else:
            rf0 = comp.int_expr(right)
            rf = rf0
        cmp = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "eq": lambda a, b: a == b,
               "ne": lambda a, b: a != b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
               "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}.get(op)
        if cmp is None:
            raise ConfigError(f"operator '{op}' cannot be used with '{kw}'", e.pos)
        def f(ctx):
            v = get(ctx)
            return 0 if v is None else int(cmp(v, rf(ctx)))

        return f

    raise ConfigError(f"'{kw}' cannot be used in an expression (not supported)", e.left.pos)


def _const_or_expr(comp, right):
    if isinstance(right, N.Name):
        v = right.name
        return lambda ctx: v
    if isinstance(right, N.IPLiteral):
        v = right.text
        return lambda ctx: v
    return comp.expr(right)


def _network(text: str, node):
    t = text.strip("[]")
    try:
        if "/" in t:
            addr, _, mask = t.partition("/")
            if "." in mask:
                return ipaddress.ip_network(f"{addr}/{mask}", strict=False)
            return ipaddress.ip_network(f"{addr}/{int(mask)}", strict=False)
        return ipaddress.ip_network(t)
    except ValueError:
        raise ConfigError(f"bad IP address or network '{text}'", getattr(node, "pos", None)) from None


def _in_net(ip: str, net) -> bool:
    try:
        return ipaddress.ip_address(ip.strip("[]")) in net
    except ValueError:
        return False
