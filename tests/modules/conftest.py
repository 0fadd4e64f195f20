"""Helpers for the module tests: load a small cfg, build requests, run them.

Fixtures are prefixed ``ks_`` so they do not collide with fixtures of the
per-module folders (tests/modules/tm, ...)."""

from __future__ import annotations

import textwrap

import pytest

import kscript

BASE_MODULES = ("pv", "xlog", "sl", "textops")
SRC = "udp:127.0.0.1:5080"


def sip_request(method="OPTIONS", ruri="sip:bob@127.0.0.1", *, headers=(), body="", to_tag=None,
                via="SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKtest1", call_id="call-1@test",
                from_tag="ftag1", cseq=1, content_length=True) -> str:
    """A request written out exactly (CRLF line ends): Via, Max-Forwards, From, To,
    Call-ID, CSeq, the extra ``headers`` ("Name: value" strings), Content-Length, body."""
    vias = [via] if isinstance(via, str) else list(via)
    lines = [f"{method} {ruri} SIP/2.0"]
    lines += [f"Via: {v}" for v in vias]
    lines += ["Max-Forwards: 70", f"From: <sip:alice@127.0.0.1>;tag={from_tag}",
              "To: <sip:bob@127.0.0.1>" + (f";tag={to_tag}" if to_tag else ""),
              f"Call-ID: {call_id}", f"CSeq: {cseq} {method}"]
    lines += list(headers)
    if content_length:
        lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


@pytest.fixture
def ks_load(tmp_path):
    """ks_load(body, modules=(...), extra="", routes="", clock=None) -> Script with
    ``body`` as request_route; ``extra`` goes before the routes (modparams, core
    params), ``routes`` after request_route."""
    counter = {"n": 0}

    def load(body: str, modules=BASE_MODULES, extra: str = "", routes: str = "", clock=None, mocks=None):
        counter["n"] += 1
        cfg = tmp_path / f"t{counter['n']}.cfg"
        mods = "".join(f'loadmodule "{m}.so"\n' for m in modules)
        cfg.write_text("#!KAMAILIO\ndebug=3\nlog_stderror=yes\n" + mods + textwrap.dedent(extra)
                       + "\nrequest_route {\n" + textwrap.dedent(body) + "\n}\n" + textwrap.dedent(routes))
        return kscript.load(cfg, clock=clock, mocks=mocks)

    return load


@pytest.fixture
def ks_run(ks_load):
    """ks_run(body, msg=None, **load_kw) -> Result of one request through ``body``."""

    def run(body: str, msg: str | None = None, src: str = SRC, **kw):
        script = ks_load(body, **kw)
        return script.process(msg or sip_request(), src=src)

    return run


def script_logs(result, source="script"):
    return [r.text.rstrip("\n") for r in result.log if r.source == source]


@pytest.fixture
def ks_msg():
    """The :func:`sip_request` builder."""
    return sip_request


@pytest.fixture
def ks_logs():
    """ks_logs(result, source="script") -> the log texts of that source."""
    return script_logs
