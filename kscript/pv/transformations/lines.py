"""The ``line.*`` transformations of Kamailio 5.6.3 (pv/pv_trans.c@5.6.3:2294-2466).

* The input must be a non-empty string (an int counts as its decimal string): null or
  ``""`` fails.
* Lines are separated by ``\\n``; one ``\\r`` at the end of a returned line is dropped.
* ``line.count``: number of ``\\n`` plus one when the value does not end with ``\\n``.
  **String-typed** in 5.6.3 (the code sets the int type, then overwrites the flags).
* ``line.at,n``: the n-th line (0-based); ``""`` when out of range.  Negative ``n``
  counts from the end, ignoring one final ``\\n``; Kamailio's backwards walk has a quirk
  reproduced here: when it reaches the first line through an empty line, the returned
  "line" includes the ``\\n`` that follows it (``"a\\n\\nb"{line.at,-2}`` is ``"a\\n"``).
* ``line.sw,prefix``: the first line starting with ``prefix``, ``""`` when none.
"""

from __future__ import annotations

from . import Value, transformation
from .string import fail, from_bytes, to_bytes


def _input(value: Value) -> bytes:
    if value is None:
        raise fail("null input")
    data = to_bytes(value)
    if not data:
        raise fail("empty input")
    return data


def _result(line: bytes) -> str:
    if line.endswith(b"\r"):
        line = line[:-1]
    return from_bytes(line)


@transformation("line.count")
def line_count(value: Value) -> Value:
    data = _input(value)
    n = data.count(b"\n")
    if not data.endswith(b"\n"):
        n += 1
    return str(n)


def _rfind(data: bytes, limit: int) -> int | None:
    """``memfindrchr(s, '\\n', limit)``: last newline in ``data[:limit]``."""
    if limit <= 0:
        return None
    i = data.rfind(b"\n", 0, limit)
    return None if i < 0 else i


@transformation("line.at", "int")
def line_at(value: Value, n: int) -> Value:
    data = _input(value)
    size = len(data)
    if n < 0:
        p = size - 1
        if data[p] == 0x0A:
            p -= 1
        ms = p  # last byte of the candidate line
        n = -n
        i = 1
        q = _rfind(data, p)
        if q is not None:
            q -= 1
        while i < n and q is not None:
            ms = q
            q = _rfind(data, q)
            if q is not None:
                q -= 1
            i += 1
        if i == n:
            if q is None:
                return _result(data[: ms + 1])  # first line
            return _result(data[q + 2 : ms + 1])
        return ""
    p: int | None = 0
    i = 0
    while i < n and p is not None:
        k = data.find(b"\n", p)
        p = None if k < 0 else k + 1
        i += 1
    if i == n and p is not None:
        k = data.find(b"\n", p)
        return _result(data[p:] if k < 0 else data[p:k])
    return ""


@transformation("line.sw", "str")
def line_sw(value: Value, prefix: str) -> Value:
    data = _input(value)
    pre = to_bytes(prefix)
    size = len(data)
    if size < len(pre):
        return ""
    p = 0
    while True:
        if data.startswith(pre, p):
            k = data.find(b"\n", p + len(pre))
            return _result(data[p:] if k < 0 else data[p:k])
        k = data.find(b"\n", p)
        if k < 0:
            return ""
        p = k + 1
        if p > size - len(pre):
            return ""
