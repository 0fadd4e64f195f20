"""The SIP side of kscript: messages, URIs, name-addr bodies, and message builders.

>>> from kscript.sip import SipMessage, request, reply, parse_uri
>>> m = SipMessage.parse(request("REGISTER", "sip:example.com", from_="sip:alice@example.com",
...                              to="sip:alice@example.com", headers={"Expires": "3600"}))
>>> m.method, m.from_.parsed_uri.user, m.header("expires"), m.contacts[0].uri
('REGISTER', 'alice', '3600', 'sip:kscript@127.0.0.1:5060')
>>> parse_uri("sip:alice@example.com;transport=tcp").transport
'tcp'
"""

from .builder import parse_src, reply, request
from .headers import COMPACT_FORMS, canonical_name, header_key
from .message import CSeq, Header, SipMessage, serialize, serialize_headers
from .nameaddr import (Contact, ContactBody, NameAddr, RouteEntry, ToBody, parse_contact_body, parse_nameaddr,
                       parse_rr_body, parse_to_body, split_comma_list)
from .params import Param, parse_params
from .uri import SipUri, parse_uri
from .via import Via, parse_via_body

__all__ = [
    "SipMessage", "Header", "CSeq", "serialize", "serialize_headers",
    "request", "reply", "parse_src",
    "SipUri", "parse_uri",
    "ToBody", "NameAddr", "Contact", "ContactBody", "RouteEntry", "parse_to_body", "parse_nameaddr",
    "parse_contact_body", "parse_rr_body", "split_comma_list",
    "Via", "parse_via_body", "Param", "parse_params",
    "COMPACT_FORMS", "header_key", "canonical_name",
]
