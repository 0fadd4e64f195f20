"""Everything kscript sends: replies and forwarded requests, built like Kamailio 5.6.3.

Kamailio builds outgoing messages from the received one (core/msg_translator.c,
core/forward.c @5.6.3); this module does the same, byte for byte where it
matters:

* **stateless replies** (``build_res_buf_from_sip_req``): status line with the
  request's SIP version, then -- in the order they appear in the request -- all
  Via headers (the top one gets ``;rport=<src port>`` when it had ``rport`` or
  ``force_rport()`` was called, replacing an existing ``rport``, and
  ``;received=<src ip>`` when the Via host is not the source IP or it had
  ``rport``/``received``; both appended at the end of that header),
  Record-Route (only for 180-299), From, To (with the given to-tag added when
  the To has none), Call-ID, CSeq -- each copied as received -- then the reply
  lumps (``append_to_reply``), the ``Server`` header (core ``server_header`` /
  ``server_signature``), ``Content-Length`` and the body reply lump.  It is sent
  to the source IP, port = source port with ``rport``/``force_rport()``, else
  the Via port (5060), over the receiving socket;
* **forwarded requests** (``build_req_buf_from_sip_req``): our Via on top
  (``Via: SIP/2.0/UDP <send ip>[:<port unless 5060>];branch=...[;rport]``),
  ``;rport=``/``;received=`` inserted in the received top Via (same rules,
  placed after host:port), every lump applied (see :mod:`kscript.sip.lumps`),
  request line from the new R-URI, Content-Length rewritten only when the body
  was edited;
* **stateless reply forwarding** (``forward_reply``): top Via removed, lumps
  applied, sent to the second Via (``received``/``rport`` honoured).

Addresses: there is no DNS offline.  An IP literal (or ``localhost``) is used as
is; any other host name makes the send fail with Kamailio's log line.

API for the transaction module (tm)
-----------------------------------

``build_reply(ctx, code, reason, *, to_tag=None, extra_headers="", body=None) -> str``
    A reply to ``ctx.msg`` as ``build_res_buf_from_sip_req`` makes it.  ``to_tag``
    is added to a To without tag (pass ``None`` for none -- Kamailio adds one only
    for codes >= 180).  ``extra_headers`` (complete lines with CRLF) go after the
    reply lumps; ``body`` replaces a body reply lump.
``reply_destination(ctx) -> Socket``
    Where a locally generated reply goes (source IP; source port with rport /
    force_rport, else the top Via port or 5060; the receiving transport).
``send_reply(ctx, text, dst=None) -> Sent``
    Record a reply as sent (from the receiving socket).
``next_hop(ctx, uri=None) -> Socket | None``
    Where a request goes: ``uri`` or ``$du`` or the R-URI; ``None`` when the host
    is not an IP (see :func:`uri_destination` for the reason).
``uri_destination(uri, default_proto="udp") -> Socket``
    Destination of a SIP URI (transport param, ``sips`` -> tls, default port
    5060/5061); raises :class:`DestinationError` for host names.
``send_socket(ctx, dst) -> Socket | None``
    The local socket a request to ``dst`` leaves from (forced socket, the
    receiving socket, or the first listener of that transport).
``build_request(ctx, ruri, dst, branch, *, send_sock=None, via_params="", lumps=None, persist=False) -> str``
    The request to send on one branch: ``ruri`` (``None`` = the current R-URI)
    goes in the request line, ``branch`` in our Via (``via_params`` appended
    after it, e.g. ``";i=..."``).  The Via/received/rport/Content-Length lumps
    are added to a *copy* of the message lumps (``lumps`` or ``ctx.lumps``) unless
    ``persist`` (stateless ``forward()`` keeps them on the message, as Kamailio does).
``stateless_branch(ctx) -> str`` / ``transaction_hash(ctx) -> int`` / ``char_msg_val(msg) -> str``
    Kamailio's branch for stateless forwarding (``z9hG4bK<hash>.<md5>.0``) and its parts;
    tm builds ``z9hG4bK<hash>.<label>.<branch>`` from :func:`reverse_hex`.
``sl_to_tag(ctx) -> str``
    The To tag sl puts in stateless replies (``<md5>.<crc>``, stable per request).
``Branch``
    One entry of the destination set (``ctx.branches``, filled by ``append_branch()``).
"""

from __future__ import annotations

import binascii
import hashlib
import ipaddress
import os
import re
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..runtime.context import Socket as _Socket
from .headers import _MEMO as _HEADER_KEYS, header_key
from .lumps import Lumps, SendInfo, blen, lumps_of, reply_body, reply_header_text

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.context import MsgContext, Sent, Socket
    from .message import SipMessage

__all__ = [
    "DestinationError", "Branch", "build_reply", "reply_destination", "send_reply", "send_stateless_reply",
    "next_hop", "uri_destination", "send_socket", "build_request", "check_boundaries", "forward_request", "forward_reply",
    "build_forwarded_reply", "stateless_branch", "transaction_hash", "char_msg_val", "sl_to_tag", "reverse_hex",
    "server_header", "via_layout", "is_ip",
]

