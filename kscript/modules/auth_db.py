"""auth_db: digest authentication against a subscriber table (modules/auth_db @5.6.3).

Functions: ``www_authorize(realm, table)`` / ``www_authenticate(realm, table[,
method])``, ``proxy_authorize(realm, table)`` / ``proxy_authenticate(realm,
table)``, ``auth_check(realm, table, flags)`` (Authorization for REGISTER,
Proxy-Authorization otherwise; flags 1 = the digest user must match From/To,
2 = skip that for INVITE/BYE/PRACK/UPDATE/MESSAGE), ``is_subscriber(uri, table,
flags)`` (flags 1 = match the domain too, 2 = do not load credentials).

Return codes (auth's ``auth_cfg_result_t``): 1 ok, -1 error, -2 wrong password,
-3 unknown user, -4 stale nonce, -5 no credentials, -6 nonce reused, -8 user
mismatch.

The password lookup is Kamailio's ``get_ha1``: ``SELECT <password column>[, <load_credentials
columns>] FROM <table> WHERE <user_column> = <digest user> [AND <domain_column> =
<digest domain, else the realm>]`` -- the domain condition only with
``use_domain=1``.  With ``calculate_ha1=1`` the column is ``password_column``
(default ``ha1``; the Debian cfg sets ``password``) holding the plain password,
and HA1 = MD5(<digest username as sent>:<realm>:<password>); otherwise the
column holds HA1 itself (``password_column_2``, default ``ha1b``, when the digest
username carries a domain).  ``load_credentials`` (``"$avp(x)=col;col2"``) copies
columns into PVs after a successful check.

Parameters: ``db_url``, ``user_column``, ``domain_column``, ``password_column``,
``password_column_2``, ``calculate_ha1``, ``use_domain``, ``load_credentials``,
``version_table`` (checks the table version, 7 for ``subscriber``, at start-up),
``force_generate_avps``.
"""

from __future__ import annotations

from .. import db as kdb
from ..db.api import STR, DbError, DbVal
from ..errors import ConfigError
from .auth import (AUTH_ERROR, AUTH_INVALID_PASSWORD, AUTH_NO_CREDENTIALS, AUTH_NONCE_REUSED, AUTH_OK,
                   AUTH_STALE_NONCE, AUTH_USER_UNKNOWN, AUTHENTICATED, BAD_CREDENTIALS, DO_AUTHENTICATION,
                   HDR_AUTHORIZATION, HDR_PROXYAUTH, NO_CREDENTIALS, NONCE_REUSED, NOT_AUTHENTICATED, STALE_NONCE,
                   AUTH_CHECK_ID_F, AUTH_CHECK_SKIPFWD_F, check_identity)
from .base import Module, Param, function

DEFAULT_RODB_URL = "mysql://kamailioro:kamailioro@localhost/kamailio"
SUBSCRIBER_TABLE_VERSION = 7

AUTH_DB_SUBS_USE_DOMAIN = 1
AUTH_DB_SUBS_SKIP_CREDENTIALS = 2


