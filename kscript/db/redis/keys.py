"""The db_redis ``keys`` modparam (modules/db_redis/redis_table.c@5.6.3:489-651, 878-907).

Syntax (several ``keys`` modparams are joined with ``;`` in cfg order)::

    [<prefix>:]<table>=<type>:<col>[,<col>...][&<type>:<col>[,<col>...]...][;<next table>...]

* ``entry`` as the type names the *entry key* (the hash holding one row); any
  other type name defines a *mapping set*; columns are taken in the order given
  (the order of the values in the key);
* an optional ``<prefix>:`` before the table name (up to the first ``:``) is a
  "version code" prepended verbatim to every key of the table;
* the table must have a schema file ("No table schema found for table ...");
* nothing is trimmed (``location = entry:ruid`` names table ``"location "``);
  empty column names are skipped;
* a ``keys`` value ending with ``;`` followed by another ``keys`` modparam
  produces ``;;`` and the next table name then starts with ``;`` -- a start-up
  error in Kamailio, and here.

Not reproduced: Kamailio 5.6 links the columns/types of a table that appears
twice in the spec through global "last element" pointers, so a second ``entry``
definition for a table can land in another table's list; kscript appends to
the table's own lists.
"""

from __future__ import annotations

from .schema import SchemaError, Table

__all__ = ["join_keys", "parse_keys", "KeysError"]


class KeysError(SchemaError):
    pass


def join_keys(values: list[str]) -> str:
    """The ``keys`` modparams joined as ``db_redis_keys_spec`` does."""
    return ";".join(values)


def parse_keys(spec: str, tables: dict[str, Table]) -> None:
    """Apply a joined keys spec to the schema ``tables`` (in place); raises KeysError."""
    if not spec:
        raise KeysError("Failed to parse empty 'keys' mod-param, please define it!")
    end = len(spec)
    p = start = 0
    state = "table"
    table: Table | None = None
    target: list[str] | None = None
    while True:
        if state == "table":
            while p != end and spec[p] != "=":
                p += 1
            if p == end:
                raise KeysError("Invalid table definition, expecting <table>=<definition>")
            name = spec[start:p]
            version_code = ""
            q = name.find(":")
            if q >= 0:
                version_code = name[:q + 1]
                name = name[q + 1:]
            p += 1
            start = p
            state = "type"
            t = tables.get(name)
            if t is None:
                raise KeysError(f"No table schema found for table '{name}', fix config by adding one to the "
                                f"'schema' mod-param!")
            table = t
            table.version_code = version_code
            table.keyed = True
        elif state == "type":
            while p != end and spec[p] != ":":
                p += 1
            if p == end:
                raise KeysError("Invalid type definition, expecting <type>:<definition>")
            tname = spec[start:p]
            p += 1
            start = p
            state = "column"
            assert table is not None
            if tname == "entry":
                if table.entry_keys is None:
                    table.entry_keys = []
                target = table.entry_keys
            else:
                cols: list[str] = []
                table.types.append((tname, cols))
                target = cols
        elif state == "column":
            while p != end and spec[p] not in ",&;":
                p += 1
            if p == end:
                state = "end"
            elif spec[p] == ",":
                state = "column"
            elif spec[p] == "&":
                state = "type"
            else:
                state = "table"
            col = spec[start:p]
            p += 1
            start = p
            if col and target is not None:
                target.append(col)
        else:  # end
            return
        if p == end:
            return
