"""Parse preprocessed Kamailio cfg text into the AST (:mod:`kscript.nodes`).

Pipeline: :func:`kscript.lexer.tokenize` (flex emulation) -> an LALR(1) driver
running the tables Lark computes from ``grammar/kamailio.lark`` -> one callback
per grammar rule building :mod:`kscript.nodes` objects, with positions mapped
back to the original files through the :class:`~kscript.source.SourceMap`.

The callbacks run when the parser reduces a rule, in the order bison runs
cfg.y's actions, and they call the optional *hooks* object (the start-up
checks of :mod:`kscript.checker`) at the same moments Kamailio checks: a
function call when its ``)`` is read, a PV when its token is read, a type
mismatch when the operator is reduced. Every diagnostic gets the index of the
token Kamailio had just read when it printed it, so that the first error
kscript reports is the first one Kamailio prints, even across a syntax error
(on a syntax error the driver first performs the reductions bison's default
reductions would, as bison does before it reports).

The LALR tables are computed by Lark once and cached (``grammar/kamailio.tables``,
marshal format, shipped with the package; a grammar edit regenerates them into the
user cache): a check does not import Lark at all.
"""

from __future__ import annotations

import os
import zlib
import sys
from array import array

from . import nodes as N
from .errors import KscriptError, ParseError, Position
from .lexer import COMPAT_MAX, LexResult, Tok, tokenize
from .source import SourceMap

__all__ = ["parse_source", "parse_tokens", "parse_fragment", "get_tables", "FragmentResult", "Abort"]

START_SYMBOLS = ("start", "repl_actions", "repl_expr")


# =============================================================== LALR tables
def _grammar_dir() -> str:
    from . import grammar  # the package of grammar/ (kscript.grammar once installed)
    return os.path.dirname(os.path.abspath(grammar.__file__))


def _grammar_text() -> str:
    with open(os.path.join(_grammar_dir(), "kamailio.lark"), encoding="utf-8") as f:
        return f.read()


def _grammar_hash(text: str) -> str:
    data = text.encode("utf-8")
    return f"{len(data):x}-{zlib.crc32(data):08x}-{zlib.adler32(data):08x}"


def build_tables(grammar: str | None = None) -> dict:
    """Compute the LALR(1) tables with Lark (imports Lark; ~0.5 s)."""
    from lark import Lark
    from lark.lexer import Lexer
    from lark.parsers.lalr_analysis import Shift

    class _NoLexer(Lexer):  # the tokens come from kscript.lexer
        __future_interface__ = 2

        def __init__(self, conf):
            pass

        def lex(self, *args):  # pragma: no cover - never called
            return iter(())

    text = grammar if grammar is not None else _grammar_text()
    lk = Lark(text, parser="lalr", lexer=_NoLexer, start=list(START_SYMBOLS))
    table = lk.parser.parser._parse_table
    rule_index = {r: i for i, r in enumerate(lk.rules)}
    rules: list[tuple[str, str, int]] = [
        (str(r.origin.name), str(r.alias or r.origin.name), len(r.expansion)) for r in lk.rules]
    terms = sorted({str(sym) for acts in table.states.values() for sym in acts if str(sym).isupper()}
                   | {"$END"})
    nonterms = sorted({str(sym) for acts in table.states.values() for sym in acts if not str(sym).isupper()})
    syms = terms + nonterms
    sym_index = {s: i for i, s in enumerate(syms)}
    nsym = len(syms)
    # Lark's state numbers depend on set iteration order (object ids): renumber
    # the states breadth-first from the start states, successors in symbol
    # order, so that the generated file is reproducible.
    num: dict[int, int] = {}
    queue = [table.start_states[s] for s in START_SYMBOLS]
    for st in queue:
        if st in num:
            continue
        num[st] = len(num)
        succ = sorted((sym_index[str(sym)], arg) for sym, (action, arg) in table.states[st].items()
                      if action is Shift)
        queue.extend(arg for _i, arg in succ if arg not in num)
    for st in sorted(table.states):  # unreachable states (none expected)
        num.setdefault(st, len(num))
    act = array("h", bytes(2 * nsym * len(table.states)))
    for st, actions in table.states.items():
        base = num[st] * nsym
        for sym, (action, arg) in actions.items():
            # 0 = error, k > 0 = shift/goto state k - 1, k < 0 = reduce rule -k - 1
            act[base + sym_index[str(sym)]] = num[arg] + 1 if action is Shift else -1 - rule_index[arg]
    return {
        "hash": _grammar_hash(text),
        "syms": syms,
        "nterms": len(terms),
        "act": act.tobytes(),
        "nstates": len(table.states),
        "rules": rules,
        "start": {s: num[table.start_states[s]] for s in START_SYMBOLS},
        "end": {s: num[table.end_states[s]] for s in START_SYMBOLS},
    }


def write_tables(path: str, tables: dict) -> None:
    """Write ``tables`` in marshal format (the shipped cache, loaded in ~1 ms)."""
    import marshal
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        marshal.dump(tables, f, 2)  # version 2: no refcount-dependent refs (reproducible)
    os.replace(tmp, path)