class AuthDbModule(Module):
    name = "auth_db"
    params = {
        "db_url": Param("str", DEFAULT_RODB_URL),
        "user_column": Param("str", "username"),
        "domain_column": Param("str", "domain"),
        "password_column": Param("str", "ha1"),
        "password_column_2": Param("str", "ha1b"),
        "calculate_ha1": Param("int", 0),
        "use_domain": Param("int", 0),
        "load_credentials": Param("str", None),
        "version_table": Param("int", 1),
        "force_generate_avps": Param("int", 0),
    }

    def init(self) -> None:
        if "auth" not in self.script.modules:
            raise ConfigError("auth_db: unable to find bind_auth function. Check if you load the auth module.")
        try:
            self.db = kdb.connect(self.script, self.param("db_url"), lazy_missing=True, who="auth_db")
        except DbError as e:
            raise ConfigError(f"auth_db: unable to connect to the database ({e})") from None
        self.credentials = _parse_credentials(self.param("load_credentials"))
        self._cred_pvs = None
        self._checked_tables: set[str] = set()

    @property
    def auth(self):
        return self.script.modules["auth"]

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.close()

    def _check_table(self, table: str, ctx) -> None:
        """The table version check Kamailio runs in the function's fixup."""
        if table in self._checked_tables or not self.param("version_table") \
                or isinstance(self.db, kdb.UnavailableDb):
            return
        self._checked_tables.add(table)
        try:
            v = self.db.table_version(table, ctx=ctx)
        except DbError:
            v = None
        if v != SUBSCRIBER_TABLE_VERSION:
            raise ConfigError(f"auth_db: invalid table version for table '{table}' (found {v}, expected "
                              f"{SUBSCRIBER_TABLE_VERSION}) - please upgrade your database schema")

    def _pvs(self):
        if self._cred_pvs is None:
            comp = self.script.compiler
            self._cred_pvs = [(col, comp.pv(pv, None)) for col, pv in self.credentials]
        return self._cred_pvs

    def _generate_avps(self, ctx, row, offset: int) -> None:
        for i, (_col, pv) in enumerate(self._pvs()):
            v = row[offset + i]
            try:
                pv.set(ctx, v)
            except Exception as e:  # pragma: no cover
                self.log(ctx, "ERR", f"Failed to convert value for column {_col}: {e}")

    # ------------------------------------------------------------ HA1
    def get_ha1(self, ctx, cred, realm: str, table: str):
        """(status, ha1, row): status 0 found, 1 unknown user, -1 DB error."""
        calc = self.param("calculate_ha1")
        pcol = self.param("password_column_2") if (cred.domain and not calc) else self.param("password_column")
        cols = [pcol] + [c for c, _pv in self.credentials]
        keys = [self.param("user_column"), self.param("domain_column")]
        vals = [DbVal(STR, cred.user), DbVal(STR, cred.domain if cred.domain else realm)]
        n = 2 if self.param("use_domain") else 1
        try:
            res = self.db.query(keys[:n], None, vals[:n], cols, table=table, ctx=ctx)
        except DbError as e:
            self.log(ctx, "ERR", f"failed to query database ({e})")
            return -1, None, None
        if not res.rows:
            return 1, None, None
        row = res.rows[0]
        pw = row[0]
        pw = "" if pw is None else str(pw)
        if calc:
            ha1 = self.auth.calc_ha1(cred.username, realm, pw)
        else:
            ha1 = pw
        return 0, ha1, row

    def digest_authenticate(self, ctx, realm, table, hftype: str, method: str):
        """``digest_authenticate_hdr``: (return code, credentials or None)."""
        auth = self.auth
        res, idx, cred = auth.pre_auth(ctx, realm, hftype)
        if res == NONCE_REUSED:
            return AUTH_NONCE_REUSED, None
        if res == STALE_NONCE:
            return AUTH_STALE_NONCE, None
        if res == NO_CREDENTIALS:
            return AUTH_NO_CREDENTIALS, None
        if res in ("ERROR", BAD_CREDENTIALS, NOT_AUTHENTICATED):
            return AUTH_ERROR, None
        if res == AUTHENTICATED:
            return AUTH_OK, None
        assert res == DO_AUTHENTICATION
        realm = auth._strip_realm(realm)
        st, ha1, row = self.get_ha1(ctx, cred, realm, table)
        if st < 0:
            return AUTH_ERROR, cred
        if st > 0:
            return AUTH_USER_UNKNOWN, cred
        force = self.param("force_generate_avps")
        if force and self.credentials:
            self._generate_avps(ctx, row, 1)
        r = auth.check_response(cred, method, ha1)
        if r == AUTHENTICATED:
            if auth.post_auth(ctx, idx, cred, ha1) == AUTHENTICATED:
                if not force and self.credentials:
                    self._generate_avps(ctx, row, 1)
                return AUTH_OK, cred
            return AUTH_ERROR, cred
        if r == NOT_AUTHENTICATED:
            return AUTH_INVALID_PASSWORD, cred
        return AUTH_ERROR, cred

    def _authenticate(self, ctx, realm, table, hftype, method):
        if not table:
            self.log(ctx, "ERR", "invalid table parameter")
            return AUTH_ERROR
        if not realm:
            self.log(ctx, "ERR", "invalid realm parameter - empty value")
            return AUTH_ERROR
        self._check_table(table, ctx)
        return self.digest_authenticate(ctx, realm, table, hftype, method)[0]

    # ------------------------------------------------------------ cfg functions
    @function("www_authorize", "fmt", "fmt")
    @function("www_authenticate", "fmt", "fmt")
    def www_authorize(self, ctx, realm, table):
        return self._authenticate(ctx, realm, table, HDR_AUTHORIZATION, ctx.msg.method or "")

    @function("www_authenticate", "fmt", "fmt", "fmt")
    def www_authenticate3(self, ctx, realm, table, method):
        if not method:
            self.log(ctx, "ERR", "invalid method parameter - empty value")
            return AUTH_ERROR
        return self._authenticate(ctx, realm, table, HDR_AUTHORIZATION, method)

    @function("proxy_authorize", "fmt", "fmt")
    @function("proxy_authenticate", "fmt", "fmt")
    def proxy_authorize(self, ctx, realm, table):
        return self._authenticate(ctx, realm, table, HDR_PROXYAUTH, ctx.msg.method or "")

    @function("auth_check", "fmt", "fmt", "igp")
    def auth_check(self, ctx, realm, table, flags):
        method = (ctx.msg.method or "").upper()
        if method in ("ACK", "CANCEL"):
            return AUTH_OK
        if not isinstance(flags, int):
            self.log(ctx, "ERR", "invalid flags parameter")
            return -1
        if not realm:
            self.log(ctx, "ERR", "invalid realm parameter - empty value")
            return AUTH_ERROR
        if not table:
            self.log(ctx, "ERR", "invalid table parameter - empty value")
            return AUTH_ERROR
        self._check_table(table, ctx)
        hftype = HDR_AUTHORIZATION if method == "REGISTER" else HDR_PROXYAUTH
        ret, cred = self.digest_authenticate(ctx, realm, table, hftype, ctx.msg.method or "")
        if ret == AUTH_OK and cred is not None and flags & AUTH_CHECK_ID_F:
            return check_identity(ctx, self.param("use_domain"), bool(flags & AUTH_CHECK_SKIPFWD_F),
                                  auth_user=cred.user)
        return ret

    @function("is_subscriber", "fmt", "fmt", "igp")
    def is_subscriber(self, ctx, uri, table, flags):
        if not isinstance(flags, int):
            self.log(ctx, "ERR", "invalid flags parameter")
            return -1
        if not uri:
            self.log(ctx, "ERR", "invalid uri parameter - empty value")
            return -1
        from ..sip.uri import parse_uri
        try:
            puri = parse_uri(uri)
        except Exception:
            self.log(ctx, "ERR", "invalid uri parameter format")
            return -1
        if not table:
            self.log(ctx, "ERR", "invalid table parameter - empty value")
            return -1
        skip = bool(flags & AUTH_DB_SUBS_SKIP_CREDENTIALS)
        cols = [self.param("user_column")] if skip else [c for c, _pv in self.credentials]
        keys = [self.param("user_column"), self.param("domain_column")]
        vals = [DbVal(STR, puri.user or "")]
        if flags & AUTH_DB_SUBS_USE_DOMAIN and puri.host:
            vals.append(DbVal(STR, puri.host))
        try:
            res = self.db.query(keys[:len(vals)], None, vals, cols, table=table, ctx=ctx)
        except DbError as e:
            self.log(ctx, "ERR", f"failed to query database ({e})")
            return -1
        if not res.rows:
            return -2
        if not skip and self.credentials:
            self._generate_avps(ctx, res.rows[0], 0)
        return 1


def _parse_credentials(text: str | None) -> list[tuple[str, str]]:
    """``parse_aaa_pvs``: ``"$avp(x)=col;col2"`` -> [(column, pv text)], in Kamailio's
    order (each new element is linked at the head: the list is reversed)."""
    out: list[tuple[str, str]] = []
    if not text:
        return out
    for part in text.split(";"):
        if not part.strip():
            continue
        if "=" in part:
            pv, col = part.rsplit("=", 1)
            pv, col = pv.strip(), col.strip()
            if not pv or not col:
                raise ConfigError(f"auth_db: parse failed in \"{text}\"")
        else:
            col = part.strip()
            pv = f"$avp({col})"
        out.insert(0, (col, pv))
    return out
