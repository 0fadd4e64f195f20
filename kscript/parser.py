"""Parse preprocessed Kamailio cfg text into the AST (:mod:`kscript.nodes`).

The Lark LALR parser (contextual lexer) builds a tree with positions; the
:class:`ToAst` transformer turns it into dataclasses whose positions point into
the original files through the :class:`~kscript.source.SourceMap`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import nodes as N
from .errors import ConfigError, KscriptError, ParseError, Position
from .source import SourceMap

_INT_WORDS = {"yes": 1, "true": 1, "on": 1, "enable": 1, "no": 0, "false": 0, "off": 0, "disable": 0}

_ROUTE_KIND = {
    "route": "route", "request_route": "request", "failure_route": "failure", "branch_route": "branch",
    "onreply_route": "onreply", "reply_route": "reply", "onsend_route": "onsend",
}

# Human names of terminals, for "expected ..." messages.
_TERMINAL_NAMES = {
    "SEMICOLON": "';'", "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['",
    "RSQB": "']'", "COMMA": "','", "COLON": "':'", "ASSIGN": "'='", "EQUAL": "'='", "NAME": "an identifier",
    "STRING": "a string", "SQSTRING": "a string", "NUMBER": "a number", "PV": "a pseudo-variable",
    "DOT": "'.'",
}


@lru_cache(maxsize=1)
def get_lark() -> Lark:
    """The grammar, loaded once per process (LALR tables cached on disk by Lark)."""
    grammar = resources.files("kscript.grammar").joinpath("kamailio.lark").read_text()
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False, cache=_cache_path())


def _cache_path() -> str | bool:
    import os
    import tempfile
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        d = os.path.join(base, "kscript")
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, "grammar.lark.cache")
    except OSError:
        return os.path.join(tempfile.gettempdir(), "kscript-grammar.lark.cache")


def parse_source(smap: SourceMap) -> N.Config:
    """Parse preprocessed text; raises :class:`ParseError` with the original position."""
    try:
        tree = get_lark().parse(smap.text)
    except UnexpectedInput as e:
        raise _syntax_error(e, smap) from None
    try:
        return ToAst(smap).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, KscriptError):
            raise e.orig_exc from None
        raise


def _syntax_error(e: UnexpectedInput, smap: SourceMap) -> ParseError:
    line = getattr(e, "line", None) or 1
    col = getattr(e, "column", None) or 1
    if isinstance(e, UnexpectedToken) and e.token.type == "$END":
        # Report the last line with content, like Kamailio's "unexpected end of file".
        lines = smap.text.split("\n")
        line = len(lines)
        while line > 1 and not lines[line - 1].strip():
            line -= 1
        col = len(lines[line - 1]) + 1 if lines else 1
        msg = "syntax error: unexpected end of file" + _expected(e)
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        shown = str(tok)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        msg = f"syntax error: unexpected {shown!r}" + _expected(e)
        if tok.type == "NAME" and _wants(e, "SEMICOLON"):
            msg += " (missing ';'?)"
    elif isinstance(e, UnexpectedCharacters):
        ch = smap.text[e.pos_in_stream] if e.pos_in_stream < len(smap.text) else "?"
        msg = f"syntax error: unexpected character {ch!r}"
    elif isinstance(e, UnexpectedEOF):
        msg = "syntax error: unexpected end of file"
    else:
        msg = "syntax error"
    pos = smap.position(line, col)
    return ParseError(msg, pos, source_line=smap.source_line(pos))


def _wants(e: UnexpectedToken, term: str) -> bool:
    return term in (e.expected or set())


def _expected(e: UnexpectedInput) -> str:
    exp = getattr(e, "expected", None) or set()
    names = sorted({_TERMINAL_NAMES.get(t, None) or _literal_name(t) for t in exp} - {None})
    if not names or len(names) > 6:
        return ""
    return ", expecting " + " or ".join(names)


def _literal_name(term: str) -> str | None:
    if term.startswith("__ANON"):
        return None
    return term.lower().replace("_kw", "").replace("_w", "")


_CMP_OPS = {"==", "!=", "=~", "eq", "ne", "<", ">", "<=", ">="}
KEYWORD_NAMES = {"method", "uri", "status", "from_uri", "to_uri", "src_ip", "dst_ip", "src_port", "dst_port",
                 "proto", "af", "msg:len", "snd_ip", "snd_port", "snd_proto", "snd_af", "to_ip", "to_port"}


def _is_keyword_chain(e) -> bool:
    while isinstance(e, N.Unary):
        e = e.operand
    return isinstance(e, N.Name) and e.name in KEYWORD_NAMES


# --------------------------------------------------------------- strings
_ESC_RE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{2,3}|\n|.)", re.S)
_SIMPLE_ESC = {"n": "\n", "r": "\r", "a": "\a", "t": "\t", '"': '"', "\\": "\\", "\n": ""}


def unescape_dq(body: str) -> str:
    """Kamailio's double-quoted string escapes (core/cfg.lex@5.6.3:1250-1293)."""
    if "\\" not in body:
        return body

    def repl(m: re.Match) -> str:
        s = m.group(1)
        if s in _SIMPLE_ESC:
            return _SIMPLE_ESC[s]
        if s[0] == "x":
            return chr(int(s[1:], 16))
        if s[0] in "01234567" and len(s) >= 2:
            return chr(int(s, 8) & 0xFF)
        return "\\" + s  # unknown escape: both characters kept

    return _ESC_RE.sub(repl, body)


