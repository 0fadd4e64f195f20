"""name-addr / addr-spec bodies (From, To, Contact, Route, ...) parsed like Kamailio 5.6.

* :func:`parse_to_body` -- From/To style bodies (core/parser/parse_addr_spec.c@5.6.3):
  display name kept as written (quotes included for a quoted one, trailing blanks of an
  unquoted one dropped), URI, parameters, ``tag``.  Used by ``$fu $ft $tn``..., the
  ``{tobody.*}`` transformations.
* :func:`parse_nameaddr` -- the simple ``name <uri>`` splitter (parse_nameaddr.c) used by
  ``{nameaddr.*}`` and Route/Record-Route parsing.
* :func:`parse_contact_body` -- Contact bodies incl. ``*`` and several comma-separated
  contacts (contact/contact.c).
* :func:`parse_rr_body` -- Route / Record-Route bodies (parse_rr.c).
* :func:`split_comma_list` -- comma-separated values outside quotes and ``<>``.

All raise :class:`~kscript.errors.SipParseError` on malformed input (with the message
Kamailio would log, roughly).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import SipParseError
from .params import Param, ParamsError, parse_params
from .uri import SipUri, parse_uri

__all__ = ["ToParam", "ToBody", "NameAddr", "Contact", "ContactBody", "RouteEntry", "parse_to_body",
           "parse_addr_spec", "parse_nameaddr", "parse_contact_body", "parse_rr_body", "split_comma_list",
           "find_not_quoted"]


class ToParam(NamedTuple):
    """One parameter of a From/To body (a tuple: cheap to make for every message)."""

    name: str
    #: ``None`` for ``;name`` without ``=``; ``""`` for ``;name=``; quoted values without quotes
    value: str | None
    is_tag: bool = False


@dataclass(slots=True)
class ToBody:
    """A parsed From/To-style body.

    >>> b = parse_to_body('"Alice" <sip:alice@example.com>;tag=1928301774')
    >>> b.display, b.uri, b.tag
    ('"Alice"', 'sip:alice@example.com', '1928301774')
    """

    #: display name as Kamailio keeps it (``"Bob Smith"`` with quotes; ``None`` if absent)
    display: str | None
    uri: str
    #: the parameters in order (a tuple: bodies are never edited once parsed)
    params: tuple[ToParam, ...] = ()
    #: value of the last ``tag`` parameter (``None`` when absent or without ``=``)
    tag: str | None = None
    #: text from the first parameter name to the end of the input (``{tobody.params}``)
    params_text: str | None = None
    _parsed_uri: SipUri | None = field(default=None, repr=False, compare=False)

    @property
    def parsed_uri(self) -> SipUri:
        """The URI parsed with :func:`~kscript.sip.uri.parse_uri` (cached; raises on error)."""
        if self._parsed_uri is None:
            self._parsed_uri = parse_uri(self.uri)
        return self._parsed_uri

    def param(self, name: str) -> str | None:
        lname = name.lower()
        found = None
        for p in self.params:
            if p.name.lower() == lname:
                found = "" if p.value is None else p.value
        return found


# ----------------------------------------------------------------------------- To/From bodies

(START_TO, DISPLAY_QUOTED, E_DISPLAY_QUOTED, DISPLAY_TOKEN, DISPLAY_TOKEN_SP, S_URI_ENCLOSED, URI_ENCLOSED,
 E_URI_ENCLOSED, URI_OR_TOKEN, MAYBE_URI_END, END, F_CR, F_LF, F_CRLF) = range(14)
(S_PARA_NAME, PARA_NAME, S_EQUAL, S_PARA_VALUE, TAG1, TAG2, TAG3, PARA_VALUE_TOKEN, PARA_VALUE_QUOTED,
 E_PARA_VALUE) = range(20, 30)
_F_STATES = (F_CR, F_LF, F_CRLF)


class _ToError(Exception):
    pass


# fast path: ordinary bodies only (anything unusual goes through the state machine)
_TOK = r"[^\s\"<>;,\\\x00]"
_FAST_TO = re.compile(
    r"[ \t]*(?:"
    r"(?P<q>\"[^\"\\\r\n\x00]*\")[ \t]*<(?P<u1>[^\s\"<>\\,;\x00][^\s\"<>\\,\x00]*)>"
    r"|(?P<t>" + _TOK + r"+(?:[ \t]+" + _TOK + r"+)*)?[ \t]*<(?P<u2>[^\s\"<>\\,;\x00][^\s\"<>\\,\x00]*)>"
    r"|(?P<u3>" + _TOK + r"+)"
    r")(?P<p>(?:[ \t]*;[^\s;=,\"\\\x00]+(?:=(?:[^\s;=,\"\\\x00]*|\"[^\"\\\r\n\x00]*\"))?)*)[ \t]*\Z")
_FAST_PARAMS = re.compile(r"[ \t]*;([^\s;=,\"\\\x00]+)(=?)(\"[^\"\\\r\n\x00]*\"|[^\s;=,\"\\\x00]*)")


def parse_to_body(text: str, *, allow_comma: bool = False) -> ToBody:
    """Parse a From/To style body (the header value, without the CRLF)."""
    m = _FAST_TO.match(text)
    if m is not None:
        q, u1, t, u2, u3, ptext = m.group("q", "u1", "t", "u2", "u3", "p")
        if q is not None:
            display, uri = q, u1
        elif u2 is not None:
            display, uri = t, u2
        else:
            display, uri = None, u3
        body = ToBody(display or None, uri)
        if ptext:
            params = []
            tag = None
            for name, eq, value in _FAST_PARAMS.findall(ptext):
                if not eq:
                    value = None
                elif value[:1] == '"':
                    value = value[1:-1]
                is_tag = name.lower() == "tag"
                params.append(ToParam(name, value, is_tag))
                if is_tag:
                    tag = value
            body.params = tuple(params)
            body.tag = tag
            # the first name follows the first ';' directly (the fast pattern allows no blank there)
            body.params_text = text[m.start("p") + ptext.index(";") + 1:]
        return body
    body, _ = parse_addr_spec(text + "\r\n", 0, allow_comma=allow_comma)
    return body


def parse_addr_spec(buf: str, start: int = 0, end: int | None = None, *,
                    allow_comma: bool = False) -> tuple[ToBody, int]:
    """Port of Kamailio's ``parse_addr_spec()`` on ``buf[start:end]``.

    ``buf`` should contain the body followed by its CRLF (as in a message buffer); parsing
    stops at the end of the header (CRLF not followed by blank) or, with ``allow_comma``,
    after a top-level comma.  Returns (body, index where parsing stopped).
    """
    if end is None:
        end = len(buf)
    try:
        return _addr_spec(buf, start, end, allow_comma)
    except _ToError as e:
        raise SipParseError(f"invalid name-addr/addr-spec body ({e}): {buf[start:end].rstrip()!r}") from None


def _addr_spec(buf: str, start: int, end: int, allow_comma: bool):
    status = START_TO
    saved = START_TO
    foo = -1
    display_s = -1
    display_len = 0
    uri_s = -1
    uri_len = 0
    result_params = None       # (params, tag, first_name_pos, returned status) from the param parser
    t = start

    def err(msg="unexpected char"):
        raise _ToError(f"{msg} at offset {t - start}")

    while t < end:
        c = buf[t]
        if c == " " or c == "\t":
            if status in _F_STATES:
                status = saved
            elif status == URI_ENCLOSED:
                uri_len = t - uri_s
                status = E_URI_ENCLOSED
            elif status == URI_OR_TOKEN:
                foo = t
                status = MAYBE_URI_END
            elif status == DISPLAY_TOKEN:
                foo = t
                status = DISPLAY_TOKEN_SP
        elif c == "\n" or c == "\r":
            if status == URI_OR_TOKEN:
                foo = t
                status = MAYBE_URI_END
                saved = status
                status = F_LF if c == "\n" else F_CR
            elif status in (MAYBE_URI_END, DISPLAY_TOKEN_SP, E_DISPLAY_QUOTED, END):
                saved = status
                status = F_LF if c == "\n" else F_CR
            elif status == DISPLAY_TOKEN:
                foo = t
                saved = DISPLAY_TOKEN_SP
                status = F_LF if c == "\n" else F_CR
            elif status == F_CR and c == "\n":
                status = F_CRLF
            elif status in _F_STATES:
                status = saved
                break
            else:
                err()
        elif c == "\x00":
            if status in (URI_OR_TOKEN, MAYBE_URI_END):
                uri_len = t - uri_s
                saved = status = END
                break
            if status == END:
                saved = status = END
                break
            err()
        elif c == "\\":
            if status == DISPLAY_QUOTED:
                t += 1
            else:
                err()
        elif c == "<":
            if status == START_TO:
                status = S_URI_ENCLOSED
            elif status == DISPLAY_QUOTED:
                pass
            elif status == E_DISPLAY_QUOTED:
                status = S_URI_ENCLOSED
            elif status in (URI_OR_TOKEN, DISPLAY_TOKEN):
                display_len = t - display_s
                status = S_URI_ENCLOSED
            elif status in (DISPLAY_TOKEN_SP, MAYBE_URI_END):
                display_len = foo - display_s
                status = S_URI_ENCLOSED
            elif status in _F_STATES:
                break
            else:
                err()
        elif c == ">":
            if status == DISPLAY_QUOTED:
                pass
            elif status == URI_ENCLOSED:
                uri_len = t - uri_s
                status = END
                foo = -1
            elif status == E_URI_ENCLOSED:
                status = END
                foo = -1
            elif status in _F_STATES:
                break
            else:
                err()
        elif c == '"':
            if status == START_TO:
                display_s = t
                status = DISPLAY_QUOTED
            elif status == DISPLAY_QUOTED:
                status = E_DISPLAY_QUOTED
                display_len = t - display_s + 1
            elif status in _F_STATES:
                break
            else:
                err()
        elif c == ";":
            if status in (DISPLAY_QUOTED, URI_ENCLOSED):
                pass
            elif status in (URI_OR_TOKEN, MAYBE_URI_END, END):
                if status == URI_OR_TOKEN:
                    foo = t
                if status != END:
                    uri_len = foo - uri_s
                t, saved, result_params = _to_params(buf, t, end, allow_comma)
                break
            elif status in _F_STATES:
                break
            else:
                err()
        elif c == "," and allow_comma:
            if status in (DISPLAY_QUOTED, URI_ENCLOSED):
                pass
            elif status in (URI_OR_TOKEN, MAYBE_URI_END, END):
                if status == URI_OR_TOKEN:
                    foo = t
                if status != END:
                    uri_len = foo - uri_s
                saved = END
                break
            elif status in _F_STATES:
                break
            else:
                err()
        else:
            if status == START_TO:
                uri_s = display_s = t
                status = URI_OR_TOKEN
            elif status == S_URI_ENCLOSED:
                uri_s = t
                status = URI_ENCLOSED
            elif status in (MAYBE_URI_END, DISPLAY_TOKEN_SP):
                status = DISPLAY_TOKEN
            elif status in (DISPLAY_QUOTED, DISPLAY_TOKEN, URI_ENCLOSED, URI_OR_TOKEN):
                pass
            elif status in _F_STATES:
                break
            else:
                err()
        t += 1
    else:
        # reached the end of the buffer
        if status in (URI_OR_TOKEN, MAYBE_URI_END, END):
            saved = status
            foo = t

    # endofheader
    status = saved
    if status in (URI_OR_TOKEN, MAYBE_URI_END):
        uri_len = foo - uri_s
    elif status in (END, E_PARA_VALUE):
        pass
    else:
        raise _ToError(f"unexpected end of header in state {status}")
    display = buf[display_s:display_s + display_len] if display_len > 0 else None
    uri = buf[uri_s:uri_s + uri_len] if uri_s >= 0 else ""
    body = ToBody(display, uri)
    if result_params is not None:
        params, tag, first = result_params
        body.params = tuple(params)
        body.tag = tag
        if first is not None:
            # {tobody.params}: from the first parameter name to the end of the body text
            stop = end
            while stop > first and buf[stop - 1] in "\r\n":
                stop -= 1
            body.params_text = buf[first:stop]
    return body, t


def _to_params(buf: str, t: int, end: int, allow_comma: bool):
    """Port of parse_to_param(); ``t`` points at the first ';'.  Returns (stop, status, result)."""
    status = E_PARA_VALUE
    saved = E_PARA_VALUE
    params: list[ToParam] = []
    tag = None
    first = None
    name_s = -1
    name_len = 0
    val_s = -1
    val_len = 0
    is_tag = False
    have_param = False   # a param structure is allocated (after ';')
    start = t

    def err(msg="unexpected char"):
        raise _ToError(f"{msg} in parameters at offset {t - start}")

    def add(value_s, value_len):
        nonlocal tag, have_param
        name = buf[name_s:name_s + name_len] if name_s >= 0 else ""
        value = None if value_s < 0 else buf[value_s:value_s + value_len]
        params.append(ToParam(name, value, is_tag))
        if is_tag:
            tag = value
        have_param = False

    def new_param():
        nonlocal name_s, name_len, val_s, val_len, is_tag, have_param
        name_s, name_len, val_s, val_len, is_tag, have_param = -1, 0, -1, 0, False, True

    def set_name(pos):
        nonlocal name_s, first
        name_s = pos
        if first is None:
            first = pos

    ended = False
    while t < end:
        c = buf[t]
        if c == " " or c == "\t":
            if status in (TAG3, PARA_NAME, TAG1, TAG2):
                if status == TAG3:
                    is_tag = True
                name_len = t - name_s
                status = S_EQUAL
            elif status == PARA_VALUE_TOKEN:
                val_len = t - val_s
                status = E_PARA_VALUE
                add(val_s, val_len)
            elif status in _F_STATES:
                status = saved
        elif c == "\n" or c == "\r":
            if status in (S_PARA_NAME, S_EQUAL, S_PARA_VALUE, E_PARA_VALUE):
                saved = status
                status = F_LF if c == "\n" else F_CR
            elif status in (TAG3, PARA_NAME, TAG1, TAG2):
                if status == TAG3:
                    is_tag = True
                name_len = t - name_s
                saved = S_EQUAL
                status = F_LF if c == "\n" else F_CR
            elif status == PARA_VALUE_TOKEN:
                val_len = t - val_s
                saved = E_PARA_VALUE
                status = F_LF if c == "\n" else F_CR
                add(val_s, val_len)
            elif status == F_CR and c == "\n":
                status = F_CRLF
            elif status in _F_STATES:
                status = saved
                ended = True
                break
            else:
                err()
        elif c == "\x00":
            if status in (TAG3, PARA_NAME, TAG1, TAG2):
                if status == TAG3:
                    is_tag = True
                name_len = t - name_s
                status = S_EQUAL
                saved = status
                ended = True
                break
            if status in (S_EQUAL, S_PARA_VALUE):
                saved = status
                ended = True
                break
            if status == PARA_VALUE_TOKEN:
                status = E_PARA_VALUE
                val_len = t - val_s
                add(val_s, val_len)
                saved = status
                ended = True
                break
            if status == E_PARA_VALUE:
                saved = status
                ended = True
                break
            err()
        elif c == "\\":
            # a backslash is refused everywhere (even in quoted values: the C code falls
            # through to its error branch)
            if status == PARA_VALUE_QUOTED and t + 1 >= end:
                err("unexpected end of data")
            err()
        elif c == '"':
            if status == S_PARA_VALUE:
                if t + 1 >= end:
                    err("unexpected end of data")
                val_s = t + 1
                status = PARA_VALUE_QUOTED
            elif status == PARA_VALUE_QUOTED:
                val_len = t - val_s
                add(val_s, val_len)
                status = E_PARA_VALUE
            elif status in _F_STATES:
                ended = True
                break
            else:
                err()
        elif c == ";":
            if status == PARA_VALUE_QUOTED:
                pass
            elif status in (TAG3, PARA_NAME, TAG1, TAG2, S_EQUAL, S_PARA_VALUE, PARA_VALUE_TOKEN, E_PARA_VALUE):
                if status in (TAG3, PARA_NAME, TAG1, TAG2):
                    if status == TAG3:
                        is_tag = True
                    name_len = t - name_s
                    add(-1, 0)
                elif status == S_EQUAL:
                    add(-1, 0)
                elif status == S_PARA_VALUE:
                    add(t, 0)
                elif status == PARA_VALUE_TOKEN:
                    val_len = t - val_s
                    add(val_s, val_len)
                new_param()
                status = S_PARA_NAME
            elif status in _F_STATES:
                ended = True
                break
            else:
                err()
        elif c == "=":
            if status == PARA_VALUE_QUOTED:
                pass
            elif status in (TAG3, PARA_NAME, TAG1, TAG2):
                if status == TAG3:
                    is_tag = True
                name_len = t - name_s
                status = S_PARA_VALUE
            elif status == S_EQUAL:
                status = S_PARA_VALUE
            elif status in _F_STATES:
                ended = True
                break
            else:
                err()
        elif c == ",":
            if status == PARA_VALUE_QUOTED:
                pass
            elif allow_comma:
                if status in (S_PARA_NAME, S_EQUAL, S_PARA_VALUE, E_PARA_VALUE):
                    saved = status
                    status = E_PARA_VALUE
                    ended = True
                    break
                if status in (TAG3, PARA_NAME, TAG1, TAG2):
                    if status == TAG3:
                        is_tag = True
                    name_len = t - name_s
                    saved = S_EQUAL
                    status = E_PARA_VALUE
                    ended = True
                    break
                if status == PARA_VALUE_TOKEN:
                    val_len = t - val_s
                    saved = E_PARA_VALUE
                    status = E_PARA_VALUE
                    add(val_s, val_len)
                    ended = True
                    break
                if status in _F_STATES:
                    status = saved
                    ended = True
                    break
                err()
            elif status in (S_PARA_VALUE, PARA_VALUE_TOKEN) and is_tag:
                pass    # some user agents put commas in tags
            else:
                err("invalid character ','")
        else:
            lc = c.lower() if c in "TtAaGg" else ""
            if status in (PARA_VALUE_QUOTED, PARA_VALUE_TOKEN, PARA_NAME):
                pass
            elif status == S_PARA_NAME:
                set_name(t)
                status = TAG1 if lc == "t" else PARA_NAME
            elif status == S_PARA_VALUE:
                val_s = t
                status = PARA_VALUE_TOKEN
            elif status == TAG1:
                status = TAG2 if lc == "a" else PARA_NAME
            elif status == TAG2:
                status = TAG3 if lc == "g" else PARA_NAME
            elif status == TAG3:
                status = PARA_NAME
            elif status in _F_STATES:
                ended = True
                break
            else:
                err()
        t += 1
    if not ended and status not in _F_STATES:
        saved = status

    # endofheader
    if saved in (TAG3, PARA_NAME, TAG1, TAG2, S_EQUAL):
        if saved == TAG3:
            is_tag = True
        if saved != S_EQUAL:
            name_len = t - name_s
        add(-1, 0)
        saved = E_PARA_VALUE
    elif saved == S_PARA_VALUE:
        if status == F_CRLF:
            pos = t - 2
        elif status in (F_CR, F_LF):
            pos = t - 1
        else:
            pos = t
        add(pos, 0)
        saved = E_PARA_VALUE
    elif saved == PARA_VALUE_TOKEN:
        val_len = t - val_s
        add(val_s, val_len)
        saved = E_PARA_VALUE
    elif saved == E_PARA_VALUE:
        pass
    else:
        raise _ToError(f"unexpected end of header in parameters (state {saved})")
    return t, saved, (params, tag, first)


# ----------------------------------------------------------------------------- name-addr

def find_not_quoted(text: str, ch: str, start: int = 0, end: int | None = None) -> int:
    """Index of the first ``ch`` outside ``"..."`` (a quote preceded by ``\\`` does not
    close), or -1 -- Kamailio's find_not_quoted()."""
    if end is None:
        end = len(text)
    quoted = False
    i = start
    while i < end:
        c = text[i]
        if not quoted:
            if c == '"':
                quoted = True
            elif c == ch:
                return i
        elif c == '"' and text[i - 1] != "\\":
            quoted = False
        i += 1
    return -1