DEFAULT_SERVER = "Server: kamailio (5.6.3 (x86_64/linux))"
SIP_PORT = 5060
SIPS_PORT = 5061
PROTOS = ("udp", "tcp", "tls", "sctp", "ws", "wss")


class DestinationError(Exception):
    """A destination cannot be used (not an IP, bad URI, no socket...)."""


@dataclass
class Branch:
    """An additional destination (Kamailio's dset entry, ``append_branch()``).

    ``q`` is Kamailio's qvalue (0..1000, -1 = unspecified)."""

    uri: str
    dst_uri: str | None = None
    path: str | None = None
    q: int = -1
    flags: int = 0  # branch flags
    socket: Any = None  # forced send Socket
    instance: str | None = None
    ruid: str | None = None
    location_ua: str | None = None


# ---------------------------------------------------------------- small helpers
def reverse_hex(n: int) -> str:
    """Kamailio's ``int2reverse_hex``: hex digits, least significant first."""
    n &= 0xFFFFFFFF
    if n == 0:
        return "0"
    out = []
    while n:
        out.append("0123456789abcdef"[n & 0xF])
        n >>= 4
    return "".join(out)


def _hash_update(data: bytes, h: int) -> int:
    n = len(data)
    if data.isascii():
        # all bytes < 0x80: C's signed chars equal the unsigned ones, so each 4-byte
        # chunk is a big-endian uint32 (the common case: Call-IDs, CSeq numbers)
        i = n - (n & 3)
        for (v,) in _BE32.iter_unpack(data[:i]):
            h = (h + (v ^ (v >> 3))) & 0xFFFFFFFF
        rest = n - i
        if rest == 3:
            v = (data[i] << 16) + (data[i + 1] << 8) + data[i + 2]
        elif rest == 2:
            v = (data[i] << 8) + data[i + 1]
        elif rest == 1:
            v = data[i]
        else:
            v = 0
        return (h + (v ^ (v >> 3))) & 0xFFFFFFFF
    _sc = _SIGNED_CHAR.__getitem__
    i = 0
    while i <= n - 4:
        v = ((_sc(data[i]) << 24) + (_sc(data[i + 1]) << 16) + (_sc(data[i + 2]) << 8) + _sc(data[i + 3])) \
            & 0xFFFFFFFF
        h = (h + (v ^ (v >> 3))) & 0xFFFFFFFF
        i += 4
    rest = n - i
    if rest == 3:
        v = ((_sc(data[i]) << 16) + (_sc(data[i + 1]) << 8) + _sc(data[i + 2])) & 0xFFFFFFFF
    elif rest == 2:
        v = ((_sc(data[i]) << 8) + _sc(data[i + 1])) & 0xFFFFFFFF
    elif rest == 1:
        v = _sc(data[i]) & 0xFFFFFFFF
    else:
        v = 0
    return (h + (v ^ (v >> 3))) & 0xFFFFFFFF


_BE32 = struct.Struct(">I")


def _sc(b: int) -> int:
    """A byte as C's signed char."""
    return b - 256 if b > 127 else b


_SIGNED_CHAR = tuple(_sc(b) for b in range(256))


def _enc(s: str | None) -> bytes:
    return (s or "").encode("utf-8", "surrogateescape")


@lru_cache(maxsize=256)
def hash2(s1: str, s2: str, size: int = 1 << 16) -> int:
    """Kamailio's ``get_hash2_raw`` masked to a table size (tm's hash: 2^16 entries)."""
    h = _hash_update(_enc(s1), 0)
    h = _hash_update(_enc(s2), h)
    h = (h + (h >> 11) + (h >> 13) + (h >> 23)) & 0xFFFFFFFF
    return h & (size - 1)


def transaction_hash(ctx_or_msg) -> int:
    """Hash index of a request (Call-ID, CSeq number), as tm and forward() compute it."""
    msg = getattr(ctx_or_msg, "msg", ctx_or_msg)
    cs = msg.cseq
    return hash2(msg.call_id or "", cs.number if cs else "")


def char_msg_val(msg: "SipMessage") -> str:
    """MD5 (hex) of the transaction key: From tag, To tag (not for INVITE/ACK/CANCEL),
    Call-ID, request URI, CSeq number, top Via host, port and branch."""
    frm = msg.from_
    to = msg.to
    method = (msg.method or "").upper()
    parts = [frm.tag if frm is not None and frm.tag else "",
             "" if method in ("INVITE", "ACK", "CANCEL") else (to.tag if to is not None and to.tag else ""),
             msg.call_id or "", msg.ruri or "", msg.cseq.number if msg.cseq else ""]
    via = msg.vias[0]
    parts += [via.host, via.port or ""]
    if via.branch is not None:
        parts.append(via.branch)
    return hashlib.md5(b"".join(_enc(p) for p in parts)).hexdigest()


def stateless_branch(ctx) -> str:
    """The branch forward() puts in its Via: ``z9hG4bK<hash>.<md5 of the key>.0``."""
    return f"z9hG4bK{reverse_hex(transaction_hash(ctx))}.{char_msg_val(ctx.msg)}.0"


