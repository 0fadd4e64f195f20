#!/usr/bin/env python3
"""Record real Kamailio 5.6 behaviour as golden JSON for kscript's conformance tests.

Usage::

    python3 tools/record_conformance.py [CASE...]            # record (default: all cases)
    python3 tools/record_conformance.py --verify [CASE...]   # record twice, compare, then write
    python3 tools/record_conformance.py --check [CASE...]    # record once, compare with golden.json
    python3 tools/record_conformance.py --selftest [CASE...] # replay as test_conformance.py does,
                                                             # real kamailio in kscript's place
    python3 tools/record_conformance.py -v ...               # print each step as it runs

Cases live in ``tests/conformance/cases/<name>/`` (``case.cfg``, ``*.sip``,
``case.yaml``; the format of case.yaml is documented in
``tests/conformance/caselib.py``).  A CASE argument is a case name or a path.

What one recording does
-----------------------
1. Takes an exclusive lock (``/tmp/kscript-conformance.lock``) so two recorders on
   one machine never fight over the fixed ports, and checks that the ports are free.
2. If the case has ``redis``: starts ``redis-server --bind 127.0.0.1 --port P
   --save '' --appendonly no`` (its own process, stopped by PID at the end) and
   flushes it.
3. Binds every endpoint (UDP sockets on 127.0.0.1): the step sources (default
   ``udp:127.0.0.1:5080``), the default sink ``udp:127.0.0.1:5090`` and the
   case's extra ``sinks``.
4. Starts ``kamailio -f case.cfg -DD -E -n 1 -l udp:127.0.0.1:5060 -Y RUNDIR
   -w RUNDIR -L MODULES [-A DEFINE...] [kamailio_args...]`` in its own
   session (RUNDIR is a fresh temporary directory, so the ctl/jsonrpcs sockets
   of a cfg land there).  The debug level is the cfg's own.  Ready = the process
   is alive, 127.0.0.1:5060/udp is bound, and stderr has been quiet for 0.5 s.
   The "Listening on" block kamailio prints on stdout must list only 127.x
   addresses, otherwise the case fails.  Everything printed before the first
   step (start-up noise) and after the last (shutdown noise) is dropped.
5. For every step: sends the message file (converted to CRLF) from the step's
   source socket to 127.0.0.1:5060, then collects, until nothing new arrived
   for ``settle`` seconds (default 0.3 s; at least ``wait`` seconds, at most
   10 s):

   * every datagram arriving at any endpoint -> ``sent`` entries ``{"kind":
     "reply"|"request", "dst": "udp:IP:PORT", "message": text}``, ordered by the
     kernel's receive timestamp (SO_TIMESTAMPNS), i.e. in Kamailio's send order;
   * requests (not ACK) arriving at an endpoint with an answer list are answered
     at once, in order (replies built by ``caselib.build_reply``); what the
     endpoints sent is kept under ``injected`` for reference;
   * retransmissions: a datagram byte-identical to one the same endpoint already
     received in this case is dropped (tm retransmits unanswered requests and
     unacknowledged final replies after 500 ms, 1 s, 2 s ...; the first copy is
     the one recorded, and copies neither extend the step nor get answered);
     consequently a case must not expect two identical datagrams, so every step
     uses its own branch/CSeq;
   * the stderr lines kamailio printed meanwhile, parsed into ``log`` entries
     (see ``parse_log``): ``{"level", "source", "text"}`` plus ``"prefix"`` when
     the cfg's ``log_prefix`` produced one and ``"func"`` for module/core lines.
     Levels: ALERT->ALERT, BUG->BUG, CRITICAL->CRIT, ERROR->ERR, WARNING->WARN,
     NOTICE->NOTICE, INFO->INFO, DEBUG->DBG.  ``source`` is ``script`` for
     xlog/log lines (text = what follows ``<script>: ``), ``core`` for
     ``<core>`` lines, else the module name (text = what follows ``func(): ``).
     One trailing newline of a message is removed; a message without a trailing
     newline is still split where the next record header starts;
   * with redis: a dump of the whole keyspace after the step: ``{key: {"type":
     t, "value": v, "ttl": bool}}`` (hash -> object, list -> array, set ->
     sorted array, zset -> [[member, score], ...]).
6. Stops kamailio with SIGTERM to its PID (waits up to 5 s), then SIGKILL to
   whatever is left of the process group it was started in; stops redis by PID;
   removes RUNDIR.

Output: ``golden.json`` = ``{"kamailio": "<kamailio -v version>", "case": name,
"steps": [{"send": file, "src": addr, "sent": [...], "log": [...],
"injected": [...]?, "redis": {...}?}, ...]}``.  Values that may vary between
runs (Via branches, To tags, Server/User-Agent, times) are left as recorded; the
comparator (``tests/conformance/normalize.py``) normalises them, and per-case
``compare: masks`` cover the rest (e.g. acc's ``timestamp=``).  ``--verify``
compares two recordings after that normalisation, with every log line (module
and core lines too) included.

``--selftest`` checks the test side of the harness: it runs each case through
``caselib.replay_step`` -- the function test_conformance.py uses with kscript --
with a real kamailio behind the same ``process()`` interface (no auto-answering;
the replay builds and feeds the next hops' replies itself, in FIFO order) and
diffs the normalised result against golden.json.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "conformance"))

import caselib  # noqa: E402
import normalize  # noqa: E402

KAMAILIO = os.environ.get("KAMAILIO", "/usr/sbin/kamailio")
MODULES_DIR = os.environ.get("KAMAILIO_MODULES", "/usr/lib/x86_64-linux-gnu/kamailio/modules")
REDIS_SERVER = os.environ.get("REDIS_SERVER", "redis-server")
LOCK_FILE = "/tmp/kscript-conformance.lock"
KAM_IP, KAM_PORT = "127.0.0.1", 5060
READY_QUIET = 0.5
READY_TIMEOUT = 20.0
MAX_STEP = 10.0

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)

LEVELS = {"ALERT": "ALERT", "BUG": "BUG", "CRITICAL": "CRIT", "ERROR": "ERR",
          "WARNING": "WARN", "NOTICE": "NOTICE", "INFO": "INFO", "DEBUG": "DBG"}
# Record header of -E output: "%2d(%d) LEVEL: " (rank, pid)
LOG_HDR = re.compile(r" ?(\d+)\((\d+)\) (ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG): ")
SCRIPT_RE = re.compile(r"(?P<prefix>.*?)<script>: (?P<text>.*)", re.S)
MODULE_RE = re.compile(r"(?P<prefix>.*?)(?P<src><core>|[A-Za-z0-9_]+) \[(?P<file>[^\]\s]+)\]: "
                       r"(?:(?P<func>[A-Za-z0-9_]+)\(\): )?(?P<text>.*)", re.S)


class RecordError(Exception):
    pass


def kamailio_version() -> str:
    out = subprocess.run([KAMAILIO, "-v"], capture_output=True, text=True).stdout
    first = out.splitlines()[0] if out else ""
    return first.replace("version:", "", 1).strip()


# ---------------------------------------------------------------- log parsing

def parse_log(text: str) -> list[dict]:
    """Parse kamailio -E stderr text into log entries (see module docstring)."""
    out = []
    ms = list(LOG_HDR.finditer(text))
    for i, m in enumerate(ms):
        end = ms[i + 1].start() if i + 1 < len(ms) else len(text)
        body = text[m.end():end]
        if body.endswith("\n"):
            body = body[:-1]
        entry: dict = {"level": LEVELS[m.group(3)]}
        sm = SCRIPT_RE.match(body)
        mm = MODULE_RE.match(body)
        if sm and (not mm or len(sm.group("prefix")) <= len(mm.group("prefix"))):
            entry["source"] = "script"
            entry["text"] = sm.group("text")
            prefix = sm.group("prefix")
        elif mm:
            src = mm.group("src")
            entry["source"] = "core" if src == "<core>" else src
            entry["text"] = mm.group("text")
            if mm.group("func"):
                entry["func"] = mm.group("func")
            prefix = mm.group("prefix")
        else:
            entry["source"] = "unknown"
            entry["text"] = body
            prefix = ""
        if prefix:
            entry["prefix"] = prefix
        out.append(entry)
    return out


# ---------------------------------------------------------------- processes

def _port_bound_udp(ip: str, port: int) -> bool:
    want = "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(ip))[0], port)
    try:
        with open("/proc/net/udp") as f:
            return any(line.split()[1] == want for line in list(f)[1:])
    except OSError:
        return False


class LineReader(threading.Thread):
    """Reads a pipe line by line, timestamping each line (time.monotonic)."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def run(self):
        try:
            for raw in iter(self.stream.readline, b""):
                with self.lock:
                    self.lines.append((time.monotonic(), raw.decode("utf-8", "backslashreplace")))
        except (ValueError, OSError):  # pipe closed under us at shutdown
            pass

    def count(self) -> int:
        with self.lock:
            return len(self.lines)

    def last_time(self) -> float:
        with self.lock:
            return self.lines[-1][0] if self.lines else 0.0

    def text(self, start: int, end: int | None = None) -> str:
        with self.lock:
            return "".join(t for _, t in self.lines[start:end])


