"""The exception tree every user-facing error of kscript belongs to.

Each error may carry a :class:`Position`; ``str(err)`` renders
``file:line:col: error: message`` followed by the source line and a caret when
the source text is known (Jinja-style), which is what the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    """A place in an original (pre-preprocessing) source file. Lines and columns are 1-based."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class KscriptError(Exception):
    """Base of all errors kscript reports to a user (never shown as a traceback)."""

    kind = "error"

    def __init__(self, message: str, pos: Position | None = None, *, source_line: str | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.source_line = source_line

    def with_pos(self, pos: Position | None, source_line: str | None = None) -> "KscriptError":
        if self.pos is None and pos is not None:
            self.pos = pos
        if self.source_line is None and source_line is not None:
            self.source_line = source_line
        return self

    def headline(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        return f"{where}{self.kind}: {self.message}"

    def __str__(self) -> str:
        text = self.headline()
        if self.pos and self.source_line is not None:
            line = self.source_line.rstrip("\r\n").expandtabs(1)
            caret = " " * max(self.pos.column - 1, 0) + "^"
            text += f"\n  {line}\n  {caret}"
        return text

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "message": self.message}
        if self.pos:
            d.update(file=self.pos.file, line=self.pos.line, column=self.pos.column)
        return d


class ConfigError(KscriptError):
    """The configuration is refused (Kamailio would refuse to start)."""


class PreprocessorError(ConfigError):
    """A ``#!`` directive or include problem."""


class ParseError(ConfigError):
    """A syntax error in the configuration."""


class NotSupportedError(KscriptError):
    """Kamailio has it, kscript does not emulate it (yet)."""

    kind = "not supported"


class SipParseError(KscriptError):
    """A malformed SIP message."""


class ScriptRuntimeError(KscriptError):
    """An error while running a route (Kamailio would log it and usually continue)."""


class RedisModeError(KscriptError):
    """A Redis server cannot be reached or configured."""
