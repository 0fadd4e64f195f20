"""`kscript run`: output formats, errors, mocks (the CLI contract of issue 3)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import kscript

CFG = """#!KAMAILIO
debug=2
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "dispatcher.so"
request_route {
    xlog("L_INFO", "got $rm from $si:$sp\\n");
    if (ds_select_dst("1", "4")) {
        xlog("L_INFO", "dst=$du\\n");
    }
    xlog("L_ERR", "n=$var(n)\\n");
    $var(n) = $var(n) + 1;
}
"""


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "k.cfg"
    cfg.write_text(CFG)
    msg = tmp_path / "options.sip"
    msg.write_text(kscript.sip.request("OPTIONS", "sip:127.0.0.1", from_="sip:alice@example.com"))
    return cfg, msg


def run(*args):
    return subprocess.run([sys.executable, "-m", "kscript", *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def test_unemulated_function_refuses_to_start_and_names_it(files):
    cfg, msg = files
    p = run("run", cfg, "--msg", msg)
    assert p.returncode == 1
    assert "ds_select_dst" in p.stderr and f"{cfg}:9" in p.stderr
    assert "Traceback" not in p.stderr


def test_json_one_object_per_message_with_mock(files):
    cfg, msg = files
    p = run("run", cfg, "--msg", msg, "--msg", msg, "--src", "udp:10.1.2.3:5070", "--mock", "ds_select_dst=-1",
            "--json")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0] == {"sent": [], "log": [
        {"level": "INFO", "text": "got OPTIONS from 10.1.2.3:5070", "source": "script"},
        {"level": "ERR", "text": "n=0", "source": "script"}]}
    assert lines[1]["log"][1]["text"] == "n=1"


def test_human_output_names_levels_and_cfg_lines(files):
    cfg, msg = files
    p = run("run", cfg, "--msg", msg, "--mock", "ds_select_dst=1")
    assert p.returncode == 0, p.stderr
    assert "INFO" in p.stdout and "got OPTIONS from 127.0.0.1:5060" in p.stdout
    assert f"{cfg}:8" in p.stdout  # the xlog's cfg line


def test_bad_config_exits_nonzero_with_check_error(tmp_path, files):
    _, msg = files
    bad = tmp_path / "bad.cfg"
    bad.write_text('loadmodule "xlog.so"\nrequest_route {\n  xlog("L_INFO", "x")\n}\n')
    p = run("run", bad, "--msg", msg)
    assert p.returncode == 1
    assert f"{bad}:4:1: error: syntax error" in p.stderr


def test_malformed_message_is_a_clear_error(tmp_path, files):
    cfg, _ = files
    m = tmp_path / "bad.sip"
    m.write_text("OPTIONS sip:x SIP/2.0\r\nVia SIP/2.0/UDP 1.2.3.4\r\n\r\n")
    p = run("run", cfg, "--msg", m, "--mock", "ds_select_dst=1")
    assert p.returncode == 1
    assert "bad.sip" in p.stderr and "line 2" in p.stderr
    assert "Traceback" not in p.stderr


def test_api_mock_records_calls_and_sets_pvs(files):
    cfg, msg = files
    script = kscript.load(cfg)
    m = script.mock("ds_select_dst", returns=1, sets={"$du": "sip:10.0.0.1:5060"})
    res = script.process(msg.read_text())
    assert [r.text for r in res.log][:2] == ["got OPTIONS from 127.0.0.1:5060\n", "dst=sip:10.0.0.1:5060\n"]
    assert [c.args for c in m.calls] == [("1", "4")]
    assert script.pv("$var(n)") == 1


def test_mock_file(tmp_path, files):
    cfg, msg = files
    mf = tmp_path / "mocks.yaml"
    mf.write_text('ds_select_dst:\n  returns: 1\n  sets: {"$du": "sip:10.0.0.9:5060"}\n')
    p = run("run", cfg, "--msg", msg, "--mock-file", mf, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["log"][1]["text"] == "dst=sip:10.0.0.9:5060"
    bad = tmp_path / "bad.yaml"
    bad.write_text("ds_select_dst: {oops: 1}\n")
    p = run("run", cfg, "--msg", msg, "--mock-file", bad)
    assert p.returncode == 2 and "ds_select_dst" in p.stderr and "Traceback" not in p.stderr
