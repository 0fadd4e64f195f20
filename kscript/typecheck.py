"""Parse-time type checking of expressions, as Kamailio's ``rve_check_type``.

Kamailio checks every operator node when the parser builds it (``mk_rve1`` /
``mk_rve2`` in core/cfg.y@5.6.3, rules in core/rvalue.c@5.6.3:714-903). Only
operands whose type is known without running the script count: literals,
casts, function calls and keyword conditions (int), selects (str), results of
typed operators. PVs and AVPs are untyped until run time. A mismatch makes the
configuration invalid; the node is then dropped (no further errors for the
expressions that contain it).

Types are ``"int"``, ``"str"`` or ``None`` (unknown).
"""

from __future__ import annotations

from . import nodes as N

INT, STR = "int", "str"

# RVE_*_OP groups of rve_check_type
_INT_BOTH = frozenset(["-", "*", "/", "mod", "|", "&", "^", "<<", ">>", "&&", "||", ">", ">=", "<", "<=",
                       "ieq", "ine"])
_EQ = frozenset(["==", "!="])
_STR_CMP = frozenset(["eq", "ne", "=~"])


def _mismatch(t1, t2) -> bool:
    return t2 != t1 and t1 is not None and t2 is not None and not (t1 == STR and t2 == INT)


def binary_type(op: str, t1, t2):
    """The type of ``left op right`` or, on a mismatch, ``(bad side, bad type, expected type)``."""
    if op in _INT_BOTH:
        if t1 == STR:
            return ("left", STR, INT)
        if t2 == STR:
            return ("right", STR, INT)
        return INT
    if op in _EQ:
        if _mismatch(t1, t2):
            return ("right", t2, t1)
        return INT
    if op == "+":
        if _mismatch(t1, t2):
            return ("right", t2, t1)
        return t1
    if op in _STR_CMP:
        if _mismatch(t1, t2):
            return ("right", t2, t1)
        if t1 == INT:
            return ("left", INT, STR)
        return INT
    return None


# token type (kscript.lexer) or node kind -> unary rule
_UNARY_INT_OPERAND = frozenset(["NOT", "BIN_NOT", "MINUS", "!", "~", "-"])
_UNARY_STR_OPERAND = frozenset(["DEFINED", "STRLEN", "STREMPTY", "defined", "strlen", "strempty"])


def unary_type(kind: str, t):
    """The type of a prefix operator / strlen / strempty / defined applied to type ``t``, or
    ``(bad type, expected type)``."""
    if kind in _UNARY_INT_OPERAND:
        if t == STR:
            return (STR, INT)
        return INT
    if kind in _UNARY_STR_OPERAND:
        if t == INT:
            return (INT, STR)
        return INT
    if kind in ("INTCAST", "int"):
        return INT
    if kind in ("STRCAST", "str"):
        return STR
    return INT


class TypeMismatch(Exception):
    """A type error found by :func:`static_type` (``node`` is where Kamailio reports it)."""

    def __init__(self, msg: str, node: N.Node):
        super().__init__(msg)
        self.node = node


def static_type(e: N.Expr):
    """The type Kamailio knows at parse time, checking the tree bottom-up like mk_rve1/2;
    raises :class:`TypeMismatch` at the first (innermost, leftmost) mismatch."""
    if isinstance(e, N.Literal):
        return INT if isinstance(e.value, int) else STR
    if isinstance(e, N.SelectRef):
        return STR
    if isinstance(e, (N.PVRef, N.Name, N.IPLiteral, N.SocketLiteral)):
        return None
    if isinstance(e, N.Cast):
        static_type(e.operand)
        return INT if e.to == "int" else STR
    if isinstance(e, (N.Call, N.RouteCall)):
        for a in getattr(e, "args", ()):
            static_type(a)
        return INT
    if isinstance(e, N.Unary):
        t = static_type(e.operand)
        r = unary_type(e.op, t)
        if isinstance(r, tuple):
            raise TypeMismatch(f"type mismatch ({r[0]} instead of {r[1]}) for '{e.op}'", e.operand)
        return r
    if isinstance(e, (N.StrLen, N.StrEmpty, N.Defined)):
        t = static_type(e.operand)
        kind = "strlen" if isinstance(e, N.StrLen) else "strempty" if isinstance(e, N.StrEmpty) else "defined"
        r = unary_type(kind, t)
        if isinstance(r, tuple):
            raise TypeMismatch(f"type mismatch ({r[0]} instead of {r[1]}) in {kind}", e.operand)
        return r
    if isinstance(e, N.SelVal):
        static_type(e.cond)
        a = static_type(e.if_true)
        static_type(e.if_false)
        return a
    if isinstance(e, N.Binary):
        if isinstance(e.left, N.Name):  # keyword condition (method == ..., src_ip == ...)
            static_type(e.right)
            return INT
        t1 = static_type(e.left)
        t2 = static_type(e.right)
        r = binary_type(e.op, t1, t2)
        if isinstance(r, tuple):
            side, bad, exp = r
            raise TypeMismatch(f"type mismatch: {bad} instead of {exp} in '{e.op}'", e)
        return r
    return INT


def check_types(stmt: N.Node, ctx) -> None:
    """Type-check every expression under ``stmt`` (AST-walking interface), reporting the first
    mismatch of each statement through ``ctx.error(msg, pos)``."""
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
            except TypeMismatch as err:
                ctx.error(f"bad expression: {err}", err.node.pos)