class Kamailio:
    def __init__(self, case: caselib.Case, verbose: bool = False):
        self.case = case
        self.verbose = verbose
        self.proc: subprocess.Popen | None = None
        self.rundir = tempfile.mkdtemp(prefix="kscript-conf-")

    def start(self):
        if _port_bound_udp(KAM_IP, KAM_PORT):
            raise RecordError(f"udp:{KAM_IP}:{KAM_PORT} is already in use")
        cmd = [KAMAILIO, "-f", str(self.case.cfg.resolve()), "-DD", "-E", "-n", "1",
               "-l", f"udp:{KAM_IP}:{KAM_PORT}", "-Y", self.rundir, "-w", self.rundir,
               "-L", MODULES_DIR]
        for d in self.case.defines:
            cmd += ["-A", d]
        cmd += self.case.kamailio_args
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.err = LineReader(self.proc.stderr)
        self.out = LineReader(self.proc.stdout)
        self.err.start()
        self.out.start()
        t0 = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise RecordError(f"kamailio exited with {self.proc.returncode} at start-up:\n"
                                  + self.err.text(0)[-4000:])
            if _port_bound_udp(KAM_IP, KAM_PORT):
                break
            if time.monotonic() - t0 > READY_TIMEOUT:
                raise RecordError("kamailio did not bind its port in time:\n" + self.err.text(0)[-4000:])
            time.sleep(0.05)
        # quiet stderr for READY_QUIET seconds
        while True:
            now = time.monotonic()
            if self.proc.poll() is not None:
                raise RecordError("kamailio died during start-up:\n" + self.err.text(0)[-4000:])
            if now - max(self.err.last_time(), t0) >= READY_QUIET:
                break
            if now - t0 > READY_TIMEOUT:
                break
            time.sleep(0.05)
        self.check_listen()

    def check_listen(self):
        text = self.out.text(0)
        m = re.search(r"Listening on\s*\n(.*?)(?:\nAliases:|\Z)", text, re.S)
        if not m:
            raise RecordError("kamailio did not print its 'Listening on' block:\n" + text)
        socks = re.findall(r"(\w+):\s*\[?([0-9a-fA-F.:]+?)\]?:(\d+)", m.group(1))
        if not socks:
            raise RecordError("could not parse kamailio's listen sockets:\n" + text)
        for proto, ip, port in socks:
            if not ip.startswith("127."):
                raise RecordError(f"kamailio listens on {proto}:{ip}:{port} (not loopback): "
                                  "remove that listen from the cfg")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.kill(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            # children left behind (they share the session/process group = pid)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for reader in (getattr(self, "err", None), getattr(self, "out", None)):
                if reader is not None:
                    reader.join(timeout=2)
            for s in (self.proc.stdout, self.proc.stderr):
                try:
                    s.close()
                except Exception:
                    pass
        shutil.rmtree(self.rundir, ignore_errors=True)


class Redis:
    def __init__(self, port: int):
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.client = None

    def start(self):
        import redis  # the redis-py client (a kscript dependency)
        probe = socket.socket()
        try:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RecordError(f"127.0.0.1:{self.port} (redis) is already in use")
        finally:
            probe.close()
        self.dir = tempfile.mkdtemp(prefix="kscript-conf-redis-")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", self.dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.client = redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)
        t0 = time.monotonic()
        while True:
            try:
                if self.client.ping():
                    break
            except Exception:
                pass
            if self.proc.poll() is not None or time.monotonic() - t0 > 10:
                raise RecordError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)
        self.client.flushall()

    def dump(self) -> dict:
        return caselib.dump_redis(self.client)

    def stop(self):
        if self.client is not None:
            try:
                self.client.close()
            except Exception:
                pass
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=5)
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- endpoints

