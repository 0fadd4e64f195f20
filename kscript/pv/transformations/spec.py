"""Parsing the text of transformations: the ``{class.name,p1,p2}`` chain of ``$(pv{...}{...})``.

This follows Kamailio 5.6.3 exactly (re-implemented, not translated):

* the extent of the chain is found like ``pv_parse_spec2`` (core/pvapi.c@5.6.3:1053-1100)
  does it: braces are counted, and after a closing ``}`` at depth 0 only blanks and tabs may
  come before the next ``{`` -- otherwise the chain ends at that ``}``;
* the chain itself is split like ``tr_lookup`` (core/pvapi.c@5.6.3:1740-1811): blanks, tabs
  and newlines may separate ``}`` and ``{``; the class is the text up to the first ``.``
  (case-sensitive, exact); the name is the text up to the first ``,`` or ``}``, trimmed, and
  compared case-insensitively (``{s.LEN}`` works, ``{S.len}`` does not);
* parameters are parsed like the macros ``_tr_parse_nparam`` / ``_tr_parse_sparamx``
  (pv/pv_trans.c@5.6.3:2644-2768) and the per-class ``tr_parse_*`` functions:

  - integer (``"int"`` kind): leading blanks/tabs/newlines skipped; ``$...`` is a PV;
    otherwise an optional sign, blanks, then decimal digits (none at all means 0, ``-``
    alone is 0); anything else is an error;
  - string (``"str"`` kind): leading blanks skipped; ``$...`` is a PV; otherwise the literal
    text up to the next ``,``, ``}``, tab or newline -- quotes are ordinary characters,
    inner and trailing spaces are kept, the literal may be empty;
  - ``"char"`` kind (``s.count``, ``s.before`` ...): like a string, but when the text stops at
    a ``,`` that comma is *included* (so ``{s.count,,}`` counts commas); only the first
    character is used;
  - ``s.select``'s separator is the single character after the comma, whatever it is
    (``,``, space, ``}``...), or one of the escapes ``\\n \\r \\t \\\\``;
  - ``param.*``'s optional separator must be exactly one character (``param.count`` also
    accepts a PV there, or a ``,``).

A PV parameter is delimited here (with the same state machine as ``pv_parse_spec2``, but
without knowing which PV classes exist) and its text handed to the ``parse_pv`` callback;
whatever that returns is stored in a :class:`PvParam`.

Anything Kamailio refuses at start-up raises :class:`kscript.errors.ConfigError`.  A
transformation that Kamailio 5.6.3 has but kscript does not implement (the ``urialias``
class, or a class from a module such as textops' ``re.subst``) raises
:class:`kscript.errors.NotSupportedError`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

from kscript.errors import ConfigError, NotSupportedError

from . import REGISTRY, TransformDef, TransformFailed, Value

# --------------------------------------------------------------------------- catalogue
#: Every transformation Kamailio 5.6.3's pv module knows, per class (pv/pv_trans.c@5.6.3:2770-3904).
KAMAILIO_TRANSFORMATIONS: dict[str, frozenset[str]] = {
    "s": frozenset(
        """len int md5 rmws sha256 sha384 sha512 tolower toupper numeric encode.hexa decode.hexa
        encode.7bit decode.7bit encode.base58 decode.base58 encode.base64 decode.base64
        encode.base64t decode.base64t encode.base64url decode.base64url encode.base64urlt
        decode.base64urlt escape.common unescape.common escape.user unescape.user escape.param
        unescape.param escape.csv prefixes prefixes.quoted substr select strip striptail stripto
        ftime replace corehash trim rtrim ltrim rm urlencode.param urldecode.param unquote
        unbracket count before after rbefore rafter fmtlines fmtlinet""".split()
    ),
    "uri": frozenset(
        """user host domain passwd port saor suri duri params headers param transport ttl uparam
        maddr method lr r2 scheme tosocket""".split()
    ),
    "param": frozenset("value in valueat name count".split()),
    "nameaddr": frozenset("uri len name".split()),
    "tobody": frozenset("uri tag user host params display".split()),
    "line": frozenset("at sw count".split()),
    "urialias": frozenset("encode decode".split()),
}

#: Transformation classes exported by other Kamailio 5.6.3 modules (usable only with that module loaded).
MODULE_CLASSES: dict[str, str] = {
    "re": "textops",
    "sql": "sqlops",
    "json": "json",
    "url": "xhttp",
    "sock": "corex",
    "kz": "kazoo",
    "msrpuri": "msrp",
}

# parse styles of one parameter (see module docstring)
_N = "int"  # _tr_parse_nparam
_S = "str"  # _tr_parse_sparam
_C = "char"  # _tr_parse_sparamx(..., 1)
_SEL = "select-sep"  # s.select's separator
_PSEP = "param-sep"  # param.value/in/valueat/name optional separator: exactly one literal char
_PCNT = "param-count-sep"  # param.count optional separator: sparamx + one char unless a PV

#: parse styles that differ from what the registry's kinds imply
_STYLE_OVERRIDES: dict[str, tuple[str, ...]] = {
    "s.select": (_N, _SEL),
    "param.value": (_S, _PSEP),
    "param.in": (_S, _PSEP),
    "param.valueat": (_N, _PSEP),
    "param.name": (_N, _PSEP),
    "param.count": (_PCNT,),
}

_KIND_STYLE = {"int": _N, "str": _S, "char": _C}

#: literal integer parameters that Kamailio rejects at start-up when negative: name -> param indexes
_NO_NEGATIVE_LITERAL = {
    "s.substr": (1,),
    "s.fmtlines": (0, 1),
    "s.fmtlinet": (0, 1),
}

_BLANKS = " \t\n"
_PV_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.?")
_TRIM = " \t\r\n"


def _load_all() -> None:
    """Import every sibling module so that all transformations are registered."""
    pkg = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name != "spec" and not info.name.startswith("_"):
            importlib.import_module(f"{__package__}.{info.name}")


_loaded = False


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        _load_all()


# --------------------------------------------------------------------------- parameter values
class StrParam(str):
    """A literal string parameter.

    ``next_char`` is the source character right after it (``,`` or ``}`` usually): Kamailio
    reads ``param[0]`` even when the literal is empty, and then sees that character.
    """

    next_char: str

    def __new__(cls, text: str, next_char: str = ""):
        obj = super().__new__(cls, text)
        obj.next_char = next_char
        return obj

    def first(self) -> str:
        return self[0] if self else self.next_char


@dataclass(frozen=True, slots=True)
class PvParam:
    """A parameter given as a pseudo-variable; ``pv`` is what ``parse_pv(text)`` returned."""

    text: str
    pv: Any


Param = int | StrParam | PvParam


@dataclass(frozen=True, slots=True)
class TransformCall:
    """One parsed transformation of a chain.

    ``name`` is canonical (``"s.substr"``, lower case), ``params`` the parsed parameters
    (``int``, :class:`StrParam`, or :class:`PvParam`), ``defn`` the registry entry, ``text``
    the source text from ``{`` to ``}``.
    """

    name: str
    params: tuple[Param, ...]
    defn: TransformDef
    text: str = ""
    styles: tuple[str, ...] = ()

    def apply(self, value: Value, eval_param: Callable[[Any], Value]) -> Value:
        """Apply to ``value``; ``eval_param(pv)`` reads a :class:`PvParam`'s stored ``pv``.

        Raises :class:`TransformFailed` when Kamailio's transformation would fail (including
        a PV parameter of the wrong type: an integer parameter needs an int-typed value, a
        string parameter a non-null, non-empty one -- an int counts as its decimal string).
        ``eval_param`` may itself raise TransformFailed when reading the PV fails.
        Parameters are evaluated before the input is checked, as in Kamailio, but every
        failure is the same failure.
        """
        args: list[Any] = []
        for i, p in enumerate(self.params):
            if isinstance(p, PvParam):
                v = eval_param(p.pv)
                style = self.styles[i] if i < len(self.styles) else _S
                if style == _N:
                    # pv_get_spec_value() and PV_VAL_INT required
                    if not isinstance(v, int) or isinstance(v, bool):
                        raise TransformFailed(f"{self.name}: parameter {p.text} is not an integer")
                    args.append(v)
                else:
                    # PV_VAL_STR and length > 0 required (an int carries its decimal string)
                    if v is None:
                        raise TransformFailed(f"{self.name}: parameter {p.text} is null")
                    s = str(v) if isinstance(v, int) else v
                    if s == "":
                        raise TransformFailed(f"{self.name}: parameter {p.text} is empty")
                    args.append(s)
            else:
                args.append(p)
        return self.defn.fn(value, *args)

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------- parsing
class _Src:
    """The text being parsed with Kamailio's bounds: ``end`` is one past the last char of ``in``."""

    __slots__ = ("t", "end")

    def __init__(self, t: str, end: int):
        self.t = t
        self.end = end

    def at(self, i: int) -> str:
        """``*p`` -- the character at ``i`` ('\\0' past the whole text)."""
        return self.t[i] if 0 <= i < len(self.t) else "\0"

    def inside(self, i: int) -> bool:
        """``is_in_str(p, in)``."""
        return i < self.end and self.at(i) != "\0"


