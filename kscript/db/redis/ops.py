"""db_redis's query, insert, update and delete (modules/db_redis/redis_dbase.c@5.6.3:1450-2946).

**query** -- the planner's candidate keys (:mod:`.planner`), then per key, pipelined
in batches of 1000: ``EXISTS <key>`` and ``HMGET <key> <manual cols...> <result
cols...>`` (``HGETALL`` when both lists are empty); a key that does not exist is
skipped; rows failing the client-side re-check are dropped; result columns are
typed from the schema (a missing field is NULL).

**insert** -- ``HMSET <entry key> col val ...`` with exactly the caller's columns in
the caller's order (NULL stored as ""), then for every mapping type whose
columns are all present and non-NULL ``SADD <type key> <entry key>`` and
``SADD <table>::index::<type> <type key>``.  A missing/NULL entry-key column
fails the insert ("Failed to create direct entry key").

**update** -- for every candidate: ``EXISTS`` + ``HMGET <manual cols> <all mapping
cols>`` (pipelined), re-check, ``HMSET <entry key> <updated cols>``; for each
mapping type of the row whose key changes *and* whose columns are all among the
updated ones: ``SADD <new type key> <entry key>``, ``SADD <index> <new type key>``
and ``EVAL <lua> 3 <old type key> <index> <entry key>`` (the server-side script
removing the entry from the old set, and the old set from the index once empty).
The entry key is never renamed.  An update without WHERE columns does nothing.

**delete** -- for every candidate: ``EXISTS``, ``HMGET <manual cols> <all mapping
cols>``, re-check, ``DEL <entry key>``, then per mapping type of the row
``EVALSHA <sha of the lua> 3 <type key> <index> <entry key>``.

Every full (or range) table scan logs Kamailio's warning naming the table and the
WHERE columns, and is counted in ``ctx.data["db_full_scans"]``.

Deliberate differences from 5.6 (documented in docs/db_redis.md):

* scans use ``SCAN`` (as Kamailio >= 5.8), never ``KEYS``, and a key returned
  twice by SCAN is read once;
* Kamailio compares counted-string (``STR``) values with ``strncmp(stored, value,
  len(value))``, so ``username=alice`` also matches ``alice2``.  Queries keep this
  prefix match; **updates and deletes compare exactly**, because the prefix match
  would overwrite or delete other users' rows;
* insert's commands are pipelined (one round trip; same commands, same order).
"""

from __future__ import annotations

from ..api import OP_EQ, DbError, DbResult, count_full_scan
from .layout import ConversionError, str2val, val2str
from .planner import (Plan, build_entry_key, build_type_keys, compare, plan_query, scan_keys)
from .schema import Table

__all__ = ["SREM_KEY_LUA", "do_query", "do_insert", "do_update", "do_delete", "BATCH"]

#: db_redis's set-cleanup script (redis_dbase.h@5.6.3:28)
SREM_KEY_LUA = ("redis.call('SREM', KEYS[1], KEYS[3]); if redis.call('SCARD', KEYS[1]) == 0 then "
                "redis.call('SREM', KEYS[2], KEYS[1]) end")

BATCH = 1000


def _check(reply):
    """``db_redis_check_reply``: an error reply fails the operation."""
    from ...redis_backend import ReplyError
    if isinstance(reply, ReplyError):
        raise DbError(f"Failed to fetch type entry: {reply}")
    return reply


def _warn_scan(db, ctx, table: Table, what: str, k, plan: Plan, delete: bool = False) -> None:
    if plan.ts is not None and delete:
        db.log(ctx, "WARN", f"performing table scan on table '{table.name}' while performing delete using "
                            f"match key '{plan.ts.key}' at offset {_ts_offset_hex(plan)}")
    elif k or what != "doing the query":
        db.log(ctx, "WARN", f"performing full table scan on table '{table.name}' while {what}")
    else:
        db.log(ctx, "DBG", f"loading full table: '{table.name}")
    for i, col in enumerate(k):
        db.log(ctx, "WARN", f"  scan key {i} is '{col}'")
    count_full_scan(ctx)
    db.note_scan(table.name, list(k), what)


def _ts_offset_hex(plan: Plan) -> str:
    ts = plan.ts
    v = (ts.offset + ts.length) | (ts.length << 31)
    if ts.variable:
        v |= 0x4000000000000000
    if ts.lt:
        v |= 0x8000000000000000
    return "%x" % v


def _filter(k, v, ops, manual, reply, exact_str: bool) -> bool:
    for col in range(len(manual)):
        idx = manual[col]
        vt, vv = v[idx]
        op = ops[idx] if ops is not None else OP_EQ
        if not compare(vt, vv, op, reply[col], exact_str):
            return False
    return True


