"""Build valid SIP requests and replies for feeding kscript (and real Kamailio).

>>> text = request("OPTIONS", "sip:bob@example.com", branch="z9hG4bKdoc", from_tag="ft", call_id="doc-1")
>>> print(text.replace("\\r\\n", "|"))
OPTIONS sip:bob@example.com SIP/2.0|Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKdoc;rport|Max-Forwards: 70|From: <sip:kscript@127.0.0.1>;tag=ft|To: <sip:bob@example.com>|Call-ID: doc-1|CSeq: 1 OPTIONS|Content-Length: 0||
"""

from __future__ import annotations

import random
from typing import Iterable, Mapping

from ..errors import SipParseError
from .headers import header_key
from .message import SipMessage, serialize
from .nameaddr import find_not_quoted

__all__ = ["request", "reply", "parse_src"]

_rng = random.SystemRandom()
CONTACT_METHODS = frozenset(("INVITE", "REGISTER", "SUBSCRIBE"))
_PROTOS = {"udp": "UDP", "tcp": "TCP", "tls": "TLS", "sctp": "SCTP", "ws": "WS", "wss": "WSS"}

Headers = Mapping[str, str] | Iterable[tuple[str, str] | str] | None


def _hex(n: int) -> str:
    return "%0*x" % (n, _rng.getrandbits(4 * n))


def parse_src(src: str) -> tuple[str, str, int]:
    """``"udp:127.0.0.1:5060"`` / ``"tcp:[::1]:5070"`` / ``"10.0.0.1"`` -> (proto, host, port).

    >>> parse_src("tcp:[::1]:5070"), parse_src("10.0.0.1")
    (('tcp', '[::1]', 5070), ('udp', '10.0.0.1', 5060))
    """
    proto = "udp"
    rest = src
    head, sep, tail = src.partition(":")
    if sep and head.lower() in _PROTOS:
        proto, rest = head.lower(), tail
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise ValueError(f"bad source address {src!r}")
        host, port_s = rest[:close + 1], rest[close + 1:].lstrip(":")
    else:
        host, _, port_s = rest.partition(":")
    port = int(port_s) if port_s else (5061 if proto in ("tls", "wss") else 5060)
    if not host:
        raise ValueError(f"bad source address {src!r}")
    return proto, host, port


def _extra_headers(headers: Headers) -> list[tuple[str, str]]:
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    out = []
    for h in headers:
        if isinstance(h, str):
            name, colon, value = h.partition(":")
            if not colon:
                raise ValueError(f"header without ':' {h!r}")
            out.append((name.strip(), value.strip()))
        else:
            name, value = h
            out.append((str(name), str(value)))
    return out


