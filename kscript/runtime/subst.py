"""Kamailio's sed-like substitutions (``/re/repl/flags``, core/re.c@5.6.3) and the
regex flavour most modules compile their patterns with (``REG_EXTENDED |
REG_ICASE | REG_NEWLINE``, core/mod_fix.c ``fixup_regexp_null``).

Substitution syntax: the first character is the separator; the regex runs to the
next separator not preceded by a backslash; the replacement may hold ``\\0``..``\\9``
(match groups), ``\\n \\r \\t \\\\ \\$``, ``\\u`` (the request URI) and PVs (``$rU``,
evaluated when applied; a null PV gives ``<null>``); flags ``i`` (ignore case),
``g`` (all matches), ``s`` (``.`` matches newlines, ``^``/``$`` only at the ends).
Without ``s``, POSIX ``REG_NEWLINE`` applies: ``.`` and ``[^...]`` do not match a
newline and ``^``/``$`` match at line boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import ConfigError, Position
from .regex import posix_to_python

__all__ = ["compile_re", "SubstExpr", "SubstError", "parse_subst"]


class SubstError(Exception):
    """A substitution failed while running (empty match...)."""


def _newline_brackets(py: str) -> str:
    """Make negated bracket expressions exclude newline (REG_NEWLINE)."""
    out = []
    i = 0
    n = len(py)
    in_bracket = False
    while i < n:
        c = py[i]
        if c == "\\" and i + 1 < n:
            out.append(py[i:i + 2])
            i += 2
            continue
        if not in_bracket and c == "[":
            in_bracket = True
            if py.startswith("[^", i):
                out.append("[^\\n")
                i += 2
                continue
            out.append(c)
            i += 1
            continue
        if in_bracket and c == "]":
            in_bracket = False
        out.append(c)
        i += 1
    return "".join(out)


@lru_cache(maxsize=2048)
def _compile(pattern: str, icase: bool, newline: bool):
    py = posix_to_python(pattern)
    flags = re.I if icase else 0
    if newline:
        py = _newline_brackets(py)
        flags |= re.M
    else:
        flags |= re.S
    return re.compile(py, flags)


def compile_re(pattern: str, icase: bool = True, newline: bool = True, pos: Position | None = None):
    """Compile a POSIX ERE like ``regcomp`` with REG_ICASE (``icase``) and REG_NEWLINE
    (``newline``); raises ConfigError for a bad pattern."""
    try:
        return _compile(pattern, icase, newline)
    except re.error as e:
        raise ConfigError(f"bad regular expression \"{pattern}\": {e}", pos) from None


@dataclass
class SubstExpr:
    """A compiled substitution."""

    text: str
    regex: Any
    parts: list = field(default_factory=list)  # str | ("group", n) | ("uri",) | CompiledPV
    replace_all: bool = False

    def _replacement(self, ctx, m: re.Match) -> str:
        out = []
        for p in self.parts:
            if type(p) is str:
                out.append(p)
            elif type(p) is tuple:
                if p[0] == "group":
                    n = p[1]
                    if n <= (self.regex.groups or 0):
                        g = m.group(n)
                        if g is not None:
                            out.append(g)
                elif p[0] == "uri":
                    msg = ctx.msg if ctx is not None else None
                    if msg is None or not msg.is_request:
                        if ctx is not None:
                            ctx.log("CRIT", "uri substitution on a reply", source="core")
                        continue
                    out.append(ctx.ruri)
            else:  # a PV
                from ..pv.base import PVFailed
                try:
                    v = p.get(ctx)
                except PVFailed:
                    if ctx is not None:
                        ctx.log("ERR", "item substitution returned error", source="core")
                    continue
                out.append("<null>" if v is None else str(v))
        return "".join(out)

    def run(self, ctx, text: str) -> list[tuple[int, int, str]]:
        """``subst_run``: [(offset, size, replacement)] for the match(es) in ``text``;
        raises SubstError on an empty match (Kamailio logs and fails)."""
        out = []
        pos = 0
        rx = self.regex
        n = len(text)
        while pos <= n:
            m = rx.search(text, pos)
            if m is None:
                break
            if m.start() == m.end():
                raise SubstError("Matched string is empty, invalid regexp?")
            out.append((m.start(), m.end() - m.start(), self._replacement(ctx, m)))
            pos = m.end()
            if not self.replace_all:
                break
        return out

    def apply(self, ctx, text: str) -> str | None:
        """``subst_str``: the substituted string, or None when nothing matched."""
        lst = self.run(ctx, text)
        if not lst:
            return None
        out = []
        p = 0
        for off, size, rpl in lst:
            out.append(text[p:off])
            out.append(rpl)
            p = off + size
        out.append(text[p:])
        return "".join(out)


def parse_subst(text: str, compiler=None, pos: Position | None = None) -> SubstExpr:
    """``subst_parser``: compile ``/re/repl/flags``; ConfigError when invalid.  PVs in
    the replacement are compiled with ``compiler`` (a resolver; None = no PVs)."""
    if len(text) < 3:
        raise ConfigError(f"subst: expression is too short: {text}", pos)
    sep = text[0]
    if sep == "\\":
        raise ConfigError(f"subst: invalid separator char <{sep}> in {text}", pos)
    i = 1
    n = len(text)
    while i < n:
        if text[i] == sep and text[i - 1] != "\\":
            break
        i += 1
    else:
        raise ConfigError(f"subst: no separator found: {text}", pos)
    re_text = text[1:i]
    if n < i + 2:
        raise ConfigError(f"subst: string too short: {text}", pos)
    # replacement
    parts: list = []
    buf: list[str] = []
    j = i + 1
    found = False
    while j < n:
        c = text[j]
        if c == "\\" and j + 1 < n:
            e = text[j + 1]
            j += 2
            if e == "\\":
                buf.append("\\")
            elif e == "n":
                buf.append("\n")
            elif e == "r":
                buf.append("\r")
            elif e == "t":
                buf.append("\t")
            elif e == "$":
                buf.append("$")
            elif e == "u":
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(("uri",))
            elif e.isdigit():
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(("group", int(e)))
            else:
                buf.append(e)
            continue
        if c == "$":
            from ..pv.spec import PVSyntaxError, scan_pv
            try:
                spec, end = scan_pv(text, j)
            except PVSyntaxError as ex:
                raise ConfigError(f"subst: bad specifier in replace part {text[i:]}: {ex}", pos) from None
            if compiler is None:
                raise ConfigError(f"subst: PVs not allowed here: {text}", pos)
            from ..pv.base import compile_spec
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(compile_spec(spec, compiler, pos))
            j = end
            continue
        if c == sep:
            found = True
            break
        buf.append(c)
        j += 1
    if not found:
        raise ConfigError(f"subst: missing separator: {text[i:]}", pos)
    if buf:
        parts.append("".join(buf))
    icase = False
    newline = True
    replace_all = False
    for f in text[j + 1:]:
        if f == "i":
            icase = True
        elif f == "s":
            newline = False
        elif f == "g":
            replace_all = True
        else:
            raise ConfigError(f"subst: unknown flag {f} in {text}", pos)
    max_group = max((p[1] for p in parts if type(p) is tuple and p[0] == "group"), default=0)
    rx = compile_re(re_text, icase=icase, newline=newline, pos=pos)
    if max_group > rx.groups:
        # Kamailio accepts it; the missing groups are replaced by nothing
        pass
    return SubstExpr(text, rx, parts, replace_all)
