"""Sentinel resolution (with a real failover) and TLS, against real processes on loopback."""

from __future__ import annotations

import time

import pytest

from kscript.errors import ConfigError
from kscript.modules.ndb_redis.command import pack_argv
from kscript.modules.ndb_redis.connection import ConnectError, SocketTransport, make_ssl_context
from ndb_support import options, script_log


def sentinel_server(group, master=1, name="srv"):
    sents = ";".join(f"sentinel=127.0.0.1:{s.port}" for s in group.sentinels)
    return (f'modparam("ndb_redis", "server", "name={name};sentinel_group={group.name};'
            f'sentinel_master={master};{sents};db=1")\n')


ROUTE = """
request_route {
	redis_cmd("srv", "INCR n", "r");
	xlog("L_INFO", "incr rc=$rc value=$redis(r=>value) info=$redis(r=>info)\\n");
	redis_cmd("srv", "ROLE", "r");
	xlog("L_INFO", "role=$redis(r=>value[0])\\n");
}
"""


def test_sentinel_replica(load, sentinel_group):
    g = sentinel_group
    s = load(sentinel_server(g, master=0) + ROUTE, redis="cfg")
    srv = s.modules["ndb_redis"].server("srv")
    assert srv.port == g.replica.port
    logs = script_log(s.process(options(1)))
    assert logs[0] == "ERR ndb_redis: Redis error:READONLY You can't write against a read only replica."
    assert logs[-1] == "INFO script: role=slave"


def test_sentinel_master_and_failover(load, sentinel_group):
    g = sentinel_group
    s = load(sentinel_server(g) + 'modparam("ndb_redis", "connect_timeout", 300)\n' + ROUTE, redis="cfg")
    srv = s.modules["ndb_redis"].server("srv")
    assert (srv.addr, srv.port) == ("127.0.0.1", g.master.port)
    assert script_log(s.process(options(1))) == ["INFO script: incr rc=1 value=1 info=<null>",
                                                 "INFO script: role=master"]
    g.replica.cli("WAIT", "1", "2000")  # the write has reached the replica
    time.sleep(0.1)
    g.master.kill()
    g.wait_master(g.replica.port)
    # the next redis_cmd fails on the dead connection, reconnects through the sentinels
    # (now naming the promoted replica) and retries there
    res = s.process(options(2))
    assert script_log(res) == ["INFO script: incr rc=1 value=2 info=<null>", "INFO script: role=master"]
    assert (srv.addr, srv.port) == ("127.0.0.1", g.replica.port)


def test_sentinel_unreachable_falls_back_to_addr(load, redis_server):
    s = load(f'modparam("ndb_redis", "server", "name=srv;addr=127.0.0.1;port={redis_server.port};'
             f'sentinel_group=g;sentinel=127.0.0.1:1")\n' + ROUTE, redis="cfg")
    assert script_log(s.process(options(1)))[0] == "INFO script: incr rc=1 value=1 info=<null>"


def test_sentinel_embedded(load):
    s = load('modparam("ndb_redis", "server", "name=srv;sentinel_group=g;sentinel=127.0.0.1:26379")\n' + ROUTE)
    assert script_log(s.process(options(1)))[0] == "INFO script: incr rc=1 value=1 info=<null>"


# ---------------------------------------------------------------- TLS
TLS_ROUTE = """
request_route {
	redis_cmd("srv", "SET tls:k %s", "over tls", "r");
	redis_cmd("srv", "GET tls:k", "r");
	xlog("L_INFO", "rc=$rc value=$redis(r=>value)\\n");
}
"""


def test_tls_ca_path(tls_redis):
    """``ca_path`` (a directory of hashed CA certificates, as Kamailio 5.8+ takes it)."""
    t = SocketTransport.open("127.0.0.1", tls_redis.port, ssl_ctx=make_ssl_context(str(tls_redis.ca_dir)))
    assert t.call(pack_argv("PING")) == b"PONG"
    t.close()
    # a CA that did not sign the server certificate is refused
    with pytest.raises(ConnectError, match="SSL error"):
        SocketTransport.open("127.0.0.1", tls_redis.port, ssl_ctx=make_ssl_context(None))


def test_tls_server_attribute(load, tls_redis, monkeypatch):
    """``tls=1`` on the server; the CA comes from OpenSSL's default locations (SSL_CERT_FILE),
    since a 5.6 cfg cannot set ``ca_path`` (Kamailio 5.6.3 has no such parameter)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_redis.ca_file))
    s = load(f'modparam("ndb_redis", "server", "name=srv;addr=127.0.0.1;port={tls_redis.port};tls=1;db=2")\n'
             + TLS_ROUTE, redis="cfg")
    assert script_log(s.process(options(1))) == ["INFO script: rc=1 value=over tls"]
    assert s.redis("srv").get("tls:k") == "over tls"


def test_tls_url_mode(load, tls_redis, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_redis.ca_file))
    s = load('modparam("ndb_redis", "server", "name=srv;addr=10.1.1.1;port=6379")\n' + TLS_ROUTE,
             redis=f"rediss://127.0.0.1:{tls_redis.port}")
    assert script_log(s.process(options(1))) == ["INFO script: rc=1 value=over tls"]


def test_tls_without_tls_attribute_fails(load, tls_redis):
    with pytest.raises(ConfigError):
        load(f'modparam("ndb_redis", "server", "name=srv;addr=127.0.0.1;port={tls_redis.port}")\n'
             'modparam("ndb_redis", "cmd_timeout", 300)\n' + TLS_ROUTE, redis="cfg")
