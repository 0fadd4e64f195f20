"""Source text after preprocessing, and the map back to the original files.

The preprocessor produces one output line per consumed input line (skipped
lines become empty lines, directives become empty lines, includes splice the
included file's lines in), so every output line has exactly one origin. A line
in which defines were expanded also keeps a column map.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from .errors import Position


@dataclass(slots=True)
class LineOrigin:
    file: str
    line: int
    # (output column, original column) pairs, sorted; None when columns are unchanged.
    colmap: list[tuple[int, int]] | None = None


@dataclass
class SourceMap:
    """Output text of the preprocessor plus where each of its lines came from."""

    text: str = ""
    origins: list[LineOrigin] = field(default_factory=list)
    # original file name -> its lines (for error carets)
    files: dict[str, list[str]] = field(default_factory=dict)

    def position(self, line: int, column: int = 1) -> Position:
        """Map a 1-based (line, column) of the output text to the original file."""
        if not self.origins:
            return Position("<config>", line, column)
        idx = min(max(line - 1, 0), len(self.origins) - 1)
        origin = self.origins[idx]
        col = column
        if origin.colmap:
            keys = [c for c, _ in origin.colmap]
            i = bisect_right(keys, column) - 1
            if i >= 0:
                out_col, orig_col = origin.colmap[i]
                col = orig_col + (column - out_col)
        return Position(origin.file, origin.line, col)

    def source_line(self, pos: Position) -> str | None:
        lines = self.files.get(pos.file)
        if lines is None or not (1 <= pos.line <= len(lines)):
            return None
        return lines[pos.line - 1]
