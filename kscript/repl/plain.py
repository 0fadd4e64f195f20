"""The REPL without a terminal: statements and meta-commands read line by line.

Used when stdin is not a terminal (``kscript repl cfg < session.txt``). A
multi-line input accumulates until the parser says it is complete; ``:msg``
without a file reads the message from the following lines (up to an empty
line). Results are printed plainly, without colours. With ``echo`` the banner
is printed and each input after a ``kscript>`` prompt, which makes the output
a transcript of the session.
"""

from __future__ import annotations

import sys
from typing import TextIO

from .session import ReplSession

CONTINUATION = "     ...> "


class PlainRepl:
    def __init__(self, session: ReplSession, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 echo: bool = False):
        self.session = session
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.echo = echo
        session.out = self._out
        session.read_paste = self._read_paste

    def _out(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _readline(self) -> str | None:
        line = self.stdin.readline()
        if not line:
            return None
        return line.rstrip("\n").rstrip("\r")

    def _read_paste(self) -> str | None:
        from .commands import collect_message

        def read():
            line = self._readline()
            if line is not None and self.echo:
                self._out(line)
            return line

        return collect_message(read)

    def run(self) -> int:
        s = self.session
        buf: list[str] = []
        if self.echo:
            s.lines(s.banner_lines())
        try:
            while not s.quit_requested:
                line = self._readline()
                if line is None:
                    break
                if not buf and not line.strip():
                    continue
                if self.echo:
                    prompt = s.prompt_text() if not buf else CONTINUATION
                    self._out((prompt + line).rstrip())
                buf.append(line)
                text = "\n".join(buf)
                status = "complete" if text.lstrip().startswith(":") else s.status(text)
                if status == "incomplete":
                    continue
                buf = []
                s.execute(text)
            if buf:
                s.execute("\n".join(buf))  # reports the unexpected end of input
        except KeyboardInterrupt:
            return 130
        finally:
            s.close()
        return 0