def _merge(base: list[tuple[str, str]], extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The first extra header named like a default header (except Via) replaces it in
    place; all other extra headers are appended in order."""
    out = list(base)
    base_keys = [header_key(n) for n, _ in base]
    done: set[str] = set()
    for name, value in extra:
        k = header_key(name)
        if k != "via" and k not in done and k in base_keys:
            out[base_keys.index(k)] = (name, value)
            done.add(k)
        else:
            out.append((name, value))
    return out


def _name_addr(value: str, tag: str | None) -> str:
    """``sip:a@b`` -> ``<sip:a@b>``; add ``;tag=`` when ``tag`` is given and none present."""
    v = value.strip()
    if find_not_quoted(v, "<") < 0:
        v = f"<{v}>"
    if tag is not None and ";tag=" not in v.lower().replace(" ", ""):
        v = f"{v};tag={tag}"
    return v


def _content_type(body: str) -> str:
    return "application/sdp" if body.lstrip().startswith("v=0") else "text/plain"


def request(method: str, ruri: str, from_: str | None = None, to: str | None = None, headers: Headers = None,
            body: str = "", call_id: str | None = None, cseq: int = 1, via: str | list[str] | None = None,
            contact: str | None = None, src: str = "udp:127.0.0.1:5060", *, branch: str | None = None,
            from_tag: str | None = None) -> str:
    """A complete SIP request (CRLF line ends, Content-Length computed).

    * ``via`` -- Via body (or list of bodies, top-most first); default
      ``SIP/2.0/<PROTO> <host>:<port>;branch=z9hG4bK<random>;rport`` from ``src``
      (``"proto:host:port"``);
    * ``from_`` -- From URI or name-addr; default ``<sip:kscript@<host>>``; a ``tag`` is
      added when missing (``from_tag`` or random);
    * ``to`` -- To URI or name-addr, default the request URI (no tag added);
    * ``call_id`` -- default random ``<hex>@<host>``; ``cseq`` -- the CSeq number;
    * ``contact`` -- Contact URI or name-addr; default ``<sip:kscript@<host>:<port>>``
      (``;transport=`` added for non-UDP) for INVITE, REGISTER and SUBSCRIBE only;
    * ``headers`` -- extra headers (mapping, ``(name, value)`` pairs or ``"Name: value"``
      strings); one with the name of a default header (Max-Forwards, From, ...) replaces it;
    * ``body`` -- Content-Type defaults to ``application/sdp`` for a body starting with
      ``v=0`` and ``text/plain`` otherwise.

    >>> m = SipMessage.parse(request("INVITE", "sip:bob@example.com", body="v=0\\r\\n"))
    >>> m.header("Content-Type"), m.content_length, m.contacts[0].uri, m.vias[0].branch.startswith("z9hG4bK")
    ('application/sdp', 5, 'sip:kscript@127.0.0.1:5060', True)
    """
    proto, host, port = parse_src(src)
    method = method.strip()
    if via is None:
        vias = [f"SIP/2.0/{_PROTOS[proto]} {host}:{port};branch={branch or 'z9hG4bK' + _hex(16)};rport"]
    elif isinstance(via, str):
        vias = [via]
    else:
        vias = list(via)
    frm = _name_addr(from_ if from_ is not None else f"sip:kscript@{host}", from_tag or _hex(8))
    to_v = _name_addr(to if to is not None else ruri, None)
    hs: list[tuple[str, str]] = [("Via", v) for v in vias]
    hs += [("Max-Forwards", "70"), ("From", frm), ("To", to_v),
           ("Call-ID", call_id or f"{_hex(16)}@{host}"), ("CSeq", f"{cseq} {method}")]
    if contact is not None:
        hs.append(("Contact", _name_addr(contact, None)))
    elif method.upper() in CONTACT_METHODS:
        tp = "" if proto == "udp" else f";transport={proto}"
        hs.append(("Contact", f"<sip:kscript@{host}:{port}{tp}>"))
    extra = _extra_headers(headers)
    if body and not any(header_key(n) == "content-type" for n, _ in extra):
        hs.append(("Content-Type", _content_type(body)))
    hs = _merge(hs, extra)
    return serialize(f"{method} {ruri} SIP/2.0", hs, body, update_content_length=True)


def reply(request_text: str | bytes | SipMessage, status: int, reason: str, headers: Headers = None,
          body: str = "", *, to_tag: str | None = None) -> str:
    """A reply to ``request_text``: Via (all, in order), From, To (a tag is added unless
    the status is 100 or the To already has one), Call-ID, CSeq copied; Record-Route
    copied for 101-299; extra ``headers``; Content-Length computed.

    >>> req = request("OPTIONS", "sip:bob@example.com", call_id="c-1", from_tag="f1")
    >>> r = SipMessage.parse(reply(req, 200, "OK", to_tag="t1"))
    >>> r.status, r.reason, r.call_id, r.to.tag, r.from_.tag, r.cseq.method
    (200, 'OK', 'c-1', 't1', 'f1', 'OPTIONS')
    """
    req = request_text if isinstance(request_text, SipMessage) else SipMessage.parse(request_text)
    if not req.is_request:
        raise SipParseError("reply(): the message given is not a request")
    if not 100 <= int(status) <= 699:
        raise ValueError(f"bad status code {status}")
    hs: list[tuple[str, str]] = [(h.name, h.body) for h in req.headers if header_key(h.name) == "via"]
    for key in ("from", "to", "call-id", "cseq"):
        for h in req.header_fields(key):
            body_v = h.body
            if key == "to" and status != 100 and (req.to is None or req.to.tag is None):
                body_v = f"{body_v};tag={to_tag or _hex(16)}"
            hs.append((h.name, body_v))
    if 101 <= status <= 299:
        hs += [(h.name, h.body) for h in req.header_fields("record-route")]
    extra = _extra_headers(headers)
    if body and not any(header_key(n) == "content-type" for n, _ in extra):
        hs.append(("Content-Type", _content_type(body)))
    hs = _merge(hs, extra)
    return serialize(f"SIP/2.0 {int(status):03d} {reason}", hs, body, update_content_length=True)
