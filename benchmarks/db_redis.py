"""db_redis benchmark: REGISTER-save and INVITE-lookup per second on a real redis-server,
kscript beside real Kamailio 5.6 with the same cfg, in the same run.

    python benchmarks/db_redis.py [--n 3000] [--modes 3,1] [--no-kamailio]

For each usrloc ``db_mode`` (3 = every save/lookup reads and writes Redis; 1 =
write-through, lookups from memory):

* **Kamailio**: started with the cfg (one SIP worker, ``-n 1``) on a free loopback
  port; the benchmark sends N REGISTERs (N distinct users, new bindings: the insert
  path) and then N INVITEs to them (``lookup()`` then a stateless 302 listing the
  contact), one at a time, waiting for each reply; Kamailio's CPU time is read from
  ``/proc/<pid>/stat`` (utime+stime of all its processes) before and after;
* **kscript**: the same cfg loaded with ``redis=<that server>``; the same messages
  through ``script.process()``; CPU time with ``time.process_time()``.

Messages per second are given per CPU second (1 / CPU time per message), which is
what the target compares (kscript >= 0.5x Kamailio); wall-clock rates are printed too.
Redis's own CPU is counted for neither.  A redis-server is started on a free port
(stopped by PID at the end) unless ``--redis-port`` names a running one.
"""

from __future__ import annotations

import argparse
import os
import sys as _sys

# benchmarks/ holds a redis.py of its own: never let it shadow the redis package
_HERE = os.path.dirname(os.path.abspath(__file__))
_sys.path[:] = [p for p in _sys.path if os.path.abspath(p or ".") != _HERE]
if os.path.dirname(_HERE) not in _sys.path:
    _sys.path.insert(0, os.path.dirname(_HERE))

import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

KAMAILIO = os.environ.get("KSCRIPT_KAMAILIO", "/usr/sbin/kamailio")
MODDIR = os.environ.get("KAMAILIO_MODULES", "/usr/lib/x86_64-linux-gnu/kamailio/modules")
SCHEMA = "/usr/share/kamailio/db_redis/kamailio"
CLK_TCK = os.sysconf("SC_CLK_TCK")

CFG = """#!KAMAILIO
debug=1
log_stderror=yes
listen=udp:127.0.0.1:{sip_port}
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
modparam("usrloc", "db_url", "redis://127.0.0.1:{redis_port}/0")
modparam("usrloc", "db_mode", {mode})
modparam("usrloc", "use_domain", 1)
request_route {{
    if (is_method("REGISTER")) {{ save("location"); exit; }}
    if (is_method("INVITE")) {{
        if (!lookup("location")) {{ sl_send_reply("404", "Not Found"); exit; }}
        sl_send_reply("302", "Moved Temporarily");
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"""


