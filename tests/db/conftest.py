"""Fixtures of the db_redis tests: connections on an embedded (fakeredis) server and,
when ``redis-server`` is installed, on a real one started for the session."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from dbr_support import FakeScript, _free_port, make_tables
from kscript.db.redis import RedisDbConnection
from kscript.db.url import parse_db_url


@pytest.fixture(scope="session")
def real_redis():
    """A redis-server on a free loopback port for the session: yields the port."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    d = tempfile.mkdtemp(prefix="kscript-dbr-")
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.time() - t0 > 10 or proc.poll() is not None:
                proc.kill()
                pytest.skip("redis-server did not start")
            time.sleep(0.05)
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(params=["embedded", "real"])
def dbconn(request):
    """A db_redis connection (table definitions from ``KEYS``) on an empty Redis, with
    ``.trace`` recording every command sent; both on fakeredis and on a real server."""
    if request.param == "real":
        port = request.getfixturevalue("real_redis")
        script = FakeScript("cfg")
        url = parse_db_url(f"redis://127.0.0.1:{port}/3")
    else:
        script = FakeScript("embedded")
        url = parse_db_url("redis://127.0.0.1:6379/0")
    conn = RedisDbConnection(script, url, make_tables())
    conn.conn.command("FLUSHDB")
    conn.trace = []
    yield conn
    conn.close()


