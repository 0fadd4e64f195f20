"""The ``param.*`` transformations of Kamailio 5.6.3 (pv/pv_trans.c@5.6.3:1820-2092).

The input is a parameter list ``name=value;name2;...`` parsed like Kamailio's
``parse_params2`` (core/parser/parse_param.c@5.6.3:473-627) with class ANY:

* the input must be a non-empty string (an int counts as its decimal string); null or
  ``""`` fails;
* one trailing separator is dropped (when the input is longer than one byte);
* a name runs up to blank, ``,``, ``=`` or the separator (it may be empty: ``;a`` has a
  first parameter with an empty name); blanks around ``=`` are skipped;
* a value is a quoted string (``"..."`` / ``'...'``, quotes removed, no escapes) or a token
  up to blank, ``,`` or the separator; ``a=`` at the end gives an empty value, ``a=;b`` is
  an error;
* a ``,`` or ``>`` after a parameter ends the list (what follows is ignored); any other
  character than the separator there is an error; a separator followed only by blanks is
  an error ("param name missing");
* a parse error makes the transformation fail.

``param.value`` / ``param.in`` look names up case-insensitively; with duplicate names the
*last* one wins (Kamailio's list is reversed).  ``param.valueat`` / ``param.name`` take a
0-based index (negative counts from the end); out of range gives ``""``.
``param.count`` and ``param.in`` are int-typed, the others string-typed.

The optional separator is one character (Kamailio refuses anything else at start-up);
only ``param.count`` accepts a PV there (its first character is used).
"""

from __future__ import annotations

from . import Value, transformation
from .string import fail, from_bytes, param_byte, to_bytes

_WS = b" \t\r\n"


def parse_param_list(data: bytes, sep: int) -> list[tuple[bytes, bytes]]:
    """Kamailio's ``parse_params2`` with class ANY: ``[(name, body)]`` in input order."""
    end = len(data)
    pos = 0
    out: list[tuple[bytes, bytes]] = []

    def skip_ws(i: int) -> int:
        while i < end and data[i] in _WS:
            i += 1
        return i

    if end == 0:
        return out
    while True:
        start = pos
        while pos < end and data[pos] not in b" \t\r\n,=" and data[pos] != sep:
            pos += 1
        name = data[start:pos]
        body = b""
        pos = skip_ws(pos)
        if pos == end:
            out.append((name, body))
            return out
        if data[pos] == 0x3D:  # '='
            pos = skip_ws(pos + 1)
            if pos < end:
                q = data[pos]
                if q in b"\"'":
                    if end - pos < 2:
                        raise fail("bad quoted parameter")
                    close = data.find(bytes((q,)), pos + 1, end)
                    if close < 0:
                        raise fail("unterminated quoted parameter")
                    body = data[pos + 1 : close]
                    pos = close + 1
                else:
                    t = pos
                    while t < end and data[t] not in b" \t\r\n," and data[t] != sep:
                        t += 1
                    if t == pos:
                        raise fail("empty parameter token")
                    body = data[pos:t]
                    pos = t
            pos = skip_ws(pos)
            if pos == end:
                out.append((name, body))
                return out
        c = data[pos]
        if c in b",>":
            out.append((name, body))
            return out
        if c != sep:
            raise fail(f"invalid character {chr(c)!r} in parameter list")
        pos = skip_ws(pos + 1)
        if pos == end:
            raise fail("parameter name missing after separator")
        out.append((name, body))


def _params(value: Value, sep: str | None) -> list[tuple[bytes, bytes]]:
    if value is None:
        raise fail("null input")
    data = to_bytes(value)
    if not data:
        raise fail("empty input")
    s = param_byte(sep) if sep is not None else 0x3B
    if len(data) > 1 and data[-1] == s:
        data = data[:-1]
    plist = parse_param_list(data, s)
    if not plist:
        raise fail("no parameters")
    return plist


def _ieq(a: bytes, b: bytes) -> bool:
    return len(a) == len(b) and a.lower() == b.lower()


def _index(plist: list, n: int) -> int | None:
    if n < 0:
        return len(plist) + n if -n <= len(plist) else None
    return n if n < len(plist) else None


@transformation("param.value", "str", "char", min_params=1)
def param_value(value: Value, name: str, sep: str | None = None) -> Value:
    plist = _params(value, sep)
    key = to_bytes(name)
    for n, body in reversed(plist):
        if _ieq(n, key):
            return from_bytes(body)
    return ""


@transformation("param.in", "str", "char", min_params=1)
def param_in(value: Value, name: str, sep: str | None = None) -> Value:
    plist = _params(value, sep)
    key = to_bytes(name)
    return 1 if any(_ieq(n, key) for n, _ in plist) else 0


@transformation("param.valueat", "int", "char", min_params=1)
def param_valueat(value: Value, index: int, sep: str | None = None) -> Value:
    plist = _params(value, sep)
    i = _index(plist, index)
    return "" if i is None else from_bytes(plist[i][1])


@transformation("param.name", "int", "char", min_params=1)
def param_name(value: Value, index: int, sep: str | None = None) -> Value:
    plist = _params(value, sep)
    i = _index(plist, index)
    return "" if i is None else from_bytes(plist[i][0])


@transformation("param.count", "char", min_params=0)
def param_count(value: Value, sep: str | None = None) -> Value:
    return len(_params(value, sep))
