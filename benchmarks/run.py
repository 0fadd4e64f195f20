"""CPU time per message of ``script.process()`` beside real Kamailio's, same run.

Three workloads (issue 3): (a) a one-line ``sl_send_reply`` route, (b) Debian's
default kamailio.cfg answering an OPTIONS to itself (the REQINIT keepalive), (c)
an OPTIONS to an unknown user (the whole route, ending in a stateful 404).

Kamailio runs with ``-n 1`` on 127.0.0.1; its CPU is read from /proc (all its
processes) before and after N requests sent one at a time from a UDP socket,
each answered before the next is sent (the scheduler's nanosecond run time from
/proc/PID/task/*/schedstat; tick counts are too coarse). kscript's CPU is
``time.process_time()`` around N ``process()`` calls on a freshly loaded script.
Both are measured in alternating rounds, the best round of each counting (on this
2-vCPU machine the scheduler's placement changes from run to run).  ``--pin same``
runs kscript, and Kamailio with its load generator, on one same CPU: the least
variance, but Kamailio's wake-ups then stay on one CPU and cost it less.  Prints figures and ratios; not a test.

    python3 benchmarks/run.py [-n 2000] [--rounds 3] [--pin same|none]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# benchmarks/redis.py must not shadow the redis package
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, ROOT)

import kscript  # noqa: E402

KAMAILIO = "/usr/sbin/kamailio"
MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
PORT = 5077
TICK = os.sysconf("SC_CLK_TCK")

ONE_LINE = """#!KAMAILIO
debug=0
loadmodule "sl.so"
request_route { sl_send_reply("200", "OK"); }
"""


def options(ruri: str, i: int, uac_port: int) -> str:
    return (f"OPTIONS {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{uac_port};branch=z9hG4bK-bench-{i}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=b{i}\r\nTo: <{ruri}>\r\n"
            f"Call-ID: bench-{i}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")


def workloads():
    debian = os.path.join(ROOT, "tests", "data", "debian", "kamailio.cfg")
    return [
        ("(a) one-line sl_send_reply", None, f"sip:127.0.0.1:{PORT}"),
        ("(b) Debian cfg, keepalive OPTIONS", debian, f"sip:127.0.0.1:{PORT}"),
        ("(c) Debian cfg, OPTIONS unknown user (404)", debian, f"sip:nobody@127.0.0.1:{PORT}"),
    ]


def _cpu_of_tree(root_pid: int) -> float:
    """CPU seconds used so far by ``root_pid`` and its children: the scheduler's
    nanosecond run time (/proc/PID/task/TID/schedstat) where the kernel has it, else
    utime+stime in clock ticks (10 ms: too coarse for a few thousand messages)."""
    total_ns = 0
    ticks = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(pid) != root_pid and int(parts[1]) != root_pid:
            continue
        ticks += int(parts[11]) + int(parts[12])
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total_ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            total_ns = -1 << 62  # no schedstat: fall back to ticks
    return total_ns / 1e9 if total_ns >= 0 else ticks / TICK


def _tree(root_pid: int) -> list[int]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if int(pid) == root_pid or ppid == root_pid:
            out.append(int(pid))
    return out


def _pin(pids, cpus) -> None:
    for pid in pids:
        try:
            os.sched_setaffinity(pid, cpus)
        except OSError:
            pass


def kamailio_cpu_per_msg(cfg_path: str, ruri: str, n: int, cpus=None) -> float | None:
    """Kamailio's CPU per message; ``cpus``: pin its processes and the load generator there."""
    if not os.access(KAMAILIO, os.X_OK):
        return None
    mine = os.sched_getaffinity(0)
    run = tempfile.mkdtemp(prefix="kbench-")
    proc = subprocess.Popen([KAMAILIO, "-f", cfg_path, "-DD", "-n", "1", "-l", f"udp:127.0.0.1:{PORT}",
                             "-Y", run, "-w", run, "-L", MODDIR, "-m", "64", "-M", "8"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ua = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ua.bind(("127.0.0.1", 0))
    ua.settimeout(2.0)
    port = ua.getsockname()[1]
    try:
        for _ in range(100):  # wait until it answers
            try:
                ua.sendto(options(ruri, 0, port).encode(), ("127.0.0.1", PORT))
                ua.recvfrom(65535)
                break
            except OSError:
                time.sleep(0.1)
        else:
            return None
        if cpus:
            _pin(_tree(proc.pid) + [0], cpus)
        for i in range(200):  # warm-up
            ua.sendto(options(ruri, i + 1, port).encode(), ("127.0.0.1", PORT))
            ua.recvfrom(65535)
        before = _cpu_of_tree(proc.pid)
        for i in range(n):
            ua.sendto(options(ruri, 1000 + i, port).encode(), ("127.0.0.1", PORT))
            ua.recvfrom(65535)
        after = _cpu_of_tree(proc.pid)
        return (after - before) / n
    finally:
        _pin([0], mine)
        ua.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(run, ignore_errors=True)


def kscript_cpu_per_msg(cfg_path: str, ruri: str, n: int, cpus=None) -> float:
    """CPU per message of ``script.process()`` (this process, pinned to ``cpus`` if given)."""
    mine = os.sched_getaffinity(0)
    if cpus:
        _pin([0], cpus)
    try:
        return _kscript_cpu_per_msg(cfg_path, ruri, n)
    finally:
        _pin([0], mine)


def _kscript_cpu_per_msg(cfg_path: str, ruri: str, n: int) -> float:
    gc.collect()  # the previous round's script is garbage: not this round's cost
    script = kscript.load(cfg_path)
    # kamailio listens on PORT (-l); kscript on the cfg's listen (or 5060): address it there
    # so that `uri==myself` takes the same path in both.
    ruri = ruri.replace(f":{PORT}", f":{script.listen[0].port}")
    # as for Kamailio: 200 warm-up requests, then n others (not retransmissions of them)
    for i in range(200):
        script.process(options(ruri, i + 1, 5080))
    msgs = [options(ruri, 1000 + i, 5080) for i in range(n)]
    t = time.process_time()
    for m in msgs:
        script.process(m)
    return (time.process_time() - t) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=2000, help="messages per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating kscript/Kamailio rounds (best counts)")
    ap.add_argument("--pin", choices=("none", "same"), default="none",
                    help="none: where the scheduler puts them (default, the issue's set-up); same: kscript, "
                         "and Kamailio with its load generator, each run on one same CPU (least variance; "
                         "Kamailio's wake-ups then stay on one CPU and cost less)")
    args = ap.parse_args()
    cpus = None
    if args.pin == "same":
        avail = sorted(os.sched_getaffinity(0))
        cpus = {avail[-1]}
    tmp = tempfile.mkdtemp(prefix="kbench-cfg-")
    one = os.path.join(tmp, "one.cfg")
    with open(one, "w") as f:
        f.write(ONE_LINE)
    print(f"{args.rounds} alternating rounds of {args.n} messages, best round shown"
          f"{'; pinned to CPU ' + str(next(iter(cpus))) if cpus else ''}")
    print(f"{'workload':48} {'kscript':>12} {'kamailio':>12} {'ratio':>8} {'median':>6}   "
          f"rounds (kscript / kamailio, µs)")
    for name, cfg, ruri in workloads():
        cfg = cfg or one
        ks, ka = [], []
        for _ in range(args.rounds):
            ks.append(kscript_cpu_per_msg(cfg, ruri, args.n, cpus))
            k = kamailio_cpu_per_msg(cfg, ruri, args.n, cpus)
            if k is not None:
                ka.append(k)
        best_ks = min(ks)
        best_ka = min(ka) if ka else None
        ratio = f"{best_ks / best_ka:7.2f}x" if best_ka else "    n/a"
        kam = f"{best_ka * 1e6:9.1f} µs" if best_ka else "    n/a"
        rounds = " ".join(f"{k * 1e6:.0f}" for k in ks) + " / " + " ".join(f"{k * 1e6:.0f}" for k in ka)
        med = f"{statistics.median(ks) / statistics.median(ka):5.2f}x" if ka else "  n/a"
        print(f"{name:48} {best_ks * 1e6:9.1f} µs {kam} {ratio} {med}   {rounds}")
    print("targets: (b) <= 1.0x, (c) <= 2.0x kamailio's CPU per message")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