def _err(msg: str, text: str) -> ConfigError:
    return ConfigError(f"{msg} in transformation {text!r} (Kamailio refuses to start)")


def chain_extent(text: str, pos: int) -> int:
    """Index of the last character of the chain that starts with the ``{`` at ``pos``.

    Mirrors the brace scan of ``pv_parse_spec2`` (state 4): that is the ``}`` closing the
    chain, or the last blank after it when blanks are followed by something else than
    ``{``.  Raises ConfigError when the chain is not closed.
    """
    src = _Src(text, len(text))
    p = pos + 1
    n = 0
    while src.inside(p):
        if src.at(p) == "}":
            if n == 0:
                p += 1
                while src.inside(p) and src.at(p) in " \t":
                    p += 1
                if not src.inside(p) or src.at(p) != "{":
                    p -= 1
                    break
            n -= 1
        if src.at(p) == "{":
            n += 1
        p += 1
    if not src.inside(p):
        raise _err("unterminated transformation (missing '}')", text[pos:])
    return p


def pv_extent(text: str, pos: int, end: int | None = None) -> int:
    """One past the end of the PV that starts with the ``$`` at ``pos`` (raises ConfigError).

    Follows the state machine of ``pv_parse_spec2`` without knowing the PV classes:
    ``$name``, ``$name(inner)``, ``$(name)``, ``$(name(inner))``, ``$(name[idx])``,
    ``$(name{tr})`` and combinations, ``$$``.
    """
    src = _Src(text, len(text) if end is None else end)
    p = pos + 1
    bracketed = False
    if src.at(p) == "(":
        p += 1
        bracketed = True
    if src.at(p) == "$":
        p += 1
        if bracketed:
            if src.at(p) != ")":
                raise _err("invalid PV", text[pos:src.end])
            p += 1
        return p
    while src.inside(p) and src.at(p) in _PV_NAME_CHARS:
        p += 1
    if not bracketed:
        if src.inside(p) and src.at(p) == "(":
            q = _balanced(src, p + 1, "(", ")")
            if q is None or q == p + 1:
                raise _err("invalid PV inner name", text[pos:src.end])
            return q + 1
        return p
    c = src.at(p)
    if c == ")":
        return p + 1
    if c == "(":
        q = _balanced(src, p + 1, "(", ")")
        if q is None or q == p + 1:
            raise _err("invalid PV inner name", text[pos:src.end])
        p = q + 1
        c = src.at(p)
        if c == ")":
            return p + 1
        if c not in "[{":
            raise _err(f"invalid char {c!r} in PV", text[pos:src.end])
    elif c not in "[{":
        raise _err(f"invalid char {c!r} in PV", text[pos:src.end])
    if c == "[":
        q = _balanced(src, p + 1, "[", "]")
        if q is None or q == p + 1:
            raise _err("invalid PV index", text[pos:src.end])
        p = q + 1
        c = src.at(p)
        if c == ")":
            return p + 1
        if c != "{":
            raise _err(f"invalid char {c!r} in PV", text[pos:src.end])
    # transformations
    last = chain_extent(text[: src.end], p)
    _, q = _parse_chain(text, p, last, None)
    if _Src(text, len(text)).at(q) != ")":
        raise _err("bad PV name", text[pos:src.end])
    return q + 1


