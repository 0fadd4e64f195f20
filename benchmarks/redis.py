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
    bounded load generator), same run, in alternating rounds (best round of each counts;
    the per-round figures and the ratio of the medians are printed too).

Targets: (a) kscript <= 1.3x the raw client; (c) kscript >= 0.75x Kamailio's rate.

On a small (virtual) machine (c) depends much on where the scheduler puts the measured
process and redis-server: on the same CPU a round trip costs the client ~9 us of CPU, on
two CPUs two to three times that (wake-ups across CPUs, idle exits), and which of the two
happens changes from run to run -- hence the rounds.  ``--pin`` puts the measured process
(kscript's, Kamailio's worker) and redis-server on one CPU and the load generator on
another, for both: the least variance (``--pin split``: the measured process alone on one
CPU, redis-server and the load generator on the other).

Usage: ``python3 benchmarks/redis.py [--quick] [--rounds N] [--pin same|split] [--only a|b|c]``
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


def _pin(pid: int, cpus) -> None:
    try:
        os.sched_setaffinity(pid, cpus)
    except OSError:
        pass


def bench_c(port: int, tmp: str, n: int, rounds: int = 3, pin: str | None = None,
            redis_pid: int | None = None) -> dict:
    """CPU per message of kscript and Kamailio, measured in ``rounds`` alternating rounds (the
    machine's state -- where the scheduler puts the processes -- changes between runs and
    affects both alike); the best round of each counts, the medians are shown too.

    ``pin``: where the measured process (this one for kscript, Kamailio's worker) and
    redis-server run, alike for both: ``"same"`` -- one CPU for both, the load generator on
    another; ``"split"`` -- the measured process alone on one CPU, redis-server (and the load
    generator) on another.  None: where the scheduler puts them.
    """
    cfg = HEADER.format(port=port) + ROUTE5
    all_cpus = os.sched_getaffinity(0)
    cpus = sorted(all_cpus)
    if len(cpus) < 2 or redis_pid is None:
        pin = None
    here, there = {cpus[0]}, ({cpus[1]} if len(cpus) > 1 else set())
    redis_cpus = here if pin == "same" else there
    s = load_script(cfg, tmp, "c.cfg")
    # the same route without the five redis_cmd: what SIP parsing and the reply cost
    s0 = load_script(HEADER.format(port=port) + 'request_route {\n\tsl_send_reply("200", "OK");\n}\n',
                     tmp, "c0.cfg")
    msgs = [OPTIONS.format(sport=5080, n=i) for i in range(n)]
    for m in msgs[:100]:
        s.process(m)
        s0.process(m)

    def run_ks(script) -> tuple[float, float]:
        if pin:
            _pin(0, here)
            _pin(redis_pid, redis_cpus)
        t0 = time.process_time()
        w0 = time.perf_counter()
        for m in msgs:
            script.process(m)
        cpu = (time.process_time() - t0) / n
        wall = (time.perf_counter() - w0) / n
        if pin:
            _pin(0, all_cpus)
            _pin(redis_pid, all_cpus)
        return cpu, wall

    ks, base = [], []
    kam_recvd = 0
    kam_run = None
    p = None
    kam = shutil.which("kamailio") or "/usr/sbin/kamailio"
    kam_runs: list[tuple[float, float]] = []
    try:
        if os.path.exists(kam):
            p, kam_run = _start_kamailio(kam, cfg, tmp, n)
        for _ in range(rounds):
            ks.append(run_ks(s))
            base.append(run_ks(s0))
            if kam_run is not None:
                if pin:
                    _pin(0, there)
                    _pin(redis_pid, redis_cpus)
                cpu, wall, kam_recvd = kam_run(here if pin else None)
                if pin:
                    _pin(0, all_cpus)
                    _pin(redis_pid, all_cpus)
                kam_runs.append((cpu, wall))
    finally:
        s.close()
        s0.close()
        if p is not None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)

    def best(runs):
        return min(runs)

    def median(runs):
        return sorted(runs)[len(runs) // 2]

    ks_cpu, ks_wall = best(ks)
    base_cpu = best(base)[0]
    out = {"kscript CPU/msg": ks_cpu, "kscript wall/msg": ks_wall,
           "kscript CPU/msg without the 5 redis_cmd": base_cpu,
           "kscript CPU per redis_cmd (difference / 5)": (ks_cpu - base_cpu) / 5,
           "kscript CPU/msg (median round)": median(ks)[0]}
    if kam_run is None:
        out["kamailio"] = None
        return out
    out["kamailio CPU/msg"], out["kamailio wall/msg"] = best(kam_runs)
    out["kamailio CPU/msg (median round)"] = median(kam_runs)[0]
    out["kamailio replies"] = kam_recvd
    out["_rounds"] = {"kscript": [c for c, _ in ks], "kamailio": [c for c, _ in kam_runs]}
    return out


def _start_kamailio(kam: str, cfg: str, tmp: str, n: int):
    """Start Kamailio (``-n 1``) on the cfg; returns (process, run) where ``run(pin_cpus)`` sends
    ``n`` OPTIONS (a window of 16 outstanding, bounded count and time) and gives (CPU/msg of
    the worker, wall/msg, replies)."""
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
    except BaseException:
        os.kill(p.pid, signal.SIGTERM)
        p.wait(5)
        raise
    worker_cpus = os.sched_getaffinity(worker)
    payloads = [OPTIONS.format(sport=sport, n=f"m{i}").encode() for i in range(n)]

    def run(pin_cpus=None):
        if pin_cpus:
            _pin(worker, pin_cpus)
        c0 = proc_cpu(worker)
        w0 = time.perf_counter()
        sent = recvd = 0
        window = 16
        deadline = time.monotonic() + 60
        while recvd < n and time.monotonic() < deadline:
            while sent < n and sent - recvd < window:
                sock.sendto(payloads[sent], ("127.0.0.1", kport))
                sent += 1
            try:
                sock.recvfrom(65535)
                recvd += 1
            except socket.timeout:
                break
        wall = time.perf_counter() - w0
        cpu = proc_cpu(worker) - c0
        while sent > recvd:  # drain what is still on its way
            try:
                sock.recvfrom(65535)
                recvd += 1
            except socket.timeout:
                break
        if pin_cpus:
            _pin(worker, worker_cpus)
        got = min(recvd, n)
        return cpu / max(got, 1), wall / max(got, 1), got

    return p, run


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
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds of (c) (default 3, 2 with --quick)")
    ap.add_argument("--pin", choices=("same", "split"), default=None,
                    help="(c): the measured process and redis-server on one CPU (same) or on two (split), "
                         "the load generator on another / redis-server's; alike for kscript and Kamailio")
    ap.add_argument("--only", choices=("a", "b", "c"), action="append", help="run only these parts")
    args = ap.parse_args()
    n_a, n_b, n_c = (1000, 10, 2000) if args.quick else (3000, 30, 6000)
    rounds = args.rounds or (2 if args.quick else 3)
    parts = set(args.only or ("a", "b", "c"))
    tmp = tempfile.mkdtemp(prefix="kscript-bench-redis-")
    rp, port = start_redis(tmp)
    try:
        print(f"redis-server on 127.0.0.1:{port}, python {sys.version.split()[0]}\n")
        if "a" in parts:
            a = bench_a(port, tmp, n_a)
            print("(a) one redis_cmd (GET) per call")
            for k, v in a.items():
                print(f"    {k:42s} {us(v)}")
            ratio_a = a["kscript redis_cmd (route call site)"] / a["redis-py same connection"]
            print(f"    ratio kscript(route call site) / raw redis-py  {ratio_a:6.2f}x   (target <= 1.3x)"
                  f"  {'OK' if ratio_a <= 1.3 else 'MISSED'}\n")
        if "b" in parts:
            b = bench_b(port, tmp, n_b)
            print("(b) 100 pipelined INCR")
            for k, v in b.items():
                print(f"    {k:42s} {us(v)}")
            ratio_b = b["kscript 100 redis_pipe_cmd + redis_execute"] / b["redis-py pipeline of 100"]
            print(f"    ratio kscript / redis-py pipeline              {ratio_b:6.2f}x\n")
        if "c" not in parts:
            return
        c = bench_c(port, tmp, n_c, rounds=rounds, pin=args.pin, redis_pid=rp.pid)
        print(f"(c) route with five sequential redis_cmd (+ sl_send_reply); best of {rounds} alternating rounds"
              f"{', pinned: ' + args.pin if args.pin else ''}")
        per_round = c.pop("_rounds", None)
        for k, v in c.items():
            if v is None:
                print(f"    {k:42s} (not installed)")
            elif isinstance(v, int):
                print(f"    {k:42s} {v:9d}")
            else:
                print(f"    {k:42s} {us(v)}   ({1 / v:8.0f} msg/s)")
        if c.get("kamailio CPU/msg"):
            if per_round:
                print("    CPU/msg per round: kscript " + " ".join(f"{x * 1e6:.0f}" for x in per_round["kscript"])
                      + " us; kamailio " + " ".join(f"{x * 1e6:.0f}" for x in per_round["kamailio"]) + " us")
            med = c["kamailio CPU/msg (median round)"] / c["kscript CPU/msg (median round)"]
            print(f"    kscript rate / Kamailio rate (CPU, medians)   {med:6.2f}x")
            rate = c["kamailio CPU/msg"] / c["kscript CPU/msg"]
            print(f"    kscript rate / Kamailio rate (CPU, best)      {rate:6.2f}x   (target >= 0.75x)"
                  f"  {'OK' if rate >= 0.75 else 'MISSED'}")
    finally:
        os.kill(rp.pid, signal.SIGTERM)
        rp.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
