"""auth: digest challenges, nonces and credential checks (modules/auth @5.6.3).

Functions: ``www_challenge(realm, flags)``, ``proxy_challenge(realm, flags)``,
``auth_challenge(realm, flags)`` (401 for REGISTER, 407 otherwise; ACK/CANCEL
return 1), ``consume_credentials()``, ``has_credentials(realm)``,
``pv_www_authenticate(realm, passwd, flags[, method])`` (alias
``pv_www_authorize``), ``pv_proxy_authenticate(realm, passwd, flags)`` (alias
``pv_proxy_authorize``), ``pv_auth_check(realm, passwd, flags, checks)``,
``auth_get_www_authenticate(realm, flags, $dst)``.

Challenge flags: 1 = ``qop="auth"``, 2 = ``qop="auth-int"``, 4 = no 500 reply on
error, 16 = ``stale=true``.  The challenge is ``<WWW|Proxy>-Authenticate: Digest
realm="<realm>", nonce="<nonce>"[, qop="auth"][, stale=true][, algorithm=X]``,
added as a reply lump and sent with sl's ``send_reply`` (stateful when a
transaction exists; ``force_stateless_reply`` forces stateless).

Nonces are Kamailio's: base64 of ``expires`` and ``since`` (big-endian 32-bit
seconds, ``since`` = now, ``expires`` = now + ``nonce_expire``) and
``MD5(<those 8 bytes> + secret1)``, plus ``MD5(<message parts> + secret2)`` when
``auth_checks_register``/``_no_dlg``/``_in_dlg`` select extra checks (1 R-URI,
2 Call-ID, 4 From tag, 8 source IP).  ``secret`` is random per loaded script
unless set (with extra checks the secret is split in two halves, as Kamailio
does).  A nonce older than the script's start (``up_since``), from more than
``nonce_auth_max_drift`` seconds in the future, or expired is *stale*.  Time is
``script.clock()``.

Not emulated: ``nonce_count`` and ``one_time_nonce`` (refused at start-up),
``algorithm=SHA-256``, ``qop=auth-int`` response checking (Kamailio 5.6 hashes an
uninitialised entity hash, so auth-int never verifies there either).

API for auth_db (Kamailio's ``auth_api_s_t``): :meth:`AuthModule.pre_auth`,
:meth:`AuthModule.post_auth`, :meth:`AuthModule.check_response`,
:func:`kscript.sip.digest.calc_ha1`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct

from ..errors import ConfigError, NotSupportedError
from ..sip import digest
from ..sip.lumps import add_reply_lump, lumps_of
from .base import Module, Param, function

# auth_result_t (modules/auth/api.h)
AUTH_ERROR_R = "ERROR"
NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
DO_AUTHENTICATION = "DO_AUTHENTICATION"
AUTHENTICATED = "AUTHENTICATED"
NO_CREDENTIALS = "NO_CREDENTIALS"
STALE_NONCE = "STALE_NONCE"
NONCE_REUSED = "NONCE_REUSED"
BAD_CREDENTIALS = "BAD_CREDENTIALS"

# auth_cfg_result_t: the cfg return codes
AUTH_USER_MISMATCH = -8
AUTH_NONCE_REUSED = -6
AUTH_NO_CREDENTIALS = -5
AUTH_STALE_NONCE = -4
AUTH_USER_UNKNOWN = -3
AUTH_INVALID_PASSWORD = -2
AUTH_ERROR = -1
AUTH_OK = 1

AUTH_CHECK_FULL_URI = 1
AUTH_CHECK_CALLID = 2
AUTH_CHECK_FROMTAG = 4
AUTH_CHECK_SRC_IP = 8

AUTH_CHECK_ID_F = 1
AUTH_CHECK_SKIPFWD_F = 2

RAND_SECRET_LEN = 32
MIN_NONCE_LEN = 32  # base64 of 24 bytes
MIN_BIN_NONCE_LEN = 24
HASHHEXLEN = 32

HDR_AUTHORIZATION = "authorization"
HDR_PROXYAUTH = "proxy-authorization"


class AuthModule(Module):
    name = "auth"
    params = {
        "secret": Param("str", None),
        "nonce_expire": Param("int", 300),
        "nonce_auth_max_drift": Param("int", 3),
        "protect_contacts": Param("int", 0),
        "challenge_attr": Param("str", "$digest_challenge"),
        "proxy_challenge_header": Param("str", "Proxy-Authenticate"),
        "www_challenge_header": Param("str", "WWW-Authenticate"),
        "qop": Param("str", "auth"),
        "auth_checks_register": Param("int", 0),
        "auth_checks_no_dlg": Param("int", 0),
        "auth_checks_in_dlg": Param("int", 0),
        "nonce_count": Param("int", 0),
        "nc_array_size": Param("int", 0),
        "nc_array_order": Param("int", 0),
        "one_time_nonce": Param("int", 0),
        "otn_in_flight_no": Param("int", 0),
        "otn_in_flight_order": Param("int", 0),
        "nid_pool_no": Param("int", 0),
        "force_stateless_reply": Param("int", 0),
        "realm_prefix": Param("str", ""),
        "use_domain": Param("int", 0),
        "algorithm": Param("str", ""),
        "add_authinfo_hdr": Param("int", 0),
    }

    def init(self) -> None:
        if "sl" not in self.script.modules and "sl" not in self.script.loaded:
            raise ConfigError("auth: cannot bind to SL API (loadmodule \"sl.so\" first)")
        if self.param("nonce_count") or self.param("one_time_nonce"):
            raise NotSupportedError("auth: nonce_count and one_time_nonce are not emulated by kscript")
        alg = self.param("algorithm") or ""
        if alg not in ("", "MD5"):
            if alg == "SHA-256":
                raise NotSupportedError("auth: algorithm SHA-256 is not emulated by kscript")
            raise ConfigError('auth: Invalid algorithm provided. Possible values are "", "MD5" or "SHA-256"')
        qop = (self.param("qop") or "").strip().lower()
        if qop not in ("", "auth", "auth-int"):
            raise ConfigError("auth: Unsupported qop parameter value")
        ca = self.param("challenge_attr") or ""
        if not ca.startswith("$"):
            raise ConfigError("auth: Invalid value of challenge_attr module parameter")
        self.checks = (self.param("auth_checks_register"), self.param("auth_checks_no_dlg"),
                       self.param("auth_checks_in_dlg"))
        sec = self.param("secret")
        if sec is None:
            rnd = os.urandom(2 * RAND_SECRET_LEN)
            self.secret1 = bytes(32 + b % 95 for b in rnd[:RAND_SECRET_LEN])
            self.secret2 = bytes(32 + b % 95 for b in rnd[RAND_SECRET_LEN:])
        else:
            s = sec.encode("utf-8", "surrogateescape")
            if any(self.checks):
                half = len(s) // 2
                self.secret1, self.secret2 = s[:len(s) - half], s[len(s) - half:]
            else:
                self.secret1, self.secret2 = s, b""
        self.up_since = int(self.script.clock())
        self._challenge_pv = None

    # ------------------------------------------------------------ nonces
    def get_auth_checks(self, ctx) -> int:
        msg = ctx.msg
        if (msg.method or "").upper() == "REGISTER":
            return self.checks[0]
        try:
            to = msg.to
        except Exception:
            return self.checks[1]
        if to is not None and to.tag:
            return self.checks[2]
        return self.checks[1]

    def _md5_2(self, ctx, cfg: int) -> bytes:
        h = hashlib.md5()
        msg = ctx.msg
        if cfg & AUTH_CHECK_FULL_URI:
            h.update(ctx.ruri.encode("utf-8", "surrogateescape"))
        if cfg & AUTH_CHECK_CALLID:
            cid = msg.header("call-id")
            if cid is not None:
                h.update(cid.encode("utf-8", "surrogateescape"))
        if cfg & AUTH_CHECK_FROMTAG:
            try:
                fr = msg.from_
                if fr is not None and fr.tag:
                    h.update(fr.tag.encode("utf-8", "surrogateescape"))
            except Exception:
                pass
        if cfg & AUTH_CHECK_SRC_IP:
            import ipaddress
            try:
                h.update(ipaddress.ip_address(ctx.src.ip.strip("[]")).packed)
            except ValueError:
                pass
        h.update(self.secret2)
        return h.digest()

    def _bin_nonce(self, ctx, cfg: int, expires: int, since: int) -> bytes:
        head = struct.pack(">ii", _i32(expires), _i32(since))
        md5_1 = hashlib.md5(head + self.secret1).digest()
        if cfg:
            return head + md5_1 + self._md5_2(ctx, cfg)
        return head + md5_1

    def new_nonce(self, ctx) -> str:
        """``calc_new_nonce``: a fresh nonce for this message."""
        t = int(self.script.clock())
        cfg = self.get_auth_checks(ctx)
        return base64.b64encode(self._bin_nonce(ctx, cfg, t + self.param("nonce_expire"), t)).decode()

    def check_nonce(self, ctx, nonce: str | None) -> int:
        """``check_nonce``: 0 ok, -1 invalid, 1 too short, 2 no match, 3 extra checks
        failed, 4 stale."""
        if nonce is None:
            return -1
        if len(nonce) < MIN_NONCE_LEN:
            return 1
        cfg = self.get_auth_checks(ctx)
        try:
            raw = base64.b64decode(nonce + "=" * (-len(nonce) % 4), validate=False)
        except Exception:
            return -1
        if len(raw) < MIN_BIN_NONCE_LEN:
            return -1
        expires, since = struct.unpack(">ii", raw[:8])
        t = int(self.script.clock())
        if since < self.up_since:
            if t < self.up_since:
                self.up_since = t
            if since < t:
                return 4
        if since > t and since - t > self.param("nonce_auth_max_drift"):
            return 4
        want = self._bin_nonce(ctx, cfg, expires, since)
        if raw[8:24] == want[8:24]:
            if cfg:
                if len(raw) != len(want):
                    return 2
                if raw[24:40] != want[24:40]:
                    return 3
            if expires < t:
                return 4
            return 0
        return 2

    # ------------------------------------------------------------ credentials
    def _strip_realm(self, realm: str) -> str:
        p = self.param("realm_prefix") or ""
        if p and len(p) <= len(realm) and realm.startswith(p):
            return realm[len(p):]
        return realm

    def find_credentials(self, ctx, realm: str, hftype: str):
        """``find_credentials``: (status, header index, Credentials): status 0 found, 1 not
        found, <0 parse error."""
        msg = ctx.msg
        idx = msg._idx().get(hftype, ())
        cache = ctx.data.setdefault("auth_parsed", {})
        for i in idx:
            cred = cache.get(i, False)
            if cred is False:
                cred = digest.parse_credentials(msg.headers[i].body)
                cache[i] = cred
            if cred is None:
                # not Digest: skipped; a Digest body that does not parse is an error
                body = msg.headers[i].body.lstrip(" \t\r\n")
                if body[:6].lower() == "digest" and body[6:7] in (" ", "\t", "\r", "\n", ","):
                    return -2, None, None
                continue
            r = cred.realm
            if r is not None and len(r) == len(realm) and r.lower() == realm.lower():
                return 0, i, cred
        return 1, None, None

    def pre_auth(self, ctx, realm: str, hftype: str):
        """``pre_auth``: (auth_result, header index, Credentials)."""
        method = (ctx.msg.method or "").upper()
        if method in ("ACK", "CANCEL", "PRACK"):
            return AUTHENTICATED, None, None
        realm = self._strip_realm(realm)
        ret, idx, cred = self.find_credentials(ctx, realm, hftype)
        if ret < 0:
            self.log(ctx, "ERR", "Error while looking for credentials")
            return AUTH_ERROR_R, None, None
        if ret > 0:
            return NO_CREDENTIALS, None, None
        ctx.data.setdefault("auth_authorized", {})[hftype] = idx
        if not cred.check():
            self.log(ctx, "ERR", "Credentials are not filled properly")
            return BAD_CREDENTIALS, idx, cred
        r = self.check_nonce(ctx, cred.nonce)
        if r != 0:
            if r in (3, 4):
                ctx.data.setdefault("auth_stale", set()).add(idx)
                return STALE_NONCE, idx, cred
            if r == 6:
                return NONCE_REUSED, idx, cred
            return NOT_AUTHENTICATED, idx, cred
        return DO_AUTHENTICATION, idx, cred

    def is_stale(self, ctx, idx) -> bool:
        return idx in ctx.data.get("auth_stale", ())

    def post_auth(self, ctx, idx, cred, ha1: str | None) -> str:
        """``post_auth``: stale credentials fail (except ACK/CANCEL); Authentication-Info
        with ``add_authinfo_hdr``."""
        if self.is_stale(ctx, idx):
            method = (ctx.msg.method or "").upper()
            if method not in ("ACK", "CANCEL"):
                return NOT_AUTHENTICATED
        elif self.param("add_authinfo_hdr") and ha1:
            rsp = digest.calc_response(ha1, cred.nonce or "", cred.nc or "", cred.cnonce or "", cred.qop or "",
                                       None, cred.uri or "")
            add_reply_lump(ctx, f'Authentication-Info: nextnonce="{cred.nonce}", qop={cred.qop or ""}, '
                                f'rspauth="{rsp}", cnonce="{cred.cnonce or ""}", nc={cred.nc or ""}\r\n')
        return AUTHENTICATED

    def check_response(self, cred, method: str, ha1: str) -> str:
        """``auth_check_response``."""
        if cred.response is None or len(cred.response) != HASHHEXLEN:
            return BAD_CREDENTIALS
        resp = digest.calc_response(ha1, cred.nonce or "", cred.nc or "", cred.cnonce or "", cred.qop or "",
                                    method, cred.uri or "")
        return AUTHENTICATED if resp == cred.response else NOT_AUTHENTICATED

    @staticmethod
    def calc_ha1(username: str, realm: str, password: str) -> str:
        return digest.calc_ha1(username, realm, password)

    # ------------------------------------------------------------ challenges
    def challenge_hf(self, ctx, realm: str, flags: int, hftype: str, stale: bool | None = None) -> str:
        """``get_challenge_hf``: the header line (with CRLF)."""
        realm = self._strip_realm(realm)
        qop = "auth-int" if flags & 2 else ("auth" if flags & 1 else None)
        if stale is None:
            stale = bool(flags & 16)
        name = self.param("proxy_challenge_header") if hftype == HDR_PROXYAUTH else \
            self.param("www_challenge_header")
        hf = f'{name}: Digest realm="{realm}", nonce="{self.new_nonce(ctx)}"'
        if qop:
            hf += f', qop="{qop}"'
        if stale:
            hf += ", stale=true"
        alg = self.param("algorithm")
        if alg:
            hf += f", algorithm={alg}"
        return hf + "\r\n"

    def send_reply(self, ctx, code: int, reason: str, hdr: str | None = None) -> int:
        """``auth_send_reply``: the header as a reply lump, then sl's freply/sreply."""
        if hdr:
            add_reply_lump(ctx, hdr)
        sl = self.script.modules.get("sl")
        if sl is None:
            self.log(ctx, "ERR", "cannot bind to SL API")
            return -1
        if self.param("force_stateless_reply"):
            return sl.stateless_reply(ctx, code, reason)
        return sl.send_reply_impl(ctx, code, reason)

    def challenge(self, ctx, realm: str | None, flags, hftype: str) -> int:
        """``auth_challenge_helper`` (+ the parameter checks of the cfg functions)."""
        fl = flags if isinstance(flags, int) else 0
        if realm is None or realm == "" or not isinstance(flags, int):
            if realm == "" or realm is None:
                self.log(ctx, "ERR", "invalid realm value - empty content")
            else:
                self.log(ctx, "ERR", "invalid flags value")
            if not (fl & 4):
                if self.send_reply(ctx, 500, "Internal Server Error") < 0:
                    return -4
            return -1
        hf = self.challenge_hf(ctx, realm, fl, hftype)
        ret = 1
        if hftype == HDR_AUTHORIZATION:
            if self.send_reply(ctx, 401, "Unauthorized", hf) < 0:
                ret = -3
        else:
            if self.send_reply(ctx, 407, "Proxy Authentication Required", hf) < 0:
                ret = -3
        return ret

    @function("www_challenge", "fmt", "igp")
    def www_challenge(self, ctx, realm, flags):
        return self.challenge(ctx, realm, flags, HDR_AUTHORIZATION)

    @function("proxy_challenge", "fmt", "igp")
    def proxy_challenge(self, ctx, realm, flags):
        return self.challenge(ctx, realm, flags, HDR_PROXYAUTH)

    @function("auth_challenge", "fmt", "igp")
    def auth_challenge(self, ctx, realm, flags):
        method = (ctx.msg.method or "").upper()
        if method in ("ACK", "CANCEL"):
            return 1
        hftype = HDR_AUTHORIZATION if method == "REGISTER" else HDR_PROXYAUTH
        return self.challenge(ctx, realm, flags, hftype)

    @function("auth_get_www_authenticate", "fmt", "igp", "pvar")
    def auth_get_www_authenticate(self, ctx, realm, flags, dst):
        if not realm or not isinstance(flags, int):
            self.log(ctx, "ERR", "invalid realm or flags value")
            return -1
        hf = self.challenge_hf(ctx, realm, flags, HDR_AUTHORIZATION)
        # the whole header line, name and CRLF included (recorded: cov_auth)
        dst.set(ctx, hf)
        return 1

    # ------------------------------------------------------------ credentials functions
    @function("consume_credentials")
    def consume_credentials(self, ctx):
        msg = ctx.msg
        if (msg.method or "").upper() in ("ACK", "CANCEL", "PRACK"):
            return -1
        auth = ctx.data.get("auth_authorized", {})
        idx = auth.get(HDR_AUTHORIZATION)
        if idx is None:
            idx = auth.get(HDR_PROXYAUTH)
        if idx is None:
            self.log(ctx, "ERR", "No authorized credentials found (error in scripts)")
            return -1
        start, _b, _e, end = msg.spans[idx]
        lumps_of(ctx).delete(start, end - start)
        return 1

    @function("has_credentials", "fmt")
    def has_credentials(self, ctx, realm):
        for hftype in (HDR_PROXYAUTH, HDR_AUTHORIZATION):
            ret, _i, _c = self.find_credentials(ctx, realm or "", hftype)
            if ret == 0:
                return 1
        return -1

    # ------------------------------------------------------------ pv_* authentication
    def _challenge_avp(self, ctx, hf: str) -> None:
        """Store a challenge header in the ``challenge_attr`` AVP (``$digest_challenge``)."""
        if self._challenge_pv is None:
            name = self.param("challenge_attr")[1:]
            text = f"${name}" if name.startswith("avp(") else f"$avp({name})"
            self._challenge_pv = self.script.compiler.pv(text, None)
        self._challenge_pv.set(ctx, hf)

    def pv_authenticate(self, ctx, realm, passwd, flags, hftype: str, method: str) -> int:
        ret = AUTH_ERROR
        cred = None
        idx = None
        res, idx, cred = self.pre_auth(ctx, realm, hftype)
        if res == NONCE_REUSED:
            ret = AUTH_NONCE_REUSED
        elif res == STALE_NONCE:
            ret = AUTH_STALE_NONCE
        elif res == NO_CREDENTIALS:
            ret = AUTH_NO_CREDENTIALS
        elif res == AUTHENTICATED:
            ret = AUTH_OK
        elif res == DO_AUTHENTICATION:
            if (flags & 1) == 0:
                ha1 = digest.calc_ha1(cred.username, realm, passwd)
            else:
                ha1 = passwd
            r = self.check_response(cred, method, ha1)
            if r == AUTHENTICATED:
                ret = AUTH_OK if self.post_auth(ctx, idx, cred, ha1) == AUTHENTICATED else AUTH_ERROR
            elif r == NOT_AUTHENTICATED:
                ret = AUTH_INVALID_PASSWORD
            else:
                ret = AUTH_ERROR
        if ret < 0 and flags & 14:
            qflags = 2 if flags & 8 else (1 if flags & 4 else 0)
            stale = bool(cred is not None and idx is not None and self.is_stale(ctx, idx))
            self._challenge_avp(ctx, self.challenge_hf(ctx, realm, qflags, hftype, stale=stale))
        return ret

    def _pv_args_ok(self, ctx, realm, passwd, flags) -> bool:
        if not realm:
            self.log(ctx, "ERR", "invalid realm value - empty content")
            return False
        if not passwd:
            self.log(ctx, "ERR", "invalid password value - empty content")
            return False
        if not isinstance(flags, int):
            self.log(ctx, "ERR", "invalid flags value")
            return False
        return True

    @function("pv_www_authenticate", "fmt", "fmt", "igp")
    @function("pv_www_authorize", "fmt", "fmt", "igp")
    def pv_www_authenticate(self, ctx, realm, passwd, flags):
        if not self._pv_args_ok(ctx, realm, passwd, flags):
            return AUTH_ERROR
        return self.pv_authenticate(ctx, realm, passwd, flags, HDR_AUTHORIZATION, ctx.msg.method or "")

    @function("pv_www_authenticate", "fmt", "fmt", "igp", "fmt")
    def pv_www_authenticate4(self, ctx, realm, passwd, flags, method):
        if not self._pv_args_ok(ctx, realm, passwd, flags):
            return AUTH_ERROR
        if not method:
            self.log(ctx, "ERR", "invalid method value - empty content")
            return AUTH_ERROR
        return self.pv_authenticate(ctx, realm, passwd, flags, HDR_AUTHORIZATION, method)

    @function("pv_proxy_authenticate", "fmt", "fmt", "igp")
    @function("pv_proxy_authorize", "fmt", "fmt", "igp")
    def pv_proxy_authenticate(self, ctx, realm, passwd, flags):
        if not self._pv_args_ok(ctx, realm, passwd, flags):
            return AUTH_ERROR
        return self.pv_authenticate(ctx, realm, passwd, flags, HDR_PROXYAUTH, ctx.msg.method or "")

    @function("pv_auth_check", "fmt", "fmt", "igp", "igp")
    def pv_auth_check(self, ctx, realm, passwd, flags, checks):
        method = (ctx.msg.method or "").upper()
        if method in ("ACK", "CANCEL"):
            return AUTH_OK
        if not self._pv_args_ok(ctx, realm, passwd, flags) or not isinstance(checks, int):
            return AUTH_ERROR
        hftype = HDR_AUTHORIZATION if method == "REGISTER" else HDR_PROXYAUTH
        ret = self.pv_authenticate(ctx, realm, passwd, flags, hftype, ctx.msg.method or "")
        if ret == AUTH_OK and checks & AUTH_CHECK_ID_F:
            return check_identity(ctx, self.param("use_domain"), skipfwd=False)
        return ret


