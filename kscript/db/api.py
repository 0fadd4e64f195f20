"""Kamailio's DB API v1 (lib/srdb1 @5.6.3) for kscript modules.

Modules written for SQL (usrloc, auth_db, acc...) talk to a database through a
small generic API; the backend named by the ``db_url`` scheme (``redis://`` ->
db_redis) implements it.  kscript keeps the same shape:

* a value is a :class:`DbVal` ``(type, value)``; ``value is None`` is SQL NULL.
  Types are Kamailio's ``DB1_*`` (:data:`INT`, :data:`STR`, :data:`DATETIME`...);
  a ``DATETIME`` value is seconds since the epoch (``time_t``);
* ``query(keys, ops, vals, cols, order)`` -- ``WHERE keys[i] ops[i] vals[i]``
  (``ops=None`` means all ``=``), returning the ``cols`` of the matching rows as a
  :class:`DbResult`; ``insert(keys, vals)``; ``update(keys, ops, vals, ukeys,
  uvals)``; ``delete(keys, ops, vals)`` -- all on the table chosen with
  ``use_table(name)`` (or passed as ``table=``);
* errors raise :class:`DbError` (the module using the DB logs it and fails the
  way the Kamailio module does: usually a -1 return);
* every call takes an optional ``ctx`` (the :class:`~kscript.runtime.context.MsgContext`
  of the message being processed): backends log there (e.g. db_redis's full
  table scan warnings) and count their full scans in ``ctx.data["db_full_scans"]``.

Backends: :class:`DbConnection` subclasses, found through :func:`kscript.db.connect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

from ..errors import KscriptError

__all__ = [
    "INT", "UINT", "BIGINT", "UBIGINT", "DOUBLE", "STRING", "STR", "DATETIME", "BLOB", "BITMAP",
    "OP_EQ", "OP_NEQ", "OP_LT", "OP_GT", "OP_LEQ", "OP_GEQ", "OP_BITWISE_AND", "OPS",
    "DbVal", "DbResult", "DbError", "DbConnection", "Str", "Int", "DateTime", "Double", "Null",
    "FULL_SCANS_KEY", "count_full_scan",
]

# value types (enum db_type_t, srdb1/db_val.h)
INT = "int"
UINT = "uint"
BIGINT = "bigint"
UBIGINT = "ubigint"
DOUBLE = "double"
STRING = "string"  # zero-terminated C string
STR = "str"  # counted string
DATETIME = "datetime"
BLOB = "blob"
BITMAP = "bitmap"

# operators (srdb1/db_op.h)
OP_EQ = "="
OP_NEQ = "!="
OP_LT = "<"
OP_GT = ">"
OP_LEQ = "<="
OP_GEQ = ">="
OP_BITWISE_AND = "&"
OPS = (OP_EQ, OP_NEQ, OP_LT, OP_GT, OP_LEQ, OP_GEQ, OP_BITWISE_AND)

#: ``ctx.data`` key counting the full table scans the message caused
FULL_SCANS_KEY = "db_full_scans"


class DbVal(NamedTuple):
    """One DB value: ``type`` is a DB1 type name, ``value`` None for NULL."""

    type: str
    value: Any


def Str(v: str | None) -> DbVal:
    return DbVal(STR, v)


def Int(v: int | None) -> DbVal:
    return DbVal(INT, v)


def DateTime(v: float | int | None) -> DbVal:
    return DbVal(DATETIME, None if v is None else int(v))


def Double(v: float | None) -> DbVal:
    return DbVal(DOUBLE, v)


def Null(t: str = STR) -> DbVal:
    return DbVal(t, None)


class DbError(KscriptError):
    """A DB operation failed (Kamailio's functions return -1 and log)."""


@dataclass
class DbResult:
    """Rows of a query: ``rows[i][j]`` is column ``columns[j]`` of row ``i`` as a Python
    value (int for INT/UINT/BIGINT/BITMAP, float for DOUBLE, int seconds for DATETIME,
    str for strings; None for NULL); ``types[j]`` the DB1 type of the column."""

    columns: list[str]
    types: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]


def count_full_scan(ctx) -> None:
    """Count one full table scan on the message's context (``ctx.data["db_full_scans"]``)."""
    if ctx is not None:
        d = ctx.data
        d[FULL_SCANS_KEY] = d.get(FULL_SCANS_KEY, 0) + 1


class DbConnection:
    """A connection to a database (Kamailio's ``db1_con_t`` plus the bound ``db_func_t``).

    Subclasses implement :meth:`query`, :meth:`insert`, :meth:`update`, :meth:`delete`;
    ``table`` is the current table (``use_table``).  ``url`` is the parsed
    :class:`~kscript.db.url.DbUrl`.
    """

    #: capabilities, as DB_CAP_* names
    capabilities: frozenset = frozenset({"query", "insert", "update", "delete"})

    def __init__(self, url):
        self.url = url
        self.table: str | None = None

    def use_table(self, table: str) -> None:
        self.table = table

    def _table(self, table: str | None) -> str:
        t = table or self.table
        if not t:
            raise DbError("prefix (table) name not set")
        return t

    # -- operations
    def query(self, keys: Sequence[str] = (), ops: Sequence[str] | None = None, vals: Sequence[DbVal] = (),
              cols: Sequence[str] = (), order: str | None = None, *, table: str | None = None,
              ctx=None) -> DbResult:
        raise NotImplementedError

    def insert(self, keys: Sequence[str], vals: Sequence[DbVal], *, table: str | None = None, ctx=None) -> None:
        raise NotImplementedError

    def update(self, keys: Sequence[str], ops: Sequence[str] | None, vals: Sequence[DbVal],
               ukeys: Sequence[str], uvals: Sequence[DbVal], *, table: str | None = None, ctx=None) -> None:
        raise NotImplementedError

    def delete(self, keys: Sequence[str], ops: Sequence[str] | None, vals: Sequence[DbVal], *,
               table: str | None = None, ctx=None) -> None:
        raise NotImplementedError

    def table_version(self, table: str, *, ctx=None) -> int | None:
        """``db_table_version()``: the version recorded for ``table`` in the ``version``
        table, None when there is no row."""
        res = self.query(["table_name"], None, [DbVal(STR, table)], ["table_version"], table="version", ctx=ctx)
        if not res.rows or res.rows[0][0] is None:
            return None
        return int(res.rows[0][0])

    def close(self) -> None:
        pass