def _ccitt_table() -> list[int]:
    tab = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
        tab.append(c)
    return tab


_CCITT = _ccitt_table()


#: bytes with their bits mirrored: Kamailio's crcitt is the reflected CRC-CCITT
#: (poly 0x8408, init 0xFFFF); binascii.crc_hqx is the MSB-first one (poly 0x1021),
#: so the reflected CRC of data = mirror16(crc_hqx(data with each byte mirrored, 0xFFFF))
_REV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _crcitt_slow(parts: list[str]) -> str:
    """Reference byte-by-byte implementation of :func:`_crcitt`."""
    c = 0xFFFF
    for p in parts:
        for b in _enc(p):
            c = _CCITT[(c ^ b) & 0xFF] ^ (c >> 8)
    c = ~c & 0xFFFF
    return reverse_hex(c).ljust(4, "0")[:4]


def _crcitt(parts: list[str]) -> str:
    return _crc16("".join(parts))


def _crc16(text: str) -> str:
    data = text.encode("utf-8", "surrogateescape").translate(_REV8)
    h = binascii.crc_hqx(data, 0xFFFF)
    c = ~((_REV8[h & 0xFF] << 8) | _REV8[h >> 8]) & 0xFFFF
    # reverse_hex(c) padded to 4 digits with "0": the 4 hex digits, reversed
    return format(c, "04x")[::-1]


@lru_cache(maxsize=64)
def _sl_tag_prefix(ip: str, port: str) -> str:
    return hashlib.md5(_enc("KAMAILIO-stateless" + ip + port)).hexdigest()


def sl_to_tag(ctx) -> str:
    """sl's To tag: MD5("KAMAILIO-stateless" + first listen address + port) "." CRC
    suffix of the top Via and Call-ID (modules/sl, core/tags.h)."""
    script = ctx.script
    first = script.listen[0] if script.listen else None
    prefix = _sl_tag_prefix(first.ip if first else "", str(first.port) if first else "")
    return f"{prefix}.{to_tag_suffix(ctx)}"


def to_tag_suffix(ctx) -> str:
    """The 8 hex digits after the To tag prefix: the CRCs of the top Via and Call-ID."""
    msg = ctx.msg
    via = msg.vias[0]
    port = via.port or ""
    branch = via.branch
    call_id = msg.call_id
    s1 = via.host + port + (branch if branch is not None else "")
    s2 = port + via.host + (call_id if call_id is not None else "")
    return _crc16(s1) + _crc16(s2)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _host_ip(host: str) -> str | None:
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if h.lower() == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        return None


def _socket(proto: str, ip: str, port: int):
    return _Socket(proto, ip, port)


def server_header(script) -> str | None:
    """The Server header line (no CRLF) or None when ``server_signature`` is off."""
    cp = script.core_params
    sig = cp.get("server_signature", 1)
    if isinstance(sig, int) and sig == 0:
        return None
    hdr = cp.get("server_header")
    if isinstance(hdr, str):
        return hdr or None
    return DEFAULT_SERVER


def _core_int(script, name: str, default: int = 0) -> int:
    v = script.core_params.get(name, default)
    return v if isinstance(v, int) else default


# ---------------------------------------------------------------- the top Via
@dataclass
class ViaLayout:
    """Offsets of the received top Via in the message text."""

    hdr_index: int
    start: int            # header start (name)
    body_start: int
    body_end: int
    end: int              # after the line end
    hostport_end: int     # after host[:port] of the first via-parm
    params_start: int | None  # offset of the ';' before the first parameter
    params: list = field(default_factory=list)  # (lower name, name start, end)
    parm_end: int = 0     # end of the first via-parm (before ',' / LWS)
    next_parm: int | None = None  # start of the second via-parm in the same header

    def param(self, name: str):
        for p in self.params:
            if p[0] == name:
                return p
        return None


_VIA_HEAD = re.compile(r"[Ss][Ii][Pp](?:[ \t]|\r?\n[ \t])*/(?:[ \t]|\r?\n[ \t])*2\.0(?:[ \t]|\r?\n[ \t])*/"
                       r"(?:[ \t]|\r?\n[ \t])*[^ \t\r\n/;,]+(?:[ \t]|\r?\n[ \t])+"
                       r"(\[[^\]]*\]|[^ \t\r\n:;,()\[\]]+)((?:[ \t]|\r?\n[ \t])*:(?:[ \t]|\r?\n[ \t])*[0-9]+)?")
_LWS = re.compile(r"(?:[ \t]|\r?\n[ \t])*")
_VIA_PARAM_NAME = re.compile(r"[^ \t\r\n;,=]+")
_VIA_PARAM_VALUE = re.compile(r"[^ \t\r\n;,]*")