def _balanced(src: _Src, p: int, opening: str, closing: str) -> int | None:
    n = 0
    while src.inside(p):
        c = src.at(p)
        if c == closing:
            if n == 0:
                return p
            n -= 1
        if c == opening:
            n += 1
        p += 1
    return None


def parse_transformations(
    text: str, pos: int, parse_pv: Callable[[str], Any] | None = None
) -> tuple[list[TransformCall], int]:
    """Parse the chain ``{a}{b} {c}`` starting at the ``{`` at ``text[pos]``.

    Returns the transformations and the index just after the last ``}`` consumed (where
    Kamailio then requires the ``)`` closing ``$(...)``; checking that is the caller's job).
    ``parse_pv(text)`` is called for every PV parameter with exactly the PV's text
    (e.g. ``"$var(i)"``); when it is None the text itself is stored.
    Raises ConfigError (or NotSupportedError, see the module docstring).
    """
    if not (0 <= pos < len(text)) or text[pos] != "{":
        raise _err("a transformation must start with '{'", text[pos:])
    last = chain_extent(text, pos)
    return _parse_chain(text, pos, last, parse_pv)


def parse_transformation(text: str, parse_pv: Callable[[str], Any] | None = None) -> TransformCall:
    """Parse exactly one ``{class.name,...}`` (convenience for tests and tools)."""
    calls, end = parse_transformations(text, 0, parse_pv)
    if len(calls) != 1 or end != len(text):
        raise _err("expected exactly one transformation", text)
    return calls[0]


