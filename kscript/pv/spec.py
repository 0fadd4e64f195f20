"""Split a PV token into class, inner name, index and transformations.

Mirrors the shape rules of Kamailio's ``pv_parse_spec2`` (core/pvapi.c@5.6.3):
``$name``, ``$name(inner)``, ``$(name)``, ``$(name(inner)[idx]{tr}...)``. The
class-specific meaning of the inner name (``$xavp(a[0]=>b)``, ``$redis(r=>value)``)
is the business of the class that owns it; transformation text is kept raw
here and parsed by :mod:`kscript.pv.transformations.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.?")


class PVSyntaxError(ValueError):
    """The PV text is malformed; ``offset`` is where, relative to the text."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


@dataclass(slots=True)
class PVSpec:
    text: str
    cls: str
    inner: str | None = None
    index: str | None = None  # raw text inside [ ] (int, "*", "+", or a PV)
    transforms: list[str] = field(default_factory=list)  # raw texts inside { }


def _balanced(text: str, i: int, open_c: str, close_c: str) -> int:
    """Index of the character closing the bracket opened at ``text[i]``."""
    depth = 0
    n = len(text)
    j = i
    while j < n:
        c = text[j]
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise PVSyntaxError(f"missing '{close_c}'", i)


def scan_pv(text: str, start: int = 0) -> tuple[PVSpec, int]:
    """Parse one PV at ``text[start] == '$'``; return the spec and the end index.

    Used both for whole PV tokens from the cfg and for PVs inside format strings.
    """
    if text[start:start + 1] != "$":
        raise PVSyntaxError("a PV starts with '$'", 0)
    i = start + 1
    n = len(text)
    if i < n and text[i] == "(":
        # bracketed form
        j = i + 1
        k = j
        while k < n and text[k] in _NAME_CHARS:
            k += 1
        cls = text[j:k]
        if not cls:
            raise PVSyntaxError("missing PV class name", k - start)
        inner = None
        index = None
        trs: list[str] = []
        if k < n and text[k] == "(":
            e = _balanced(text, k, "(", ")")
            inner = text[k + 1:e]
            k = e + 1
        if k < n and text[k] == "[":
            e = _balanced(text, k, "[", "]")
            index = text[k + 1:e].strip()
            k = e + 1
        while k < n:
            while k < n and text[k] in " \t":
                k += 1
            if k < n and text[k] == "{":
                e = _balanced(text, k, "{", "}")
                trs.append(text[k + 1:e])
                k = e + 1
                continue
            break
        if k >= n or text[k] != ")":
            raise PVSyntaxError("bad PV: expected ')'", k - start)
        k += 1
        spec = PVSpec(text[start:k], cls, inner, index, trs)
        if inner is not None and inner == "":
            raise PVSyntaxError("empty PV inner name '()'", k - start)
        return spec, k
    k = i
    while k < n and text[k] in _NAME_CHARS:
        k += 1
    cls = text[i:k]
    if not cls:
        raise PVSyntaxError("missing PV name after '$'", 1)
    inner = None
    if k < n and text[k] == "(":
        e = _balanced(text, k, "(", ")")
        inner = text[k + 1:e]
        if inner == "":
            raise PVSyntaxError("empty PV inner name '()'", k - start)
        k = e + 1
    return PVSpec(text[start:k], cls, inner), k


def parse_pv(text: str) -> PVSpec:
    """Parse a whole PV token (the lexer already delimited it)."""
    spec, end = scan_pv(text, 0)
    if end != len(text):
        raise PVSyntaxError(f"unexpected text after PV: {text[end:]!r}", end)
    return spec
