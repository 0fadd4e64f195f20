"""The SIP message model: :class:`SipMessage` and helpers to serialise messages.

Parsing follows Kamailio 5.6's message parser (core/parser/msg_parser.c, parse_fline.c,
parse_hname2.c @5.6.3) as it behaves for a datagram (UDP):

* leading CR/LF/NUL/blank bytes are skipped; a message of 16 bytes or less is refused;
* first line: ``METHOD SP uri SP+ version`` (exactly one SP after the method, a TAB is
  refused) or ``SIP/2.0 SP code SP+ reason`` (3-digit code, reason may be empty); a
  request whose version is not ``SIP/2.0`` is not SIP (Kamailio drops it);
* header lines ``name [blanks] : body``; names are runs of ``[0-9A-Za-z-._+~]``;
  continuation lines start with SP/HT; CRLF or bare LF line ends; the body of a header
  is what follows the colon minus leading white space (folds included) and minus the
  trailing CR/LF -- trailing blanks and inner folds are kept (``$hdr()`` shows them);
* the header block ends at the first line starting with CR or LF; the body is
  *everything after it* -- over UDP Kamailio does not cut or extend the body by
  Content-Length: a Content-Length larger or smaller than the body is accepted as is
  (checked on 5.6.3: ``$cl`` = 100, ``$bs`` = ``$rb`` length = 10); a missing
  Content-Length is fine;
* a message without a blank line after the headers is accepted (no body);
* :meth:`SipMessage.parse` with ``validate=True`` (default) also applies the checks
  Kamailio applies while receiving: Via headers, To, CSeq (method on the same line) and
  Content-Length must parse; From, To, Call-ID, CSeq and a Via must be present; no
  duplicate From/To/CSeq/Call-ID/Content-Length/Max-Forwards.  kscript raises
  :class:`~kscript.errors.SipParseError` naming the line.  Kamailio drops such a message
  when the problem lies in the headers it scans before running the script (up to the
  last of Via/From/To/Call-ID/CSeq); a problem *after* them (a malformed header line, a
  duplicate, a bad Content-Length) lets ``request_route`` run, but every later access
  to the headers fails (``$hdr()`` and ``$rb`` are null) and no reply can be sent --
  kscript refuses those messages too (checked on 5.6.3, tests/sip/golden_messages.json);
* the From header is parsed only when used, as in Kamailio (which runs the script and
  even replies to a message with a malformed From; ``$fu`` is null): :attr:`from_`
  raises SipParseError then.

Parsed views (From/To, Vias, CSeq, Contacts, Routes) are computed on first access and
cached.  Header names are matched case-insensitively and compact forms are expanded
(``header("f")`` finds ``From:``).
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple

from ..errors import Position, SipParseError
from .headers import _MEMO as _KEY_MEMO, header_key
from .nameaddr import (Contact, ContactBody, RouteEntry, ToBody, parse_contact_body, parse_rr_body,
                       parse_to_body)
from .uri import SipUri, parse_uri
from .via import Via, parse_via_body

__all__ = ["Header", "CSeq", "SipMessage", "serialize", "serialize_headers", "KNOWN_METHODS"]

KNOWN_METHODS = ("INVITE", "CANCEL", "ACK", "BYE", "INFO", "REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE",
                 "OPTIONS", "PRACK", "UPDATE", "REFER", "PUBLISH", "KDMQ", "GET", "POST", "PUT", "DELETE")
_KNOWN_METHODS_UC = frozenset(KNOWN_METHODS)

_HEADER_RE = re.compile(r"([0-9A-Za-z\-._+~]+)[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)\n")
_REQ_LINE_RE = re.compile(r"([^ \t]*)([ \t]+)([^ \t]+)([ \t]*)\Z")
_EOH_RE = re.compile(r"\n[\r\n]")
#: one unfolded header line: name, separator, body (no CR/LF), line end
_SIMPLE_HEADER_RE = re.compile(r"([0-9A-Za-z\-._+~]+)([ \t]*:[ \t]*)([^\r\n]*)(\r?\n)")
_LEAD_LWS = re.compile(r"(?:[ \t]|\r?\n(?=[ \t]))*")
_UNIQUE = ("from", "to", "cseq", "call-id", "content-length", "max-forwards")
_INT_MAX = 2147483647
#: parsed views cached under another name than their header's key
_DERIVED_VIEWS = {"via": "vias", "contact": "contacts"}
_MISSING = object()


class Header(NamedTuple):
    """One header field: ``name`` as written, ``body`` as Kamailio's ``$hdr()`` shows it
    (leading white space removed, trailing CR/LF removed, inner folds kept)."""

    name: str
    body: str
    #: 1-based line of the header in the original text (0 for headers built in code)
    line: int = 0

    @property
    def key(self) -> str:
        """Lookup key (lower-case, compact form expanded)."""
        return header_key(self.name)


class CSeq(NamedTuple):
    """A parsed CSeq (a tuple: created for every message, so cheap to make)."""

    number: str
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


class SipMessage:
    """A parsed SIP request or reply.

    >>> m = SipMessage.parse("OPTIONS sip:bob@example.com SIP/2.0\\r\\n"
    ...     "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\\r\\nf: <sip:a@example.com>;tag=9\\r\\n"
    ...     "To: <sip:bob@example.com>\\r\\nCall-ID: c1\\r\\nCSeq: 7 OPTIONS\\r\\n\\r\\n")
    >>> m.method, m.ruri, m.header("From"), m.from_.tag, m.cseq.number, m.vias[0].branch
    ('OPTIONS', 'sip:bob@example.com', '<sip:a@example.com>;tag=9', '9', '7', 'z9hG4bK1')
    """

    __slots__ = ("text", "source_name", "is_request", "method", "ruri", "version", "status", "reason",
                 "headers", "body", "has_eoh", "first_line", "first_line_no", "_index", "_cache",
                 "spans", "first_line_start", "eoh", "body_start")

    def __init__(self) -> None:
        self.text = ""
        self.source_name = "<message>"
        self.is_request = True
        self.method: str | None = None
        self.ruri: str | None = None
        self.version = "SIP/2.0"
        self.status: int | None = None
        self.reason: str | None = None
        self.headers: list[Header] = []
        self.body = ""
        self.has_eoh = True
        self.first_line = ""
        self.first_line_no = 1
        self._index: dict[str, tuple[int, ...]] | None = None
        self._cache: dict = {}
        #: per header (same order as ``headers``): offsets in ``text`` as
        #: (start of the name, start of the body, end of the body, end of the line
        #: after its LF) -- what message edits (lumps) are anchored on
        self.spans: tuple[tuple[int, int, int, int], ...] | list = []
        #: offset of the first line in ``text`` (leading CR/LF skipped)
        self.first_line_start = 0
        #: offset of the empty line ending the headers (``len(text)`` without one)
        self.eoh = 0
        #: offset of the body (``len(text)`` when there is none)
        self.body_start = 0

    # ------------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, data: str | bytes, *, source_name: str = "<message>", validate: bool = True) -> "SipMessage":
        """Parse a message (``str``, or ``bytes`` decoded as UTF-8 with surrogate escapes).

        Raises :class:`SipParseError` (with the line) for a malformed message; with
        ``validate`` also for one Kamailio would drop (see the module docstring).
        """
        if isinstance(data, (bytes, bytearray, memoryview)):
            text = bytes(data).decode("utf-8", "surrogateescape")
        else:
            text = data
        msg = cls()
        msg.text = text
        msg.source_name = source_name
        n = len(text)
        start = 0
        while start < n and text[start] in "\r\n\x00\t ":
            start += 1
        line_no = 1 + text.count("\n", 0, start)
        msg.first_line_no = line_no
        if n - start <= 16:
            raise msg._error("message too short", line_no, 1)
        nl = text.find("\n", start)
        if nl < 0:
            raise msg._error("no end of line after the first line", line_no, 1)
        msg.first_line_start = start
        first = text[start:nl]
        if first.endswith("\r"):
            first = first[:-1]
        msg.first_line = first
        msg._parse_first_line(first, line_no)
        if nl + 1 >= n:
            raise msg._error("message has only a first line", line_no, len(first) + 1)

        # header block
        pos = nl + 1
        line_no += 1
        m_eoh = _EOH_RE.search(text, nl)
        if m_eoh is None:
            hend = n
            msg.has_eoh = False
        else:
            hend = m_eoh.start() + 1
        headers = msg.headers
        index: dict[str, tuple[int, ...]] = {}
        msg._index = index
        spans = msg.spans
        lead = _LEAD_LWS.match
        memo = _KEY_MEMO
        new_header = tuple.__new__
        block = text[pos:hend]
        fast = "\n " not in block and "\n\t" not in block and "\x00" not in block
        if fast:
            # the common case (no folded lines, no NULs): findall returns plain tuples
            # (no match objects) and positions follow from the lengths; rows that do not
            # cover the block exactly (findall skipped a bad line) mean the full scan below.
            # The bookkeeping is the full scan's, inlined in both loops: a call per header costs.
            pos0, line0 = pos, line_no
            for name, sep, body, eol in _SIMPLE_HEADER_RE.findall(block):
                bstart = pos + len(name) + len(sep)
                bend = bstart + len(body)
                mend = bend + len(eol)
                spans.append((pos, bstart, bend, mend))
                key = memo.get(name)
                if key is None:
                    key = header_key(name)
                ii = index.get(key)
                index[key] = (len(headers),) if ii is None else ii + (len(headers),)
                headers.append(new_header(Header, (name, body, line_no)))
                line_no += 1
                pos = mend
            if pos != hend:
                fast = False
                pos, line_no = pos0, line0
                headers.clear()
                spans.clear()
                index.clear()
        if not fast:
            # finditer walks the block in C; a gap between two matches is a bad line
            for m in _HEADER_RE.finditer(text, pos, hend):
                if m.start() != pos:
                    msg._header_error(pos, line_no, hend)
                mend = m.end()
                name, body = m.groups()
                bstart = m.start(2)
                if "\n" in body:
                    nlines = body.count("\n")
                    if body[0] == "\r" or body[0] == "\n":
                        skip = lead(body).end()
                        body = body[skip:]
                        bstart += skip
                else:
                    nlines = 0
                if body and body[-1] in "\r\n\x00":
                    body = body.rstrip("\r\n\x00")
                spans.append((pos, bstart, bstart + len(body), mend))
                key = memo.get(name)
                if key is None:
                    key = header_key(name)
                ii = index.get(key)
                # tuples of ints: the collector stops tracking them (fewer objects per kept message)
                index[key] = (len(headers),) if ii is None else ii + (len(headers),)
                headers.append(new_header(Header, (name, body, line_no)))
                line_no += 1 + nlines
                pos = mend
        if pos < hend:
            msg._header_error(pos, line_no, hend)
        # a tuple of int tuples: the collector stops tracking it (messages kept by tm)
        msg.spans = tuple(spans)
        msg.eoh = hend
        msg.body_start = n
        if m_eoh is not None:
            b = hend
            if text.startswith("\r\n", b):
                b += 2
            else:
                b += 1
            msg.body = text[b:]
            msg.body_start = b
        if not headers:
            raise msg._error("no header fields", msg.first_line_no + 1, 1)
        if validate:
            msg.validate()
        return msg

    def _parse_first_line(self, first: str, line_no: int) -> None:
        if first[:7].upper() == "SIP/2.0" and first[7:8] == " ":
            self.is_request = False
            self.version = first[:7]
            rest = first[8:]
            code, sp, _ = rest.partition(" ")
            tab = code.find("\t")
            if tab >= 0:
                code = code[:tab]
            after = rest[len(code):]
            if len(code) != 3 or not code.isdigit() or not code.isascii():
                raise self._error(f"invalid status code {code!r} in status line", line_no, 9)
            reason = after.lstrip(" \t")
            if len(reason) == len(after):
                raise self._error("no reason phrase separator after the status code", line_no, 12)
            self.status = int(code)
            self.reason = reason
            return
        self.is_request = True
        sp = first.find(" ")
        tab = first.find("\t")
        if sp <= 0 or (0 <= tab < sp):
            raise self._error("bad request line (method not followed by SP)", line_no, max(sp, tab, 0) + 1)
        method = first[:sp]
        rest = first[sp + 1:]
        # uri token: up to SP/HT; then at least one blank; then the version token
        m = _REQ_LINE_RE.match(rest)
        if m is None:
            raise self._error("bad request line (expected METHOD SP uri SP version)", line_no, sp + 2)
        self.method = method
        self.ruri = m.group(1)
        self.version = m.group(3)

    def _error(self, message: str, line: int, col: int = 1) -> SipParseError:
        lines = self.text.split("\n")
        src = lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None
        return SipParseError(f"{message} (line {line})", Position(self.source_name, line, col), source_line=src)

    def _header_error(self, pos: int, line_no: int, hend: int):
        eol = self.text.find("\n", pos)
        line = self.text[pos: eol if eol >= 0 else len(self.text)].rstrip("\r")
        m = re.match(r"[0-9A-Za-z\-._+~]*", line)
        if m.end() == 0:
            raise self._error(f"invalid start of header name: {line!r}", line_no, 1)
        rest = line[m.end():].lstrip(" \t")
        if not rest.startswith(":"):
            what = "header line without ':'" if ":" not in line else "invalid header name"
            raise self._error(f"{what}: {line!r}", line_no, m.end() + 1)
        raise self._error(f"header line without end of line: {line!r}", line_no, len(line) + 1)

    # ------------------------------------------------------------------ validation
    def validate(self) -> "SipMessage":
        """Kamailio's receive-time checks (see the module docstring); returns self."""
        v = self.version
        if self.is_request and not (len(v) >= 7 and v[:7].upper() == "SIP/2.0"):
            raise self._error(f"not a SIP request (version {self.version!r}); Kamailio drops it",
                              self.first_line_no, len(self.first_line) - len(self.version) + 1)
        idx = self._index if self._index is not None else self._idx()
        get = idx.get
        for k in _UNIQUE:
            ii = get(k)
            if ii is not None and len(ii) > 1:
                h = self.headers[ii[1]]
                raise self._error(f"duplicate {h.name} header field", h.line)
        if "via" not in idx:
            raise self._error("no Via header", self.first_line_no)
        self.vias  # parses every Via header
        if "from" not in idx or "to" not in idx or "call-id" not in idx or "cseq" not in idx:
            for k, label in (("from", "From"), ("to", "To"), ("call-id", "Call-ID"), ("cseq", "CSeq")):
                if k not in idx:
                    raise self._error(f"required header {label} missing", self.first_line_no)
        self._parse_header("to", parse_to_body, "To")
        self._parse_header("cseq", _parse_cseq, "CSeq")
        if "content-length" in idx:
            self._parse_header("content-length", _parse_content_length, "Content-Length")
        return self

    # ------------------------------------------------------------------ first line / flags
    @property
    def is_reply(self) -> bool:
        return not self.is_request

    @property
    def is_sip(self) -> bool:
        v = self.version
        return len(v) >= 7 and v[:7].upper() == "SIP/2.0"

    @property
    def start_line(self) -> str:
        if self.is_request:
            return f"{self.method} {self.ruri} {self.version}"
        return f"{self.version} {self.status:03d} {self.reason}"

    @property
    def method_id(self) -> str | None:
        """The method upper-cased if Kamailio knows it (first-line method of a request,
        CSeq method of a reply), else ``None`` (METHOD_OTHER)."""
        m = self.method if self.is_request else self.cseq.method
        u = m.upper() if m else ""
        return u if u in _KNOWN_METHODS_UC else None

    # ------------------------------------------------------------------ header access
    def _idx(self) -> dict[str, tuple[int, ...]]:
        idx = self._index
        if idx is None:
            idx = {}
            for i, h in enumerate(self.headers):
                k = header_key(h.name)
                idx[k] = idx.get(k, ()) + (i,)
            self._index = idx
        return idx

    def header(self, name: str) -> str | None:
        """Body of the first header ``name`` (case-insensitive, compact forms expanded)."""
        idx = self._index if self._index is not None else self._idx()
        ii = idx.get(name)  # callers mostly pass keys ("call-id")
        if ii is None:
            ii = idx.get(header_key(name))
        return self.headers[ii[0]].body if ii else None

    def headers_named(self, name: str) -> list[str]:
        """Bodies of all headers ``name``, in order."""
        return [self.headers[i].body for i in self._idx().get(header_key(name), ())]

    def header_fields(self, name: str) -> list[Header]:
        """All :class:`Header` objects called ``name``, in order."""
        ii = (self._index if self._index is not None else self._idx()).get(header_key(name))
        if not ii:
            return []
        hs = self.headers
        return [hs[i] for i in ii]

    def has_header(self, name: str) -> bool:
        return header_key(name) in (self._index if self._index is not None else self._idx())

    def header_count(self, name: str) -> int:
        return len(self._idx().get(header_key(name), ()))

    # ------------------------------------------------------------------ parsed views
    def _parse_header(self, key: str, fn, label: str):
        cache = self._cache
        if key in cache:
            return cache[key]
        ii = (self._index if self._index is not None else self._idx()).get(key)
        if not ii:
            cache[key] = None
            return None
        h = self.headers[ii[0]]
        try:
            val = fn(h.body)
        except SipParseError as e:
            raise self._error(f"bad {label} header: {e.message}", h.line) from None
        cache[key] = val
        return val

    # the hot views read the cache first: one dict lookup instead of two calls
    @property
    def from_(self) -> ToBody | None:
        """The parsed From header (``None`` when absent)."""
        v = self._cache.get("from", _MISSING)
        return self._parse_header("from", parse_to_body, "From") if v is _MISSING else v

    @property
    def to(self) -> ToBody | None:
        """The parsed To header (``None`` when absent)."""
        v = self._cache.get("to", _MISSING)
        return self._parse_header("to", parse_to_body, "To") if v is _MISSING else v

    @property
    def cseq(self) -> CSeq | None:
        v = self._cache.get("cseq", _MISSING)
        return self._parse_header("cseq", _parse_cseq, "CSeq") if v is _MISSING else v

    @property
    def call_id(self) -> str | None:
        ii = (self._index if self._index is not None else self._idx()).get("call-id")
        return self.headers[ii[0]].body if ii else None

    @property
    def content_length(self) -> int | None:
        """Content-Length value (``None`` when absent); the body is not cut to it."""
        return self._parse_header("content-length", _parse_content_length, "Content-Length")

    @property
    def max_forwards(self) -> int | None:
        return self._parse_header("max-forwards", _parse_max_forwards, "Max-Forwards")

    @property
    def vias(self) -> tuple[Via, ...]:
        """All via-parms of all Via headers, top-most first."""
        v = self._cache.get("vias")
        if v is None:
            v = []
            for h in self.header_fields("via"):
                try:
                    v.extend(parse_via_body(h.body))
                except SipParseError as e:
                    raise self._error(e.message, h.line) from None
            v = self._cache["vias"] = tuple(v)
        return v

    @property
    def contact_body(self) -> ContactBody | None:
        """The first Contact header parsed (``None`` when absent)."""
        return self._parse_header("contact", parse_contact_body, "Contact")

    @property
    def contacts(self) -> list[Contact]:
        """All contacts of all Contact headers (``[]`` for ``Contact: *``)."""
        c = self._cache.get("contacts")
        if c is None:
            c = []
            for h in self.header_fields("contact"):
                try:
                    c.extend(parse_contact_body(h.body).contacts)
                except SipParseError as e:
                    raise self._error(f"bad Contact header: {e.message}", h.line) from None
            self._cache["contacts"] = c
        return c

    @property
    def contact_star(self) -> bool:
        cb = self.contact_body
        return bool(cb and cb.star)

    def _rr(self, key: str) -> list[RouteEntry]:
        c = self._cache.get(key)
        if c is None:
            c = []
            for h in self.header_fields(key):
                try:
                    c.extend(parse_rr_body(h.body))
                except SipParseError as e:
                    raise self._error(f"bad {h.name} header: {e.message}", h.line) from None
            self._cache[key] = c
        return c

    @property
    def routes(self) -> list[RouteEntry]:
        return self._rr("route")

    @property
    def record_routes(self) -> list[RouteEntry]:
        return self._rr("record-route")

    @property
    def parsed_ruri(self) -> SipUri | None:
        """The request URI parsed (``None`` for replies); raises SipParseError if invalid."""
        if not self.is_request:
            return None
        u = self._cache.get("ruri")
        if u is None:
            try:
                u = parse_uri(self.ruri)
            except SipParseError as e:
                raise self._error(f"bad request URI: {e.message}", self.first_line_no,
                                  len(self.method) + 2) from None
            self._cache["ruri"] = u
        return u

    @property
    def body_bytes_len(self) -> int:
        """Length of the body in bytes (UTF-8), what Content-Length should say."""
        b = self.body
        return len(b) if b.isascii() else len(b.encode("utf-8", "surrogateescape"))

    # ------------------------------------------------------------------ in-place changes
    def update_text(self, text: str) -> "SipMessage":
        """Replace the message buffer and re-parse it, keeping this object (what Kamailio
        does when a module writes into the buffer -- maxfwd's decrement -- or after
        ``msg_apply_changes()``).  Pending lumps refer to the old text: drop them."""
        fresh = SipMessage.parse(text, source_name=self.source_name, validate=False)
        for slot in SipMessage.__slots__:
            setattr(self, slot, getattr(fresh, slot))
        return self

    def patch_text(self, start: int, new: str) -> "SipMessage":
        """Overwrite ``len(new)`` characters at ``start`` without re-parsing (a module
        writing into Kamailio's buffer: the parsed headers keep their positions, so
        ``$hdr()`` shows the new characters).  Parsed views are recomputed on demand."""
        end = start + len(new)
        if start < 0 or end > len(self.text):
            raise ValueError("patch outside the message")
        self.text = self.text[:start] + new + self.text[end:]
        inside = None  # the key of the one header whose body holds the whole patch
        for i, (hs, bs, be, he) in enumerate(self.spans):
            if bs < end and start < be:
                h = self.headers[i]
                self.headers[i] = Header(h.name, self.text[bs:be], h.line)
                if bs <= start and end <= be:
                    inside = header_key(h.name)
        if self.body_start < end:
            self.body = self.text[self.body_start:] if self.has_eoh else ""
        cache = self._cache
        if inside is not None:
            # only the views parsed from that header are stale
            cache.pop(inside, None)
            derived = _DERIVED_VIEWS.get(inside)
            if derived is not None:
                cache.pop(derived, None)
            if inside == "call-id" or inside == "cseq":
                cache.pop("tm_hash", None)  # tm's hash index of the message
        else:
            cache.clear()
        return self

    # ------------------------------------------------------------------ output
    def to_text(self, *, update_content_length: bool = False) -> str:
        """The message with CRLF line ends (header folds kept, as CRLF)."""
        return serialize(self.start_line, self.headers, self.body, update_content_length=update_content_length)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        what = f"{self.method} {self.ruri}" if self.is_request else f"{self.status} {self.reason}"
        return f"<SipMessage {what}>"