def _parse_chain(text: str, pos: int, last: int, parse_pv) -> tuple[list[TransformCall], int]:
    _ensure_loaded()
    src = _Src(text, last + 1)  # `in` of tr_lookup: from the first '{' to the closing '}'
    chain_text = text[pos : last + 1]
    p = pos
    calls: list[TransformCall] = []
    while True:
        while src.inside(p) and src.at(p) in _BLANKS:
            p += 1
        if src.at(p) != "{":
            break
        start = p
        p += 1
        # class: up to the first '.'
        cls_start = p
        while src.inside(p) and src.at(p) != ".":
            p += 1
        if src.at(p) != "." or p == cls_start:
            raise _err("invalid transformation (no class)", chain_text)
        cls = text[cls_start:p]
        p += 1
        if cls not in KAMAILIO_TRANSFORMATIONS:
            if cls in MODULE_CLASSES:
                raise NotSupportedError(
                    f"transformation class {cls!r} (from Kamailio module {MODULE_CLASSES[cls]}) "
                    f"is not supported in {chain_text!r}"
                )
            raise _err(f"unknown transformation class {cls!r}", chain_text)
        call, p = _parse_one(text, src, start, cls, p, parse_pv)
        if src.at(p) != "}":
            raise _err(f"invalid transformation {call.name} (expected '}}')", chain_text)
        p += 1
        calls.append(
            TransformCall(call.name, call.params, call.defn, text[start:p], call.styles)
        )
        if not src.inside(p):
            break
    return calls, p


