"""Per-message processing state (Kamailio's ``sip_msg`` plus the run context).

A :class:`MsgContext` lives while one message runs through the routes: the
message and its pending edits, the new R-URI and destination, flags, AVPs, the
last return code, what was sent and logged. Script-wide state (``$var``,
``$shv``, htables, Redis) lives on the :class:`~kscript.script.Script`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..sip.message import SipMessage

# Kamailio log levels (core/dprint.h): lower is more severe.
LEVELS = {"ALERT": -5, "BUG": -4, "CRIT": -3, "ERR": -1, "WARN": 0, "NOTICE": 1, "INFO": 2, "DBG": 3}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
LEVELS["CRIT"] = -2
LEVEL_NAMES[-2] = "CRIT"
LEVEL_NAMES[-3] = "CRIT"


@dataclass(slots=True)
class LogRecord:
    """One log line: ``level`` is ERR/WARN/NOTICE/INFO/DBG/CRIT/ALERT; ``source`` is
    "script" for xlog/log, else the module or "core"."""

    level: str
    text: str
    source: str = "script"
    pos: Any = None  # cfg Position of the action that logged

    def to_dict(self) -> dict:
        return {"level": self.level, "text": self.text[:-1] if self.text.endswith("\n") else self.text,
                "source": self.source}


@dataclass(slots=True)
class Socket:
    proto: str  # udp tcp tls sctp ws wss
    ip: str
    port: int

    def __str__(self) -> str:
        ip = f"[{self.ip}]" if ":" in self.ip and not self.ip.startswith("[") else self.ip
        return f"{self.proto}:{ip}:{self.port}"

    @classmethod
    def parse(cls, text: str, default_proto: str = "udp", default_port: int = 5060) -> "Socket":
        """Parse ``[proto:]ip[:port]`` (IPv6 in brackets)."""
        proto = default_proto
        rest = text
        head, sep, tail = text.partition(":")
        if sep and head.lower() in ("udp", "tcp", "tls", "sctp", "ws", "wss"):
            proto, rest = head.lower(), tail
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                raise ValueError(f"bad address '{text}'")
            ip = rest[1:end]
            port_s = rest[end + 2:] if rest[end + 1:end + 2] == ":" else ""
        else:
            ip, _, port_s = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
            if not ip:
                ip, port_s = rest, ""
        port = int(port_s) if port_s else default_port
        if not ip or not (0 < port < 65536):
            raise ValueError(f"bad address '{text}'")
        return cls(proto, ip, port)


@dataclass(slots=True)
class Sent:
    """A message kscript sent: ``kind`` "reply" or "request", ``dst`` a Socket."""

    kind: str
    dst: Socket
    text: str
    src: Socket | None = None
    _parsed: Any = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "dst": str(self.dst), "message": self.text}

    @property
    def message(self) -> "SipMessage":
        if self._parsed is None:
            from ..sip.message import SipMessage
            self._parsed = SipMessage.parse(self.text)
        return self._parsed

    # convenience accessors used by the API (result.replies / result.requests)
    @property
    def status(self) -> int | None:
        return self.message.status

    @property
    def reason(self) -> str | None:
        return self.message.reason

    @property
    def method(self) -> str | None:
        return self.message.method

    @property
    def ruri(self) -> str | None:
        return self.message.ruri

    def header(self, name: str) -> str | None:
        return self.message.header(name)

    def headers(self, name: str) -> list[str]:
        return self.message.headers_named(name)


@dataclass(slots=True, eq=False)
class MsgContext:
    """Everything one message's processing touches."""

    script: Any
    msg: "SipMessage"
    src: Socket
    rcv: Socket  # the local socket the message arrived on
    route_type: str = "request"
    received_at: float = field(default_factory=time.time)
    # request state
    new_uri: str | None = None
    dst_uri: str | None = None
    flags: int = 0
    bflags: int = 0
    sflags: int = 0
    avps: dict = field(default_factory=dict)
    xavps: dict = field(default_factory=dict)
    rc: int = 0
    branches: list = field(default_factory=list)
    lumps: Any = None  # message edits (created on first use)
    reply_lumps: list[str] = field(default_factory=list)
    force_rport: bool = False
    add_local_rport: bool = False
    force_socket: Socket | None = None
    # results
    sent: list[Sent] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    replied: bool = False
    dropped: bool = False
    transaction: Any = None
    armed: dict = field(default_factory=dict)  # failure/onreply/branch route names
    flow: list = field(default_factory=list)  # route flow entries (tracing)
    cur_pos: Any = None  # position of the running action (for logs)
    data: dict = field(default_factory=dict)  # per-message module state

    def log(self, level: str, text: str, source: str = "script", pos=None) -> None:
        lvl = LEVELS.get(level, 0)
        if lvl > self.script.debug_level:
            return
        self.logs.append(LogRecord(level, text, source, pos or self.cur_pos))

    def warn(self, text: str, source: str = "core") -> None:
        self.log("WARN", text, source)

    def error(self, text: str, source: str = "core") -> None:
        self.log("ERR", text, source)

    def send(self, kind: str, dst: Socket, text: str) -> Sent:
        s = Sent(kind, dst, text, self.rcv)
        self.sent.append(s)
        return s

    @property
    def ruri(self) -> str:
        """The current request URI (new one if rewritten)."""
        return self.new_uri if self.new_uri is not None else self.msg.ruri