_CSEQ_RE = re.compile(r"([^ \t\r\n]+)[ \t]*([^ \t\r\n]+)(?:[ \t]|\r?\n[ \t])*\Z")
_CL_RE = re.compile(r"(?:[ \t]|\n(?=[ \t]))*([0-9]+)((?:[ \t]|\r?\n[ \t])*)\Z")


def _parse_cseq(body: str) -> CSeq:
    # number token, blanks, method token, optional LWS, end of header
    m = _CSEQ_RE.match(body)
    if m is None:
        if not re.match(r"[^ \t\r\n]+[ \t]*[^ \t\r\n]", body):
            raise SipParseError(f"no method in CSeq {body!r}")
        raise SipParseError(f"CSeq EoL expected in {body!r}")
    return CSeq(m.group(1), m.group(2))


def _parse_content_length(body: str) -> int:
    m = _CL_RE.match(body)
    if m is None:
        raise SipParseError(f"bad Content-Length {body!r}")
    digits = m.group(1)
    if len(digits) < 10:  # cannot exceed _INT_MAX
        return int(digits)
    number = 0
    for d in digits:
        if number >= _INT_MAX // 10:
            raise SipParseError(f"Content-Length value too large {body!r}")
        number = number * 10 + ord(d) - 48
    return number


def _parse_max_forwards(body: str) -> int:
    s = body.strip(" \t\r\n")
    if not s.isdigit() or not s.isascii() or len(s) > 10:
        raise SipParseError(f"invalid Max-Forwards value {body!r}")
    return int(s)


