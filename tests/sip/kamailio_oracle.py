"""Run the real Kamailio 5.6 binary on loopback as an oracle (tests and recording tools).

Not a test module: :func:`run_kamailio` starts ``kamailio -DD -E -n 1`` with a
throwaway config on a free UDP port of 127.0.0.1, sends it SIP datagrams, and
returns what it logged on stderr (and the datagrams it answered with).  Used by
``tools/record_transformations_uri.py`` and by ``tests/sip/test_kamailio_live.py``
(skipped when the binary is absent).  Stdlib only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

KAMAILIO = os.environ.get("KSCRIPT_KAMAILIO", "/usr/sbin/kamailio")
MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def kamailio_available() -> bool:
    return Path(KAMAILIO).is_file() and os.access(KAMAILIO, os.X_OK) and Path(MODDIR, "sl.so").is_file()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class OracleRun:
    stderr: str
    replies: list[bytes] = field(default_factory=list)

    def marked(self, marker: str) -> list[str]:
        """The text after ``marker`` on every stderr line containing it, in order."""
        out = []
        for line in self.stderr.splitlines():
            i = line.find(marker)
            if i >= 0:
                out.append(line[i + len(marker):])
        return out


DEFAULT_REPLY_ROUTE = '''    xlog("L_ERR", "KSREPLY|$rs|\\n");
    drop;'''


def make_cfg(port: int, route_body: str, modules=("sl", "pv", "xlog", "textops"), extra_globals: str = "",
             reply_body: str = DEFAULT_REPLY_ROUTE) -> str:
    loads = "\n".join(f'loadmodule "{m}.so"' for m in modules)
    return f"""#!KAMAILIO
debug=1
log_stderror=yes
memdbg=5
memlog=5
children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
mpath="{MODDIR}"
{extra_globals}
{loads}

request_route {{
{route_body}
}}

reply_route {{
{reply_body}
}}
"""


def run_kamailio(route_body: str, messages: list[bytes | str], *, wait_reply: bool = True,
                 timeout: float = 10.0, modules=("sl", "pv", "xlog", "textops"),
                 extra_globals: str = "", settle: float = 0.4, pkg_mb: int = 32,
                 reply_body: str = DEFAULT_REPLY_ROUTE, reply_timeout: float = 2.0) -> OracleRun:
    """Start kamailio with ``route_body`` as request_route, send ``messages`` one by one over UDP.

    Replies (if ``wait_reply``) are collected per message (b"" when none came within
    ``reply_timeout`` seconds).
    Raises RuntimeError when kamailio does not start.
    """
    port = free_udp_port()
    rundir = tempfile.mkdtemp(prefix="ksoracle-")
    cfg_path = Path(rundir, "oracle.cfg")
    cfg_path.write_text(make_cfg(port, route_body, modules, extra_globals, reply_body))
    errf = open(Path(rundir, "stderr.txt"), "w+b")
    proc = subprocess.Popen(
        [KAMAILIO, "-f", str(cfg_path), "-DD", "-E", "-n", "1", "-m", "64", "-M", str(pkg_mb), "-Y", rundir, "-w", rundir],
        stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True)
    replies: list[bytes] = []
    try:
        # wait until it listens (log line or reply to a probe is not needed: poll the stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                errf.seek(0)
                raise RuntimeError("kamailio exited at start-up:\n" + errf.read().decode("utf-8", "replace")[-3000:])
            errf.seek(0)
            if b"INFO: <core> [core/tcp_main.c" in errf.read() or _port_bound(port):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(reply_timeout)
            for m in messages:
                data = m.encode("utf-8") if isinstance(m, str) else m
                data = data.replace(b"@@PORT@@", str(port).encode()).replace(
                    b"@@LPORT@@", str(s.getsockname()[1]).encode())
                s.sendto(data, ("127.0.0.1", port))
                if wait_reply:
                    try:
                        replies.append(s.recvfrom(65535)[0])
                    except socket.timeout:
                        replies.append(b"")
        time.sleep(settle)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        errf.seek(0)
        stderr = errf.read().decode("utf-8", "replace")
        errf.close()
        shutil.rmtree(rundir, ignore_errors=True)
    return OracleRun(stderr, replies)


def _port_bound(port: int) -> bool:
    try:
        with open("/proc/net/udp") as f:
            hexport = f":{port:04X} "
            return any(hexport in line.split()[1] + " " for line in f.readlines()[1:])
    except OSError:
        return False


def options_request(extra_headers: str = "", ruri: str = "sip:oracle@127.0.0.1") -> bytes:
    """A minimal valid OPTIONS from 127.0.0.1:@@LPORT@@ (placeholders replaced when sent)."""
    return (
        f"OPTIONS {ruri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:@@LPORT@@;branch=z9hG4bKoracle1;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:oracle@127.0.0.1>;tag=orc1\r\n"
        "To: <sip:oracle@127.0.0.1>\r\n"
        "Call-ID: oracle-1@127.0.0.1\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"{extra_headers}"
        "Content-Length: 0\r\n\r\n").encode()