@dataclass(frozen=True, slots=True)
class NameAddr:
    """``name <uri>``: ``name`` is everything before ``<`` as written (quotes and the
    blank before ``<`` included), ``len`` the length up to and including ``>``."""

    name: str
    uri: str
    len: int


def parse_nameaddr(text: str, start: int = 0, end: int | None = None) -> NameAddr:
    """Kamailio's parse_nameaddr(): raises SipParseError if there is no ``<`` (outside
    quotes) or no closing ``>``.

    >>> parse_nameaddr('"Bob" <sip:bob@example.com>;lr')
    NameAddr(name='"Bob" ', uri='sip:bob@example.com', len=27)
    """
    if end is None:
        end = len(text)
    lt = find_not_quoted(text, "<", start, end)
    if lt < 0:
        raise SipParseError(f"no '<' in name-addr {text[start:end]!r}")
    gt = find_not_quoted(text, ">", lt + 1, end)
    if gt < 0:
        raise SipParseError(f"no closing '>' in name-addr {text[start:end]!r}")
    return NameAddr(text[start:lt], text[lt + 1:gt], gt - start + 1)


# ----------------------------------------------------------------------------- Route / Record-Route

@dataclass(frozen=True, slots=True)
class RouteEntry:
    name: str
    uri: str
    params: tuple[Param, ...] = ()

    @property
    def parsed_uri(self) -> SipUri:
        return parse_uri(self.uri)


