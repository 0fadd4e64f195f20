"""usrloc: the user location table (modules/usrloc @5.6.3), in memory and/or in a DB.

The module has no cfg functions; registrar uses its API (the ``usrloc_api_t`` of
Kamailio), reproduced here method by method: :meth:`UsrlocModule.get_urecord`,
:meth:`~UsrlocModule.insert_urecord`, :meth:`~UsrlocModule.delete_urecord`,
:meth:`~UsrlocModule.insert_ucontact`, :meth:`~UsrlocModule.update_ucontact`,
:meth:`~UsrlocModule.delete_ucontact`, :meth:`~UsrlocModule.get_ucontact_by_instance`,
:meth:`~UsrlocModule.get_urecord_by_ruid`, :meth:`~UsrlocModule.release_urecord`.

``db_mode``:

* 0 -- memory only;
* 1 -- write-through: memory is the truth, every change is written to the DB at
  once (insert; update and delete by ``ruid`` with the default ``db_ops_ruid=1``);
  the table is loaded at start-up (``db_load``), and the timer deletes expired
  contacts from both;
* 2 -- write-back: changes are flushed to the DB by the timer;
* 3 -- DB only: every lookup reads the DB (``username[, domain]``), nothing is
  kept in memory; the timer deletes ``expires < now+1 AND expires != 0`` rows.

Contacts of a record are kept ordered by q, highest first (a new contact goes
before the first one with a lower q, so equal q keeps insertion order; with
``desc_time_order`` the newest first).  An update that breaks the order moves
the contact before the first contact whose q is not lower -- Kamailio's
``update_contact_pos`` quirk, reproduced.  In DB-only mode the order is the
order of the rows returned (db_redis: the reverse of ``SMEMBERS``) sorted by q.

Times are ``script.clock()``; the expiry timer runs every ``timer_interval``
seconds of that clock: on :meth:`UsrlocModule.on_clock` (``kscript.testing``'s
clock) and, lazily, before any usrloc operation once an interval has passed.
DB statements made by the timer log outside any message (db_redis's
``log_records``).

Parameters honoured: ``db_url``, ``db_mode``, ``use_domain``, ``timer_interval``,
``db_load``, ``matching_mode`` (0 contact, 1 contact+callid, 2 contact+path,
3 callid), ``cseq_delay``, ``desc_time_order``, ``nat_bflag``, ``db_ops_ruid``,
``db_insert_null``, ``db_update_as_insert``, ``expires_type``, ``version_table``,
``preload``, ``server_id_filter`` and the ``*_column`` names.  Keepalive
(``ka_*``), ``xavp_contact`` (the ``location_attrs`` table) and TCP connection
tracking are not emulated (``xavp_contact`` is refused; the others are accepted
and have no effect offline).
"""

from __future__ import annotations

from .. import db as kdb
from ..db.api import BIGINT, BITMAP, DATETIME, DOUBLE, INT, OP_NEQ, OP_LT, STR, DbError, DbVal
from ..errors import ConfigError, NotSupportedError
from .base import Module, Param

NO_DB, WRITE_THROUGH, WRITE_BACK, DB_ONLY, DB_READONLY = 0, 1, 2, 3, 4
CS_NEW, CS_SYNC, CS_DIRTY = 0, 1, 2
FL_NONE, FL_MEM = 0, 1
Q_UNSPECIFIED = -1
ALL_METHODS = 0xFFFFFFFF
UL_EXPIRED_TIME = 10
CONTACT_ONLY, CONTACT_CALLID, CONTACT_PATH, CONTACT_CALLID_ONLY = 0, 1, 2, 3
UL_TABLE_VERSION = 9
DEFAULT_DB_URL = "mysql://kamailio:kamailiorw@localhost/kamailio"


def q2double(q: int) -> float:
    return -1.0 if q == Q_UNSPECIFIED else q / 1000.0


def double2q(d: float) -> int:
    """Kamailio's ``double2q``: ``q * 1000`` truncated toward zero, as in C."""
    if d == -1:
        return Q_UNSPECIFIED
    return int(d * 1000)


def core_hash(s: str) -> int:
    """Kamailio's ``core_hash(s, 0, 0)`` (the AOR hash)."""
    data = s.encode("utf-8", "surrogateescape")
    h = 0
    n = len(data)
    i = 0

    def sc(b):
        return b - 256 if b > 127 else b
    while i <= n - 4:
        v = ((sc(data[i]) << 24) + (sc(data[i + 1]) << 16) + (sc(data[i + 2]) << 8) + sc(data[i + 3])) & 0xFFFFFFFF
        h = (h + (v ^ (v >> 3))) & 0xFFFFFFFF
        i += 4
    v = 0
    while i < n:
        v = ((v << 8) + sc(data[i])) & 0xFFFFFFFF
        i += 1
    h = (h + (v ^ (v >> 3))) & 0xFFFFFFFF
    return (h + (h >> 11) + (h >> 13) + (h >> 23)) & 0xFFFFFFFF