def check_identity(ctx, use_domain: int, skipfwd: bool, auth_user: str | None = None) -> int:
    """The identity checks of ``auth_check``: the digest user must be the From user (To
    user for REGISTER/PUBLISH; From must equal To there, with domains if ``use_domain``)."""
    msg = ctx.msg
    auth = ctx.data.get("auth_authorized", {})
    idx = auth.get(HDR_PROXYAUTH)
    if idx is None:
        idx = auth.get(HDR_AUTHORIZATION)
    cache = ctx.data.get("auth_parsed", {})
    if auth_user is None:
        if idx is None:
            method = (msg.method or "").upper()
            return AUTH_OK if method in ("ACK", "CANCEL", "PRACK") else AUTH_ERROR
        cred = cache.get(idx)
        auth_user = cred.user if cred is not None else None
    method = (msg.method or "").upper()
    try:
        furi = msg.from_.parsed_uri
    except Exception:
        return AUTH_ERROR
    turi = None
    if method in ("REGISTER", "PUBLISH"):
        try:
            turi = msg.to.parsed_uri
        except Exception:
            return AUTH_ERROR
        uri = turi
    else:
        uri = furi
    if not (skipfwd and method in ("INVITE", "BYE", "PRACK", "UPDATE", "MESSAGE")):
        if (auth_user or "") != (uri.user or ""):
            return AUTH_USER_MISMATCH
    if method in ("REGISTER", "PUBLISH"):
        if (furi.user or "") != (turi.user or ""):
            return AUTH_USER_MISMATCH
        if use_domain and (furi.host or "") != (turi.host or ""):
            return AUTH_USER_MISMATCH
        if method == "PUBLISH":
            try:
                ruri = msg.parsed_ruri if ctx.new_uri is None else __import__(
                    "kscript.sip.uri", fromlist=["parse_uri"]).parse_uri(ctx.new_uri)
            except Exception:
                return AUTH_ERROR
            if (furi.user or "") != (ruri.user or ""):
                return AUTH_USER_MISMATCH
            if use_domain and (furi.host or "") != (ruri.host or ""):
                return AUTH_USER_MISMATCH
    return AUTH_OK


def _i32(v: int) -> int:
    return ((int(v) + 0x80000000) & 0xFFFFFFFF) - 0x80000000