# ---------------------------------------------------------------- query
def do_query(db, table: Table, k, ops, v, cols, ctx=None) -> DbResult:
    conn = db.conn
    plan = plan_query(conn, table, k, v, ops)
    keys = plan.keys
    manual = plan.manual
    if not keys and plan.do_scan:
        _warn_scan(db, ctx, table, "doing the query", k, plan)
        keys = scan_keys(conn, table, plan.ts)
        manual = list(range(len(k)))
    res = DbResult(list(cols), [])
    if not keys:
        return res
    nm = len(manual)
    mcols = [k[i] for i in manual]
    fields = mcols + list(cols)
    types = None
    rows = res.rows
    for start in range(0, len(keys), BATCH):
        chunk = keys[start:start + BATCH]
        cmds = []
        for key in chunk:
            cmds.append(("EXISTS", key))
            cmds.append(("HMGET", key, *fields) if fields else ("HGETALL", key))
        replies = conn.pipeline(cmds)
        for j in range(len(chunk)):
            ex = _check(replies[2 * j])
            rep = _check(replies[2 * j + 1])
            if not ex:
                continue
            if not isinstance(rep, list):
                raise DbError("Unexpected reply, expected array")
            if not rep:
                continue  # "skip empty row"
            if nm and not _filter(k, v, ops, manual, rep, False):
                continue
            if len(rep) - nm > len(cols):
                raise DbError(f"Invalid number of columns at row {len(rows) + 1}/{len(rows) + 1}, expecting "
                              f"{len(cols)}, got {len(rep) - nm}")
            if types is None:
                types = [table.column_type(c) for c in cols]
                res.types = types
            row = []
            for ci in range(len(cols)):
                raw = rep[nm + ci]
                if raw is None:
                    row.append(None)
                    continue
                try:
                    row.append(str2val(types[ci], raw))
                except ConversionError as e:
                    raise DbError(f"Failed to convert redis column '{cols[ci]}' to db value ({e})") from None
            rows.append(row)
    if types is None:
        res.types = [table.columns.get(c, "") for c in cols]
    return res


# ---------------------------------------------------------------- insert
def do_insert(db, table: Table, k, v, ctx=None) -> None:
    entry = build_entry_key(table, k, v)
    tkeys, skeys = build_type_keys(table, k, v)
    args = ["HMSET", entry]
    for i in range(len(k)):
        vt, vv = v[i]
        s = val2str(vt, vv)
        args.append(k[i])
        args.append("" if s is None else s)
    cmds = [tuple(args)]
    for tk, sk in zip(tkeys, skeys):
        cmds.append(("SADD", tk, entry))
        cmds.append(("SADD", sk, tk))
    for r in db.conn.pipeline(cmds):
        _check(r)


# ---------------------------------------------------------------- update
def _type_vals(table: Table, all_cols, rep, nm: int) -> list:
    out = []
    for j, col in enumerate(all_cols):
        raw = rep[nm + j]
        ct = table.column_type(col)
        if raw is None:
            out.append((ct, None))
            continue
        try:
            out.append((ct, str2val(ct, raw)))
        except ConversionError:
            raise DbError("Failed to convert redis reply column to db value") from None
    return out


def do_update(db, table: Table, k, ops, v, uk, uv, ctx=None) -> int:
    """Returns the number of rows updated."""
    conn = db.conn
    plan = plan_query(conn, table, k, v, ops, update=True)
    keys = plan.keys
    manual = plan.manual
    if not keys and plan.do_scan:
        _warn_scan(db, ctx, table, "performing update", k, plan)
        keys = scan_keys(conn, table, plan.ts)
        manual = list(range(len(k)))
    if not keys:
        return 0
    all_cols = table.all_type_columns()
    new_tkeys, _ = build_type_keys(table, uk, uv)
    mcols = [k[i] for i in manual]
    nm = len(manual)
    cmds = []
    for key in keys:
        cmds.append(("EXISTS", key))
        cmds.append(("HMGET", key, *mcols, *all_cols))
    replies = conn.pipeline(cmds)
    out = []
    updated = 0
    hm = ["HMSET", None]
    for i in range(len(uk)):
        vt, vv = uv[i]
        s = val2str(vt, vv)
        hm.append(uk[i])
        hm.append("" if s is None else s)
    for j, key in enumerate(keys):
        ex = _check(replies[2 * j])
        rep = _check(replies[2 * j + 1])
        if not ex:
            continue
        if not isinstance(rep, list):
            raise DbError("Unexpected reply, expected array")
        if nm and not _filter(k, v, ops, manual, rep, True):
            continue
        tvals = _type_vals(table, all_cols, rep, nm)
        tkeys, skeys = build_type_keys(table, all_cols, tvals)
        hm[1] = key
        out.append(tuple(hm))
        updated += 1
        for tk, sk in zip(tkeys, skeys):
            p = tk.find("::")
            if p <= 0:
                continue
            prefix = tk[:p]
            for nk in new_tkeys:
                if nk[:p] != prefix:
                    continue
                if nk == tk:
                    continue
                out.append(("SADD", nk, key))
                out.append(("SADD", sk, nk))
                out.append(("EVAL", SREM_KEY_LUA, "3", tk, sk, key))
    for r in conn.pipeline(out):
        _check(r)
    return updated


# ---------------------------------------------------------------- delete
def do_delete(db, table: Table, k, ops, v, ctx=None) -> int:
    """Returns the number of rows deleted."""
    conn = db.conn
    plan = plan_query(conn, table, k, v, ops)
    keys = plan.keys
    manual = plan.manual
    if not keys and plan.do_scan:
        _warn_scan(db, ctx, table, "performing delete", k, plan, delete=True)
        keys = scan_keys(conn, table, plan.ts)
        manual = list(range(len(k)))
    if not keys:
        return 0
    all_cols = table.all_type_columns()
    mcols = [k[i] for i in manual]
    nm = len(manual)
    deleted = 0
    sha = db.srem_sha
    for key in keys:
        if not _check(conn.pipeline([("EXISTS", key)])[0]):
            continue
        rep = _check(conn.pipeline([("HMGET", key, *mcols, *all_cols)])[0])
        if nm and not _filter(k, v, ops, manual, rep, True):
            continue
        tvals = _type_vals(table, all_cols, rep, nm)
        tkeys, skeys = build_type_keys(table, all_cols, tvals)
        cmds = [("DEL", key)]
        for tk, sk in zip(tkeys, skeys):
            cmds.append(("EVALSHA", sha, "3", tk, sk, key))
        for r in conn.pipeline(cmds):
            _check(r)
        deleted += 1
    return deleted
