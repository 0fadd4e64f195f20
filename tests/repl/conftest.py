"""Fixtures of the REPL tests: a session on the test config with its output collected."""

from __future__ import annotations

from pathlib import Path

import pytest

CFG = str(Path(__file__).parent / "data" / "repl.cfg")


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
def repl():
    from kscript.repl.session import ReplSession

    lines: list[str] = []
    session = ReplSession(CFG, out=lines.append)
    yield Captured(session, lines)
    session.close()
