"""Message edits as Kamailio keeps them: *lumps* (core/data_lump.c, data_lump_rpl.c,
and ``process_lumps`` in core/msg_translator.c @5.6.3).

A function that edits the received message (``append_hf``, ``remove_hf``,
``$fU = ...``, ``record_route``...) does not change the message text: it adds a
lump -- a pending edit anchored at an offset of the *original* text -- and the
edits are applied only when a message is built from it (forwarding, relaying,
``msg_apply_changes()``).  PVs keep reading the original message meanwhile.

The model is Kamailio's, rebuilt in Python:

* a message has two ordered lists of *main* lumps, one for the headers and one
  for the body (a lump whose offset lies after the end of the headers goes to
  the body list); a main lump is an **anchor** (``NOP``: a position), a
  **deletion** (``DEL``: offset + length) or, rarely, an addition;
  anchors/deletions are kept sorted by offset, a new one going *after* those
  already at the same offset;
* additions hang off a main lump in two chains, ``before`` and ``after``; an
  addition inserted "after" lump X becomes X's direct successor (so two
  insertions after the same anchor come out newest first), one inserted
  "before" X its direct predecessor in the before-chain (again newest first:
  the chain is printed walking away from X);
* chain members may be plain text (``ADD``), *substitutions* resolved when the
  message is built (``SUBST``: the receiving/sending address, port, protocol --
  Record-Route uses them) or *conditions* (``OPT``: the rest of the chain is
  printed only if e.g. the sending socket differs from the receiving one --
  double Record-Route);
* before a message is built each main list is *normalised* as ``lumps_len``
  does (and, as there, permanently): a deletion overlapping an earlier one is
  trimmed to what is left of it (possibly nothing) and an anchor falling inside
  a deleted range moves to its end -- so removing a header twice is harmless
  and text inserted at a deleted header still comes out (:meth:`Lumps.normalize`);
* applying: the original text is copied up to each main lump's offset, then its
  before-chain, then (deletions) the deleted range is skipped, then its
  after-chain.  A main lump whose offset still lies before what was already
  copied (only possible before the end of a rewritten request URI) is ignored
  entirely, chains included.

Reply lumps (``append_to_reply``, ``set_reply_body``...) are a separate, simple
list of header texts plus at most one body (:func:`add_reply_lump`).

Offsets are ``str`` indices into :attr:`SipMessage.text` (the parser keeps them
in :attr:`SipMessage.spans` etc.); Content-Length arithmetic uses byte lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # pragma: no cover
    from .message import SipMessage

__all__ = [
    "NOP", "DEL", "ADD", "SUBST", "OPT",
    "SUBST_RCV_IP", "SUBST_RCV_PORT", "SUBST_RCV_PROTO", "SUBST_RCV_ALL", "SUBST_RCV_ALL_EX",
    "SUBST_SND_IP", "SUBST_SND_PORT", "SUBST_SND_PROTO", "SUBST_SND_ALL", "SUBST_SND_ALL_EX",
    "COND_TRUE", "COND_FALSE", "COND_IF_DIFF_REALMS", "COND_IF_DIFF_AF", "COND_IF_DIFF_PROTO",
    "COND_IF_DIFF_PORT", "COND_IF_DIFF_IP", "COND_IF_RAND",
    "Lump", "Lumps", "SendInfo", "lumps_of", "ReplyLump", "add_reply_lump", "reply_header_text",
    "reply_body", "blen",
]

# lump operations
NOP = "nop"      # anchor
DEL = "del"      # delete a range
ADD = "add"      # add text
SUBST = "subst"  # add a value known only when sending
OPT = "opt"      # condition for the rest of the chain

# substitutions (enum lump_subst)
SUBST_RCV_IP = "rcv_ip"
SUBST_RCV_PORT = "rcv_port"
SUBST_RCV_PROTO = "rcv_proto"
SUBST_RCV_ALL = "rcv_all"
SUBST_RCV_ALL_EX = "rcv_all_ex"
SUBST_SND_IP = "snd_ip"
SUBST_SND_PORT = "snd_port"
SUBST_SND_PROTO = "snd_proto"
SUBST_SND_ALL = "snd_all"
SUBST_SND_ALL_EX = "snd_all_ex"

# conditions (enum lump_conditions)
COND_FALSE = "false"
COND_TRUE = "true"
COND_IF_DIFF_REALMS = "diff_realms"
COND_IF_DIFF_AF = "diff_af"
COND_IF_DIFF_PROTO = "diff_proto"
COND_IF_DIFF_PORT = "diff_port"
COND_IF_DIFF_IP = "diff_ip"
COND_IF_RAND = "rand"


def blen(text: str) -> int:
    """Length in bytes of message text (surrogate escapes stand for raw bytes)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


