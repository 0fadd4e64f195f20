"""registrar: REGISTER processing and location lookups (modules/registrar @5.6.3).

Functions:

* ``save(table[, flags[, uri]])`` -- store the REGISTER's contacts in usrloc and
  reply (200 listing the bindings, or the error reply); returns 1 new AOR /
  contacts inserted, 2 updated, 3 deleted (``Contact: *``), 4 bindings listed
  (no Contact), -1 error, -2 too many contacts.  Flags: 1 memory only, 2 no
  reply, 4 one contact per AOR, 8 no expires variation, 16 prepare the reply
  headers only;
* ``lookup(table[, uri])`` -- R-URI (or ``uri``) to the first valid contact,
  further contacts as branches in q order (``append_branches``); 1 found, -1
  not found, -2 found but method not allowed, -3 error; ``lookup_to_dset``
  (branches only), ``lookup_branches(table)``;
* ``registered(table[, uri[, flags[, action_flags]]])``, ``unregister(table,
  uri[, ruid])``, ``reg_fetch_contacts(table, uri, profile)`` /
  ``reg_free_contacts(profile)`` with ``$ulc(profile=>attr)``,
  ``reg_send_reply()``, ``add_sock_hdr(name)``.

What Kamailio does and kscript reproduces: contacts of one Contact header are
processed last-to-first (Kamailio's parser builds the list reversed); the AOR is
the To URI's user (unescaped, lower-cased; ``user@domain`` with usrloc's
``use_domain``; ``realm_prefix`` stripped); expires from the contact's
``expires`` parameter, else the ``Expires`` header, else ``default_expires``,
raised to ``min_expires`` (or 423 with ``min_expires_mode``), capped by
``max_expires``, ``+ now``; q from the ``q`` parameter (``default_q`` else);
every contact gets a new ``ruid`` (``uloc-<hex start time>-<hex pid>-<counter
hex, least significant digit first>``, one per contact *processed*, also for
contacts that end up not stored); a refresh with the same Call-ID and a lower
CSeq is refused (400 "Invalid CSeq number"), with the same CSeq within
``cseq_delay`` seconds it is ignored as a retransmission; the 200 OK lists the
valid bindings ``<uri>;q=0.5;expires=N`` (remaining seconds) separated by ``,
`` in usrloc's order; errors carry ``P-Registrar-Error``; the ``received``
contact parameter and ``reg-id`` of one contact carry over to the following
contacts of the same REGISTER (Kamailio's static ``ucontact_info``).

Lookup results go where kscript's other modules read them: ``ctx.new_uri``,
``ctx.dst_uri`` (the ``received`` of the contact or the first Path hop),
``ctx.branches`` (:class:`kscript.sip.output.Branch`), ``ctx.force_socket``,
``ctx.bflags`` (| the contact's cflags), ``ctx.data["ruri_q"]``,
``ctx.data["path_vec"]``, ``ctx.data["ruid"]``, ``ctx.data["instance"]``,
``ctx.data["reg_id"]``, ``ctx.data["location_ua"]``.

Not emulated: ``sock_flag``/``sock_hdr_name`` and the xavp ``socket``, TCP
connection checks, ``event_callback``/``usrloc:contact-expired``.
"""

from __future__ import annotations

import dataclasses
import os

import random

from .. import nodes as N
from ..errors import ConfigError
from ..pv.base import PVClass
from ..runtime.context import Socket
from ..sip import output
from ..sip.lumps import add_reply_lump, lumps_of
from ..sip.nameaddr import parse_contact_body, parse_rr_body
from ..sip.uri import parse_uri
from .base import Module, Param, function
from .usrloc import ALL_METHODS, FL_MEM, FL_NONE, Q_UNSPECIFIED, ContactInfo, core_hash

# rerrno
(R_FINE, R_UL_DEL_R, R_UL_GET_R, R_UL_NEW_R, R_INV_CSEQ, R_UL_INS_C, R_UL_INS_R, R_UL_DEL_C, R_UL_UPD_C,
 R_TO_USER, R_AOR_LEN, R_AOR_PARSE, R_INV_EXP, R_INV_Q, R_PARSE, R_TO_MISS, R_CID_MISS, R_CS_MISS, R_PARSE_EXP,
 R_PARSE_CONT, R_STAR_EXP, R_STAR_CONT, R_OOO, R_RETRANS, R_UNESCAPE, R_TOO_MANY, R_CONTACT_LEN, R_CALLID_LEN,
 R_PARSE_PATH, R_PATH_UNSUP, R_OB_UNSUP, R_OB_REQD, R_OB_UNSUP_EDGE, R_INV_REGID, R_LOW_EXP) = range(35)

ERROR_INFO = [
    "No problem", "usrloc_record_delete failed", "usrloc_record_get failed", "usrloc_record_new failed",
    "Invalid CSeq number", "usrloc_contact_insert failed", "usrloc_record_insert failed",
    "usrloc_contact_delete failed", "usrloc_contact_update failed", "No username in To URI",
    "Address Of Record too long", "Error while parsing AOR", "Invalid expires param in contact",
    "Invalid q param in contact", "Message parse error", "To header not found", "Call-ID header not found",
    "CSeq header not found", "Expires parse error", "Contact parse error", "* used in contact and expires is not zero",
    "* used in contact and more than 1 contact", "Out of order request", "Retransmission",
    "Error while unescaping username", "Too many registered contacts", "Contact/received too long",
    "Callid too long", "Path parse error", "No support for found Path indicated", "No support for Outbound indicated",
    "No support for Outbound on server", "No support for Outbound on edge proxy", "Invalid Reg-Id number",
    "Interval too brief",
]
CODES = [200, 500, 500, 500, 400, 500, 500, 500, 500, 400, 500, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400,
         400, 200, 200, 400, 503, 400, 400, 400, 420, 421, 420, 439, 400, 423]
REASONS = {200: "OK", 400: "Bad Request", 420: "Bad Extension", 421: "Extension Required", 423: "Interval Too Brief",
           439: "First Hop Lacks Outbound Support", 500: "Server Internal Error", 503: "Service Unavailable"}

REG_SAVE_MEM_FL, REG_SAVE_NORPL_FL, REG_SAVE_REPL_FL, REG_SAVE_NOVARIATION_FL, REG_SAVE_PREPRPL_FL = 1, 2, 4, 8, 16
REG_SAVE_ALL_FL = 31
AVP_RCD_RUID, AVP_RCD_CNT, AVP_RCD_EXP, AVP_RCD_RCV, AVP_RCD_PATH = 1, 2, 4, 8, 16
MAX_AOR_LEN = 256
USERNAME_MAX_SIZE = 64
DOMAIN_MAX_SIZE = 128
RECEIVED_MAX_SIZE = 255
CALLID_MAX_SIZE = 255
MAX_UA_SIZE = 255
MAX_BRANCHES = 12

METHOD_BITS = {"INVITE": 1, "CANCEL": 2, "ACK": 4, "BYE": 8, "INFO": 16, "REGISTER": 32, "SUBSCRIBE": 64,
               "NOTIFY": 128, "MESSAGE": 256, "OPTIONS": 512, "PRACK": 1024, "UPDATE": 2048, "REFER": 4096,
               "PUBLISH": 8192, "KDMQ": 16384, "GET": 32768, "POST": 65536, "PUT": 131072, "DELETE": 262144}
METHOD_OTHER = 524288

REG_FUNCTIONS = ("save", "lookup", "lookup_to_dset", "lookup_branches", "registered", "unregister",
                 "reg_fetch_contacts")


class RegError(Exception):
    pass


def method_bit(name: str) -> int:
    return METHOD_BITS.get(name.strip().upper(), METHOD_OTHER)


