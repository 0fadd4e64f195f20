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

    ``""`` → 0; optional sign then decimal digits; else ``0x``/``0X`` hex; no
    spaces allowed; overflow fails (core/ut.h@5.6.3:678-730).
    """
    if s == "":
        return 0
    body = s
    sign = 1
    if body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body and body.isascii() and body.isdigit():
        v = sign * int(body)
        return v if INT_MIN <= v <= INT_MAX else None
    if s[:2] in ("0x", "0X") and len(s) > 2:
        try:
            v = int(s[2:], 16)
        except ValueError:
            return None
        return v if v <= 0xFFFFFFFF else None
    return None


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
