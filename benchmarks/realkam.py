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
import sys as _sys

# benchmarks/ holds a redis.py of its own: never let it shadow the redis package
_HERE = os.path.dirname(os.path.abspath(__file__))
_sys.path[:] = [p for p in _sys.path if os.path.abspath(p or ".") != _HERE]
if os.path.dirname(_HERE) not in _sys.path:
    _sys.path.insert(0, os.path.dirname(_HERE))
import shlex  # noqa: E402
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from kscript.sip.builder import parse_src  # noqa: E402

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
_CHECKABLE = {"reply", "replies", "forward", "forwards", "sent", "flow", "routes", "log"}
_REDIS_CHECKS = {"redis", "redis_ttl"}


class _RedisStub:
    """What the expectation checks need from a script: ``config`` and ``redis(name)``."""

    def __init__(self, cfg, defines, url):
        import redis as redis_py
        from kscript.check import check_file
        self.config = check_file(cfg, defines).config
        from kscript import nodes as N
        db = 0
        for item in self.config.items:  # db_redis configs: use the db of the DB URL
            if isinstance(item, N.ModParam) and item.param == "db_url" and str(item.value).startswith("redis://"):
                db = int(str(item.value).rsplit("/", 1)[1] or 0)
        self.client = redis_py.Redis.from_url(url.rsplit("/", 1)[0] + f"/{db}")
        self.mocks = {}

    def redis(self, name):
        return self.client


def verify_scenario(sc, port: int = 5060, redis_url: str | None = None) -> list[str]:
    """Play ``sc``'s send steps against real Kamailio; return problems (empty = agrees).

    With ``redis_url`` (a throwaway Redis: it is flushed), ``redis.seed`` is applied and
    ``redis``/``redis_ttl`` expectations are checked too (the cfg must read its ndb_redis
    server from a define the caller points there)."""
    from kscript.testing.expectations import StepView, evaluate
    from kscript.testing.runner import Runner, _PlayState
    from kscript.runtime.context import Sent, Socket

    if sc.mocks or any(st.kind != "send" for st in sc.steps):
        return ["not checkable against real Kamailio (mocks, reply or advance steps)"]
    problems = []
    stub = None
    checkable = set(_CHECKABLE)
    if redis_url:
        stub = _RedisStub(sc.config, sc.defines, redis_url)
        stub.client.flushdb()
        seed = sc.redis_seed or []
        for cmd in (seed if isinstance(seed, list) else [c for v in seed.values() for c in v]):
            stub.client.execute_command(*(shlex.split(cmd) if isinstance(cmd, str) else cmd))
        checkable |= _REDIS_CHECKS
    k = RealKamailio(sc.config, sc.defines + list(EXTRA_DEFINES), port=port, cfgt=True)
    # every message really comes from 127.0.0.1:<ua port>: rewrite the scenario's source
    # addresses in expectations and seeds (two sources become one: such steps may differ)
    subst = []
    for src in {sc.src, *(st.src for st in sc.steps if st.src)}:
        _p, host, sport = parse_src(src)
        subst += [(f"{host}:{sport}", f"127.0.0.1:{k.ua_port}"), (host, "127.0.0.1")]
    k.start()
    if stub is not None:  # after the start-up probe (which the cfg counted too)
        stub.client.flushdb()
        for cmd in _subst(sc.redis_seed or [], subst):
            stub.client.execute_command(*(shlex.split(cmd) if isinstance(cmd, str) else cmd))
    try:
        runner = Runner()
        state = _PlayState()
        for st in [st for st in sc.steps for _ in range(st.repeat)]:
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
            for s_ in sent:
                if s_.kind == "reply":
                    for hn in ("www-authenticate", "proxy-authenticate"):
                        if s_.header(hn):
                            state.last_challenge = (hn, s_.header(hn))
            # cfgt reports every route entered as a start| entry (plus re-starts of a parent)
            routes = [n.split("|", 1)[1] for n in flow if n.startswith("start|")]
            view = StepView(sent=sent, flow=[(n, None) for n in flow], routes=routes, script=stub,
                            log=_new_log(k))
            exp = {k_: v for k_, v in _subst(st.expect, subst).items() if k_ in checkable}
            neg = {k_: v for k_, v in (_subst(st.expect, subst).get("not") or {}).items() if k_ in checkable}
            if neg:
                exp["not"] = neg
            ttl = exp.pop("redis_ttl", None)  # real time passes: allow one second
            for key, want in (ttl or {}).items():
                got = stub.client.ttl(key)
                if abs(got - want) > 1 or (want < 0 and got != want):
                    problems.append(f"step {st.index + 1}: redis_ttl: TTL of {key} is {got}, expected {want}")
            for f in evaluate(exp, view):
                problems.append(f"step {st.index + 1}: {f}")
    finally:
        k.stop()
        k.cleanup()
    return problems


