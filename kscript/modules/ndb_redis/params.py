"""The ``server`` modparam of ndb_redis: ``name=srvA;addr=127.0.0.1;port=6379;db=1;pass=x``.

Parsed the way Kamailio 5.6.3 does it (ndb/redis_client.c@5.6.3:334-385 with
core/parser/parse_param.c): ``;``-separated ``attr=value`` pairs, a trailing
``;`` tolerated, values may be quoted (``"..."``/``'...'``), a ``,`` or ``>``
ends the list, anything else after a value is an error.  Kamailio keeps the
attributes in *reverse* order and walks them in that order, so for a repeated
attribute the *first* occurrence wins and repeated ``sentinel=`` attributes are
tried from the last one declared; ``name`` is the last ``name=`` given.
Attribute names are case-sensitive; unknown ones are ignored.  Bad numbers fall
back to the defaults (``port`` 6379, ``db`` 0, ``sentinel_master`` 1), as in
Kamailio.

``tls`` (1 = TLS to the server, 2 = TLS to the sentinels, 3 = both) and the
per-server ``connect_timeout``/``command_timeout`` (ms) are attributes of newer
Kamailio versions (5.8 and 6.1); Kamailio 5.6.3 ignores them, kscript honours
them.

The password never appears in ``repr()``/``str()`` of a :class:`ServerSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAXIMUM_SENTINELS = 5
DEFAULT_PORT = 6379


class ServerSpecError(ValueError):
    """A ``server`` value Kamailio refuses (the modparam fails)."""


def _str2int(text: str) -> int | None:
    """Kamailio's ``str2int`` (unsigned decimal, no sign, no spaces); None on failure."""
    if not text.isdigit() or not text.isascii():
        return None if text else 0
    v = int(text)
    return v if v <= 0xFFFFFFFF else None


def _atoi(text: str) -> int:
    """C ``atoi``: leading blanks, optional sign, digits; 0 when there are none."""
    s = text.lstrip(" \t\n\r\f\v")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    n = 0
    for ch in s:
        if "0" <= ch <= "9":
            n = n * 10 + ord(ch) - 48
        else:
            break
    return sign * n


_WS = " \t\r\n"


def parse_param_list(spec: str) -> list[tuple[str, str]]:
    """``parse_params(CLASS_ANY)`` over ``spec``: ``[(name, body), ...]`` in declaration order."""
    s = spec
    if s.endswith(";"):
        s = s[:-1]
    out: list[tuple[str, str]] = []
    i, n = 0, len(s)
    if n == 0:
        return out
    while True:
        start = i
        while i < n and s[i] not in " \t\r\n,=;":
            i += 1
        name = s[start:i]
        while i < n and s[i] in _WS:
            i += 1
        body = ""
        if i >= n:
            out.append((name, body))
            return out
        if s[i] == "=":
            i += 1
            while i < n and s[i] in _WS:
                i += 1
            if i < n:
                if s[i] in "\"'":
                    q = s[i]
                    end = s.find(q, i + 1)
                    if end < 0 or n - i < 2:
                        raise ServerSpecError("error while parsing quoted string")
                    body = s[i + 1:end]
                    i = end + 1
                else:
                    start = i
                    while i < n and s[i] not in " \t\r\n,;":
                        i += 1
                    body = s[start:i]
            while i < n and s[i] in _WS:
                i += 1
            if i >= n:
                out.append((name, body))
                return out
        out.append((name, body))
        if s[i] in ",>":
            return out
        if s[i] != ";":
            raise ServerSpecError(f"invalid character '{s[i]}' - expected ';'")
        i += 1
        while i < n and s[i] in _WS:
            i += 1
        if i >= n:
            raise ServerSpecError("param name missing after ;")


@dataclass
class ServerSpec:
    """One ``server`` modparam, resolved to the settings ndb_redis uses."""

    name: str
    addr: str = ""
    port: int = DEFAULT_PORT
    unix: str | None = None
    db: int = 0
    password: str | None = field(default=None, repr=False)
    sentinel_group: str = ""
    sentinel_master: int = 1
    sentinels: list[tuple[str, int]] = field(default_factory=list)
    tls: int = 0
    connect_timeout: int | None = None  # ms, per-server override (6.1+)
    command_timeout: int | None = None  # ms, per-server override (6.1+)
    dynamic: bool = False  # created from a cluster MOVED reply

    def __repr__(self) -> str:
        where = f"unix:{self.unix}" if self.unix else f"{self.addr}:{self.port}"
        extra = ", pass=***" if self.password is not None else ""
        return f"ServerSpec(name={self.name!r}, {where}/{self.db}{extra})"

    __str__ = __repr__

    @property
    def has_password(self) -> bool:
        return self.password is not None

    def where(self, addr: str | None = None, port: int | None = None) -> str:
        """How Kamailio names the server in its logs: ``(addr:port/db)`` or ``(unix:path db:N)``."""
        if self.unix:
            return f"(unix:{self.unix} db:{self.db})"
        return f"({self.addr if addr is None else addr}:{self.port if port is None else port}/{self.db})"


def parse_server(spec: str) -> ServerSpec:
    """Parse a ``server`` modparam value (raise :class:`ServerSpecError` when Kamailio would)."""
    if not spec:
        raise ServerSpecError("failed parsing params value")
    try:
        attrs = parse_param_list(spec)
    except ServerSpecError as e:
        raise ServerSpecError(f"failed parsing params value ({e})") from None
    # Kamailio prepends every parsed param: walk them last-to-first.
    attrs.reverse()
    name = None
    for k, v in attrs:
        if k == "name":
            name = v
            break
    if name is None:
        raise ServerSpecError("no server name")
    srv = ServerSpec(name=name)
    sentinels: list[tuple[str, int]] = []
    for k, v in attrs:
        if k == "unix":
            srv.unix = v
        elif k == "addr":
            srv.addr = v
        elif k == "port":
            p = _str2int(v)
            srv.port = DEFAULT_PORT if p is None else p
        elif k == "db":
            d = _str2int(v)
            srv.db = 0 if d is None else d
        elif k == "pass":
            srv.password = v
        elif k == "sentinel_group":
            srv.sentinel_group = v
        elif k == "sentinel_master":
            m = _str2int(v)
            srv.sentinel_master = 1 if m is None else m
        elif k == "sentinel":
            if len(sentinels) >= MAXIMUM_SENTINELS:
                raise ServerSpecError(f"too many sentinels, maximum {MAXIMUM_SENTINELS} supported.")
            host, sep, port = v.partition(":")
            sentinels.append((host, _atoi(port) if sep else DEFAULT_PORT))
        elif k == "tls":
            srv.tls = _atoi(v)
        elif k == "connect_timeout":
            t = _str2int(v)
            srv.connect_timeout = t
        elif k == "command_timeout":
            t = _str2int(v)
            srv.command_timeout = t
    srv.sentinels = sentinels
    return srv
