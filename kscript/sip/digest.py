"""HTTP digest authentication for SIP (RFC 2617, as Kamailio 5.6 does it).

For tests -- answering a challenge::

    r1 = script.process(register)                      # 401 with WWW-Authenticate
    hdr = authorization_header(r1.replies[0], "alice", "secret", "REGISTER", "sip:example.com")
    r2 = script.process(register_with(hdr))           # hdr: 'Authorization: Digest username="alice", ...'

:func:`authorization_header` accepts the challenge as a reply (anything with a
``header(name)`` method, e.g. ``result.replies[0]``), a full header line
(``'WWW-Authenticate: Digest realm=...'``) or just its value; the answer is an
``Authorization`` line for ``WWW-Authenticate`` and a ``Proxy-Authorization`` line
for ``Proxy-Authenticate``.  With ``qop="auth"`` in the challenge the answer uses
``qop=auth``, ``nc`` and a ``cnonce`` (deterministic unless given).

For the auth modules -- parsing credentials as Kamailio's digest parser does
(core/parser/digest/digest_parser.c@5.6.3) and computing ``HA1``/``response``
(modules/auth/rfc2617.c): ``HA1 = MD5(username:realm:password)``, ``HA2 =
MD5(method:uri)``, ``response = MD5(HA1:nonce[:nc:cnonce:qop]:HA2)``, lower-case hex.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["Credentials", "parse_credentials", "parse_challenge", "calc_ha1", "calc_response", "md5_hex",
           "authorization_header", "authorization_value"]


def md5_hex(text: str | bytes) -> str:
    b = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    return hashlib.md5(b).hexdigest()


def calc_ha1(username: str, realm: str, password: str, algorithm: str = "MD5", nonce: str = "",
             cnonce: str = "") -> str:
    """``calc_HA1_md5``: MD5(username:realm:password) (MD5-sess: then MD5(HA1:nonce:cnonce))."""
    ha1 = md5_hex(f"{username}:{realm}:{password}")
    if algorithm.lower() == "md5-sess":
        raw = hashlib.md5(f"{username}:{realm}:{password}".encode("utf-8", "surrogateescape")).digest()
        ha1 = hashlib.md5(raw + f":{nonce}:{cnonce}".encode()).hexdigest()
    return ha1


def calc_response(ha1: str, nonce: str, nc: str, cnonce: str, qop: str, method: str | None, uri: str,
                  hentity: str = "") -> str:
    """``calc_response_md5`` (``qop`` "" for RFC 2069 style; ``auth-int`` adds H(entity))."""
    a2 = f"{method or ''}:{uri}"
    if qop.lower() == "auth-int":
        a2 += ":" + hentity
    ha2 = md5_hex(a2)
    if qop:
        return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return md5_hex(f"{ha1}:{nonce}:{ha2}")


# ---------------------------------------------------------------- credentials (server side)
@dataclass
class Credentials:
    """A parsed ``Authorization``/``Proxy-Authorization`` Digest body (``dig_cred_t``)."""

    username: str | None = None  # username.whole
    user: str | None = None  # username.user
    domain: str = ""  # username.domain ("" when absent)
    realm: str | None = None
    nonce: str | None = None
    uri: str | None = None
    response: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None
    algorithm: str | None = None

    @property
    def qop_kind(self) -> str:
        """``unspec``, ``auth``, ``auth-int`` or ``other`` (``parse_qop``)."""
        if self.qop is None or not self.qop.strip():
            return "unspec"
        q = self.qop.strip().lower()
        return q if q in ("auth", "auth-int") else "other"

    def check(self) -> bool:
        """``check_dig_cred``: everything needed to verify the response is there."""
        if self.username is None or self.realm is None or self.nonce is None or self.uri is None \
                or self.response is None:
            return False
        if self.qop_kind in ("auth", "auth-int") and (self.cnonce is None or self.nc is None):
            return False
        return True


_PARAMS = {"username": "username", "realm": "realm", "nonce": "nonce", "uri": "uri", "response": "response",
           "cnonce": "cnonce", "opaque": "opaque", "qop": "qop", "nc": "nc", "algorithm": "algorithm"}
_WS = " \t\r\n"


def parse_credentials(body: str) -> Credentials | None:
    """Parse a credentials header body; None when the scheme is not Digest (or the
    body does not parse -- Kamailio then skips the header)."""
    s = body.lstrip(_WS)
    if len(s) < 7 or s[:6].lower() != "digest" or s[6] not in " \r\n\t,":
        return None
    s = s[7:].lstrip(_WS)
    c = Credentials()
    i, n = 0, len(s)
    while True:
        # name
        j = i
        while j < n and s[j] not in "=" + _WS:
            j += 1
        name = s[i:j].lower()
        while j < n and s[j] in _WS:
            j += 1
        if j >= n or s[j] != "=":
            return None
        j += 1
        while j < n and s[j] in _WS:
            j += 1
        if j >= n:
            return None
        if s[j] == '"':
            end = s.find('"', j + 1)
            if end < 0:
                return None
            value = s[j + 1:end]
            j = end + 1
        else:
            k = j
            while k < n and s[k] not in " \t\r\n,":
                k += 1
            if k == j:
                return None
            value = s[j:k]
            j = k
        attr = _PARAMS.get(name)
        if attr is not None:
            setattr(c, attr, value)
        comma = s.find(",", j)
        if comma < 0:
            break
        i = comma + 1
        while i < n and s[i] in _WS:
            i += 1
    if c.username is not None:
        whole = c.username
        user, domain = whole, ""
        if len(whole) > 2:
            at = whole.find("@")
            if at >= 0:
                domain = whole[at + 1:]
                user = whole[:at]
            colon = user.find(":")
            if colon >= 0:
                user = user[colon + 1:]
        c.user, c.domain = user, domain
    return c


# ---------------------------------------------------------------- challenges (client side)
def parse_challenge(value: str) -> dict:
    """``Digest realm="x", nonce="y", qop="auth"`` -> {"realm": "x", "nonce": "y", "qop": "auth"}."""
    v = value.strip()
    if ":" in v.split(" ", 1)[0]:
        v = v.split(":", 1)[1].strip()
    if v[:6].lower() == "digest":
        v = v[6:]
    out: dict[str, str] = {}
    for m in re.finditer(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?', v):
        val = m.group(3) if m.group(3) is not None else m.group(2)
        out[m.group(1).lower()] = val
    return out


def _challenge_of(challenge) -> tuple[str, str]:
    """(header name, value) of a challenge given as a reply, a header line or a value."""
    if hasattr(challenge, "header") and callable(challenge.header):
        for name in ("WWW-Authenticate", "Proxy-Authenticate"):
            v = challenge.header(name)
            if v is not None:
                return name, v
        raise ValueError("the reply carries no WWW-Authenticate or Proxy-Authenticate header")
    text = str(challenge).strip()
    m = re.match(r"(WWW-Authenticate|Proxy-Authenticate)\s*:\s*(.*)$", text, re.I | re.S)
    if m:
        name = "Proxy-Authenticate" if m.group(1).lower().startswith("proxy") else "WWW-Authenticate"
        return name, m.group(2).strip()
    return "WWW-Authenticate", text


def authorization_value(challenge, username: str, password: str, method: str, uri: str, *,
                        cnonce: str | None = None, nc: int = 1, realm: str | None = None) -> str:
    """The credentials (``Digest username="..", ...``) answering ``challenge``."""
    _name, value = _challenge_of(challenge)
    ch = parse_challenge(value)
    realm = realm if realm is not None else ch.get("realm", "")
    nonce = ch.get("nonce", "")
    algorithm = ch.get("algorithm")
    qops = [q.strip() for q in ch.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in qops else (qops[0] if qops else "")
    ha1 = calc_ha1(username, realm, password)
    ncs = "%08x" % nc
    if cnonce is None:
        cnonce = md5_hex(f"kscript:{nonce}:{nc}")[:16]
    resp = calc_response(ha1, nonce, ncs, cnonce, qop, method, uri)
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
             f'response="{resp}"']
    if algorithm:
        parts.append(f"algorithm={algorithm}")
    if qop:
        parts += [f"qop={qop}", f"nc={ncs}", f'cnonce="{cnonce}"']
    if "opaque" in ch:
        parts.append(f'opaque="{ch["opaque"]}"')
    return "Digest " + ", ".join(parts)


def authorization_header(challenge, username: str, password: str, method: str, uri: str, *,
                         cnonce: str | None = None, nc: int = 1, realm: str | None = None) -> str:
    """The header line answering ``challenge`` (no CRLF): ``Authorization: Digest ...`` for a
    ``WWW-Authenticate`` challenge, ``Proxy-Authorization: Digest ...`` for ``Proxy-Authenticate``."""
    name, _value = _challenge_of(challenge)
    hname = "Proxy-Authorization" if name.lower().startswith("proxy") else "Authorization"
    return f"{hname}: " + authorization_value(challenge, username, password, method, uri, cnonce=cnonce, nc=nc,
                                              realm=realm)
