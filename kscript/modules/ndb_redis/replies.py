"""Redis replies as ndb_redis keeps them, and what ``$redis(...)`` reads from them.

Representation (one Python object per hiredis ``redisReply``; type codes are
hiredis 0.14's, which ``$redis(r=>type)`` shows):

====================  =====  ======================================
reply                 code   kscript object
====================  =====  ======================================
bulk string           1      ``bytes``
array                 2      ``list``
integer               3      ``int`` (64-bit as Redis sent it)
nil                   4      :data:`NIL`
status (``+OK``)      5      :class:`Status` (a ``bytes`` subclass)
error (``-ERR ..``)   6      :class:`ErrorReply` (a ``bytes`` subclass)
====================  =====  ======================================

The protocol is read by :class:`RespReader`, a small RESP2 parser (hiredis-py's
reader returns ``+OK`` and ``$2 OK`` as the same ``bytes`` and so cannot keep the
status type apart).

Reply containers (:class:`Box`) are named, created on first use (also by a
``$redis`` read), process-wide and replaced by the next command using the name
(ndb/redis_client.c@5.6.3:1197-1236).  :func:`parse_accessor` parses the name of
``$redis(...)`` exactly as ``pv_parse_redisc_name`` accepts it
(ndb/ndb_redis_mod.c@5.6.3:686-790) and :class:`Accessor` reads it as
``pv_get_redisc`` does (:790-900): integers are cast to a 32-bit C ``int``,
status text is in ``info`` (``value`` is null), an index given by a PV must be
an integer value.
"""

from __future__ import annotations

from typing import Any

MAXIMUM_NESTED_KEYS = 10

REDIS_REPLY_STRING = 1
REDIS_REPLY_ARRAY = 2
REDIS_REPLY_INTEGER = 3
REDIS_REPLY_NIL = 4
REDIS_REPLY_STATUS = 5
REDIS_REPLY_ERROR = 6


class Status(bytes):
    """A status reply (``+OK``, ``+PONG``, ``+QUEUED``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Status({bytes(self)!r})"


class ErrorReply(bytes):
    """An error reply (``-ERR syntax error``); the text without the ``-``."""

    __slots__ = ()

    def __new__(cls, value=b""):
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogateescape")
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return f"ErrorReply({bytes(self)!r})"


class _Nil:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NIL"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return "NIL"


NIL = _Nil()

TYPE_CODE: dict[type, int] = {
    bytes: REDIS_REPLY_STRING,
    list: REDIS_REPLY_ARRAY,
    int: REDIS_REPLY_INTEGER,
    _Nil: REDIS_REPLY_NIL,
    Status: REDIS_REPLY_STATUS,
    ErrorReply: REDIS_REPLY_ERROR,
}


def reply_type(r) -> int:
    return TYPE_CODE.get(type(r), 0)


def reply_text(r) -> bytes | None:
    """hiredis's ``reply->str``: set for strings, statuses and errors only."""
    t = type(r)
    if t is bytes or t is Status or t is ErrorReply:
        return r
    return None


def to_python(r) -> Any:
    """A reply as plain Python values (str/int/None/list; errors as ErrorReply), for tests."""
    t = type(r)
    if t is list:
        return [to_python(x) for x in r]
    if t is bytes or t is Status:
        return r.decode("utf-8", "surrogateescape")
    if r is NIL:
        return None
    return r


def describe(r, depth: int = 0) -> list[str]:
    """Lines like ndb_redis's ``print_redis_reply`` (for DBG logs)."""
    pad = "\t" * depth
    t = type(r)
    if t is bytes:
        return [f"{pad}string reply: [{_dec(r)}]"]
    if t is int:
        return [f"{pad}integer reply: {r}"]
    if t is list:
        out = [f"{pad}array reply with {len(r)} elements"]
        for i, x in enumerate(r):
            out.append(f"{pad}element {i}:")
            out.extend(describe(x, depth + 1))
        return out
    if r is NIL:
        return [f"{pad}nil reply"]
    if t is Status:
        return [f"{pad}status reply: {_dec(r)}"]
    return [f"{pad}error reply: {_dec(r)}"]


