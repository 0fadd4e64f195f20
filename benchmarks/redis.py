#!/usr/bin/env python3
"""ndb_redis benchmark (prints figures, not a test): kscript vs raw redis-py vs real Kamailio.

Starts its own redis-server on a free loopback port (stopped by PID at the end) and:

(a) one ``redis_cmd`` in kscript -- the module function as the compiled cfg calls it,
    and a whole route doing it -- beside a raw redis-py call of the same command on
    the same TCP connection (``send_packed_command`` + ``read_response``, hiredis parser);
(b) 100 ``redis_pipe_cmd`` + ``redis_execute`` beside a raw redis-py pipeline of 100
    (``redis.Redis.pipeline(transaction=False)``);
(c) a route doing five sequential ``redis_cmd`` calls: CPU time per message in kscript
    (``process()``, single thread) beside real Kamailio 5.6.3 on the same cfg
    (``-n 1``, its worker's CPU time from /proc, UDP OPTIONS sent on loopback by a
    bounded load generator), same run.

Targets: (a) kscript <= 1.3x the raw client; (c) kscript >= 0.75x Kamailio's rate.

Usage: ``python3 benchmarks/redis.py [--quick]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this file is named redis.py: keep its folder off sys.path so "import redis" finds redis-py
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

HEADER = """#!KAMAILIO
debug=1
log_stderror=yes
children=1
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "sl.so"
loadmodule "ndb_redis.so"
modparam("ndb_redis", "server", "name=srv;addr=127.0.0.1;port={port}")
"""

ROUTE5 = """
request_route {
	redis_cmd("srv", "INCR bench:$fU", "r1");
	redis_cmd("srv", "GET bench:$fU", "r2");
	redis_cmd("srv", "SET bench:last %s", "$ci", "r3");
	redis_cmd("srv", "HSET bench:h $fU $redis(r2=>value)", "r4");
	redis_cmd("srv", "EXPIRE bench:$fU 60", "r5");
	sl_send_reply("200", "OK");
}
"""

OPTIONS = ("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{sport};branch=z9hG4bK-{n}\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag={n}\r\nTo: <sip:bob@127.0.0.1>\r\n"
           "Call-ID: bench-{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    p = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                          "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port
        except OSError:
            time.sleep(0.02)
    raise SystemExit("redis-server did not start")


def best_of(fn, n: int, repeat: int = 5) -> float:
    """Seconds per call (best of ``repeat`` runs of ``n`` calls)."""
    return interleaved({"x": fn}, n, repeat)["x"]


def interleaved(fns: dict, n: int, repeat: int = 7) -> dict:
    """Seconds per call of each function: runs alternate between them (the machine's load
    affects all alike) and the best run of each counts."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn(n)
            best[k] = min(best[k], (time.perf_counter() - t0) / n)
    return best


def load_script(cfg_text: str, tmp: str, name: str):
    import kscript
    from kscript.modules import registry
    path = Path(tmp) / name
    path.write_text(cfg_text)
    mocks = {} if registry.module_class("sl") is not None else {"sl_send_reply": 1}
    return kscript.load(str(path), redis="cfg", mocks=mocks)


def bench_a(port: int, tmp: str, n: int) -> dict:
    import redis
    from kscript.sip.message import SipMessage

    s = load_script(HEADER.format(port=port) + 'request_route {\n\tredis_cmd("srv", "GET bench:k", "r");\n}\n',
                    tmp, "a.cfg")
    mod = s.modules["ndb_redis"]
    ctx = s.new_context(SipMessage.parse(OPTIONS.format(sport=5080, n=0)))
    fn = mod.redis_cmd3

    def ks(k):
        for _ in range(k):
            fn(ctx, "srv", "GET bench:k", "r")

    # the compiled call site (argument getters, $rc handling) as a route runs it
    route = s.routes[("request", None)].fn

    def ks_route(k):
        for _ in range(k):
            route(ctx)

    # raw redis-py on the very same socket (its Connection object adopts kscript's socket)
    srv = mod.server("srv")
    conn = redis.connection.Connection(host="127.0.0.1", port=port)
    conn._sock = srv.conn.sock
    conn._parser.on_connect(conn)
    packed = conn.pack_command("GET", "bench:k")

    def raw(k):
        for _ in range(k):
            conn.send_packed_command(packed, check_health=False)
            conn.read_response()

    client = redis.Redis(host="127.0.0.1", port=port)

    def raw_client(k):
        for _ in range(k):
            client.get("bench:k")

    ks(200), raw(200), raw_client(200), ks_route(200)
    out = interleaved({"kscript redis_cmd (module call)": ks, "kscript redis_cmd (route call site)": ks_route,
                       "redis-py same connection": raw, "redis-py Redis.get (pool)": raw_client}, n)
    conn._sock = None
    client.close()
    s.close()
    return out


