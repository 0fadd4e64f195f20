"""Fixtures of the REPL tests: the test config, sessions with captured output."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).absolute().parents[2]
CFG = str(DATA / "repl.cfg")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class Captured:
    """A ReplSession whose output lines are collected."""

    def __init__(self, session, lines):
        self.session = session
        self.lines = lines

    def run(self, text: str) -> str:
        """Execute one input; returns what it printed (joined lines)."""
        start = len(self.lines)
        self.session.execute(text)
        return "\n".join(self.lines[start:])


@pytest.fixture
def cfg() -> str:
    return CFG


@pytest.fixture
def repl():
    from kscript.repl.session import ReplSession

    lines: list[str] = []
    session = ReplSession(CFG, out=lines.append)
    yield Captured(session, lines)
    session.close()


@pytest.fixture
def history_file(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "history")
    monkeypatch.setenv("KSCRIPT_HISTORY", path)
    return path


def subprocess_env(**extra) -> dict:
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env
