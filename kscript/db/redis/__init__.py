"""db_redis: Kamailio's DB API stored in Redis with Kamailio 5.6's exact key layout.

* :mod:`.schema` -- the schema files (``schema_path``);
* :mod:`.keys` -- the ``keys`` modparam;
* :mod:`.layout` -- key names and value conversions;
* :mod:`.planner` -- entry key / mapping set / table scan, client-side matching;
* :mod:`.ops` -- query, insert, update, delete;
* :class:`RedisDbConnection` -- the :class:`~kscript.db.api.DbConnection` the
  ``db_redis`` kscript module hands out for ``redis://`` URLs.

Connecting follows db_redis: ``PING``, ``SELECT <db>`` (``AUTH`` first when the URL
has a password), ``SCRIPT LOAD`` of the set-cleanup Lua script (whose SHA1 the
deletes use with ``EVALSHA``).  In embedded mode the same commands run against
the script's fakeredis server (the Lua script is emulated in-process).

``version`` queries (``table_name = X``, one result column ``table_version``)
are answered from the schema files without contacting Redis, as db_redis does.
"""

from __future__ import annotations

from ...redis_backend import RedisIOError, ReplyError, connect as redis_connect, register_lua
from ..api import STR, DbConnection, DbError, DbResult
from .ops import SREM_KEY_LUA, do_delete, do_insert, do_query, do_update
from .schema import Table

__all__ = ["RedisDbConnection", "SREM_KEY_LUA", "srem_key_lua_emulation"]


def srem_key_lua_emulation(conn, keys, args):
    """What SREM_KEY_LUA does, for servers without Lua (the embedded one)."""
    type_key, index_key, entry_key = keys[0], keys[1], keys[2]
    conn.raw("SREM", type_key, entry_key)
    if conn.raw("SCARD", type_key) == 0:
        conn.raw("SREM", index_key, type_key)
    return None


SREM_SHA = register_lua(SREM_KEY_LUA, srem_key_lua_emulation)


class RedisDbConnection(DbConnection):
    """A db_redis connection (``km_redis_con_t``)."""

    def __init__(self, script, url, tables: dict[str, Table], *, log=None, stats=None):
        super().__init__(url)
        self.script = script
        self.tables = tables
        self._log = log  # fn(ctx, level, text) or None
        self.stats = stats if stats is not None else {"full_scans": [], "commands": 0}
        self.conn = None
        self.srem_sha = SREM_SHA
        self.connect()

    # ------------------------------------------------------------ connection
    def connect(self) -> None:
        u = self.url
        try:
            self.conn = redis_connect(self.script, u.host, u.port, u.db_index, u.password, timeout=1.0)
            sha = self.conn.command("SCRIPT", "LOAD", SREM_KEY_LUA)
        except (RedisIOError, ReplyError, OSError) as e:
            raise DbError(f"cannot open connection to {u}: {e}") from None
        self.srem_sha = sha

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @property
    def trace(self):
        return self.conn.trace if self.conn is not None else None

    @trace.setter
    def trace(self, value):
        if self.conn is not None:
            self.conn.trace = value

    # ------------------------------------------------------------ logging
    def log(self, ctx, level: str, text: str) -> None:
        if self._log is not None:
            self._log(ctx, level, text)
        elif ctx is not None:
            ctx.log(level, text, source="db_redis")

    def note_scan(self, table: str, cols: list[str], what: str) -> None:
        self.stats["full_scans"].append((table, cols, what))

    # ------------------------------------------------------------ helpers
    def _get_table(self, table: str | None) -> Table:
        name = self._table(table)
        t = self.tables.get(name)
        if t is None:
            raise DbError(f"query to undefined table '{name}', define it in schema file!")
        return t

    def _run(self, fn, *args):
        try:
            return fn(*args)
        except (RedisIOError, OSError) as e:
            raise DbError(f"Failed to fetch type entry: {e}") from None
        except ReplyError as e:
            raise DbError(f"Failed to fetch type entry: {e}") from None

    # ------------------------------------------------------------ API
    def query(self, keys=(), ops=None, vals=(), cols=(), order=None, *, table=None, ctx=None) -> DbResult:
        name = self._table(table)
        if (len(cols) == 1 and len(keys) >= 1 and vals[0][0] == STR and name == "version"
                and keys[0] == "table_name" and cols[0] == "table_version"):
            t = self.tables.get(vals[0][1])
            if t is not None:
                return DbResult(["table_version"], ["int"], [[t.version]])
            self.log(ctx, "ERR", f"query to undefined table '{vals[0][1]}', define it in schema file!")
        t = self._get_table(name)
        # ORDER BY is not supported by db_redis (ignored)
        return self._run(do_query, self, t, list(keys), ops, list(vals), list(cols), ctx)

    def insert(self, keys, vals, *, table=None, ctx=None) -> None:
        t = self._get_table(table)
        self._run(do_insert, self, t, list(keys), list(vals), ctx)

    def update(self, keys, ops, vals, ukeys, uvals, *, table=None, ctx=None) -> int:
        t = self._get_table(table)
        return self._run(do_update, self, t, list(keys), ops, list(vals), list(ukeys), list(uvals), ctx)

    def delete(self, keys, ops, vals, *, table=None, ctx=None) -> int:
        t = self._get_table(table)
        return self._run(do_delete, self, t, list(keys), ops, list(vals), ctx)
