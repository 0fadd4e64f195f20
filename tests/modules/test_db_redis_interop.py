"""Interoperability with real Kamailio 5.6 on one real redis-server: what Kamailio stores
through db_redis, kscript finds, and the other way round.

1. real Kamailio (usrloc db_mode 3) receives a REGISTER over UDP and saves it in Redis;
   kscript, loaded with the same cfg and ``redis=<that server>``, looks the user up
   (db_mode 3: from Redis; db_mode 1: preloaded at start-up) and relays to the contact;
2. kscript saves a REGISTER in the same Redis; the real Kamailio's ``lookup()`` finds
   it and relays an INVITE to the contact, which this test receives on a UDP socket.

Skipped when kamailio or redis-server is not installed.  Every process listens on
127.0.0.1 only, on free ports, and is stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import kscript
from reg_support import register, request, script_logs

KAMAILIO = os.environ.get("KAMAILIO", "/usr/sbin/kamailio")
MODULES = os.environ.get("KAMAILIO_MODULES", "/usr/lib/x86_64-linux-gnu/kamailio/modules")
SCHEMA = "/usr/share/kamailio/db_redis/kamailio"

pytestmark = pytest.mark.skipif(not (os.path.exists(KAMAILIO) and shutil.which("redis-server")
                                     and os.path.isdir(SCHEMA)),
                                reason="needs kamailio 5.6 with db_redis and redis-server")

CFG = """#!KAMAILIO
debug=2
log_stderror=yes
listen=udp:127.0.0.1:{kport}
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "db_redis.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("db_redis", "schema_path", "{schema}")
modparam("db_redis", "keys", "version=entry:table_name;location=entry:ruid&usrdom:username,domain&timer:partition,keepalive")
modparam("usrloc", "db_url", "redis://127.0.0.1:{rport}/0")
modparam("usrloc", "db_mode", {mode})
modparam("usrloc", "use_domain", 1)
request_route {{
    if (is_method("REGISTER")) {{ save("location"); exit; }}
    if (is_method("INVITE")) {{
        if (!lookup("location")) {{ sl_send_reply("404", "Not Found"); exit; }}
        xlog("L_INFO", "lookup ok ru=$ru\\n");
        t_relay();
        exit;
    }}
}}
"""


def _free_port(kind=socket.SOCK_STREAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _udp_bound(port: int) -> bool:
    want = ":%04X" % port
    with open("/proc/net/udp") as f:
        return any(line.split()[1].endswith(want) and line.split()[1].startswith("0100007F")
                   for line in list(f)[1:])


@pytest.fixture(scope="module")
def redis_port():
    port = _free_port()
    d = tempfile.mkdtemp(prefix="kscript-interop-redis-")
    p = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                          "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


@pytest.fixture(scope="module")
def kamailio(redis_port):
    """A real Kamailio (usrloc db_mode 3) on a free UDP port; yields (port, cfg text)."""
    kport = _free_port(socket.SOCK_DGRAM)
    rundir = tempfile.mkdtemp(prefix="kscript-interop-kam-")
    cfg = os.path.join(rundir, "k.cfg")
    text = CFG.format(kport=kport, rport=redis_port, schema=SCHEMA, mode=3)
    with open(cfg, "w") as f:
        f.write(text)
    p = subprocess.Popen([KAMAILIO, "-f", cfg, "-DD", "-E", "-n", "1", "-Y", rundir, "-w", rundir, "-L", MODULES],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    t0 = time.time()
    while not _udp_bound(kport):
        if p.poll() is not None or time.time() - t0 > 20:
            p.kill()
            pytest.skip("kamailio did not start")
        time.sleep(0.05)
    time.sleep(0.5)
    yield kport, text
    os.kill(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=5)
    shutil.rmtree(rundir, ignore_errors=True)


def _exchange(kport: int, text: str, src_port: int, wait: float = 1.0) -> list[str]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", src_port))
    s.settimeout(wait)
    try:
        s.sendto(text.encode(), ("127.0.0.1", kport))
        out = []
        try:
            while True:
                out.append(s.recvfrom(65535)[0].decode())
                s.settimeout(0.3)
        except socket.timeout:
            pass
        return out
    finally:
        s.close()


def _kscript(tmp_path, cfg_text: str, redis_port: int, mode: int):
    cfg = tmp_path / f"ks{mode}.cfg"
    cfg.write_text(cfg_text.replace('modparam("usrloc", "db_mode", 3)', f'modparam("usrloc", "db_mode", {mode})'))
    return kscript.load(cfg, redis=f"redis://127.0.0.1:{redis_port}")


def _via(port: int, text: str) -> str:
    return text.replace("127.0.0.1:5080", f"127.0.0.1:{port}")


@pytest.mark.parametrize("mode", [3, 1])
def test_kamailio_saves_kscript_finds(tmp_path, kamailio, redis_port, mode):
    kport, cfg_text = kamailio
    uac = _free_port(socket.SOCK_DGRAM)
    user = f"carol{mode}"
    contact = f"<sip:{user}@127.0.0.1:{uac}>"
    replies = _exchange(kport, _via(uac, register(user, [contact], call_id=f"interop-k-{mode}")), uac)
    assert replies and replies[0].startswith("SIP/2.0 200 OK")
    s = _kscript(tmp_path, cfg_text, redis_port, mode)
    try:
        r = s.process(request(ruri=f"sip:{user}@127.0.0.1", call_id=f"interop-inv-{mode}"))
        assert script_logs(r) == [f"lookup ok ru=sip:{user}@127.0.0.1:{uac}"]
        assert r.requests[0].ruri == f"sip:{user}@127.0.0.1:{uac}" and r.requests[0].dst.port == uac
    finally:
        s.close()


def test_kscript_saves_kamailio_finds(tmp_path, kamailio, redis_port):
    kport, cfg_text = kamailio
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink_port = sink.getsockname()[1]
    s = _kscript(tmp_path, cfg_text, redis_port, 3)
    try:
        r = s.process(register("dave", [f"<sip:dave@127.0.0.1:{sink_port}>"], call_id="interop-ks"))
        assert r.replies[0].status == 200
    finally:
        s.close()
    uac = _free_port(socket.SOCK_DGRAM)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", uac))
    try:
        u.sendto(_via(uac, request(ruri="sip:dave@127.0.0.1", call_id="interop-inv-k")).encode(),
                 ("127.0.0.1", kport))
        sink.settimeout(3)
        data, _ = sink.recvfrom(65535)
        first = data.decode().split("\r\n", 1)[0]
        assert first == f"INVITE sip:dave@127.0.0.1:{sink_port} SIP/2.0"
    finally:
        u.close()
        sink.close()
