"""How db_redis finds the rows of a WHERE clause (modules/db_redis/redis_dbase.c@5.6.3:252-1166).

For ``keys[i] ops[i] vals[i]`` on a table:

1. **entry key** -- if every column of the table's ``entry`` definition appears
   with ``=`` (and a non-NULL value), that one hash;
2. else the **first mapping type** (definition order) whose columns all appear
   with ``=`` (or a single ``<``/``>`` on a DATETIME/BIGINT column, see 4.):
   ``SMEMBERS <table>:<type>::<values>`` gives the entry keys.  An empty set
   means *no rows* -- no fall-back to a scan;
3. else a **full table scan**: every ``<table>:entry::*`` key.  Kamailio 5.6 uses
   ``KEYS``; kscript uses ``SCAN <cursor> MATCH <pattern> COUNT n`` as Kamailio
   >= 5.8 does (n starts at 1000 and adapts to the page sizes), never ``KEYS``;
4. a ``<``/``>`` on a DATETIME (19-character value) or BIGINT column that is
   part of a mapping type does not use that mapping directly: the type keys are
   scanned with patterns built from character classes (``[3-9]???-??-?? ...``)
   and the members of each matching set are the candidates (a "range scan").

Quirks reproduced: while looking for a key column the caller's column list is
walked *in order* and the walk stops at the first NULL value or non-``=``
operator, even if that column is unrelated -- so a NULL earlier in the list
makes the key unusable; the candidate keys are taken in the reverse of the
order Redis returned them (Kamailio prepends each to its list).

The rows found are then **re-filtered client-side** (:func:`compare`) on the
"manual" columns: all WHERE columns after a scan or a mapping lookup, the
WHERE columns listed *before* the last entry-key column for an entry-key
lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..api import (BIGINT, BITMAP, DATETIME, DOUBLE, INT, OP_BITWISE_AND, OP_EQ, OP_GEQ, OP_GT, OP_LEQ, OP_LT,
                   OP_NEQ, STR, STRING, UBIGINT, DbError)
from .layout import c_atof, c_atoi, c_atoll, format_datetime, val2str
from .schema import Table

__all__ = ["Plan", "TsScan", "find_query_key", "build_entry_key", "build_type_keys", "plan_query", "scan_keys",
           "compare", "manual_entry_keys", "range_patterns", "SCAN_COUNT", "RANGE_SCAN_COUNT"]

SCAN_COUNT = 1000
RANGE_SCAN_COUNT = 5000
TIMESTAMP_LEN = 19
_RANGE_TYPES = (DATETIME, BIGINT, UBIGINT)


@dataclass
class TsScan:
    """A range scan over a mapping type's keys (``ts_scan_start``/``ts_scan_key``)."""

    key: str  # the type key with the compared value in it
    offset: int  # where the value starts in ``key``
    length: int  # value length
    lt: bool  # "<" (else ">")
    variable: bool  # BIGINT (variable length) vs DATETIME


@dataclass
class Plan:
    """Where the candidate rows of a WHERE clause are."""

    keys: list[str] = field(default_factory=list)  # entry keys to read
    manual: list[int] = field(default_factory=list)  # indexes of WHERE columns to re-check
    do_scan: bool = False  # no key found: scan the table
    ts: TsScan | None = None  # range scan instead of a full scan
    how: str = ""  # "entry", "mapping:<type>", "empty:<type>", "scan", "range:<type>", "none"


class _TsState:
    __slots__ = ("start", "info")

    def __init__(self):
        self.start = False
        self.info: tuple | None = None  # (offset_end, length, lt, variable)


def find_query_key(table: Table, tname: str, keycols, k, v, ops, ts: _TsState | None):
    """``db_redis_find_query_key``: (key name, found).  The key name is built even when
    not found (the value-less ``<table>:<type>`` form) as Kamailio does."""
    prefix = table.version_code
    name = table.name
    key_name: str | None = None
    found = True
    n = len(k)
    for kc in (keycols or ()):
        sub = False
        for i in range(n):
            vt, vv = v[i]
            op = ops[i] if ops is not None else None
            if vv is None:
                break  # "Skipping null value for given key"
            if op is not None and op != OP_EQ and not (vt in _RANGE_TYPES and (op == OP_LT or op == OP_GT)):
                break  # "Skipping non-EQ op"
            if k[i] == kc:
                val = val2str(vt, vv)
                if val is None:
                    break
                if key_name is None:
                    key_name = f"{prefix}{name}:{tname}::{val}"
                else:
                    key_name = f"{key_name}:{val}"
                if op is not None and vt in _RANGE_TYPES and (op == OP_LT or op == OP_GT):
                    if ts is None:
                        break  # table scans not supported here: the type is unusable
                    if not ts.start:
                        if vt == DATETIME and len(val) == TIMESTAMP_LEN:
                            ts.start = True
                            ts.info = (len(key_name), TIMESTAMP_LEN, op == OP_LT, False)
                            found = False  # forces a (range) table scan using this key
                        elif vt in (BIGINT, UBIGINT):
                            ts.start = True
                            ts.info = (len(key_name), len(val), op == OP_LT, True)
                            found = False
                sub = True
                break
        if not sub:
            key_name = None
            found = False
            break
    if key_name is None:
        key_name = f"{prefix}{name}:{tname}"
    return key_name, found


