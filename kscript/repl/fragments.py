"""Parse what a person types at the REPL: an expression or statements.

The input is preprocessed (the defines of the loaded config work, a
``#!define`` typed at the prompt persists), then parsed by kscript's parser
(:func:`kscript.parser.parse_fragment`, the grammar's ``repl_expr`` and
``repl_actions`` entry points): first as one expression, then as statements
(a missing final ``;`` is added). Whether the input is complete is decided by
the parser: an error at the end of the input ("unexpected end of file") means
"continue on the next line"; any other error is a syntax error reported with
a caret at its position.

>>> p = parse_input('$var(x) = 1')           # a missing final ';' is tolerated
>>> p.kind, type(p.stmts[0]).__name__
('stmts', 'Assign')
>>> input_status('if ($var(x) == 1) {'), input_status('1 + 2'), input_status('1 +* 2')
('incomplete', 'complete', 'error')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import nodes as N
from ..errors import KscriptError, Position, PreprocessorError
from ..preprocessor import Preprocessor
from ..source import SourceMap

FILE = "<repl>"

#: statement keywords the expression grammar might read as a name or a call
KEYWORDS = {"if", "else", "while", "switch", "case", "default", "exit", "drop", "return", "break"}

#: core keywords typed alone (``method``) are shown as the PV holding the same value
KEYWORD_PVS = {"method": "$rm", "uri": "$ru", "status": "$rs", "from_uri": "$fu", "to_uri": "$tu",
               "src_ip": "$si", "dst_ip": "$Ri", "src_port": "$sp", "dst_port": "$Rp", "proto": "$pr"}


class Incomplete(Exception):
    """The input is a prefix of valid input: read another line."""


@dataclass
class Parsed:
    """One REPL input, parsed. ``kind``: "expr", "stmts" or "empty"."""

    kind: str
    text: str
    smap: SourceMap
    expr: N.Expr | None = None
    stmts: list[N.Stmt] = field(default_factory=list)
    defines: dict = field(default_factory=dict)  # the defines after this input


def preprocess(text: str, defines: dict | None = None) -> tuple[SourceMap, dict]:
    """Preprocess REPL input; returns (source map, the defines after it).

    Raises :class:`Incomplete` for an unclosed ``#!ifdef``, the preprocessor's error otherwise."""
    pp = Preprocessor(defines=dict(defines or {}))
    try:
        smap = pp.run_text(text if text.endswith("\n") else text + "\n", FILE)
    except PreprocessorError as e:
        if "without matching #!endif" in e.message or "without a matching #!endif" in e.message:
            raise Incomplete() from None
        raise
    if getattr(smap, "open_ifdef", None) is not None or getattr(pp, "_if_stack", None):
        raise Incomplete()  # an #!ifdef waiting for its #!endif
    for ev in getattr(smap, "events", None) or ():
        if getattr(ev, "at_end", False):
            raise Incomplete()
        if not getattr(ev, "warning", False):
            raise ev.error
    return smap, pp.defines


def _with_semicolon(smap: SourceMap, last_tok) -> SourceMap:
    """The same source with ';' right after the last token (before a trailing comment)."""
    lines = smap.text.split("\n")
    i = last_tok.end_line - 1
    line = lines[i]
    lines[i] = line[:last_tok.end_col] + ";" + line[last_tok.end_col:]
    out = SourceMap("\n".join(lines), smap.origins, smap.files)
    return out


def _added_empty_statement(stmts: list[N.Stmt], tok) -> bool:
    """Whether the ';' the REPL added became an empty statement (``while (c);``)."""
    for st in stmts:
        for node in st.walk():
            if isinstance(node, N.Empty) and (node.pos.line, node.pos.column) >= (tok.end_line, tok.end_col + 1):
                return True
    return False


def _fill(e: KscriptError, smap: SourceMap) -> KscriptError:
    if e.pos is not None and e.source_line is None:
        e.source_line = smap.source_line(e.pos)
    return e


def parse_input(text: str, defines: dict | None = None) -> Parsed:
    """Parse one REPL input. Raises :class:`Incomplete` when more lines are needed,
    :class:`~kscript.errors.KscriptError` (with position and caret) for an error."""
    from ..lexer import tokenize
    from ..parser import parse_fragment

    smap, new_defines = preprocess(text, defines)
    stripped = text.strip()
    if stripped in KEYWORD_PVS:
        col = text.index(stripped) + 1
        return Parsed("expr", text, smap, expr=N.PVRef(Position(FILE, 1, col), KEYWORD_PVS[stripped]),
                      defines=new_defines)
    lex = tokenize(smap.text)
    if lex.eof_reason or lex.eof_note:  # inside a string, a PV or a /* comment */
        raise Incomplete()
    if not lex.tokens:
        return Parsed("empty", text, smap, defines=new_defines)
    # 1. one expression
    r = parse_fragment(smap, "repl_expr")
    if r.error is None:
        e = r.value
        if not ((isinstance(e, N.Call) and e.name in KEYWORDS) or (isinstance(e, N.Name) and e.name in KEYWORDS)):
            return Parsed("expr", text, smap, expr=e, defines=new_defines)
    # 2. statements
    a = parse_fragment(smap, "repl_actions")
    if a.error is None:
        return Parsed("stmts", text, smap, stmts=list(a.value), defines=new_defines)
    if a.at_end:
        last = lex.tokens[-1]
        smap2 = _with_semicolon(smap, last)
        b = parse_fragment(smap2, "repl_actions")
        if b.error is None and not _added_empty_statement(b.value, last):
            return Parsed("stmts", text, smap, stmts=list(b.value), defines=new_defines)
    if a.at_end or (r.error is not None and r.at_end):
        raise Incomplete()
    errors = [x for x in (r.error, a.error) if x is not None]

    def where(e):
        return (e.pos.line, e.pos.column) if e.pos is not None else (0, 0)

    raise _fill(max(errors, key=where), smap)


def input_status(text: str, defines: dict | None = None) -> str:
    """"complete", "incomplete", "error" or "empty" (meta-commands are complete)."""
    if not text.strip():
        return "empty"
    if text.lstrip().startswith(":"):
        return "complete"
    try:
        p = parse_input(text, defines)
    except Incomplete:
        return "incomplete"
    except KscriptError:
        return "error"
    return "empty" if p.kind == "empty" else "complete"
