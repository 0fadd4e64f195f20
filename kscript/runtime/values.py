"""Kamailio's script value rules: int and string conversions (core/rvalue.c@5.6.3).

Values are ``None`` (null/undefined), ``int`` (int-typed) or ``str``.
Integers are C ``int`` in 5.6: results wrap to 32 bits.
"""

from __future__ import annotations

INT_MIN = -(1 << 31)
INT_MAX = (1 << 31) - 1


def wrap32(v: int) -> int:
    """Wrap to a signed 32-bit int, as C int arithmetic does on Kamailio's platforms."""
    if INT_MIN <= v <= INT_MAX:
        return v
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v > INT_MAX else v


def str2int(s: str) -> int | None:
    """Kamailio's ``str2sint``/hex fallback; None when the conversion fails.

    As rval_get_int (core/rvalue.c@5.6.3:1032-1050): ``""`` → 0; an optional sign then
    decimal digits (``str2sint``, core/ut.h@5.6.3:678-746: a lone sign is 0, no spaces,
    overflow fails); else ``0x``/``0X`` and hex digits only (``hexstr2int``,
    core/ut.h:1051: no sign, no spaces, no overflow check -- the C int keeps the low 32
    bits, as a signed int).
    """
    if s == "":
        return 0
    body = s
    sign = 1
    if body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "":
        return 0
    if body.isascii() and body.isdigit():
        v = sign * int(body)
        return v if INT_MIN <= v <= INT_MAX else None
    if len(s) > 2 and s[0] == "0" and s[1] in "xX":
        digits = s[2:]
        if all(c in _HEXDIGITS for c in digits):
            return wrap32(int(digits, 16) & 0xFFFFFFFF)
    return None


_HEXDIGITS = frozenset("0123456789abcdefABCDEF")


def to_int(v, warn=None) -> int:
    """Convert for an int context; a failed string conversion is 0 (with a warning)."""
    if type(v) is int:
        return v
    if v is None:
        return 0
    r = str2int(v)
    if r is None:
        if warn is not None:
            warn(f"automatic string to int conversion for \"{v}\" failed")
        return 0
    return r


def to_str(v) -> str:
    if type(v) is str:
        return v
    if v is None:
        return ""
    return str(v)


def type_name(v) -> str:
    if v is None:
        return "null"
    return "int" if type(v) is int else "str"