def via_layout(msg: "SipMessage") -> ViaLayout:
    """Where the parts of the top Via are (for inserting received/rport)."""
    vias = msg._idx().get("via")
    if not vias:
        raise StopIteration  # as next() over no Via header did
    hdr_index = vias[0]
    start, bstart, bend, end = msg.spans[hdr_index]
    text = msg.text
    m = _VIA_HEAD.match(text, bstart, bend)
    if m is None:
        raise ValueError("cannot locate the top Via parts")
    i = m.end()
    hostport_end = i
    params = []
    params_start = None
    while True:
        j = _LWS.match(text, i, bend).end()
        if j < bend and text[j] == ";":
            if params_start is None:
                params_start = j
            k = _LWS.match(text, j + 1, bend).end()
            nm = _VIA_PARAM_NAME.match(text, k, bend)
            if nm is None:
                break
            pend = nm.end()
            q = _LWS.match(text, pend, bend).end()
            if q < bend and text[q] == "=":
                q = _LWS.match(text, q + 1, bend).end()
                if q < bend and text[q] == '"':
                    close = text.find('"', q + 1, bend)
                    pend = (close + 1) if close >= 0 else bend
                else:
                    vm = _VIA_PARAM_VALUE.match(text, q, bend)
                    pend = vm.end()
            params.append((nm.group().lower(), k, pend))
            i = pend
            continue
        break
    parm_end = i
    j = _LWS.match(text, i, bend).end()
    if j < bend and text[j] == "(":
        close = text.find(")", j, bend)
        parm_end = (close + 1) if close >= 0 else bend
        j = _LWS.match(text, parm_end, bend).end()
    next_parm = None
    if j < bend and text[j] == ",":
        k = j
        while k < bend and (text[k] == "," or text[k] in " \t\r\n"):
            k += 1
        next_parm = k
    return ViaLayout(hdr_index, start, bstart, bend, end, hostport_end, params_start, params, parm_end, next_parm)


def _via_address_differs(ctx) -> bool:
    """``check_via_address``: is the top Via host something else than the source IP?"""
    host = ctx.msg.vias[0].host
    src = ctx.src.ip
    if ":" in src:  # IPv6: case-insensitive, brackets optional
        h = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            return ipaddress.ip_address(h) != ipaddress.ip_address(src)
        except ValueError:
            return h.lower() != src.lower()
    return host != src


def _needs_received(ctx) -> bool:
    via = ctx.msg.vias[0]
    return via.received is not None or via.rport is not None or _via_address_differs(ctx)


def _needs_rport(ctx) -> bool:
    return bool(ctx.force_rport) or ctx.msg.vias[0].rport is not None


# ---------------------------------------------------------------- replies
def reply_destination(ctx) -> "Socket":
    """Where a locally generated reply to ``ctx.msg`` goes (``update_sock_struct_from_ip``;
    with core ``reply_to_via=1``, the top Via's address)."""
    via = ctx.msg.vias[0]
    if via.rport is not None or ctx.force_rport:
        port = ctx.src.port
    else:
        port = via.port_no or SIP_PORT
    ip = ctx.src.ip
    if _core_int(ctx.script, "reply_to_via", 0):
        ip = _host_ip(via.host) or ip
    return _socket(ctx.rcv.proto, ip, port)


def build_reply(ctx, code: int, reason: str, *, to_tag: str | None = None, extra_headers: str = "",
                body: str | None = None) -> str:
    """A reply to ``ctx.msg`` built like Kamailio's ``build_res_buf_from_sip_req``
    (see the module docstring)."""
    msg = ctx.msg
    text = msg.text
    received = f";received={ctx.src.ip}" if _needs_received(ctx) else ""
    rport = f";rport={ctx.src.port}" if _needs_rport(ctx) else ""
    out = [f"{msg.version} {code % 1000:03d} {reason}\r\n"]
    vias = msg.vias
    vidx = msg._idx().get("via")
    top_via = vidx[0] if vias and vidx else -1
    spans = msg.spans
    memo = _HEADER_KEYS
    for i, h in enumerate(msg.headers):
        key = memo.get(h.name) or header_key(h.name)
        start, bstart, bend, end = spans[i]
        if key == "via":
            if i == top_via:
                # the layout (a rescan of the Via) is needed only to rewrite an rport=
                rp = via_layout(msg).param("rport") if rport and vias[0].rport is not None else None
                if rp is not None:
                    out.append(text[start:rp[1] - 1])
                    out.append(rport)
                    out.append(text[rp[2]:bend])
                else:
                    out.append(text[start:bend])
                    out.append(rport)
                out.append(received)
            else:
                out.append(text[start:bend])
            out.append("\r\n")
        elif key == "record-route":
            if 180 <= code < 300:
                out.append(text[start:end])
        elif key == "to":
            if to_tag:
                to = msg.to
                if to is not None and to.tag:
                    # replace the existing tag value
                    seg = text[start:end]
                    m = re.search(r"(;[ \t]*tag[ \t]*=[ \t]*)([^;,\s>]*)", seg[bstart - start:], re.I)
                    if m:
                        a = bstart - start + m.start(2)
                        b = bstart - start + m.end(2)
                        out.append(seg[:a] + to_tag + seg[b:])
                    else:
                        out.append(seg)
                else:
                    out.append(text[start:bend] + ";tag=" + to_tag + text[bend:end])
            else:
                out.append(text[start:end])
        elif key in ("from", "call-id", "cseq"):
            out.append(text[start:end])
    lumps = ctx.reply_lumps
    if lumps:
        out.append(reply_header_text(ctx))
    if extra_headers:
        out.append(extra_headers)
    srv = server_header(ctx.script)
    if srv:
        out.append(srv + "\r\n")
    if body is None and lumps:
        body = reply_body(ctx)
    if body:
        out.append(f"Content-Length: {blen(body)}\r\n")
    else:
        out.append("Content-Length: 0\r\n")
        body = ""
    if _core_int(ctx.script, "sip_warning", 0):
        out.append(_warning(ctx) + "\r\n")
    out.append("\r\n")
    out.append(body)
    return "".join(out)