class ContactInfo:
    """``ucontact_info_t``: what registrar hands to usrloc for one contact."""

    __slots__ = ("ruid", "c", "received", "path", "expires", "q", "callid", "cseq", "flags", "cflags",
                 "user_agent", "sock", "methods", "instance", "reg_id", "server_id", "tcpconn_id",
                 "last_modified", "keepalive")

    def __init__(self, **kw):
        self.ruid = ""
        self.c = None
        self.received = ""
        self.path = None
        self.expires = 0
        self.q = Q_UNSPECIFIED
        self.callid = ""
        self.cseq = 0
        self.flags = 0
        self.cflags = 0
        self.user_agent = ""
        self.sock = None  # socket string "udp:IP:PORT" or None
        self.methods = ALL_METHODS
        self.instance = ""
        self.reg_id = 0
        self.server_id = 0
        self.tcpconn_id = -1
        self.last_modified = 0
        self.keepalive = 0
        for k, v in kw.items():
            setattr(self, k, v)


class UContact:
    """``ucontact_t``: one binding."""

    __slots__ = ("domain", "aor", "c", "received", "path", "expires", "q", "callid", "cseq", "flags",
                 "cflags", "user_agent", "sock", "methods", "instance", "reg_id", "server_id", "tcpconn_id",
                 "last_modified", "last_keepalive", "keepalive", "ruid", "state")

    def __init__(self, domain: str, aor: str, uri: str, ci: ContactInfo, nat_bflag: int = 0):
        self.domain = domain
        self.aor = aor
        self.c = uri
        self.callid = ci.callid or ""
        self.user_agent = ci.user_agent or ""
        self.received = ci.received or ""
        self.path = ci.path or ""
        self.ruid = ci.ruid or ""
        self.instance = ci.instance or ""
        self.expires = ci.expires
        self.q = ci.q
        self.sock = ci.sock
        self.cseq = ci.cseq
        self.state = CS_NEW
        self.flags = ci.flags
        self.cflags = ci.cflags
        self.methods = ci.methods
        self.reg_id = ci.reg_id
        self.last_modified = ci.last_modified
        self.last_keepalive = 0
        self.tcpconn_id = ci.tcpconn_id
        self.server_id = ci.server_id
        self.keepalive = 1 if (ci.cflags & nat_bflag) else 0

    def valid(self, now: float) -> bool:
        """``VALID_CONTACT``: not expired, or permanent (expires 0)."""
        return self.expires > now or self.expires == 0

    def __repr__(self) -> str:
        return f"<UContact {self.aor} {self.c} q={self.q} expires={self.expires} ruid={self.ruid}>"


class URecord:
    """``urecord_t``: an AOR and its contacts (ordered)."""

    __slots__ = ("domain", "aor", "aorhash", "contacts", "static")

    def __init__(self, domain: str, aor: str, static: bool = False):
        self.domain = domain
        self.aor = aor
        self.aorhash = core_hash(aor)
        self.contacts: list[UContact] = []
        self.static = static  # DB-only mode: a temporary record, not in memory

    def __repr__(self) -> str:
        return f"<URecord {self.aor} {self.contacts!r}>"


class UDomain:
    """``udomain_t``: one location table."""

    def __init__(self, name: str):
        self.name = name
        self.records: dict[str, URecord] = {}


