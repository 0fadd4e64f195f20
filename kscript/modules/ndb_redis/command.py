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

The module keeps the result per command text (``NdbRedisModule.commands``): the
protocol bytes of a command without ``%s`` (packed by :func:`pack_text`, no plan
built), else the :class:`Plan`, whose :meth:`~Plan.pack` is one bytes ``%``
formatting of a template made once.  A command evaluated to the same text again is
neither tokenised nor packed again.
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


def _make_packer(n: int):
    """A function packing a list of ``n`` byte strings as one command (one ``%`` formatting)."""
    fmt = b"*%d\r\n" % n + b"$%d\r\n%s\r\n" * n
    if n == 0:
        return lambda words: fmt
    args = ", ".join(f"len(w[{i}]), w[{i}]" for i in range(n))
    ns = {"fmt": fmt}
    exec(f"def pack{n}(w):\n    return fmt % ({args})\n", ns)  # noqa: S102 - generated from constants
    return ns[f"pack{n}"]


_PACKERS = tuple(_make_packer(n) for n in range(12))


def pack_words(words: list) -> bytes:
    """Protocol bytes of a command given as a list of ``bytes`` arguments."""
    n = len(words)
    if n < 12:
        return _PACKERS[n](words)
    return b"*%d\r\n" % n + b"".join([b"$%d\r\n%s\r\n" % (len(w), w) for w in words])


def pack_text(text: str) -> bytes:
    """Protocol bytes of a format without ``%``: the text cut at NUL, arguments split on
    spaces (runs collapse), as :func:`compile_format` plans it -- without building a plan."""
    b = text.encode("utf-8", "surrogateescape")
    if b"\0" in b:
        b = b[:b.index(b"\0")]
    words = b.split(b" ")
    if b"" in words:
        words = [w for w in words if w]
    n = len(words)
    if n < 12:
        return _PACKERS[n](words)
    return pack_words(words)


def _enc(a: str) -> bytes:
    b = a.encode("utf-8", "surrogateescape")
    if b"\0" in b:
        return b[:b.index(b"\0")]
    return b


class Plan:
    """A tokenised format: ``argv`` is a list of arguments, each a list of parts
    (``bytes`` literals or ``None`` for a ``%s`` slot); ``nargs`` counts the slots.

    ``packed`` holds the protocol bytes when the plan has no slot.  ``pack(args)``
    (at least ``nargs`` arguments) is one bytes ``%`` formatting: the literal parts are
    in the template, each argument holding slots is ``$%d\r\n`` plus its parts.
    """

    __slots__ = ("text", "argv", "nargs", "packed", "pack")

    def __init__(self, text: str, argv: list[list], nargs: int):
        self.text = text
        self.argv = argv
        self.nargs = nargs
        tmpl = [b"*%d\r\n" % len(argv)]
        groups = []  # per argument holding slots: (fixed length, number of slots)
        for parts in argv:
            if None not in parts:
                tmpl.append(_bulk(b"".join(parts)).replace(b"%", b"%%"))
                continue
            fixed = 0
            cnt = 0
            body = [b"$%d\r\n"]
            for p in parts:
                if p is None:
                    cnt += 1
                    body.append(b"%s")
                else:
                    fixed += len(p)
                    body.append(p.replace(b"%", b"%%"))
            body.append(b"\r\n")
            tmpl.append(b"".join(body))
            groups.append((fixed, cnt))
        fmt = b"".join(tmpl)
        if not groups:
            self.packed = packed = fmt % ()
            self.pack = lambda args=(): packed
        else:
            self.packed = None
            self.pack = _plan_packer(fmt, tuple(groups))

    def argv_bytes(self, args: tuple = ()) -> list[bytes]:
        """The argument vector Redis receives (for tests and MONITOR-like checks)."""
        it = iter(_enc(a) for a in args)
        return [b"".join(next(it) if p is None else p for p in parts) for parts in self.argv]


def _plan_packer(fmt: bytes, groups: tuple):
    """``pack(args)`` for a template ``fmt`` and its slot ``groups``."""
    if groups == ((0, 1),):
        def pack1(args):
            a = args[0].encode("utf-8", "surrogateescape")
            if b"\0" in a:
                a = a[:a.index(b"\0")]
            return fmt % (len(a), a)
        return pack1
    if all(cnt == 1 for _, cnt in groups):
        offs = tuple(f for f, _ in groups)
        n = len(offs)

        def pack_each(args):
            vals = []
            for i in range(n):
                a = _enc(args[i])
                vals += (offs[i] + len(a), a)
            return fmt % tuple(vals)
        return pack_each

    def pack_groups(args):
        vals = []
        k = 0
        for fixed, cnt in groups:
            enc = [_enc(args[k + j]) for j in range(cnt)]
            k += cnt
            vals.append(fixed + sum(map(len, enc)))
            vals += enc
        return fmt % tuple(vals)
    return pack_groups


def _static_plan(text: str, words: list[str]) -> Plan:
    """The plan of a format without ``%``: arguments split on spaces, packed once."""
    return Plan(text, [[encode(w)] for w in words], 0)


def _bad_conversion(fmt: str, i: int) -> "Undefined | _FormatError":
    """What the ``%`` at ``i`` (not ``%s``, ``%%``) makes of the whole format."""
    n = len(fmt)
    if fmt[i + 1] == "b":
        return Undefined("%b (binary argument: pointer and size_t varargs)")
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


def compile_format(fmt: str) -> Plan | Undefined | _FormatError:
    """Tokenise ``fmt`` like hiredis's ``redisvFormatCommand``."""
    nul = fmt.find("\0")
    if nul >= 0:
        fmt = fmt[:nul]
    if "%" not in fmt:
        return _static_plan(fmt, [w for w in fmt.split(" ") if w])
    argv: list[list] = []
    cur: list = []
    touched = False
    nargs = 0
    i = 0
    n = len(fmt)
    while True:
        j = fmt.find("%", i)
        chunk = fmt[i:] if j < 0 else fmt[i:j]
        if chunk:
            # literal text: every space ends the current argument (when there is one)
            pieces = chunk.split(" ")
            first = pieces[0]
            if first:
                cur.append(encode(first))
                touched = True
            for p in pieces[1:]:
                if touched:
                    argv.append(cur)
                    cur = []
                    touched = False
                if p:
                    cur.append(encode(p))
                    touched = True
        if j < 0:
            break
        if j + 1 >= n:  # a % ending the text is a literal %
            cur.append(b"%")
            touched = True
            break
        nc = fmt[j + 1]
        if nc == "s":
            cur.append(None)
            nargs += 1
        elif nc == "%":
            cur.append(b"%")
        else:
            return _bad_conversion(fmt, j)
        touched = True
        i = j + 2
    if touched:
        argv.append(cur)
    # adjacent literal parts of an argument as one
    for k, parts in enumerate(argv):
        if len(parts) > 1:
            merged: list = []
            for p in parts:
                if p is not None and merged and merged[-1] is not None:
                    merged[-1] += p
                else:
                    merged.append(p)
            argv[k] = merged
    return Plan(fmt, argv, nargs)


class PlanCache:
    """Compiled formats by command text (bounded: texts beyond ``limit`` are compiled per use).

    (The module keeps its own cache of protocol bytes and plans, see the module docstring.)"""

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
