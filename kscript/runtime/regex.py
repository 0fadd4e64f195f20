"""POSIX extended regular expressions (what Kamailio's ``regcomp`` takes) in Python's re."""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import ConfigError, Position

_CLASSES = {
    "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:alnum:]": "a-zA-Z0-9", "[:upper:]": "A-Z",
    "[:lower:]": "a-z", "[:space:]": r" \t\n\r\f\v", "[:blank:]": r" \t", "[:punct:]": r"!-/:-@\[-`{-~",
    "[:xdigit:]": "0-9A-Fa-f", "[:cntrl:]": r"\x00-\x1f\x7f", "[:print:]": r" -~", "[:graph:]": r"!-~",
}


def posix_to_python(pattern: str) -> str:
    """Translate an ERE: bracket classes, and characters special to Python only."""
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if c == "[":
            # copy a bracket expression, translating [:class:] and escaping backslashes
            j = i + 1
            buf = ["["]
            if j < n and pattern[j] == "^":
                buf.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                buf.append(r"\]")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j)
                    if end > 0:
                        cls = pattern[j:end + 2]
                        buf.append(_CLASSES.get(cls, ""))
                        j = end + 2
                        continue
                ch = pattern[j]
                buf.append("\\\\" if ch == "\\" else ("\\[" if ch == "[" else ch))
                j += 1
            buf.append("]")
            out.append("".join(buf))
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def _compile(pattern: str, icase: bool):
    return re.compile(posix_to_python(pattern), re.I if icase else 0)


def compile_posix(pattern: str, icase: bool = True, pos: Position | None = None):
    try:
        return _compile(pattern, icase)
    except re.error as e:
        raise ConfigError(f"bad regular expression \"{pattern}\": {e}", pos) from None
