"""An in-memory DB backend: ``db_url "memory://any/<name>"`` (kscript's own, not a Kamailio
module).

For tests of DB-using modules without Redis: rows live in the loaded script (one store
per ``<name>``), compared exactly (SQL semantics, no db_redis quirks), ``table_version``
answered from the ``version`` table if present, else from db_redis's schema files when
they exist.  Seed it with ``kscript.db.memory.store(script, name)[table].append({...})``.
"""

from __future__ import annotations

from .api import (DATETIME, OP_BITWISE_AND, OP_EQ, OP_GEQ, OP_GT, OP_LEQ, OP_LT, OP_NEQ, DbConnection, DbResult)

__all__ = ["MemoryDb", "store"]


def store(script, name: str) -> dict[str, list[dict]]:
    """The tables of the memory database ``name`` of ``script`` ({table: [row dicts]})."""
    dbs = getattr(script, "_kscript_memory_dbs", None)
    if dbs is None:
        dbs = {}
        script._kscript_memory_dbs = dbs
    return dbs.setdefault(name, {})


def _match(row: dict, k, ops, v) -> bool:
    for i, col in enumerate(k):
        op = ops[i] if ops is not None else OP_EQ
        want = v[i][1]
        have = row.get(col)
        if want is None or have is None:
            if not (want is None and have is None and op == OP_EQ):
                return False
            continue
        try:
            if op == OP_EQ and not have == want:
                return False
            if op == OP_NEQ and not have != want:
                return False
            if op == OP_LT and not have < want:
                return False
            if op == OP_GT and not have > want:
                return False
            if op == OP_LEQ and not have <= want:
                return False
            if op == OP_GEQ and not have >= want:
                return False
            if op == OP_BITWISE_AND and not (int(have) & int(want)):
                return False
        except TypeError:
            return False
    return True


class MemoryDb(DbConnection):
    def __init__(self, script, url):
        super().__init__(url)
        self.tables = store(script, url.database)

    def query(self, keys=(), ops=None, vals=(), cols=(), order=None, *, table=None, ctx=None) -> DbResult:
        rows = [r for r in self.tables.get(self._table(table), []) if _match(r, keys, ops, vals)]
        if order:
            rows.sort(key=lambda r: (r.get(order) is None, r.get(order)))
        return DbResult(list(cols), ["" for _ in cols], [[r.get(c) for c in cols] for r in rows])

    def insert(self, keys, vals, *, table=None, ctx=None) -> None:
        row = {}
        for k, (t, v) in zip(keys, vals):
            row[k] = int(v) if t == DATETIME and v is not None else v
        self.tables.setdefault(self._table(table), []).append(row)

    def update(self, keys, ops, vals, ukeys, uvals, *, table=None, ctx=None) -> int:
        n = 0
        for r in self.tables.get(self._table(table), []):
            if _match(r, keys, ops, vals):
                for k, (_t, v) in zip(ukeys, uvals):
                    r[k] = v
                n += 1
        return n

    def delete(self, keys, ops, vals, *, table=None, ctx=None) -> int:
        t = self._table(table)
        rows = self.tables.get(t, [])
        keep = [r for r in rows if not _match(r, keys, ops, vals)]
        self.tables[t] = keep
        return len(rows) - len(keep)

    def table_version(self, table: str, *, ctx=None):
        for r in self.tables.get("version", []):
            if r.get("table_name") == table:
                return int(r.get("table_version"))
        import os
        from .redis.schema import load_schema
        path = "/usr/share/kamailio/db_redis/kamailio"
        if os.path.isdir(path):
            t = load_schema(path).get(table)
            return t.version if t is not None else None
        return None


def _factory(script, url):
    return MemoryDb(script, url)


def _register():
    from . import register_backend
    register_backend("memory", _factory)


_register()