class Lump:
    """One lump.  ``op`` is NOP/DEL (main list) or ADD/SUBST/OPT (usually chained);
    ``htype`` is a free tag (Kamailio's header type: "via", "content-length", "rr"...)."""

    __slots__ = ("op", "offset", "length", "text", "subst", "cond", "htype", "before", "after", "next")

    def __init__(self, op: str, offset: int = 0, length: int = 0, text: str = "", *,
                 subst: str | None = None, cond: str | None = None, htype: str | None = None):
        self.op = op
        self.offset = offset
        self.length = length
        self.text = text
        self.subst = subst
        self.cond = cond
        self.htype = htype
        self.before: Lump | None = None
        self.after: Lump | None = None
        self.next: Lump | None = None

    def __repr__(self) -> str:
        if self.op in (NOP, DEL):
            return f"<Lump {self.op} @{self.offset}+{self.length} {self.htype or ''}>"
        what = self.text if self.op == ADD else (self.subst or self.cond)
        return f"<Lump {self.op} {what!r}>"

    # chain walking (for inspection and tests)
    def befores(self) -> list["Lump"]:
        out, r = [], self.before
        while r is not None:
            out.append(r)
            r = r.before
        return out

    def afters(self) -> list["Lump"]:
        out, r = [], self.after
        while r is not None:
            out.append(r)
            r = r.after
        return out


@dataclass
class SendInfo:
    """What substitution and condition lumps need to know about a send.

    ``send`` / ``rcv`` are :class:`~kscript.runtime.context.Socket` objects (the
    local sending socket, and the one the message arrived on); ``proto`` is the
    transport of the send (``send.proto`` when None); ``adv_address`` /
    ``adv_port`` replace the send socket's address / port in what is printed
    (``set_advertised_address()`` / ``set_advertised_port()``, listen
    ``advertise``); ``rcv_adv_address`` / ``rcv_adv_port`` the same for the
    receiving socket."""

    send: Any = None
    rcv: Any = None
    proto: str | None = None
    adv_address: str | None = None
    adv_port: str | None = None
    rcv_adv_address: str | None = None
    rcv_adv_port: str | None = None
    rcv_proto: str | None = None  # transport the message arrived over (default: rcv.proto)


def _is_v6(ip: str) -> bool:
    return ":" in ip


def _bracket(ip: str) -> str:
    return f"[{ip}]" if _is_v6(ip) and not ip.startswith("[") else ip


def _transport_suffix(sock_proto: str, proto: str | None) -> str:
    p = (sock_proto or "udp").lower()
    if p in ("udp", "none", ""):
        return ""
    if p == "tcp":
        return ";transport=ws" if proto == "ws" else ";transport=tcp"
    if p == "tls":
        return ";transport=ws" if proto in ("ws", "wss") else ";transport=tls"
    if p == "sctp":
        return ";transport=sctp"
    if p in ("ws", "wss"):
        return ";transport=ws"
    return ""


def _proto_name(sock_proto: str, proto: str | None) -> str:
    p = (sock_proto or "udp").lower()
    if p in ("udp", "none", ""):
        return "udp"
    if p == "tcp":
        return "ws" if proto == "ws" else "tcp"
    if p == "tls":
        return "ws" if proto in ("ws", "wss") else "tls"
    return p


def _subst_text(kind: str, si: SendInfo | None) -> str:
    si = si or SendInfo()
    if kind.startswith("rcv"):
        sock = si.rcv
        if sock is None:
            return ""
        rproto = si.rcv_proto or sock.proto
        addr = si.rcv_adv_address or sock.ip
        port = si.rcv_adv_port or str(sock.port)
        port_no = int(port) if str(port).isdigit() else sock.port
        if kind == SUBST_RCV_IP:
            return f"[{addr}]" if _is_v6(sock.ip) and not addr.startswith("[") else addr
        if kind == SUBST_RCV_PORT:
            return port
        if kind == SUBST_RCV_PROTO:
            return _proto_name(sock.proto, rproto)
        out = _bracket(addr) if _is_v6(sock.ip) else addr
        if port_no != 5060:
            out += ":" + port
        return out + _transport_suffix(sock.proto, rproto)
    sock = si.send
    if sock is None:
        return ""
    proto = si.proto or sock.proto
    addr = si.adv_address or sock.ip
    port = si.adv_port or str(sock.port)
    if kind == SUBST_SND_IP:
        return _bracket(addr) if _is_v6(sock.ip) else addr
    if kind == SUBST_SND_PORT:
        return port
    if kind == SUBST_SND_PROTO:
        return _proto_name(sock.proto, proto)
    out = _bracket(addr) if _is_v6(sock.ip) else addr
    if sock.port != 5060 or si.adv_port:
        out += ":" + port
    return out + _transport_suffix(sock.proto, proto)


