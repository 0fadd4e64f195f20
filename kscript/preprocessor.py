"""Kamailio 5.6 preprocessor: ``#!define`` & co., conditionals, includes, ``#!subst``.

Kamailio does this inside its flex lexer; kscript does it as a pass over the
text that keeps lexical state across lines (block comments and strings may span
lines, and directives inside them are not directives), expands defines only in
identifier tokens of code (never inside strings, comments or PV tokens), applies
``#!subst`` rules to string literals and PV tokens, and records where every
output line came from (:class:`~kscript.source.SourceMap`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Position, PreprocessorError
from .source import LineOrigin, SourceMap

PREDEFINED = ("KAMAILIO_5", "KAMAILIO_5_6", "KAMAILIO_5_6_3")
MAX_INCLUDE_DEPTH = 10
MAX_IFDEF_DEPTH = 512
MAX_EXPANSION_DEPTH = 32

# Directive names known to 5.6.3's lexer; any other ``#!word`` is a comment line.
_DIRECTIVE_RE = re.compile(
    r"[ \t\r\b]*(?:#!|!!)(?P<name>substdefs|substdef|subst|trydefenvs|trydefenv|defenvs|defenv|"
    r"trydefine|trydef|redefine|redef|define|def|ifndef|ifdef|else|endif|include_file|import_file)"
    r"(?P<rest>.*)$",
    re.S,
)
_INCLUDE_RE = re.compile(r"[ \t\r]*(?P<kw>include_file|import_file)(?P<rest>.*)$", re.S)
_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOADMODULE_RE = re.compile(r"\s*loadmodule\s+\"([^\"]+)\"")


@dataclass
class Subst:
    """A ``#!subst`` rule: regex applied to string literals and PV tokens."""

    pattern: re.Pattern
    repl: str
    count: int  # 0 = all (flag g), else 1

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.repl, text, count=self.count)


@dataclass
class _LexState:
    comment_depth: int = 0  # nested /* */ depth
    string: str | None = None  # '"' or "'" while inside a multi-line string


@dataclass
class _IfFrame:
    active: bool  # the branch being read is taken
    parent_active: bool
    seen_else: bool
    pos: Position


