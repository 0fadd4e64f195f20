"""Parse what a person types at the REPL: an expression or statements.

The input is preprocessed (defines of the loaded config work, ``#!define``
typed at the prompt persists), then parsed with the same Lark grammar as a
configuration, started at ``expr`` or at ``block`` (the text wrapped in
``{`` ... ``}``). Whether the input is complete is decided by the parser: an
error at the end of the input (Lark's ``$END``, or the closing brace kscript
added) means "continue on the next line", any other error is a syntax error
reported with a caret at its position.

>>> p = parse_input('$var(x) = 1')           # a missing final ';' is tolerated
>>> p.kind, type(p.stmts[0]).__name__
('stmts', 'Assign')
>>> input_status('if ($var(x) == 1) {'), input_status('1 + 2'), input_status('1 +* 2')
('incomplete', 'complete', 'error')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from .. import nodes as N
from ..errors import KscriptError, ParseError, Position, PreprocessorError
from ..preprocessor import Preprocessor
from ..source import LineOrigin, SourceMap

FILE = "<repl>"

#: words the expression grammar reads as names but a person means as statements
STATEMENT_WORDS = {"exit", "drop", "break", "return"}
#: statement keywords that can look like a function call to the expression grammar
KEYWORDS = {"if", "else", "while", "switch", "case", "default", "exit", "drop", "return", "break"}


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


@lru_cache(maxsize=1)
def get_lark() -> Lark:
    grammar = resources.files("kscript.grammar").joinpath("kamailio.lark").read_text()
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False, start=["block", "expr"], cache=_cache_path())


def _cache_path() -> str | bool:
    import tempfile
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        d = os.path.join(base, "kscript")
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, "repl-grammar.lark.cache")
    except OSError:
        return os.path.join(tempfile.gettempdir(), "kscript-repl-grammar.lark.cache")


class _ReplPreprocessor(Preprocessor):
    """Remembers whether the input ended inside a block comment or a string."""

    open_comment = False
    open_string = False

    def _expand_line(self, raw, file, lineno):  # noqa: D401 - hook
        out = super()._expand_line(raw, file, lineno)
        lex = getattr(self, "_lex", None)
        if lex is not None:
            self.open_comment = bool(getattr(lex, "comment_depth", 0))
            self.open_string = getattr(lex, "string", None) is not None
        return out


def preprocess(text: str, defines: dict | None = None) -> tuple[SourceMap, dict, bool]:
    """Preprocess REPL input; returns (source map, defines after it, ends-inside-comment-or-string).

    Raises :class:`Incomplete` for an unclosed ``#!ifdef``."""
    pp = _ReplPreprocessor(defines=dict(defines or {}))
    lines = text.split("\n")
    shifted = _shift_define_lines(lines, pp.defines)
    try:
        smap = pp.run_text("\n".join(shifted[0]) if shifted else text, FILE)
    except PreprocessorError as e:
        if "without matching #!endif" in e.message:
            raise Incomplete() from None
        if shifted:
            e.source_line = None
        raise
    if shifted:
        _unshift(smap, lines, shifted[1])
    return smap, pp.defines, pp.open_comment or pp.open_string


_LEAD_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFINE_DIRECTIVE = re.compile(r"(?m)^[ \t]*(?:#!|!!)(?:define|def|trydefine|trydef|redefine|redef|substdefs?|"
                               r"defenvs?|trydefenvs?)[ \t]+[\"/]?([A-Za-z_][A-Za-z0-9_]*)")


def _shift_define_lines(lines: list[str], defines: dict):
    """Lines starting with a define name get a leading space.

    kscript's preprocessor does not expand a define at column 1 (a config
    indents its statements, a person at a prompt does not); the space is taken
    back out of the positions by :func:`_unshift`."""
    names = set(defines) | set(_DEFINE_DIRECTIVE.findall("\n".join(lines)))
    out, moved = [], set()
    for i, line in enumerate(lines):
        m = _LEAD_ID.match(line)
        if m and m.group(0) in names:
            out.append(" " + line)
            moved.add(i)
        else:
            out.append(line)
    return (out, moved) if moved else None


def _unshift(smap: SourceMap, lines: list[str], moved: set[int]) -> None:
    smap.files[FILE] = lines
    for origin in smap.origins:
        if origin.file != FILE or origin.line - 1 not in moved:
            continue
        old = origin.colmap or []
        origin.colmap = [(1, 1)] + [(o, max(r - 1, 1)) for o, r in ([(2, 2)] + old)]


def _wrapped(smap: SourceMap) -> SourceMap:
    """``{`` + text + ``}`` with the positions of the text unchanged."""
    n = len(smap.origins)
    origins = [LineOrigin(FILE, 1)] + list(smap.origins) + [LineOrigin(FILE, max(n, 1))]
    return SourceMap("{\n" + smap.text + "}", origins, smap.files)


def _parse(text: str, start: str):
    return get_lark().parse(text, start=start)


def _at_end(e: UnexpectedInput, text: str, wrapped: bool) -> bool:
    """The error is at the end of the input (more input could make it valid)."""
    if isinstance(e, UnexpectedEOF):
        return True
    if isinstance(e, UnexpectedToken):
        if e.token.type == "$END":
            return True
        # the closing brace kscript added
        if wrapped and e.token.type == "RBRACE" and e.token.end_pos == len(text):
            return True
        return False
    if isinstance(e, UnexpectedCharacters):
        # an unterminated string runs to the end of the input
        ch = text[e.pos_in_stream:e.pos_in_stream + 1]
        if ch in ('"', "'") and ch not in text[e.pos_in_stream + 1:]:
            return True
    return False


