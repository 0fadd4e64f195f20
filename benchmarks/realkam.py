"""Real Kamailio 5.6 on loopback: start it with a cfg, send SIP, collect what it sends.

Used by ``benchmarks/suite.py`` (start-up + 1000 requests, timed) and to check the
examples' scenarios against the real server (``python benchmarks/realkam.py
SCENARIO.kst.yaml...``): each ``send`` step goes to a real Kamailio (with the cfgt
module recording the route flow), and the ``reply``/``replies``/``forward``/
``forwards``/``sent``/``flow``/``routes`` expectations are checked against what the
real server did. Scenarios with mocks, ``advance`` or ``reply`` steps are reported
as not checkable (real Kamailio runs the real functions in real time).

Stdlib + kscript only; the Kamailio binary and modules of the Debian package.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

KAMAILIO = os.environ.get("KSCRIPT_KAMAILIO", "/usr/sbin/kamailio")
MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
CALLEE_PORTS = (5080, 5090)  # the examples register contacts / route next hops here


def available() -> bool:
    return os.access(KAMAILIO, os.X_OK) and os.path.isfile(os.path.join(MODDIR, "tm.so"))


class RealKamailio:
    """``with RealKamailio(cfg, defines, port=5060) as k: k.request(text)``."""

    def __init__(self, cfg: str, defines=(), port: int = 5060, cfgt: bool = False, children: int = 1):
        self.cfg = os.path.abspath(cfg)
        self.defines = list(defines)
        self.port = port
        self.cfgt = cfgt
        self.children = children
        self.dir = tempfile.mkdtemp(prefix="realkam-")
        self.proc = None
        self.started_at = self.ready_at = None
        self.ua = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ua.bind(("127.0.0.1", 0))
        self.ua_port = self.ua.getsockname()[1]
        self.callees = []  # sockets standing in for registered contacts / next hops
        for cp in CALLEE_PORTS:
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                c.bind(("127.0.0.1", cp))
            except OSError:
                c.close()
                continue
            self.callees.append(c)

    @property
    def cfgt_dir(self) -> str:
        return os.path.join(self.dir, "cfgt")

    def start(self, timeout: float = 10.0) -> float:
        """Start Kamailio; returns the seconds until it answered its first OPTIONS."""
        args = [KAMAILIO, "-f", self.cfg, "-L", MODDIR, "-Y", self.dir, "-DD", "-E", "-n", str(self.children),
                "-l", f"udp:127.0.0.1:{self.port}", "-m", "64", "-M", "16"]
        for d in self.defines:
            args += ["-A", d]
        if self.cfgt:
            os.makedirs(self.cfgt_dir, exist_ok=True)
            args += ["--loadmodule=cfgt.so", "--loadmodule=debugger.so", "--modparam=debugger:cfgtest:i:1",
                     f"--modparam=cfgt:basedir:s:{self.cfgt_dir}", "--modparam=cfgt:callid_prefix:s:K%"]
        self.log = open(os.path.join(self.dir, "kamailio.log"), "wb")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        # ready = answers anything on its SIP port (a malformed probe gets no answer, so use OPTIONS)
        deadline = self.started_at + timeout
        probe = (f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.ua_port};"
                 f"branch=z9hG4bKprobe{{n}}\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\n"
                 f"Call-ID: probe{{n}}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        n = 0
        self.ua.settimeout(0.02)
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kamailio exited: {open(os.path.join(self.dir, 'kamailio.log')).read()[-2000:]}")
            n += 1
            self.ua.sendto(probe.format(n=n).encode(), ("127.0.0.1", self.port))
            try:
                self.ua.recvfrom(65535)
                self.ready_at = time.perf_counter()
                self.ua.settimeout(1.0)
                return self.ready_at - self.started_at
            except OSError:
                continue
        raise RuntimeError("kamailio did not answer within the timeout")

    def send(self, text: str, wait: float = 0.3, expect_any: bool = True) -> list[tuple[tuple, str]]:
        """Send one message from the UA socket; collect datagrams until ``wait`` s of silence."""
        import select
        self.ua.sendto(text.encode(), ("127.0.0.1", self.port))
        out = []
        socks = [self.ua] + self.callees
        while True:
            ready, _, _ = select.select(socks, [], [], wait)
            if not ready:
                break
            for s in ready:
                data, _addr = s.recvfrom(65535)
                # report where it was sent to (the receiving socket), like kscript's Sent.dst
                out.append((s.getsockname(), data.decode("utf-8", "replace")))
        return out

    def request(self, text: str, timeout: float = 2.0) -> str:
        """Send and return the first answer (for the benchmark)."""
        self.ua.settimeout(timeout)
        self.ua.sendto(text.encode(), ("127.0.0.1", self.port))
        data, _ = self.ua.recvfrom(65535)
        return data.decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.ua.close()
        for c in self.callees:
            c.close()

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()


# ---------------------------------------------------------------- scenario check
_CHECKABLE = {"reply", "replies", "forward", "forwards", "sent", "flow", "routes"}


def verify_scenario(sc, port: int = 5060) -> list[str]:
    """Play ``sc``'s send steps against real Kamailio; return problems (empty = agrees)."""
    from kscript.testing.expectations import StepView, evaluate
    from kscript.testing.runner import Runner, _PlayState
    from kscript.runtime.context import Sent, Socket

    if sc.mocks or any(st.kind != "send" for st in sc.steps):
        return ["not checkable against real Kamailio (mocks, reply or advance steps)"]
    problems = []
    k = RealKamailio(sc.config, sc.defines, port=port, cfgt=True)
    k.start()
    try:
        runner = Runner()
        state = _PlayState()
        for st in sc.steps:
            text, _src = runner._build_request(sc, st, state)
            # the real UA socket is the source: rewrite the top Via's sent-by accordingly
            text = _retarget(text, k.ua_port, st.index, sc)
            got = k.send(text)
            time.sleep(0.05)
            sent = []
            for (host, p), data in got:
                kind = "reply" if data.startswith("SIP/2.0 ") else "request"
                sent.append(Sent(kind, Socket("udp", host, p), data))
            flow = _cfgt_flow(k.cfgt_dir, text)
            # cfgt reports every route entered as a start| entry (plus re-starts of a parent)
            routes = [n.split("|", 1)[1] for n in flow if n.startswith("start|")]
            view = StepView(sent=sent, flow=[(n, None) for n in flow], routes=routes)
            exp = {k_: v for k_, v in st.expect.items() if k_ in _CHECKABLE}
            neg = {k_: v for k_, v in (st.expect.get("not") or {}).items() if k_ in _CHECKABLE}
            if neg:
                exp["not"] = neg
            for f in evaluate(exp, view):
                problems.append(f"step {st.index + 1}: {f}")
    finally:
        k.stop()
        k.cleanup()
    return problems