def _check_cond(lump: Lump, si: SendInfo | None) -> bool:
    c = lump.cond
    if c == COND_FALSE:
        return False
    if c == COND_TRUE:
        return True
    if c == COND_IF_RAND:
        import random
        ok = random.random() >= 0.5
        if ok:
            lump.cond = COND_TRUE
        return ok
    if si is None or si.send is None:
        return True  # "we presume they are different"
    rcv = si.rcv
    snd = si.send
    if rcv is None:
        return True
    rproto = si.rcv_proto or rcv.proto
    sproto = si.proto or snd.proto
    if c == COND_IF_DIFF_REALMS:
        same = (rcv.port == snd.port and rcv.proto == snd.proto and rproto == sproto and rcv.ip == snd.ip)
        ok = not same
    elif c == COND_IF_DIFF_AF:
        ok = _is_v6(rcv.ip) != _is_v6(snd.ip)
    elif c == COND_IF_DIFF_PROTO:
        ok = rcv.proto != snd.proto or rproto != sproto
    elif c == COND_IF_DIFF_PORT:
        ok = rcv.port != snd.port
    elif c == COND_IF_DIFF_IP:
        ok = rcv.ip != snd.ip
    else:
        ok = False
    if ok:
        lump.cond = COND_TRUE  # LUMP_SET_COND_TRUE
    return ok


def _emit_chain(first: Lump | None, attr: str, out: list[str], si: SendInfo | None) -> None:
    r = first
    while r is not None:
        if r.op == ADD:
            out.append(r.text)
        elif r.op == SUBST:
            out.append(_subst_text(r.subst, si))
        elif r.op == OPT:
            if not _check_cond(r, si):
                return
        r = getattr(r, attr)


