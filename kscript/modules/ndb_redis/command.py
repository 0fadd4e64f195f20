"""Turning a ``redis_cmd`` format and its arguments into Redis protocol bytes, as hiredis does.

Kamailio evaluates every parameter of ``redis_cmd`` (PVs substituted first), then
hands the *evaluated* command text to hiredis as a printf-like format with the
extra parameters as ``char *`` varargs (ndb/ndb_redis_mod.c@5.6.3:181-362,
ndb/redis_client.c@5.6.3:1033).  hiredis 0.14's ``redisvFormatCommand``
tokenises that text (a clean-room description of its rules):

* every ASCII space ends the current argument (runs of spaces collapse, leading
  and trailing spaces vanish); tabs and newlines are ordinary characters;
* ``%s`` appends the next vararg to the current argument, spaces included, and
  marks the argument as present even when the vararg is empty (``SET k %s`` with
  ``""`` sends an empty value);
* ``%%`` is a ``%``, and a ``%`` that ends the text is a literal ``%``;
* ``%b`` and printf conversions (``%d``, ``%5.2f``, ``%lld``...) read varargs of
  other C types: with Kamailio's ``char *`` arguments their result is undefined
  (garbage or a crash).  kscript refuses such commands (:data:`UNDEFINED`);
* any other ``%x`` makes the whole format invalid: hiredis sets an error on the
  connection and returns no reply (:data:`FORMAT_ERROR`), which ndb_redis treats
  like an I/O error (reconnect, retry, fail).

The 3-parameter form of ``redis_cmd`` first refuses any ``%s``/``%b`` in the
evaluated command (:func:`has_arg_specifier`, a naive scan: ``a%%b`` counts).

A compiled :class:`Plan` is cached per command text, so a command evaluated to
the same text again is not tokenised again; a command without ``%s`` is packed
once and its bytes reused.
"""

from __future__ import annotations

_INT_CONV = "diouxX"
_DBL_CONV = "eEfFgGaA"
_FLAGS = "#0-+ "


class Undefined:
    """A format whose result depends on undefined behaviour in Kamailio."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"Undefined({self.reason!r})"


class _FormatError:
    """hiredis rejects the format ("Invalid format string"): no reply, context errored."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "FORMAT_ERROR"


FORMAT_ERROR = _FormatError()


def has_arg_specifier(cmd: str) -> bool:
    """The 3-parameter ``redis_cmd`` check: a ``%`` followed by ``s`` or ``b`` anywhere."""
    i = cmd.find("%")
    n = len(cmd) - 1
    while 0 <= i < n:
        c = cmd[i + 1]
        if c == "s" or c == "b":
            return True
        i = cmd.find("%", i + 1)
    return False


def encode(text: str) -> bytes:
    """A kscript string as the bytes Kamailio holds (C strings stop at NUL)."""
    b = text.encode("utf-8", "surrogateescape")
    if b"\0" in b:
        b = b[:b.index(b"\0")]
    return b


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


class Plan:
    """A tokenised format: ``argv`` is a list of arguments, each a list of parts
    (``bytes`` literals or ``None`` for a ``%s`` slot); ``nargs`` counts the slots.

    ``packed`` holds the protocol bytes when the plan has no slot.
    """

    __slots__ = ("text", "argv", "nargs", "packed", "_pieces")

    def __init__(self, text: str, argv: list[list], nargs: int):
        self.text = text
        self.argv = argv
        self.nargs = nargs
        # pieces: bytes for an argument fully known, else the list of parts
        pieces: list = [b"*%d\r\n" % len(argv)]
        for parts in argv:
            if all(p is not None for p in parts):
                pieces.append(_bulk(b"".join(parts)))
            else:
                pieces.append(tuple(parts))
        merged: list = []
        for p in pieces:
            if type(p) is bytes and merged and type(merged[-1]) is bytes:
                merged[-1] += p
            else:
                merged.append(p)
        self._pieces = tuple(merged)
        self.packed = merged[0] if len(merged) == 1 else None

    def argv_bytes(self, args: tuple = ()) -> list[bytes]:
        """The argument vector Redis receives (for tests and MONITOR-like checks)."""
        it = iter(encode(a) for a in args)
        return [b"".join(next(it) if p is None else p for p in parts) for parts in self.argv]

    def pack(self, args: tuple) -> bytes:
        """Protocol bytes of the command with ``args`` in the ``%s`` slots (at least ``nargs`` given)."""
        if self.packed is not None:
            return self.packed
        out = []
        k = 0
        for piece in self._pieces:
            if type(piece) is bytes:
                out.append(piece)
                continue
            data = []
            for p in piece:
                if p is None:
                    data.append(encode(args[k]))
                    k += 1
                else:
                    data.append(p)
            d = b"".join(data)
            out.append(b"$%d\r\n%s\r\n" % (len(d), d))
        return b"".join(out)


