"""Via header bodies (after core/parser/parse_via.c@5.6.3, rewritten as a scanner).

One Via header body may hold several via-parms separated by commas::

    SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776;rport, SIP/2.0/TCP [2001:db8::1];received=1.2.3.4

Rules taken from Kamailio: the protocol name is ``SIP`` and the version ``2.0``
(case-insensitive, blanks allowed around ``/``); any transport token is accepted
(udp/tcp/tls/sctp/ws/wss are recognised, others are "other"); the host is ``[...]`` or
any run of characters other than blanks and ``:;,()[]``; the port must be 1-5 digits
(values above 65535 wrap like Kamailio's unsigned short); parameter values are tokens or
quoted strings; ``branch``, ``received``, ``maddr``, ``ttl`` and ``i`` need a value,
``hidden`` and ``alias`` must not have one, ``rport`` may have one; an optional
``(comment)`` may follow the parameters.  Line folding is allowed anywhere blanks are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import SipParseError
from .uri import PROTO_OTHER, PROTO_SCTP, PROTO_TCP, PROTO_TLS, PROTO_UDP, PROTO_WS, PROTO_WSS

__all__ = ["Via", "parse_via_body"]

_VIA_PROTOS = {"udp": PROTO_UDP, "tcp": PROTO_TCP, "tls": PROTO_TLS, "sctp": PROTO_SCTP, "ws": PROTO_WS,
               "wss": PROTO_WSS}
_LWS = r"(?:[ \t]|\r?\n[ \t])*"
_PROTO_RE = re.compile(r"(?P<name>[Ss][Ii][Pp])" + _LWS + "/" + _LWS + r"(?P<ver>2\.0)" + _LWS + "/" + _LWS
                       + r"(?P<tr>[^ \t\r\n/;,]+)")
_LWS_RE = re.compile(_LWS)
_HOST_RE = re.compile(r"\[[^\]\s;,]*\]|[^ \t\r\n:;,()\[\]]+")
_PORT_RE = re.compile(r"[^ \t\r\n;,()]+")
_NAME_RE = re.compile(r"[^ \t\r\n;,=]+")
_TOKEN_RE = re.compile(r"[^ \t\r\n;,=\"]*")
_FAST_VIA = re.compile(r"SIP/2\.0/([A-Za-z]+) ([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?"
                       r"((?:;[A-Za-z0-9\-_.!~*'+%]+(?:=[A-Za-z0-9\-_.!~*'+%:\[\]]+)?)*)\Z")
_NEED_VALUE = frozenset(("branch", "received", "maddr", "ttl", "i"))
_NO_VALUE = frozenset(("hidden", "alias"))


@dataclass(slots=True)
class Via:
    """One via-parm.  ``params`` keeps the parameters in order as (name, value|None)."""

    transport: str
    host: str
    port: str | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    comment: str | None = None
    name: str = "SIP"
    version: str = "2.0"
    #: numeric port (0 when absent)
    port_no: int = 0
    #: PROTO_* number of the transport
    proto: int = PROTO_UDP
    #: the via-parm as written
    raw: str = field(default="", repr=False)
    #: parameters by lower-case name (last one wins), built on first use; Via
    #: objects are never edited after parsing, so it cannot go stale
    _pmap: dict | None = field(default=None, repr=False, compare=False)

    def _params_by_name(self) -> dict:
        pm = {}
        for n, v in self.params:
            pm[n.lower()] = "" if v is None else v
        self._pmap = pm
        return pm

    def param(self, name: str) -> str | None:
        """Value of the last parameter ``name`` (case-insensitive); ``""`` when it has no
        value, ``None`` when absent."""
        pm = self._pmap
        if pm is None:
            pm = self._params_by_name()
        return pm.get(name.lower())

    @property
    def branch(self) -> str | None:
        pm = self._pmap
        return (pm if pm is not None else self._params_by_name()).get("branch")

    @property
    def received(self) -> str | None:
        pm = self._pmap
        return (pm if pm is not None else self._params_by_name()).get("received")

    @property
    def rport(self) -> str | None:
        pm = self._pmap
        return (pm if pm is not None else self._params_by_name()).get("rport")

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        if self.raw:
            return self.raw
        out = [f"{self.name}/{self.version}/{self.transport} {self.sent_by}"]
        for n, v in self.params:
            out.append(f";{n}" if v is None else f";{n}={v}")
        if self.comment is not None:
            out.append(f" ({self.comment})")
        return "".join(out)


def parse_via_body(text: str) -> list[Via]:
    """Parse a Via header body into its via-parms; raise SipParseError when malformed.

    >>> [(v.transport, v.host, v.port, v.branch) for v in parse_via_body(
    ...     "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1, SIP/2.0/TCP h.example.com;branch=z9hG4bK2")]
    [('UDP', '10.0.0.1', '5060', 'z9hG4bK1'), ('TCP', 'h.example.com', None, 'z9hG4bK2')]
    """
    m = _FAST_VIA.match(text)
    if m is not None:
        transport, host, port, ptext = m.groups()
        params = []
        ok = True
        if ptext:
            for seg in ptext[1:].split(";"):
                pname, eq, value = seg.partition("=")
                lname = pname.lower()
                if (lname in _NEED_VALUE and not eq) or (lname in _NO_VALUE and eq):
                    ok = False
                    break
                params.append((pname, value if eq else None))
        if ok:
            return [Via(transport, host, port, tuple(params), None, "SIP", "2.0", int(port) & 0xFFFF if port else 0,
                        _VIA_PROTOS.get(transport.lower(), PROTO_OTHER), text)]
    return parse_via_scan(text)


def parse_via_scan(text: str) -> list[Via]:
    """:func:`parse_via_body` without the regular-expression fast path."""
    out: list[Via] = []
    n = len(text)
    i = _LWS_RE.match(text, 0).end()
    while True:
        start = i

        def err(msg, at=None):
            pos = i if at is None else at
            raise SipParseError(f"bad Via ({msg}) at offset {pos}: {text.strip()!r}")

        m = _PROTO_RE.match(text, i)
        if m is None:
            err("expected SIP/2.0/<transport>")
        transport = m.group("tr")
        i = m.end()
        j = _LWS_RE.match(text, i).end()
        if j == i or j >= n:
            err("no host")
        i = j
        m = _HOST_RE.match(text, i)
        if m is None:
            err("no host")
        host = m.group()
        i = _LWS_RE.match(text, m.end()).end()
        port = None
        port_no = 0
        if i < n and text[i] == ":":
            i = _LWS_RE.match(text, i + 1).end()
            m = _PORT_RE.match(text, i)
            if m is None:
                err("bad port")
            port = m.group()
            if not port.isdigit() or not port.isascii() or len(port) > 5:
                err("invalid port number")
            port_no = int(port) & 0xFFFF
            i = _LWS_RE.match(text, m.end()).end()
        params: list[tuple[str, str | None]] = []
        while i < n and text[i] == ";":
            i = _LWS_RE.match(text, i + 1).end()
            m = _NAME_RE.match(text, i)
            if m is None:
                err("null param")
            pname = m.group()
            lname = pname.lower()
            i = _LWS_RE.match(text, m.end()).end()
            value = None
            if i < n and text[i] == "=":
                if lname in _NO_VALUE:
                    err(f"'=' after {pname}")
                i = _LWS_RE.match(text, i + 1).end()
                if i < n and text[i] == '"':
                    close = text.find('"', i + 1)
                    if close < 0:
                        err("unterminated quoted value")
                    value = text[i + 1:close]
                    i = close + 1
                else:
                    m = _TOKEN_RE.match(text, i)
                    value = m.group()
                    i = m.end()
                    if i < n and text[i] in '="':
                        err(f"invalid char {text[i]!r} in value")
                    if not value and (i >= n or text[i] != ";") and lname not in ("rport",) and \
                            (lname in _NEED_VALUE or (i < n and text[i] == ",")):
                        err(f"empty value for {pname}")
                i = _LWS_RE.match(text, i).end()
            elif lname in _NEED_VALUE:
                err(f"{pname} without value")
            params.append((pname, value))
        comment = None
        if i < n and text[i] == "(":
            depth = 0
            k = i
            while k < n:
                if text[k] == "(":
                    depth += 1
                elif text[k] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            if depth != 0:
                err("unterminated comment")
            comment = text[i + 1:k]
            i = _LWS_RE.match(text, k + 1).end()
        raw_end = i
        while raw_end > start and text[raw_end - 1] in " \t\r\n":
            raw_end -= 1
        out.append(Via(transport=transport, host=host, port=port, params=tuple(params), comment=comment,
                       name=text[start:start + 3], port_no=port_no,
                       proto=_VIA_PROTOS.get(transport.lower(), PROTO_OTHER), raw=text[start:raw_end]))
        if i >= n:
            return out
        if text[i] != ",":
            err(f"unexpected {text[i]!r}")
        while i < n and (text[i] == "," or text[i] in " \t\r\n"):
            i += 1
        if i >= n:
            err("nothing after ','")
