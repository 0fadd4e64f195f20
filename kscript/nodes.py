"""The AST of a Kamailio configuration: typed dataclasses, a position on every node.

Built from the Lark parse tree by :mod:`kscript.parser`; consumed by the checker,
the compiler (to closures), the REPL and coverage. ``pos`` is always the place
in the original file (through includes and define expansion).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator, Union

from .errors import Position


@dataclass(slots=True, eq=False)
class Node:
    pos: Position

    def children(self) -> Iterator["Node"]:
        """Direct child nodes, in source order."""
        for f in fields(self):
            if f.name == "pos":
                continue
            v = getattr(self, f.name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, list):
                for item in v:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, tuple):
                        yield from (x for x in item if isinstance(x, Node))

    def walk(self) -> Iterator["Node"]:
        """This node and all its descendants, depth first."""
        yield self
        for c in self.children():
            yield from c.walk()


# ------------------------------------------------------------------ expressions
@dataclass(slots=True, eq=False)
class Expr(Node):
    # Kamailio's ``fpos`` of the expression (s_line, s_col, e_line, e_col), as cfg.y
    # computes it and core/rvalue.c logs it: a leaf is the token bison had last read
    # when it reduced it (the leaf itself, or the lookahead after ``(`` where it might
    # still be an assignment's left side), a unary/cast expression its operand's, a
    # binary one the join of its operands'. None when not known (REPL, rewrites).
    span: tuple | None = field(default=None, kw_only=True)


@dataclass(slots=True, eq=False)
class Literal(Expr):
    """An int or string constant (``yes``/``on``/... are ints)."""

    value: int | str


@dataclass(slots=True, eq=False)
class PVRef(Expr):
    """A pseudo-variable token as written (``$var(x)``, ``$(hdr(X)[1]{s.len})``).

    ``spec`` is filled by the PV parser (:mod:`kscript.pv.spec`).
    """

    text: str
    spec: object = None


@dataclass(slots=True, eq=False)
class SelectRef(Expr):
    """A select (``@cfg_get.group.var``)."""

    text: str


@dataclass(slots=True, eq=False)
class Name(Expr):
    """A bare identifier in an expression: core keyword (``method``, ``src_ip``,
    ``myself``, ``UDP``...), route name, flag name or host name (dotted)."""

    name: str


@dataclass(slots=True, eq=False)
class IPLiteral(Expr):
    text: str
    net: bool = False  # ip/bits or ip/mask


@dataclass(slots=True, eq=False)
class SocketLiteral(Expr):
    """``proto:host[:port]`` as a function argument (``force_send_socket``)."""

    text: str


@dataclass(slots=True, eq=False)
class Unary(Expr):
    op: str  # "!", "-", "~"
    operand: Expr


@dataclass(slots=True, eq=False)
class Binary(Expr):
    op: str  # normalised: "||" "&&" "|" "&" "^" "<<" ">>" "==" "!=" "=~" "eq" "ne" "ieq" "ine" ">" "<" ">=" "<=" "+" "-" "*" "/" "mod"
    left: Expr
    right: Expr


@dataclass(slots=True, eq=False)
class Cast(Expr):
    to: str  # "int" | "str"
    operand: Expr


@dataclass(slots=True, eq=False)
class Defined(Expr):
    operand: Expr
    negate: bool = False  # from the ``X == $null`` rewrite


@dataclass(slots=True, eq=False)
class StrLen(Expr):
    operand: Expr


@dataclass(slots=True, eq=False)
class StrEmpty(Expr):
    operand: Expr


@dataclass(slots=True, eq=False)
class SelVal(Expr):
    cond: Expr
    if_true: Expr
    if_false: Expr


@dataclass(slots=True, eq=False)
class Call(Expr):
    """A function call; also a statement. ``name`` as written."""

    name: str
    args: list[Expr] = field(default_factory=list)
    bare: bool = False  # written without parentheses (core keywords allow it)
    end_pos: Position | None = None  # the closing ')' (Kamailio reports arity errors there)


@dataclass(slots=True, eq=False)
class BlockExpr(Expr):
    """``{ actions }`` used as a value (cfg.y ``rval: LBRACE actions RBRACE``): runs the
    actions, its value is the last action's return code."""

    block: "Block"