def free_port(kind=socket.SOCK_STREAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def register(i: int, src_port: int) -> str:
    return (f"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{src_port};branch=z9hG4bK-r{i}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:user{i}@127.0.0.1>;tag=r{i}\r\nTo: <sip:user{i}@127.0.0.1>\r\n"
            f"Call-ID: bench-reg-{i}@127.0.0.1\r\nCSeq: 1 REGISTER\r\n"
            f"Contact: <sip:user{i}@127.0.0.1:6{i % 1000:03d}>\r\nExpires: 3600\r\nUser-Agent: bench\r\n"
            f"Content-Length: 0\r\n\r\n")


def invite(i: int, src_port: int) -> str:
    return (f"INVITE sip:user{i}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{src_port};branch=z9hG4bK-i{i}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:caller@127.0.0.1>;tag=i{i}\r\nTo: <sip:user{i}@127.0.0.1>\r\n"
            f"Call-ID: bench-inv-{i}@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:{src_port}>\r\n"
            f"Content-Length: 0\r\n\r\n")


class RedisServer:
    def __init__(self, port: int | None = None):
        self.proc = None
        self.dir = None
        if port is not None:
            self.port = port
            return
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="kscript-bench-redis-")
        self.proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save",
                                      "", "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def flush(self) -> None:
        import redis
        redis.Redis(port=self.port).flushall()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def _pids_of_group(pgid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:  # field 5: pgrp
                    out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds of the processes: ``se.sum_exec_runtime`` of /proc/<pid>/sched (ns
    precision) when the kernel provides it, else utime+stime ticks of /proc/<pid>/stat."""
    total_ms = 0.0
    ok = True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/sched") as f:
                for ln in f:
                    if ln.startswith("se.sum_exec_runtime"):
                        total_ms += float(ln.split(":")[1])
                        break
                else:
                    ok = False
        except OSError:
            ok = False
    if ok and pids:
        return total_ms / 1000.0
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK_TCK


class Kamailio:
    def __init__(self, cfg_text: str, sip_port: int):
        self.dir = tempfile.mkdtemp(prefix="kscript-bench-kam-")
        self.cfg = os.path.join(self.dir, "k.cfg")
        with open(self.cfg, "w") as f:
            f.write(cfg_text)
        self.port = sip_port
        self.proc = subprocess.Popen([KAMAILIO, "-f", self.cfg, "-DD", "-E", "-n", "1", "-Y", self.dir, "-w",
                                      self.dir, "-L", MODDIR], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        want = ":%04X" % sip_port
        t0 = time.time()
        while True:
            with open("/proc/net/udp") as f:
                if any(ln.split()[1] == "0100007F" + want for ln in list(f)[1:]):
                    break
            if self.proc.poll() is not None or time.time() - t0 > 20:
                raise SystemExit("kamailio did not start")
            time.sleep(0.05)
        time.sleep(0.5)

    def cpu(self) -> float:
        return _cpu_of(_pids_of_group(self.proc.pid))

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_kamailio(mode: int, n: int, redis_srv: RedisServer) -> dict:
    sip_port = free_port(socket.SOCK_DGRAM)
    redis_srv.flush()
    k = Kamailio(CFG.format(sip_port=sip_port, schema=SCHEMA, redis_port=redis_srv.port, mode=mode), sip_port)
    ua = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ua.bind(("127.0.0.1", 0))
    ua.settimeout(5)
    src = ua.getsockname()[1]
    out = {}
    try:
        for phase, make in (("register", register), ("invite", invite)):
            msgs = [make(i, src).encode() for i in range(n)]
            c0, w0 = k.cpu(), time.perf_counter()
            for m in msgs:
                ua.sendto(m, ("127.0.0.1", sip_port))
                ua.recvfrom(65535)
            out[phase] = (k.cpu() - c0, time.perf_counter() - w0)
    finally:
        ua.close()
        k.stop()
    return out


def run_kscript(mode: int, n: int, redis_srv: RedisServer) -> dict:
    import kscript
    redis_srv.flush()
    d = tempfile.mkdtemp(prefix="kscript-bench-")
    cfg = os.path.join(d, "k.cfg")
    with open(cfg, "w") as f:
        f.write(CFG.format(sip_port=5060, schema=SCHEMA, redis_port=redis_srv.port, mode=mode))
    script = kscript.load(cfg, redis="cfg")
    src = "udp:127.0.0.1:5999"
    out = {}
    try:
        for phase, make in (("register", register), ("invite", invite)):
            msgs = [make(i, 5999) for i in range(n)]
            c0, w0 = time.process_time(), time.perf_counter()
            for m in msgs:
                r = script.process(m, src=src)
            out[phase] = (time.process_time() - c0, time.perf_counter() - w0)
            assert r.replies, "no reply"
    finally:
        script.close()
        shutil.rmtree(d, ignore_errors=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="messages per phase (default 3000)")
    ap.add_argument("--modes", default="3,1", help="usrloc db_modes to run (default 3,1)")
    ap.add_argument("--redis-port", type=int, default=None, help="use a running redis-server on this port")
    ap.add_argument("--no-kamailio", action="store_true", help="kscript only")
    args = ap.parse_args(argv)
    have_kam = not args.no_kamailio and os.access(KAMAILIO, os.X_OK) and os.path.isdir(SCHEMA)
    if not shutil.which("redis-server") and args.redis_port is None:
        print("redis-server not installed: nothing to measure")
        return 0
    srv = RedisServer(args.redis_port)
    try:
        print(f"db_redis benchmark: {args.n} messages per phase, real redis-server 127.0.0.1:{srv.port}")
        print(f"{'db_mode':>7} {'phase':<9} {'kamailio msg/cpu-s':>19} {'kscript msg/cpu-s':>18} "
              f"{'ratio':>6} {'kam us/msg':>10} {'ks us/msg':>10} {'kam wall/s':>10} {'ks wall/s':>10}")
        for mode in [int(x) for x in args.modes.split(",") if x.strip()]:
            ks = run_kscript(mode, args.n, srv)
            km = run_kamailio(mode, args.n, srv) if have_kam else None
            for phase in ("register", "invite"):
                kc, kw = ks[phase]
                ks_rate = args.n / kc if kc else float("inf")
                if km:
                    mc, mw = km[phase]
                    km_rate = args.n / mc if mc else float("inf")
                    ratio = ks_rate / km_rate if km_rate else float("nan")
                    print(f"{mode:>7} {phase:<9} {km_rate:>19.0f} {ks_rate:>18.0f} {ratio:>6.2f} "
                          f"{mc / args.n * 1e6:>10.1f} {kc / args.n * 1e6:>10.1f} {args.n / mw:>10.0f} "
                          f"{args.n / kw:>10.0f}")
                else:
                    print(f"{mode:>7} {phase:<9} {'-':>19} {ks_rate:>18.0f} {'-':>6} {'-':>10} "
                          f"{kc / args.n * 1e6:>10.1f} {'-':>10} {args.n / kw:>10.0f}")
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
