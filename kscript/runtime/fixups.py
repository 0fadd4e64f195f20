"""Prepare function arguments once at load time (Kamailio's fixups).

Each argument of a call site becomes a getter ``ctx -> value`` of the kind the
function declares (see :mod:`kscript.modules.base`).
"""

from __future__ import annotations

from .. import nodes as N
from ..errors import ConfigError
from ..pv.base import PVFailed
from .regex import compile_posix
from .values import str2int, to_int, to_str


def prepare_args(call: N.Call, kinds, compiler, script) -> list:
    return [_prepare(a, k, call, i, compiler, script) for i, (a, k) in enumerate(zip(call.args, kinds))]


def prepare_args_any(call: N.Call, compiler, script) -> list:
    """Arguments of a function kscript does not emulate: rendered as strings (for mocks)."""
    return [_prepare(a, "fmt", call, i, compiler, script) for i, a in enumerate(call.args)]


def _const(v):
    f = lambda ctx: v  # noqa: E731
    f.const = (v,)  # the compiler passes the value itself instead of calling f
    return f


def constant_of(getter):
    """``(value,)`` when ``getter`` always returns the same value (a literal argument), else None."""
    return getattr(getter, "const", None)


def _prepare(arg: N.Expr, kind: str, call: N.Call, i: int, compiler, script):
    where = f"parameter {i + 1} of {call.name}()"
    if kind == "fmt":
        if isinstance(arg, N.Literal):
            if isinstance(arg.value, int):
                return _const(str(arg.value))
            f = compiler.fmt(arg.value, arg.pos)
            if f.static is not None:
                return _const(f.static)
            return f.render
        if isinstance(arg, N.PVRef):
            # a bare PV parameter is fixed up as the format "$pv"
            f = compiler.fmt(arg.text, arg.pos)
            return f.render
        if isinstance(arg, (N.Name, N.IPLiteral, N.SocketLiteral)):
            return _const(getattr(arg, "name", None) or arg.text)
        g = compiler.expr(arg)
        return lambda ctx: to_str(g(ctx))
    if kind in ("int", "ival"):
        if isinstance(arg, N.Literal):
            if isinstance(arg.value, int):
                return _const(arg.value)
            v = str2int(arg.value.strip())
            if v is None:
                if "$" in arg.value:
                    f = compiler.fmt(arg.value, arg.pos)
                    return lambda ctx: to_int(f.render(ctx))
                raise ConfigError(f"{where} must be an integer, not \"{arg.value}\"", arg.pos)
            return _const(v)
        if isinstance(arg, N.PVRef):
            pv = compiler.pv(arg.text, arg.pos)
            return lambda ctx: to_int(pv.value(ctx))
        return compiler.int_expr(arg)
    if kind == "igp":
        return _prepare_igp(arg, where, compiler)
    if kind in ("rei", "subst"):
        if not isinstance(arg, N.Literal) or isinstance(arg.value, int):
            raise ConfigError(f"{where} must be a constant string", arg.pos)
        from .subst import compile_re, parse_subst
        if kind == "rei":
            return _const(compile_re(arg.value, icase=True, newline=True, pos=arg.pos))
        return _const(parse_subst(arg.value, compiler, arg.pos))
    if kind == "flag":
        if isinstance(arg, N.Literal) and isinstance(arg.value, int):
            n = arg.value
        elif isinstance(arg, N.Name) and arg.name in script.flag_names:
            n = script.flag_names[arg.name]
        elif isinstance(arg, N.Literal) and str(arg.value).isdigit():
            n = int(arg.value)
        elif isinstance(arg, N.PVRef):
            pv = compiler.pv(arg.text, arg.pos)
            return lambda ctx: to_int(pv.value(ctx))
        else:
            raise ConfigError(f"{where}: bad flag '{getattr(arg, 'name', getattr(arg, 'value', '?'))}'", arg.pos)
        if not 0 <= n <= 31:
            raise ConfigError(f"{where}: flag {n} out of range (0-31)", arg.pos)
        return _const(n)
    if kind == "str":
        if isinstance(arg, N.Literal):
            return _const(to_str(arg.value))
        if isinstance(arg, N.Name):
            return _const(arg.name)
        if isinstance(arg, (N.SocketLiteral, N.IPLiteral)):
            return _const(arg.text)
        raise ConfigError(f"{where} must be a constant string", arg.pos)
    if kind == "regex":
        if isinstance(arg, N.Literal):
            rx = compile_posix(to_str(arg.value), icase=False, pos=arg.pos)
            return _const(rx)
        raise ConfigError(f"{where} must be a constant regular expression", arg.pos)
    if kind == "pvar":
        text = arg.text if isinstance(arg, N.PVRef) else (arg.value if isinstance(arg, N.Literal) else None)
        if not isinstance(text, str) or not text.startswith("$"):
            raise ConfigError(f"{where} must be a pseudo-variable", arg.pos)
        pv = compiler.pv(text, arg.pos)
        return _const(pv)
    if kind == "any":
        return compiler.expr(arg)
    raise ConfigError(f"internal: unknown parameter kind {kind}", arg.pos)


def _prepare_igp(arg: N.Expr, where: str, compiler):
    """Kamailio's int fparam (``fixup_var_int_12``, ``fixup_igp_*``): an int constant or
    one PV; at run time a PV must hold an integer (else the getter gives None, as
    ``get_int_fparam`` fails with "Could not convert PV to int")."""
    from ..pv.spec import PVSyntaxError, scan_pv
    if isinstance(arg, N.Literal):
        if isinstance(arg.value, int):
            return _const(arg.value)
        text = arg.value
        v = str2int(text)
        if v is not None:
            return _const(v)
        if text.startswith("$"):
            try:
                _, end = scan_pv(text, 0)
            except PVSyntaxError:
                end = -1
            if end == len(text):
                pv = compiler.pv(text, arg.pos)

                def get_pv_int(ctx):
                    try:
                        val = pv.get(ctx)
                    except PVFailed:
                        return None
                    return val if type(val) is int else None

                return get_pv_int
        raise ConfigError(f"{where}: \"{text}\" is neither an integer nor a pseudo-variable", arg.pos)
    g = compiler.expr(arg)

    def get_dyn(ctx):  # a non-constant argument is fixed up again on every call
        val = g(ctx)
        if type(val) is int:
            return val
        return str2int(to_str(val)) if val is not None else None

    return get_dyn
