"""Kamailio 5.6 preprocessor: ``#!define`` & co., conditionals, includes, ``#!subst``.

Kamailio does this inside its flex lexer (core/cfg.lex@5.6.3, core/ppcfg.c);
kscript does it as a line-oriented pass that keeps the lexer's state across
lines (strings and ``/* */`` comments may span lines; a ``#!`` line inside them
is not a directive) and produces the text :mod:`kscript.lexer` reads, plus a
:class:`~kscript.source.SourceMap` telling where each output line came from.

What it reproduces:

* directives at the start of a line (after blanks), ``#!`` or ``!!`` prefix:
  ``define/def``, ``trydef/trydefine``, ``redefine/redef`` (value = the rest of
  the line, raw -- a trailing comment is part of it --, ``\\``-newline joins
  lines), ``ifdef``/``ifndef`` (nested, 512 deep), ``else`` and ``endif``
  (only blanks may follow, else the line is a comment; a second ``#!else``
  toggles again, as in Kamailio), ``defenv[s]``/``trydefenv[s]``,
  ``include_file``/``import_file`` (with or without ``#!``; name in double
  quotes; tried as given -- relative to the directory of the main file, which is
  where ``kamailio`` runs from in a deployment -- then relative to the
  including file; ``import_file`` of a missing file is skipped; 10 levels);
  ``subst``/``substdef``/``substdefs`` are registered here and left in the text
  for the grammar (cfg.y parses them as statements);
* define expansion exactly where flex does it: an identifier token in the
  INITIAL state that is not a keyword; the value is pushed back and re-read, so
  a comment in a value swallows the rest of the line, nested defines expand
  and a value may even open a string; never inside strings, comments, PVs,
  selects (``@a.b``), AVP names (``%a``) or ``event_route[...]`` names;
* ``#!subst`` rules on string literals, PV tokens and include names;
* ``MOD_<name>`` defined after a ``loadmodule`` line, ``KAMAILIO_5``,
  ``KAMAILIO_5_6``, ``KAMAILIO_5_6_3`` predefined, ``-A NAME[=VALUE]``.

Problems are not raised: they are :class:`PPEvent` entries of the source map,
at the place Kamailio meets them, because Kamailio reports what it found
before them (a missing ``include_file`` is fatal when the lexer reaches it,
after the errors of the lines above; a stray ``#!endif`` is only noted and the
parse goes on). A fatal event ends the output there.
"""

from __future__ import annotations

import os
import re

from .errors import Position, PreprocessorError
from .lexer import _IPV6 as _IPV6_RE  # the same IPv6 token as the lexer
from .lexer import KEYWORDS
from .source import LineOrigin, SourceMap

PREDEFINED = ("KAMAILIO_5", "KAMAILIO_5_6", "KAMAILIO_5_6_3")
MAX_INCLUDE_DEPTH = 10
MAX_IFDEF_DEPTH = 512
MAX_EXPANSIONS_PER_LINE = 1000
MAX_INCLUDE_FNAME = 128

_DIRECTIVE_RE = re.compile(
    r"[ \t\r\b]*(?:#!|!!)(?P<name>substdefs|substdef|subst|trydefenvs|trydefenv|defenvs|defenv|"
    r"trydefine|trydef|redefine|redef|define|def|ifndef|ifdef|else|endif|include_file|import_file)"
    r"(?P<rest>.*)$",
    re.S,
)
_SKIP_DIRECTIVE_RE = re.compile(r"(?:#!|!!)(?P<name>ifndef|ifdef|else|endif)(?![A-Za-z0-9_])")
_MID_DIRECTIVE_RE = re.compile(
    r"(?:#!|!!)(?P<name>substdefs|substdef|subst|trydefenvs|trydefenv|defenvs|defenv|trydefine|trydef|"
    r"redefine|redef|define|def|ifndef|ifdef|else|endif|include_file|import_file)")
_INCLUDE_RE = re.compile(r"[ \t\r\b]*(?P<kw>include_file|import_file)(?P<rest>.*)$", re.S)
_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_RE = re.compile(r"[A-Za-z0-9_]+")
_LOADMODULE_RE = re.compile(r"[ \t]*loadmodulex?[ \t]+\"([^\"]+)\"")
# characters after which scanning may need to do something; runs of anything else are copied
_INTERESTING = re.compile(r"[A-Za-z0-9_\"'#/$@%!]")
_DEFINE_DIRECTIVES = ("define", "def", "trydef", "trydefine", "redef", "redefine")


