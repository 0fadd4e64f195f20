"""Kamailio's generic ``name[=value]`` parameter-list parser (core/parser/parse_param.c@5.6.3).

Used for URI parameters (``{uri.param,name}``), Contact and Route parameters.  Rules:
a name runs up to blank, ``,``, ``=`` or the separator; a value is a token (up to blank,
``,`` or the separator) or a ``"..."`` / ``'...'`` quoted string (returned without the
quotes, no escapes); ``name=`` at the very end has the empty value; parsing stops
(successfully) at a ``,`` or ``>`` after a parameter; anything else after a value, an
empty unquoted value before more text (``a=;b``), an unterminated quote or a trailing
separator (``a;``) is an error.

Kamailio builds the list in reverse order, so a lookup by name finds the *last*
occurrence; :func:`lookup` does the same.  The list returned here is in text order.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Param", "ParamsError", "parse_params", "lookup"]

_WS = " \t\r\n"


class ParamsError(ValueError):
    """The parameter list is malformed (Kamailio's parse_params() returns an error)."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    #: the value; ``None`` when there is no ``=``; quotes removed for quoted values
    value: str | None
    #: whether the value was quoted
    quoted: bool = False


def parse_params(text: str, sep: str = ";", start: int = 0, end: int | None = None) -> tuple[list[Param], int]:
    """Parse ``text[start:end]``; return (params, index where parsing stopped).

    The stop index points at the ``,`` or ``>`` that ended the list, or at ``end``.
    """
    if end is None:
        end = len(text)
    out: list[Param] = []
    i = start
    if i >= end:
        return out, i
    stops = " \t\r\n,=" + sep
    while True:
        # name
        n0 = i
        while i < end and text[i] not in stops:
            i += 1
        name = text[n0:i]
        while i < end and text[i] in _WS:
            i += 1
        if i >= end:
            out.append(Param(name, None))
            return out, i
        value = None
        quoted = False
        if text[i] == "=":
            i += 1
            while i < end and text[i] in _WS:
                i += 1
            if i >= end:
                out.append(Param(name, ""))
                return out, i
            c = text[i]
            if c == '"' or c == "'":
                if end - i < 2:
                    raise ParamsError("error while parsing quoted string")
                close = text.find(c, i + 1, end)
                if close < 0:
                    raise ParamsError("error while parsing quoted string")
                value = text[i + 1:close]
                quoted = True
                i = close + 1
            else:
                v0 = i
                tstops = " \t\r\n," + sep
                while i < end and text[i] not in tstops:
                    i += 1
                if i == v0:
                    raise ParamsError("error while parsing token")
                value = text[v0:i]
            while i < end and text[i] in _WS:
                i += 1
            if i >= end:
                out.append(Param(name, value, quoted))
                return out, i
        out.append(Param(name, value, quoted))
        c = text[i]
        if c == "," or c == ">":
            return out, i
        if c != sep:
            raise ParamsError(f"invalid character {c!r} - expected {sep!r}")
        i += 1
        while i < end and text[i] in _WS:
            i += 1
        if i >= end:
            raise ParamsError(f"param name missing after {sep!r}")


def lookup(params: list[Param], name: str) -> Param | None:
    """The last parameter called ``name`` (case-insensitive), like Kamailio's list walk."""
    lname = name.lower()
    for p in reversed(params):
        if len(p.name) == len(name) and p.name.lower() == lname:
            return p
    return None
