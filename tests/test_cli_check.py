"""``kscript check``: exit codes, output format, --json, -A, warnings, no heavy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kscript.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEBIAN = ROOT / "tests" / "data" / "debian" / "kamailio.cfg"


def run(capsys, *args):
    rc = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def cfg(tmp_path):
    def write(text: str, name: str = "k.cfg") -> Path:
        p = tmp_path / name
        p.write_text(text)
        return p
    return write


def test_ok_exit_0_with_summary(capsys):
    rc, out, err = run(capsys, DEBIAN)
    assert rc == 0
    assert out.startswith(f"{DEBIAN}: ok — ") and "modules" in out and "routes:" in out


def test_error_exit_1_with_position_source_line_and_caret(capsys, cfg):
    p = cfg('loadmodule "xlog.so"\nrequest_route {\n\txlog("L_INFO", "a", "b", "c");\n}\n')
    rc, out, err = run(capsys, p)
    assert rc == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"{p}:3:30: error: unknown command, missing loadmodule?")
    assert lines[1] == '   xlog("L_INFO", "a", "b", "c");'  # the TAB counts as one column
    assert lines[2] == "  " + " " * 29 + "^"
    assert lines[-1] == f"{p}: 1 error(s)"


def test_syntax_error_is_reported_at_the_token_after_the_mistake(capsys, cfg):
    p = cfg("request_route {\n  exit\n  drop;\n}\n")
    rc, _out, err = run(capsys, p)
    assert rc == 1 and err.startswith(f"{p}:3:3: error: syntax error: unexpected 'drop'")


def test_defines_with_A(capsys):
    rc, _out, err = run(capsys, DEBIAN, "-A", "WITH_AUTH")  # DBURL undefined without WITH_MYSQL
    assert rc == 1 and ":414:31: error: syntax error" in err
    rc, _out, _err = run(capsys, DEBIAN, "-A", "WITH_AUTH", "-A", "WITH_MYSQL")
    assert rc == 0
    rc, _out, _err = run(capsys, DEBIAN, "-A", "WITH_MYSQL", "-A", "WITH_AUTH", "-A",
                         'DBURL="mysql://kamailio:secret@db.example.com/kamailio"')
    assert rc == 0


def test_json(capsys, cfg):
    p = cfg("request_route {\n  t_relay();\n}\n")
    rc, out, _err = run(capsys, p, "--json")
    data = json.loads(out)
    assert rc == 1 and data["ok"] is False and data["file"] == str(p)
    assert data["errors"][0] == {"kind": "error", "message": data["errors"][0]["message"], "file": str(p),
                                 "line": 2, "column": 11}
    rc, out, _err = run(capsys, DEBIAN, "--json")
    data = json.loads(out)
    assert rc == 0 and data["ok"] and "tm" in data["modules"] and data["routes"]["request"] == 1


def test_warnings_do_not_fail(capsys, cfg):
    p = cfg('loadmodule "tm.so"\nrequest_route {\n  route(NOPE);\n  t_relay();\n}\n')
    rc, out, err = run(capsys, p)
    assert rc == 0 and "warning: route 'NOPE' is called but not defined" in err
    assert "1 warning(s)" in out or "warning(s)" in out


def test_missing_file_is_an_error_not_a_traceback(capsys, tmp_path):
    rc, _out, err = run(capsys, tmp_path / "nope.cfg")
    assert rc == 1 and "cannot read config file" in err and "Traceback" not in err


def test_binary_garbage_is_an_error_not_a_traceback(capsys, cfg, tmp_path):
    p = tmp_path / "bin.cfg"
    p.write_bytes(bytes(range(256)) * 4)
    rc, _out, err = run(capsys, p)
    assert rc in (0, 1) and "Traceback" not in err


def test_check_does_not_import_redis_or_prompt_toolkit(tmp_path):
    code = ("import sys\nfrom kscript.cli import main\nrc = main(['check', sys.argv[1]])\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('redis', 'hiredis', 'fakeredis', 'prompt_toolkit', 'lark'))\nprint('IMPORTED', bad)\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for _ in range(2):  # first run fills the emulated-functions cache (in a child process)
        out = subprocess.run([sys.executable, "-c", code, str(DEBIAN)], capture_output=True, text=True,
                             cwd=ROOT, env=env, timeout=120)
        assert "IMPORTED []" in out.stdout, out.stdout + out.stderr


def test_console_script_entry(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kscript", "check", str(DEBIAN)], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout
