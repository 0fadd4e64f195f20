"""The README's REPL transcript (its first ```text block) is what the REPL prints, replayed
through the plain mode with --echo."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import kscript

ROOT = Path(__file__).absolute().parents[2]
DOC = ROOT / "README.md"

PROMPT = re.compile(r"^kscript(?:\[[^\]]*\])?> (.*)$")
CONTINUATION = re.compile(r"^     \.\.\.> (.*)$")


def transcript() -> tuple[list[str], list[str]]:
    """(command argv, expected output lines) of the first ```text block."""
    text = DOC.read_text()
    m = re.search(r"```text\n(.*?)```", text, re.S)
    assert m, "no ```text block in README.md"
    lines = m.group(1).rstrip("\n").split("\n")
    assert lines[0].startswith("$ kscript repl ")
    return shlex.split(lines[0][2:]), lines[1:]


def inputs_of(lines: list[str]) -> str:
    out = []
    for line in lines:
        m = PROMPT.match(line) or CONTINUATION.match(line)
        if m:
            out.append(m.group(1))
    return "\n".join(out) + "\n"


def test_transcript_replays():
    argv, expected = transcript()
    stdin = inputs_of(expected)
    assert stdin.count("\n") >= 10
    env = dict(os.environ, KSCRIPT_HISTORY=os.devnull)
    r = subprocess.run([sys.executable, "-m", "kscript"] + argv[1:] + ["--echo"], input=stdin, capture_output=True,
                       text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    got = r.stdout.rstrip("\n").split("\n")
    expected = [line.replace("kscript 0.1.0 REPL", f"kscript {kscript.__version__} REPL") for line in expected]
    assert got == expected
