"""Helpers of the db_redis tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import socket
import time

import pytest

from kscript.db.redis.keys import parse_keys
from kscript.db.redis.schema import load_schema

SCHEMA = "/usr/share/kamailio/db_redis/kamailio"
REF_SCHEMA = "/work/shared/reference/db_redis-schema"
KEYS = ("version=entry:table_name;"
        "location=entry:ruid&usrdom:username,domain&timer:partition,keepalive;"
        "subscriber=entry:username,domain;acc=entry:callid,time")


def schema_path() -> str:
    import os
    for p in (SCHEMA, REF_SCHEMA):
        if os.path.isdir(p):
            return p
    pytest.skip("no db_redis schema files")


class FakeScript:
    """What the Redis layer needs of a Script: a mode and a clock."""

    def __init__(self, mode: str = "embedded"):
        self.redis_mode = mode
        self.clock = time.time


def make_tables(keys: str = KEYS):
    tables = load_schema(schema_path())
    parse_keys(keys, tables)
    return tables


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port



def raw(conn, *args):
    """Run a command on the connection without recording it."""
    t = conn.trace
    conn.trace = None
    try:
        return conn.conn.command(*args)
    finally:
        conn.trace = t