def bench_b(port: int, tmp: str, n: int) -> dict:
    import redis
    from kscript.sip.message import SipMessage

    s = load_script(HEADER.format(port=port) + 'request_route {\n\tdrop;\n}\n', tmp, "b.cfg")
    mod = s.modules["ndb_redis"]
    ctx = s.new_context(SipMessage.parse(OPTIONS.format(sport=5080, n=0)))
    pipe, execute = mod.redis_pipe_cmd4, mod.redis_execute
    names = [f"p{i}" for i in range(100)]
    keys = [f"bench:p{i}" for i in range(100)]

    def ks(k):
        for _ in range(k):
            for i in range(100):
                pipe(ctx, "srv", "INCR %s", keys[i], names[i])
            if execute(ctx, "srv") != 1:
                raise SystemExit("redis_execute failed")

    client = redis.Redis(host="127.0.0.1", port=port)

    def raw(k):
        for _ in range(k):
            p = client.pipeline(transaction=False)
            for i in range(100):
                p.incr(keys[i])
            p.execute()

    ks(5), raw(5)
    out = interleaved({"kscript 100 redis_pipe_cmd + redis_execute": ks, "redis-py pipeline of 100": raw}, n)
    client.close()
    s.close()
    return out


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def bench_c(port: int, tmp: str, n: int) -> dict:
    cfg = HEADER.format(port=port) + ROUTE5
    # kscript: process() per message, CPU time of this thread
    s = load_script(cfg, tmp, "c.cfg")
    msgs = [OPTIONS.format(sport=5080, n=i) for i in range(n)]
    for m in msgs[:100]:
        s.process(m)
    t0 = time.process_time()
    w0 = time.perf_counter()
    for m in msgs:
        s.process(m)
    ks_cpu = (time.process_time() - t0) / n
    ks_wall = (time.perf_counter() - w0) / n
    s.close()
    # the same route without the five redis_cmd: what SIP parsing and the reply cost
    s0 = load_script(HEADER.format(port=port) + 'request_route {\n\tsl_send_reply("200", "OK");\n}\n',
                     tmp, "c0.cfg")
    for m in msgs[:100]:
        s0.process(m)
    t0 = time.process_time()
    for m in msgs:
        s0.process(m)
    base_cpu = (time.process_time() - t0) / n
    s0.close()
    out = {"kscript CPU/msg": ks_cpu, "kscript wall/msg": ks_wall,
           "kscript CPU/msg without the 5 redis_cmd": base_cpu,
           "kscript CPU per redis_cmd (difference / 5)": (ks_cpu - base_cpu) / 5}
    kam = shutil.which("kamailio") or "/usr/sbin/kamailio"
    if not os.path.exists(kam):
        out["kamailio"] = None
        return out
    kport = free_port(socket.SOCK_DGRAM)
    kcfg = Path(tmp) / "kam.cfg"
    kcfg.write_text(cfg.replace("children=1\n", f"children=1\nlisten=udp:127.0.0.1:{kport}\n")
                    .replace("debug=1", "debug=0"))
    rundir = tempfile.mkdtemp(dir=tmp)
    p = subprocess.Popen([kam, "-f", str(kcfg), "-DD", "-E", "-n", "1", "-Y", rundir, "-w", rundir],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sport = sock.getsockname()[1]
        sock.settimeout(2.0)
        t0 = time.monotonic()
        while True:  # ready when it answers
            sock.sendto(OPTIONS.format(sport=sport, n="warm").encode(), ("127.0.0.1", kport))
            try:
                sock.recvfrom(65535)
                break
            except socket.timeout:
                if time.monotonic() - t0 > 15 or p.poll() is not None:
                    raise SystemExit("kamailio did not start")
        # the UDP worker: the child whose CPU grows while handling messages
        children = _children(p.pid)
        before = {c: proc_cpu(c) for c in children}
        for i in range(200):
            sock.sendto(OPTIONS.format(sport=sport, n=f"w{i}").encode(), ("127.0.0.1", kport))
            sock.recvfrom(65535)
        grown = {c: proc_cpu(c) - before[c] for c in children}
        worker = max(grown, key=grown.get)
        # load: a window of 16 outstanding requests, bounded count and time
        c0 = proc_cpu(worker)
        w0 = time.perf_counter()
        sent = recvd = 0
        window = 16
        deadline = time.monotonic() + 60
        while recvd < n and time.monotonic() < deadline:
            while sent < n and sent - recvd < window:
                sock.sendto(OPTIONS.format(sport=sport, n=f"m{sent}").encode(), ("127.0.0.1", kport))
                sent += 1
            try:
                sock.recvfrom(65535)
                recvd += 1
            except socket.timeout:
                break
        wall = time.perf_counter() - w0
        cpu = proc_cpu(worker) - c0
        out["kamailio CPU/msg"] = cpu / max(recvd, 1)
        out["kamailio wall/msg"] = wall / max(recvd, 1)
        out["kamailio replies"] = recvd
    finally:
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    return out


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                out.append(int(d))
    return out


def us(x: float) -> str:
    return f"{x * 1e6:9.1f} us"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations")
    args = ap.parse_args()
    n_a, n_b, n_c = (1000, 10, 2000) if args.quick else (3000, 30, 6000)
    tmp = tempfile.mkdtemp(prefix="kscript-bench-redis-")
    rp, port = start_redis(tmp)
    try:
        print(f"redis-server on 127.0.0.1:{port}, python {sys.version.split()[0]}\n")
        a = bench_a(port, tmp, n_a)
        print("(a) one redis_cmd (GET) per call")
        for k, v in a.items():
            print(f"    {k:42s} {us(v)}")
        ratio_a = a["kscript redis_cmd (route call site)"] / a["redis-py same connection"]
        print(f"    ratio kscript(route call site) / raw redis-py  {ratio_a:6.2f}x   (target <= 1.3x)"
              f"  {'OK' if ratio_a <= 1.3 else 'MISSED'}")
        b = bench_b(port, tmp, n_b)
        print("\n(b) 100 pipelined INCR")
        for k, v in b.items():
            print(f"    {k:42s} {us(v)}")
        ratio_b = b["kscript 100 redis_pipe_cmd + redis_execute"] / b["redis-py pipeline of 100"]
        print(f"    ratio kscript / redis-py pipeline              {ratio_b:6.2f}x")
        c = bench_c(port, tmp, n_c)
        print("\n(c) route with five sequential redis_cmd (+ sl_send_reply)")
        for k, v in c.items():
            if v is None:
                print(f"    {k:42s} (not installed)")
            elif isinstance(v, int):
                print(f"    {k:42s} {v:9d}")
            else:
                print(f"    {k:42s} {us(v)}   ({1 / v:8.0f} msg/s)")
        if c.get("kamailio CPU/msg"):
            rate = c["kamailio CPU/msg"] / c["kscript CPU/msg"]
            print(f"    kscript rate / Kamailio rate (CPU)            {rate:6.2f}x   (target >= 0.75x)"
                  f"  {'OK' if rate >= 0.75 else 'MISSED'}")
    finally:
        os.kill(rp.pid, signal.SIGTERM)
        rp.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