def parse_methods(text: str) -> int:
    """``parse_methods``: a comma-separated list of method names to a bitmask."""
    t = text.strip().strip('"')
    if not t:
        raise RegError("empty methods")
    bits = 0
    for part in t.split(","):
        p = part.strip()
        if not p:
            raise RegError("bad methods")
        bits |= method_bit(p)
    return bits


def str2q(text: str) -> int:
    """``str2q``: "0.5" -> 500; raises RegError like E_Q_* errors."""
    s = text
    state = "start"
    q = 0
    order = 100
    digits = 1
    for ch in s:
        if state == "start":
            if ch in " \t":
                continue
            if ch == "0":
                q, state = 0, "0"
            elif ch == "1":
                q, state = 1000, "1"
            elif ch == ".":
                state = "0pt"
            else:
                raise RegError("invalid character in q")
        elif state == "0":
            if ch == "0":
                continue
            if ch == ".":
                state = "0pt"
            elif ch == "1":
                q, state = 1000, "1"
            else:
                raise RegError("q too big" if "2" <= ch <= "9" else "invalid character in q")
        elif state == "1":
            if ch == ".":
                state = "1pt"
            else:
                raise RegError("q too big" if ch.isdigit() else "invalid character in q")
        elif state == "0pt":
            if ch.isdigit():
                q = (ord(ch) - 48) * order
                order //= 10
                state = "0ptn"
            else:
                raise RegError("invalid character in q")
        elif state == "1pt":
            if ch == "0":
                state = "1pt0"
            else:
                raise RegError("q too big" if ch.isdigit() else "invalid character in q")
        elif state == "1pt0":
            if ch != "0":
                raise RegError("q too big" if ch.isdigit() else "invalid character in q")
        elif state == "0ptn":
            if ch.isdigit():
                if digits <= 3:
                    q += (ord(ch) - 48) * order
                    order //= 10
                    digits += 1
            else:
                raise RegError("invalid character in q")
    if state == "start":
        raise RegError("empty q")
    if state in ("0pt", "1pt"):
        raise RegError("decimal part missing in q")
    return q


def _str2int(text: str) -> int | None:
    """``str2int``: unsigned decimal, nothing else."""
    if not text or not text.isdigit() or not text.isascii():
        return None
    v = int(text)
    return v if v <= 0xFFFFFFFF else None


def _parse_expires_hf(body: str | None):
    """``parse_expires``: (valid, value); None body = no header; raises RegError for an empty body."""
    if body is None:
        return None
    t = body.strip(" \t\r\n")
    if not t:
        raise RegError("Empty body")
    if len(t) > 10:
        return False, 0
    val = 0
    for ch in t:
        if "0" <= ch <= "9":
            val = val * 10 + ord(ch) - 48
        elif ch in " \t\r\n":
            return True, val & 0xFFFFFFFF
        else:
            return False, 0
    return True, val & 0xFFFFFFFF