class Subst:
    """A ``#!subst`` rule: regex applied to string literals, PV tokens and include names."""

    __slots__ = ("pattern", "repl", "count")

    def __init__(self, pattern: re.Pattern, repl: str, count: int):
        self.pattern = pattern
        self.repl = repl
        self.count = count  # 0 = all (flag g), else 1

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.repl, text, count=self.count)


class PPEvent:
    """Something the preprocessor found at output line ``out_line`` (1-based; the line the
    directive occupies in the output). ``fatal``: Kamailio stops there; ``warning``: only
    noted. ``kamailio_line``: the line Kamailio prints for it; ``at_end``: reported when the
    input is exhausted (unbalanced #!ifdef); ``exits``: a fatal error after which Kamailio
    exits at once."""

    __slots__ = ("error", "out_line", "fatal", "warning", "kamailio_line", "at_end", "stray_endif", "exits")

    def __init__(self, error: PreprocessorError, out_line: int, fatal: bool = False, warning: bool = False,
                 kamailio_line: int | None = None, at_end: bool = False):
        self.error = error
        self.out_line = out_line
        self.fatal = fatal
        self.warning = warning
        self.kamailio_line = kamailio_line
        self.at_end = at_end
        self.stray_endif = False
        self.exits = False

    def __repr__(self) -> str:
        return f"PPEvent({self.error.message!r}, line {self.out_line}, fatal={self.fatal})"


class _LexState:
    __slots__ = ("comment_depth", "string", "evrt")

    def __init__(self):
        self.comment_depth = 0  # nested /* */ depth
        self.string: str | None = None  # '"' or "'" while inside a multi-line string
        self.evrt = False  # inside event_route[ ... ] (flex EVRTNAME state)


class _IfFrame:
    __slots__ = ("active", "parent_active", "pos")

    def __init__(self, active: bool, parent_active: bool, pos: Position):
        self.active = active  # the branch being read is taken
        self.parent_active = parent_active
        self.pos = pos


class _Fatal(Exception):
    pass