def _dec(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- protocol reader
class ProtocolError(Exception):
    """The server sent something that is not RESP2."""


class _Incomplete(Exception):
    pass


_INCOMPLETE = _Incomplete()


def _parse(buf: bytes, pos: int, depth: int = 0):
    """Parse one reply at ``pos``: ``(reply, next_pos)``; raise _Incomplete when more is needed."""
    e = buf.find(b"\r\n", pos)
    if e < 0:
        raise _INCOMPLETE
    t = buf[pos]
    if t == 36:  # $
        n = int(buf[pos + 1:e])
        if n < 0:
            return NIL, e + 2
        start = e + 2
        end = start + n
        if end + 2 > len(buf):
            raise _INCOMPLETE
        return buf[start:end], end + 2
    if t == 43:  # +
        return Status(buf[pos + 1:e]), e + 2
    if t == 58:  # :
        return int(buf[pos + 1:e]), e + 2
    if t == 45:  # -
        return ErrorReply(buf[pos + 1:e]), e + 2
    if t == 42:  # *
        n = int(buf[pos + 1:e])
        if n < 0:
            return NIL, e + 2
        p = e + 2
        out = []
        append = out.append
        for _ in range(n):
            x, p = _parse(buf, p, depth + 1)
            append(x)
        return out, p
    raise ProtocolError(f"protocol error, got {chr(t)!r} as reply type byte")


class RespReader:
    """Buffers bytes received from a server and hands out complete replies."""

    __slots__ = ("buf", "pos")

    def __init__(self):
        self.buf = b""
        self.pos = 0

    def feed(self, data: bytes) -> None:
        if self.pos >= len(self.buf):
            self.buf = data
        else:
            self.buf = self.buf[self.pos:] + data
        self.pos = 0

    def get(self):
        """The next complete reply, or ``None`` when the buffer does not hold one yet."""
        if self.pos >= len(self.buf):
            return None
        try:
            r, self.pos = _parse(self.buf, self.pos)
        except _Incomplete:
            return None
        except (ValueError, IndexError) as e:
            raise ProtocolError(f"protocol error: {e}") from None
        return r

    def pending(self) -> int:
        return len(self.buf) - self.pos

    def clear(self) -> None:
        self.buf = b""
        self.pos = 0


# ---------------------------------------------------------------- containers
class Box:
    """A named reply container (``redisc_reply_t``): ``reply`` is None when empty."""

    __slots__ = ("name", "reply")

    def __init__(self, name: str):
        self.name = name
        self.reply = None

    def __repr__(self) -> str:
        return f"Box({self.name!r}, {self.reply!r})"


# ---------------------------------------------------------------- $redis(...) names
KEY_TYPE, KEY_VALUE, KEY_INFO, KEY_SIZE = 0, 1, 2, 3


class AccessorError(ValueError):
    pass


def _isspace(c: str) -> bool:
    return c in " \t\n\v\f\r"


def _str2sint(tok: str) -> int | None:
    s = tok
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s or not (s.isdigit() and s.isascii()):
        return None
    v = sign * int(s)
    return v if -(1 << 31) <= v < (1 << 31) else None


def _parse_token(s: str, i: int, compiler) -> tuple[Any, int]:
    """``redis_parse_token``: ``[ idx ]`` at ``i`` (blanks allowed); returns (index, pos of ``]``)."""
    n = len(s)
    while i < n and _isspace(s[i]):
        i += 1
    if i >= n - 2:
        raise AccessorError
    if s[i] != "[":
        raise AccessorError
    i += 1
    while i < n - 1 and _isspace(s[i]):
        i += 1
    if i == n - 1 or s[i] == "]":
        raise AccessorError
    start = i
    while i < n and not _isspace(s[i]) and s[i] != "]":
        i += 1
    if i == n:
        raise AccessorError
    tok = s[start:i]
    if tok[0] == "$":
        if compiler is None:
            raise AccessorError
        try:
            idx = compiler.pv(tok, None)
        except Exception:
            raise AccessorError from None
    else:
        idx = _str2sint(tok)
        if idx is None:
            raise AccessorError
    while i < n and _isspace(s[i]):
        i += 1
    if i == n or s[i] != "]":
        raise AccessorError
    return idx, i


def parse_accessor(inner: str, compiler=None) -> tuple[str, tuple]:
    """Parse ``replyid=>key[=>key...]``: ``(replyid, ((keyid, index), ...))``.

    ``index`` is -1 (none given), an int, or a compiled PV.  Raises ValueError
    with Kamailio's message for a name it refuses.
    """
    if not inner or not inner.strip():
        raise ValueError(f"invalid var spec [{inner}]")
    s = inner.strip(" \t\n\v\f\r")
    n = len(s)
    i = 0
    while i < n - 2:
        if _isspace(s[i]) or s[i] == "=":
            break
        i += 1
    rname = s[:i]
    if not rname:
        raise ValueError(f"invalid var spec [{inner}]")
    while i < n - 2 and _isspace(s[i]):
        i += 1
    keys: list[tuple[int, Any]] = []
    while True:
        if i + 1 >= n or s[i] != "=" or s[i + 1] != ">":
            raise ValueError(f"invalid var spec [{inner}]")
        i += 2
        while i < n and _isspace(s[i]):
            i += 1
        if i >= n:
            raise ValueError(f"invalid key spec in [{inner}]")
        rest = s[i:]
        idx: Any = -1
        last = True
        try:
            if rest.startswith("value"):
                kid = KEY_VALUE
                if len(rest) > 5:
                    idx, i = _parse_token(s, i + 5, compiler)
                    i += 1
                    if i != n:
                        last = False
            elif rest.startswith("type"):
                kid = KEY_TYPE
                if len(rest) > 4:
                    idx, i = _parse_token(s, i + 4, compiler)
            elif rest == "info":
                kid = KEY_INFO
            elif rest == "size":
                kid = KEY_SIZE
            else:
                raise AccessorError
        except AccessorError:
            raise ValueError(f"invalid key spec in [{inner}]") from None
        keys.append((kid, idx))
        if len(keys) > MAXIMUM_NESTED_KEYS:
            raise ValueError(f"Too many nested fields in [{inner}]")
        if last:
            break
    return rname, tuple(keys)


class IndexNotInt(Exception):
    """A PV index that does not hold an integer (Kamailio: "Could not convert PV to int")."""


def _index(ctx, idx) -> int:
    if type(idx) is int:
        return idx
    try:
        v = idx.get(ctx)
    except Exception:
        raise IndexNotInt from None
    if type(v) is not int:
        raise IndexNotInt
    return v


def _int32(v: int) -> int:
    if -2147483648 <= v <= 2147483647:
        return v
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v > 0x7FFFFFFF else v


def read_accessor(ctx, reply, keys: tuple) -> Any:
    """The value of ``$redis(name=>keys)`` for a stored ``reply`` (not None)."""
    last = len(keys) - 1
    r = reply
    for k in range(last):
        p = _index(ctx, keys[k][1])
        if type(r) is not list or p < 0 or p >= len(r):
            return None
        r = r[p]
    kid, idx = keys[last]
    p = _index(ctx, idx)
    t = type(r)
    if kid == KEY_VALUE:
        if t is bytes:
            return None if p != -1 else r.decode("utf-8", "surrogateescape")
        if t is int:
            return None if p != -1 else _int32(r)
        if t is list:
            if p < 0 or p >= len(r):
                return None
            e = r[p]
            te = type(e)
            if te is bytes:
                return e.decode("utf-8", "surrogateescape")
            if te is int:
                return _int32(e)
        return None
    if kid == KEY_TYPE:
        if p == -1:
            return TYPE_CODE.get(t, 0)
        if t is not list or p < 0 or p >= len(r):
            return None
        return TYPE_CODE.get(type(r[p]), 0)
    if kid == KEY_INFO:
        if t is bytes or t is Status or t is ErrorReply:
            return r.decode("utf-8", "surrogateescape")
        return None
    # size
    if t is list:
        return len(r)
    return None


REDISD_NAMES = {
    "rpl_str": REDIS_REPLY_STRING,
    "rpl_arr": REDIS_REPLY_ARRAY,
    "rpl_int": REDIS_REPLY_INTEGER,
    "rpl_nil": REDIS_REPLY_NIL,
    "rpl_sts": REDIS_REPLY_STATUS,
    "rpl_err": REDIS_REPLY_ERROR,
}