# ---------------------------------------------------------------------- serialisation

def _fold_crlf(body: str) -> str:
    if "\n" not in body:
        return body
    return re.sub(r"\r?\n", "\r\n", body)


def serialize_headers(headers: Iterable[Header | tuple[str, str]]) -> str:
    """``name: body`` CRLF lines (inner line breaks normalised to CRLF)."""
    out = []
    for h in headers:
        name, body = (h.name, h.body) if isinstance(h, Header) else h
        out.append(f"{name}: {_fold_crlf(body)}\r\n")
    return "".join(out)


def serialize(start_line: str, headers: Iterable[Header | tuple[str, str]], body: str = "", *,
              update_content_length: bool = False) -> str:
    """Build a message text: start line, headers, empty line, body (CRLF line ends).

    With ``update_content_length`` the Content-Length header (or ``l``) gets the body's
    length in bytes; one is appended when missing.

    >>> serialize("SIP/2.0 200 OK", [("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("Content-Length", "9")], "",
    ...           update_content_length=True)
    'SIP/2.0 200 OK\\r\\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\\r\\nContent-Length: 0\\r\\n\\r\\n'
    """
    hs = [(h.name, h.body) if isinstance(h, Header) else tuple(h) for h in headers]
    if update_content_length:
        clen = str(len(body.encode("utf-8", "surrogateescape")))
        found = False
        new = []
        for name, value in hs:
            if header_key(name) == "content-length":
                if found:
                    continue
                found = True
                value = clen
            new.append((name, value))
        if not found:
            new.append(("Content-Length", clen))
        hs = new
    return f"{start_line}\r\n{serialize_headers(hs)}\r\n{body}"


def normalize_line_endings(text: str) -> str:
    """A message typed with LF line ends (a ``.sip`` file), as a UA sends it: CRLF
    everywhere, and an empty line ending the header block. Text that already uses
    CR anywhere is returned unchanged (byte-exact input stays byte-exact)."""
    if "\r" in text:
        return text
    if "\n\n" in text:
        head, body = text.split("\n\n", 1)
    else:
        head, body = text.rstrip("\n"), ""
    out = head.rstrip("\n").replace("\n", "\r\n") + "\r\n\r\n"
    if body:
        out += body.replace("\n", "\r\n")
    return out
