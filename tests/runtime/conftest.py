"""Helpers: run a request_route body through kscript and collect the xlog lines."""

from __future__ import annotations

import textwrap

import pytest

import kscript

HEADER = """#!KAMAILIO
debug=3
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
"""

OPTIONS = kscript.sip.request("OPTIONS", "sip:bob@127.0.0.1", from_="sip:alice@example.com",
                              headers={"X-Num": "5"})


@pytest.fixture
def run_cfg(tmp_path):
    """run_cfg(body, extra="", messages=1) -> list of log texts per message."""

    def run(body: str, extra: str = "", messages: int = 1, msg: str = OPTIONS):
        cfg = tmp_path / "t.cfg"
        cfg.write_text(HEADER + extra + "\nrequest_route {\n" + textwrap.dedent(body) + "\n}\n")
        script = kscript.load(cfg)
        out = []
        for _ in range(messages):
            res = script.process(msg)
            out.append([r.text.rstrip("\n") for r in res.log if r.source == "script"])
        return out[0] if messages == 1 else out

    return run