def _warning(ctx) -> str:
    msg = ctx.msg
    out_uri = ctx.new_uri if ctx.new_uri is not None else msg.ruri
    return (f"Warning: 392 {ctx.rcv.ip}:{ctx.rcv.port} \"Noisy feedback tells: pid={os.getpid()} "
            f"req_src_ip={ctx.src.ip} req_src_port={ctx.src.port} in_uri={msg.ruri} out_uri={out_uri} "
            f"via_cnt=={len(msg.vias)}\"")


def send_reply(ctx, text: str, dst=None) -> "Sent":
    """Record a reply as sent from the receiving socket (to ``reply_destination`` by default)."""
    if dst is None:
        dst = reply_destination(ctx)
    sent = ctx.send("reply", dst, text)
    sent.src = ctx.rcv
    return sent


def print_dset(ctx) -> str | None:
    """The Contact header sl adds to 3xx replies: the new R-URI and the branches."""
    items = []
    if ctx.new_uri is not None:
        items.append(_contact_item(ctx.new_uri, ctx.data.get("ruri_q", -1)))
    for b in ctx.branches:
        uri = getattr(b, "uri", b)
        items.append(_contact_item(uri, getattr(b, "q", -1)))
    if not items:
        return None
    return "Contact: " + ", ".join(items) + "\r\n"


def _contact_item(uri: str, q: int) -> str:
    s = f"<{uri}>"
    if q is not None and q >= 0:
        s += ";q=" + q2str(q)
    return s


def q2str(q: int) -> str:
    """Kamailio's qvalue printing (1000 -> "1", 500 -> "0.5", 25 -> "0.025")."""
    if q >= 1000:
        return "1"
    if q <= 0:
        return "0"
    s = f"0.{q:03d}".rstrip("0")
    return s


def send_stateless_reply(ctx, code: int, reason: str, to_tag: str | None = None,
                         source: str = "sl") -> int:
    """sl's ``sl_reply_helper``: build and send a stateless reply; 1 or -1."""
    msg = ctx.msg
    if not msg.is_request:
        return -1
    if (msg.method or "").upper() == "ACK":
        return -1
    if ctx.data.get("noreply"):
        ctx.log("INFO", "message marked with no-reply flag", source=source)
        return -2
    if 300 <= code < 400:
        dset = print_dset(ctx)
        if dset:
            from .lumps import add_reply_lump
            add_reply_lump(ctx, dset)
    tag = None
    to = msg.to
    if code >= 180 and to is not None and not to.tag:
        tag = to_tag or sl_to_tag(ctx)
    try:
        text = build_reply(ctx, code, reason, to_tag=tag)
    except ValueError:
        return -1
    send_reply(ctx, text)
    ctx.replied = True
    ctx.data["sl_replied_at"] = ctx.script.clock()
    return 1


# ---------------------------------------------------------------- destinations
def uri_destination(uri: str, default_proto: str | None = "udp") -> "Socket":
    """Destination of a SIP URI: host (IP literal or localhost), port (default 5060, 5061
    for sips/tls), transport parameter.  Raises :class:`DestinationError`."""
    from ..errors import KscriptError
    from .uri import parse_uri
    try:
        u = parse_uri(uri)
    except KscriptError as e:
        raise DestinationError(f"bad uri <{uri}>: {e}") from None
    if u.scheme not in ("sip", "sips"):
        raise DestinationError(f"cannot send to a {u.scheme}: uri <{uri}>")
    t = u.param("transport")
    proto = (t or "").lower() or None
    if proto is not None and proto not in PROTOS:
        raise DestinationError(f"bad uri transport {proto}")
    if u.scheme == "sips":
        if proto == "udp":
            raise DestinationError("secure uri incompatible with transport udp")
        proto = "wss" if proto == "wss" else "tls"
    if proto is None:
        proto = default_proto or "udp"
    host = u.host or ""
    ip = _host_ip(host)
    if ip is None:
        raise DestinationError(f"bad host name {host}" if host else "no host")
    if u.port:
        port = int(u.port)
    else:
        port = SIPS_PORT if proto in ("tls", "wss") else SIP_PORT
    return _socket(proto, ip, port)


def next_hop(ctx, uri: str | None = None) -> "Socket | None":
    """Where a request goes: ``uri``, else ``$du``, else the current R-URI; None when it
    cannot be resolved offline (host name) or is malformed."""
    if uri is None:
        uri = ctx.dst_uri if ctx.dst_uri else ctx.ruri
    try:
        return uri_destination(uri)
    except DestinationError:
        return None


