"""Helpers for the ndb_redis tests (imported by conftest.py and the test modules):
redis-server processes on free loopback ports, sentinel/TLS set-ups, SIP and log helpers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
REDIS_SENTINEL = shutil.which("redis-sentinel") or REDIS_SERVER

requires_redis = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed "
                                    "(apt-get install redis-server)")

HEADER = """#!KAMAILIO
debug=3
log_stderror=yes
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "ndb_redis.so"
"""

OPTIONS = ("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-{n}\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a{n}\r\nTo: <sip:bob@127.0.0.1>\r\n"
           "Call-ID: c{n}@127.0.0.1\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n")


def free_port(need_bus: bool = False) -> int:
    """A TCP port free on 127.0.0.1 (and port+10000 too when ``need_bus``)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not need_bus:
            return port
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 10.0, tls: bool = False) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"redis process on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                if tls:
                    return
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                s.settimeout(0.5)
                data = s.recv(100)
                if data.startswith((b"+PONG", b"-NOAUTH")):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"redis on port {port} did not start")


class RedisProc:
    """One redis-server (or sentinel) process."""

    def __init__(self, tmp: Path, port: int | None = None, args: list[str] | None = None,
                 binary: str | None = None, tls: bool = False):
        self.port = port or free_port()
        self.dir = tmp / f"redis-{self.port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.args = list(args or [])
        self.binary = binary or REDIS_SERVER
        self.tls = tls
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        port_args = ["--port", "0", "--tls-port", str(self.port)] if self.tls else ["--port", str(self.port)]
        return [self.binary, "--bind", "127.0.0.1", *port_args, "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--daemonize", "no", "--enable-debug-command", "local", *self.args]

    def start(self) -> "RedisProc":
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_port(self.port, self.proc, tls=self.tls)
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> "RedisProc":
        self.stop()
        return self.start()

    def client(self, db: int = 0, **kw):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, decode_responses=True, **kw)

    def cli(self, *args: str, timeout: float = 10) -> str:
        return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=timeout).stdout


class SentinelGroup:
    def __init__(self, master: RedisProc, replica: RedisProc, sentinels: list[RedisProc], name: str):
        self.master = master
        self.replica = replica
        self.sentinels = sentinels
        self.name = name

    def current_master(self) -> tuple[str, int] | None:
        for s in self.sentinels:
            if s.proc is None or s.proc.poll() is not None:
                continue
            out = s.cli("SENTINEL", "get-master-addr-by-name", self.name).split()
            if len(out) == 2:
                return out[0], int(out[1])
        return None

    def wait_master(self, port: int, timeout: float = 20.0) -> None:
        """Until every live sentinel names 127.0.0.1:port as the master."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            answers = []
            for s in self.sentinels:
                if s.proc is None or s.proc.poll() is not None:
                    continue
                answers.append(s.cli("SENTINEL", "get-master-addr-by-name", self.name).split())
            if answers and all(a == ["127.0.0.1", str(port)] for a in answers):
                return
            time.sleep(0.1)
        raise RuntimeError(f"sentinels did not promote 127.0.0.1:{port} (now {self.current_master()})")

    def wait_replica_known(self, timeout: float = 15.0) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            ok = True
            for s in self.sentinels:
                out = s.cli("SENTINEL", "replicas", self.name)
                if str(self.replica.port) not in out:
                    ok = False
            if ok:
                return
            time.sleep(0.1)
        raise RuntimeError("sentinels did not discover the replica")


class TlsSetup:
    def __init__(self, proc: RedisProc, ca_dir: Path, ca_file: Path):
        self.proc = proc
        self.port = proc.port
        self.ca_dir = ca_dir
        self.ca_file = ca_file


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def options(n: int = 1) -> str:
    return OPTIONS.format(n=n)


def script_log(result, sources=("script", "ndb_redis", "core")) -> list[str]:
    """``LEVEL source: text`` lines of a Result."""
    return [f"{r.level} {r.source}: {r.text.rstrip(chr(10))}" for r in result.log if r.source in sources]