class Endpoints:
    def __init__(self, addrs: list[str]):
        self.socks: dict[str, socket.socket] = {}
        self.sel = selectors.DefaultSelector()
        self.seen: dict[str, set[bytes]] = {}
        try:
            for a in addrs:
                _, ip, port = caselib.parse_addr(a)
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                try:
                    s.bind((ip, port))
                except OSError as e:
                    s.close()
                    raise RecordError(f"cannot bind endpoint {a}: {e}")
                s.setblocking(False)
                self.socks[a] = s
                self.seen[a] = set()
                self.sel.register(s, selectors.EVENT_READ, a)
        except Exception:
            self.close()
            raise

    def close(self):
        for s in self.socks.values():
            try:
                self.sel.unregister(s)
            except Exception:
                pass
            s.close()
        self.socks.clear()
        self.sel.close()

    def recv(self, timeout: float):
        """Yield (kernel_ts, endpoint, data, from_addr) for datagrams available now."""
        for key, _ in self.sel.select(timeout):
            ep = key.data
            s = self.socks[ep]
            while True:
                try:
                    data, anc, _flags, frm = s.recvmsg(65535, 256)
                except BlockingIOError:
                    break
                ts = time.time()
                for level, typ, cdata in anc:
                    if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(cdata) >= 16:
                        sec, nsec = struct.unpack("qq", cdata[:16])
                        ts = sec + nsec / 1e9
                yield ts, ep, data, frm