def send_socket(ctx, dst) -> "Socket | None":
    """The local socket used to send to ``dst`` (``get_send_socket``)."""
    v6 = ":" in dst.ip
    forced = ctx.force_socket
    listen = ctx.script.listen
    if forced is not None:
        if forced.proto != dst.proto:
            forced = next((s for s in listen if s.ip == forced.ip and s.port == forced.port
                           and s.proto == dst.proto), None)
        if forced is not None and (":" in forced.ip) == v6:
            return forced
    rcv = ctx.rcv
    if rcv is not None and rcv.proto == dst.proto and (":" in rcv.ip) == v6:
        return rcv
    for s in listen:
        if s.proto == dst.proto and (":" in s.ip) == v6:
            return s
    return None


def _send_info(ctx, send_sock, proto: str | None = None) -> SendInfo:
    adv = ctx.data.get("advertised_address")
    advp = ctx.data.get("advertised_port")
    return SendInfo(send=send_sock, rcv=ctx.rcv, proto=proto or (send_sock.proto if send_sock else None),
                    adv_address=adv, adv_port=advp, rcv_proto=ctx.src.proto)


def our_via(ctx, send_sock, branch: str, via_params: str = "", proto: str | None = None) -> str:
    """Our Via line (``via_builder``), CRLF included."""
    proto = (proto or send_sock.proto).lower()
    tr = {"udp": "UDP", "tcp": "TCP", "tls": "TLS", "sctp": "SCTP", "ws": "WS", "wss": "WSS"}.get(proto, "UDP")
    addr = ctx.data.get("advertised_address") or send_sock.ip
    if ":" in send_sock.ip and not addr.startswith("[") and ":" in addr:
        addr = f"[{addr}]"
    port = ctx.data.get("advertised_port")
    s = f"Via: SIP/2.0/{tr} {addr}"
    if port:
        s += f":{port}"
    elif send_sock.port != SIP_PORT:
        s += f":{send_sock.port}"
    if branch:
        s += ";branch=" + branch
    extra = ""
    if ctx.src.proto in ("tcp", "tls", "sctp"):
        extra += ";i=" + reverse_hex(ctx.data.get("conn_id", 1))
    if ctx.add_local_rport or _core_int(ctx.script, "local_rport", 0):
        extra += ";rport"
    s += extra + via_params
    return s + "\r\n"


def build_request(ctx, ruri: str | None, dst, branch: str, *, send_sock=None, via_params: str = "",
                  lumps: Lumps | None = None, persist: bool = False, local_via: bool = True,
                  update_via1: bool = True) -> str:
    """A request to send, built like ``build_req_buf_from_sip_req`` (module docstring)."""
    msg = ctx.msg
    if send_sock is None:
        send_sock = send_socket(ctx, dst) if dst is not None else ctx.rcv
    base = lumps if lumps is not None else lumps_of(ctx)
    check_boundaries(ctx, base, send_sock, dst.proto if dst is not None else None)
    base.normalize()  # lumps_len fixes the message's own lumps
    work = base if persist else base.clone()
    si = _send_info(ctx, send_sock, dst.proto if dst is not None else None)
    _adjust_clen(msg, work, si, dst.proto if dst is not None else "udp")
    via_anchor = None
    lay = via_layout(msg) if msg.vias else None
    if local_via and lay is not None:
        via_anchor = work.anchor(lay.start, "via")
    if update_via1 and lay is not None:
        recv_lump = None
        if _needs_received(ctx):
            rp = lay.param("received")
            if rp is not None:
                recv_lump = work.delete(rp[1] - 1, rp[2] - rp[1] + 1, "via")
            else:
                recv_lump = work.anchor(lay.params_start if lay.params_start is not None else lay.hostport_end,
                                        "via")
            work.insert_after(recv_lump, f";received={ctx.src.ip}", "via")
        if _needs_rport(ctx):
            rp = lay.param("rport")
            if rp is not None:
                ins = work.delete(rp[1] - 1, rp[2] - rp[1] + 1, "via")
            elif recv_lump is not None:
                ins = recv_lump
            else:
                ins = work.anchor(lay.params_start if lay.params_start is not None else lay.hostport_end, "via")
            work.insert_after(ins, f";rport={ctx.src.port}", "via")
    if via_anchor is not None:
        work.insert_before(via_anchor, our_via(ctx, send_sock, branch, via_params,
                                               dst.proto if dst is not None else None), "via")
    new_uri = ruri if ruri is not None else ctx.new_uri
    return work.apply(si, new_uri=new_uri)


def _find_line_start(ctx, buf: str, text: str, start: int) -> int:
    """``find_line_start``: the first line at or after ``start`` beginning with
    ``text`` (-1 when none)."""
    n = len(text)
    ln = len(buf) - start
    while n <= ln:
        if buf.startswith(text, start):
            return start
        ch = buf.find("\r", start, start + ln - 1)
        if ch < 0:
            ctx.log("ERR", "No CRLF found", source="core")
            return -1
        if buf[ch + 1:ch + 2] != "\n":
            ctx.log("ERR", "No LF after CR", source="core")
            return -1
        ln -= ch - start + 2
        start = ch + 2
    return -1