def _retarget(text: str, ua_port: int, index: int, sc) -> str:
    lines = text.split("\r\n")
    for i, ln in enumerate(lines):
        if ln.lower().startswith("via:"):
            head, _, rest = ln.partition(" ")
            proto, _, params = rest.partition(" ")
            params = params.split(";", 1)
            lines[i] = f"{head} {proto} 127.0.0.1:{ua_port};" + (params[1] if len(params) > 1 else "rport")
            break
    for i, ln in enumerate(lines):
        if ln.lower().startswith("call-id:"):
            lines[i] = f"Call-ID: K%{sc.index}x{index}%{ln.split(':', 1)[1].strip()}"
            break
    return "\r\n".join(lines)


def _cfgt_flow(cfgt_dir: str, text: str) -> list[str]:
    cid = next(ln.split(":", 1)[1].strip() for ln in text.split("\r\n") if ln.lower().startswith("call-id:"))
    uuid = cid.split("%")[1]
    files = sorted(glob.glob(os.path.join(cfgt_dir, uuid, "*.json")))
    if not files:
        return []
    with open(files[-1]) as f:
        doc = json.load(f)
    return [next(iter(e)) for e in doc["flow"]]


def main(argv: list[str]) -> int:
    from kscript.testing.scenario import find_scenarios, load_file

    if not available():
        print("kamailio is not installed")
        return 2
    bad = 0
    for path in find_scenarios(argv):
        for sc in load_file(path):
            problems = verify_scenario(sc)
            if problems and problems[0].startswith("not checkable"):
                print(f"SKIP  {sc.id}: {problems[0]}")
                continue
            print(f"{'ok  ' if not problems else 'DIFF'}  {sc.id}")
            for p in problems:
                print(f"      {p}")
            bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
