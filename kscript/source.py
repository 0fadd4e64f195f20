"""Source text after preprocessing, and the map back to the original files.

The preprocessor produces one output line per consumed input line (skipped
lines and directives become empty lines, includes splice the included file's
lines in), so every output line has exactly one origin. A line in which
defines were expanded also keeps a column map.

Kamailio numbers some lines differently from their real position (a quirk of
its lexer: after an included file that ends with a double-quoted string, the
including file's line counter is ahead by the number of newlines that follow
that string). ``LineOrigin.kshift`` records that offset, so kscript can report
the real line and still say which line Kamailio would print
(:meth:`SourceMap.kamailio_line`).
"""

from __future__ import annotations

from bisect import bisect_right

from .errors import Position


class LineOrigin:
    """Where one output line comes from. (Plain classes here, not dataclasses: this module
    is on ``kscript check``'s start-up path.)"""

    __slots__ = ("file", "line", "colmap", "kshift")

    def __init__(self, file: str, line: int, colmap: list[tuple[int, int]] | None = None, kshift: int = 0):
        self.file = file
        self.line = line
        # (output column, original column) pairs, sorted; None when columns are unchanged.
        self.colmap = colmap
        self.kshift = kshift  # Kamailio's reported line minus the real line (see the module docstring)

    def __repr__(self) -> str:
        return f"LineOrigin({self.file!r}, {self.line}, {self.colmap!r}, {self.kshift})"

    def __eq__(self, other) -> bool:
        return isinstance(other, LineOrigin) and (self.file, self.line, self.colmap, self.kshift) == \
            (other.file, other.line, other.colmap, other.kshift)


class SourceMap:
    """Output text of the preprocessor plus where each of its lines came from."""

    def __init__(self, text: str = "", origins: list[LineOrigin] | None = None,
                 files: dict[str, list[str]] | None = None, events: list | None = None):
        self.text = text
        self.origins = origins if origins is not None else []
        # original file name -> its lines (for error carets)
        self.files = files if files is not None else {}
        # what the preprocessor found on the way (kscript.preprocessor.PPEvent), in text order
        self.events = events if events is not None else []
        self._kline: dict | None = None

    def __repr__(self) -> str:
        return f"SourceMap({len(self.origins)} lines, files={list(self.files)!r})"

    def position(self, line: int, column: int = 1) -> Position:
        """Map a 1-based (line, column) of the output text to the original file."""
        origins = self.origins
        if not origins:
            return Position("<config>", line, column)
        idx = line - 1
        if idx < 0:
            idx = 0
        elif idx >= len(origins):
            idx = len(origins) - 1
        origin = origins[idx]
        col = column
        if origin.colmap:
            cm = origin.colmap
            i = bisect_right([c for c, _ in cm], column) - 1
            if i >= 0:
                out_col, orig_col = cm[i]
                col = orig_col + (column - out_col)
        return Position(origin.file, origin.line, col)

    def source_line(self, pos: Position) -> str | None:
        lines = self.files.get(pos.file)
        if lines is None or not (1 <= pos.line <= len(lines)):
            return None
        return lines[pos.line - 1]

    def kamailio_line(self, pos: Position | None) -> int | None:
        """The line Kamailio prints for ``pos`` (differs only after its include-file quirk)."""
        if pos is None:
            return None
        if self._kline is None:
            d: dict = {}
            for o in self.origins:
                if o.kshift:
                    d.setdefault((o.file, o.line), o.line + o.kshift)
            self._kline = d
        return self._kline.get((pos.file, pos.line), pos.line)
