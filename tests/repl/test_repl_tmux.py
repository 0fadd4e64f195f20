"""The real terminal program under tmux: what a person sees (send-keys, capture-pane)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).absolute().parents[2]
CFG = "tests/repl/data/repl.cfg"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, socket: str):
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> str:
        r = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {r.stderr}")
        return r.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "repl", "-S", "-200")

    def type(self, text: str) -> None:
        # a trailing ';' would end the tmux command: escape it
        self("send-keys", "-t", "repl", "-l", text[:-1] + "\\;" if text.endswith(";") else text)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "repl", *keys)

    def line(self, text: str) -> None:
        self.type(text)
        time.sleep(0.15)
        self.keys("Enter")

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; the screen:\n{screen}")


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(f"kscript-test-{os.getpid()}-{time.monotonic_ns()}")
    hist = tmp_path / "history"
    env = f"KSCRIPT_HISTORY={shlex.quote(str(hist))} TERM=xterm-256color NO_COLOR= "
    cmd = (f"cd {shlex.quote(str(ROOT))} && env {env}{shlex.quote(sys.executable)} -m kscript repl {CFG}; "
           f"echo EXITED:$?; sleep 60")
    t("new-session", "-d", "-s", "repl", "-x", "110", "-y", "40", cmd)
    t.history = hist
    try:
        yield t
    finally:
        t("kill-server", check=False)


def test_what_a_person_sees(tmux):
    tmux.wait_for("\nkscript>")
    # the bottom toolbar is drawn just after the prompt: wait for it too (a loaded box is slow)
    screen = tmux.wait_for("msg: INVITE sip:bob@example.com SIP/2.0")
    assert "REPL for Kamailio 5.6 configs" in screen
    assert "loaded tests/repl/data/repl.cfg: 3 modules" in screen

    # an expression
    tmux.line("$rU")
    tmux.wait_for('"bob" (str)')

    # multi-line input: Enter continues until the block is complete
    tmux.line('if ($rU == "bob") {')
    tmux.wait_for("...>")
    tmux.line('xlog("L_INFO", "hello $rU\\n");')
    tmux.line("}")
    screen = tmux.wait_for("INFO   hello bob")
    assert 'kscript> if ($rU == "bob") {' in screen
    assert '    ...>     xlog("L_INFO", "hello $rU\\n");' in screen  # auto-indented
    assert "    ...> }" in screen

    # completion: Tab completes a PV the config uses
    tmux.type("$var(se")
    time.sleep(0.3)
    tmux.keys("Tab")
    tmux.wait_for("kscript> $var(seen)")  # the input line, not only the completion menu
    tmux.keys("Enter")
    tmux.wait_for("0 (int)")

    # a syntax error with a caret; the session goes on
    tmux.line("1 +* 2")
    screen = tmux.wait_for("<repl>:1:4: error: syntax error: unexpected '*'")
    assert "  1 +* 2\n     ^" in screen

    # Ctrl-C cancels a running route
    tmux.line("route(SPIN)")
    time.sleep(1.0)
    tmux.keys("C-c")
    screen = tmux.wait_for("interrupted at repl.cfg:40")
    tmux.line("$var(spin) > 0")
    tmux.wait_for("1 (int)")

    # Ctrl-C cancels the input being typed
    tmux.type("$var(never")
    time.sleep(0.2)
    tmux.keys("C-c")
    tmux.line("2 * 21")
    tmux.wait_for("42 (int)")

    # the debugger: a breakpoint, the paused prompt and toolbar, stepping
    tmux.line(":break CHECK")
    tmux.line(":send")
    screen = tmux.wait_for("kscript[CHECK:25]>")
    assert "stopped in route[CHECK] at repl.cfg:25 (breakpoint #1 route[CHECK])" in screen
    assert "paused in route[CHECK] at repl.cfg:25" in screen
    tmux.line(":step")
    tmux.wait_for("kscript[CHECK:26]>")
    tmux.line(":continue")
    screen = tmux.wait_for(".. ended with 1; 0 message(s) sent")

    # nothing garbled: every prompt line shows what was typed
    for typed in ("kscript> $rU", "kscript> 1 +* 2", "kscript> route(SPIN)", "kscript> :send",
                  "kscript[CHECK:25]> :step", "kscript[CHECK:26]> :continue"):
        assert typed in screen.split("\n") or any(line.rstrip() == typed for line in screen.split("\n")), typed

    # Ctrl-D exits; the history file has the session
    tmux.keys("C-d")
    tmux.wait_for("EXITED:0")
    hist = tmux.history.read_text()
    assert "+$rU" in hist and "+:send" in hist