def parse_rr_body(text: str) -> list[RouteEntry]:
    """Route / Record-Route body -> entries (Kamailio's parse_rr()).

    >>> [e.uri for e in parse_rr_body("<sip:p1.example.com;lr>, <sip:p2.example.com;lr>")]
    ['sip:p1.example.com;lr', 'sip:p2.example.com;lr']
    """
    end = len(text)
    i = 0
    while i < end and text[i] in " \t\r\n":
        i += 1
    if i >= end:
        raise SipParseError("empty Route/Record-Route body")
    out = []
    while True:
        na = parse_nameaddr(text, i, end)
        i += na.len
        while i < end and text[i] in " \t\r\n":
            i += 1
        params: list[Param] = []
        if i < end and text[i] == ";":
            i += 1
            while i < end and text[i] in " \t\r\n":
                i += 1
            if i >= end:
                raise SipParseError(f"error while parsing Route parameters in {text!r}")
            try:
                params, i = parse_params(text, ";", i, end)
            except ParamsError as e:
                raise SipParseError(f"error while parsing Route parameters ({e}) in {text!r}") from None
            while i < end and text[i] in " \t\r\n":
                i += 1
        out.append(RouteEntry(na.name, na.uri, tuple(params)))
        if i >= end:
            return out
        if text[i] != ",":
            raise SipParseError(f"invalid character {text[i]!r} in Route body, comma expected: {text!r}")
        i += 1
        while i < end and text[i] in " \t\r\n":
            i += 1
        if i >= end:
            raise SipParseError(f"text after comma missing in Route body {text!r}")


