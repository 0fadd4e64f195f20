"""SIP header names as Kamailio 5.6 knows them (core/parser/parse_hname2.c@5.6.3).

* :func:`header_key` -- the lookup key of a name: lower-case, compact forms expanded
  (``f`` -> ``from``, ``Call-Id`` -> ``call-id``).  Two names denote the same header
  iff their keys are equal -- this is how ``$hdr(f)`` finds ``From:`` headers.
* :func:`canonical_name` -- the usual spelling (``i`` -> ``Call-ID``, ``x-foo`` stays).
* :data:`COMPACT_FORMS` -- the compact forms Kamailio recognises:
  ``a b c d e f i j k l m o r s t u v x y`` (no ``n``: Identity-Info has none in 5.6).
* :func:`valid_header_name` -- header names are runs of ``[0-9A-Za-z-._+~]``.
"""

from __future__ import annotations

import re

__all__ = ["COMPACT_FORMS", "KNOWN_HEADERS", "header_key", "canonical_name", "valid_header_name",
           "MULTI_VALUE_HEADERS", "HEADER_NAME_CHARS"]

#: compact form -> full name (parse_hname2.c@5.6.3 _ksr_hdr_map)
COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

#: headers with a type of their own in Kamailio 5.6 (canonical spelling)
KNOWN_HEADERS = (
    "Accept", "Accept-Contact", "Accept-Language", "Allow", "Allow-Events", "Authorization", "Call-ID",
    "Call-Info", "Contact", "Content-Disposition", "Content-Encoding", "Content-Length", "Content-Type", "CSeq",
    "Date", "Diversion", "Event", "Expires", "From", "Identity", "Identity-Info", "Max-Forwards", "Min-Expires",
    "Min-SE", "Organization", "Path", "Priority", "Privacy", "Proxy-Authenticate", "Proxy-Authorization",
    "Proxy-Require", "P-Preferred-Identity", "P-Asserted-Identity", "Reason", "Record-Route", "Refer-To",
    "Referred-By", "Reject-Contact", "Remote-Party-ID", "Request-Disposition", "Require", "Retry-After", "Route",
    "Server", "Session-Expires", "SIP-If-Match", "Subject", "Subscription-State", "Supported", "To",
    "Unsupported", "User-Agent", "Via", "WWW-Authenticate", "Referred-By",
)

#: headers whose body may hold several comma-separated values that Kamailio splits
#: itself (``$hfl``/``$hflc``)
MULTI_VALUE_HEADERS = frozenset(("via", "contact", "route", "record-route"))

HEADER_NAME_CHARS = frozenset("0123456789AaBbCcDdEeFfGgHhIiJjKkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZz-._+~")
_VALID_NAME = re.compile(r"[0-9A-Za-z\-._+~]+\Z")

_KEY: dict[str, str] = {}
_CANON: dict[str, str] = {}
for _full in KNOWN_HEADERS:
    _KEY[_full.lower()] = _full.lower()
    _CANON[_full.lower()] = _full
for _c, _full in COMPACT_FORMS.items():
    _KEY[_c] = _full.lower()
    _CANON[_c] = _full
del _c, _full


def header_key(name: str) -> str:
    """Lookup key: lower-case, compact form expanded.

    >>> header_key("f"), header_key("CALL-ID"), header_key("X-Foo")
    ('from', 'call-id', 'x-foo')
    """
    k = _MEMO.get(name)
    if k is None:
        low = name.lower()
        k = _KEY.get(low, low)
        if len(_MEMO) < 4096:
            _MEMO[name] = k
    return k


#: header_key's results by name as written (bounded; names are few in practice)
_MEMO: dict[str, str] = {}


def canonical_name(name: str) -> str:
    """Usual spelling of a header name (unknown names are returned unchanged).

    >>> canonical_name("i"), canonical_name("cseq"), canonical_name("X-Custom")
    ('Call-ID', 'CSeq', 'X-Custom')
    """
    return _CANON.get(name.lower(), name)


def valid_header_name(name: str) -> bool:
    return bool(_VALID_NAME.match(name))