def build_entry_key(table: Table, k, v) -> str:
    """The entry key of an insert (``db_redis_build_entry_keys``); raises DbError."""
    _require_keyed(table)
    key, found = find_query_key(table, "entry", table.entry_keys, k, v, None, None)
    if not found:
        raise DbError("Failed to create direct entry key, no matching key definition")
    return key


def build_type_keys(table: Table, k, v) -> tuple[list[str], list[str]]:
    """Mapping keys (and their index keys) of a row (``db_redis_build_type_keys``):
    one per type whose columns are all present and non-NULL."""
    tkeys: list[str] = []
    skeys: list[str] = []
    prefix = table.version_code
    for tname, cols in table.types:
        key, found = find_query_key(table, tname, cols, k, v, None, None)
        if found:
            tkeys.append(key)
            skeys.append(f"{prefix}{table.name}::index::{tname}")
    return tkeys, skeys


def manual_entry_keys(table: Table, k) -> list[int]:
    """``db_redis_build_entry_manual_keys``: the WHERE columns listed before the last
    entry-key column found (all of them if an entry-key column is missing)."""
    manual: list[int] = []
    for kc in (table.entry_keys or ()):
        manual = []
        found = False
        for i, kk in enumerate(k):
            if kk == kc:
                found = True
                break
            manual.append(i)
        if not found:
            break
    return manual


def _require_keyed(table: Table) -> None:
    if not table.keyed:
        # Kamailio 5.6 reads an uninitialised key prefix for a table that has a schema but
        # no keys definition; in practice the key allocation fails.
        raise DbError(f"Failed to allocate key memory (table '{table.name}' has no definition in the "
                      f"db_redis 'keys' modparam)")


def plan_query(conn, table: Table, k, v, ops, *, update: bool = False) -> Plan:
    """``db_redis_build_query_keys`` plus the decision of the callers: runs the
    ``SMEMBERS`` of a usable mapping on ``conn``."""
    plan = Plan()
    if not k:
        plan.do_scan = not update  # update with no WHERE: Kamailio neither scans nor updates
        plan.how = "scan" if plan.do_scan else "none"
        return plan
    _require_keyed(table)
    plan.do_scan = True
    key, found = find_query_key(table, "entry", table.entry_keys, k, v, ops, None)
    if found:
        plan.keys = [key]
        plan.how = "entry"
    else:
        ts = _TsState()
        ts_key = None
        ts_type = None
        for tname, cols in table.types:
            key, found = find_query_key(table, tname, cols, k, v, ops, ts)
            if found:
                members = conn.command("SMEMBERS", key)
                if not members:
                    plan.do_scan = False
                    plan.how = f"empty:{tname}"
                else:
                    plan.keys = list(reversed(members))
                    plan.how = f"mapping:{tname}"
                break
            if ts.start and ts_key is None:
                ts_key = key
                ts_type = tname
        if not plan.keys and plan.do_scan and ts.start and ts_key is not None:
            off_end, length, lt, variable = ts.info
            plan.ts = TsScan(ts_key, off_end - length, length, lt, variable)
            plan.how = f"range:{ts_type}"
        elif not plan.how:
            plan.how = "scan"
    if plan.keys:
        plan.manual = manual_entry_keys(table, k)
    return plan


# ---------------------------------------------------------------- scanning
def _scan_pattern(conn, pattern: str, start_count: int, out: list[str]) -> None:
    """``SCAN`` through all keys matching ``pattern`` (Kamailio >= 5.8's loop: COUNT
    halves above 1300 results per page, doubles below 700)."""
    cursor = "0"
    count = start_count
    while True:
        reply = conn.command("SCAN", cursor, "MATCH", pattern, "COUNT", str(count))
        if not isinstance(reply, list) or len(reply) != 2:
            raise DbError(f"Invalid reply type for scan on table '{pattern}', expected array")
        cursor = str(reply[0])
        batch = reply[1] or []
        out.extend(batch)
        nb = len(batch)
        if nb > 1300 and count > 500:
            count //= 2
        elif nb < 700 and count < 500000:
            count *= 2
        if cursor == "0":
            break


