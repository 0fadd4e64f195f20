"""cluster=1 against a real 3-master Redis Cluster on loopback (password-protected).

Kamailio follows one ``MOVED <slot> host:port`` per command to the server *named*
``host:port``; with ``allow_dynamic_nodes=1`` it creates that server.  kscript's
dynamic servers inherit the password (and TLS) of the server that got the reply
-- Kamailio 5.6.3 creates them without, so they fail with NOAUTH on a protected
cluster (deliberate difference, checked below).
"""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from ndb_support import options, script_log

PASS = "cpass"


@pytest.fixture(scope="module")
def cluster(redis_cluster):
    """(nodes, {node_port: key owned by that node})."""
    ranges = {}
    out = redis_cluster[0].cli("-a", PASS, "--no-auth-warning", "CLUSTER", "SLOTS")
    lines = out.split()
    # CLUSTER SLOTS flattened by redis-cli: start end ip port id ... per range
    i = 0
    while i + 4 < len(lines):
        start, end, port = int(lines[i]), int(lines[i + 1]), int(lines[i + 3])
        ranges[(start, end)] = port
        i += 5
    keys = {}
    n = 0
    while len(keys) < 3:
        k = f"key{n}"
        slot = key_slot(k.encode())
        for (a, b), port in ranges.items():
            if a <= slot <= b and port not in keys:
                keys[port] = k
        n += 1
    return redis_cluster, keys


def cfg(entry_port, dynamic=1, extra_nodes=(), password=PASS):
    out = ['modparam("ndb_redis", "cluster", 1)',
           f'modparam("ndb_redis", "allow_dynamic_nodes", {dynamic})',
           f'modparam("ndb_redis", "server", "name=127.0.0.1:{entry_port};addr=127.0.0.1;port={entry_port}'
           f'{";pass=" + password if password else ""}")']
    for p in extra_nodes:
        out.append(f'modparam("ndb_redis", "server", "name=127.0.0.1:{p};addr=127.0.0.1;port={p};pass={PASS}")')
    return "\n".join(out) + "\n"


def route(entry_port, keys):
    body = "request_route {\n"
    for port, k in sorted(keys.items()):
        body += (f'\tredis_cmd("127.0.0.1:{entry_port}", "SET {k} v{port}", "r");\n'
                 f'\txlog("L_INFO", "SET {k}: rc=$rc info=$redis(r=>info)\\n");\n'
                 f'\tredis_cmd("127.0.0.1:{entry_port}", "GET {k}", "r");\n'
                 f'\txlog("L_INFO", "GET {k}: rc=$rc value=$redis(r=>value)\\n");\n')
    body += ('\tredis_pipe_cmd("127.0.0.1:%d", "PING", "p");\n'
             '\txlog("L_INFO", "pipe rc=$rc\\n");\n'
             '\tredis_execute("127.0.0.1:%d");\n'
             '\txlog("L_INFO", "execute rc=$rc\\n");\n}\n') % (entry_port, entry_port)
    return body


def test_moved_followed_with_dynamic_nodes(load, cluster):
    nodes, keys = cluster
    entry = nodes[0].port
    s = load(cfg(entry) + route(entry, keys), redis="cfg")
    res = s.process(options(1))
    logs = script_log(res)
    for port, k in keys.items():
        assert f"INFO script: SET {k}: rc=1 info=OK" in logs
        assert f"INFO script: GET {k}: rc=1 value=v{port}" in logs
    assert logs[-4:] == ["ERR ndb_redis: Pipelining is not supported if cluster parameter is enabled",
                         "INFO script: pipe rc=-1",
                         "ERR ndb_redis: Pipelining is not supported if cluster parameter is enabled",
                         "INFO script: execute rc=-1"]
    # the keys really are on their nodes, and the dynamic servers now exist by name
    for port, k in keys.items():
        assert nodes[[n.port for n in nodes].index(port)].client(password=PASS).get(k) == f"v{port}"
    mod = s.modules["ndb_redis"]
    assert {f"127.0.0.1:{p}" for p in keys} <= set(mod.servers)
    assert s.redis(f"127.0.0.1:{entry}").get(keys[nodes[2].port]) == f"v{nodes[2].port}"


def test_moved_without_dynamic_nodes(load, cluster):
    nodes, keys = cluster
    entry = nodes[0].port
    other = nodes[1].port
    k = keys[other]
    s = load(cfg(entry, dynamic=0) + f"""
request_route {{
	redis_cmd("127.0.0.1:{entry}", "GET {k}", "r");
	xlog("L_INFO", "rc=$rc type=$redis(r=>type)\\n");
}}
""", redis="cfg")
    logs = script_log(s.process(options(1)))
    assert logs[0] == f"ERR ndb_redis: No Connection with name (127.0.0.1:{other})"
    assert logs[1].startswith("ERR ndb_redis: Redis error:MOVED ") and logs[1].endswith(f" 127.0.0.1:{other}")
    assert logs[2] == "INFO script: rc=-1 type=6"


def test_moved_to_declared_node(load, cluster):
    nodes, keys = cluster
    entry = nodes[0].port
    s = load(cfg(entry, dynamic=0, extra_nodes=[n.port for n in nodes[1:]]) + route(entry, keys), redis="cfg")
    logs = script_log(s.process(options(1)))
    for port, k in keys.items():
        assert f"INFO script: GET {k}: rc=1 value=v{port}" in logs


def test_dynamic_node_inherits_password(load, cluster):
    nodes, keys = cluster
    entry = nodes[0].port
    k = keys[nodes[2].port]
    s = load(cfg(entry) + f"""
request_route {{
	redis_cmd("127.0.0.1:{entry}", "INCR {k}:n", "r");
	xlog("L_INFO", "rc=$rc\\n");
}}
""", redis="cfg")
    logs = script_log(s.process(options(1)))
    # Kamailio 5.6.3: the dynamic node gets no AUTH -> "Redis error:NOAUTH Authentication required." and -1
    assert logs == ["INFO script: rc=1"]


def test_cluster_embedded_is_one_keyspace(load):
    s = load(cfg(7000, password=None) + 'modparam("ndb_redis", "server", "name=127.0.0.1:7001;addr=127.0.0.1;port=7001")\n' + """
request_route {
	redis_cmd("127.0.0.1:7000", "SET a 1", "r");
	redis_cmd("127.0.0.1:7001", "GET a", "r");
	xlog("L_INFO", "a=$redis(r=>value)\\n");
}
""")
    assert script_log(s.process(options(1))) == ["INFO script: a=1"]