def _subst(v, pairs):
    import re
    if isinstance(v, str):
        for a, b in pairs:
            v = v.replace(a, b).replace(re.escape(a), re.escape(b))
        return v
    if isinstance(v, dict):
        return {_subst(k, pairs): _subst(x, pairs) for k, x in v.items()}
    if isinstance(v, list):
        return [_subst(x, pairs) for x in v]
    return v


EXTRA_DEFINES: list[str] = []  # e.g. REDIS_SERVER pointing at a throwaway Redis


def _new_log(k) -> list:
    """Script log lines (xlog) Kamailio wrote since the last call, as LogRecords."""
    import re
    from kscript.runtime.context import LogRecord
    path = os.path.join(k.dir, "kamailio.log")
    with open(path, "rb") as f:
        f.seek(getattr(k, "_log_pos", 0))
        data = f.read().decode("utf-8", "replace")
        k._log_pos = f.tell()
    out = []
    for line in data.splitlines():
        m = re.search(r"\b(ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG): <script>: (.*)$", line)
        if m:
            lvl = {"ERROR": "ERR", "WARNING": "WARN", "DEBUG": "DBG", "CRITICAL": "CRIT"}.get(m.group(1), m.group(1))
            out.append(LogRecord(lvl, m.group(2)))
    return out


def _retarget_via(text: str, ua_port: int) -> str:
    """Point the top Via at the real UA socket (so replies come back to it)."""
    head, sep, rest = text.partition("\r\nVia: ")
    if not sep:
        return text
    via, sep2, tail = rest.partition("\r\n")
    proto, _, params = via.partition(" ")
    params = params.split(";", 1)
    return f"{head}\r\nVia: {proto} 127.0.0.1:{ua_port};{params[1] if len(params) > 1 else 'rport'}{sep2}{tail}"


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
    redis_url = None
    if argv and argv[0].startswith("--redis="):
        # --redis=PORT: start a throwaway redis-server there and point REDIS_SERVER at it
        rport = int(argv.pop(0).split("=", 1)[1])
        subprocess.run(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                        "--daemonize", "yes"], check=True)
        for _ in range(50):  # wait until it answers
            if subprocess.run(["redis-cli", "-p", str(rport), "ping"], capture_output=True).stdout.strip() == b"PONG":
                break
            time.sleep(0.1)
        redis_url = f"redis://127.0.0.1:{rport}/0"
        EXTRA_DEFINES.append(f'REDIS_SERVER="name=limits;addr=127.0.0.1;port={rport};db=0"')
        EXTRA_DEFINES.append(f'DBURL="redis://127.0.0.1:{rport}/1"')
    bad = 0
    for path in find_scenarios(argv):
        for sc in load_file(path):
            problems = verify_scenario(sc, redis_url=redis_url)
            if problems and problems[0].startswith("not checkable"):
                print(f"SKIP  {sc.id}: {problems[0]}")
                continue
            print(f"{'ok  ' if not problems else 'DIFF'}  {sc.id}")
            for p in problems:
                print(f"      {p}")
            bad += bool(problems)
    if redis_url:
        subprocess.run(["redis-cli", "-p", str(rport), "shutdown", "nosave"], capture_output=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