def _err_offset(e: UnexpectedInput, text: str) -> int:
    if isinstance(e, UnexpectedToken) and e.token.type != "$END":
        return e.token.start_pos or 0
    p = getattr(e, "pos_in_stream", None)
    return p if p is not None else len(text)


def _syntax_error(e: UnexpectedInput, smap: SourceMap, text: str, wrapped: bool) -> ParseError:
    from ..parser import _expected  # the "expecting ..." wording of `kscript check`
    line = getattr(e, "line", None) or 1
    col = getattr(e, "column", None) or 1
    if isinstance(e, UnexpectedToken) and e.token.type not in ("$END",):
        tok = str(e.token)
        if wrapped and e.token.type == "RBRACE" and e.token.end_pos == len(text):
            msg = "syntax error: unexpected end of input" + _expected(e)
        else:
            shown = tok if len(tok) <= 40 else tok[:37] + "..."
            msg = f"syntax error: unexpected {shown!r}" + _expected(e)
    elif isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else "?"
        msg = f"syntax error: unexpected character {ch!r}"
    else:
        msg = "syntax error: unexpected end of input" + (_expected(e) if isinstance(e, UnexpectedToken) else "")
    if isinstance(e, (UnexpectedEOF,)) or (isinstance(e, UnexpectedToken) and e.token.type == "$END") or \
            (wrapped and isinstance(e, UnexpectedToken) and e.token.type == "RBRACE" and e.token.end_pos == len(text)):
        # point just after the last character typed
        lines = smap.text.split("\n")
        # in the wrapped text the user's lines are 2..n+1
        body = lines[1:-1] if wrapped else lines
        ln = len(body)
        while ln > 1 and not body[ln - 1].strip():
            ln -= 1
        line = ln + (1 if wrapped else 0)
        col = len(body[ln - 1].rstrip()) + 1 if body else 1
    pos = smap.position(line, col)
    return ParseError(msg, pos, source_line=smap.source_line(pos))


def _to_ast(tree, smap: SourceMap):
    from ..parser import ToAst
    try:
        return ToAst(smap).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, KscriptError):
            raise e.orig_exc from None
        raise


def parse_input(text: str, defines: dict | None = None) -> Parsed:
    """Parse one REPL input. Raises :class:`Incomplete` when more lines are needed,
    :class:`~kscript.errors.KscriptError` (with position and caret) for an error."""
    smap, new_defines, open_lexeme = preprocess(text, defines)
    body = smap.text
    if not body.strip():
        if open_lexeme:
            raise Incomplete()
        return Parsed("empty", text, smap, defines=new_defines)
    if open_lexeme:
        raise Incomplete()
    errors: list[tuple[UnexpectedInput, SourceMap, str, bool]] = []
    # 1. an expression
    expr = None
    try:
        tree = _parse(body, "expr")
        expr = _to_ast(tree, smap)
    except UnexpectedInput as e:
        errors.append((e, smap, body, False))
    if expr is not None:
        if isinstance(expr, N.Call) and expr.name in KEYWORDS:
            expr = None  # `if (...)`, `while (...)` read as a call by the expression grammar
        elif not (isinstance(expr, N.Name) and _statement_word(expr.name)):
            return Parsed("expr", text, smap, expr=expr, defines=new_defines)
    # 2. statements (a missing final ';' is tolerated)
    wsmap = _wrapped(smap)
    for extra in ("", ";"):
        wtext = "{\n" + body.rstrip() + extra + "\n}"
        try:
            tree = _parse(wtext, "block")
        except UnexpectedInput as e:
            if not extra:
                errors.append((e, wsmap, wtext, True))
            continue
        block = _to_ast(tree, wsmap)
        if extra and _added_empty_statement(block, text):
            # `while (c)` + ';' is a loop with an empty body: not what was meant
            errors.append((_EndOfInput(), wsmap, wtext, True))
            break
        return Parsed("stmts", text, smap, stmts=list(block.body), defines=new_defines)
    if expr is not None:  # e.g. a lone name that is no statement either
        return Parsed("expr", text, smap, expr=expr, defines=new_defines)
    if any(_at_end(e, t, w) for e, _s, t, w in errors):
        raise Incomplete()
    # report the error found furthest into the input
    def reach(item):
        e, _s, t, w = item
        off = _err_offset(e, t)
        return off - (2 if w else 0)
    e, s, t, w = max(errors, key=reach)
    raise _syntax_error(e, s, t, w)


class _EndOfInput(UnexpectedEOF):
    def __init__(self):  # noqa: D107 - no Lark state needed
        pass


def _added_empty_statement(block: N.Block, text: str) -> bool:
    """Whether the ';' the REPL added became an empty statement (``if (c);``)."""
    lines = text.rstrip().split("\n")
    last_line, last_len = len(lines), len(lines[-1].rstrip())
    for node in block.walk():
        if isinstance(node, N.Empty) and node.pos.line == last_line and node.pos.column > last_len:
            return True
    return False


def _statement_word(name: str) -> bool:
    if name in STATEMENT_WORDS:
        return True
    from ..catalogue import load as load_catalogue
    core = load_catalogue().core_function(name)
    return bool(core and core.get("bare"))


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


def force_error(text: str, defines: dict | None = None) -> KscriptError:
    """The error to show for input submitted while incomplete (Esc-Enter, end of input)."""
    smap, _d, _open = preprocess_safe(text, defines)
    lines = text.rstrip().split("\n")
    pos = Position(FILE, len(lines), len(lines[-1]) + 1 if lines else 1)
    return ParseError("syntax error: unexpected end of input", pos, source_line=lines[-1] if lines else "")


def preprocess_safe(text, defines):
    try:
        return preprocess(text, defines)
    except (Incomplete, KscriptError):
        return SourceMap(text, [], {FILE: text.split("\n")}), dict(defines or {}), False