class Lumps:
    """The pending edits of one message (``sip_msg.add_rm`` and ``body_lumps``)."""

    def __init__(self, msg: "SipMessage"):
        self.msg = msg
        self.head: Lump | None = None       # header lumps
        self.body_head: Lump | None = None  # body lumps
        self.flags: set[str] = set()        # e.g. "rr_added" (FL_RR_ADDED)

    # ------------------------------------------------------------ lists
    def _list_for(self, offset: int) -> str:
        msg = self.msg
        return "body_head" if msg.has_eoh and offset > msg.eoh else "head"

    def _insert_sorted(self, lump: Lump) -> Lump:
        attr = self._list_for(lump.offset)
        prev = None
        t = getattr(self, attr)
        while t is not None:
            if t.op in (NOP, DEL) and t.offset > lump.offset:
                break
            prev, t = t, t.next
        lump.next = t
        if prev is None:
            setattr(self, attr, lump)
        else:
            prev.next = lump
        return lump

    def main(self, body: bool | None = None) -> Iterator[Lump]:
        """Main lumps: header list, body list, or both (``body=None``)."""
        heads = [self.head, self.body_head] if body is None else [self.body_head if body else self.head]
        for t in heads:
            while t is not None:
                yield t
                t = t.next

    def __iter__(self) -> Iterator[Lump]:
        return self.main()

    def __bool__(self) -> bool:
        return self.head is not None or self.body_head is not None

    # ------------------------------------------------------------ creating lumps
    def anchor(self, offset: int, htype: str | None = None) -> Lump:
        """``anchor_lump``: a position to hang additions on."""
        self._check_offset(offset, 0)
        return self._insert_sorted(Lump(NOP, offset, htype=htype))

    def delete(self, offset: int, length: int, htype: str | None = None) -> Lump:
        """``del_lump``: remove ``length`` characters at ``offset``."""
        self._check_offset(offset, length)
        return self._insert_sorted(Lump(DEL, offset, length, htype=htype))

    def append(self, text: str, htype: str | None = None, body: bool = False) -> Lump:
        """``append_new_lump``: an addition at the end of the main list."""
        lump = Lump(ADD, text=text, htype=htype)
        attr = "body_head" if body else "head"
        t = getattr(self, attr)
        if t is None:
            setattr(self, attr, lump)
        else:
            while t.next is not None:
                t = t.next
            t.next = lump
        return lump

    def insert_after(self, lump: Lump, text: str, htype: str | None = None) -> Lump:
        """``insert_new_lump_after``: ``text`` right after ``lump`` (before earlier ones)."""
        return self._chain_after(lump, Lump(ADD, text=text, htype=htype))

    def insert_before(self, lump: Lump, text: str, htype: str | None = None) -> Lump:
        """``insert_new_lump_before``: ``text`` right before ``lump``."""
        return self._chain_before(lump, Lump(ADD, text=text, htype=htype))

    def insert_subst_after(self, lump: Lump, subst: str, htype: str | None = None) -> Lump:
        return self._chain_after(lump, Lump(SUBST, subst=subst, htype=htype))

    def insert_subst_before(self, lump: Lump, subst: str, htype: str | None = None) -> Lump:
        return self._chain_before(lump, Lump(SUBST, subst=subst, htype=htype))

    def insert_cond_after(self, lump: Lump, cond: str, htype: str | None = None) -> Lump:
        return self._chain_after(lump, Lump(OPT, cond=cond, htype=htype))

    def insert_cond_before(self, lump: Lump, cond: str, htype: str | None = None) -> Lump:
        return self._chain_before(lump, Lump(OPT, cond=cond, htype=htype))

    @staticmethod
    def _chain_after(lump: Lump, new: Lump) -> Lump:
        new.after = lump.after
        lump.after = new
        return new

    @staticmethod
    def _chain_before(lump: Lump, new: Lump) -> Lump:
        new.before = lump.before
        lump.before = new
        return new

    def remove(self, lump: Lump) -> bool:
        """``remove_lump``: unlink a main lump (with its chains)."""
        for attr in ("head", "body_head"):
            prev = None
            t = getattr(self, attr)
            while t is not None:
                if t is lump:
                    if prev is None:
                        setattr(self, attr, t.next)
                    else:
                        prev.next = t.next
                    return True
                prev, t = t, t.next
        return False

    def remove_where(self, pred) -> int:
        """Unlink every main lump for which ``pred(lump)`` is true; returns how many."""
        n = 0
        for lump in list(self.main()):
            if pred(lump):
                self.remove(lump)
                n += 1
        return n

    def _check_offset(self, offset: int, length: int) -> None:
        size = len(self.msg.text)
        if offset < 0 or offset > size or offset + length > size:
            raise ValueError(f"lump offset {offset}+{length} outside the message ({size})")

    # ------------------------------------------------------------ queries
    def deleted(self, start: int, end: int) -> bool:
        """Whether a deletion covers ``[start, end)`` entirely."""
        for t in self.main():
            if t.op == DEL and t.offset <= start and t.offset + t.length >= end:
                return True
        return False

    # ------------------------------------------------------------ applying
    def normalize(self) -> None:
        """Fix overlapping main lumps in place, as ``lumps_len`` does for each
        list (starting at offset 0): a deletion starting inside an earlier
        deleted range is shortened to the part after it, an anchor inside one is
        moved to its end."""
        for head in (self.head, self.body_head):
            s_off = 0
            t = head
            while t is not None:
                if t.op == DEL:
                    if t.offset < s_off:
                        cut = s_off - t.offset
                        t.length = t.length - cut if t.length > cut else 0
                        t.offset = s_off
                    s_off = t.offset + t.length
                elif t.op == NOP:
                    if t.offset < s_off:
                        t.offset = s_off
                    else:
                        s_off = t.offset
                t = t.next

    def _process(self, head: Lump | None, text: str, out: list[str], s_off: int,
                 si: SendInfo | None) -> int:
        t = head
        while t is not None:
            op = t.op
            if op in (ADD, SUBST, OPT):
                if op == OPT and not _check_cond(t, si):
                    t = t.next
                    continue
                _emit_chain(t.before, "before", out, si)
                if op == ADD:
                    out.append(t.text)
                elif op == SUBST:
                    out.append(_subst_text(t.subst, si))
                _emit_chain(t.after, "after", out, si)
            else:  # NOP / DEL
                if s_off > t.offset:  # overlaps what was already copied or deleted
                    t = t.next
                    continue
                if t.offset > s_off:
                    out.append(text[s_off:t.offset])
                    s_off = t.offset
                _emit_chain(t.before, "before", out, si)
                if op == DEL:
                    s_off += t.length
                _emit_chain(t.after, "after", out, si)
            t = t.next
        return s_off

    def body_text(self, si: SendInfo | None = None) -> str:
        """The body with the body lumps applied."""
        msg = self.msg
        text = msg.text
        self.normalize()
        out: list[str] = []
        s_off = self._process(self.body_head, text, out, msg.body_start, si)
        out.append(text[max(s_off, msg.body_start):])
        return "".join(out)

    def body_delta(self, si: SendInfo | None = None) -> int:
        """Change of the body length in bytes caused by the body lumps."""
        if self.body_head is None:
            return 0
        return blen(self.body_text(si)) - blen(self.msg.body)

    def apply(self, si: SendInfo | None = None, *, new_uri: str | None = None) -> str:
        """The message text with every lump applied (``new_uri`` replaces the
        request-line URI first, as Kamailio does with a rewritten R-URI)."""
        msg = self.msg
        text = msg.text
        self.normalize()
        out: list[str] = []
        s_off = 0
        if new_uri is not None and msg.is_request:
            ustart, uend = ruri_span(msg)
            out.append(text[:ustart])
            out.append(new_uri)
            s_off = uend
        s_off = self._process(self.head, text, out, s_off, si)
        s_off = self._process(self.body_head, text, out, s_off, si)
        out.append(text[s_off:])
        return "".join(out)

    def clone(self) -> "Lumps":
        """A deep copy (chains included), for building per-branch variants."""
        new = Lumps(self.msg)
        new.flags = set(self.flags)

        def copy_chain(first: Lump | None, attr: str) -> Lump | None:
            head = prev = None
            r = first
            while r is not None:
                c = Lump(r.op, r.offset, r.length, r.text, subst=r.subst, cond=r.cond, htype=r.htype)
                if prev is None:
                    head = c
                else:
                    setattr(prev, attr, c)
                prev = c
                r = getattr(r, attr)
            return head

        for attr in ("head", "body_head"):
            head = prev = None
            t = getattr(self, attr)
            while t is not None:
                c = Lump(t.op, t.offset, t.length, t.text, subst=t.subst, cond=t.cond, htype=t.htype)
                c.before = copy_chain(t.before, "before")
                c.after = copy_chain(t.after, "after")
                if prev is None:
                    head = c
                else:
                    prev.next = c
                prev = c
                t = t.next
            setattr(new, attr, head)
        return new


