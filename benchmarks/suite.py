"""Benchmark: a 1000-step scenario suite on the Debian default kamailio.cfg.

Prints steps per second for ``kscript test`` and for ``pytest`` (each a fresh
process: interpreter start-up, cfg loading and checking included), beside the
time the real Kamailio 5.6 takes to start and answer the same 1000 requests over
loopback, measured in the same run::

    python benchmarks/suite.py [--steps 1000] [--scenarios 10] [--keep DIR] [--repeat N] [--cold]

Each command first runs once untimed with bytecode writing on (Python's ``.pyc``
and pytest's rewritten-module caches, as on any machine that ran them before, even
where PYTHONDONTWRITEBYTECODE is set) -- ``--cold`` skips that; ``--repeat N``
times N runs of each and keeps the fastest (the machine's noise).

The suite: SCENARIOS scenarios of STEPS/SCENARIOS steps each, cycling through
requests the Debian cfg answers without forwarding (OPTIONS keepalive, 484 for
no user part, 403 for a foreign domain, 404 for an in-dialog request without
route, 483 for Max-Forwards 0); every step checks the reply status and reason and
that nothing was forwarded. registrar's save/lookup are mocked (not reached by
these requests) while kscript does not emulate registrar.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CFG = os.path.join(ROOT, "examples", "debian", "kamailio.cfg")
# benchmarks/ has a redis.py of its own: keep it off sys.path (it would shadow redis-py)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, ROOT)


def _realkam():
    import importlib.util
    spec = importlib.util.spec_from_file_location("kscript_bench_realkam", os.path.join(HERE, "realkam.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

# (send fields, expected reply) -- all answered statelessly by the Debian cfg
MESSAGES = [
    ({"method": "OPTIONS", "ruri": "sip:127.0.0.1"}, (200, "Keepalive")),
    ({"method": "MESSAGE", "ruri": "sip:127.0.0.1", "from": "sip:bob@127.0.0.1", "body": "hi"},
     (484, "Address Incomplete")),
    ({"method": "INVITE", "ruri": "sip:bob@example.com", "from": "sip:mallory@example.org"}, (403, "Not relaying")),
    ({"method": "BYE", "ruri": "sip:alice@192.0.2.10:5060", "to": "<sip:alice@127.0.0.1>;tag=callee1"},
     (404, "Not here")),
    ({"method": "INVITE", "ruri": "sip:alice@127.0.0.1", "headers": {"Max-Forwards": "0"}}, (483, "Too Many Hops")),
]
REQUIRES = "[sl, tm, tmx, rr, maxfwd, sanity, siputils, kex]"


def _yaml_value(v) -> str:
    import json
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(v)


def write_suite(directory: str, steps: int, scenarios: int) -> int:
    os.makedirs(directory, exist_ok=True)
    per = steps // scenarios
    n = 0
    for s in range(scenarios):
        lines = [f"name: debian mix {s + 1}", f"config: {CFG}", f"requires: {REQUIRES}",
                 "mocks: {save: 1, lookup: -1}", "src: udp:192.0.2.10:5060", "steps:"]
        for i in range(per):
            fields, (status, reason) = MESSAGES[(s + i) % len(MESSAGES)]
            lines.append(f"  - send: {_yaml_value(fields)}")
            lines.append(f"    expect: {{reply: {{status: {status}, reason: {_yaml_value(reason)}}}, forwards: 0}}")
            n += 1
        with open(os.path.join(directory, f"mix{s + 1:02d}.kst.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return n


def run_timed(cmd: list[str], cwd: str, repeat: int = 1, warm: bool = True) -> tuple[float, str, int]:
    """(fastest wall time of ``repeat`` runs, output, exit status)."""
    if warm:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    best = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        took = time.perf_counter() - t0
        best = took if best is None or took < best else best
    return best, p.stdout + p.stderr, p.returncode


def requests_of_suite(directory: str) -> list[str]:
    """The request texts the suite sends, built exactly as the runner builds them."""
    from kscript.testing.runner import Runner, _PlayState
    from kscript.testing.scenario import find_scenarios, load_file
    out = []
    runner = Runner()
    for path in find_scenarios([directory]):
        for sc in load_file(path):
            state = _PlayState()
            for st in sc.steps:
                out.append(runner._build_request(sc, st, state)[0])
    return out


def real_kamailio(texts: list[str]) -> dict:
    realkam = _realkam()
    if not realkam.available():
        return {"error": "kamailio not installed"}
    k = realkam.RealKamailio(CFG, port=realkam_free_port())
    t0 = time.perf_counter()
    try:
        startup = k.start()
        answered = 0
        t1 = time.perf_counter()
        for i, text in enumerate(texts):
            text = realkam._retarget_via(text, k.ua_port)
            k.request(text)
            answered += 1
        traffic = time.perf_counter() - t1
    finally:
        k.stop()
        k.cleanup()
    return {"startup": startup, "traffic": traffic, "total": time.perf_counter() - t0, "answered": answered}


def realkam_free_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--scenarios", type=int, default=10)
    ap.add_argument("--keep", metavar="DIR", help="write the suite here and keep it")
    ap.add_argument("--repeat", type=int, default=1, metavar="N", help="time N runs of each, keep the fastest")
    ap.add_argument("--cold", action="store_true", help="no untimed first run (bytecode caches as they are)")
    args = ap.parse_args(argv)
    d = args.keep or tempfile.mkdtemp(prefix="kst-bench-")
    try:
        n = write_suite(d, args.steps, args.scenarios)
        env_py = sys.executable
        print(f"suite: {n} steps in {args.scenarios} scenarios on {os.path.relpath(CFG, ROOT)} ({d})")

        kt, kout, krc = run_timed([env_py, "-m", "kscript", "test", d, "-q"], ROOT, args.repeat, not args.cold)
        klast = kout.strip().splitlines()[-1] if kout.strip() else "?"
        pt, pout, prc = run_timed([env_py, "-m", "pytest", d, "-q", "-p", "no:cacheprovider",
                                   "-o", "addopts=", "--rootdir", d], ROOT, args.repeat, not args.cold)
        plast = pout.strip().splitlines()[-1] if pout.strip() else "?"
        texts = requests_of_suite(d)
        real = real_kamailio(texts)

        print()
        if args.repeat > 1:
            print(f"(kscript and pytest: the fastest of {args.repeat} runs)")
        print(f"{'run':<44} {'wall s':>8} {'steps/s':>9}  result")
        print(f"{'kscript test (new process)':<44} {kt:>8.3f} {n / kt:>9.0f}  {klast}")
        print(f"{'pytest (new process, kscript plugin)':<44} {pt:>8.3f} {n / pt:>9.0f}  {plast}")
        if "error" in real:
            print(f"real Kamailio: {real['error']}")
        else:
            print(f"{'real Kamailio 5.6: start-up to first answer':<44} {real['startup']:>8.3f}")
            print(f"{'real Kamailio 5.6: ' + str(real['answered']) + ' requests over loopback':<44} "
                  f"{real['traffic']:>8.3f} {real['answered'] / real['traffic']:>9.0f}")
            tot = real["startup"] + real["traffic"]
            print(f"{'real Kamailio 5.6: start-up + traffic':<44} {tot:>8.3f} {real['answered'] / tot:>9.0f}")
            verdict = "faster" if kt < tot else "slower"
            print(f"\nkscript test, start-up included, is {verdict} than Kamailio start-up + the same traffic "
                  f"({kt:.3f} s vs {tot:.3f} s; ratio {kt / tot:.2f})")
        if krc != 0 or prc != 0:
            print("\nnote: the suite did not pass everywhere:")
            print("\n".join(kout.strip().splitlines()[-15:]))
        skipped = "skipped" in klast
        if skipped:
            print("note: scenarios were skipped (kscript lacks modules), the kscript timings are not meaningful")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