class Preprocessor:
    """Turns a cfg file into a :class:`SourceMap`. One instance per load."""

    def __init__(self, defines: dict[str, str | None] | None = None, substs: list[Subst] | None = None,
                 search_dirs: list[str] | None = None):
        self.defines: dict[str, str | None] = defines if defines is not None else {}
        self.substs: list[Subst] = substs if substs is not None else []
        self.search_dirs: list[str] = search_dirs if search_dirs is not None else []
        for name in PREDEFINED:
            self.defines.setdefault(name, None)
        self._out_lines: list[str] = []
        self._origins: list[LineOrigin] = []
        self._files: dict[str, list[str]] = {}
        self._if_stack: list[_IfFrame] = []
        self._lex = _LexState()
        self._events: list[PPEvent] = []
        self._kshift = 0  # current Kamailio line offset of the file being read
        self._main_dir = "."
        self._level_deltas: list[tuple[int, int]] = []  # (output line, +1 #!if[n]def / -1 #!endif)
        self.loaded_modules: list[str] = []

    # ------------------------------------------------------------------ API
    def define_cli(self, spec: str) -> None:
        """Apply a ``-A NAME[=VALUE]`` command-line define (kamailio's ``-A``)."""
        name, sep, value = spec.partition("=")
        if not _ID_RE.fullmatch(name):
            raise PreprocessorError(f"invalid define name '{name}' in -A {spec}")
        self.defines[name] = value if sep else None

    def run(self, path: str | os.PathLike, display_name: str | None = None) -> SourceMap:
        """Preprocess the file at ``path``. Raises :class:`PreprocessorError` only when the
        file itself cannot be read; every other problem is an event of the source map."""
        path = os.fspath(path)
        name = display_name or path
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise PreprocessorError(f"cannot read config file {path}: {e.strerror}") from None
        parent = os.path.dirname(path) or "."
        self._main_dir = parent
        return self._run(_decode(data), name, parent)

    def run_text(self, text: str, name: str = "<config>", base_dir: str = ".") -> SourceMap:
        self._main_dir = base_dir
        return self._run(text, name, base_dir)

    # ------------------------------------------------------------ internals
    def _run(self, text: str, name: str, base_dir: str) -> SourceMap:
        try:
            self._process_text(text, name, base_dir, depth=0)
        except _Fatal:
            pass
        smap = SourceMap("\n".join(self._out_lines) + "\n", self._origins, self._files)
        smap.events = self._events
        # Kamailio counts #!if[n]def (+1) and #!endif (-1) and fails when the count is not 0 where
        # it stopped reading; kscript.check decides with these (where the parse stopped matters)
        smap.ifdef_deltas = self._level_deltas  # type: ignore[attr-defined]
        if self._if_stack:
            frame = self._if_stack[-1]
            smap.open_ifdef = PPEvent(PreprocessorError(  # type: ignore[attr-defined]
                "#!ifdef/#!ifndef without a matching #!endif" +
                ("" if frame.active else " (the rest of the file is skipped)"),
                frame.pos, source_line=self._line_of(frame.pos)), len(self._out_lines), at_end=True)
        else:
            smap.open_ifdef = None  # type: ignore[attr-defined]
        return smap

    def _line_of(self, pos: Position) -> str | None:
        lines = self._files.get(pos.file)
        if lines and 1 <= pos.line <= len(lines):
            return lines[pos.line - 1]
        return None

    def _event(self, msg: str, file: str, line: int, col: int = 1, *, fatal: bool = False,
               warning: bool = False, kline: int | None = None, exits: bool = True) -> None:
        pos = Position(file, line, col)
        err = PreprocessorError(msg, pos, source_line=self._line_of(pos))
        if warning:
            err.kind = "warning"  # type: ignore[misc]  # instance attribute shadows the class one
        ev = PPEvent(err, len(self._out_lines) + 1, fatal, warning,
                     kline if kline is not None else line + self._kshift)
        ev.exits = fatal and exits  # Kamailio exits at once (no #!ifdef count check)
        self._events.append(ev)
        if fatal:
            raise _Fatal()

    def _active(self) -> bool:
        return not self._if_stack or self._if_stack[-1].active

    def _emit(self, text: str, file: str, line: int, colmap=None) -> None:
        self._out_lines.append(text)
        self._origins.append(LineOrigin(file, line, colmap, self._kshift))

    def _process_text(self, text: str, name: str, base_dir: str, depth: int) -> None:
        lines = text.split("\n")
        ends_with_newline = bool(lines) and lines[-1] == ""
        if ends_with_newline:
            lines.pop()
        self._files.setdefault(name, lines)
        saved_lex = self._lex
        self._lex = _LexState()
        i = 0
        n = len(lines)
        while i < n:
            raw = lines[i]
            lineno = i + 1
            i += 1
            # a directive needs its newline (flex rules end with {CR})
            has_newline = i < n or ends_with_newline
            lex = self._lex
            if not self._active():
                # IFDEF_SKIP: only #!if[n]def/#!else/#!endif count, wherever they are on the line
                if "#!" in raw or "!!" in raw:
                    for m in _SKIP_DIRECTIVE_RE.finditer(raw):
                        d, rest = m.group("name"), raw[m.end():]
                        if d in ("else", "endif") and rest.strip(" \t\r\b"):
                            continue
                        if not has_newline:
                            break
                        self._directive(d, rest, name, lineno, base_dir, depth)
                        break
                self._emit("", name, lineno)
                continue
            in_code = lex.comment_depth == 0 and lex.string is None
            m = _DIRECTIVE_RE.match(raw) if in_code and ("#!" in raw or "!!" in raw) else None
            if m is not None:
                i = self._line_directive(m.group("name"), m.group("rest"), raw, lines, i, name, lineno,
                                         has_newline, base_dir, depth)
                continue
            if in_code and "_file" in raw:
                inc = _INCLUDE_RE.match(raw)
                if inc and inc.group("rest")[:1] in (" ", "\t", '"'):
                    self._include(inc.group("kw"), inc.group("rest"), name, lineno, base_dir, depth)
                    continue
            if in_code and "loadmodule" in raw:
                lm = _LOADMODULE_RE.match(raw)
                if lm:
                    mod = os.path.basename(lm.group(1))
                    if mod.endswith(".so"):
                        mod = mod[:-3]
                    self.loaded_modules.append(mod)
                    self.defines.setdefault("MOD_" + mod, None)
            out, colmap, tail = self._scan_line(raw, name, lineno)
            self._emit(out, name, lineno, colmap)
            while tail is not None:
                # a directive or an include in the middle of a line (flex matches them anywhere in
                # the INITIAL state): the code before it is this line's output
                kind, word, rest, col = tail
                tail = None
                if kind == "directive":
                    i = self._line_directive(word, rest, None, lines, i, name, lineno, has_newline, base_dir,
                                             depth, mid_line=True)
                else:
                    rest_after = self._include(word, rest, name, lineno, base_dir, depth, emit_line=False)
                    if rest_after is not None and rest_after[0].strip():
                        text2, c0 = rest_after
                        out, colmap, tail = self._scan_line(text2, name, lineno)
                        shift = col + c0 - 1
                        colmap = [(oc, orig + shift) for oc, orig in (colmap or [(1, 1)])]
                        self._emit(out, name, lineno, colmap)
        self._lex = saved_lex

    def _line_directive(self, directive: str, rest: str, raw: str | None, lines: list[str], i: int, name: str,
                        lineno: int, has_newline: bool, base_dir: str, depth: int, mid_line: bool = False) -> int:
        """Handle a ``#!`` directive found on line ``lineno`` (its text after the name is
        ``rest``); return the index of the next line to read (a define value may continue on
        the following lines). Emits the output line(s) unless ``mid_line`` (already emitted)."""
        if rest and (rest[0].isalnum() or rest[0] == "_") and directive not in ("subst", "substdef", "substdefs"):
            # ``#!defineX``: a comment line (``#!substX`` is SUBST then X)
            if not mid_line:
                self._emit(raw, name, lineno)
            return i
        if directive in ("subst", "substdef", "substdefs"):
            self._subst(directive, rest, name, lineno)
            if not mid_line:
                self._emit(raw, name, lineno)  # the grammar reads `SUBST STRING` (top-level statement)
            return i
        if directive in ("include_file", "import_file"):
            self._include(directive, rest, name, lineno, base_dir, depth, emit_line=not mid_line)
            return i
        if directive in ("else", "endif", "ifdef", "ifndef") and not has_newline:
            # `#!endif` at EOF without a newline is a comment
            if not mid_line:
                self._emit(raw, name, lineno)
            return i
        consumed = 1
        if directive in _DEFINE_DIRECTIVES:
            # backslash-newline continues the value (both characters dropped)
            while rest.endswith("\\") and i < len(lines):
                rest = rest[:-1] + lines[i]
                i += 1
                consumed += 1
        self._directive(directive, rest, name, lineno, base_dir, depth)
        for k in range(0 if mid_line else 0, consumed):
            if k == 0 and mid_line:
                continue
            self._emit("", name, lineno + k)
        return i

    # ----------------------------------------------------------- directives
    def _directive(self, d: str, rest: str, file: str, line: int, base_dir: str, depth: int) -> None:
        if d in ("ifdef", "ifndef"):
            if not rest[:1] or rest[0] not in " \t\r\b":
                return  # "#!ifdef" alone: flex needs a blank after it -> a comment line
            ident_m = _ID_RE.match(rest.lstrip(" \t\r\b"))
            if not ident_m:
                self._event(f"#!{d} needs a name", file, line, fatal=True)
            ident = ident_m.group(0)
            after = rest.lstrip(" \t\r\b")[len(ident):]
            if after.startswith("-"):
                self._event(f"'-' not allowed in the name after #!{d} ('{ident}-...')", file, line, fatal=True)
            if len(self._if_stack) >= MAX_IFDEF_DEPTH:
                self._event("too many nested #!ifdef (512)", file, line, fatal=True)
            parent = self._active()
            cond = (ident in self.defines) == (d == "ifdef")
            self._if_stack.append(_IfFrame(parent and cond, parent, Position(file, line, 1)))
            self._level_deltas.append((len(self._out_lines) + 1, 1))
            return
        if d in ("else", "endif"):
            if rest.strip(" \t\r\b"):
                return  # trailing text: the line is just a comment in Kamailio
            if d == "endif":
                self._level_deltas.append((len(self._out_lines) + 1, -1))
            if not self._if_stack:
                # Kamailio: "invalid position for preprocessor directive" (a warning) at line+1
                # (the directive's newline is already counted); a stray #!endif also makes the
                # #!ifdef/#!endif count unbalanced, which fails the check at the end (see _run)
                self._event(f"#!{d} without #!ifdef (Kamailio warns and ignores it)", file, line,
                            warning=True, kline=line + 1 + self._kshift)
                if d == "endif":
                    self._events[-1].stray_endif = True  # type: ignore[attr-defined]
                return
            if d == "endif":
                self._if_stack.pop()
            else:
                frame = self._if_stack[-1]
                frame.active = frame.parent_active and not frame.active
            return
        if not self._active():
            return
        if d in _DEFINE_DIRECTIVES:
            self._define(d, rest, file, line)
        elif d in ("defenv", "defenvs", "trydefenv", "trydefenvs"):
            self._defenv(d, rest, file, line)

    def _define(self, d: str, rest: str, file: str, line: int) -> None:
        if not rest[:1] or rest[0] not in " \t\r\b":
            return  # "#!define" without a blank: a comment line
        body = rest.lstrip(" \t\r\b")
        col = len(rest) - len(body) + 3 + len(d)
        m = _ID_RE.match(body)
        if not m:
            self._event(f"#!{d} needs a name", file, line, col, fatal=True)
        ident = m.group(0)
        after = body[m.end():]
        if after.startswith("-"):
            # cfg.lex: "error at cfg line N: '-' not allowed"
            self._event(f"'-' not allowed in a define name ('{ident}-...')", file, line, col, fatal=True)
        # DEFINE_EOL: blanks, then the value is everything up to the newline, raw
        value = after.lstrip(" \t\r\b")
        if d in ("trydef", "trydefine"):
            if ident not in self.defines:
                self.defines[ident] = value or None
        elif d in ("redef", "redefine"):
            self.defines[ident] = value or None
        else:
            if ident in self.defines:
                # pp_define(): "already defined" -> the lexer returns an error token
                self._event(f"'{ident}' is already defined (#!define of an existing name; "
                            "use #!redefine or #!trydef)", file, line, col, fatal=True, exits=False)
            self.defines[ident] = value or None

    def _defenv(self, d: str, rest: str, file: str, line: int) -> None:
        spec = rest.strip(" \t\r\b").split()[0] if rest.strip(" \t\r\b") else ""
        ident, sep, env = spec.partition("=")
        env = env if sep else ident
        if sep and not env:
            self._event(f"invalid #!{d} '{spec}'", file, line, fatal=True)
        if not ident:
            self._event(f"#!{d} needs a name", file, line, fatal=True)
        val = os.environ.get(env)
        if val is None:
            if d.startswith("try"):
                return
            self._event(f"environment variable '{env}' is not set (#!{d})", file, line, fatal=True)
        if ident in self.defines:
            self._event(f"'{ident}' is already defined (#!{d})", file, line, fatal=True)
        if d.endswith("s"):
            val = '"' + val.replace('"', '\\"') + '"'
        self.defines[ident] = val

    def _subst(self, d: str, rest: str, file: str, line: int) -> None:
        s = rest.strip(" \t\r\b")
        if len(s) < 2 or s[0] not in "\"'" or s[-1] != s[0]:
            return  # not `SUBST STRING`: the grammar reports the syntax error
        from .lexer import unescape
        s = unescape(s[1:-1]) if s[0] == '"' else s[1:-1]
        # the directive's argument is a STRING token: earlier rules apply to it too
        s = _apply(self.substs, s)
        if not s:
            self._event(f"empty #!{d} expression", file, line, fatal=True)
        sep = s[0]
        parts = _split_subst(s[1:], sep)
        if parts is None or len(parts) != 3 or sep == "\\":
            self._event(f"bad #!{d} expression '{s}'", file, line, fatal=True)
        pattern, repl, flags = parts
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
                self._event(f"unknown flag '{f}' in #!{d}", file, line, fatal=True)
        try:
            rx = re.compile(_posix_to_python_re(pattern), reflags)
        except re.error as e:
            self._event(f"bad regular expression in #!{d}: {e}", file, line, fatal=True)
        self.substs.append(Subst(rx, _posix_repl(repl), count))
        if d != "subst":
            if not pattern:
                self._event(f"empty define name in #!{d}", file, line, fatal=True)
            if pattern in self.defines:
                self._event(f"'{pattern}' is already defined (#!{d})", file, line, fatal=True)
            value = repl.replace("\\" + sep, sep)
            self.defines[pattern] = ('"' + value + '"') if d == "substdefs" else (value or None)

    def _include(self, kw: str, rest: str, file: str, line: int, base_dir: str, depth: int,
                 emit_line: bool = True):
        """``include_file``/``import_file``: ``rest`` is the text after the keyword. Returns
        (the text after the file name, its 0-based offset in ``rest``) -- flex goes on reading
        the line after the included file."""
        arg = rest.lstrip(" \t")
        tok = re.match(r"[^ \t\r\n]*", arg).group(0)  # INCLF: the next non-blank run, quotes included
        after = (arg[len(tok):], len(rest) - len(arg) + len(tok))
        col = (self._files[file][line - 1].find(tok) + 1) if tok else 1
        if emit_line:
            self._emit("", file, line)
        if len(tok) >= MAX_INCLUDE_FNAME:
            self._event(f"included file name too long: {tok}", file, line, col, fatal=True)
        if len(tok) < 2 or tok[0] != '"' or tok[-1] != '"':
            self._event(f"{kw}: the file name must be between double quotes (got {tok or 'nothing'})",
                        file, line, col, fatal=True)
        fname = _unescape_include(tok[1:-1])
        if not fname:
            self._event(f"{kw}: empty file name", file, line, col, fatal=True)
        for sub in self.substs:
            fname = sub.apply(fname)
        if depth + 1 >= MAX_INCLUDE_DEPTH:
            self._event(f"too many nested includes (max {MAX_INCLUDE_DEPTH})", file, line, col, fatal=True)
        if os.path.isabs(fname):
            candidates = [fname]
        else:
            candidates = [os.path.join(self._main_dir, fname), os.path.join(base_dir, fname)]
        target = next((c for c in candidates if os.path.isfile(c)), None)
        if target is None:
            if kw == "import_file":
                return after
            self._event(f"cannot open included file '{fname}'", file, line, col, fatal=True)
        try:
            with open(target, "rb") as f:
                text = _decode(f.read())
        except OSError as e:
            if kw == "import_file":
                return after
            self._event(f"cannot read included file '{fname}': {e.strerror}", file, line, col, fatal=True)
        saved_shift = self._kshift
        self._kshift = 0
        inc_name = os.path.normpath(target)
        self._process_text(text, inc_name, os.path.dirname(target) or ".", depth + 1)
        # Kamailio's lexer quirk: an included file ending with a double-quoted string followed
        # only by blanks leaves the newlines of those blanks "ignored but counted", and they are
        # added to the including file's line counter when reading resumes
        extra = self._tail_newlines(text)
        self._kshift = saved_shift + extra
        return after

    @staticmethod
    def _tail_newlines(text: str) -> int:
        """Newlines after a final double-quoted string token (0 if the file does not end so)."""
        stripped = text.rstrip(" \t\b\r\n")
        if not stripped.endswith('"'):
            return 0
        # is that quote the end of a code string? scan the last line(s) cheaply: count quotes
        # outside comments on the final logical line
        tail = text[len(stripped):]
        line_start = stripped.rfind("\n") + 1
        last = stripped[line_start:]
        m = re.match(r"[ \t\r\b]*(?:#!|!!)(?:substdefs|substdef|subst)", last)
        if m:  # `#!subst "..."` is SUBST STRING for the lexer
            last = " " * m.end() + last[m.end():]
        inq = False
        i = 0
        while i < len(last):
            c = last[i]
            if inq:
                if c == "\\":
                    i += 2
                    continue
                if c == '"':
                    inq = False
                    if i == len(last) - 1:
                        return tail.count("\n")
            else:
                if c == '"':
                    inq = True
                elif c == "#" or last.startswith("//", i) or last.startswith("/*", i):
                    return 0
                elif c == "'":
                    j = last.find("'", i + 1)
                    if j < 0:
                        return 0
                    i = j
            i += 1
        return 0

    # -------------------------------------------------------- line scanning
    def _scan_line(self, raw: str, file: str, lineno: int):
        """One active line of code: expand defines where flex would, apply substs to strings
        and PVs, track multi-line strings/comments. Returns (text, colmap or None, tail): tail is
        None, or ("directive", name, rest, col) / ("include", keyword, rest, col) for a directive
        or an include met in the middle of the line (the text returned is what precedes it)."""
        lex = self._lex
        defines = self.defines
        substs = self.substs
        # fast path: nothing to expand or substitute and no lexical state to follow
        if not lex.comment_depth and lex.string is None and not lex.evrt:
            if not substs and not any(c in raw for c in "\"'/#"):
                words = _WORD_RE.findall(raw)
                if not any(w in defines for w in words):
                    if "event_route" not in raw and "_file" not in raw and "!!" not in raw:
                        return raw, None, None
        work = raw
        cols: list[int] | None = None  # original column of each character of `work`
        expansions = 0
        i = 0
        n = len(work)

        def replace(a: int, b: int, new: str, col_of_new: int | None = None) -> None:
            nonlocal work, cols, n
            if cols is None:
                cols = list(range(1, len(work) + 1))
            c0 = cols[a] if a < len(cols) else (cols[-1] + 1 if cols else 1)
            cn = c0 if col_of_new is None else col_of_new
            work = work[:a] + new + work[b:]
            cols[a:b] = [cn] * len(new)
            n = len(work)

        while i < n:
            if lex.comment_depth:
                j = i
                while j < n:
                    if work.startswith("/*", j):
                        lex.comment_depth += 1
                        j += 2
                    elif work.startswith("*/", j):
                        lex.comment_depth -= 1
                        j += 2
                        if lex.comment_depth == 0:
                            break
                    else:
                        j += 1
                i = j
                continue
            if lex.string is not None:
                j = _scan_string_end(work, i, lex.string)
                end = n if j < 0 else j - 1
                if substs and end > i:
                    seg = work[i:end]
                    new = _apply(substs, seg)
                    if new != seg:
                        replace(i, end, new)
                        j = -1 if j < 0 else i + len(new) + 1
                if j < 0:
                    return work, _colmap(cols), None
                lex.string = None
                i = j
                continue
            if lex.evrt:
                j = work.find("]", i)
                if j < 0:
                    return work, _colmap(cols), None
                lex.evrt = False
                i = j + 1
                continue
            m = _INTERESTING.search(work, i)
            if m is None:
                break
            i = m.start()
            c = work[i]
            if c == '"' or c == "'":
                k = _scan_string_end(work, i + 1, c)
                end = n if k < 0 else k - 1
                if substs and end > i + 1:
                    seg = work[i + 1:end]
                    new = _apply(substs, seg)
                    if new != seg:
                        replace(i + 1, end, new)
                        end = i + 1 + len(new)
                        k = -1 if k < 0 else end + 1
                if k < 0:
                    lex.string = c
                    return work, _colmap(cols), None
                i = k
                continue
            if c == "#" or c == "!":
                md = _MID_DIRECTIVE_RE.match(work, i)
                if md is not None:
                    col = (cols[i] if cols else i + 1)
                    return work[:i], _colmap(cols[:i] if cols else None), \
                        ("directive", md.group("name"), work[md.end():], col)
                if c == "!":
                    i += 1
                    continue
            if c == "#" or work.startswith("//", i):
                break  # a line comment: the rest of the line is copied as is
            if c == "/":
                if work.startswith("/*", i):
                    lex.comment_depth = 1
                    i += 2
                    continue
                i += 1
                continue
            if c == "$":
                k = _scan_pv_end(work, i)
                if substs and k > i + 1:
                    seg = work[i:k]
                    new = _apply(substs, seg)
                    if new != seg:
                        replace(i, k, new)
                        k = i + len(new)
                i = k
                continue
            if c == "@":
                i = _scan_select_end(work, i + 1)
                continue
            if c == "%":
                i = _scan_attr_end(work, i + 1)
                continue
            # a word: keyword, identifier (maybe a define), number, NUM_ID, IPv6 address
            wm = _WORD_RE.match(work, i)
            w = wm.group(0)
            k = wm.end()
            if c in "0123456789abcdefABCDEF" and k < n and work[k] == ":":
                m6 = _IPV6_RE.match(work, i)
                if m6 and m6.end() > k:
                    i = m6.end()
                    continue
            if (w == "msg" or w == "uri") and k < n and work[k] == ":":
                i = k
                continue
            if (w == "include_file" or w == "import_file") and (k >= n or work[k] in " \t\r\b"):
                col = (cols[i] if cols else i + 1)
                return work[:i], _colmap(cols[:i] if cols else None), ("include", w, work[k:], col + k - i)
            if c.isdigit() or w in KEYWORDS:
                if w == "event_route":
                    lex.evrt = True
                i = k
                continue
            if w in defines:
                expansions += 1
                if expansions > MAX_EXPANSIONS_PER_LINE:
                    self._event(f"define expansion loop in '{w}' (a define that expands to itself?)",
                                file, lineno, (cols[i] if cols else i + 1), fatal=True)
                value = defines[w] or ""
                replace(i, k, value)
                continue  # re-read the pushed-back value
            i = k
        return work, _colmap(cols), None