@dataclass
class Preprocessor:
    """Turns a cfg file into a :class:`SourceMap`. One instance per load."""

    defines: dict[str, str | None] = field(default_factory=dict)
    substs: list[Subst] = field(default_factory=list)
    search_dirs: list[str] = field(default_factory=list)

    def __post_init__(self):
        for name in PREDEFINED:
            self.defines.setdefault(name, None)
        self._out_lines: list[str] = []
        self._origins: list[LineOrigin] = []
        self._files: dict[str, list[str]] = {}
        self._if_stack: list[_IfFrame] = []
        self._lex = _LexState()
        self.loaded_modules: list[str] = []

    # ------------------------------------------------------------------ API
    def define_cli(self, spec: str) -> None:
        """Apply a ``-A NAME[=VALUE]`` command-line define."""
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not _ID_RE.fullmatch(name):
            raise PreprocessorError(f"invalid define name '{name}' in -A {spec}")
        self.defines[name] = value if sep else None

    def run(self, path: str | os.PathLike, display_name: str | None = None) -> SourceMap:
        path = Path(path)
        name = display_name or str(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise PreprocessorError(f"cannot read config file {path}: {e.strerror}") from None
        self._process_text(_decode(data), name, str(path.parent), depth=0)
        if self._if_stack:
            frame = self._if_stack[-1]
            raise PreprocessorError("#!ifdef/#!ifndef without matching #!endif", frame.pos,
                                    source_line=self._line_of(frame.pos))
        return SourceMap("\n".join(self._out_lines) + "\n", self._origins, self._files)

    def run_text(self, text: str, name: str = "<config>", base_dir: str = ".") -> SourceMap:
        self._process_text(text, name, base_dir, depth=0)
        if self._if_stack:
            frame = self._if_stack[-1]
            raise PreprocessorError("#!ifdef/#!ifndef without matching #!endif", frame.pos,
                                    source_line=self._line_of(frame.pos))
        return SourceMap("\n".join(self._out_lines) + "\n", self._origins, self._files)

    # ------------------------------------------------------------ internals
    def _line_of(self, pos: Position) -> str | None:
        lines = self._files.get(pos.file)
        if lines and 1 <= pos.line <= len(lines):
            return lines[pos.line - 1]
        return None

    def _err(self, msg: str, file: str, line: int, col: int = 1) -> PreprocessorError:
        pos = Position(file, line, col)
        return PreprocessorError(msg, pos, source_line=self._line_of(pos))

    def _active(self) -> bool:
        return not self._if_stack or self._if_stack[-1].active

    def _emit(self, text: str, file: str, line: int, colmap=None) -> None:
        self._out_lines.append(text)
        self._origins.append(LineOrigin(file, line, colmap))

    def _process_text(self, text: str, name: str, base_dir: str, depth: int) -> None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self._files[name] = lines
        saved_lex = self._lex
        self._lex = _LexState()
        i = 0
        n = len(lines)
        while i < n:
            raw = lines[i]
            lineno = i + 1
            i += 1
            in_code = self._lex.comment_depth == 0 and self._lex.string is None
            m = _DIRECTIVE_RE.match(raw) if in_code else None
            if m:
                directive = m.group("name")
                rest = m.group("rest")
                # A directive word must end there (``#!defineX`` is a comment).
                if rest and (rest[0].isalnum() or rest[0] == "_"):
                    m = None
            if m:
                # Continuation lines (backslash-newline) belong to define values.
                consumed = 1
                while directive in ("define", "def", "trydef", "trydefine", "redef", "redefine") \
                        and rest.rstrip("\r").endswith("\\") and i < n:
                    rest = rest.rstrip("\r")[:-1] + "\n" + lines[i]
                    i += 1
                    consumed += 1
                self._directive(directive, rest, name, lineno, base_dir, depth)
                for k in range(consumed):
                    self._emit("", name, lineno + k)
                continue
            if not self._active():
                self._emit("", name, lineno)
                continue
            if in_code:
                inc = _INCLUDE_RE.match(raw)
                if inc and _is_include_stmt(inc.group("rest")):
                    self._include(inc.group("kw"), inc.group("rest"), name, lineno, base_dir, depth)
                    continue
                lm = _LOADMODULE_RE.match(raw)
                if lm:
                    mod = os.path.basename(lm.group(1))
                    if mod.endswith(".so"):
                        mod = mod[:-3]
                    self.loaded_modules.append(mod)
                    self.defines.setdefault("MOD_" + mod, None)
            out, colmap = self._expand_line(raw, name, lineno)
            self._emit(out, name, lineno, colmap)
        self._lex = saved_lex

    # ----------------------------------------------------------- directives
    def _directive(self, d: str, rest: str, file: str, line: int, base_dir: str, depth: int) -> None:
        if d in ("ifdef", "ifndef"):
            if not rest[:1].isspace():
                # "#!ifdefX" -> the lexer sees a comment
                return
            ident = rest.strip().split()[0] if rest.strip() else ""
            if not ident or not _ID_RE.fullmatch(ident):
                raise self._err(f"bad identifier after #!{d}", file, line)
            if len(self._if_stack) >= MAX_IFDEF_DEPTH:
                raise self._err("too many nested #!ifdef", file, line)
            parent = self._active()
            cond = (ident in self.defines) == (d == "ifdef")
            self._if_stack.append(_IfFrame(parent and cond, parent, False, Position(file, line, 1)))
            return
        if d in ("else", "endif"):
            if rest.strip():
                return  # trailing text: the line is just a comment in Kamailio
            if not self._if_stack:
                raise self._err(f"#!{d} without #!ifdef", file, line)
            if d == "endif":
                self._if_stack.pop()
            else:
                frame = self._if_stack[-1]
                if frame.seen_else:
                    raise self._err("#!else after #!else", file, line)
                frame.seen_else = True
                frame.active = frame.parent_active and not frame.active
            return
        if not self._active():
            return
        if d in ("define", "def", "trydef", "trydefine", "redef", "redefine"):
            self._define(d, rest, file, line)
        elif d in ("subst", "substdef", "substdefs"):
            self._subst(d, rest, file, line)
        elif d in ("defenv", "defenvs", "trydefenv", "trydefenvs"):
            self._defenv(d, rest, file, line)
        elif d in ("include_file", "import_file"):
            self._include(d, rest, file, line, base_dir, depth)

    def _define(self, d: str, rest: str, file: str, line: int) -> None:
        body = rest.lstrip(" \t")
        m = _ID_RE.match(body)
        if not m:
            raise self._err(f"bad identifier in #!{d}", file, line)
        ident = m.group(0)
        after = body[m.end():]
        if after and not after[0].isspace():
            raise self._err(f"bad define name '{ident}{after.split()[0] if after.split() else ''}'", file, line)
        value = after.strip(" \t\r\n")
        value = _strip_trailing_comment(value) if value else value
        value = value if value != "" else None
        if d in ("trydef", "trydefine"):
            if ident not in self.defines:
                self.defines[ident] = value
        elif d in ("redef", "redefine"):
            self.defines[ident] = value
        else:
            if ident in self.defines:
                raise self._err(f"redefinition of '{ident}': already defined", file, line)
            self.defines[ident] = value

    def _defenv(self, d: str, rest: str, file: str, line: int) -> None:
        spec = rest.strip()
        ident, sep, env = spec.partition("=")
        ident = ident.strip()
        env = env.strip() if sep else ident
        if not _ID_RE.fullmatch(ident or ""):
            raise self._err(f"bad identifier in #!{d}", file, line)
        val = os.environ.get(env)
        if val is None:
            if d.startswith("try"):
                return
            raise self._err(f"environment variable '{env}' is not set (#!{d})", file, line)
        if d.endswith("s"):
            val = '"' + val + '"'
        if ident in self.defines and not d.startswith("try"):
            raise self._err(f"redefinition of '{ident}': already defined", file, line)
        self.defines.setdefault(ident, val)

    def _subst(self, d: str, rest: str, file: str, line: int) -> None:
        s = rest.strip()
        if len(s) < 2 or s[0] != '"' or not s.endswith('"'):
            raise self._err(f"#!{d} needs a quoted \"/regex/replacement/flags\" argument", file, line)
        s = s[1:-1]
        if not s:
            raise self._err(f"empty #!{d} expression", file, line)
        sep = s[0]
        parts = _split_subst(s[1:], sep)
        if parts is None or len(parts) != 3:
            raise self._err(f"bad #!{d} expression '{s}'", file, line)
        pattern, repl, flags = parts
        if d == "subst":
            reflags = 0
            count = 1
            for f in flags:
                if f == "i":
                    reflags |= re.I
                elif f == "g":
                    count = 0
                elif f == "s":
                    reflags |= re.S
                else:
                    raise self._err(f"unknown flag '{f}' in #!subst", file, line)
            try:
                rx = re.compile(_posix_to_python_re(pattern), reflags)
            except re.error as e:
                raise self._err(f"bad regular expression in #!subst: {e}", file, line) from None
            self.substs.append(Subst(rx, _posix_repl(repl), count))
        else:
            if not _ID_RE.fullmatch(pattern):
                raise self._err(f"bad define name '{pattern}' in #!{d}", file, line)
            self.substs.append(Subst(re.compile(re.escape(pattern)), repl.replace("\\", "\\\\"), 0))
            if pattern in self.defines:
                raise self._err(f"redefinition of '{pattern}': already defined", file, line)
            self.defines[pattern] = ('"' + repl + '"') if d == "substdefs" else (repl if repl else None)

    def _include(self, kw: str, rest: str, file: str, line: int, base_dir: str, depth: int) -> None:
        arg = rest.strip()
        m = re.match(r'"((?:[^"\\]|\\.)*)"', arg)
        if not m:
            raise self._err(f"{kw} needs a file name in double quotes", file, line)
        fname = m.group(1).replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
        for sub in self.substs:
            fname = sub.apply(fname)
        if depth + 1 > MAX_INCLUDE_DEPTH:
            raise self._err(f"too many nested includes (max {MAX_INCLUDE_DEPTH})", file, line)
        candidates = [fname] if os.path.isabs(fname) else [fname, os.path.join(base_dir, fname)]
        target = next((c for c in candidates if os.path.isfile(c)), None)
        # Our own line for the directive itself.
        self._emit("", file, line)
        if target is None:
            if kw == "import_file":
                return
            raise self._err(f"cannot open included file '{fname}'", file, line,
                            (self._files[file][line - 1].find('"') + 1) or 1)
        try:
            text = _decode(Path(target).read_bytes())
        except OSError as e:
            raise self._err(f"cannot read included file '{fname}': {e.strerror}", file, line)
        saved = len(self._if_stack)
        self._process_text(text, os.path.normpath(target), str(Path(target).parent), depth + 1)
        if len(self._if_stack) != saved:
            frame = self._if_stack[-1]
            raise PreprocessorError("#!ifdef/#!ifndef without matching #!endif", frame.pos,
                                    source_line=self._line_of(frame.pos))

    # -------------------------------------------------------- line scanning
    def _expand_line(self, raw: str, file: str, lineno: int):
        """Expand defines in identifiers and apply substs to strings/PVs of one line."""
        lex = self._lex
        out: list[str] = []
        colmap: list[tuple[int, int]] | None = None
        outlen = 0
        i = 0
        n = len(raw)

        def put(s: str):
            nonlocal outlen
            out.append(s)
            outlen += len(s)

        while i < n:
            if lex.comment_depth:
                j = i
                while j < n:
                    if raw.startswith("/*", j):
                        lex.comment_depth += 1
                        j += 2
                    elif raw.startswith("*/", j):
                        lex.comment_depth -= 1
                        j += 2
                        if lex.comment_depth == 0:
                            break
                    else:
                        j += 1
                put(" " * (j - i))  # comments are blanked, keeping columns
                i = j
                continue
            if lex.string is not None:
                j = _scan_string_end(raw, i, lex.string)
                if j < 0:
                    put(raw[i:])
                    return "".join(out), colmap
                lex.string = None
                put(raw[i:j])
                i = j
                continue
            c = raw[i]
            if c == '"' or c == "'":
                j = _scan_string_end(raw, i + 1, c)
                if j < 0:
                    lex.string = c
                    put(raw[i:])
                    break
                tok = raw[i:j]
                if self.substs and c == '"':
                    tok = self._apply_substs(tok)
                put(tok)
                i = j
                continue
            if c == "#" or raw.startswith("//", i):
                break
            if raw.startswith("/*", i):
                lex.comment_depth = 1
                put("  ")
                i += 2
                continue
            if c == "$":
                j = _scan_pv_end(raw, i)
                tok = raw[i:j]
                if self.substs:
                    tok = self._apply_substs(tok)
                put(tok)
                i = j
                continue
            if c.isalpha() or c == "_":
                m = _ID_RE.match(raw, i)
                ident = m.group(0)
                prev = raw[i - 1] if i else ""
                if ident in self.defines and prev not in ".@" and not _is_digit_prefixed(raw, i):
                    value = self._expand_value(ident, 0, file, lineno, i + 1)
                    if colmap is None:
                        colmap = []
                    colmap.append((outlen + 1, i + 1))
                    put(value)
                    colmap.append((outlen + 1, m.end() + 1))
                else:
                    put(ident)
                i = m.end()
                continue
            if c.isdigit():
                # numbers / IPs / things like 5060b: copy the alnum run verbatim
                j = i
                while j < n and (raw[j].isalnum() or raw[j] in "_."):
                    j += 1
                put(raw[i:j])
                i = j
                continue
            put(c)
            i += 1
        return "".join(out), colmap

    def _expand_value(self, ident: str, depth: int, file: str, lineno: int, col: int) -> str:
        if depth > MAX_EXPANSION_DEPTH:
            raise self._err(f"too deep define expansion of '{ident}'", file, lineno, col)
        value = self.defines[ident]
        if value is None:
            return ""
        value = value.replace("\r", "").replace("\\\n", " ").replace("\n", " ")

        # Defines inside the value are expanded too (Kamailio re-lexes the pushed-back text).
        def repl(m: re.Match) -> str:
            name = m.group(0)
            if name in self.defines and name != ident:
                return self._expand_value(name, depth + 1, file, lineno, col)
            return name

        return _map_code_identifiers(value, repl)

    def _apply_substs(self, tok: str) -> str:
        for sub in self.substs:
            tok = sub.apply(tok)
        return tok


# ---------------------------------------------------------------- helpers
def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _is_include_stmt(rest: str) -> bool:
    return rest[:1] in (" ", "\t", '"') and rest.strip().startswith('"')


def _is_digit_prefixed(raw: str, i: int) -> bool:
    return i > 0 and (raw[i - 1].isalnum() or raw[i - 1] == "_")


def _scan_string_end(raw: str, i: int, quote: str) -> int:
    """Index just past the closing quote, or -1 when the string continues on the next line."""
    n = len(raw)
    if quote == "'":
        j = raw.find("'", i)
        return -1 if j < 0 else j + 1
    while i < n:
        c = raw[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    return -1


def _scan_pv_end(raw: str, i: int) -> int:
    """End of a PV token starting at ``raw[i] == '$'`` (balanced parentheses)."""
    n = len(raw)
    j = i + 1
    if j < n and raw[j] == "(":
        return _balanced_end(raw, j)
    while j < n and (raw[j].isalnum() or raw[j] in "_.?"):
        j += 1
    if j < n and raw[j] == "(":
        return _balanced_end(raw, j)
    return j


def _balanced_end(raw: str, j: int) -> int:
    depth = 0
    n = len(raw)
    while j < n:
        c = raw[j]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return n


def _strip_trailing_comment(value: str) -> str:
    """Drop a ``# ...``/``// ...`` comment ending a define value (outside strings)."""
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if c in "\"'":
            j = _scan_string_end(value, i + 1, c)
            if j < 0:
                return value
            i = j
            continue
        if c == "#" or value.startswith("//", i):
            return value[:i].rstrip()
        if value.startswith("/*", i):
            end = value.find("*/", i + 2)
            if end < 0:
                return value[:i].rstrip()
            value = value[:i] + " " + value[end + 2:]
            n = len(value)
            continue
        i += 1
    return value


def _map_code_identifiers(text: str, fn) -> str:
    """Apply ``fn`` to each identifier of ``text`` that is outside strings and PV tokens."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = _scan_string_end(text, i + 1, c)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
        elif c == "$":
            j = _scan_pv_end(text, i)
            out.append(text[i:j])
            i = j
        elif c.isalpha() or c == "_":
            m = _ID_RE.match(text, i)
            prev = text[i - 1] if i else ""
            out.append(m.group(0) if prev.isalnum() or prev in "._@" else fn(m))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _split_subst(s: str, sep: str) -> list[str] | None:
    parts, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == sep:
            cur.append(sep)
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _posix_to_python_re(pattern: str) -> str:
    # POSIX classes used in configs; Python's re lacks them.
    classes = {"[:digit:]": r"0-9", "[:alpha:]": r"A-Za-z", "[:alnum:]": r"A-Za-z0-9",
               "[:space:]": r"\s", "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:xdigit:]": "0-9A-Fa-f",
               "[:punct:]": r"!-/:-@\[-`{-~", "[:blank:]": r" \t"}
    for k, v in classes.items():
        pattern = pattern.replace(k, v)
    return pattern


def _posix_repl(repl: str) -> str:
    # Kamailio's subst uses \N back references; escape everything else for re.sub.
    out = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            nxt = repl[i + 1]
            if nxt.isdigit():
                out.append("\\g<" + nxt + ">")
            elif nxt == "n":
                out.append("\n")
            elif nxt == "t":
                out.append("\t")
            else:
                out.append(nxt.replace("\\", "\\\\"))
            i += 2
            continue
        out.append(c.replace("\\", "\\\\"))
        i += 1
    return "".join(out)
