"""sanity: message sanity checks (modules/sanity @5.6.3).

``sanity_check([msg_checks[, uri_checks]])`` runs the checks selected by the bit masks
(defaults: modparams ``default_checks`` 999, ``uri_checks`` 7), stopping at the first
failure, which (unless ``noreply``) sends sl's reply (400 "Bad Request URI",
400 "CSeq method does not match request method", 505 ...).  Result: 1 passed; on
failure 0 with ``autodrop=1`` (the default -- 0 ends the script) or -1 with
``autodrop=0``.  ``sanity_reply()`` sends the stored reply when ``noreply=1``.

Check bits: 1 R-URI SIP version, 2 R-URI scheme, 4 required headers, 8 Via SIP version
(no-op), 16 Via protocol (no-op), 32 CSeq method, 64 CSeq value, 128 Content-Length,
256 Expires value, 512 Proxy-Require, 1024 parse URIs (uri_checks: 1 R-URI, 2 From,
4 To, 8 Contact), 2048 digest, 4096 duplicated tags, 8192 authorization, 16384 top Via.
"""

from __future__ import annotations

import re

from ..errors import KscriptError
from ..sip.lumps import add_reply_lump
from ..sip.uri import parse_uri
from .base import Module, Param, function

PASSED, FAILED = 1, 0
MAX_CHECKS = 1 << 15
URI_MAX_CHECKS = 1 << 4
DEFAULT_CHECKS = 1 | 2 | 4 | 32 | 64 | 128 | 256 | 512  # 999
DEFAULT_URI_CHECKS = 1 | 2 | 4  # 7


def _valid_uint(s: str) -> bool:
    """``str2valid_uint``: 1-10 digits, at most 4294967295 (4294967296 accepted, as the C)."""
    if not s or len(s) > 10 or not s.isdigit() or not s.isascii():
        return False
    return len(s) < 10 or s <= "4294967296"


class _Failed(Exception):
    pass


