"""usrloc: memory / write-through / write-back / DB-only modes on db_redis, the expiry timer,
preloading, matching modes, contact ordering."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from reg_support import keyspace, load_reg, register, request, script_logs
from kscript.modules.usrloc import core_hash, double2q
from kscript.testing.clock import Clock, advance_script


def _entries(script) -> dict:
    return {k: v["value"] for k, v in keyspace(script).items() if k.startswith("location:entry::")}


def test_mode0_touches_no_db(tmp_path):
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 0)\n')
    s.process(register())
    assert keyspace(s) == {}
    assert script_logs(s.process(request())) == ["lookup ok ru=sip:alice@127.0.0.1:5081 du=<null>"]


def test_write_through_expiry_timer(tmp_path):
    clock = Clock()
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 1)\nmodparam("usrloc", "use_domain", 1)\n', clock=clock)
    s.process(register(expires="90"))
    assert len(_entries(s)) == 1
    advance_script(s, 60)  # first timer run: not expired yet
    assert len(_entries(s)) == 1
    advance_script(s, 60)  # second run: expired -> deleted from memory and Redis (by ruid)
    assert keyspace(s) == {}
    assert script_logs(s.process(request())) == ["lookup rc=-1"]


def test_write_back_flushes_on_the_timer(tmp_path):
    clock = Clock()
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 2)\nmodparam("usrloc", "use_domain", 1)\n', clock=clock)
    s.process(register())
    assert keyspace(s) == {}
    advance_script(s, 60)
    [row] = _entries(s).values()
    assert row["contact"] == "sip:alice@127.0.0.1:5081"
    s.process(register(cseq=2, contacts=["<sip:alice@127.0.0.1:5081>;q=0.3"]))
    assert next(iter(_entries(s).values()))["q"] == "-1.000000"
    advance_script(s, 60)
    assert next(iter(_entries(s).values()))["q"] == "0.300000"


def test_db_only_timer_deletes_expired_rows_with_a_scan(tmp_path):
    clock = Clock()
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 1)\n', clock=clock)
    s.process(register(expires="60"))
    s.process(register(user="bob", call_id="b1", expires="600"))
    advance_script(s, 61)
    users = sorted(v["username"] for v in _entries(s).values())
    assert users == ["bob"]
    dbr = s.modules["db_redis"]
    assert ("location", ["expires", "expires"], "performing delete") in dbr.full_scans
    assert any("performing full table scan on table 'location' while performing delete" in r.text
               for r in dbr.log_records)


def test_update_position_quirk(tmp_path):
    """A q change that breaks the order moves the contact before the first one whose q
    is not lower (Kamailio's update_contact_pos searches in ascending order)."""
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 0)\n')
    s.process(register(contacts=["<sip:a@1.1.1.1:1>;q=0.9", "<sip:a@1.1.1.1:2>;q=0.5", "<sip:a@1.1.1.1:3>;q=0.1"],
                       user="a"))
    r = s.process(register(cseq=2, contacts=["<sip:a@1.1.1.1:3>;q=0.7"], user="a"))
    assert r.replies[0].header("Contact").split(", ")[0].startswith("<sip:a@1.1.1.1:3>;q=0.7")


def test_desc_time_order(tmp_path):
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 0)\nmodparam("usrloc", "desc_time_order", 1)\n')
    s.process(register(contacts=["<sip:a@1.1.1.1:1>;q=0.9"], user="a"))
    r = s.process(register(cseq=2, contacts=["<sip:a@1.1.1.1:2>;q=0.1"], user="a"))
    assert r.replies[0].header("Contact").startswith("<sip:a@1.1.1.1:2>")


def test_matching_mode_contact_and_callid(tmp_path):
    s = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 0)\nmodparam("usrloc", "matching_mode", 1)\n')
    s.process(register(call_id="c1"))
    r = s.process(register(call_id="c2", cseq=1))  # other Call-ID: a second binding, same URI
    assert r.replies[0].header("Contact").count("sip:alice@127.0.0.1:5081") == 2


def test_q_roundtrip_truncates_like_c():
    assert double2q(0.5999999) == 599 and double2q(-1.0) == -1 and double2q(0.5) == 500
    # q values written as %.6f read back exactly
    assert all(double2q(float('%.6f' % (q / 1000))) == q for q in range(1001))


def test_core_hash_is_kamailios():
    # values computed with Kamailio's core_hash()
    assert core_hash("") == 0
    assert core_hash("alice@127.0.0.1") == core_hash("alice@127.0.0.1")
    assert isinstance(core_hash("ü"), int)


def test_version_check_refuses_a_wrong_schema(tmp_path):
    sch = tmp_path / "schema"
    shutil.copytree("/usr/share/kamailio/db_redis/kamailio", sch)
    (sch / "location").write_text((sch / "location").read_text().replace("\n9\n", "\n8\n"))
    from kscript.errors import ConfigError
    from reg_support import DB_HEAD
    with pytest.raises(ConfigError, match="invalid table version for table 'location'"):
        load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\n',
                 head=DB_HEAD.replace("/usr/share/kamailio/db_redis/kamailio", str(sch)))


# ---------------------------------------------------------------- a shared real Redis
@pytest.fixture(scope="module")
def redis_port():
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    d = tempfile.mkdtemp()
    p = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    p.terminate()
    p.wait(timeout=5)
    shutil.rmtree(d, ignore_errors=True)


def test_preload_in_write_through_mode(tmp_path, redis_port):
    url = f"redis://127.0.0.1:{redis_port}/0"
    a = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 3)\nmodparam("usrloc", "use_domain", 1)\n',
                 name="a.cfg", redis=url)
    a.process(register(contacts=["<sip:alice@127.0.0.1:5099>;q=0.5"]))
    a.close()
    b = load_reg(tmp_path, 'modparam("usrloc", "db_mode", 1)\nmodparam("usrloc", "use_domain", 1)\n',
                 name="b.cfg", redis=url)
    r = b.process(request())
    assert script_logs(r) == ["lookup ok ru=sip:alice@127.0.0.1:5099 du=<null>"]
    assert "db_full_scans" not in r.ctx.data  # a memory lookup: the table was preloaded at start-up
    b.process(register(cseq=1, contacts=["*"], expires="0", call_id="x"))
    b.close()
    import redis
    assert redis.Redis(port=redis_port).keys("location*") == []