def _unescape(user: str) -> str:
    """``un_escape``: %XX sequences decoded; raises RegError on a bad escape."""
    if "%" not in user:
        return user
    out = []
    i = 0
    n = len(user)
    while i < n:
        ch = user[i]
        if ch == "%":
            if i + 2 >= n + 0 and i + 2 > n - 1 + 1:
                raise RegError("bad escape")
            hx = user[i + 1:i + 3]
            if len(hx) != 2:
                raise RegError("bad escape")
            try:
                out.append(chr(int(hx, 16)))
            except ValueError:
                raise RegError("bad escape") from None
            i += 3
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _walk_calls(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(n)
            continue
        if isinstance(n, N.Call):
            yield n
        if dataclasses.is_dataclass(n) and not isinstance(n, type):
            for f in dataclasses.fields(n):
                v = getattr(n, f.name, None)
                if isinstance(v, (list, N.Node)):
                    stack.append(v)


# ---------------------------------------------------------------- $ulc
class UlcPV(PVClass):
    """``$ulc(profile=>attr)`` / ``$(ulc(profile=>attr)[i])``: contacts fetched with
    ``reg_fetch_contacts``."""

    name = "ulc"
    takes_name = True
    indexed = True

    ATTRS = ("aor", "domain", "aorhash", "addr", "path", "received", "expires", "callid", "q", "cseq", "flags",
             "cflags", "user_agent", "socket", "modified", "methods", "count", "ruid", "reg_id", "instance",
             "conid", "server_id", "keepalive")

    def parse_name(self, inner, compiler):
        inner = super().parse_name(inner, compiler)
        prof, sep, attr = inner.partition("=>")
        if not sep or attr not in self.ATTRS:
            raise ValueError(f"unknown contact attr name in $ulc({inner})")
        return prof, attr

    def get(self, ctx, name, idx):
        prof, attr = name
        data = self.module.profiles.get(prof)
        if data is None:
            return None
        rec, contacts, fetched_at = data
        if attr == "aor":
            return rec
        if attr == "count":
            return len(contacts)
        if attr == "domain":
            return data and self.module.profile_tables.get(prof)
        if attr == "aorhash":
            return core_hash(rec)
        i = 0
        if isinstance(idx, int):
            i = idx
        elif callable(idx):
            i = idx(ctx)
        if i < 0:
            i += len(contacts)
        if not 0 <= i < len(contacts):
            return None
        c = contacts[i]
        return {
            "addr": c.c, "path": c.path or "", "received": c.received or "",  # empty, not null (recorded)
            "expires": int(c.expires), "callid": c.callid, "q": c.q, "cseq": c.cseq, "flags": c.flags,
            "cflags": c.cflags, "user_agent": c.user_agent or None, "socket": c.sock or None,
            "modified": int(c.last_modified), "methods": c.methods, "ruid": c.ruid or None, "reg_id": c.reg_id,
            "instance": c.instance or None, "conid": c.tcpconn_id, "server_id": c.server_id,
            "keepalive": c.keepalive,
        }.get(attr)


class RegistrarModule(Module):
    name = "registrar"
    params = {
        "default_expires": Param("int", 3600),
        "default_expires_range": Param("int", 0),
        "expires_range": Param("int", 0),
        "default_q": Param("int", -1),
        "append_branches": Param("int", 1),
        "case_sensitive": Param("int", 0),
        "realm_prefix": Param("str", ""),
        "min_expires": Param("int", 60),
        "max_expires": Param("int", 0),
        "received_param": Param("str", "received"),
        "received_avp": Param("str", None),
        "max_contacts": Param("int", 0),
        "retry_after": Param("int", 0),
        "sock_mode": Param("int", 0),
        "sock_flag": Param("int", -1),
        "sock_hdr_name": Param("str", None),
        "method_filtering": Param("int", 0),
        "use_path": Param("int", 0),
        "path_mode": Param("int", 2),
        "path_use_received": Param("int", 0),
        "path_check_local": Param("int", 0),
        "xavp_cfg": Param("str", None),
        "xavp_rcd": Param("str", None),
        "xavp_rcd_mask": Param("int", 0),
        "gruu_enabled": Param("int", 1),
        "outbound_mode": Param("int", 0),
        "regid_mode": Param("int", 0),
        "flow_timer": Param("int", 0),
        "contact_max_size": Param("int", 512),
        "event_callback": Param("str", None),
        "lookup_filter_mode": Param("int", 0),
        "min_expires_mode": Param("int", 0),
        "use_expired_contacts": Param("int", 0),
    }
    pv_classes = (UlcPV,)
    requires = ("usrloc", "sl")

    def init(self) -> None:
        s = self.script
        if "sl" not in s.loaded:
            raise ConfigError("registrar: Cannot bind to SL API. Please load the SL module before loading this module.")
        if "usrloc" not in s.modules:
            raise ConfigError("registrar: Can't bind to the usrloc module. Please load it before this module.")
        p = self.param
        if not 0 <= p("outbound_mode") <= 2:
            raise ConfigError("registrar: outbound_mode modparam must be 0 (not supported), 1 (supported), "
                              "or 2 (supported and required)")
        if not 0 <= p("regid_mode") <= 1:
            raise ConfigError("registrar: regid_mode modparam must be 0 (use with outbound), 1 (use always)")
        ft = p("flow_timer")
        if ft < 0 or ft > 999 or (ft > 0 and p("outbound_mode") == 0):
            raise ConfigError("registrar: bad value for flow_timer")
        dq = p("default_q")
        if dq != Q_UNSPECIFIED:
            self.param_values["default_q"] = max(0, min(1000, dq))
        self.ul = s.modules["usrloc"]
        # hot-path copies of parameters (they do not change after start-up)
        self._use_expired = bool(p("use_expired_contacts"))
        self._method_filtering = bool(p("method_filtering"))
        self._append_branches = bool(p("append_branches"))
        self._xavp_rcd = p("xavp_rcd")
        self._xavp_cfg = p("xavp_cfg")
        self._path_check_local = p("path_check_local")
        self._sock_cache: dict[str, Socket | None] = {}
        self._realm_prefix = p("realm_prefix") or ""
        self._case_sensitive = bool(p("case_sensitive"))
        self._sruid_prefix = "uloc-%x-%x-" % (int(s.clock()) & 0xFFFFFFFF, os.getpid() & 0xFFFFFFFF)
        self._sruid_counter = 0
        self.profiles: dict = {}
        self.profile_tables: dict = {}
        self._rcv_avp = None
        self._q_override: tuple | None = None
        # the tables named in the cfg's registrar calls are registered at start-up (fixups)
        tables = set()
        for call in _walk_calls(s.config.items):
            if call.name in REG_FUNCTIONS and call.args and isinstance(call.args[0], N.Literal) \
                    and isinstance(call.args[0].value, str):
                tables.add(call.args[0].value)
        for t in sorted(tables):
            self.ul.register_udomain(t)

    @property
    def use_domain(self) -> int:
        return self.ul.use_domain

    def _domain(self, table: str):
        d = self.ul.get_udomain(table)
        if d is None:
            d = self.ul.register_udomain(table)
        return d

    def next_ruid(self) -> str:
        self._sruid_counter = (self._sruid_counter + 1) & 0xFFFFFFFF
        if self._sruid_counter == 0:
            self._sruid_counter = 1
        return self._sruid_prefix + output.reverse_hex(self._sruid_counter)

    # ------------------------------------------------------------ helpers
    def _xavp_child(self, ctx, field: str, want_int: bool):
        root = self._xavp_cfg
        if not root:
            return None
        items = ctx.xavps.get(root)
        if not items or not isinstance(items[0], dict):
            return None
        vals = items[0].get(field)
        if not vals:
            return None
        v = vals[0]
        if want_int:
            return v if isinstance(v, int) else None
        return v if isinstance(v, str) else None

    def extract_aor(self, ctx, uri: str, pu=None) -> str:
        """``extract_aor``; raises RegError (rerrno in ``.args[1]``)."""
        if pu is None:
            try:
                pu = parse_uri(uri)
            except Exception:
                self.log(ctx, "ERR", f"failed to parse AoR [{uri}]")
                raise RegError("aor", R_AOR_PARSE) from None
        user = pu.user or ""
        host = pu.host or ""
        if len(user) + len(host) + 1 > MAX_AOR_LEN or len(user) > USERNAME_MAX_SIZE or len(host) > DOMAIN_MAX_SIZE:
            self.log(ctx, "ERR", "Address Of Record too long")
            raise RegError("aor", R_AOR_LEN)
        try:
            aor = _unescape(user)
        except RegError:
            self.log(ctx, "ERR", "failed to unescape username")
            raise RegError("aor", R_UNESCAPE) from None
        user_len = len(aor)
        if self.ul.use_domain:
            if user_len:
                aor += "@"
            rp = self._realm_prefix
            if rp and len(rp) < len(host) and host.startswith(rp):
                aor += host[len(rp):]
            else:
                aor += host
        if self._case_sensitive:
            if user_len:
                aor = aor[:user_len + 1] + aor[user_len + 1:].lower()
        else:
            aor = aor.lower()
        return aor

    def _expires_hf(self, ctx):
        v = ctx.data.get("reg_expires_hf", "unset")
        if v == "unset":
            return -1
        return v

    def calc_expires(self, ctx, ep: str | None, novariation: bool, st: dict, act_time: int) -> int:
        """``calc_contact_expires``: absolute expires (0 = remove); sets ``st["rerrno"]``."""
        p = self.param
        rng = 0
        xv = self._xavp_child(ctx, "expires", True)
        if xv is not None and xv >= 0:
            e = xv
        else:
            if ep is None or ep == "":
                e = self._expires_hf(ctx)
                if e < 0:
                    e = p("default_expires")
                    rng = p("default_expires_range")
                else:
                    rng = p("expires_range")
            else:
                v = _str2int(ep)
                if v is None:
                    e = p("default_expires")
                    rng = p("default_expires_range")
                else:
                    e = v
                    rng = p("expires_range")
        if e != 0:
            if e < p("min_expires"):
                if p("min_expires_mode"):
                    st["rerrno"] = R_LOW_EXP
                    return e
                e = p("min_expires")
            if not novariation and rng:
                rmin = int(e - rng / 100.0 * e)
                e = int(rmin + (random.randrange(100) / 100.0) * (e - rmin))
                if e < p("min_expires"):
                    e = p("min_expires")
            mx = p("max_expires")
            if mx and e > mx:
                e = mx
            e += act_time
        return e

    def calc_q(self, ctx, qparam: str | None) -> int:
        xq = self._xavp_child(ctx, "q", True)
        if xq is not None:
            if 0 <= xq <= 1000:
                return xq
            raise RegError("q", R_INV_Q)
        if qparam is None or qparam == "":
            return self.param("default_q")
        try:
            return str2q(qparam)
        except RegError:
            raise RegError("q", R_INV_Q) from None

    def _allow_methods(self, ctx) -> int:
        bodies = ctx.msg.headers_named("allow")
        if not bodies:
            return ALL_METHODS
        bits = 0
        for b in bodies:
            for part in b.split(","):
                if part.strip():
                    bits |= method_bit(part)
        return bits

    def _rcv_avp_value(self, ctx) -> str:
        name = self.param("received_avp")
        if not name:
            return ""
        if self._rcv_avp is None:
            self._rcv_avp = self.script.compiler.pv(name, None)
        try:
            v = self._rcv_avp.value(ctx)
        except Exception:
            v = None
        return v if isinstance(v, str) else ""

    def _path_vector(self, ctx):
        """``build_path_vector``: (path, received) -- raises RegError(R_PARSE_PATH)."""
        bodies = ctx.msg.headers_named("path")
        if not bodies:
            return "", ""
        path = ",".join(bodies)
        try:
            first = parse_rr_body(path)[0]
            pu = parse_uri(first.uri)
        except Exception:
            self.log(ctx, "ERR", "failed to parse Path body, no head found")
            raise RegError("path", R_PARSE_PATH) from None
        if pu.param("lr") is None:
            self.log(ctx, "ERR", "first Path URI is not a loose-router, not supported")
            raise RegError("path", R_PARSE_PATH)
        received = ""
        if self.param("path_use_received"):
            r = pu.param("received")
            if r:
                try:
                    received = _unescape(r)
                except RegError:
                    raise RegError("path", R_PARSE_PATH) from None
        return path, received

    # ------------------------------------------------------------ pack_ci
    def pack_common(self, ctx, st: dict, flags: int, use_regid: bool, act_time: int,
                    expires: int = 0) -> ContactInfo:
        msg = ctx.msg
        ci = ContactInfo()
        callid = (msg.header("call-id") or "").rstrip(" \t\r\n")
        if len(callid) > CALLID_MAX_SIZE:
            self.log(ctx, "ERR", "callid too long")
            raise RegError("ci", R_CALLID_LEN)
        ci.callid = callid
        v = _str2int(msg.cseq.number if msg.cseq else "")
        if v is None:
            self.log(ctx, "ERR", "failed to convert cseq number")
            raise RegError("ci", R_INV_CSEQ)
        ci.cseq = v
        ci.sock = str(ctx.rcv)
        if ctx.rcv.proto in ("tcp", "tls", "ws", "wss"):
            ci.tcpconn_id = int(ctx.data.get("tcp_conn_id", 0))
        else:
            ci.tcpconn_id = -1
        ua = msg.header("user-agent")
        ci.user_agent = ua if ua and 0 < len(ua) < MAX_UA_SIZE else "n/a"
        path_received = ""
        if self.param("use_path"):
            path, path_received = self._path_vector(ctx)
            if path:
                ci.path = path
                if self.param("path_mode") != 0:
                    ctx.data["path_vec"] = path
        ci.last_modified = act_time
        ci.flags = flags
        ci.cflags = ctx.bflags
        if path_received:
            ci.cflags |= self.ul.nat_bflag
            ci.received = path_received
        ci.server_id = int(self.script.core_params.get("server_id", 0) or 0)
        contacts = st["contacts"]
        if contacts:
            c0 = contacts[0]
            inst = c0.param("+sip.instance")
            if inst:
                ci.instance = inst
            rid = c0.param("reg-id")
            if use_regid and inst and rid:
                r = _str2int(rid)
                if r is None or r == 0:
                    self.log(ctx, "ERR", "invalid reg-id value")
                    raise RegError("ci", R_INV_REGID)
                ci.reg_id = r
        st["allow"] = None
        st["received_found"] = False
        st["received_avp"] = ""
        if contacts:
            # Kamailio's pack_ci() re-points its contact argument at the message's first
            # contact here, so the common call also runs the per-contact part for that
            # contact (q, methods, received, instance, a new ruid) -- even in
            # update_contacts(), where it is called without a contact
            self.pack_contact(ctx, ci, contacts[0], expires, st, use_regid)
        return ci

    def pack_contact(self, ctx, ci: ContactInfo, c, expires: int, st: dict, use_regid: bool) -> ContactInfo:
        ci.instance = ""
        ci.c = c.uri if c.uri and len(c.uri) > 4 else None
        if self._q_override is not None and self._q_override[0] is ctx:
            ci.q = self._q_override[1]
        else:
            try:
                ci.q = self.calc_q(ctx, c.param("q"))
            except RegError:
                self.log(ctx, "ERR", "failed to calculate q")
                raise
        ci.expires = expires
        m = c.param("methods")
        if m is not None:
            try:
                ci.methods = parse_methods(m)
            except RegError:
                self.log(ctx, "ERR", "failed to parse contact methods")
                raise RegError("m", R_PARSE) from None
        else:
            if st.get("allow") is None:
                st["allow"] = self._allow_methods(ctx)
            ci.methods = st["allow"]
        if not ci.received:
            rcv = c.param("received")
            if rcv is not None:
                ci.received = rcv
            else:
                if not st.get("received_found"):
                    val = self._rcv_avp_value(ctx)
                    if len(val) > RECEIVED_MAX_SIZE:
                        self.log(ctx, "ERR", "received too long")
                        raise RegError("r", R_CONTACT_LEN)
                    st["received_avp"] = val
                    st["received_found"] = True
                ci.received = st["received_avp"]
        inst = c.param("+sip.instance")
        if inst:
            ci.instance = inst
        rid = c.param("reg-id")
        if use_regid and inst and rid:
            r = _str2int(rid)
            if r is None or r == 0:
                self.log(ctx, "ERR", "invalid reg-id value")
                raise RegError("r", R_INV_REGID)
            ci.reg_id = r
        ci.ruid = self.next_ruid()
        return ci

    # ------------------------------------------------------------ reply
    def build_contact(self, ctx, contacts, host: str, act_time: int) -> None:
        """``build_contact``: the Contact header of the reply (valid bindings only)."""
        msg = ctx.msg
        gruu = bool(self.param("gruu_enabled")) and self._supported(ctx, "gruu")
        items = []
        rcv_param = self.param("received_param") or ""
        for c in contacts or ():
            if not c.valid(act_time):
                continue
            s = f"<{c.c}>"
            if c.q != Q_UNSPECIFIED:
                s += ";q=" + output.q2str(c.q)
            s += ";expires=%d" % _i32(c.expires - act_time)
            if rcv_param and c.received:
                s += f';{rcv_param}="{c.received}"'
            if gruu and c.instance:
                aor = c.aor
                if "@" in aor:
                    pub = f"sip:{aor}"
                else:
                    pub = f"sip:{aor}@{host}"
                inst = c.instance
                if inst.startswith("<") and inst.endswith(">"):
                    inst = inst[1:-1]
                s += f';pub-gruu="{pub};gr={inst}"'
                s += f';temp-gruu="sip:{c.ruid}-{output.reverse_hex(core_hash(c.aor)) if core_hash(c.aor) else ""}@{host};gr"'
            if c.instance:
                s += f';+sip.instance="{c.instance}"'
            if c.reg_id > 0:
                s += f";reg-id={c.reg_id}"
            if self._xavp_rcd:
                self.xavp_rcd(ctx, c)
            items.append(s)
        ctx.data["reg_contact"] = ("Contact: " + ", ".join(items) + "\r\n") if items else ""
        _ = msg

    def _supported(self, ctx, tag: str) -> bool:
        for b in ctx.msg.headers_named("supported"):
            for part in b.split(","):
                if part.strip().lower() == tag:
                    return True
        return False

    def _required(self, ctx, tag: str) -> bool:
        for b in ctx.msg.headers_named("require"):
            for part in b.split(","):
                if part.strip().lower() == tag:
                    return True
        return False

    def reply_helper(self, ctx, rerrno: int, send: bool) -> int:
        """``reg_reply_helper``: add the reply lumps, send if ``send``."""
        contact = ctx.data.pop("reg_contact", "")
        if contact:
            add_reply_lump(ctx, contact)
        p = self.param
        if rerrno == R_FINE:
            path_vec = ctx.data.get("path_vec")
            if p("use_path") and path_vec and p("path_mode") != 0:
                if self._supported(ctx, "path"):
                    add_reply_lump(ctx, f"Path: {path_vec}\r\n")
                elif p("path_mode") == 2:
                    rerrno = R_PATH_UNSUP
                    add_reply_lump(ctx, "Unsupported: path\r\n")
                    add_reply_lump(ctx, f"Path: {path_vec}\r\n")
            om = p("outbound_mode")
            if om == 2:
                add_reply_lump(ctx, "Require: outbound\r\n")
                add_reply_lump(ctx, "Supported: outbound\r\n")
                if p("flow_timer") > 0:
                    add_reply_lump(ctx, f"Flow-Timer: {p('flow_timer')}\r\n")
            elif om == 1:
                add_reply_lump(ctx, "Supported: outbound\r\n")
                if self._required(ctx, "outbound") or self._supported(ctx, "outbound"):
                    add_reply_lump(ctx, "Require: outbound\r\n")
                    if p("flow_timer") > 0:
                        add_reply_lump(ctx, f"Flow-Timer: {p('flow_timer')}\r\n")
        elif rerrno == R_OB_UNSUP:
            add_reply_lump(ctx, "Require: outbound\r\n")
            add_reply_lump(ctx, "Supported: outbound\r\n")
        elif rerrno == R_OB_REQD:
            add_reply_lump(ctx, "Unsupported: outbound\r\n")
        elif rerrno == R_LOW_EXP:
            add_reply_lump(ctx, f"Min-Expires: {p('min_expires')}\r\n")
        code = CODES[rerrno]
        reason = REASONS.get(code, "OK")
        if code != 200:
            add_reply_lump(ctx, f"P-Registrar-Error: {ERROR_INFO[rerrno]}\r\n")
            if 500 <= code < 600 and p("retry_after"):
                add_reply_lump(ctx, f"Retry-After: {p('retry_after')}\r\n")
        if send:
            sl = self.script.modules.get("sl")
            if sl is None:
                self.log(ctx, "ERR", "Cannot bind to SL API")
                return -1
            if sl.send_reply_impl(ctx, code, reason) < 0:
                self.log(ctx, "ERR", f"failed to send {code} {reason}")
                return -1
        return 0

    # ------------------------------------------------------------ save
    @function("save", "str")
    def save1(self, ctx, table):
        return self.save(ctx, table, 0, None)

    @function("save", "str", "str")
    def save2(self, ctx, table, flags):
        return self.save(ctx, table, self._save_flags(flags), None)

    @function("save", "str", "str", "fmt")
    def save3(self, ctx, table, flags, uri):
        if not uri:
            self.log(ctx, "ERR", "invalid uri parameter")
            return -1
        return self.save(ctx, table, self._save_flags(flags), uri)

    def _save_flags(self, text) -> int:
        t = str(text).strip()
        try:
            v = int(t, 16) if t.lower().startswith("0x") else int(t)
        except ValueError:
            raise ConfigError(f"registrar: bad flags <{text}>") from None
        if v < 0 or v > REG_SAVE_ALL_FL:
            raise ConfigError(f"registrar: bad flags <{text}>")
        if self.ul.db_mode == 3 and v & REG_SAVE_MEM_FL:
            raise ConfigError("registrar: MEM flag set while using the DB_ONLY mode in USRLOC")
        return v

    def save(self, ctx, table: str, cflags: int, uri: str | None) -> int:
        d = self._domain(table)
        msg = ctx.msg
        st = {"rerrno": R_FINE, "contacts": []}
        try:
            try:
                to_uri = msg.to.parsed_uri
            except Exception:
                raise RegError("to", R_PARSE) from None
            self._parse_message(ctx, st)
            star = self._check_contacts(ctx, st)
            if self._required(ctx, "outbound") and self.param("outbound_mode") == 0:
                self.log(ctx, "WARN", "Outbound required by UAC and not supported by server")
                raise RegError("ob", R_OB_REQD)
            if self.param("outbound_mode") == 2 and not self._supported(ctx, "outbound"):
                self.log(ctx, "WARN", "Outbound required by server and not supported by UAC")
                raise RegError("ob", R_OB_UNSUP)
            use_regid = bool(self.param("regid_mode")) or bool(self.param("outbound_mode"))
            act_time = int(self.script.clock())
            aor = self.extract_aor(ctx, uri if uri is not None else msg.to.uri)
            mem_only = FL_MEM if cflags & REG_SAVE_MEM_FL else FL_NONE
            novariation = bool(cflags & REG_SAVE_NOVARIATION_FL)
            contacts = st["contacts"]
            if not contacts:
                if star:
                    if self._star(ctx, d, aor, to_uri.host, mem_only, act_time) < 0:
                        raise RegError("star", st["rerrno"] if st["rerrno"] else R_UL_DEL_R)
                    ret = 3
                else:
                    if self._no_contacts(ctx, d, aor, to_uri.host, act_time) < 0:
                        raise RegError("nc", R_UL_GET_R)
                    ret = 4
            else:
                mode = bool(cflags & REG_SAVE_REPL_FL)
                ret = self._add_contacts(ctx, d, aor, to_uri.host, mode, use_regid, novariation, mem_only, st,
                                         act_time)
                ret = 1 if ret == 0 else ret
        except RegError as e:
            rerrno = e.args[1] if len(e.args) > 1 else R_PARSE
            st["rerrno"] = rerrno
            ctx.data["reg_rerrno"] = rerrno
            if ctx.route_type == "request" and not cflags & REG_SAVE_NORPL_FL:
                self.reply_helper(ctx, rerrno, True)
            return -2 if rerrno == R_TOO_MANY else -1
        ctx.data["reg_rerrno"] = R_FINE
        if not cflags & REG_SAVE_NORPL_FL:
            if ctx.route_type in ("request", "failure"):
                if self.reply_helper(ctx, R_FINE, True) < 0:
                    return -1
        elif cflags & REG_SAVE_PREPRPL_FL:
            if self.reply_helper(ctx, R_FINE, False) < 0:
                return -1
        return ret

    def _parse_message(self, ctx, st: dict) -> None:
        msg = ctx.msg
        eb = msg.header("expires")
        try:
            r = _parse_expires_hf(eb)
        except RegError:
            self.log(ctx, "ERR", "failed to parse expires body")
            raise RegError("exp", R_PARSE_EXP) from None
        if r is None or not r[0]:
            ctx.data["reg_expires_hf"] = -1
        else:
            ctx.data["reg_expires_hf"] = r[1]
        try:
            st["bodies"] = []
            for body in msg.headers_named("contact"):
                st["bodies"].append(parse_contact_body(body))
        except Exception:
            self.log(ctx, "ERR", "failed to parse Contact body")
            raise RegError("c", R_PARSE_CONT) from None
        contacts = []
        for cb in st["bodies"]:
            contacts.extend(reversed(cb.contacts))
        st["contacts"] = contacts

    def _check_contacts(self, ctx, st: dict) -> bool:
        bodies = st["bodies"]
        if not bodies:
            return False
        if bodies[0].star:
            if ctx.data.get("reg_expires_hf", -1) != 0:
                self.log(ctx, "WARN", "expires must be 0 for star contact")
                raise RegError("star", R_STAR_EXP)
            if bodies[0].contacts or len(bodies) > 1:
                self.log(ctx, "WARN", "star contact cannot be mixed with other contacts")
                raise RegError("star", R_STAR_CONT)
            return True
        maxsize = self.param("contact_max_size")
        for cb in bodies:
            if cb.star:
                self.log(ctx, "WARN", "star contact cannot be mixed with other contacts")
                raise RegError("star", R_STAR_CONT)
            for c in cb.contacts:
                if len(c.uri) > maxsize:
                    self.log(ctx, "WARN", f"contact uri is too long: [{c.uri}]")
                    raise RegError("len", R_CONTACT_LEN)
                rcv = c.param("received")
                if rcv is not None and len(rcv) > RECEIVED_MAX_SIZE:
                    self.log(ctx, "WARN", "received attribute of contact is too long")
                    raise RegError("len", R_CONTACT_LEN)
        return False

    def _star(self, ctx, d, aor: str, host: str, mem_only: int, act_time: int) -> int:
        ul = self.ul
        r = ul.get_urecord(d, aor, ctx)
        if r is not None:
            for c in r.contacts:
                if mem_only:
                    c.flags |= FL_MEM
                else:
                    c.flags &= ~FL_MEM
        if ul.delete_urecord(d, aor, r, ctx) < 0:
            self.log(ctx, "ERR", "failed to remove record from usrloc")
            r = ul.get_urecord(d, aor, ctx)
            if r is not None:
                self.build_contact(ctx, r.contacts, host, act_time)
                ul.release_urecord(r)
            return -1
        return 0

    def _no_contacts(self, ctx, d, aor: str, host: str, act_time: int) -> int:
        ul = self.ul
        r = ul.get_urecord(d, aor, ctx)
        if r is not None:
            self.build_contact(ctx, r.contacts, host, act_time)
            ul.release_urecord(r)
        else:
            self.build_contact(ctx, None, host, act_time)
        return 0

    def max_contacts(self, ctx) -> int:
        v = self._xavp_child(ctx, "max_contacts", True)
        if v is not None:
            return v
        return self.param("max_contacts")

    def _add_contacts(self, ctx, d, aor, host, mode, use_regid, novariation, mem_only, st, act_time) -> int:
        ul = self.ul
        r = ul.get_urecord(d, aor, ctx)
        if r is not None:
            try:
                ret = self._update_contacts(ctx, r, mode, use_regid, novariation, mem_only, st, act_time)
            except RegError:
                self.build_contact(ctx, r.contacts, host, act_time)
                ul.release_urecord(r)
                raise
            self.build_contact(ctx, r.contacts, host, act_time)
            ul.release_urecord(r)
            return ret
        self._insert_contacts(ctx, d, aor, host, use_regid, novariation, mem_only, st, act_time)
        return 1

    def _insert_contacts(self, ctx, d, aor, host, use_regid, novariation, mem_only, st, act_time) -> None:
        ul = self.ul
        maxc = self.max_contacts(ctx)
        num = 0
        r = None
        ci = None
        try:
            for c in st["contacts"]:
                e = self.calc_expires(ctx, c.expires, novariation, st, act_time)
                if st["rerrno"] == R_LOW_EXP:
                    raise RegError("exp", R_LOW_EXP)
                if e == 0:
                    continue
                if maxc > 0 and num >= maxc:
                    self.log(ctx, "INFO", f"too many contacts (n:{num} max:{maxc}) for AOR <{aor}>")
                    raise RegError("max", R_TOO_MANY)
                num += 1
                if r is None:
                    r = ul.insert_urecord(d, aor)
                if ci is None:
                    # first stored contact: common part + per-contact part of the
                    # *message's first contact* (Kamailio quirk, see pack_common)
                    ci = self.pack_common(ctx, st, mem_only, use_regid, act_time, e)
                else:
                    self.pack_contact(ctx, ci, c, e, st, use_regid)
                ci.cseq += 1
                found = None
                if r.contacts:
                    ret, cc = ul.get_ucontact_by_instance(r, c.uri, ci)
                    if ret == 0:
                        found = cc
                ci.cseq -= 1
                if found is None:
                    if ul.insert_ucontact(r, c.uri, ci, ctx) is None:
                        self.log(ctx, "ERR", "failed to insert contact")
                        raise RegError("ins", R_UL_INS_C)
                else:
                    if ul.update_ucontact(r, found, ci, ctx) < 0:
                        self.log(ctx, "ERR", "failed to update contact")
                        raise RegError("upd", R_UL_UPD_C)
        except RegError:
            if r is not None:
                ul.delete_urecord(d, aor, r, ctx)
            raise
        if r is not None:
            if r.contacts:
                self.build_contact(ctx, r.contacts, host, act_time)
            ul.release_urecord(r)
        else:
            self.build_contact(ctx, None, host, act_time)

    def _test_max_contacts(self, ctx, r, ci, mc, st, act_time) -> None:
        ul = self.ul
        num = sum(1 for p in r.contacts if p.valid(act_time))
        for c in st["contacts"]:
            e = self.calc_expires(ctx, c.expires, False, st, act_time)
            ret, _cc = ul.get_ucontact_by_instance(r, c.uri, ci)
            if ret == -1:
                self.log(ctx, "ERR", f"invalid cseq for aor <{r.aor}>")
                raise RegError("cseq", R_INV_CSEQ)
            if ret == -2:
                continue
            if ret > 0:
                if e != 0:
                    num += 1
            else:
                if e == 0:
                    num -= 1
        if num > mc:
            self.log(ctx, "INFO", f"too many contacts for AOR <{r.aor}> (n:{num} max:{mc})")
            raise RegError("max", R_TOO_MANY)

    def _update_contacts(self, ctx, r, mode, use_regid, novariation, mem_only, st, act_time) -> int:
        ul = self.ul
        rc = 0
        ci = self.pack_common(ctx, st, mem_only, use_regid, act_time)
        if not mode:
            maxc = self.max_contacts(ctx)
            if maxc > 0:
                self._test_max_contacts(ctx, r, ci, maxc, st, act_time)
        updated = False
        for c in st["contacts"]:
            e = self.calc_expires(ctx, c.expires, novariation, st, act_time)
            if st["rerrno"] == R_LOW_EXP:
                raise RegError("exp", R_LOW_EXP)
            self.pack_contact(ctx, ci, c, e, st, use_regid)
            ret, cc = ul.get_ucontact_by_instance(r, c.uri, ci)
            if ret == -1:
                self.log(ctx, "ERR", f"invalid cseq for aor <{r.aor}>")
                raise RegError("cseq", R_INV_CSEQ)
            if ret == -2:
                if e != 0 and mode:
                    break
                continue
            if ret > 0:
                if e == 0:
                    continue
                nc = ul.insert_ucontact(r, c.uri, ci, ctx)
                if nc is None:
                    self.log(ctx, "ERR", "failed to insert contact")
                    raise RegError("ins", R_UL_INS_C)
                rc = 1
                if mode:
                    for p in list(r.contacts):
                        if p is not nc:
                            ul.delete_ucontact(r, p, ctx)
                    updated = True
            else:
                if e == 0:
                    if mem_only:
                        cc.flags |= FL_MEM
                    else:
                        cc.flags &= ~FL_MEM
                    if ul.delete_ucontact(r, cc, ctx) < 0:
                        self.log(ctx, "ERR", "failed to delete contact")
                        raise RegError("del", R_UL_DEL_C)
                    rc = 3
                else:
                    if mode:
                        for p in list(r.contacts):
                            if p is not cc:
                                ul.delete_ucontact(r, p, ctx)
                        updated = True
                    if ci.instance and ci.callid != cc.callid:
                        for p in list(r.contacts):
                            if p is not cc and p.instance == cc.instance:
                                ul.delete_ucontact(r, p, ctx)
                        updated = True
                    if ul.update_ucontact(r, cc, ci, ctx) < 0:
                        self.log(ctx, "ERR", "failed to update contact")
                        raise RegError("upd", R_UL_UPD_C)
                    rc = 2
            if updated:
                break
        return rc

    @function("reg_send_reply")
    def reg_send_reply(self, ctx):
        ret = self.reply_helper(ctx, ctx.data.get("reg_rerrno", R_FINE), True)
        return 1 if ret == 0 else ret

    # ------------------------------------------------------------ lookup
    @function("lookup", "str")
    def lookup1(self, ctx, table):
        return self.lookup(ctx, table, None, False)

    @function("lookup", "str", "fmt")
    def lookup2(self, ctx, table, uri):
        if not uri:
            self.log(ctx, "ERR", "invalid uri parameter")
            return -1
        return self.lookup(ctx, table, uri, False)

    @function("lookup_to_dset", "str")
    def lookup_to_dset1(self, ctx, table):
        return self.lookup(ctx, table, None, True)

    @function("lookup_to_dset", "str", "fmt")
    def lookup_to_dset2(self, ctx, table, uri):
        if not uri:
            self.log(ctx, "ERR", "invalid uri parameter")
            return -1
        return self.lookup(ctx, table, uri, True)

    def _allowed_method(self, ctx, c) -> bool:
        if not self._method_filtering:
            return True
        mb = METHOD_BITS.get((ctx.msg.method or "").upper(), METHOD_OTHER)
        if mb & c.methods:
            return True
        try:
            return bool(ctx.msg.to and ctx.msg.to.tag)
        except Exception:
            return False

    def _usable(self, c, act_time) -> bool:
        return c.expires > act_time or c.expires == 0 or self._use_expired

    def _socket(self, text: str):
        try:
            return self._sock_cache[text]
        except KeyError:
            try:
                sock = Socket.parse(text)
            except ValueError:
                sock = None
            self._sock_cache[text] = sock
            return sock

    def xavp_rcd(self, ctx, c) -> None:
        """``xavp_rcd_helper``: details of the contact in ``$xavp(<xavp_rcd>=>...)``."""
        root = self._xavp_rcd
        if not root:
            return
        mask = self.param("xavp_rcd_mask")
        items = ctx.xavps.get(root)
        if items and isinstance(items[0], dict):
            item = items[0]
        else:
            item = {}
            ctx.xavps.setdefault(root, []).insert(0, item)

        def add(k, v):
            item.setdefault(k, []).insert(0, v)
        if not mask & AVP_RCD_RUID:
            add("ruid", c.ruid)
        if not mask & AVP_RCD_RCV and c.received:
            add("received", c.received)
        if not mask & AVP_RCD_CNT:
            add("contact", c.c)
        if not mask & AVP_RCD_EXP:
            add("expires", _i32(int(c.expires) - int(self.script.clock())))
        if not mask & AVP_RCD_PATH and c.path:
            add("path", c.path)

    def _path_dst(self, path: str) -> str | None:
        try:
            return parse_rr_body(path)[0].uri
        except Exception:
            return None

    def lookup(self, ctx, table: str, uri: str | None, to_dset: bool) -> int:
        d = self._domain(table)
        ul = self.ul
        target = uri if uri is not None else ctx.ruri
        try:
            pu = parse_uri(target)
        except Exception:
            self.log(ctx, "ERR", f"failed to parse AoR [{target}]")
            self.log(ctx, "ERR", "failed to extract address of record")
            return -3
        try:
            aor = self.extract_aor(ctx, target, pu)
        except RegError:
            self.log(ctx, "ERR", "failed to extract address of record")
            return -3
        inst = ""
        ahash = 0
        gr = pu.param("gr")
        temp_gruu = False
        if gr is not None:
            if gr:
                inst = gr
            else:
                temp_gruu = True
                user = pu.user or ""
                i = len(user) - 1
                while i >= 0 and user[i] != "-":
                    i -= 1
                if i < 0:
                    self.log(ctx, "ERR", "failed to extract temp gruu - invalid format")
                    return -3
                hx = user[i + 1:]
                try:
                    ahash = int(hx[::-1], 16) if hx else 0
                except ValueError:
                    self.log(ctx, "ERR", "failed to extract temp gruu - invalid hash")
                    return -3
                inst = user[:i]
        act_time = int(self.script.clock())
        ret = -1
        r = None
        ptr = None
        contacts: list = []
        start = 0
        if not temp_gruu:
            r = ul.get_urecord(d, aor, ctx)
            if r is None:
                return -1
            contacts = r.contacts
            for i, c in enumerate(contacts):
                if self._usable(c, act_time):
                    if self._allowed_method(ctx, c):
                        if inst:
                            if _cmp_instances(inst, c.instance):
                                ptr, start = c, i
                                break
                        else:
                            ptr, start = c, i
                            break
                    else:
                        ret = -2
            if ptr is None:
                ul.release_urecord(r)
                return ret
        else:
            got = ul.get_urecord_by_ruid(d, ahash, inst, ctx)
            if got is None:
                return -1
            r, ptr = got
            contacts = [ptr]
            start = 0
            if not self._usable(ptr, act_time):
                return -1
            if not self._allowed_method(ctx, ptr):
                return -2
        ret = 1
        if not to_dset and ptr is not None:
            try:
                parse_uri(ptr.c)
            except Exception:
                self.log(ctx, "ERR", "unable to rewrite Request-URI")
                return -3
            ctx.new_uri = ptr.c
            ctx.dst_uri = None
            ctx.data.pop("path_vec", None)
            if self._xavp_rcd:
                self.xavp_rcd(ctx, ptr)
            path_dst = None
            path_str = ptr.path or ""
            if path_str:
                path_dst = self._path_dst(path_str)
                if path_dst is None:
                    self.log(ctx, "ERR", "failed to get dst_uri for Path")
                    return -3
                if self._path_check_local > 0:
                    try:
                        pp = parse_uri(path_dst)
                        local = self.script.host_is_myself(pp.host, int(pp.port) if pp.port else None)
                    except Exception:
                        return -3
                    if local:
                        rest = path_str[len(path_dst) + 3:] if len(path_str) > len(path_dst) + 3 else ""
                        path_str = rest
                        path_dst = self._path_dst(rest) if rest else None
            if path_dst:
                ctx.data["path_vec"] = path_str
                ctx.dst_uri = path_dst
            elif ptr.received:
                ctx.dst_uri = ptr.received
            if ptr.instance:
                ctx.data["instance"] = ptr.instance
            ctx.data["reg_id"] = ptr.reg_id
            if ptr.ruid:
                ctx.data["ruid"] = ptr.ruid
            if ptr.user_agent:
                ctx.data["location_ua"] = ptr.user_agent
            ctx.data["ruri_q"] = ptr.q
            ctx.bflags |= ptr.cflags
            if ptr.sock:
                sock = self._socket(ptr.sock)
                if sock is not None:
                    ctx.force_socket = sock
            start += 1
        if inst:
            ul.release_urecord(r)
            return ret
        if self._append_branches:
            for c in contacts[start:]:
                if not (self._usable(c, act_time) and self._allowed_method(ctx, c)):
                    continue
                path_dst = None
                path_str = c.path or ""
                if path_str:
                    path_dst = self._path_dst(path_str)
                    if path_dst is None:
                        self.log(ctx, "ERR", "failed to get dst_uri for Path")
                        continue
                    if self._path_check_local > 0:
                        try:
                            pp = parse_uri(path_dst)
                            local = self.script.host_is_myself(pp.host, int(pp.port) if pp.port else None)
                        except Exception:
                            continue
                        if local:
                            rest = path_str[len(path_dst) + 3:] if len(path_str) > len(path_dst) + 3 else ""
                            path_str = rest
                            path_dst = self._path_dst(rest) if rest else None
                if len(ctx.branches) >= MAX_BRANCHES - 1:
                    self.log(ctx, "ERR", "max nr of branches exceeded")
                    self.log(ctx, "ERR", "failed to append a branch")
                    continue
                sock = self._socket(c.sock) if c.sock else None
                ctx.branches.append(output.Branch(
                    uri=c.c, dst_uri=(path_dst if path_dst else (c.received or None)),
                    path=(path_str if path_dst else None), q=c.q, flags=c.cflags, socket=sock,
                    instance=c.instance or None, ruid=c.ruid or None, location_ua=c.user_agent or None))
        ul.release_urecord(r)
        return ret

    @function("lookup_branches", "str")
    def lookup_branches(self, ctx, table):
        start_n = len(ctx.branches)
        ret = self.lookup(ctx, table, None, False)
        if start_n == 0:
            return ret
        found = ret > 0
        saved = (ctx.new_uri, ctx.dst_uri, ctx.data.get("path_vec"), ctx.data.get("ruri_q", -1),
                 ctx.force_socket, ctx.bflags, ctx.data.get("instance"), ctx.data.get("reg_id"),
                 ctx.data.get("ruid"), ctx.data.get("location_ua"))
        branches = ctx.branches
        for i in range(start_n):
            b = branches[i]
            if not b.uri or b.dst_uri or b.path or b.socket is not None or b.flags:
                continue
            ctx.new_uri = b.uri
            ctx.dst_uri = None
            ctx.data.pop("path_vec", None)
            ctx.data["ruri_q"] = -1
            ctx.force_socket = None
            ctx.bflags = 0
            r = self.lookup(ctx, table, None, False)
            if r > 0:
                found = True
                b.uri = ctx.new_uri
                b.dst_uri = ctx.dst_uri
                b.path = ctx.data.get("path_vec")
                b.q = ctx.data.get("ruri_q", -1)
                b.socket = ctx.force_socket
                b.flags = ctx.bflags
            ret = r
        (ctx.new_uri, ctx.dst_uri, pv, q, ctx.force_socket, ctx.bflags, inst, rid, ruid, ua) = saved
        for k, v in (("path_vec", pv), ("instance", inst), ("reg_id", rid), ("ruid", ruid), ("location_ua", ua)):
            if v is None:
                ctx.data.pop(k, None)
            else:
                ctx.data[k] = v
        ctx.data["ruri_q"] = q
        return 1 if found else ret

    # ------------------------------------------------------------ registered
    @function("registered", "str")
    def registered1(self, ctx, table):
        return self.registered(ctx, table, None, 0, 0)

    @function("registered", "str", "fmt")
    def registered2(self, ctx, table, uri):
        if not uri:
            self.log(ctx, "ERR", "invalid uri parameter")
            return -1
        return self.registered(ctx, table, uri, 0, 0)

    @function("registered", "str", "fmt", "igp")
    def registered3(self, ctx, table, uri, flags):
        if not uri or not isinstance(flags, int):
            self.log(ctx, "ERR", "invalid uri parameter" if not uri else "invalid flags parameter")
            return -1
        return self.registered(ctx, table, uri, flags, 0)

    @function("registered", "str", "fmt", "igp", "igp")
    def registered4(self, ctx, table, uri, flags, aflags):
        if not uri or not isinstance(flags, int) or not isinstance(aflags, int):
            self.log(ctx, "ERR", "invalid parameter")
            return -1
        return self.registered(ctx, table, uri, flags, aflags)

    def registered(self, ctx, table, uri, match_flag: int, action_flag: int) -> int:
        d = self._domain(table)
        if uri is None:
            if not ctx.msg.is_request:
                try:
                    uri = ctx.msg.to.uri
                except Exception:
                    self.log(ctx, "ERR", "failed to prepare the message")
                    return -1
            else:
                uri = ctx.ruri
        try:
            aor = self.extract_aor(ctx, uri)
        except RegError:
            self.log(ctx, "ERR", "failed to extract address of record")
            return -1
        r = self.ul.get_urecord(d, aor, ctx)
        if r is not None:
            m_callid = self._xavp_child(ctx, "match_callid", False) if match_flag & 1 else None
            m_rcv = self._xavp_child(ctx, "match_received", False) if match_flag & 2 else None
            m_cnt = self._xavp_child(ctx, "match_contact", False) if match_flag & 4 else None
            act_time = int(self.script.clock())
            for c in r.contacts:
                if not self._usable(c, act_time):
                    continue
                if m_callid and m_callid != c.callid:
                    continue
                if m_rcv and m_rcv != c.received:
                    continue
                if m_cnt and m_cnt != c.c:
                    continue
                if not action_flag & 2:
                    self.xavp_rcd(ctx, c)
                self.ul.release_urecord(r)
                return 1
        return -1

    # ------------------------------------------------------------ unregister
    @function("unregister", "str", "fmt")
    def unregister2(self, ctx, table, uri):
        if not uri:
            self.log(ctx, "ERR", "invalid uri parameter")
            return -1
        return self.unregister(ctx, table, uri, None)

    @function("unregister", "str", "fmt", "fmt")
    def unregister3(self, ctx, table, uri, ruid):
        if not ruid:
            self.log(ctx, "ERR", "invalid ruid parameter")
            return -1
        return self.unregister(ctx, table, uri or "", ruid)

    def unregister(self, ctx, table, uri: str, ruid: str | None) -> int:
        d = self._domain(table)
        ul = self.ul
        act_time = int(self.script.clock())
        if ruid is None:
            try:
                aor = self.extract_aor(ctx, uri)
                host = ctx.msg.to.parsed_uri.host
            except Exception:
                self.log(ctx, "ERR", "failed to extract Address Of Record")
                return -1
            if self._star(ctx, d, aor, host, 0, act_time) < 0:
                self.log(ctx, "ERR", f"error unregistering user [{aor}]")
                return -2
            return 1
        if uri:
            try:
                aor = self.extract_aor(ctx, uri)
            except RegError:
                self.log(ctx, "ERR", "failed to extract Address Of Record")
                return -1
            got = ul.get_urecord_by_ruid(d, core_hash(aor), ruid, ctx)
            if got is None:
                self.log(ctx, "WARN", "AOR/Contact not found")
                return -3
            r, c = got
            if ul.delete_ucontact(r, c, ctx) != 0:
                self.log(ctx, "WARN", "could not delete contact")
                return -2
            ul.release_urecord(r)
            return 1
        res = ul.delete_urecord_by_ruid(d, ruid, ctx)
        if res == -1:
            self.log(ctx, "ERR", "could not delete contact")
            return -2
        if res == -2:
            self.log(ctx, "WARN", "contact not found")
            return -3
        return 1

    # ------------------------------------------------------------ reg_fetch_contacts
    @function("reg_fetch_contacts", "str", "fmt", "str")
    def reg_fetch_contacts(self, ctx, table, uri, profile):
        d = self._domain(table)
        try:
            aor = self.extract_aor(ctx, uri)
        except RegError:
            self.log(ctx, "ERR", "failed to extract Address Of Record")
            return -1
        self.profiles.pop(profile, None)
        r = self.ul.get_urecord(d, aor, ctx)
        if r is None:
            return -1
        act_time = int(self.script.clock())
        contacts = [c for c in r.contacts if c.valid(act_time)]
        self.ul.release_urecord(r)
        if not contacts:
            return -1
        self.profiles[profile] = (aor, contacts, act_time)
        self.profile_tables[profile] = table
        return 1

    @function("reg_free_contacts", "str")
    def reg_free_contacts(self, ctx, profile):
        self.profiles.pop(profile, None)
        return 1

    @function("add_sock_hdr", "fmt")
    def add_sock_hdr(self, ctx, name):
        if not name:
            self.log(ctx, "ERR", "invalid header name parameter")
            return -1
        lumps = lumps_of(ctx)
        anchor = lumps.anchor(ctx.msg.eoh)
        lumps.insert_before(anchor, f"{name}: {ctx.rcv}\r\n")
        return 1

    # ------------------------------------------------------------ misc API
    def set_q_override(self, ctx, q: int) -> int:
        if q < 0 or q > 1000:
            self.log(ctx, "ERR", "Invalid q value")
            return -1
        self._q_override = (ctx, q)
        return 1


def _cmp_instances(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if len(a) > 2 and a[0] == "<" and a[-1] == ">":
        a = a[1:-1]
    if len(b) > 2 and b[0] == "<" and b[-1] == ">":
        b = b[1:-1]
    return len(a) > 0 and a == b


def _i32(v: int) -> int:
    return ((int(v) + 0x80000000) & 0xFFFFFFFF) - 0x80000000
