"""Parse-time type checking of expressions, as Kamailio's ``rve_check_type``.

Only operands whose type is known without running the script are checked
(literals, casts, function calls, results of typed operators); PVs are untyped
until run time (core/rvalue.c@5.6.3:714-903).
"""

from __future__ import annotations

from . import nodes as N

INT, STR = "int", "str"

_INT_ONLY = {"-", "*", "/", "mod", "|", "&", "^", "<<", ">>", "&&", "||", "<", "<=", ">", ">=", "ieq", "ine"}
_STR_LEFT = {"eq", "ne", "=~"}


class _TypeError(Exception):
    def __init__(self, msg: str, node: N.Node):
        super().__init__(msg)
        self.node = node


def static_type(e: N.Expr) -> str | None:
    """The type Kamailio knows at parse time, or None; raises _TypeError on a mismatch."""
    if isinstance(e, N.Literal):
        return INT if isinstance(e.value, int) else STR
    if isinstance(e, N.Cast):
        static_type(e.operand)
        return e.to
    if isinstance(e, N.Call):
        for a in e.args:
            static_type(a)
        return INT
    if isinstance(e, N.RouteCall):
        return INT
    if isinstance(e, (N.StrLen, N.StrEmpty)):
        t = static_type(e.operand)
        if t == INT:
            raise _TypeError(f"type mismatch: int instead of str in {'strlen' if isinstance(e, N.StrLen) else 'strempty'}", e.operand)
        return INT
    if isinstance(e, N.Defined):
        t = static_type(e.operand)
        if t == INT and not e.negate:
            raise _TypeError("type mismatch: int instead of str in defined", e.operand)
        return INT
    if isinstance(e, N.Unary):
        t = static_type(e.operand)
        if t == STR:
            raise _TypeError(f"type mismatch: str instead of int (operator '{e.op}')", e.operand)
        return INT
    if isinstance(e, N.SelVal):
        static_type(e.cond)
        a, b = static_type(e.if_true), static_type(e.if_false)
        return a if a == b else None
    if isinstance(e, N.Binary):
        lt = static_type(e.left)
        rt = static_type(e.right)
        op = e.op
        if op in _INT_ONLY:
            if lt == STR:
                raise _TypeError(f"type mismatch: str instead of int (operator '{op}')", e.left)
            if rt == STR:
                raise _TypeError(f"type mismatch: str instead of int (operator '{op}')", e.right)
            return INT
        if op in ("==", "!=", "+"):
            if lt is not None and rt is not None and lt != rt and not (lt == STR and rt == INT):
                raise _TypeError(f"type mismatch: {rt} instead of {lt} (operator '{op}')", e.right)
            return INT if op != "+" else lt
        if op in _STR_LEFT:
            if lt == INT:
                raise _TypeError(f"type mismatch: int instead of str (operator '{op}')", e.left)
            return INT
        return None
    return None


def check_types(stmt: N.Node, ctx) -> None:
    """Type-check every expression under ``stmt``, reporting the first error of each."""
    for node in stmt.walk():
        exprs: list[N.Expr] = []
        if isinstance(node, (N.If, N.While)):
            exprs = [node.cond]
        elif isinstance(node, N.Assign):
            exprs = [node.value]
        elif isinstance(node, N.Switch):
            exprs = [node.expr]
        elif isinstance(node, (N.Return, N.Exit, N.Drop)) and node.value is not None:
            exprs = [node.value]
        elif isinstance(node, N.ExprStmt):
            exprs = [node.expr]
        for e in exprs:
            try:
                static_type(e)
            except _TypeError as err:
                ctx.error(f"bad expression: {err}", e.pos)
