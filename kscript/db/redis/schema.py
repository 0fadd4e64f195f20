"""db_redis schema files (modules/db_redis/redis_table.c@5.6.3:654-876).

``schema_path`` is a directory with one file per table, the file name being the
table name.  Line 1: comma-separated ``column/type`` pairs (a trailing comma is
allowed); line 2: the table version (``atoi``, so garbage is 0); ``\\r`` is
ignored anywhere; later lines are ignored.  The column type is chosen by its first
letter (case-insensitive): ``s`` STRING, ``i`` INT, ``u`` UINT (``ub...``
UBIGINT), ``t`` DATETIME, ``d`` DOUBLE, ``b`` BLOB (``bi...`` BIGINT); anything
else is an error.  Entries that are not regular files are skipped.

Any error in any file fails the whole parse (Kamailio: the db_redis connection
cannot be created, so the module using it fails to start).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..api import BIGINT, BLOB, DATETIME, DOUBLE, INT, STRING, UBIGINT, UINT, DbError

__all__ = ["Table", "SchemaError", "column_type", "parse_schema_text", "load_schema"]

LINE_MAX = 4096


class SchemaError(DbError):
    pass


@dataclass
class Table:
    """A table known to db_redis: its schema and (after the ``keys`` parse) its keys."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)  # column -> DB1 type
    version: int = 0
    #: ``<prefix>:`` from the keys definition, prepended to every key (may be "")
    version_code: str = ""
    #: columns of the entry (primary) key, in key order; None: no ``keys`` definition
    entry_keys: list[str] | None = None
    #: mapping types in definition order: [(type name, [columns])]
    types: list[tuple[str, list[str]]] = field(default_factory=list)
    #: True once the ``keys`` modparam mentioned the table
    keyed: bool = False

    def column_type(self, col: str) -> str:
        t = self.columns.get(col)
        if t is None:
            raise DbError(f"Failed to find column '{col}' in schema for table '{self.name}'")
        return t

    def all_type_columns(self) -> list[str]:
        """Columns of all mapping types, in definition order (duplicates kept)."""
        out: list[str] = []
        for _name, cols in self.types:
            out.extend(cols)
        return out


def column_type(type_text: str) -> str:
    """DB1 type of a schema column type (first letter rules)."""
    if not type_text:
        raise SchemaError("Invalid schema column type '', expecting one of string, int, timestamp, double, blob")
    c = type_text[0]
    c2 = type_text[1:2]
    if c in "sS":
        return STRING
    if c in "iI":
        return INT
    if c in "uU":
        return UBIGINT if c2 in ("b", "B") else UINT
    if c in "tT":
        return DATETIME
    if c in "dD":
        return DOUBLE
    if c in "bB":
        return BIGINT if c2 in ("i", "I") else BLOB
    raise SchemaError(f"Invalid schema column type '{type_text}', expecting one of string, int, timestamp, "
                      f"double, blob")


def _atoi(s: str) -> int:
    s = s.lstrip(" \t\n\v\f\r")
    sign = 1
    i = 0
    if s[:1] in ("+", "-") and s:
        sign = -1 if s[0] == "-" else 1
        i = 1
    n = 0
    while i < len(s) and "0" <= s[i] <= "9":
        n = n * 10 + ord(s[i]) - 48
        i += 1
    return sign * n


def parse_schema_text(name: str, text: str) -> Table:
    """Parse one schema file's content (the state machine of ``db_redis_parse_schema``)."""
    table = Table(name)
    state = "column"
    buf: list[str] = []
    column = ""
    i = 0
    n = len(text)
    while True:
        eof = i >= n
        c = "" if eof else text[i]
        i += 1
        if c == "\r":
            continue
        if len(buf) > LINE_MAX:
            raise SchemaError(f"Schema line too long in file {name}")
        if state == "column":
            if eof:
                raise SchemaError(f"Unexpected end of file in schema column name of file {name}")
            if c != "\n" and c != "/":
                buf.append(c)
                continue
            if c == "\n":
                if not buf:
                    state = "version"  # trailing comma
                    continue
                raise SchemaError("Invalid column definition, expecting <column>/<type>")
            column = "".join(buf)
            buf = []
            state = "type"
        elif state == "type":
            if eof:
                raise SchemaError(f"Unexpected end of file in schema column type of file {name}")
            if c != "\n" and c != ",":
                buf.append(c)
                continue
            type_text = "".join(buf)
            buf = []
            state = "version" if c == "\n" else "column"
            if column in table.columns:
                raise SchemaError(f"Found duplicate column definition '{column}' in schema definition of "
                                  f"table '{name}', remove one from schema!")
            table.columns[column] = column_type(type_text)
        elif state == "version":
            if c != "\n" and not eof:
                buf.append(c)
                continue
            table.version = _atoi("".join(buf))
            break
        if eof:
            break
    return table


def load_schema(path: str) -> dict[str, Table]:
    """All tables of the schema directory ``path``; raises SchemaError."""
    if not path:
        raise SchemaError("Failed to parse empty 'schema_path' mod-param, please define it!")
    try:
        names = os.listdir(path)
    except OSError:
        raise SchemaError(f"Failed to open schema directory '{path}'") from None
    tables: dict[str, Table] = {}
    for fname in names:
        full = os.path.join(path, fname)
        if not os.path.isfile(full):
            continue
        try:
            with open(full, "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
        except OSError:
            continue  # "Failed to open redis schema file" (logged, skipped)
        tables[fname] = parse_schema_text(fname, text)
    return tables