# ---------------------------------------------------------------- recording

class Session:
    """Redis (if the case has it), the endpoints and one kamailio, for one case."""

    def __init__(self, case: caselib.Case, verbose: bool = False):
        self.case = case
        self.verbose = verbose
        self.redis_srv = None
        self.kam = None
        self.eps = None
        self.seq = 0

    def __enter__(self):
        try:
            if self.case.redis_port:
                self.redis_srv = Redis(self.case.redis_port)
                self.redis_srv.start()
            self.eps = Endpoints(self.case.endpoints)
            self.kam = Kamailio(self.case, self.verbose)
            self.kam.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.kam:
            self.kam.stop()
            self.kam = None
        if self.eps:
            self.eps.close()
            self.eps = None
        if self.redis_srv:
            self.redis_srv.stop()
            self.redis_srv = None

    def exchange(self, text: str, src: str, settle: float = caselib.DEFAULT_SETTLE,
                 wait: float = 0.0, on_request=None, label: str = "") -> dict:
        """Send ``text`` from endpoint ``src`` to kamailio and collect until quiet.
        ``on_request(ep, text, frm)`` is called for each new request arriving at an
        endpoint (the recorder answers there).  Returns {"sent", "log"}."""
        kam, eps = self.kam, self.eps
        log_start = kam.err.count()
        records = []
        t0 = time.monotonic()
        last = t0
        last_log = log_start
        eps.socks[src].sendto(text.encode("utf-8"), (KAM_IP, KAM_PORT))
        while True:
            for ts, ep, data, frm in eps.recv(0.02):
                if data in eps.seen[ep]:
                    if self.verbose:
                        print(f"    (retransmission to {ep} dropped)")
                    continue
                eps.seen[ep].add(data)
                last = time.monotonic()
                msg = data.decode("utf-8", "backslashreplace")
                self.seq += 1
                records.append((ts, self.seq, {"kind": caselib.message_kind(msg), "dst": ep,
                                               "message": msg}))
                if on_request and caselib.request_method(msg):
                    on_request(ep, msg, frm)
            n = kam.err.count()
            if n != last_log:
                last_log = n
                last = max(last, kam.err.last_time())
            now = time.monotonic()
            if not kam.alive():
                raise RecordError(f"kamailio died during {label}:\n"
                                  + kam.err.text(log_start)[-4000:])
            if now - last >= settle and now - t0 >= wait:
                break
            if now - t0 > MAX_STEP:
                print(f"  warning: {self.case.name} {label} did not settle in {MAX_STEP}s",
                      file=sys.stderr)
                break
        records.sort(key=lambda r: (r[0], r[1]))
        return {"sent": [r[2] for r in records],
                "log": parse_log(kam.err.text(log_start, last_log))}