# ----------------------------------------------------------------------------- Contact

@dataclass(frozen=True, slots=True)
class Contact:
    """One contact: ``name`` is the display part as written (trailing blanks removed),
    ``uri`` without ``<>``."""

    name: str
    uri: str
    params: tuple[Param, ...] = ()

    def param(self, name: str) -> str | None:
        lname = name.lower()
        for p in reversed(self.params):
            if p.name.lower() == lname:
                return "" if p.value is None else p.value
        return None

    @property
    def expires(self) -> str | None:
        return self.param("expires")

    @property
    def q(self) -> str | None:
        return self.param("q")

    @property
    def parsed_uri(self) -> SipUri:
        return parse_uri(self.uri)


@dataclass(frozen=True, slots=True)
class ContactBody:
    star: bool
    contacts: tuple[Contact, ...] = ()


def parse_contact_body(text: str) -> ContactBody:
    """A Contact header body (Kamailio's contact_parser()/parse_contacts()).

    Contacts are returned in text order (Kamailio's internal list is reversed).

    >>> b = parse_contact_body('"Bob" <sip:bob@10.0.0.1:5060>;expires=60, sip:bob@10.0.0.2')
    >>> [(c.name, c.uri, c.expires) for c in b.contacts]
    [('"Bob"', 'sip:bob@10.0.0.1:5060', '60'), ('', 'sip:bob@10.0.0.2', None)]
    >>> parse_contact_body(" *").star
    True
    """
    end = len(text)
    i = 0
    while i < end and text[i] in " \t\r\n":
        i += 1
    if i >= end:
        raise SipParseError("empty Contact body")
    if text[i] == "*":
        return ContactBody(True)
    out = []
    while True:
        name_s = i
        uri_s = _skip_name(text, i, end)
        name_e = uri_s
        while name_e > name_s and text[name_e - 1] in " \t\r\n":
            name_e -= 1
        j = _skip_uri(text, uri_s, end)
        us, ue = uri_s, j
        while ue > us and text[ue - 1] in " \t\r\n":
            ue -= 1
        if ue - us >= 2 and text[us] == "<" and text[ue - 1] == ">":
            us += 1
            ue -= 1
        while us < ue and text[us] in " \t\r\n":
            us += 1
        while ue > us and text[ue - 1] in " \t\r\n":
            ue -= 1
        if ue <= us:
            raise SipParseError(f"invalid contact uri in {text!r}")
        i = j
        params: list[Param] = []
        if i < end and text[i] == ";":
            i += 1
            while i < end and text[i] in " \t\r\n":
                i += 1
            if i >= end:
                raise SipParseError(f"error while parsing Contact parameters in {text!r}")
            try:
                params, i = parse_params(text, ";", i, end)
            except ParamsError as e:
                raise SipParseError(f"error while parsing Contact parameters ({e}) in {text!r}") from None
        out.append(Contact(text[name_s:name_e], text[us:ue], tuple(params)))
        if i >= end:
            return ContactBody(False, tuple(out))
        # next character is a comma (or '>' that ended the params: treated the same way)
        i += 1
        while i < end and text[i] in " \t\r\n":
            i += 1
        if i >= end:
            raise SipParseError(f"text after comma missing in Contact body {text!r}")