def _user_cache_file(h: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kscript", f"tables-{h}.marshal")


def _load_marshal(path: str, h: str) -> dict | None:
    import marshal
    try:
        with open(path, "rb") as f:
            t = marshal.load(f)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return t if isinstance(t, dict) and t.get("hash") == h else None


_TABLES: dict | None = None


def get_tables() -> dict:
    """The parse tables: the file shipped next to the grammar when it matches the grammar,
    else the user cache, else computed now with Lark (and cached)."""
    global _TABLES
    if _TABLES is not None:
        return _TABLES
    text = _grammar_text()
    h = _grammar_hash(text)
    shipped = os.path.join(_grammar_dir(), "kamailio.tables")
    t = _load_marshal(shipped, h)
    if t is None:
        path = _user_cache_file(h)
        t = _load_marshal(path, h)
        if t is None:
            t = build_tables(text)
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                write_tables(path, t)
            except OSError:
                pass
    t["_act"] = array("h")
    t["_act"].frombytes(t["act"])
    t["_symidx"] = {sym: i for i, sym in enumerate(t["syms"])}
    t["_rule_goto"] = [t["_symidx"][origin] for origin, _name, _n in t["rules"]]
    _TABLES = t
    return t


# =============================================================== diagnostics
class Abort(Exception):
    """Kamailio stops parsing here (YYABORT or a fatal lexer error)."""


class Diag:
    """An error or warning found while parsing. ``key`` orders it the way Kamailio prints:
    (index of the last token read when it is printed, sequence number)."""

    __slots__ = ("error", "key", "kamailio_line")

    def __init__(self, error: KscriptError, key: tuple, kamailio_line: int | None = None):
        self.error = error
        self.key = key
        self.kamailio_line = kamailio_line


# =============================================================== operators
# cfg.y precedence (low -> high): || && | & ^ << >> (== != =~ ieq ine eq ne) (> < >= <=) (+ -)
# (* / mod) (! unary- ~) defined (int)/(str)
_BIN_PREC = {
    "LOG_OR": 1, "LOG_AND": 2, "BIN_OR": 3, "BIN_AND": 4, "BIN_XOR": 5, "BIN_LSHIFT": 6, "BIN_RSHIFT": 7,
    "EQUAL_T": 8, "DIFF": 8, "MATCH": 8, "INTEQ": 8, "INTDIFF": 8, "STREQ": 8, "STRDIFF": 8,
    "GT": 9, "LT": 9, "GTE": 9, "LTE": 9, "PLUS": 10, "MINUS": 10, "STAR": 11, "SLASH": 11, "MODULO": 11,
}
_BIN_OP = {
    "LOG_OR": "||", "LOG_AND": "&&", "BIN_OR": "|", "BIN_AND": "&", "BIN_XOR": "^", "BIN_LSHIFT": "<<",
    "BIN_RSHIFT": ">>", "EQUAL_T": "==", "DIFF": "!=", "MATCH": "=~", "INTEQ": "ieq", "INTDIFF": "ine",
    "STREQ": "eq", "STRDIFF": "ne", "GT": ">", "LT": "<", "GTE": ">=", "LTE": "<=", "PLUS": "+", "MINUS": "-",
    "STAR": "*", "SLASH": "/", "MODULO": "mod",
}
_EQ_GROUP = 8
_PREFIX_PREC = {"NOT": 12, "BIN_NOT": 12, "MINUS": 12, "DEFINED": 13, "INTCAST": 14, "STRCAST": 14}
_PREFIX_OP = {"NOT": "!", "BIN_NOT": "~", "MINUS": "-"}
_KW_NAME = {"METHOD": "method", "URI": "uri", "FROM_URI": "from_uri", "TO_URI": "to_uri", "SRCIP": "src_ip",
            "DSTIP": "dst_ip", "SNDIP": "snd_ip", "TOIP": "to_ip", "SRCPORT": "src_port", "DSTPORT": "dst_port",
            "AF": "af", "MSGLEN": "msg:len", "SNDPORT": "snd_port", "TOPORT": "to_port", "SNDAF": "snd_af",
            "PROTO": "proto", "SNDPROTO": "snd_proto", "MYSELF": "myself"}
_ROUTE_KIND_OF_TOKEN = {"ROUTE": "request", "ROUTE_REQUEST": "request", "ROUTE_FAILURE": "failure",
                        "ROUTE_ONREPLY": "reply", "ROUTE_REPLY": "reply", "ROUTE_BRANCH": "branch",
                        "ROUTE_SEND": "onsend", "ROUTE_EVENT": "event"}


def _join(a: tuple | None, b: tuple | None) -> tuple | None:
    """cfg_pos_join (core/route_struct.c@5.6.3): the smallest start, the largest end."""
    if a is None or b is None:
        return a if b is None else b
    sl, sc, el, ec = a
    if sl == 0 or sl > b[0]:
        sl, sc = b[0], b[1]
    elif sl == b[0] and sc > b[1]:
        sc = b[1]
    if el == 0 or el < b[2]:
        el, ec = b[2], b[3]
    elif el == b[2] and ec < b[3]:
        ec = b[3]
    return (sl, sc, el, ec)


class Val:
    """An expression being built: the node, its first and last token index, its type as
    Kamailio guesses it at parse time ("int", "str" or None) and whether it failed a check."""

    __slots__ = ("node", "first", "last", "type", "bad", "pos")

    def __init__(self, node, first, last, type_=None, bad=False, pos=None):
        self.node = node
        self.first = first
        self.last = last
        self.type = type_
        self.bad = bad
        self.pos = pos if pos is not None else node.pos  # where Kamailio's fpos starts


class _Op:
    __slots__ = ("kind", "prec", "tok", "extra", "first")

    def __init__(self, kind, prec, tok, extra=None, first=0):
        self.kind = kind  # "bin" | "pre" | "kw"
        self.prec = prec
        self.tok = tok
        self.extra = extra  # kw: (keyword name, op string)
        self.first = first


class _Unary:
    """A parsed ``unary``: prefix operators (outermost first) and the operand."""

    __slots__ = ("prefixes", "base")

    def __init__(self, prefixes, base):
        self.prefixes = prefixes
        self.base = base


class _Flat:
    """``rval_expr`` under construction: shunting-yard stacks; operators are reduced when the
    next operator or the end of the expression is read, as bison does with cfg.y's precedence."""

    __slots__ = ("vals", "ops")

    def __init__(self):
        self.vals: list[Val] = []
        self.ops: list[_Op] = []


# =============================================================== the parser
class Parser:
    """One parse of a token list. ``hooks`` (see :class:`kscript.checker.Checker`) receives the
    Kamailio-time checks; without hooks the parser only builds the AST."""

    def __init__(self, smap: SourceMap, lex: LexResult, hooks=None, start: str = "start"):
        self.smap = smap
        self.lex = lex
        self.toks = lex.tokens
        self.hooks = hooks
        self.start = start
        self.diags: list[Diag] = []
        self.seq = 0
        self.depth = 0  # { } nesting at the current token (for the route type of a block)
        self.module_call_depth = 0
        self.pending_route_tok: Tok | None = None
        self.cur = 0  # index of the lookahead token
        self.stop_idx: int | None = None  # where the parse stopped (syntax error, YYABORT); None: the end
        self._pos_cache: dict = {}
        t = get_tables()
        self.act = t["_act"]
        self.nsym = len(t["syms"])
        self.nterms = t["nterms"]
        self.syms = t["syms"]
        self.symidx = t["_symidx"]
        self.rule_goto = t["_rule_goto"]
        self.rules = t["rules"]
        self.start_state = t["start"][start]
        self.end_state = t["end"][start]
        self.cb = {}
        for i, (origin, name, _n) in enumerate(self.rules):  # noqa: B007
            self.cb[i] = getattr(self, "r_" + name, None) or getattr(self, "r_" + origin, None) or _default_cb

    # ------------------------------------------------------------ positions & diagnostics
    def pos(self, tok: Tok) -> Position:
        key = (tok.line, tok.col)
        p = self._pos_cache.get(key)
        if p is None:
            p = self._pos_cache[key] = self.smap.position(tok.line, tok.col)
        return p

    def span(self, tok: Tok) -> tuple:
        """A token's (s_line, s_col, e_line, e_col) in the original file (cfg.y's get_cpos)."""
        s = self.pos(tok)
        e = self.smap.position(tok.end_line, tok.end_col) if tok.end_line else s
        return (s.line, s.column, e.line, e.column)

    def leaf_span(self, lookahead: bool) -> tuple | None:
        """The fpos cfg.y's ``mk_rve_rval`` gives the leaf just shifted (index ``cur - 1``): the
        token last read, which is the lookahead (index ``cur``) when bison needed one to reduce."""
        i = self.cur if lookahead else self.cur - 1
        toks = self.toks
        if not 0 <= i < len(toks):
            i = min(max(self.cur - 1, 0), len(toks) - 1)
            if i < 0:
                return None
        return self.span(toks[i])

    def _lval_possible(self) -> bool:
        """In a callback of ``rval: pvar``: whether the state below the pvar could also take it
        as an assignment's left side (after a ``(``: ``rval: LPAREN assign_action RPAREN``), so
        that bison read the next token before reducing (the leaf's fpos is that token's)."""
        si = self.symidx.get("lval")
        return si is not None and self.act[self.sstack[-1] * self.nsym + si] > 0

    def error(self, message: str, pos: Position | None, t: float, cls=ParseError) -> KscriptError:
        src = self.smap.source_line(pos) if pos is not None else None
        err = cls(message, pos, source_line=src)
        self.seq += 1
        kl = self.smap.kamailio_line(pos) if pos is not None else None
        self.diags.append(Diag(err, (t, self.seq), kl))
        return err

    # ------------------------------------------------------------ driver
    def run(self):
        """Parse; returns the value of the start rule, or None after an error (see ``diags``)."""
        act = self.act
        nsym = self.nsym
        symidx = self.symidx
        rules = self.rules
        rule_goto = self.rule_goto
        cb = self.cb
        end_state = self.end_state
        sstack = [self.start_state]
        vstack: list = []
        self.sstack, self.vstack = sstack, vstack
        toks = self.toks
        end_tok = self._end_token()
        ntoks = len(toks)
        k = 0
        try:
            while True:
                self.cur = k
                tok = toks[k] if k < ntoks else end_tok
                ttype = tok.type
                si = symidx.get(ttype)
                if si is None:
                    self._syntax_error(tok)
                    return None
                while True:
                    a = act[sstack[-1] * nsym + si]
                    if a > 0:
                        sstack.append(a - 1)
                        vstack.append(tok)
                        if ttype in _SHIFT_HOOK:
                            self._on_shift(tok)
                        break
                    if a == 0:
                        self._syntax_error(tok)
                        return None
                    r = -1 - a
                    n = rules[r][2]
                    if n:
                        children = vstack[-n:]
                        del vstack[-n:]
                        del sstack[-n:]
                    else:
                        children = []
                    value = cb[r](children)
                    goto = act[sstack[-1] * nsym + rule_goto[r]] - 1
                    sstack.append(goto)
                    vstack.append(value)
                    if goto == end_state and ttype == "$END":
                        return value
                k += 1
        except Abort:
            if self.stop_idx is None:
                self.stop_idx = self.cur
            return None

    def _end_token(self) -> Tok:
        lx = self.lex
        t = Tok("$END", "", lx.eof_line, lx.eof_col, lx.eof_line, lx.eof_col, "")
        t.idx = len(self.toks)
        return t

    def _syntax_error(self, tok: Tok) -> None:
        """Report a syntax error at ``tok`` after the reductions bison would still make."""
        self.stop_idx = tok.idx
        self._default_reductions()
        if tok.type == "$END" and getattr(self.hooks, "input_truncated", False):
            return  # the text stops at a fatal preprocessor error: that is the error to report
        if tok.type == "$END":
            if self.lex.eof_reason == "string":
                msg = "syntax error: unexpected end of file in an unclosed string"
            elif self.lex.eof_reason == "pvar":
                msg = "syntax error: unexpected end of file in a pseudo-variable name ($(... without ')')"
            else:
                msg = "syntax error: unexpected end of file" + self._expected_text()
        else:
            shown = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
            msg = f"syntax error: unexpected {_describe(tok, shown)}" + self._expected_text()
            if self._prev_is("ID") and tok.type != "LPAREN" and self._expects("LPAREN"):
                msg += " (a function call needs '(' ')' -- or is an undefined #!define used as a value?)"
            elif tok.type == "ADDEQ":
                msg += " ('+=' does not exist, only '=' assigns)"
        self.error(msg, self.pos(tok) if tok.type != "$END" else self._eof_pos(), tok.idx - 0.5)

    def _eof_pos(self) -> Position:
        lx = self.lex
        return self.smap.position(lx.eof_line, max(lx.eof_col, 1))

    def _prev_is(self, ttype: str) -> bool:
        return bool(self.vstack) and isinstance(self.vstack[-1], Tok) and self.vstack[-1].type == ttype

    def _row(self, state: int) -> list[tuple[int, int]]:
        """(symbol index, action) pairs of a state's non-error actions."""
        base = state * self.nsym
        act = self.act
        return [(i, act[base + i]) for i in range(self.nsym) if act[base + i]]

    def _expects(self, ttype: str) -> bool:
        si = self.symidx.get(ttype)
        return si is not None and self.act[self.sstack[-1] * self.nsym + si] != 0

    def _expected_text(self) -> str:
        names = sorted({_TOKEN_WORDS.get(self.syms[i], self.syms[i]) for i, _a in self._row(self.sstack[-1])
                        if i < self.nterms and self.syms[i] != "$END"})
        if not names or len(names) > 5:
            return ""
        return ", expecting " + " or ".join(names)

    def _default_reductions(self) -> None:
        """Reduce while the state has a reduction, picking the most common one (bison's default
        reduction), so that checks of constructs completed before a syntax error still run."""
        rules, cb, act, nsym = self.rules, self.cb, self.act, self.nsym
        sstack, vstack = self.sstack, self.vstack
        for _ in range(10000):
            counts: dict[int, int] = {}
            for i, a in self._row(sstack[-1]):
                if a < 0 and i < self.nterms:
                    counts[a] = counts.get(a, 0) + 1
            if not counts:
                return
            a = max(counts, key=lambda x: (counts[x], x))
            r = -1 - a
            n = rules[r][2]
            if len(sstack) <= n:
                return
            if n:
                children = vstack[-n:]
                del vstack[-n:]
                del sstack[-n:]
            else:
                children = []
            try:
                value = cb[r](children)
            except KscriptError:
                return
            # an Abort (Kamailio stops: YYABORT) propagates: no syntax error is reported then
            goto = act[sstack[-1] * nsym + self.rule_goto[r]] - 1
            if goto < 0:
                return
            sstack.append(goto)
            vstack.append(value)

    def _on_shift(self, tok: Tok) -> None:
        t = tok.type
        if t == "LBRACE":
            self.depth += 1
        elif t == "RBRACE":
            self.depth -= 1
        elif t == "LPAREN":
            vs = self.vstack
            if len(vs) >= 2 and isinstance(vs[-2], Tok) and vs[-2].type == "ID":
                # cfg.y's mid-rule action of `ID { ... } LPAREN func_params RPAREN`
                if self.module_call_depth and self.hooks is not None:
                    self.error("use of function execution inside params not allowed "
                               f"('{vs[-2].value}' called in the parameters of another function)",
                               self.pos(tok), tok.idx - 1)
                    raise Abort()
                self.module_call_depth += 1
        elif self.depth == 0 and t in _ROUTE_KIND_OF_TOKEN:
            self.pending_route_tok = tok
            if self.hooks is not None:
                self.hooks.route_start(_ROUTE_KIND_OF_TOKEN[t], tok)

    # ------------------------------------------------------------ helpers for callbacks
    def finish(self, flat: _Flat) -> Val:
        while flat.ops:
            self._reduce_op(flat)
        return flat.vals[-1]

    def _push_unary(self, flat: _Flat, u: _Unary) -> None:
        flat.ops.extend(u.prefixes)
        flat.vals.append(u.base)

    def _push_binop(self, flat: _Flat, tok: Tok) -> None:
        prec = _BIN_PREC[tok.type]
        ops = flat.ops
        while ops and ops[-1].prec >= prec:
            self._reduce_op(flat)
        ops.append(_Op("bin", prec, tok))

    def _reduce_op(self, flat: _Flat) -> None:
        op = flat.ops.pop()
        if op.kind == "bin":
            right = flat.vals.pop()
            left = flat.vals.pop()
            flat.vals.append(self.make_binary(op.tok, left, right))
        elif op.kind == "pre":
            operand = flat.vals.pop()
            flat.vals.append(self.make_prefix(op, operand))
        else:
            operand = flat.vals.pop()
            flat.vals.append(self.make_kw(op, operand))

    def make_binary(self, tok: Tok, left: Val, right: Val) -> Val:
        op = _BIN_OP[tok.type]
        node = N.Binary(left.pos, op, left.node, right.node, span=_join(left.node.span, right.node.span))
        if tok.type in ("EQUAL_T", "DIFF", "INTEQ", "INTDIFF", "STREQ", "STRDIFF", "MATCH") and \
                isinstance(right.node, N.PVRef) and right.node.text == "$null":
            # cfg.y: comparing with $null becomes (not)defined of the left side
            negate = tok.type in ("EQUAL_T", "INTEQ", "STREQ", "MATCH")
            node = N.Defined(left.pos, left.node, negate=negate, span=left.node.span)
            v = Val(node, left.first, right.last, "int", left.bad, left.pos)
            if self.hooks is not None and not left.bad:
                self.hooks.check_defined(self, v, left)
            return v
        v = Val(node, left.first, right.last, None, left.bad or right.bad, left.pos)
        if self.hooks is not None:
            self.hooks.check_binary(self, v, tok, left, right)
        else:
            v.type = _guess_binary_type(tok.type, left.type)
        return v

    def make_prefix(self, op: _Op, operand: Val) -> Val:
        t = op.tok.type
        pos = self.pos(op.tok)
        # Kamailio gives a unary expression the position of its operand (mk_rve1)
        if t == "INTCAST" or t == "STRCAST":
            node = N.Cast(pos, "int" if t == "INTCAST" else "str", operand.node, span=operand.node.span)
            return Val(node, op.first, operand.last, "int" if t == "INTCAST" else "str", operand.bad,
                       operand.pos)
        if t == "DEFINED":
            node = N.Defined(pos, operand.node, span=operand.node.span)
        else:
            node = N.Unary(pos, _PREFIX_OP[t], operand.node, span=operand.node.span)
        v = Val(node, op.first, operand.last, "int", operand.bad, operand.pos)
        if self.hooks is not None and not operand.bad:
            self.hooks.check_unary(self, v, op.tok, operand)
        return v

    def make_kw(self, op: _Op, operand: Val) -> Val:
        kwtok, optok = op.tok, op.extra
        kw = _KW_NAME[kwtok.type]
        pos = self.pos(kwtok)
        node = N.Binary(pos, _BIN_OP[optok.type], N.Name(pos, kw), operand.node,
                        span=self._after_span(operand.last))
        v = Val(node, op.first, operand.last, "int", operand.bad, pos)
        if self.hooks is not None:
            self.hooks.check_exp_elem(self, v, kwtok, optok, operand)
        return v

    def literal_val(self, tok: Tok, value, type_: str) -> Val:
        p = self.pos(tok)
        return Val(N.Literal(p, value, span=self.span(tok)), tok.idx, tok.idx, type_, False, p)

    def _after_span(self, last: int) -> tuple | None:
        """The span of the token after index ``last`` (a lookahead), else of ``last`` itself."""
        toks = self.toks
        if last + 1 < len(toks):
            return self.span(toks[last + 1])
        return self.span(toks[last]) if 0 <= last < len(toks) else None

    # ============================================================ rule callbacks
    # top level
    def r_start(self, c):
        items = [x for x in c[0] if x is not None]
        first = self.smap.origins[0].file if self.smap.origins else "<config>"
        return N.Config(Position(first, 1, 1), items)

    def r_repl_actions(self, c):
        return c[0]

    def r_repl_expr(self, c):
        return c[0].node

    def r_statements(self, c):
        if len(c) == 1:
            return [] if c[0] is None else (c[0] if isinstance(c[0], list) else [c[0]])
        lst = c[0]
        item = c[1]
        if isinstance(item, list):
            lst.extend(item)
        elif item is not None:
            lst.append(item)
        return lst

    def r_statement(self, c):
        return c[0]

    def r_empty_statement(self, c):
        return None

    # core parameters
    def r_core_param(self, c):
        name_tok = c[0]
        value = c[2]
        if isinstance(value, Tok):
            v = value.value
        elif isinstance(value, Val):
            v = value.node.value
        else:
            v = value
        node = N.CoreParam(self.pos(name_tok), name_tok.text, v, eq_pos=self.pos(c[1]))
        if self.hooks is not None:
            self.hooks.core_param(self, node, name_tok, value)
        return node

    def r_p_number(self, c):
        return c[0]

    r_p_intno = r_p_string = r_p_id_or_string = r_p_number

    def r_tls_method(self, c):
        return c[0].text

    def r_kemi_cb(self, c):
        return c[0]

    def r_kemi_param(self, c):
        return N.CoreParam(self.pos(c[0]), f"kemi.{c[2].text}", c[4].value, eq_pos=self.pos(c[3]))

    def r_alias_param(self, c):
        return [N.Listen(self.pos(c[0]), "alias", sock) for sock in c[2]]

    def r_listen_param(self, c):
        adv, name, virtual = c[3]
        return [N.Listen(self.pos(c[0]), "listen", sock, advertise=adv, name=name, virtual=virtual)
                for sock in c[2]]

    def r_listen_opts(self, c):
        adv = name = None
        virtual = False
        for x in c:
            if isinstance(x, str):
                adv = x
            elif isinstance(x, Tok):
                if x.type == "STRING":
                    name = x.value
                elif x.type == "VIRTUAL":
                    virtual = True
        return adv, name, virtual

    def r_listen_adv(self, c):
        return c[1] + (f":{c[3].value}" if len(c) > 2 else "")

    def r_cfg_var(self, c):
        desc = c[6].value if len(c) > 5 else None
        value = c[4].value
        node = N.CfgVar(self.pos(c[0]), c[0].text, c[2].text, value, desc)
        if self.hooks is not None:
            self.hooks.cfg_var(self, node, c[2])
        return node

    def r_cfg_var_inst(self, c):
        node = N.CfgVar(self.pos(c[0]), f"{c[0].text}[{c[2].value}]", c[5].text, c[7].value, None)
        if self.hooks is not None:
            self.hooks.cfg_var(self, node, c[5])
        return node

    def r_cfg_var_id(self, c):
        return c[0]

    r_cfg_var_idn = r_cfg_var_id

    # addresses (as text)
    def r_listen_id(self, c):
        x = c[0]
        if isinstance(x, Tok):
            return x.value  # STRING
        return x

    def r_listen_id_lst(self, c):
        return [c[0]] + (c[2] if len(c) > 1 else [])

    def r_listen_id2(self, c):
        return "(" + ",".join(c[1]) + ")"

    def r_listen_id2_one(self, c):
        return c[0]

    def r_proto(self, c):
        return c[0].text.lower() if c[0].type != "STAR" else "*"

    r_eqproto = r_proto

    def r_port(self, c):
        return c[0].text

    def r_phostport(self, c):
        return ":".join(str(x) if not isinstance(x, Tok) else x.text for x in c
                        if not (isinstance(x, Tok) and x.type == "COLON"))

    r_listen_phostport = r_phostport

    def r_id_lst(self, c):
        return [c[0]] + (c[1] if len(c) > 1 else [])

    def r_intno(self, c):
        return self.literal_val(c[0], c[0].value, "int")

    def r_intno_neg(self, c):
        p = self.pos(c[0])
        v = -c[1].value
        v = ((v + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        return Val(N.Literal(p, v, span=self.span(c[1])), c[0].idx, c[1].idx, "int", False, p)

    def r_ip(self, c):
        return c[0]

    def r_ipv4(self, c):
        return _txt(".".join(t.text for t in c[::2]), c[0])

    def r_ipv6(self, c):
        return _txt(c[0].value if len(c) == 1 else "[" + c[1].value + "]", c[0])

    def r_ipnet(self, c):
        right = c[2].text if isinstance(c[2], Tok) else c[2]
        return ("net", c[0], right, c)

    def r_ipnet_one(self, c):
        return ("ip", c[0], None, c)

    def r_host(self, c):
        return _txt(c[0].value, c[0])

    def r_host_more(self, c):
        return _txt(c[0] + c[1].text + c[2].value, c[0])

    def r_host_if_id(self, c):
        return _txt(c[0].text, c[0])

    def r_host_or_if(self, c):
        return c[0]

    def r_host_or_if_more(self, c):
        return _txt(c[0] + c[1].text + c[2], c[0])

    # flags
    def r_flags_decl(self, c):
        node = N.FlagsDecl(self.pos(c[0]), c[1], avp=False)
        return node

    def r_flag_list(self, c):
        return [c[0]] + (c[2] if len(c) > 2 else [])

    def r_flag_spec(self, c):
        name_tok = c[0]
        num = c[2].value if len(c) > 2 else None
        if self.hooks is not None:
            self.hooks.register_flag(self, name_tok, c[2] if len(c) > 2 else None)
        return (name_tok.value, num)

    def r_flag_name(self, c):
        return c[0]

    def r_avpflags_decl(self, c):
        names = [(t.value, None) for t in c[1]]
        if self.hooks is not None:
            self.hooks.register_avpflags(self, c[1])
        return N.FlagsDecl(self.pos(c[0]), names, avp=True)

    def r_avpflag_list(self, c):
        return [c[0]] + (c[2] if len(c) > 2 else [])

    # modules
    def r_loadmodule(self, c):
        node = N.LoadModule(self.pos(c[0]), c[1].value)
        try:
            node.path_pos = self.pos(c[1])
        except AttributeError:  # pragma: no cover - older nodes.py
            pass
        if self.hooks is not None:
            self.hooks.loadmodule(self, node, c[1])
        return node

    def r_loadpath(self, c):
        return N.LoadPath(self.pos(c[0]), c[-1].value)

    def r_modparam(self, c):
        v = c[6]
        if isinstance(v, Val):
            value = v.node.value
        else:
            value = v.value  # STRING or PVAR token
        node = N.ModParam(self.pos(c[0]), c[2].value, c[4].value, value, c[0].type == "MODPARAMX",
                          end_pos=self.pos(c[7]))
        if self.hooks is not None:
            self.hooks.modparam(self, node, c)
        return node

    def r_cfgengine(self, c):
        return N.CfgEngine(self.pos(c[0]), c[-1].value)

    def r_preprocess_stm(self, c):
        return None

    # routes
    def r_route_name(self, c):
        t = c[0]
        name = str(t.value)
        if self.hooks is not None:
            self.hooks.route_name(self, name, t)
        return name

    def _route(self, c, kind: str) -> N.RouteBlock:
        kw = c[0]
        name = c[2] if len(c) == 7 else None
        lbrace = c[-3]
        body = N.Block(self.pos(lbrace), c[-2])
        if kind == "reply" and kw.type == "ROUTE_ONREPLY" and name is not None and name != "0":
            kind = "onreply"
        elif kind == "reply":
            name = None
        node = N.RouteBlock(self.pos(kw), kind, name, body)
        if self.hooks is not None:
            self.hooks.route_block(self, node, c[-1])
        return node

    def r_request_route(self, c):
        return self._route(c, "request")

    def r_named_route(self, c):
        return self._route(c, "route")

    def r_failure_route(self, c):
        return self._route(c, "failure")

    def r_onreply_route(self, c):
        return self._route(c, "reply")

    def r_branch_route(self, c):
        return self._route(c, "branch")

    def r_onsend_route(self, c):
        return self._route(c, "onsend")

    def r_event_route(self, c):
        kw = c[0]
        body = N.Block(self.pos(c[4]), c[5])
        node = N.RouteBlock(self.pos(kw), "event", c[2].value, body)
        if self.hooks is not None:
            self.hooks.route_block(self, node, c[-1])
        return node

    # statements
    def r_actions(self, c):
        if len(c) == 1:
            return [] if c[0] is None else [c[0]]
        if c[1] is not None:
            c[0].append(c[1])
        return c[0]

    def r_action_cmd(self, c):
        v = c[0]
        return N.ExprStmt(v.pos, v.node)

    def r_action_semi(self, c):
        return c[0]

    def r_action(self, c):
        return c[0]

    def r_action_empty(self, c):
        return N.Empty(self.pos(c[0]))

    def r_stm_action(self, c):
        return c[0]

    def r_stm_block(self, c):
        return N.Block(self.pos(c[0]), c[1])

    def r_if_cmd(self, c):
        cond = c[1]
        node = N.If(self.pos(c[0]), cond.node, c[2], c[4] if len(c) > 3 else None)
        if self.hooks is not None:
            self.hooks.condition(self, cond, "if")
        return node

    def r_while_cmd(self, c):
        cond = c[1]
        node = N.While(self.pos(c[0]), cond.node, c[2])
        if self.hooks is not None:
            self.hooks.condition(self, cond, "while")
        return node

    def r_switch_cmd(self, c):
        sw = N.Switch(self.pos(c[0]), c[1].node)
        for label, stmts in c[3]:
            sw.labels.append((label, len(sw.body)))
            sw.body.extend(stmts)
        if self.hooks is not None:
            self.hooks.switch(self, sw, c[1], [lab for lab, _s in c[3]])
        return sw

    def r_switch_empty(self, c):
        return N.Switch(self.pos(c[0]), c[1].node)

    def r_case_stms(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[1])
        return c[0]

    def _case(self, c, regex: bool):
        k = 2 if regex else 1
        v: Val = c[k]
        stmts = c[k + 2] if len(c) > k + 2 else []
        value = _const_value(v.node)
        label = N.CaseLabel(self.pos(c[0]), value if value is not _NOT_CONST else None, regex=regex)
        if self.hooks is not None:
            self.hooks.case_label(self, label, v, value is not _NOT_CONST)
        return label, stmts

    def r_case_label(self, c):
        return self._case(c, False)

    def r_case_regex(self, c):
        return self._case(c, True)

    def r_case_default(self, c):
        return N.CaseLabel(self.pos(c[0]), None, default=True), (c[2] if len(c) > 2 else [])

    def r_ret_noval(self, c):
        t = c[0]
        p = self.pos(t)
        if t.type == "BREAK":
            return N.Break(p)
        return {"DROP": N.Drop, "EXIT": N.Exit, "RETURN": N.Return}[t.type](p, None)

    def r_ret_val(self, c):
        t = c[0]
        return {"DROP": N.Drop, "EXIT": N.Exit, "RETURN": N.Return}[t.type](self.pos(t), c[1].node)

    def r_assign_action(self, c):
        target: N.PVRef = c[0]
        node = N.Assign(target.pos, target, c[2].node)
        return node

    def r_lval(self, c):
        x = c[0]
        if self.hooks is not None:
            self.hooks.lval(self, x)
        return x

    # AVPs, PVs, selects
    def r_select_id(self, c):
        p = self.pos(c[0])
        text = "@" + ".".join(c[1])
        last = self.vstack_last_idx
        return Val(N.SelectRef(p, text), c[0].idx, last, "str", False, p)

    @property
    def vstack_last_idx(self) -> int:
        """Index of the token most recently shifted: reductions happen when the next token
        (index ``cur``) is the lookahead."""
        return self.cur - 1

    def r_select_params(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]

    def r_select_param(self, c):
        if len(c) == 1:
            return c[0].value
        idx = c[2]
        if isinstance(idx, Val):
            return f"{c[0].value}[{idx.node.value}]"
        return f'{c[0].value}["{idx.value}"]'

    def r_attr_class_spec(self, c):
        return c[0].text

    def r_attr_spec(self, c):
        if len(c) == 1:
            return c[0].value
        return f"{c[0]}.{c[2].value}"

    def _attr(self, c, index: str | None) -> N.PVRef:
        p = self.pos(c[0])
        name = c[1]
        text = f"$avp({name})" if index is None else f"$(avp({name})[{index}])"
        return N.PVRef(p, text)

    def r_attr_id(self, c):
        return self._attr(c, None)

    def r_attr_id_num_idx(self, c):
        return self._attr(c, str(c[3].node.value))

    def r_attr_id_no_idx(self, c):
        return self._attr(c, "*")

    def r_attr_id_ass(self, c):
        return c[0]

    r_attr_id_any = r_attr_id_ass

    def r_attr_id_any_str(self, c):
        x = c[0]
        if isinstance(x, Tok):
            return N.Literal(self.pos(x), x.value)
        return x

    def r_pvar(self, c):
        tok = c[0]
        if self.hooks is not None:
            return self.hooks.pvar(self, tok)
        return N.PVRef(self.pos(tok), tok.value)

    def r_avp_pvar(self, c):
        tok = c[0]
        if self.hooks is not None:
            return self.hooks.avp_pvar(self, tok)
        return N.PVRef(self.pos(tok), tok.value)

    # expressions
    def r_expr(self, c):
        return self.finish(c[0])

    def r_rval_expr(self, c):
        if len(c) == 1:
            flat = _Flat()
            self._push_unary(flat, c[0])
            return flat
        flat = c[0]
        self._push_unary(flat, c[1])
        return flat

    def r_rval_expr_op(self, c):
        flat = c[0]
        self._push_binop(flat, c[1])
        return flat

    def r_binop(self, c):
        return c[0]

    def r_unary(self, c):
        return _Unary([], c[0])

    def r_un_op(self, c):
        return c[0]

    def r_prefix(self, c):
        tok = c[0]
        inner: _Unary = c[1]
        op = _Op("pre", _PREFIX_PREC[tok.type], tok, first=tok.idx)
        return _Unary([op] + inner.prefixes, inner.base)

    def r_kw_prefix(self, c):
        kwtok = c[0]
        optok = c[1]
        prec = _BIN_PREC[optok.type]
        inner: _Unary = c[2]
        op = _Op("kw", prec, kwtok, optok, first=kwtok.idx)
        return _Unary([op] + inner.prefixes, inner.base)

    def r_kw_value(self, c):
        kwtok, optok, x = c
        kw = _KW_NAME[kwtok.type]
        pos = self.pos(kwtok)
        if isinstance(x, Tok):
            if x.type == "MYSELF":
                right = N.Name(self.pos(x), "myself")
            elif x.type == "ID":  # method == ID
                right = N.Literal(self.pos(x), x.value)
            else:  # eqproto
                right = N.Name(self.pos(x), x.text.lower() if x.type != "STAR" else "*")
            last = x.idx
        elif isinstance(x, tuple):  # ipnet
            kind, ip, mask, _toks = x
            text = ip if kind == "ip" else f"{ip}/{mask}"
            right = N.IPLiteral(self._txt_pos(ip), text, net=(kind == "net"))
            last = self.vstack_last_idx
            if self.hooks is not None:
                self.hooks.ipnet(self, x, right)
        else:  # host name
            right = N.Name(self._txt_pos(x), str(x))
            last = self.vstack_last_idx
        node = N.Binary(pos, _BIN_OP[optok.type], N.Name(pos, kw), right, span=self._after_span(last))
        return _Unary([], Val(node, kwtok.idx, last, "int", False, pos))

    def r_myself_cmp(self, c):
        mtok, optok, kwtok = c
        pos = self.pos(mtok)
        kw = _KW_NAME[kwtok.type]
        node = N.Binary(pos, _BIN_OP[optok.type], N.Name(self.pos(kwtok), kw), N.Name(pos, "myself"),
                        span=self._after_span(kwtok.idx))
        return _Unary([], Val(node, mtok.idx, kwtok.idx, "int", False, pos))

    def r_equalop(self, c):
        return c[0]

    r_cmpop = r_strop = r_uri_type = r_eint_op = r_equalop

    def r_eip_op(self, c):
        tok = c[0]
        if tok.type in ("SNDIP", "TOIP") and self.hooks is not None:
            self.hooks.onsend_keyword(self, tok)
        return tok

    def r_rval_int(self, c):
        return c[0]

    def r_rval_str(self, c):
        return self.literal_val(c[0], c[0].value, "str")

    def r_rval_avp(self, c):
        ref = c[0]
        # cfg.y's attr_id forms (`$f.x`...): bison read the next token to see whether `[`
        # follows, so the leaf's fpos is that token's
        ref.span = self.leaf_span(True)
        return Val(ref, self.vstack_last_idx, self.vstack_last_idx, None, False, ref.pos)

    def r_rval_pv(self, c):
        ref = c[0]
        ref.span = self.leaf_span(self._lval_possible())
        return Val(ref, self.vstack_last_idx, self.vstack_last_idx, None, False, ref.pos)

    def r_rval_select(self, c):
        v = c[0]
        v.node.span = self.leaf_span(True)  # select_params looked for a further `.name`
        return v

    def r_rval_cmd(self, c):
        v = c[0]
        v.type = "int"
        if isinstance(v.node, N.Expr) and 0 <= v.last < len(self.toks):
            v.node.span = self.span(self.toks[v.last])
        return v

    def r_rval_block(self, c):
        p = self.pos(c[0])
        node = N.BlockExpr(p, N.Block(p, c[1]), span=self.span(c[2]))
        return Val(node, c[0].idx, c[2].idx, "int", False, p)

    def r_rval_assign(self, c):
        a: N.Assign = c[1]
        node = N.AssignExpr(a.pos, a, span=self.span(c[2]))
        return Val(node, c[0].idx, c[2].idx, "int", False, a.pos)

    def r_rval_paren(self, c):
        return self.finish(c[1])

    def _fn1(self, c, cls) -> Val:
        inner: Val = c[2]
        p = self.pos(c[0])
        v = Val(cls(p, inner.node, span=inner.node.span), c[0].idx, c[3].idx, "int", inner.bad, inner.pos)
        if self.hooks is not None and not inner.bad:
            self.hooks.check_unary(self, v, c[0], inner)
        return v

    def r_rval_strlen(self, c):
        return self._fn1(c, N.StrLen)

    def r_rval_strempty(self, c):
        return self._fn1(c, N.StrEmpty)

    def r_rval_selval(self, c):
        p = self.pos(c[0])
        node = N.SelVal(p, c[2].node, c[4].node, c[6].node,
                        span=_join(c[2].node.span, _join(c[4].node.span, c[6].node.span)))
        # rve_guess_type(RVE_SELVALEXP_OP) is RV_NONE: a selval is untyped at parse time
        return Val(node, c[0].idx, c[7].idx, None, c[2].bad or c[4].bad or c[6].bad, p)

    # commands
    def r_fcmd(self, c):
        v: Val = c[0]
        if self.hooks is not None:
            self.hooks.fcmd(self, v)
        return v

    def _call_val(self, c, name: str, args: list, bare: bool = False) -> Val:
        kw = c[0]
        p = self.pos(kw)
        last = c[-1]
        node = N.Call(p, name, args, bare=bare, end_pos=self.pos(last))
        return Val(node, kw.idx, last.idx, "int", False, p)

    def _arg(self, x):
        """A core command argument as a node: literals for strings and numbers, names for the
        rest (identifiers, uri:host...); address texts (str) are converted by the caller."""
        if isinstance(x, Tok):
            if x.type == "STRING" or x.type == "NUMBER":
                return N.Literal(self.pos(x), x.value)
            return N.Name(self.pos(x), x.value if x.type == "ID" else x.text)
        if isinstance(x, Val):
            return x.node
        return x

    def r_cmd_core(self, c):
        kw = c[0]
        args = [self._arg(x) for x in c[2:-1] if not (isinstance(x, Tok) and x.type == "COMMA")]
        fixed = []
        for a in args:
            if isinstance(a, str):
                if kw.type == "FORCE_SEND_SOCKET":
                    fixed.append(N.SocketLiteral(self.pos(c[2] if isinstance(c[2], Tok) else kw), a))
                else:
                    fixed.append(N.Literal(self.pos(kw), a))
            else:
                fixed.append(a)
        v = self._call_val(c, kw.text, fixed)
        if self.hooks is not None:
            self.hooks.core_cmd(self, v, kw, c)
        return v

    def r_cmd_bare(self, c):
        kw = c[0]
        p = self.pos(kw)
        node = N.Call(p, kw.text, [], bare=True, end_pos=p)
        v = Val(node, kw.idx, kw.idx, "int", False, p)
        if self.hooks is not None:
            self.hooks.core_cmd(self, v, kw, c)
        return v

    def r_cmd_flag(self, c):
        kw = c[0]
        x = c[2]
        # a flag is a number or a flag name (an identifier or a string)
        arg = N.Literal(self.pos(x), x.value) if x.type == "NUMBER" else N.Name(self.pos(x), x.value)
        v = self._call_val(c, kw.text, [arg])
        if self.hooks is not None:
            self.hooks.flag_use(self, v, kw, x)
        return v

    def r_cmd_avpflag(self, c):
        kw = c[0]
        target = c[2]
        flag = c[4]
        v = self._call_val(c, kw.text, [target, N.Name(self.pos(flag), flag.value)])
        if self.hooks is not None:
            self.hooks.avpflag_use(self, v, kw, flag)
        return v

    def r_avpflag_oper(self, c):
        return c[0]

    def r_forward_kw(self, c):
        return c[0]

    def r_cmd_forward(self, c):
        kw = c[0]
        args = c[2]
        if not args and kw.type != "FORWARD":
            # cfg.y has `FORWARD LPAREN RPAREN` only
            self.error(f"syntax error: unexpected ')', {kw.text}() needs a destination", self.pos(c[3]),
                       c[3].idx - 0.5)
            raise Abort()
        v = self._call_val(c, kw.text, args)
        if self.hooks is not None:
            self.hooks.core_cmd(self, v, kw, c)
        return v

    def r_fwd_args(self, c):
        return [x for x in c if not (isinstance(x, Tok) and x.type == "COMMA")] and \
            [self._arg(x) for x in c if not (isinstance(x, Tok) and x.type == "COMMA")]

    def _txt_pos(self, x) -> Position:
        tok = getattr(x, "tok", None)
        return self.pos(tok) if tok is not None else Position(self.smap.origins[0].file if self.smap.origins
                                                              else "<config>", 1, 1)

    def r_fwd_host(self, c):
        return N.Name(self._txt_pos(c[0]), str(c[0]))

    def r_fwd_str(self, c):
        return N.Literal(self.pos(c[0]), c[0].value)

    def r_fwd_ip(self, c):
        return N.IPLiteral(self._txt_pos(c[0]), str(c[0]))

    def r_cmd_route(self, c):
        kw = c[0]
        x = c[2]
        if isinstance(x, Tok):  # ROUTE LPAREN ID RPAREN
            target = N.Name(self.pos(x), x.value)
        else:
            target = x.node
        p = self.pos(kw)
        node = N.RouteCall(p, target)
        v = Val(node, kw.idx, c[3].idx, "int", False, p)
        if self.hooks is not None:
            self.hooks.route_call(self, v, c)
        return v

    def r_cmd_module(self, c):
        name_tok = c[0]
        params = c[2]
        self.module_call_depth = max(0, self.module_call_depth - 1)
        p = self.pos(name_tok)
        node = N.Call(p, name_tok.value, [v.node for v in params], end_pos=self.pos(c[3]))
        v = Val(node, name_tok.idx, c[3].idx, "int", False, p)
        if self.hooks is not None:
            self.hooks.module_call(self, v, params, c[3])
        return v

    def r_func_params_empty(self, c):
        return []

    def r_func_params(self, c):
        return c[0]

    def r_func_param_list(self, c):
        if len(c) == 1:
            return [c[0]]
        c[0].append(c[2])
        return c[0]


class Txt(str):
    """Text of a host name / IP address / listen id, remembering its first token."""

    tok: Tok | None = None


def _txt(text: str, tok) -> Txt:
    t = Txt(text)
    t.tok = tok if isinstance(tok, Tok) else getattr(tok, "tok", None)
    return t


def _default_cb(children):
    return children[0] if len(children) == 1 else children


_SHIFT_HOOK = frozenset(["LBRACE", "RBRACE", "LPAREN"]) | frozenset(_ROUTE_KIND_OF_TOKEN)

_TOKEN_WORDS = {
    "SEMICOLON": "';'", "LPAREN": "'('", "RPAREN": "')'", "LBRACE": "'{'", "RBRACE": "'}'", "LBRACK": "'['",
    "RBRACK": "']'", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "DOT": "'.'", "ID": "a name",
    "STRING": "a string", "NUMBER": "a number", "PVAR": "a pseudo-variable", "SLASH": "'/'", "STAR": "'*'",
    "MINUS": "'-'", "PLUS": "'+'", "ELSE": "'else'", "CASE": "'case'", "DEFAULT": "'default'",
    "IPV6ADDR": "an IPv6 address", "EVENT_RT_NAME": "an event route name (module:event)",
}


def _describe(tok: Tok, shown: str) -> str:
    if tok.type == "STRING":
        return f"string {shown}"
    if tok.type == "NUMBER":
        return f"number {shown}"
    return repr(shown)


def _guess_binary_type(ttype: str, left_type):
    if ttype == "PLUS":
        return left_type
    return "int"


class _NotConst:
    def __repr__(self):
        return "<not constant>"


_NOT_CONST = _NotConst()


def _const_value(e: N.Expr):
    """The value of a constant expression (rve_is_constant + evaluation), or _NOT_CONST.
    Iterative (post-order), so that a very deep expression cannot exhaust the stack."""
    results: dict[int, object] = {}
    stack: list[tuple[N.Expr, bool]] = [(e, False)]
    while stack:
        x, done = stack.pop()
        if isinstance(x, N.Literal):
            results[id(x)] = x.value
            continue
        kids = [x.operand] if isinstance(x, (N.Cast, N.Unary)) else \
            [x.left, x.right] if isinstance(x, N.Binary) else None
        if kids is None:
            results[id(x)] = _NOT_CONST
            continue
        if not done:
            stack.append((x, True))
            stack.extend((k, False) for k in kids)
            continue
        vals = [results[id(k)] for k in kids]
        results[id(x)] = _NOT_CONST if any(v is _NOT_CONST for v in vals) else _fold(x, vals)
    return results[id(e)]


def _fold(e: N.Expr, vals: list):
    if isinstance(e, N.Cast):
        v = vals[0]
        if e.to == "str":
            return str(v)
        if isinstance(v, int):
            return v
        from .runtime.values import str2int  # local: only for exotic case labels
        r = str2int(v)
        return 0 if r is None else r
    if isinstance(e, N.Unary):
        v = vals[0]
        if not isinstance(v, int):
            return _NOT_CONST
        return {"-": -v, "!": int(not v), "~": ~v}[e.op]
    a, b = vals
    try:
        if e.op == "+":
            return a + b if isinstance(a, int) and isinstance(b, int) else f"{a}{b}"
        if isinstance(a, int) and isinstance(b, int):
            # C int arithmetic (x86: shift counts are masked to 5 bits)
            r = {"-": lambda: a - b, "*": lambda: a * b, "|": lambda: a | b, "&": lambda: a & b,
                 "^": lambda: a ^ b, "<<": lambda: a << (b & 31), ">>": lambda: a >> (b & 31),
                 "/": lambda: int(a / b), "mod": lambda: a - b * int(a / b)}.get(e.op, lambda: _NOT_CONST)()
            return r if r is _NOT_CONST else ((r + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    except (ZeroDivisionError, ValueError, OverflowError):
        return _NOT_CONST
    return _NOT_CONST


# =============================================================== public API
def parse_tokens(smap: SourceMap, lex: LexResult, hooks=None, start: str = "start"):
    """Run the parser; returns ``(value, parser)`` (value None after an error)."""
    p = Parser(smap, lex, hooks, start)
    return p.run(), p


def parse_source(smap: SourceMap, hooks=None) -> N.Config:
    """Parse preprocessed text; raises the first :class:`ParseError` (the AST-only entry point
    used by tools that do not run Kamailio's start-up checks)."""
    lex = tokenize(smap.text, COMPAT_MAX)
    value, p = parse_tokens(smap, lex, hooks)
    if p.diags:
        raise min(p.diags, key=lambda d: d.key).error
    return value


class FragmentResult:
    """What :func:`parse_fragment` found: ``value`` (a list of statements or an expression),
    or ``error`` with ``at_end`` true when more input could still make it valid."""

    __slots__ = ("value", "error", "at_end")

    def __init__(self, value=None, error=None, at_end=False):
        self.value = value
        self.error = error
        self.at_end = at_end


def parse_fragment(smap: SourceMap, start: str = "repl_actions", compat: str = COMPAT_MAX) -> FragmentResult:
    """Parse REPL input: ``start`` is ``repl_actions`` (statements) or ``repl_expr``."""
    lex = tokenize(smap.text, compat)
    value, p = parse_tokens(smap, lex, None, start)
    if not p.diags:
        return FragmentResult(value)
    d = min(p.diags, key=lambda d: d.key)
    at_end = d.key[0] >= len(lex.tokens) - 0.5 or lex.eof_reason is not None
    return FragmentResult(None, d.error, at_end)


def _main(argv: list[str]) -> int:  # pragma: no cover - build helper
    import argparse
    ap = argparse.ArgumentParser(prog="python3 -m kscript.parser")
    ap.add_argument("--build-tables", action="store_true",
                    help="regenerate grammar/kamailio.tables from grammar/kamailio.lark")
    args = ap.parse_args(argv)
    if args.build_tables:
        if os.environ.get("PYTHONHASHSEED") != "0":
            # Lark numbers states in set-iteration order: fix the hash seed so
            # that the generated file is byte-for-byte reproducible.
            env = dict(os.environ, PYTHONHASHSEED="0")
            import subprocess
            return subprocess.call([sys.executable, "-m", "kscript.parser", "--build-tables"], env=env)
        t = build_tables()
        target = os.path.join(_grammar_dir(), "kamailio.tables")
        write_tables(target, t)
        print(f"wrote {target} ({t['nstates']} states, {len(t['syms'])} symbols, {len(t['rules'])} rules)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