# ---------------------------------------------------------------- helpers
def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _apply(substs: list[Subst], text: str) -> str:
    for sub in substs:
        text = sub.apply(text)
    return text


def _colmap(cols: list[int] | None) -> list[tuple[int, int]] | None:
    """Compress per-character original columns into (output column, original column) runs."""
    if cols is None:
        return None
    out: list[tuple[int, int]] = []
    prev = None
    for k, c in enumerate(cols):
        if prev is None or c != prev + 1:
            out.append((k + 1, c))
        prev = c
    return out or None


def _unescape_include(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            d = s[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(d, d))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _scan_string_end(raw: str, i: int, quote: str) -> int:
    """Index just past the closing quote, or -1 when the string continues on the next line."""
    if quote == "'":
        j = raw.find("'", i)
        return -1 if j < 0 else j + 1
    n = len(raw)
    while i < n:
        j = raw.find('"', i)
        if j < 0:
            return -1
        b = j - 1
        while b >= i and raw[b] == "\\":
            b -= 1
        if (j - 1 - b) % 2 == 0:
            return j + 1
        i = j + 1
    return -1


def _scan_pv_end(raw: str, i: int) -> int:
    """End of a ``$...`` token at ``raw[i] == '$'`` (balanced parentheses)."""
    n = len(raw)
    j = i + 1
    if j < n and raw[j] == "(":
        return _balanced_end(raw, j)
    m = _ID_RE.match(raw, j)
    if m:
        j = m.end()
        if j < n and raw[j] == "(":
            return _balanced_end(raw, j)
        return j
    if j < n and raw[j] == "?":
        return j + 1
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


def _scan_select_end(raw: str, i: int) -> int:
    """After ``@``: identifiers, dots, ``[...]``, numbers, strings (flex SELECT state)."""
    n = len(raw)
    while i < n:
        c = raw[i]
        if c.isalnum() or c in "_.[]":
            i += 1
        elif c == '"':
            k = _scan_string_end(raw, i + 1, '"')
            if k < 0:
                return i
            i = k
        else:
            return i
    return i


def _scan_attr_end(raw: str, i: int) -> int:
    """After ``%`` (flex ATTR state): class letters, dots, then an identifier."""
    n = len(raw)
    while i < n and (raw[i].isalnum() or raw[i] in "_.[]*"):
        i += 1
    return i


def _split_subst(s: str, sep: str) -> list[str] | None:
    parts, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == sep:
            cur.append("\\" + sep)
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
    if len(parts) == 3:
        parts = [p.replace("\\" + sep, sep) if k == 0 else p for k, p in enumerate(parts)]
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
            if "0" <= nxt <= "9":
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