class SanityModule(Module):
    name = "sanity"
    params = {
        "default_checks": Param("int", DEFAULT_CHECKS),
        "uri_checks": Param("int", DEFAULT_URI_CHECKS),
        "proxy_require": Param("str", ""),
        "autodrop": Param("int", 1),
        "noreply": Param("int", 0),
    }

    def init(self):
        pr = self.param("proxy_require") or ""
        self._proxy_require = [x.strip() for x in pr.split(",") if x.strip()]

    # ------------------------------------------------------------ replies
    def _reply(self, ctx, code: int, reason: str) -> None:
        msg = ctx.msg
        if not msg.is_request or (msg.method or "").upper() == "ACK":
            return
        if self.param("noreply"):
            ctx.data["sanity_reply"] = (code, reason)
            return
        if ctx.data.get("noreply"):
            return
        sl = ctx.script.modules.get("sl")
        if sl is None:
            self.log(ctx, "WARN", "failed to send reply (sl not loaded)")
            return
        sl.stateless_reply(ctx, code, reason)

    def _noreply(self, ctx):
        ctx.data["noreply"] = True

    # ------------------------------------------------------------ checks
    def _ruri_version(self, ctx):
        version = ctx.msg.version or ""
        if version:
            slash = version.find("/")
            if slash < 0:
                self.log(ctx, "WARN", "failed to find / in ruri version")
                return FAILED
            if version[slash + 1:] != "2.0":
                self._reply(ctx, 505, "Version Not Supported (R-URI)")
                return FAILED
        return PASSED

    def _ruri_scheme(self, ctx):
        try:
            parse_uri(ctx.ruri)
        except KscriptError:
            self.log(ctx, "WARN", f"failed to parse request uri [{ctx.ruri}]")
            self._reply(ctx, 400, "Bad Request URI")
            return FAILED
        return PASSED

    def _required_headers(self, ctx):
        msg = ctx.msg
        idx = msg._idx()  # header key -> indexes (the keys below are already keys)
        for k in ("from", "to", "call-id", "cseq"):
            if k not in idx:
                self._noreply(ctx)
                return FAILED
        if not msg.vias:
            self._noreply(ctx)
            return FAILED
        for k in ("from", "to", "call-id", "cseq"):
            if len(idx[k]) > 1:
                return FAILED
        return PASSED

    def _via1(self, ctx):
        try:
            v = ctx.msg.vias
        except KscriptError:
            self.log(ctx, "WARN", "failed to parse the Via1 header")
            self._noreply(ctx)
            return FAILED
        if not v or not v[0].host:
            self.log(ctx, "WARN", "failed to parse the Via1 host")
            self._noreply(ctx)
            return FAILED
        return PASSED

    def _cseq_method(self, ctx):
        msg = ctx.msg
        try:
            cs = msg.cseq
        except KscriptError:
            self._noreply(ctx)
            self.log(ctx, "WARN", "failed to parse the CSeq header")
            return FAILED
        if cs is None:
            self.log(ctx, "WARN", "missing CSeq header")
            return FAILED
        if not cs.method:
            self._reply(ctx, 400, "Missing method in CSeq header")
            return FAILED
        if msg.is_request and cs.method != msg.method:
            self._reply(ctx, 400, "CSeq method does not match request method")
            return FAILED
        return PASSED

    def _cseq_value(self, ctx):
        try:
            cs = ctx.msg.cseq
        except KscriptError:
            self.log(ctx, "WARN", "failed to parse the CSeq header")
            self._noreply(ctx)
            return FAILED
        if cs is None:
            self.log(ctx, "WARN", "missing CSeq header")
            self._noreply(ctx)
            return FAILED
        if not cs.number:
            self._reply(ctx, 400, "Missing number in CSeq header")
            return FAILED
        if not _valid_uint(cs.number):
            self._reply(ctx, 400, "CSeq number is illegal")
            return FAILED
        return PASSED

    def _cl(self, ctx):
        msg = ctx.msg
        try:
            cl = msg.content_length
        except KscriptError:
            self.log(ctx, "WARN", "failed to parse content-length header")
            self._reply(ctx, 400, "Content-Length Failure")
            return FAILED
        if cl is None:
            self.log(ctx, "WARN", "content length header missing in request")
            return PASSED
        if not msg.has_eoh:
            self._reply(ctx, 400, "Content-Length Body Failure")
            return FAILED
        if msg.body_bytes_len != cl:
            self._reply(ctx, 400, "Content-Length mis-match")
            return FAILED
        return PASSED

    def _expires(self, ctx):
        body = ctx.msg.header("expires")
        if body is None:
            return PASSED
        text = body.strip(" \t\r\n")
        if not text:
            self._reply(ctx, 400, "Missing number in Expires header")
            return FAILED
        if not _valid_uint(text):
            self._reply(ctx, 400, "Expires value is illegal")
            return FAILED
        return PASSED

    def _proxy_require_check(self, ctx):
        body = ctx.msg.header("proxy-require")
        if body is None:
            return PASSED
        for ext in [x.strip() for x in body.split(",")]:
            if ext not in self._proxy_require:
                add_reply_lump(ctx, f"Unsupported: {ext}\r\n")
                self._reply(ctx, 420, "Bad Proxy Require Extension")
                return FAILED
        return PASSED

    def _parse_uris(self, ctx, checks):
        msg = ctx.msg
        if checks & 1 and msg.is_request:
            try:
                parse_uri(ctx.ruri)
            except KscriptError:
                self.log(ctx, "WARN", "failed to parse request uri")
                self._reply(ctx, 400, "Bad Request URI")
                return FAILED
        for bit, key, label, reason in ((2, "from", "From", "Invalid From Header"),
                                        (4, "to", "To", "Ivalid To Header")):
            if checks & bit:
                ok = False
                try:
                    tb = msg.from_ if key == "from" else msg.to
                    if tb is not None:
                        tb.parsed_uri
                        ok = True
                except KscriptError:
                    ok = False
                if not ok:
                    self.log(ctx, "WARN", f"invalid {label} header or uri")
                    if not msg.has_header(key):
                        self._noreply(ctx)
                    else:
                        self._reply(ctx, 400, reason)
                    return FAILED
        if checks & 8:
            try:
                contacts = msg.contacts
            except KscriptError:
                self.log(ctx, "WARN", "failed to parse Contact headers")
                self._reply(ctx, 400, "Bad Contact Header")
                return FAILED
            if contacts:
                try:
                    parse_uri(contacts[0].uri)
                except KscriptError:
                    self.log(ctx, "WARN", "failed to parse Contact uri")
                    self._reply(ctx, 400, "Bad Contact URI")
                    return FAILED
        return PASSED

    def _digest(self, ctx):
        """The digest/authorization checks: credentials must carry username, nonce and
        response (a non-digest scheme is "not applicable")."""
        msg = ctx.msg
        bodies = msg.headers_named("authorization") + msg.headers_named("proxy-authorization")
        if not bodies:
            return PASSED
        for b in bodies:
            scheme, _, rest = b.strip().partition(" ")
            if scheme.lower() != "digest":
                return -2
            params = dict((m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3))
                          for m in re.finditer(r'([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))', rest))
            for name, reason in (("username", "Auth Empty User"), ("nonce", "Auth Empty Nonce"),
                                 ("response", "Auth Empty Response")):
                if name not in params and name != "username":
                    self._reply(ctx, 400, "Bad Auth Credentials")
                    return FAILED
                if not params.get(name):
                    self._reply(ctx, 400, reason)
                    return FAILED
        return PASSED

    def _duptags(self, ctx):
        msg = ctx.msg
        try:
            frm, to = msg.from_, msg.to
        except KscriptError:
            self._noreply(ctx)
            return FAILED
        for tb, reason in ((frm, "Many From Tag Params"), (to, "Many To Tag Params")):
            if tb is not None and tb.tag is not None:
                n = sum(1 for p in tb.params if p.name.lower() == "tag")
                if n > 1:
                    self._reply(ctx, 400, reason)
                    return FAILED
        return PASSED

    def check(self, ctx, msg_checks: int, uri_checks: int) -> int:
        """``sanity_check()`` (the API other modules use): PASSED (1) / FAILED (0)."""
        if self.param("noreply"):
            ctx.data.pop("sanity_reply", None)
        req = ctx.msg.is_request
        for bit, name, req_only in _MSG_STEPS:
            if msg_checks & bit and (req or not req_only):
                r = getattr(self, name)(ctx)
                if r != PASSED:
                    return r
        if msg_checks & 1024:
            r = self._parse_uris(ctx, uri_checks)
            if r != PASSED:
                return r
        if msg_checks & 2048:
            r = self._digest(ctx)
            if r != PASSED:
                return FAILED
        if msg_checks & 8192:
            r = self._digest(ctx)
            if r not in (PASSED, -2):
                return FAILED
        if msg_checks & 4096:
            r = self._duptags(ctx)
            if r != PASSED:
                return r
        return PASSED

    # ------------------------------------------------------------ functions
    @function("sanity_check")
    def sanity_check0(self, ctx):
        return self._run(ctx, self.param("default_checks"), self.param("uri_checks"))

    @function("sanity_check", "igp")
    def sanity_check1(self, ctx, msg_checks):
        if msg_checks is None:
            self.log(ctx, "ERR", "failed to get msg check flags parameter")
            return -1
        return self._run(ctx, msg_checks, self.param("uri_checks"))

    @function("sanity_check", "igp", "igp")
    def sanity_check2(self, ctx, msg_checks, uri_checks):
        if msg_checks is None:
            self.log(ctx, "ERR", "failed to get msg check flags parameter")
            return -1
        if uri_checks is None:
            self.log(ctx, "ERR", "failed to get uri check flags parameter")
            return -1
        return self._run(ctx, msg_checks, uri_checks)

    def _run(self, ctx, msg_checks: int, uri_checks: int) -> int:
        if msg_checks < 1 or msg_checks >= MAX_CHECKS:
            self.log(ctx, "ERR", f"input parameter ({msg_checks}) outside of valid range <1-{MAX_CHECKS})")
            return -1
        if uri_checks < 1 or uri_checks >= URI_MAX_CHECKS:
            self.log(ctx, "ERR", f"second input parameter ({uri_checks}) outside of valid range "
                                 f"<1-{URI_MAX_CHECKS}")
            return -1
        ret = self.check(ctx, msg_checks, uri_checks)
        if self.param("autodrop"):
            return ret
        return -1 if ret == FAILED else ret

    @function("sanity_reply")
    def sanity_reply(self, ctx):
        msg = ctx.msg
        if not msg.is_request or (msg.method or "").upper() == "ACK":
            return 1
        if not self.param("noreply"):
            return 1
        if ctx.data.get("noreply"):
            return 1
        sl = ctx.script.modules.get("sl")
        info = ctx.data.get("sanity_reply")
        if info is None:
            self.log(ctx, "INFO", "no sanity reply info set - sending 500")
            info = (500, "Server Sanity Failure")
        if sl is None or sl.stateless_reply(ctx, *info) < 0:
            return -1
        return 1


#: the message checks run first by :meth:`SanityModule.check`, in order:
#: (flag bit, method, only for requests)
_MSG_STEPS = (
    (1, "_ruri_version", True), (2, "_ruri_scheme", True), (4, "_required_headers", False),
    (16384, "_via1", False), (32, "_cseq_method", False), (64, "_cseq_value", False),
    (128, "_cl", False), (256, "_expires", False), (512, "_proxy_require_check", False),
)