def _parse_one(text: str, src: _Src, start: int, cls: str, p: int, parse_pv):
    # name: up to ',' or '}'
    name_start = p
    while src.inside(p) and src.at(p) not in ",}":
        p += 1
    if src.at(p) == "\0":
        raise _err("invalid transformation", text[start:src.end])
    raw_name = text[name_start:p].strip(_TRIM)
    sub = raw_name.lower()
    full = f"{cls}.{sub}"
    here = text[start:src.end]
    # Kamailio compares names case-insensitively with strncasecmp: only ASCII letters fold
    if sub not in KAMAILIO_TRANSFORMATIONS[cls] or not raw_name.isascii():
        raise _err(f"unknown transformation {cls}.{raw_name}", here)
    defn = REGISTRY.get(full)
    if defn is None:
        raise NotSupportedError(f"transformation {full} is not supported yet (in {here!r})")
    styles = _STYLE_OVERRIDES.get(full) or tuple(_KIND_STYLE.get(k, _S) for k in defn.params)
    params: list[Param] = []
    for i, style in enumerate(styles):
        if src.at(p) != ",":
            if i >= defn.min_params:
                break
            raise _err(f"{full} needs {defn.min_params} parameter(s)", here)
        p += 1
        param, p = _parse_param(text, src, p, style, parse_pv, here)
        params.append(param)
        # blanks before the next ',' or the closing '}'
        while src.at(p) in _BLANKS:
            p += 1
    for idx in _NO_NEGATIVE_LITERAL.get(full, ()):
        if idx < len(params) and isinstance(params[idx], int) and params[idx] < 0:
            raise _err(f"{full}: negative literal parameter {idx + 1}", here)
    return TransformCall(full, tuple(params), defn, "", styles), p


def _to_int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def _parse_param(text: str, src: _Src, p: int, style: str, parse_pv, here: str) -> tuple[Param, int]:
    if style == _SEL:
        c = src.at(p)
        if c == "\0":
            raise _err("invalid select transformation (missing separator)", here)
        if c == "\\":
            e = src.at(p + 1)
            esc = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
            if e not in esc:
                raise _err(f"unexpected escape char {e!r}", here)
            return StrParam(esc[e]), p + 2
        return StrParam(c), p + 1
    start_pos = p
    while src.inside(p) and src.at(p) in _BLANKS:
        p += 1
    if src.at(p) == "$":
        q = pv_extent(text, p, src.end)
        pv_text = text[p:q]
        if style == _PSEP:
            # Kamailio requires the separator to be exactly one character
            raise _err("invalid separator", here)
        obj = parse_pv(pv_text) if parse_pv is not None else pv_text
        return PvParam(pv_text, obj), q
    if style == _N:
        c = src.at(p)
        if not (c in "+-" or "0" <= c <= "9"):
            raise _err(f"invalid integer parameter {text[p:src.end]!r}", here)
        sign = 1
        if c == "-":
            sign = -1
            p += 1
        elif c == "+":
            p += 1
        while src.inside(p) and src.at(p) in _BLANKS:
            p += 1
        n = 0
        while src.inside(p) and "0" <= src.at(p) <= "9":
            n = n * 10 + ord(src.at(p)) - 48
            p += 1
        return _to_int32(sign * n), p
    # string literal
    ps = p
    while src.inside(p) and src.at(p) not in "\t\n,}":
        p += 1
    if src.at(p) == "\0":
        raise _err("invalid parameter", here)
    if style in (_C, _PCNT) and src.at(p) == ",":
        p += 1
        if src.at(p) == "\0":
            raise _err("invalid parameter", here)
    value = StrParam(text[ps:p], src.at(p) if p == ps else "")
    if style in (_PSEP, _PCNT) and p - start_pos != 1:
        raise _err("invalid separator (must be one character)", here)
    return value, p
