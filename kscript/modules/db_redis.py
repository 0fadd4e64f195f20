"""db_redis: the DB backend for ``redis://`` db_urls (modules/db_redis @5.6.3).

Module parameters: ``schema_path`` (default ``/usr/share/kamailio/db_redis/kamailio``,
the Debian package's schema files -- the code default of 5.6, not the README's),
``keys`` (repeatable; joined with ``;``), ``verbosity`` (accepted; kscript does not
print the parsed schema).  The schema and keys are parsed when the first
connection is made (Kamailio parses them on every connection): an error there
makes the module using the URL fail to start.  At least one ``keys`` definition
is required, as in Kamailio.

The module exports no cfg functions; modules using a DB (usrloc, auth_db, acc...)
get a :class:`~kscript.db.redis.RedisDbConnection` through :func:`kscript.db.connect`.

Observability for tests: :attr:`DbRedisModule.full_scans` lists every full (or
range) table scan as ``(table, where-columns, operation)``, each message's
``ctx.data["db_full_scans"]`` counts the scans it caused, and
:meth:`DbRedisModule.client` gives a redis-py client on the db_url's Redis (for
seeding subscribers, inspecting keys) in the script's Redis mode.
"""

from __future__ import annotations

from ..db.redis import RedisDbConnection
from ..db.redis.keys import join_keys, parse_keys
from ..db.redis.schema import SchemaError, load_schema
from ..errors import ConfigError
from ..runtime.context import LogRecord
from .base import Module, Param

DEFAULT_SCHEMA_PATH = "/usr/share/kamailio/db_redis/kamailio"


class DbRedisModule(Module):
    name = "db_redis"
    params = {
        "schema_path": Param("str", DEFAULT_SCHEMA_PATH),
        "keys": Param("str", multi=True),
        "verbosity": Param("int", 1),
    }

    def __init__(self, script):
        super().__init__(script)
        self._tables = None
        self.connections: list[RedisDbConnection] = []
        self.stats = {"full_scans": [], "commands": 0}
        #: log lines produced outside any message (timers, start-up)
        self.log_records: list[LogRecord] = []

    @property
    def full_scans(self) -> list:
        return self.stats["full_scans"]

    # ------------------------------------------------------------ schema
    def tables(self):
        if self._tables is None:
            path = self.param("schema_path")
            try:
                tables = load_schema(path)
                spec = join_keys([v for v, _pos in self.param("keys")])
                parse_keys(spec, tables)
            except SchemaError as e:
                raise ConfigError(f"db_redis: {e}") from None
            self._tables = tables
        return self._tables

    # ------------------------------------------------------------ backend
    def _log(self, ctx, level: str, text: str) -> None:
        if ctx is not None:
            ctx.log(level, text, source="db_redis")
        else:
            self.log_records.append(LogRecord(level, text, "db_redis"))

    def db_connect(self, url) -> RedisDbConnection:
        tables = self.tables()
        conn = RedisDbConnection(self.script, url, tables, log=self._log, stats=self.stats)
        self.connections.append(conn)
        return conn

    def client(self, url: str | None = None):
        """A redis-py client (``decode_responses=True``) on the Redis of ``url`` (default: the
        first db_redis connection made by the cfg's modules), in the script's Redis mode --
        for seeding and inspecting db_redis data in tests."""
        from .. import redis_backend
        from ..db.url import parse_db_url
        if url is None:
            if not self.connections:
                return None
            u = self.connections[0].url
        else:
            u = parse_db_url(url)
        return redis_backend.redis_py_client(self.script, u.host, u.port, u.db_index, u.password)

    def close(self) -> None:
        for c in self.connections:
            try:
                c.close()
            except Exception:  # pragma: no cover
                pass
        self.connections.clear()