def record_case(case: caselib.Case, verbose: bool = False) -> dict:
    version = kamailio_version()
    steps = []
    history: dict[str, list[str]] = {ep: [] for ep in case.endpoints}  # requests received
    with Session(case, verbose) as sess:
        for idx, step in enumerate(case.steps):
            injected = []

            def answer(ep, text, frm, step=step, injected=injected):
                for spec in caselib.answers_for(step.answer.get(ep), caselib.request_method(text)):
                    reply = caselib.build_reply(text, spec, ep, history[ep])
                    sess.eps.socks[ep].sendto(reply.encode("utf-8"), frm)
                    injected.append({"src": ep, "dst": caselib.fmt_addr(frm[0], frm[1]),
                                     "message": reply})
                history[ep].append(text)

            got = sess.exchange(case.message(step), step.src, step.settle, step.wait, answer,
                                f"step {idx} ({step.send})")
            res = {"send": step.send, "src": step.src, "sent": got["sent"], "log": got["log"]}
            if injected:
                res["injected"] = injected
            if sess.redis_srv:
                res["redis"] = sess.redis_srv.dump()
            if verbose:
                print(f"  step {idx}: {step.send}: {len(res['sent'])} sent, {len(res['log'])} log")
            steps.append(res)
    return {"kamailio": version, "case": case.name, "steps": steps}


class OracleScript:
    """Real kamailio behind kscript's script interface (``process``,
    ``feed_reply``, ``redis_dump``), used by --selftest to check that the test's
    replay logic (caselib.replay_step: reply building, FIFO feeding) reproduces
    the goldens."""

    def __init__(self, sess: Session, step: caselib.Step):
        self.sess = sess
        self.step = step

    def process(self, text: str, src: str) -> dict:
        return self.sess.exchange(text, src, self.step.settle, self.step.wait, None, "selftest")

    feed_reply = process

    def redis_dump(self):
        return self.sess.redis_srv.dump() if self.sess.redis_srv else None


def selftest_case(case: caselib.Case, verbose: bool = False) -> str:
    """Replay the case with caselib.replay_step against real kamailio and diff the
    normalised result with golden.json ('' = identical)."""
    gold = json.loads(case.golden_path.read_text(encoding="utf-8"))
    exp_n = normalize.Normalizer(case.compare, case.dir)
    act_n = normalize.Normalizer(case.compare, case.dir)
    diffs = []
    history: dict = {}
    with Session(case, verbose) as sess:
        for i, (step, g) in enumerate(zip(case.steps, gold["steps"])):
            actual = caselib.replay_step(OracleScript(sess, step), case, step, history)
            if "redis" in g:
                actual["redis"] = sess.redis_srv.dump()
            d = normalize.diff_steps(exp_n.step(g), act_n.step(actual),
                                     f"{case.name} step {i} ({step.send})", "golden", "replay")
            if d:
                diffs.append(d)
    return "\n".join(diffs)