def ruri_span(msg: "SipMessage") -> tuple[int, int]:
    """(start, end) of the request-line URI in ``msg.text``."""
    start = msg.first_line_start + len(msg.method) + 1
    return start, start + len(msg.ruri)


def reason_span(msg: "SipMessage") -> tuple[int, int]:
    """(start, end) of a reply's reason phrase in ``msg.text``."""
    line_end = msg.first_line_start + len(msg.first_line)
    return line_end - len(msg.reason or ""), line_end


def lumps_of(ctx) -> Lumps:
    """The context's lump set, created on first use (``ctx.lumps``)."""
    lumps = ctx.lumps
    if lumps is None or lumps.msg is not ctx.msg:
        lumps = ctx.lumps = Lumps(ctx.msg)
    return lumps


# ---------------------------------------------------------------- reply lumps
class ReplyLump(str):
    """A reply lump: a ``str`` (the text) that knows whether it is the body."""

    body: bool = False

    def __new__(cls, text: str, body: bool = False):
        obj = super().__new__(cls, text)
        obj.body = body
        return obj


def add_reply_lump(ctx, text: str, body: bool = False) -> bool:
    """``add_lump_rpl``: a header text (with its CRLF) or the body of any reply
    this request gets; False (and nothing added) for empty text or a second body."""
    if not text:
        return False
    if body and any(getattr(x, "body", False) for x in ctx.reply_lumps):
        return False
    ctx.reply_lumps.append(ReplyLump(text, body))
    return True


def reply_header_text(ctx) -> str:
    """All header reply lumps, in order."""
    return "".join(x for x in ctx.reply_lumps if not getattr(x, "body", False))


def reply_body(ctx) -> str | None:
    """The body reply lump, if any."""
    for x in ctx.reply_lumps:
        if getattr(x, "body", False):
            return str(x)
    return None