class UsrlocModule(Module):
    name = "usrloc"
    params = {
        **{f"{c}_column": Param("str", c) for c in (
            "ruid", "contact", "expires", "q", "callid", "cseq", "flags", "cflags", "received", "path",
            "socket", "methods", "instance", "keepalive", "partition")},
        "user_column": Param("str", "username"),
        "domain_column": Param("str", "domain"),
        "user_agent_column": Param("str", "user_agent"),
        "reg_id_column": Param("str", "reg_id"),
        "server_id_column": Param("str", "server_id"),
        "connection_id_column": Param("str", "connection_id"),
        "last_modified_column": Param("str", "last_modified"),
        "db_url": Param("str", DEFAULT_DB_URL),
        "timer_interval": Param("int", 60),
        "db_mode": Param("int", 0),
        "db_load": Param("int", 1),
        "db_insert_update": Param("int", 0),
        "use_domain": Param("int", 0),
        "desc_time_order": Param("int", 0),
        "matching_mode": Param("int", 0),
        "cseq_delay": Param("int", 20),
        "fetch_rows": Param("int", 2000),
        "hash_size": Param("int", 10),
        "nat_bflag": Param("int", -1),
        "handle_lost_tcp": Param("int", 0),
        "close_expired_tcp": Param("int", 0),
        "skip_remote_socket": Param("int", 0),
        "preload": Param("str", multi=True),
        "db_update_as_insert": Param("int", 0),
        "timer_procs": Param("int", 0),
        "db_check_update": Param("int", 0),
        "xavp_contact": Param("str", None),
        "db_ops_ruid": Param("int", 1),
        "expires_type": Param("int", 0),
        "db_raw_fetch_type": Param("int", 0),
        "db_insert_null": Param("int", 0),
        "server_id_filter": Param("int", 0),
        "db_timer_clean": Param("int", 0),
        "rm_expired_delay": Param("int", 0),
        "version_table": Param("int", 1),
        "ka_mode": Param("int", 0),
        "ka_from": Param("str", "sip:server@kamailio.org"),
        "ka_domain": Param("str", "kamailio.org"),
        "ka_method": Param("str", "OPTIONS"),
        "ka_filter": Param("int", 0),
        "ka_timeout": Param("int", 0),
        "ka_loglevel": Param("int", 255),
        "ka_logmsg": Param("str", " to-uri: [$tu] remote-addr: [$sas]"),
        "load_rank": Param("int", -1),
        "db_clean_tcp": Param("int", 0),
    }

    def init(self) -> None:
        p = self.param
        self.db_mode = p("db_mode")
        self.use_domain = p("use_domain")
        self.matching_mode = p("matching_mode")
        if self.matching_mode not in (0, 1, 2, 3):
            self.log_init("ERR", f"invalid matching mode {self.matching_mode}")
        if p("rm_expired_delay") != 0 and self.db_mode != DB_ONLY:
            raise ConfigError("usrloc: rm expired delay feature is available for db only mode")
        if p("xavp_contact"):
            raise NotSupportedError("usrloc: xavp_contact (the location_attrs table) is not emulated by kscript")
        nb = p("nat_bflag")
        if nb == -1:
            self.nat_bflag = 0
        elif not 0 <= nb < 32:
            raise ConfigError(f"usrloc: bflag index ({nb}) too big!")
        else:
            self.nat_bflag = 1 << nb
        self.col = {name[:-7]: p(name) for name in self.params if name.endswith("_column")}
        self.domains: dict[str, UDomain] = {}
        self.db = None
        if self.db_mode != NO_DB:
            try:
                self.db = kdb.connect(self.script, p("db_url"), lazy_missing=True, who="usrloc")
            except DbError as e:
                raise ConfigError(f"usrloc: failed to bind database module ({e})") from None
        self.next_timer = self.script.clock() + p("timer_interval")
        self._partition_counter = 0
        for name, _pos in p("preload"):
            self.register_udomain(name)

    def log_init(self, level: str, text: str) -> None:
        mod = self.script.modules.get("db_redis")
        from ..runtime.context import LogRecord
        (mod.log_records if mod is not None else []).append(LogRecord(level, text, "usrloc"))

    def close(self) -> None:
        if self.db is not None and self.db_mode in (WRITE_BACK,):
            try:
                self.timer(final=True)
            except Exception:  # pragma: no cover
                pass
        if self.db is not None:
            self.db.close()
            self.db = None

    # ------------------------------------------------------------ domains
    def register_udomain(self, name: str) -> UDomain:
        """``register_udomain``: version check, a test query and (db_mode 1/2) the preload."""
        d = self.domains.get(name)
        if d is not None:
            return d
        d = UDomain(name)
        self.domains[name] = d
        if self.db_mode != NO_DB and not isinstance(self.db, kdb.UnavailableDb):
            db = self.db
            if self.param("version_table"):
                try:
                    v = db.table_version(name)
                except DbError:
                    v = None
                if v != UL_TABLE_VERSION:
                    raise ConfigError(f"usrloc: invalid table version for table '{name}' (found {v}, "
                                      f"expected {UL_TABLE_VERSION}) - please upgrade your database schema")
            self._testdb(d)
            if self.db_mode in (WRITE_THROUGH, WRITE_BACK) and self.param("db_load"):
                self.preload_udomain(d)
        return d

    def get_udomain(self, name: str) -> UDomain | None:
        return self.domains.get(name)

    def _testdb(self, d: UDomain) -> None:
        keys = [self.col["user"], self.col["domain"]]
        vals = [DbVal("string", "dummy_user"), DbVal("string", "dummy_domain")]
        n = 2 if self.use_domain else 1
        try:
            self.db.query(keys[:n], None, vals[:n], [self.col["user"]], table=d.name)
        except DbError as e:
            raise ConfigError(f"usrloc: failure in db_query on table '{d.name}' ({e})") from None

    def _user_domain(self, aor: str) -> tuple[str, str | None]:
        if not self.use_domain:
            return aor, None
        at = aor.find("@")
        if at < 0:
            return "", aor
        return aor[:at], aor[at + 1:]

    # ------------------------------------------------------------ DB rows -> contacts
    def _expires_val(self, t) -> DbVal:
        if self.param("expires_type") == 1:
            return DbVal(BIGINT, int(t))
        return DbVal(DATETIME, int(t))

    def _row_cols(self) -> list[str]:
        c = self.col
        return [c["contact"], c["expires"], c["q"], c["callid"], c["cseq"], c["flags"], c["cflags"],
                c["user_agent"], c["received"], c["path"], c["socket"], c["methods"], c["last_modified"],
                c["ruid"], c["instance"], c["reg_id"], c["server_id"], c["connection_id"], c["keepalive"]]

    def _local_socket(self, text: str | None) -> str | None:
        """``dbrow2info``'s socket: kept only when it is one of ours (``grep_sock_info``)."""
        if not text:
            return None
        from ..runtime.context import Socket
        try:
            s = Socket.parse(text)
        except ValueError:
            return "__bad__"
        for ls in self.script.listen:
            if ls.proto == s.proto and ls.ip == s.ip and ls.port == s.port:
                return str(ls)
        return None

    def _row2info(self, row, rcon: bool, ctx=None) -> tuple[str, ContactInfo] | None:
        """``dbrow2info`` over the 19 columns of :meth:`_row_cols`: (contact, info) or None."""
        (contact, expires, q, callid, cseq, flags, cflags, ua, received, path, sock, methods, last_mod,
         ruid, instance, reg_id, server_id, con_id, keepalive) = row[:19]
        # dbrow2info's checks, in its order, with its messages
        for bad, what in ((not contact, "bad contact"), (expires is None, "empty expire"), (q is None, "empty q"),
                          (cseq is None, "empty cseq_nr"), (not callid, "bad callid"),
                          (flags is None, "empty flag"), (cflags is None, "empty cflag")):
            if bad:
                self._err(ctx, what)
                return None
        ci = ContactInfo()
        ci.expires = int(expires)
        ci.q = double2q(q)
        ci.cseq = int(cseq)
        ci.callid = callid
        ci.flags = int(flags)
        ci.cflags = int(cflags)
        ci.user_agent = ua or ""
        ci.received = received or ""
        ci.path = path or ""
        s = self._local_socket(sock)
        if s == "__bad__":
            self._err(ctx, f"bad socket <{sock}>")
            return None
        if s is None and sock and self.param("skip_remote_socket"):
            return None
        ci.sock = s
        ci.methods = ALL_METHODS if methods is None else int(methods) & 0xFFFFFFFF
        if last_mod is not None:
            ci.last_modified = int(last_mod)
        if ruid is not None:
            ci.ruid = ruid
        if instance is not None:
            ci.instance = instance
        if reg_id is not None:
            ci.reg_id = int(reg_id) & 0xFFFFFFFF
        if server_id is not None:
            ci.server_id = int(server_id)
        ci.tcpconn_id = -1
        if rcon and con_id is not None:
            ci.tcpconn_id = int(con_id)
        if keepalive is not None:
            ci.keepalive = int(keepalive)
        return contact, ci

    def _err(self, ctx, text: str) -> None:
        if ctx is not None:
            ctx.log("ERR", text, source="usrloc")
        else:
            self.log_init("ERR", text)

    def preload_udomain(self, d: UDomain) -> None:
        """``preload_udomain``: the whole table into memory (db_mode 1/2 start-up)."""
        cols = [self.col["user"]] + self._row_cols() + [self.col["domain"]]
        keys, ops, vals = [], None, []
        if self.param("server_id_filter"):
            keys, ops, vals = [self.col["server_id"]], ["="], [DbVal(INT, self._server_id())]
        n = 21 if self.use_domain else 20
        try:
            res = self.db.query(keys, ops, vals, cols[:n], table=d.name)
        except DbError as e:
            raise ConfigError(f"usrloc: failed to preload domain '{d.name}' ({e})") from None
        for row in res.rows:
            user = row[0]
            if not user:
                self.log_init("ERR", f"empty username record in table {d.name}...skipping")
                continue
            got = self._row2info(row[1:20], False)
            if got is None:
                continue
            contact, ci = got
            if self.use_domain:
                dom = row[20]
                if not dom:
                    continue
                user = f"{user}@{dom}"
            r = d.records.get(user)
            if r is None:
                r = URecord(d.name, user)
                d.records[user] = r
            c = self._mem_insert(r, contact, ci)
            c.state = CS_SYNC

    def _server_id(self) -> int:
        return int(self.script.core_params.get("server_id", 0) or 0)

    def db_load_urecord(self, d: UDomain, aor: str, ctx=None) -> URecord | None:
        """``db_load_urecord`` (db_mode 3)."""
        user, dom = self._user_domain(aor)
        keys = [self.col["user"]]
        vals = [DbVal(STR, user)]
        if self.use_domain:
            keys.append(self.col["domain"])
            vals.append(DbVal(STR, dom))
        order = self.col["last_modified"] if self.param("desc_time_order") else self.col["q"]
        try:
            res = self.db.query(keys, None, vals, self._row_cols(), order, table=d.name, ctx=ctx)
        except DbError as e:
            self._err(ctx, f"db_query failed ({e})")
            return None
        if not res.rows:
            return None
        r = None
        for row in res.rows:
            got = self._row2info(row, True, ctx)
            if got is None:
                self._err(ctx, f"skipping record for {aor} in table {d.name}")
                continue
            if r is None:
                r = URecord(d.name, aor, static=True)
            c = self._mem_insert(r, got[0], got[1])
            c.state = CS_SYNC
        return r

    # ------------------------------------------------------------ records
    def get_urecord(self, d: UDomain, aor: str, ctx=None) -> URecord | None:
        """``get_urecord``: the record, or None (DB-only mode: loaded from the DB)."""
        self.maybe_timer()
        if self.db_mode != DB_ONLY:
            return d.records.get(aor)
        return self.db_load_urecord(d, aor, ctx)

    def insert_urecord(self, d: UDomain, aor: str) -> URecord:
        if self.db_mode != DB_ONLY:
            r = URecord(d.name, aor)
            d.records[aor] = r
            return r
        return URecord(d.name, aor, static=True)

    def release_urecord(self, r: URecord) -> None:
        if self.db_mode == DB_ONLY:
            return
        if not r.contacts:
            d = self.domains.get(r.domain)
            if d is not None and d.records.get(r.aor) is r:
                del d.records[r.aor]

    def delete_urecord(self, d: UDomain, aor: str, r: URecord | None, ctx=None) -> int:
        """``delete_urecord``: 0 or -1."""
        if self.db_mode == DB_ONLY:
            if self.db_delete_urecord(d, aor, ctx) < 0:
                self._err(ctx, "DB delete failed")
                return -1
            return 0
        if r is None:
            r = d.records.get(aor)
            if r is None:
                return 0
        for c in list(r.contacts):
            if self.delete_ucontact(r, c, ctx) < 0:
                self._err(ctx, "deleting contact failed")
                return -1
        self.release_urecord(r)
        return 0

    def db_delete_urecord(self, d: UDomain, aor: str, ctx=None) -> int:
        user, dom = self._user_domain(aor)
        keys = [self.col["user"]]
        vals = [DbVal(STR, user)]
        if self.use_domain:
            keys.append(self.col["domain"])
            vals.append(DbVal(STR, dom))
        try:
            self.db.delete(keys, None, vals, table=d.name, ctx=ctx)
        except DbError as e:
            self._err(ctx, f"failed to delete from database ({e})")
            return -1
        return 0

    def get_urecord_by_ruid(self, d: UDomain, aorhash: int, ruid: str, ctx=None):
        """(record, contact) with that ruid (and AOR hash), or None."""
        if self.db_mode != DB_ONLY:
            for r in d.records.values():
                if r.aorhash != aorhash:
                    continue
                for c in r.contacts:
                    if c.ruid == ruid:
                        return r, c
            return None
        cols = self._row_cols() + [self.col["user"], self.col["domain"]]
        order = self.col["last_modified"] if self.param("desc_time_order") else self.col["q"]
        try:
            res = self.db.query([self.col["ruid"]], None, [DbVal(STR, ruid)], cols, order, table=d.name, ctx=ctx)
        except DbError as e:
            self._err(ctx, f"db_query failed ({e})")
            return None
        if not res.rows:
            return None
        row = res.rows[0]
        got = self._row2info(row, True, ctx)
        if got is None:
            return None
        aor = row[19] or ""
        if self.use_domain:
            if not row[20]:
                return None
            aor = f"{aor}@{row[20]}"
        r = URecord(d.name, aor, static=True)
        c = self._mem_insert(r, got[0], got[1])
        c.state = CS_SYNC
        if r.aorhash != aorhash:
            return None
        return r, c

    def delete_urecord_by_ruid(self, d: UDomain, ruid: str, ctx=None) -> int:
        """0 deleted, -1 error, -2 not found (db_mode 3 only)."""
        if self.db_mode != DB_ONLY:
            self._err(ctx, "delete_urecord_by_ruid currently available only in db_mode=3")
            return -1
        try:
            n = self.db.delete([self.col["ruid"]], None, [DbVal(STR, ruid)], table=d.name, ctx=ctx)
        except DbError as e:
            self._err(ctx, f"failed to delete from database ({e})")
            return -1
        return 0 if n else -2

    # ------------------------------------------------------------ contacts in memory
    def _mem_insert(self, r: URecord, uri: str, ci: ContactInfo) -> UContact:
        """``mem_insert_ucontact``: q-ordered (highest first), or newest first."""
        c = UContact(r.domain, r.aor, uri, ci, self.nat_bflag)
        lst = r.contacts
        if self.param("desc_time_order"):
            lst.insert(0, c)
            return c
        q = c.q
        for i, p in enumerate(lst):
            if p.q < q:
                lst.insert(i, c)
                return c
        lst.append(c)
        return c

    def _update_pos(self, r: URecord, c: UContact) -> None:
        """``update_contact_pos`` (with its ascending-order search, as in Kamailio)."""
        lst = r.contacts
        i = lst.index(c)
        if self.param("desc_time_order"):
            if i == 0:
                return
            del lst[i]
            lst.insert(0, c)
            return
        prev_ok = i == 0 or c.q <= lst[i - 1].q
        next_ok = i == len(lst) - 1 or c.q >= lst[i + 1].q
        if prev_ok and next_ok:
            return
        del lst[i]
        for j, p in enumerate(lst):
            if not (p.q < c.q):
                lst.insert(j, c)
                return
        lst.append(c)

    # ------------------------------------------------------------ contacts API
    def insert_ucontact(self, r: URecord, uri: str, ci: ContactInfo, ctx=None) -> UContact | None:
        """``insert_ucontact``: None on failure."""
        c = self._mem_insert(r, uri, ci)
        if self.db_mode == DB_ONLY:
            if self.db_insert_ucontact(c, ctx) < 0:
                self._err(ctx, "failed to insert in database")
                return None
            c.state = CS_SYNC
        elif self.db_mode == WRITE_THROUGH:
            if self.db_insert_ucontact(c, ctx) < 0:
                self._err(ctx, "failed to insert in database")
                return None
            c.state = CS_SYNC
        return c

    def update_ucontact(self, r: URecord | None, c: UContact, ci: ContactInfo, ctx=None) -> int:
        """``update_ucontact``: 0 or -1."""
        self._mem_update(c, ci)
        if self.db_mode == DB_ONLY:
            if self._update_contact_db(c, ctx) < 0:
                return -1
        if r is not None and self.db_mode != DB_ONLY:
            self._update_pos(r, c)
        if c.state == CS_SYNC and self.db_mode in (WRITE_BACK, WRITE_THROUGH):
            c.state = CS_DIRTY
        if self.db_mode == WRITE_THROUGH:
            if self._update_contact_db(c, ctx) < 0:
                return -1
        return 0

    def _mem_update(self, c: UContact, ci: ContactInfo) -> None:
        if ci.instance and ci.c:
            c.c = ci.c
        if ci.callid:
            c.callid = ci.callid
        c.user_agent = ci.user_agent or ""
        c.received = ci.received or ""
        c.path = ci.path or ""
        c.sock = ci.sock
        c.expires = ci.expires
        c.q = ci.q
        c.cseq = ci.cseq
        c.methods = ci.methods
        c.last_modified = ci.last_modified
        c.flags = ci.flags
        c.cflags = ci.cflags
        c.server_id = ci.server_id
        c.tcpconn_id = ci.tcpconn_id

    def _update_contact_db(self, c: UContact, ctx) -> int:
        if self.param("db_update_as_insert"):
            res = self.db_insert_ucontact(c, ctx)
        else:
            res = self.db_update_ucontact(c, ctx)
        if res < 0:
            self._err(ctx, "failed to update database")
            return -1
        c.state = CS_SYNC
        return 0

    def delete_ucontact(self, r: URecord, c: UContact, ctx=None) -> int:
        """``delete_ucontact``: 0 or -1."""
        ret = 0
        # st_delete_ucontact
        if c.state == CS_NEW:
            remove = True
        elif self.db_mode == WRITE_BACK:
            c.expires = UL_EXPIRED_TIME
            remove = False
        else:
            remove = True
        if remove:
            if self.db_mode in (WRITE_THROUGH, DB_ONLY):
                if self.db_delete_ucontact(c, ctx) < 0:
                    self._err(ctx, "failed to remove contact from database")
                    ret = -1
            if c in r.contacts:
                r.contacts.remove(c)
        return ret

    def get_ucontact(self, r: URecord, uri: str, callid: str, path: str | None, cseq: int):
        """``get_ucontact``: (ret, contact): 0 found, 1 not found, -1 invalid CSeq,
        -2 same CSeq within ``cseq_delay`` (a retransmission)."""
        mm = self.matching_mode
        ptr = None
        no_callid = False
        if mm == CONTACT_ONLY:
            ptr = next((p for p in r.contacts if p.c == uri), None)
        elif mm == CONTACT_CALLID:
            ptr = next((p for p in r.contacts if p.c == uri and p.callid == callid), None)
            no_callid = True
        elif mm == CONTACT_PATH:
            if path is None:
                ptr = next((p for p in r.contacts if p.c == uri), None)
            else:
                ptr = next((p for p in r.contacts if p.c == uri and p.path == path), None)
        elif mm == CONTACT_CALLID_ONLY:
            ptr = next((p for p in r.contacts if p.callid == callid), None)
        else:
            return -1, None
        if ptr is None:
            return 1, None
        if no_callid or ptr.callid == callid:
            if cseq < ptr.cseq:
                return -1, ptr
            if cseq == ptr.cseq:
                now = self.script.clock()
                return (-2 if ptr.last_modified + self.param("cseq_delay") > now else -1), ptr
        return 0, ptr

    def get_ucontact_by_instance(self, r: URecord, uri: str, ci: ContactInfo):
        """``get_ucontact_by_instance``: by ``+sip.instance``/``reg-id`` when the
        contact has an instance, else :meth:`get_ucontact`."""
        if not ci.instance:
            return self.get_ucontact(r, uri, ci.callid, ci.path or None, ci.cseq)
        i1 = _strip_lt(ci.instance)
        for p in r.contacts:
            if p.instance and ci.reg_id == p.reg_id and _strip_lt(p.instance) == i1:
                return 0, p
        return 1, None

    # ------------------------------------------------------------ DB statements
    def db_insert_ucontact(self, c: UContact, ctx=None) -> int:
        if c.flags & FL_MEM:
            return 0
        if not c.ruid:
            self._err(ctx, f"invalid ruid for aor: {c.aor}")
            return -1
        col = self.col
        null = self.param("db_insert_null")
        user, dom = self._user_domain(c.aor)
        keys = [col["user"], col["contact"], col["expires"], col["q"], col["callid"], col["cseq"], col["flags"],
                col["cflags"], col["user_agent"]]
        vals = [DbVal(STR, user), DbVal(STR, c.c), self._expires_val(c.expires), DbVal(DOUBLE, q2double(c.q)),
                DbVal(STR, c.callid), DbVal(INT, c.cseq), DbVal(INT, c.flags), DbVal(INT, c.cflags),
                DbVal(STR, c.user_agent)]
        if c.received:
            keys.append(col["received"])
            vals.append(DbVal(STR, c.received))
        elif null:
            keys.append(col["received"])
            vals.append(DbVal(STR, None))
        if c.path:
            keys.append(col["path"])
            vals.append(DbVal(STR, c.path))
        elif null:
            keys.append(col["path"])
            vals.append(DbVal(STR, None))
        if c.sock:
            keys.append(col["socket"])
            vals.append(DbVal(STR, c.sock))
        elif null:
            keys.append(col["socket"])
            vals.append(DbVal(STR, None))
        if c.methods != ALL_METHODS:
            keys.append(col["methods"])
            vals.append(DbVal(BITMAP, c.methods))
        elif null:
            keys.append(col["methods"])
            vals.append(DbVal(BITMAP, None))
        keys.append(col["last_modified"])
        vals.append(self._expires_val(c.last_modified))
        if c.ruid:
            keys.append(col["ruid"])
            vals.append(DbVal(STR, c.ruid))
        elif null:
            keys.append(col["ruid"])
            vals.append(DbVal(STR, None))
        if c.instance:
            keys.append(col["instance"])
            vals.append(DbVal(STR, c.instance))
        elif null:
            keys.append(col["instance"])
            vals.append(DbVal(STR, None))
        keys += [col["reg_id"], col["server_id"], col["connection_id"], col["keepalive"], col["partition"]]
        vals += [DbVal(INT, c.reg_id), DbVal(INT, c.server_id), DbVal(INT, c.tcpconn_id), DbVal(INT, c.keepalive),
                 DbVal(INT, 0)]
        if self.use_domain:
            keys.append(col["domain"])
            vals.append(DbVal(STR, dom))
        try:
            self.db.insert(keys, vals, table=c.domain, ctx=ctx)
        except DbError as e:
            self._err(ctx, f"inserting contact in db failed {c.aor} ({c.ruid}): {e}")
            return -1
        return 0

    def _update_cols(self, c: UContact) -> tuple[list, list]:
        """The SET part of ``db_update_ucontact_ruid``/``_instance``."""
        col = self.col
        keys = [col["expires"], col["q"], col["cseq"], col["flags"], col["cflags"], col["user_agent"],
                col["received"], col["path"], col["socket"], col["methods"], col["last_modified"], col["callid"],
                col["instance"], col["reg_id"], col["server_id"], col["connection_id"], col["keepalive"],
                col["contact"]]
        vals = [self._expires_val(c.expires), DbVal(DOUBLE, q2double(c.q)), DbVal(INT, c.cseq),
                DbVal(INT, c.flags), DbVal(INT, c.cflags), DbVal(STR, c.user_agent),
                DbVal(STR, c.received or None), DbVal(STR, c.path or None), DbVal(STR, c.sock or None),
                DbVal(BITMAP, None if c.methods == ALL_METHODS else c.methods),
                self._expires_val(c.last_modified), DbVal(STR, c.callid), DbVal(STR, c.instance or None),
                DbVal(INT, c.reg_id), DbVal(INT, c.server_id), DbVal(INT, c.tcpconn_id),
                DbVal(INT, c.keepalive), DbVal(STR, c.c)]
        return keys, vals

    def db_update_ucontact(self, c: UContact, ctx=None) -> int:
        if c.flags & FL_MEM:
            return 0
        col = self.col
        user, dom = self._user_domain(c.aor)
        if self.param("db_ops_ruid"):
            if not c.ruid:
                self._err(ctx, "updating record in database failed - empty ruid")
                return -1
            k1, v1 = [col["ruid"]], [DbVal(STR, c.ruid)]
            k2, v2 = self._update_cols(c)
        elif c.instance:
            k1 = [col["user"], col["instance"], col["reg_id"]]
            v1 = [DbVal(STR, user), DbVal(STR, c.instance), DbVal(INT, c.reg_id)]
            k2, v2 = self._update_cols(c)
            if self.use_domain:
                k1.append(col["domain"])
                v1.append(DbVal(STR, dom))
        else:
            k1 = [col["user"], col["contact"]]
            v1 = [DbVal(STR, user), DbVal(STR, c.c)]
            mm = self.matching_mode
            k2, v2 = [], []
            if mm == CONTACT_ONLY:
                k2 += [col["callid"], col["path"]]
                v2 += [DbVal(STR, c.callid), DbVal(STR, c.path or None)]
            elif mm == CONTACT_CALLID:
                k1.append(col["callid"])
                v1.append(DbVal(STR, c.callid))
                k2.append(col["path"])
                v2.append(DbVal(STR, c.path or None))
            elif mm == CONTACT_PATH:
                k1.append(col["path"])
                v1.append(DbVal(STR, c.path or None))
                k2.append(col["callid"])
                v2.append(DbVal(STR, c.callid))
            else:
                self._err(ctx, f"unknown matching_mode {mm}")
                return -1
            k2 += [col["expires"], col["q"], col["cseq"], col["flags"], col["cflags"], col["user_agent"],
                   col["received"], col["socket"], col["methods"], col["last_modified"], col["ruid"],
                   col["instance"], col["reg_id"], col["server_id"], col["connection_id"], col["keepalive"],
                   col["contact"]]
            v2 += [self._expires_val(c.expires), DbVal(DOUBLE, q2double(c.q)), DbVal(INT, c.cseq),
                   DbVal(INT, c.flags), DbVal(INT, c.cflags), DbVal(STR, c.user_agent),
                   DbVal(STR, c.received or None), DbVal(STR, c.sock or None),
                   DbVal(BITMAP, None if c.methods == ALL_METHODS else c.methods),
                   self._expires_val(c.last_modified), DbVal(STR, c.ruid or None), DbVal(STR, c.instance or None),
                   DbVal(INT, c.reg_id), DbVal(INT, c.server_id), DbVal(INT, c.tcpconn_id),
                   DbVal(INT, c.keepalive), DbVal(STR, c.c)]
            if self.use_domain:
                k1.append(col["domain"])
                v1.append(DbVal(STR, dom))
        try:
            self.db.update(k1, None, v1, k2, v2, table=c.domain, ctx=ctx)
        except DbError as e:
            self._err(ctx, f"updating database failed ({e})")
            return -1
        return 0

    def db_delete_ucontact(self, c: UContact, ctx=None) -> int:
        if c.flags & FL_MEM:
            return 0
        col = self.col
        if self.param("db_ops_ruid"):
            if not c.ruid:
                self._err(ctx, "deleting from database failed - empty ruid")
                return -1
            keys, vals = [col["ruid"]], [DbVal(STR, c.ruid)]
        else:
            user, dom = self._user_domain(c.aor)
            keys, vals = [col["user"], col["contact"]], [DbVal(STR, user if self.use_domain else c.aor),
                                                          DbVal(STR, c.c)]
            mm = self.matching_mode
            if mm == CONTACT_CALLID:
                keys.append(col["callid"])
                vals.append(DbVal(STR, c.callid))
            elif mm == CONTACT_PATH:
                keys.append(col["path"])
                vals.append(DbVal(STR, c.path or None))
            elif mm != CONTACT_ONLY:
                self._err(ctx, f"unknown matching_mode {mm}")
                return -1
            if self.use_domain:
                keys.append(col["domain"])
                vals.append(DbVal(STR, dom))
        try:
            self.db.delete(keys, None, vals, table=c.domain, ctx=ctx)
        except DbError as e:
            self._err(ctx, f"deleting from database failed ({e})")
            return -1
        return 0

    # ------------------------------------------------------------ timer
    def on_clock(self, now: float):
        """``kscript.testing`` clock hook: run the expiry timer if it is due."""
        self.maybe_timer(now)
        return None

    def maybe_timer(self, now: float | None = None) -> None:
        if now is None:
            now = self.script.clock()
        if now < self.next_timer:
            return
        interval = self.param("timer_interval")
        if interval <= 0:
            self.next_timer = float("inf")
            return
        steps = int((now - self.next_timer) // interval) + 1
        self.next_timer += steps * interval
        self.timer(now)

    def timer(self, now: float | None = None, final: bool = False) -> None:
        """``synchronize_all_udomains``: one run of the expiry/flush timer."""
        if now is None:
            now = self.script.clock()
        if self.db_mode == DB_ONLY:
            for d in self.domains.values():
                self.db_timer_udomain(d, now)
            return
        for d in self.domains.values():
            for aor in list(d.records):
                r = d.records[aor]
                self._timer_urecord(r, now)
                if not r.contacts:
                    del d.records[aor]

    def _timer_urecord(self, r: URecord, now: float) -> None:
        mode = self.db_mode
        for c in list(r.contacts):
            if not c.valid(now):
                if mode in (WRITE_THROUGH, WRITE_BACK) and c.state in (CS_SYNC, CS_DIRTY):
                    if self.db_delete_ucontact(c) < 0:
                        self.log_init("ERR", f"failed to delete contact from the database (aor: {c.aor})")
                r.contacts.remove(c)
            elif mode in (WRITE_THROUGH, WRITE_BACK):
                st = c.state
                if st == CS_NEW:
                    c.state = CS_SYNC
                    if self.db_insert_ucontact(c) < 0:
                        c.state = st
                elif st == CS_DIRTY:
                    c.state = CS_SYNC
                    if self.param("db_update_as_insert"):
                        res = self.db_insert_ucontact(c)
                    else:
                        res = self.db_update_ucontact(c)
                    if res < 0:
                        c.state = st

    def db_timer_udomain(self, d: UDomain, now: float) -> None:
        """``db_timer_udomain``: delete expired rows (db_mode 3)."""
        col = self.col
        keys = [col["expires"], col["expires"]]
        ops = [OP_LT, OP_NEQ]
        vals = [self._expires_val(int(now) + 1 - self.param("rm_expired_delay")), self._expires_val(0)]
        if self.param("server_id_filter"):
            keys.append(col["server_id"])
            ops.append("=")
            vals.append(DbVal(INT, self._server_id()))
        try:
            self.db.delete(keys, ops, vals, table=d.name)
        except DbError as e:
            self.log_init("ERR", f"failed to delete from table {d.name} ({e})")

    # ------------------------------------------------------------ inspection (tests, $ulc)
    def contacts_of(self, table: str, aor: str, ctx=None) -> list[UContact]:
        d = self.domains.get(table) or self.register_udomain(table)
        r = self.get_urecord(d, aor, ctx)
        return list(r.contacts) if r else []


def _strip_lt(s: str) -> str:
    if len(s) >= 2 and s[0] == "<" and s[-1] == ">":
        return s[1:-1]
    return s