def _skip_name(text: str, i: int, end: int) -> int:
    last_wsp = -1
    quoted = False
    p = i
    while p < end:
        c = text[p]
        if not quoted:
            if c == " " or c == "\t":
                last_wsp = p
            elif c == "<":
                return p
            elif c == ":" or c == ";":
                return last_wsp if last_wsp >= 0 else i
            elif c == '"':
                quoted = True
        elif c == '"' and text[p - 1] != "\\":
            quoted = False
        p += 1
    if quoted:
        raise SipParseError(f"closing quote missing in name part of Contact {text!r}")
    raise SipParseError(f"error in contact, scheme separator not found: {text!r}")


def _skip_uri(text: str, i: int, end: int) -> int:
    # states: 1 basic, 2 quoted, 3 in <>, 4 quoted in <>, 5 escape in quoted, 6 escape in quoted in <>
    st = 1
    while i < end:
        c = text[i]
        if c == "," or c == ";":
            if st == 1:
                return i
        elif c == '"':
            st = {1: 2, 2: 1, 3: 4, 4: 3, 5: 2, 6: 4}[st]
        elif c == "<":
            if st == 1:
                st = 3
            elif st == 3:
                raise SipParseError(f"second '<' found in Contact {text!r}")
            elif st == 5:
                st = 2
            elif st == 6:
                st = 4
        elif c == ">":
            if st == 1:
                raise SipParseError(f"'>' before '<' in Contact {text!r}")
            st = {3: 1, 5: 2, 6: 4}.get(st, st)
        elif c == "\\":
            st = {2: 5, 4: 6, 5: 2, 6: 4}.get(st, st)
        i += 1
    if st != 1:
        raise SipParseError(f"'<' or '\"' not closed in Contact {text!r}")
    return i


# ----------------------------------------------------------------------------- generic comma split

def split_comma_list(text: str) -> list[str]:
    """Split a header value on commas outside ``"..."`` (with ``\\`` escapes) and ``<...>``;
    each part is stripped of surrounding blanks; empty parts are dropped.

    >>> split_comma_list('"a, b" <sip:x@y;p=1,2>, <sip:z@w>')
    ['"a, b" <sip:x@y;p=1,2>', '<sip:z@w>']
    """
    if "," not in text:
        s = text.strip(" \t\r\n")
        return [s] if s else []
    out = []
    quoted = False
    angle = 0
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            angle += 1
        elif c == ">":
            if angle:
                angle -= 1
        elif c == "," and not angle:
            part = text[start:i].strip(" \t\r\n")
            if part:
                out.append(part)
            start = i + 1
        i += 1
    part = text[start:].strip(" \t\r\n")
    if part:
        out.append(part)
    return out