def range_patterns(ts: TsScan) -> list[str]:
    """The ``MATCH`` patterns of a range scan (``db_redis_scan_query_keys``)."""
    key = ts.key
    off, length = ts.offset, ts.length
    suffix = key[off + length:]
    pats: list[str] = []
    lt, variable = ts.lt, ts.variable
    if lt and variable:
        # shorter numbers: the value's first i+1 characters with digits as '?', for i >= 10
        # (Kamailio's minimum BIGINT print width), then the rest of the key
        for i in range(length - 1):
            ch = key[off + i]
            if not ("0" <= ch <= "9") or i < 10:
                continue
            head = "".join("?" if "0" <= c <= "9" else c for c in key[off:off + i + 1])
            pats.append(key[:off] + head + suffix)
    for i in range(length):
        pos = off + i
        ch = key[pos]
        if not ("0" <= ch <= "9"):
            continue
        if ch == "0" and lt:
            continue
        if ch == "1" and lt and i == 0:
            continue
        if ch == "9" and not lt:
            continue
        head = key[:pos]
        cls = f"[0-{chr(ord(ch) - 1)}]" if lt else f"[{chr(ord(ch) + 1)}-9]"
        tail = []
        for j in range(i + 1, length):
            c2 = key[off + j]
            tail.append(c2 if not ("0" <= c2 <= "9") else "?")
        pats.append(head + cls + "".join(tail) + suffix)
    if not lt and variable:
        pats.append(key[:off + length] + "*" + suffix)
    return pats


def scan_keys(conn, table: Table, ts: TsScan | None = None) -> list[str]:
    """All candidate entry keys of a (full or range) table scan, in Kamailio's order."""
    found: list[str] = []
    if ts is None:
        _scan_pattern(conn, f"{table.version_code}{table.name}:entry::*", SCAN_COUNT, found)
    else:
        sets: list[str] = []
        for pat in range_patterns(ts):
            _scan_pattern(conn, pat, RANGE_SCAN_COUNT, sets)
        sets = list(reversed(_dedupe(sets)))
        for sk in sets:
            members = conn.command("SMEMBERS", sk)
            found.extend(members or [])
    # Kamailio prepends every key to its list; SCAN may repeat a key during a rehash
    # (5.8 would then return the row twice) -- kscript keeps the first occurrence.
    return list(reversed(_dedupe(found)))


def _dedupe(items: list[str]) -> list[str]:
    seen = set()
    out = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


# ---------------------------------------------------------------- client-side matching
def _cmp_result(c: int, op: str) -> bool:
    if op == OP_EQ:
        return c == 0
    if op == OP_LT:
        return c < 0
    if op == OP_GT:
        return c > 0
    if op == OP_LEQ:
        return c <= 0
    if op == OP_GEQ:
        return c >= 0
    if op == OP_NEQ:
        return c != 0
    return False  # "Unsupported op type": the row does not match


def _num(a, b, op: str) -> bool:
    if op == OP_BITWISE_AND:
        return (a & b) != 0
    return _cmp_result((a > b) - (a < b), op)


def _strcmp(a: str, b: str) -> int:
    return (a > b) - (a < b)


def compare(vt: str, vv, op: str, reply, exact_str: bool = False) -> bool:
    """``db_redis_compare_column``: does the stored ``reply`` (str or None) satisfy
    ``column op value``?

    INT/BITMAP compare ``atoi(stored)``, BIGINT ``atoll``, DOUBLE ``atof``; STRING
    compares with ``strcmp``; **STR with ``strncmp(stored, value, len(value))`` -- a
    prefix match** (``alice`` matches a stored ``alice2``) -- unless ``exact_str``
    (kscript uses exact matching for updates and deletes, see :mod:`.ops`);
    DATETIME compares the formatted local time strings.  NULL matches only a
    missing field; ``&`` is bitwise-and for the integer types.  UINT and UBIGINT
    values are not supported by Kamailio 5.6's comparison: they never match.
    """
    if vv is None and reply is None:
        return True
    if vv is None or reply is None:
        return False
    if vt == INT or vt == BITMAP:
        return _num(c_atoi(reply), int(vv), op)
    if vt == STR:
        if exact_str:
            return _cmp_result(_strcmp(reply, vv), op)
        return _cmp_result(_strcmp(reply[:len(vv)], vv), op)
    if vt == STRING:
        return _cmp_result(_strcmp(reply, vv), op)
    if vt == DATETIME:
        return _cmp_result(_strcmp(reply, format_datetime(vv)), op)
    if vt == BIGINT:
        return _num(c_atoll(reply), int(vv), op)
    if vt == DOUBLE:
        a, b = c_atof(reply), float(vv)
        return _cmp_result((a > b) - (a < b), op)
    # UINT, UBIGINT, BLOB: "Unsupported val type" -- Kamailio 5.6 never matches them
    return False