def _get_line(ctx, buf: str, start: int) -> int:
    """``get_line``: length of the line at ``start``, CRLF included."""
    ch = buf.find("\r", start)
    if ch < 0:
        ctx.log("ERR", "No CRLF found", source="core")
        return len(buf) - start
    if buf[ch + 1:ch + 2] != "\n":
        ctx.log("ERR", "No LF after CR", source="core")
        return 0
    return ch - start + 2


def _ctype_boundary(ctx, msg) -> str | None | int:
    """``get_boundary``: the boundary parameter of the (original) Content-Type."""
    ct = msg.header("Content-Type")
    if ct is None:
        return -1
    if ";" not in ct:
        ctx.log("INFO", f"Content-Type hdr has no boundary params <{ct}>", source="core")
        return -2
    for param in ct.split(";")[1:]:
        name, eq, value = param.partition("=")
        if name.strip().lower() == "boundary" and eq:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    return -1


def check_boundaries(ctx, lumps: Lumps, send_sock=None, proto: str | None = None) -> int:
    """``check_boundaries`` (run when a request is built after textops
    ``append_body_part``/``set_body_multipart`` set ``ctx.data["body_multipart"]``,
    Kamailio's FL_BODY_MULTIPART): rebuild the edited multipart body with every
    inner boundary line ``--B\r\n`` and a final ``--B--\r\n``, replacing all
    body lumps by one whole-body replacement; the flag is cleared on success.
    Returns 0 (nothing to do), 1, or a negative code (logged as Kamailio does)."""
    if not ctx.data.get("body_multipart"):
        return 0
    ret = _check_boundaries(ctx, lumps, send_sock, proto)
    if ret < 0:
        ctx.log("INFO", f"check boundaries negative ({ret})", source="core")
    return ret


def _check_boundaries(ctx, lumps: Lumps, send_sock, proto) -> int:
    msg = ctx.msg
    ob = _ctype_boundary(ctx, msg)
    if ob == -2:
        ctx.log("INFO", "no boundary - maybe just turning into multipart body", source="core")
        return -2
    if not isinstance(ob, str) or not ob:
        return -1
    buf = lumps.body_text(_send_info(ctx, send_sock, proto) if send_sock is not None else None)
    ob = "--" + ob
    b, fb = ob + "\r\n", ob + "--\r\n"
    found: list[int] = []
    t = len(buf)
    pos = 0
    while t > 0:
        at = _find_line_start(ctx, buf, ob, pos)
        if at < 0:
            break
        found.append(at)
        pos = at + len(ob)
        t -= len(ob)
    if len(found) < 2:
        ctx.log("ERR", f"found[{len(found)}] wrong number of boundaries", source="core")
        return -1
    out: list[str] = []
    for cur, nxt in zip(found, found[1:]):
        n = _get_line(ctx, buf, cur)
        if buf[cur:cur + n] != b:
            out.append(b)
            out.append(buf[cur + n:nxt])
        else:
            out.append(buf[cur:nxt])
    # Kamailio checks the *first* boundary line here (lb, not the last one)
    first = found[0]
    n = _get_line(ctx, buf, first)
    out.append(fb if buf[first:first + n] != fb else buf[first:])
    # replace_body
    start = msg.body_start
    size = len(msg.text) - start
    lumps.body_head = None
    if size == 0:
        ctx.log("WARN", f"0 len (offset={start})", source="core")
    lumps.delete(start, size)
    lumps.insert_after(lumps.anchor(start), "".join(out))
    ctx.data.pop("body_multipart", None)
    return 1


def _adjust_clen(msg, work: Lumps, si: SendInfo, proto: str) -> None:
    """``adjust_clen``: rewrite Content-Length when the body changed (or for TCP/TLS
    when it is missing or wrong)."""
    delta = work.body_delta(si)
    cl_index = next((i for i, h in enumerate(msg.headers) if h.key == "content-length"), None)
    body_len = blen(msg.body)
    anchor = None
    body_only = True
    if proto in ("tcp", "tls"):
        if cl_index is None:
            anchor = work.anchor(msg.eoh, "content-length")
            body_only = False
        else:
            value = msg.content_length
            if body_len + delta != value:
                _, bs, be, _ = msg.spans[cl_index]
                anchor = work.delete(bs, be - bs, "content-length")
    elif delta:
        if cl_index is None:
            if proto != "udp":
                anchor = work.anchor(msg.eoh, "content-length")
                body_only = False
        else:
            _, bs, be, _ = msg.spans[cl_index]
            anchor = work.delete(bs, be - bs, "content-length")
    if anchor is not None:
        value = str(body_len + delta)
        work.insert_after(anchor, value if body_only else f"Content-Length: {value}\r\n", "content-length")


def destination_from_args(ctx, host: str | None, port: int | None, proto: str | None = None):
    """Destination for forward(host, port) forms: an IP literal (no DNS)."""
    ip = _host_ip(host or "")
    if ip is None:
        raise DestinationError(f"bad host name {host}")
    p = proto or ctx.rcv.proto
    if not port:
        port = SIPS_PORT if p in ("tls", "wss") else SIP_PORT
    return _socket(p, ip, int(port))