@dataclass(slots=True, eq=False)
class AssignExpr(Expr):
    """``(lval = expr)`` used as a value (cfg.y ``rval: LPAREN assign_action RPAREN``)."""

    assign: "Assign"


@dataclass(slots=True, eq=False)
class RouteCall(Expr):
    """``route(NAME)``; ``target`` is a Name/Literal (static) or any expression."""

    target: Expr


# ------------------------------------------------------------------ statements
@dataclass(slots=True, eq=False)
class Stmt(Node):
    pass


@dataclass(slots=True, eq=False)
class Block(Stmt):
    body: list[Stmt] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ExprStmt(Stmt):
    """A call or route() used as a statement."""

    expr: Expr


@dataclass(slots=True, eq=False)
class Assign(Stmt):
    target: PVRef
    value: Expr


@dataclass(slots=True, eq=False)
class If(Stmt):
    cond: Expr
    then: Stmt
    else_: Stmt | None = None


@dataclass(slots=True, eq=False)
class While(Stmt):
    cond: Expr
    body: Stmt


@dataclass(slots=True, eq=False)
class CaseLabel(Node):
    """``case X:`` (value set) or ``default:`` (value None). ``regex`` for ``case /"re":``."""

    value: int | str | None
    regex: bool = False
    default: bool = False


@dataclass(slots=True, eq=False)
class Switch(Stmt):
    """All case bodies form one list (C-like fall-through); labels index into it."""

    expr: Expr
    labels: list[tuple[CaseLabel, int]] = field(default_factory=list)
    body: list[Stmt] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Return(Stmt):
    value: Expr | None = None


@dataclass(slots=True, eq=False)
class Exit(Stmt):
    value: Expr | None = None


@dataclass(slots=True, eq=False)
class Drop(Stmt):
    value: Expr | None = None


@dataclass(slots=True, eq=False)
class Break(Stmt):
    pass


@dataclass(slots=True, eq=False)
class Empty(Stmt):
    pass


# ------------------------------------------------------------------ top level
@dataclass(slots=True, eq=False)
class CoreParam(Node):
    name: str
    value: int | str
    eq_pos: Position | None = None


@dataclass(slots=True, eq=False)
class CfgVar(Node):
    group: str
    name: str
    value: int | str
    desc: str | None = None


@dataclass(slots=True, eq=False)
class Listen(Node):
    kind: str  # "listen" | "alias"
    socket: str
    advertise: str | None = None
    name: str | None = None
    virtual: bool = False


@dataclass(slots=True, eq=False)
class LoadModule(Node):
    path: str
    path_pos: Position | None = None  # the string token (Kamailio reports a failed load there)

    @property
    def module(self) -> str:
        base = self.path.rsplit("/", 1)[-1]
        return base[:-3] if base.endswith(".so") else base


@dataclass(slots=True, eq=False)
class LoadPath(Node):
    path: str


@dataclass(slots=True, eq=False)
class ModParam(Node):
    module: str  # a regex over loaded module names
    param: str
    value: int | str
    extended: bool = False  # modparamx
    end_pos: Position | None = None  # the closing ')'


@dataclass(slots=True, eq=False)
class FlagsDecl(Node):
    names: list[tuple[str, int | None]] = field(default_factory=list)
    avp: bool = False


@dataclass(slots=True, eq=False)
class CfgEngine(Node):
    name: str


ROUTE_KINDS = ("request", "route", "failure", "branch", "onreply", "reply", "onsend", "event")


@dataclass(slots=True, eq=False)
class RouteBlock(Node):
    """A route block. ``kind``: request (``request_route``/``route {}``), route
    (``route[NAME]``), failure, branch, onreply (tm, named), reply (core
    ``reply_route``/``onreply_route {}``/``[0]``), onsend, event."""

    kind: str
    name: str | None
    body: Block


TopLevel = Union[CoreParam, CfgVar, Listen, LoadModule, LoadPath, ModParam, FlagsDecl, CfgEngine, RouteBlock]


@dataclass(slots=True, eq=False)
class Config(Node):
    """A whole configuration, in source order."""

    items: list[Node] = field(default_factory=list)

    def routes(self, kind: str | None = None) -> list[RouteBlock]:
        return [i for i in self.items if isinstance(i, RouteBlock) and (kind is None or i.kind == kind)]

    def modules(self) -> list[str]:
        return [i.module for i in self.items if isinstance(i, LoadModule)]