def _static_plan(text: str, words: list[str]) -> Plan:
    """The plan of a format without ``%``: arguments split on spaces, packed once."""
    p = Plan.__new__(Plan)
    data = [encode(w) for w in words]
    p.text = text
    p.argv = [[d] for d in data]
    p.nargs = 0
    p.packed = b"*%d\r\n" % len(data) + b"".join(b"$%d\r\n%s\r\n" % (len(d), d) for d in data)
    p._pieces = (p.packed,)
    return p


def compile_format(fmt: str) -> Plan | Undefined | _FormatError:
    """Tokenise ``fmt`` like hiredis's ``redisvFormatCommand``."""
    nul = fmt.find("\0")
    if nul >= 0:
        fmt = fmt[:nul]
    if "%" not in fmt:
        return _static_plan(fmt, [w for w in fmt.split(" ") if w])
    argv: list[list] = []
    cur: list = []
    buf: list[str] = []
    touched = False
    nargs = 0
    i = 0
    n = len(fmt)
    while i < n:
        c = fmt[i]
        if c != "%" or i + 1 >= n:
            if c == " ":
                if touched:
                    if buf:
                        cur.append(encode("".join(buf)))
                        buf = []
                    argv.append(cur)
                    cur = []
                    touched = False
            else:
                buf.append(c)
                touched = True
            i += 1
            continue
        nc = fmt[i + 1]
        if nc == "s":
            if buf:
                cur.append(encode("".join(buf)))
                buf = []
            cur.append(None)
            nargs += 1
        elif nc == "%":
            buf.append("%")
        elif nc == "b":
            return Undefined("%b (binary argument: pointer and size_t varargs)")
        else:
            j = i + 1
            while j < n and fmt[j] in _FLAGS:
                j += 1
            while j < n and fmt[j].isdigit() and fmt[j].isascii():
                j += 1
            if j < n and fmt[j] == ".":
                j += 1
                while j < n and fmt[j].isdigit() and fmt[j].isascii():
                    j += 1
            conv = fmt[j] if j < n else ""
            if conv == "" or conv in _INT_CONV or conv in _DBL_CONV:
                return Undefined(f"printf conversion '{fmt[i:j + 1]}'")
            if fmt.startswith("hh", j) or fmt.startswith("ll", j):
                size = 2
            elif conv in ("h", "l"):
                size = 1
            else:
                size = 0
            if size and j + size < n and fmt[j + size] in _INT_CONV:
                return Undefined(f"printf conversion '{fmt[i:j + size + 1]}'")
            return FORMAT_ERROR
        touched = True
        i += 2
    if touched:
        if buf:
            cur.append(encode("".join(buf)))
        argv.append(cur)
    return Plan(fmt, argv, nargs)


class PlanCache:
    """Compiled formats by command text (bounded: texts beyond ``limit`` are compiled per use)."""

    __slots__ = ("_plans", "limit")

    def __init__(self, limit: int = 4096):
        self._plans: dict[str, object] = {}
        self.limit = limit

    def get(self, fmt: str):
        p = self._plans.get(fmt)
        if p is None:
            p = compile_format(fmt)
            # commands built from changing PV values would only churn the cache: keep the
            # first ``limit`` texts (the constant ones of the cfg come first)
            if len(self._plans) < self.limit:
                self._plans[fmt] = p
        return p


def pack_argv(*argv) -> bytes:
    """Protocol bytes of a command given as separate arguments (str/bytes/int)."""
    out = [b"*%d\r\n" % len(argv)]
    for a in argv:
        if isinstance(a, str):
            a = a.encode("utf-8", "surrogateescape")
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)
