"""Fixtures for the ndb_redis tests: real redis-server processes on free loopback ports.

* ``redis_factory`` -- start any number of plain servers (stop/kill/restart them);
* ``redis_server`` -- a plain server (shared by the session), flushed for each test;
* ``redis_cluster`` (session) -- three cluster masters joined with ``redis-cli --cluster create``;
* ``sentinel_group`` -- master + replica + three sentinels with short timeouts;
* ``tls_redis`` (session) -- a TLS-only server, CA and certificate made with openssl;
* ``load`` -- write a cfg (header with ndb_redis already loaded) and ``kscript.load`` it.

Every process listens on 127.0.0.1 only, runs in a temporary directory and is
stopped by PID.  The tests skip when ``redis-server`` is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from ndb_support import (HEADER, REDIS_CLI, REDIS_SENTINEL, REDIS_SERVER, RedisProc, SentinelGroup, TlsSetup,
                         _openssl, free_port)


@pytest.fixture
def redis_factory(tmp_path):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    procs: list[RedisProc] = []

    def make(**kw) -> RedisProc:
        p = RedisProc(tmp_path, **kw)
        procs.append(p)
        return p.start()

    yield make
    for p in procs:
        p.stop()


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory):
    """One plain redis-server for the whole session (tests flush what they use)."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    p = RedisProc(tmp_path_factory.mktemp("shared-redis")).start()
    yield p
    p.stop()


@pytest.fixture
def redis_server(shared_redis):
    c = shared_redis.client()
    c.flushall()
    c.close()
    return shared_redis


# ---------------------------------------------------------------- cluster
CLUSTER_PASS = "cpass"


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """Three masters on loopback (password ``cpass``), slots assigned; yields the list of RedisProc."""
    if REDIS_SERVER is None or REDIS_CLI is None:
        pytest.skip("redis-server/redis-cli are not installed")
    tmp = tmp_path_factory.mktemp("cluster")
    nodes = []
    try:
        for _ in range(3):
            port = free_port(need_bus=True)
            p = RedisProc(tmp, port=port, args=["--cluster-enabled", "yes", "--cluster-config-file",
                                                 f"nodes-{port}.conf", "--cluster-node-timeout", "2000",
                                                 "--requirepass", CLUSTER_PASS, "--masterauth", CLUSTER_PASS])
            nodes.append(p.start())
        out = subprocess.run([REDIS_CLI, "-a", CLUSTER_PASS, "--no-auth-warning", "--cluster", "create",
                              *[f"127.0.0.1:{p.port}" for p in nodes],
                              "--cluster-replicas", "0", "--cluster-yes"], capture_output=True, text=True,
                             timeout=30)
        if out.returncode != 0:
            raise RuntimeError("redis-cli --cluster create failed:\n" + out.stdout + out.stderr)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:
            if all("cluster_state:ok" in p.cli("-a", CLUSTER_PASS, "--no-auth-warning", "CLUSTER", "INFO")
                   for p in nodes):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("cluster did not become ok")
        yield nodes
    finally:
        for p in nodes:
            p.stop()


# ---------------------------------------------------------------- sentinel
@pytest.fixture(scope="module")
def sentinel_group(tmp_path_factory):
    """Module-scoped: the replica test runs before the failover test of the module."""
    tmp_path = tmp_path_factory.mktemp("sentinel")
    if REDIS_SERVER is None or REDIS_CLI is None:
        pytest.skip("redis-server/redis-cli are not installed")
    name = "mymaster"
    procs: list[RedisProc] = []
    try:
        master = RedisProc(tmp_path).start()
        procs.append(master)
        replica = RedisProc(tmp_path, args=["--replicaof", "127.0.0.1", str(master.port)]).start()
        procs.append(replica)
        sentinels = []
        for _ in range(3):
            port = free_port()
            d = tmp_path / f"sentinel-{port}"
            d.mkdir()
            conf = d / "sentinel.conf"
            conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {d}\n"
                            f"sentinel monitor {name} 127.0.0.1 {master.port} 2\n"
                            f"sentinel down-after-milliseconds {name} 400\n"
                            f"sentinel failover-timeout {name} 2000\n"
                            f"sentinel parallel-syncs {name} 1\n")
            s = RedisProc(tmp_path, port=port)
            s.command = (lambda c=str(conf): [REDIS_SENTINEL, c, "--sentinel"])  # type: ignore[method-assign]
            s.start()
            procs.append(s)
            sentinels.append(s)
        group = SentinelGroup(master, replica, sentinels, name)
        t0 = time.monotonic()
        while "master_link_status:up" not in replica.cli("INFO", "replication"):
            if time.monotonic() - t0 > 10:
                raise RuntimeError("replica did not sync")
            time.sleep(0.05)
        group.wait_replica_known()
        yield group
    finally:
        for p in procs:
            p.stop()


# ---------------------------------------------------------------- TLS
@pytest.fixture(scope="session")
def tls_redis(tmp_path_factory):
    if REDIS_SERVER is None or shutil.which("openssl") is None:
        pytest.skip("redis-server or openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=kscript test CA", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    ca_dir = d / "cadir"
    ca_dir.mkdir()
    shutil.copy(d / "ca.crt", ca_dir / "ca.crt")
    _openssl("rehash", str(ca_dir), cwd=d)
    p = RedisProc(d, tls=True, args=["--tls-cert-file", str(d / "server.crt"), "--tls-key-file",
                                     str(d / "server.key"), "--tls-ca-cert-file", str(d / "ca.crt"),
                                     "--tls-auth-clients", "no"])
    p.start()
    yield TlsSetup(p, ca_dir, d / "ca.crt")
    p.stop()


# ---------------------------------------------------------------- kscript helpers
@pytest.fixture
def load(tmp_path):
    """``load(body, redis="embedded", header=HEADER, **kw)`` -> Script (closed after the test)."""
    import kscript

    scripts = []
    counter = [0]

    def _load(body: str, redis: str = "embedded", header: str = HEADER, **kw):
        counter[0] += 1
        cfg = tmp_path / f"t{counter[0]}.cfg"
        cfg.write_text(header + body)
        s = kscript.load(str(cfg), redis=redis, **kw)
        scripts.append(s)
        return s

    yield _load
    for s in scripts:
        s.close()


