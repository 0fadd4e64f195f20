"""The embedded mode (fakeredis), configuration errors, the Python API and seeding."""

from __future__ import annotations

import pytest

from kscript.errors import ConfigError, KscriptError
from ndb_support import options, script_log


def test_addresses_and_db_indexes_stay_separate(load):
    s = load("""
modparam("ndb_redis", "server", "name=a0;addr=127.0.0.1;port=6379")
modparam("ndb_redis", "server", "name=a1;addr=127.0.0.1;port=6379;db=1")
modparam("ndb_redis", "server", "name=b0;addr=127.0.0.2;port=6379")
modparam("ndb_redis", "server", "name=u;unix=/tmp/none.sock")
request_route {
	redis_cmd("a0", "SET k a0", "r");
	redis_cmd("a1", "SET k a1", "r");
	redis_cmd("b0", "SET k b0", "r");
	redis_cmd("u", "SET k u", "r");
	redis_cmd("a0", "SELECT 1", "r");
	redis_cmd("a0", "GET k", "r");
	xlog("L_INFO", "a0 after SELECT 1 reads $redis(r=>value)\\n");
}
""")
    assert script_log(s.process(options(1))) == ["INFO script: a0 after SELECT 1 reads a1"]
    assert [s.redis(n).get("k") for n in ("a0", "a1", "b0", "u")] == ["a0", "a1", "b0", "u"]
    # a fresh script starts empty
    s2 = load('modparam("ndb_redis", "server", "name=a0;addr=127.0.0.1;port=6379")\n'
              'request_route { xlog("L_INFO", "x\\n"); }\n')
    assert s2.redis("a0").get("k") is None


def test_seed_file(load, tmp_path):
    seed = tmp_path / "seed.redis"
    seed.write_text("""# users
SET user:alice 10.0.0.1
HSET "profile:alice" name "Alice Liddell" age 7
SELECT 2
SET indb2 yes
@other
RPUSH list a "b c"
""")
    s = load("""
modparam("ndb_redis", "server", "name=main;addr=127.0.0.1;port=6379")
modparam("ndb_redis", "server", "name=other;addr=10.0.0.9;port=6379")
modparam("ndb_redis", "server", "name=main2;addr=127.0.0.1;port=6379;db=2")
request_route {
	redis_cmd("main", "GET user:alice", "r");
	redis_cmd("main", "HGET profile:alice name", "h");
	redis_cmd("other", "LRANGE list 0 -1", "l");
	redis_cmd("main2", "GET indb2", "d");
	xlog("L_INFO", "$redis(r=>value) [$redis(h=>value)] $redis(l=>value[1]) $redis(d=>value)\\n");
}
""")
    assert s.seed_redis(seed) == 4
    assert script_log(s.process(options(1))) == ["INFO script: 10.0.0.1 [Alice Liddell] b c yes"]
    bad = tmp_path / "bad.redis"
    bad.write_text("NOSUCHCMD x\n")
    with pytest.raises(KscriptError, match="NOSUCHCMD"):
        s.seed_redis(bad)


def test_reply_api(load):
    s = load('modparam("ndb_redis", "server", "name=s;addr=127.0.0.1;port=6379")\n'
             'request_route { redis_cmd("s", "PING", "r"); }\n')
    s.process(options(1))
    mod = s.modules["ndb_redis"]
    assert mod.reply("r") == b"PONG" and mod.reply("none") is None
    with pytest.raises(KscriptError):
        s.redis("nosuch")


def test_undefined_formats_refused(load):
    s = load("""
modparam("ndb_redis", "server", "name=s;addr=127.0.0.1;port=6379")
request_route {
	redis_cmd("s", "SET k %s %s", "only-one", "r");
	xlog("L_INFO", "missing arg rc=$rc\\n");
	redis_cmd("s", "SET k %d", "1", "r");
	xlog("L_INFO", "printf rc=$rc\\n");
	redis_pipe_cmd("s", "SET k %s", "r");
	xlog("L_INFO", "pipe 3 params %s rc=$rc\\n");
	redis_cmd("s", "SET k %b", "1", "r");
	xlog("L_INFO", "binary rc=$rc\\n");
}
""")
    logs = script_log(s.process(options(1)))
    assert logs[1::2] == ["INFO script: missing arg rc=-1", "INFO script: printf rc=-1",
                          "INFO script: pipe 3 params %s rc=-1", "INFO script: binary rc=-1"]
    assert all(line.startswith("ERR ndb_redis: command ") and "undefined in Kamailio" in line for line in logs[::2])
    assert s.redis("s").get("k") is None


@pytest.mark.parametrize("line,msg", [
    ('modparam("ndb_redis", "server", "addr=127.0.0.1")', "no server name"),
    ('modparam("ndb_redis", "server", "name=a;b=\\"x")', "quoted string"),
    ('modparam("ndb_redis", "cmd_timeout", -5)', "must be >= 0"),
])
def test_config_errors(load, line, msg):
    with pytest.raises(ConfigError, match=msg) as ei:
        load('modparam("ndb_redis", "server", "name=ok;addr=127.0.0.1")\n' + line + "\n"
             'request_route { xlog("L_INFO", "x\\n"); }\n')
    assert ei.value.pos is not None and ei.value.pos.line == 8


def test_no_server(load):
    with pytest.raises(ConfigError, match="no redis servers defined"):
        load('modparam("ndb_redis", "cmd_timeout", 100)\nrequest_route { xlog("L_INFO", "x\\n"); }\n')


@pytest.mark.parametrize("name", ["$redis(r)", "$redis(r=>valu)", "$redis(r=>value[x])", "$redisd(rpl_foo)",
                                  "$redis(r=>value[0] =>type)"])
def test_bad_pv_names_refused(load, name):
    with pytest.raises(ConfigError):
        load('modparam("ndb_redis", "server", "name=s;addr=127.0.0.1")\n'
             f'request_route {{ xlog("L_INFO", "{name}\\n"); }}\n')


def test_bad_mode(load):
    with pytest.raises(ConfigError, match="redis mode"):
        load('modparam("ndb_redis", "server", "name=s;addr=127.0.0.1")\nrequest_route { exit; }\n',
             redis="mysql://x")


def test_password_never_printed(load):
    s = load('modparam("ndb_redis", "server", "name=s;addr=127.0.0.1;pass=Top$ecret")\n'
             'request_route { redis_cmd("s", "PING", "r"); xlog("L_INFO", "$redis(r=>info)\\n"); }\n')
    res = s.process(options(1))
    mod = s.modules["ndb_redis"]
    texts = [repr(mod.param_values), repr(mod.server("s")), repr(mod.server("s").spec), str(mod.server("s").spec),
             repr(mod.servers)] + [r.text for r in res.log + mod.init_log]
    assert not any("Top$ecret" in t for t in texts)
    assert script_log(res) == ["INFO script: PONG"]


def test_any_route_and_persistence_across_messages(load):
    s = load("""
modparam("ndb_redis", "server", "name=s;addr=127.0.0.1")
request_route {
	route(COUNT);
	xlog("L_INFO", "count=$redis(c=>value) previous type=$redis(prev=>type)\\n");
	redis_cmd("s", "ECHO %s", "$ci", "prev");
}
route[COUNT] {
	redis_cmd("s", "INCR counter", "c");
}
""")
    assert script_log(s.process(options(1))) == ["INFO script: count=1 previous type=<null>"]
    assert script_log(s.process(options(2))) == ["INFO script: count=2 previous type=1"]