def forward_request(ctx, dst, *, source: str = "core") -> int:
    """Stateless forwarding (core ``forward_request``): 1 when sent, negative on error."""
    msg = ctx.msg
    try:
        branch = stateless_branch(ctx)
    except Exception:  # noqa: BLE001 - a header that cannot be parsed
        ctx.log("ERR", "char_msg_val failed", source=source)
        return -1
    sock = send_socket(ctx, dst)
    if sock is None:
        ctx.log("ERR", f"cannot forward to af {10 if ':' in dst.ip else 2}, proto {_proto_no(dst.proto)} "
                       "no corresponding listening socket", source=source)
        ctx.data["ser_error"] = -7  # E_NO_SOCKET
        return -7
    text = build_request(ctx, None, dst, branch, send_sock=sock, persist=True)
    if not run_onsend(ctx, dst, sock, text):
        ctx.log("INFO", f"request to {dst.ip}:{dst.port}({_proto_no(dst.proto)}) dropped (onsend_route)",
                source=source)
        return -1
    sent = ctx.send("request", dst, text)
    sent.src = sock
    del msg
    return 1


def _proto_no(proto: str) -> int:
    return {"udp": 1, "tcp": 2, "tls": 3, "sctp": 4, "ws": 5, "wss": 6}.get(proto, 0)


def run_onsend(ctx, dst, sock, text: str) -> bool:
    """Run ``onsend_route`` (if the cfg has one) before a request leaves; False = dropped."""
    ref = ctx.script.routes.get(("onsend", None))
    if ref is None:
        return True
    from ..runtime.signals import BreakSignal, ExitSignal, ReturnSignal
    saved = ctx.route_type
    ctx.route_type = "onsend"
    ctx.data["onsend"] = {"dst": dst, "sock": sock, "buf": text}
    try:
        fn = ref.fn or ctx.script._compile_route(ref)
        fn(ctx)
        ok = True
    except ExitSignal as x:
        ok = not x.drop
    except (ReturnSignal, BreakSignal):
        ok = True
    finally:
        ctx.route_type = saved
        ctx.data.pop("onsend", None)
    return ok


# ---------------------------------------------------------------- forwarding replies
def via_destination(via) -> "Socket":
    """Where a reply goes per a (non-top) Via: rport value, received, host, port."""
    port = 0
    if via.rport:
        try:
            port = int(via.rport)
        except ValueError:
            port = 0
    if via.received is not None:
        host = via.received
        if not port:
            port = via.port_no or SIP_PORT
    else:
        host = via.host
        if not port:
            port = via.port_no
    proto = via.transport.lower()
    if not port:
        port = SIPS_PORT if proto in ("tls", "wss") else SIP_PORT
    ip = _host_ip(host)
    if ip is None:
        raise DestinationError(f"resolve_host({host}) failure")
    return _socket(proto if proto in PROTOS else "udp", ip, port)


def build_forwarded_reply(ctx, lumps: Lumps | None = None, *, remove_via1: bool = True) -> str:
    """A received reply with the top Via removed and the lumps applied
    (``generate_res_buf_from_sip_res``)."""
    msg = ctx.msg
    base = lumps if lumps is not None else lumps_of(ctx)
    base.normalize()  # lumps_len fixes the message's own lumps
    work = base.clone()
    vias = msg.vias
    proto = vias[1].transport.lower() if len(vias) > 1 else "udp"
    _adjust_clen(msg, work, SendInfo(), proto)
    if remove_via1:
        lay = via_layout(msg)
        if lay.next_parm is not None:
            work.delete(lay.body_start, lay.next_parm - lay.body_start, "via")
        else:
            work.delete(lay.start, lay.end - lay.start, "via")
    return work.apply(None)


def forward_reply(ctx, *, source: str = "core", run_callbacks: bool = True) -> int:
    """Stateless reply forwarding (core ``forward_reply``): 0 on success, -1 on error."""
    msg = ctx.msg
    via1 = msg.vias[0]
    if _core_int(ctx.script, "check_via", 0):
        port = via1.port_no or SIP_PORT
        if not ctx.script.host_is_myself(via1.host, port):
            ctx.log("ERR", f"host in first via!=me : {via1.host}:{via1.port_no}", source=source)
            return -1
    if len(msg.vias) < 2:
        ctx.log("DBG", "reply cannot be forwarded - no 2nd via", source=source)
        return -1
    via2 = msg.vias[1]
    try:
        dst = via_destination(via2)
    except DestinationError as e:
        ctx.log("NOTICE", str(e), source=source)
        return -1
    text = build_forwarded_reply(ctx)
    sock = send_socket(ctx, dst)
    if sock is None:
        ctx.log("ERR", "cannot forward reply", source=source)
        return 0
    sent = ctx.send("reply", dst, text)
    sent.src = sock
    return 0


def header_index(msg, name: str) -> list[int]:
    """Indexes of the headers called ``name`` (compact forms matched)."""
    key = header_key(name)
    return [i for i, h in enumerate(msg.headers) if h.key == key]