def parse_number(text: str) -> int:
    if text.startswith(("0x", "0X")):
        return int(text, 16)
    if text.endswith("b"):
        return int(text[:-1], 2)
    if len(text) > 1 and text[0] == "0":
        return int(text, 8)
    return int(text)


# --------------------------------------------------------------- transformer
class ToAst(Transformer):
    """Parse tree → :mod:`kscript.nodes`. Each callback gets the rule's meta."""

    def __init__(self, smap: SourceMap):
        super().__init__(visit_tokens=False)
        self.smap = smap

    def _pos(self, meta_or_tok) -> Position:
        line = getattr(meta_or_tok, "line", None)
        col = getattr(meta_or_tok, "column", None)
        if line is None:
            return Position("<config>", 1, 1)
        return self.smap.position(line, col)

    def _err(self, msg: str, where) -> ConfigError:
        pos = self._pos(where)
        return ConfigError(msg, pos, source_line=self.smap.source_line(pos))

    # ---- top level
    @v_args(meta=True)
    def start(self, meta, items):
        return N.Config(Position(self.smap.origins[0].file if self.smap.origins else "<config>", 1, 1),
                        [i for i in items if isinstance(i, N.Node)])

    @v_args(meta=True)
    def core_param(self, meta, c):
        node = N.CoreParam(self._pos(meta), str(c[0]), self._value(c[2]))
        node.eq_pos = self._pos(c[1])
        return node

    @v_args(meta=True)
    def cfg_var(self, meta, c):
        desc = None
        if len(c) > 4:
            desc = self._value(c[4])
        return N.CfgVar(self._pos(meta), str(c[0]), str(c[1]), self._value(c[2]), desc)

    @v_args(meta=True)
    def listen_param(self, meta, c):
        kind = str(c[0])
        node = N.Listen(self._pos(meta), kind, self._value(c[1]))
        i = 2
        while i < len(c):
            t = c[i]
            if isinstance(t, Token) and t.type == "ADVERTISE":
                node.advertise = self._value(c[i + 1])
                i += 2
            elif isinstance(t, Token) and t.type == "LNAME":
                node.name = self._value(c[i + 1])
                i += 2
            elif isinstance(t, Token) and t.type == "VIRTUAL":
                node.virtual = True
                i += 1
            else:
                i += 1
        return node

    def socket(self, c):
        proto = ""
        if isinstance(c[0], Token) and c[0].type == "PROTO_COLON":
            proto, c = str(c[0]), c[1:]
        text = proto + str(self._value(c[0]))
        return text + (":" + str(c[1]) if len(c) > 1 else "")

    def hostname(self, c):
        return "".join(str(x) for x in c)

    @v_args(meta=True)
    def loadmodule(self, meta, c):
        return N.LoadModule(self._pos(meta), c[1].value)

    @v_args(meta=True)
    def loadpath(self, meta, c):
        return N.LoadPath(self._pos(meta), c[-1].value)

    @v_args(meta=True)
    def modparam(self, meta, c):
        kw = str(c[0])
        node = N.ModParam(self._pos(meta), c[1].value, c[2].value, self._value(c[3]), kw == "modparamx")
        node.end_pos = self._pos(c[4])
        return node

    @v_args(meta=True)
    def flags_decl(self, meta, c):
        return N.FlagsDecl(self._pos(meta), [x for x in c[1:]], str(c[0]) == "avpflags")

    def flag_item(self, c):
        return (str(c[0]), parse_number(str(c[1])) if len(c) > 1 else None)

    @v_args(meta=True)
    def cfgengine(self, meta, c):
        return N.CfgEngine(self._pos(meta), c[1].value)

    @v_args(meta=True)
    def route_block(self, meta, c):
        kw = str(c[0])
        body = c[-1]
        name = c[1] if len(c) == 3 else None
        if kw == "event_route":
            return N.RouteBlock(self._pos(meta), "event", str(name), body)
        kind = _ROUTE_KIND[kw]
        if kind == "route" and name is None:
            kind = "request"
        elif kind == "request" and name is not None:
            raise self._err("request_route takes no name", meta)
        elif kind == "onreply" and (name is None or name == "0"):
            kind, name = "reply", None
        elif kind == "reply" and name is not None:
            raise self._err("reply_route takes no name", meta)
        return N.RouteBlock(self._pos(meta), kind, name, body)

    def route_name(self, c):
        v = c[0]
        if isinstance(v, N.Literal):
            return str(v.value)
        return str(v)

    # ---- statements
    @v_args(meta=True)
    def block(self, meta, c):
        return N.Block(self._pos(meta), [self._stmt(s) for s in c if isinstance(s, N.Node)])

    @v_args(meta=True)
    def empty_stmt(self, meta, c):
        return N.Empty(self._pos(meta))

    @v_args(meta=True)
    def if_stmt(self, meta, c):
        # IF cond then [ELSE else]
        stmts = [x for x in c if not isinstance(x, Token)]
        cond, then = stmts[0], stmts[1]
        else_ = stmts[2] if len(stmts) > 2 else None
        return N.If(self._pos(meta), cond, self._stmt(then), self._stmt(else_) if else_ else None)

    @v_args(meta=True)
    def while_stmt(self, meta, c):
        return N.While(self._pos(meta), c[1], self._stmt(c[2]))

    @v_args(meta=True)
    def switch_stmt(self, meta, c):
        sw = N.Switch(self._pos(meta), c[1])
        for item in c[2:]:
            if isinstance(item, N.CaseLabel):
                sw.labels.append((item, len(sw.body)))
            elif isinstance(item, N.Node):
                sw.body.append(self._stmt(item))
        return sw

    @v_args(meta=True)
    def case_label(self, meta, c):
        v = c[1]
        if isinstance(v, tuple) and v[0] == "regex":
            return N.CaseLabel(self._pos(meta), v[1], regex=True)
        if isinstance(v, N.Literal):
            return N.CaseLabel(self._pos(meta), v.value)
        if isinstance(v, Token) and v.type == "NAME":
            if v.value in _INT_WORDS:
                return N.CaseLabel(self._pos(meta), _INT_WORDS[v.value])
            raise self._err(f"case label '{v}' is not a constant", v)
        return N.CaseLabel(self._pos(meta), v)

    @v_args(meta=True)
    def default_label(self, meta, c):
        return N.CaseLabel(self._pos(meta), None, default=True)

    def case_regex(self, c):
        return ("regex", c[0].value)

    @v_args(meta=True)
    def assign(self, meta, c):
        target = N.PVRef(self._pos(c[0]), str(c[0]))
        return N.Assign(self._pos(meta), target, c[2])

    @v_args(meta=True)
    def bad_assign(self, meta, c):
        raise self._err(f"syntax error: operator '{c[1]}' does not exist, only '=' assigns", c[1])

    @v_args(meta=True)
    def return_stmt(self, meta, c):
        return N.Return(self._pos(meta), c[1] if len(c) > 1 else None)

    @v_args(meta=True)
    def exit_stmt(self, meta, c):
        return N.Exit(self._pos(meta), c[1] if len(c) > 1 else None)

    @v_args(meta=True)
    def drop_stmt(self, meta, c):
        return N.Drop(self._pos(meta), c[1] if len(c) > 1 else None)

    @v_args(meta=True)
    def break_stmt(self, meta, c):
        return N.Break(self._pos(meta))

    @v_args(meta=True)
    def route_call(self, meta, c):
        return N.RouteCall(self._pos(meta), c[1])

    @v_args(meta=True)
    def call(self, meta, c):
        return N.Call(self._pos(meta), str(c[0]), list(c[1:-1]), end_pos=self._pos(c[-1]))

    @v_args(meta=True)
    def bare_call(self, meta, c):
        return N.Call(self._pos(meta), str(c[0]), [], bare=True, end_pos=self._pos(c[0]))

    def _sink_unary(self, u, op, right, meta):
        if isinstance(u, N.Unary):
            return N.Unary(u.pos, u.op, self._sink_unary(u.operand, op, right, meta))
        return self.binop(meta, [u, Token("OP", op), right]) if False else N.Binary(self._pos(meta), op, u, right)

    def _stmt(self, s):
        if isinstance(s, N.Expr):
            return N.ExprStmt(s.pos, s)
        return s

    # ---- expressions
    @v_args(meta=True)
    def binop(self, meta, c):
        left, op, right = c
        op = str(op)
        op = {"or": "||", "and": "&&"}.get(op, op)
        # `!method == "ACK"`: Kamailio's exp_elem makes the comparison the operand of `!`
        if isinstance(left, N.Unary) and op in _CMP_OPS and _is_keyword_chain(left):
            return self._sink_unary(left, op, right, meta)
        # Kamailio rewrites `X == $null` (right side literally $null) to !defined X (core/cfg.y@5.6.3:3122-3140).
        if isinstance(right, N.PVRef) and right.text == "$null" and op in ("==", "!=", "eq", "ne", "ieq", "ine", "=~"):
            return N.Defined(self._pos(meta), left, negate=op in ("==", "eq", "ieq", "=~"))
        return N.Binary(self._pos(meta), op, left, right)

    @v_args(meta=True)
    def unop(self, meta, c):
        op = str(c[0])
        operand = c[1]
        if op == "not":
            op = "!"
        if op == "-" and isinstance(operand, N.Literal) and isinstance(operand.value, int):
            return N.Literal(self._pos(meta), -operand.value)
        return N.Unary(self._pos(meta), op, operand)

    @v_args(meta=True)
    def defined(self, meta, c):
        return N.Defined(self._pos(meta), c[1])

    @v_args(meta=True)
    def cast(self, meta, c):
        to = "int" if "int" in str(c[0]) else "str"
        return N.Cast(self._pos(meta), to, c[1])

    @v_args(meta=True)
    def strlen(self, meta, c):
        return N.StrLen(self._pos(meta), c[1])

    @v_args(meta=True)
    def strempty(self, meta, c):
        return N.StrEmpty(self._pos(meta), c[1])

    @v_args(meta=True)
    def selval(self, meta, c):
        return N.SelVal(self._pos(meta), c[1], c[2], c[3])

    @v_args(meta=True)
    def pv(self, meta, c):
        return N.PVRef(self._pos(meta), str(c[0]))

    @v_args(meta=True)
    def select(self, meta, c):
        return N.SelectRef(self._pos(meta), str(c[0]))

    @v_args(meta=True)
    def dotted_name(self, meta, c):
        name = "".join(str(x) for x in c)
        if name in _INT_WORDS:
            return N.Literal(self._pos(meta), _INT_WORDS[name])
        return N.Name(self._pos(meta), name)

    @v_args(meta=True)
    def ip(self, meta, c):
        return N.IPLiteral(self._pos(meta), str(c[0]))

    @v_args(meta=True)
    def ipnet(self, meta, c):
        return N.IPLiteral(self._pos(meta), str(c[0]), net=True)

    @v_args(meta=True)
    def sockaddr(self, meta, c):
        return N.SocketLiteral(self._pos(meta), str(c[0]))

    @v_args(meta=True)
    def keyword(self, meta, c):
        return N.Name(self._pos(meta), str(c[0]))

    @v_args(meta=True)
    def number(self, meta, c):
        try:
            return N.Literal(self._pos(meta), parse_number(str(c[0])))
        except ValueError:
            raise self._err(f"bad number '{c[0]}'", meta) from None

    @v_args(meta=True)
    def neg_number(self, meta, c):
        return N.Literal(self._pos(meta), -parse_number(str(c[-1])))

    @v_args(meta=True)
    def string(self, meta, c):
        if len(c) == 1 and c[0].type == "SQSTRING":
            return N.Literal(self._pos(meta), c[0].value[1:-1])
        return N.Literal(self._pos(meta), "".join(unescape_dq(t.value[1:-1]) for t in c))

    def __default__(self, data, children, meta):
        return Tree(data, children, meta)

    def __default_token__(self, token):
        return token

    # ---- helpers
    def _value(self, v):
        """A parameter value: Literal/Name/token → int or str."""
        if isinstance(v, N.Literal):
            return v.value
        if isinstance(v, N.Name):
            return _INT_WORDS.get(v.name, v.name)
        if isinstance(v, Token):
            if v.type == "PV":
                return str(v)
            if v.type == "NAME":
                return _INT_WORDS.get(v.value, v.value)
            return str(v)
        if isinstance(v, str):
            return _INT_WORDS.get(v, v)
        return v

    # terminals used directly as values
    def PV(self, t):  # noqa: N802 - Lark token callback
        return t


def token_pos(smap: SourceMap, tok: Token) -> Position:
    return smap.position(tok.line, tok.column)