def compare_recordings(case: caselib.Case, a: dict, b: dict) -> str:
    """Readable differences between two recordings of a case ('' if equal after
    normalisation)."""
    diffs = []
    if len(a["steps"]) != len(b["steps"]):
        return f"step count differs: {len(a['steps'])} vs {len(b['steps'])}"
    na = normalize.Normalizer(case.compare, case.dir, all_logs=True)
    nb = normalize.Normalizer(case.compare, case.dir, all_logs=True)
    for i, (sa, sb) in enumerate(zip(a["steps"], b["steps"])):
        d = normalize.diff_steps(na.step(sa), nb.step(sb), f"step {i} ({sa.get('send')})",
                                 "first", "second")
        if d:
            diffs.append(d)
    return "\n".join(diffs)


def write_golden(case: caselib.Case, rec: dict):
    with open(case.golden_path, "w", encoding="utf-8") as f:
        json.dump(rec, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help="case names or directories (default: all)")
    ap.add_argument("--verify", action="store_true",
                    help="record each case twice and write golden.json only if both agree")
    ap.add_argument("--check", action="store_true",
                    help="record once and compare with the existing golden.json (writes nothing)")
    ap.add_argument("--selftest", action="store_true",
                    help="replay each case like test_conformance.py does, with real kamailio "
                         "in kscript's place, and compare with golden.json (writes nothing)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    lock = open(LOCK_FILE, "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another recorder holds {LOCK_FILE}; waiting ...", file=sys.stderr)
        fcntl.flock(lock, fcntl.LOCK_EX)

    failed = []
    dirs = caselib.case_dirs(args.cases)
    for d in dirs:
        try:
            case = caselib.load_case(d)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {d.name}: bad case: {e}")
            failed.append(d.name)
            continue
        try:
            if args.selftest:
                diff = selftest_case(case, args.verbose)
                if diff:
                    print(f"FAIL {case.name}: replay differs from golden.json:\n{diff}")
                    failed.append(case.name)
                else:
                    print(f"ok   {case.name}: replay matches golden.json")
                continue
            rec = record_case(case, args.verbose)
            if args.verify:
                rec2 = record_case(case, args.verbose)
                diff = compare_recordings(case, rec, rec2)
                if diff:
                    print(f"FAIL {case.name}: two recordings differ:\n{diff}")
                    failed.append(case.name)
                    continue
            if args.check:
                if not case.golden_path.is_file():
                    print(f"FAIL {case.name}: no golden.json")
                    failed.append(case.name)
                    continue
                gold = json.loads(case.golden_path.read_text(encoding="utf-8"))
                diff = compare_recordings(case, gold, rec)
                if diff:
                    print(f"FAIL {case.name}: recording differs from golden.json:\n{diff}")
                    failed.append(case.name)
                    continue
                print(f"ok   {case.name}: matches golden.json")
                continue
            write_golden(case, rec)
            nsent = sum(len(s["sent"]) for s in rec["steps"])
            nlog = sum(len(s["log"]) for s in rec["steps"])
            print(f"ok   {case.name}: {len(rec['steps'])} steps, {nsent} sent, {nlog} log"
                  + (" (verified twice)" if args.verify else ""))
        except RecordError as e:
            print(f"FAIL {case.name}: {e}")
            failed.append(case.name)
    verb = "replayed" if args.selftest else "checked" if args.check else "recorded"
    print(f"{len(dirs) - len(failed)} {verb}, {len(failed)} failed"
          + (": " + " ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
