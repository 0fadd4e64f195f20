"""db_redis's Redis layout: key names and value conversions (modules/db_redis/redis_dbase.c@5.6.3).

Keys (``<p>`` is the table's ``version_code`` prefix from ``keys``, often empty):

=============================  ======  ==========================================
``<p><table>:entry::v1:v2``    HASH    one row; fields = the columns given to insert
``<p><table>:<type>::v1:v2``   SET     entry keys of the rows with these values
``<p><table>::index::<type>``  SET     all mapping-set keys of that type
=============================  ======  ==========================================

A key whose definition has no columns is ``<p><table>:<type>`` (no ``::``).

Writing a value (``db_redis_val2str``): INT ``%d``, UINT/BITMAP ``%u``,
BIGINT/UBIGINT ``%010lld``/``%010llu`` (zero-padded to 10 digits -- in keys
too), STRING/STR as is, DATETIME as *local* ``YYYY-MM-DD HH:MM:SS``, DOUBLE
``%.6f``, NULL as the empty string (in a key column NULL makes the key
unusable), BLOB unsupported (the operation fails).

Reading (``db_str2val``, lib/srdb1/db_val.c): a missing hash field is NULL;
INT/BITMAP via ``strtoul`` (empty -> 0, trailing garbage -> error), UINT the
same, BIGINT/UBIGINT via ``strtoll``/``strtoull``, DOUBLE via ``atof``,
DATETIME via ``strptime("%Y-%m-%d %H:%M:%S")`` + ``mktime`` (an empty string --
a NULL written earlier -- fails the row and so the whole query), strings as is.
"""

from __future__ import annotations

import time

from ..api import (BIGINT, BITMAP, BLOB, DATETIME, DOUBLE, INT, STR, STRING, UBIGINT, UINT, DbError)

__all__ = ["val2str", "str2val", "entry_key", "type_key", "index_key", "c_atoi", "c_atoll", "c_atof",
           "format_datetime", "ConversionError"]


class ConversionError(DbError):
    pass


def _i32(v: int) -> int:
    return ((int(v) + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def _u32(v: int) -> int:
    return int(v) & 0xFFFFFFFF


def _i64(v: int) -> int:
    return ((int(v) + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)


_dt_cache: dict[int, str] = {}


def format_datetime(ts) -> str:
    """``strftime("%Y-%m-%d %H:%M:%S", localtime(ts))``."""
    t = int(ts)
    s = _dt_cache.get(t)
    if s is None:
        s = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))
        if len(_dt_cache) > 4096:
            _dt_cache.clear()
        _dt_cache[t] = s
    return s


def val2str(vtype: str, value) -> str | None:
    """A value as db_redis stores it; None for NULL (stored as "" in hashes)."""
    if value is None:
        return None
    if vtype == STR or vtype == STRING:
        return value if isinstance(value, str) else str(value)
    if vtype == INT:
        return "%d" % _i32(value)
    if vtype == DATETIME:
        return format_datetime(value)
    if vtype == DOUBLE:
        return "%.6f" % float(value)
    if vtype == UINT or vtype == BITMAP:
        return "%u" % _u32(value)
    if vtype == BIGINT:
        return "%010d" % _i64(value)
    if vtype == UBIGINT:
        return "%010d" % (int(value) & ((1 << 64) - 1))
    raise ConversionError(f"Unsupported val type {vtype}")


# ---------------------------------------------------------------- C number parsing
def _c_int_prefix(s: str) -> tuple[int, int]:
    """(value, index after the number) of a C strtol-like parse; leading blanks skipped."""
    i = 0
    n = len(s)
    while i < n and s[i] in " \t\n\v\f\r":
        i += 1
    sign = 1
    if i < n and s[i] in "+-":
        sign = -1 if s[i] == "-" else 1
        i += 1
    start = i
    v = 0
    while i < n and "0" <= s[i] <= "9":
        v = v * 10 + ord(s[i]) - 48
        i += 1
    if i == start:
        return 0, 0
    return sign * v, i


def c_atoi(s: str) -> int:
    return _i32(_c_int_prefix(s)[0])


def c_atoll(s: str) -> int:
    return _i64(_c_int_prefix(s)[0])


def c_atof(s: str) -> float:
    import re
    m = re.match(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf(?:inity)?|nan))", s, re.I)
    if not m:
        return 0.0
    try:
        return float(m.group(1))
    except ValueError:  # pragma: no cover
        return 0.0


def _strtoul_int(s: str, what: str) -> int:
    v, end = _c_int_prefix(s)
    if end == 0:
        rest = s.lstrip(" \t\n\v\f\r")
        if rest:
            raise ConversionError(f"Unexpected characters: [{s}]")
        return 0
    if end != len(s):
        raise ConversionError(f"Unexpected characters: [{s[end:]}]")
    # strtoul wraps negative values; the result must fit (signed or unsigned) 32 bits
    if v < -0xFFFFFFFF or v > 0xFFFFFFFF:
        raise ConversionError("Value out of range")
    return v


def _parse_datetime(s: str) -> int:
    try:
        tm = time.strptime(s, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ConversionError("Error during time conversion") from None
    return int(time.mktime(tm))


def str2val(vtype: str, s: str | None):
    """A stored string read back as the Python value of ``vtype`` (None stays None)."""
    if s is None:
        return None
    if vtype == STRING or vtype == STR or vtype == BLOB:
        return s
    if vtype == INT or vtype == BITMAP:
        return _i32(_strtoul_int(s, vtype))
    if vtype == DATETIME:
        return _parse_datetime(s)
    if vtype == DOUBLE:
        return c_atof(s)
    if vtype == UINT:
        return _u32(_strtoul_int(s, vtype))
    if vtype == BIGINT or vtype == UBIGINT:
        v, end = _c_int_prefix(s)
        if end != len(s) and s.strip():
            raise ConversionError(f"Unexpected characters: [{s[end:]}]")
        return v
    raise ConversionError(f"Unsupported val type {vtype}")


# ---------------------------------------------------------------- key names
def entry_key(prefix: str, table: str, values: list[str]) -> str:
    if not values:
        return f"{prefix}{table}:entry"
    return f"{prefix}{table}:entry::" + ":".join(values)


def type_key(prefix: str, table: str, tname: str, values: list[str]) -> str:
    if not values:
        return f"{prefix}{table}:{tname}"
    return f"{prefix}{table}:{tname}::" + ":".join(values)


def index_key(prefix: str, table: str, tname: str) -> str:
    return f"{prefix}{table}::index::{tname}"
