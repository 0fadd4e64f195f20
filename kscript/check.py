"""``kscript check``: preprocess, parse and check a configuration as ``kamailio -c`` does.

The entry point the CLI, the runner and the tests share. Never raises for a bad
config: every problem is in the returned :class:`CheckReport`, errors in the
order Kamailio prints them (its first error is ``report.errors[0]``).

Pipeline: :class:`~kscript.preprocessor.Preprocessor` (defines, conditionals,
includes) -> :func:`~kscript.lexer.tokenize` -> :mod:`kscript.parser` with the
:class:`~kscript.checker.Checker` as hooks (module loading, modparams,
functions, PVs, types: Kamailio's parse-time actions, run at the same moments)
-> preprocessor events (missing include, stray ``#!endif``...) merged in at the
place the lexer meets them.

Known, documented differences with ``kamailio -c``:

* ``listen=`` addresses are not resolved (kamailio fails when a name or
  interface does not resolve on the machine; kscript accepts what parses);
* module ``mod_init``/fixups do not run in ``kamailio -c`` either; kscript
  additionally warns about routes called but not defined (a start-up error of
  the real ``kamailio``, not of ``-c``) and about functions it cannot run yet.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left

from . import nodes as N
from .errors import KscriptError, Position
from .source import SourceMap


class CheckReport:
    """The outcome of checking one configuration: ``file``, ``defines`` (the -A arguments),
    ``config`` (the AST, when there is no error), ``smap``, ``errors`` (in the order Kamailio
    prints them), ``warnings``, ``defines_map`` (the defines in force at the end)."""

    def __init__(self, file: str, defines: list[str] | None = None, config: N.Config | None = None,
                 smap: SourceMap | None = None, errors: list[KscriptError] | None = None,
                 warnings: list | None = None, defines_map: dict | None = None):
        self.file = file
        self.defines = defines if defines is not None else []
        self.config = config
        self.smap = smap
        self.errors = errors if errors is not None else []
        self.warnings = warnings if warnings is not None else []
        self.defines_map = defines_map if defines_map is not None else {}

    def __repr__(self) -> str:
        return f"CheckReport({self.file!r}, ok={self.ok}, errors={len(self.errors)}, warnings={len(self.warnings)})"

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        cfg = self.config
        routes: dict[str, int] = {}
        modules: list[str] = []
        params = 0
        if cfg is not None:
            for item in cfg.items:
                if isinstance(item, N.RouteBlock):
                    routes[item.kind] = routes.get(item.kind, 0) + 1
                elif isinstance(item, N.LoadModule):
                    modules.append(item.module)
                elif isinstance(item, (N.CoreParam, N.CfgVar, N.Listen)):
                    params += 1
        return {"modules": modules, "routes": routes, "params": params}

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "ok": self.ok,
            "defines": self.defines,
            "errors": [_error_dict(e) for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            **self.summary(),
        }


def _error_dict(e: KscriptError) -> dict:
    d = e.to_dict()
    kl = getattr(e, "kamailio_line", None)
    if kl is not None and e.pos is not None and kl != e.pos.line:
        d["kamailio_line"] = kl  # the line kamailio -c prints for it (see kscript.source)
    return d


class _StrayChar:
    """A warning for a character Kamailio's lexer skips (flex default rule)."""

    kind = "warning"

    def __init__(self, ch: str, pos: Position | None):
        self.message = f"character {ch!r} ignored (Kamailio's lexer skips it silently)"
        self.pos = pos

    def to_dict(self) -> dict:
        d = {"kind": "warning", "message": self.message}
        if self.pos:
            d.update(file=self.pos.file, line=self.pos.line, column=self.pos.column)
        return d


# check_file's memo: a config checked again (kscript test loads the same cfg for every
# scenario) is not lexed, parsed and checked again when it is known to preprocess to the same
# source: every file it read still has the same bytes and every file an include_file /
# import_file of it may name still exists or not as before -- or, when that cannot be told
# from the files (#!defenv reads the environment, #!subst may rewrite file names), when
# preprocessing it again gives the same text, origins and files. Only clean reports (no
# error, no preprocessor event) are kept. A hit shares the AST and the source map with the
# first report (both read-only once checked: Scripts compile their own closures from the
# AST) in a fresh CheckReport.
_MEMO: dict = {}
_MEMO_SIZE = 8
_INCLUDE_RE = re.compile(rb"(?:include_file|import_file)[ \t\r\b]*\"([^\"]*)\"")
_DEFENV_RE = re.compile(rb"(?:#!|!!)(?:try)?defenv")


class _Memo:
    __slots__ = ("report", "inputs")

    def __init__(self, report: CheckReport, inputs):
        self.report = report
        # ([(path, bytes)] of every file read, [(path, isfile)] of include candidates), or
        # None: preprocess again to compare
        self.inputs = inputs

    def unchanged(self) -> bool:
        files, probes = self.inputs
        return (all(_read(name) == data for name, data in files)
                and all(os.path.isfile(c) == there for c, there in probes))

    def fresh(self, file: str, defines: list) -> CheckReport:
        r = self.report
        return CheckReport(file, defines, r.config, r.smap, [], list(r.warnings), dict(r.defines_map))


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _inputs_of(path: str, smap: SourceMap, pp):
    if pp.substs:
        return None
    main_dir = os.path.dirname(path) or "."
    files, probes = [], []
    for name in smap.files:
        data = _read(name)
        if data is None or _DEFENV_RE.search(data):
            return None
        files.append((name, data))
        base_dir = os.path.dirname(name) or "."
        for m in _INCLUDE_RE.finditer(data):
            if b"\\" in m.group(1):
                return None
            fname = m.group(1).decode("utf-8", "surrogateescape")
            cands = [fname] if os.path.isabs(fname) else [os.path.join(main_dir, fname), os.path.join(base_dir, fname)]
            probes.extend((c, os.path.isfile(c)) for c in cands)
    return files, probes


def _same_source(a: SourceMap, b: SourceMap) -> bool:
    return a.text == b.text and a.files == b.files and a.origins == b.origins


def check_file(path: str | os.PathLike, defines: list[str] | tuple[str, ...] = (), *,
               emulated: set[tuple[str, str]] | None = None) -> CheckReport:
    """Check ``path`` as ``kamailio -c -f path -A d...`` would (plus kscript's warnings)."""
    from .preprocessor import Preprocessor

    p = os.fspath(path)
    key = (p, os.path.abspath(p), tuple(defines), None if emulated is None else frozenset(emulated))
    memo = _MEMO.get(key)
    if memo is not None and memo.inputs is not None:
        if memo.unchanged():
            return memo.fresh(str(path), list(defines))
        memo = None
    report = CheckReport(str(path), list(defines))
    pp = Preprocessor()
    try:
        for d in defines:
            pp.define_cli(d)
        smap = pp.run(path)
    except KscriptError as e:
        report.errors.append(e)
        return report
    clean = not smap.events and getattr(smap, "open_ifdef", None) is None
    if clean and memo is not None and _same_source(memo.report.smap, smap) and memo.report.defines_map == pp.defines:
        return memo.fresh(str(path), list(defines))
    report.smap = smap
    report.defines_map = pp.defines
    _check_smap(report, smap, emulated)
    if clean and report.ok:
        _MEMO.pop(key, None)
        if len(_MEMO) >= _MEMO_SIZE:
            del _MEMO[next(iter(_MEMO))]
        _MEMO[key] = _Memo(CheckReport(report.file, report.defines, report.config, smap, [], list(report.warnings),
                                       dict(report.defines_map)), _inputs_of(p, smap, pp))
    else:
        _MEMO.pop(key, None)
    return report


def check_text(text: str, name: str = "<config>", defines: list[str] | tuple[str, ...] = (), *,
               base_dir: str = ".", emulated: set[tuple[str, str]] | None = None) -> CheckReport:
    """:func:`check_file` for a configuration held in a string."""
    from .preprocessor import Preprocessor

    report = CheckReport(name, list(defines))
    pp = Preprocessor()
    try:
        for d in defines:
            pp.define_cli(d)
        smap = pp.run_text(text, name, base_dir)
    except KscriptError as e:
        report.errors.append(e)
        return report
    report.smap = smap
    report.defines_map = pp.defines
    _check_smap(report, smap, emulated)
    return report


def _debug_level_at(checker, t: float) -> int:
    level = 0  # default_core_cfg.debug = L_WARN
    for idx, value in checker.debug_levels:
        if idx < t:
            level = value
    return level


def _ifdef_count_check(smap: SourceMap, events: list, stop_line: int | None, fatal):
    """Kamailio's #!if[n]def/#!endif count, as far as its lexer read: negative -> the first
    stray #!endif (a warning where it is) fails the check; positive at the end of the file ->
    an unbalanced #!ifdef (returned: an event to add). Not checked when Kamailio exits on a
    fatal lexer error."""
    if fatal is not None:
        if getattr(fatal, "exits", True):
            return None
        stop_line = fatal.out_line
    level = 0
    for out_line, delta in getattr(smap, "ifdef_deltas", ()):
        if stop_line is not None and out_line >= stop_line:
            break
        level += delta
    if level < 0:
        for ev in events:
            if ev.stray_endif and (stop_line is None or ev.out_line < stop_line):
                ev.warning = False
                ev.error.kind = "error"
                ev.error.message = ("#!endif without #!ifdef (the #!ifdef/#!endif count ends "
                                    f"{level}: Kamailio refuses the config)")
                break
    elif level > 0 and stop_line is None:
        return getattr(smap, "open_ifdef", None)
    return None


def _check_smap(report: CheckReport, smap: SourceMap, emulated) -> None:
    from .checker import Checker, fast_catalogue
    from .lexer import tokenize
    from .parser import Diag, parse_tokens

    lex = tokenize(smap.text)
    checker = Checker(fast_catalogue(), smap, emulated)
    fatal = next((ev for ev in smap.events if ev.fatal), None)
    # the text stops at a fatal directive: the parser's end of input is not a syntax error then
    checker.input_truncated = fatal is not None
    try:
        value, parser = parse_tokens(smap, lex, checker)
    except RecursionError:  # pragma: no cover - pathological nesting
        e = KscriptError("configuration nested too deeply to be checked")
        report.errors.append(e)
        return
    diags: list = list(parser.diags)
    # preprocessor events, at the place Kamailio's lexer meets them -- if it gets there: when
    # the parse stops earlier (syntax error, YYABORT), the lexer never reads what follows
    lines = [t.line for t in lex.tokens]
    ntok = len(lines)
    stop = parser.stop_idx if (parser.stop_idx is not None and parser.stop_idx < ntok) else None
    events = []
    for ev in smap.events:
        t = ntok - 0.75 if ev.at_end else bisect_left(lines, ev.out_line) - 0.5
        if stop is not None and t > stop:
            continue
        events.append((t, ev))
    fatal = next((ev for _t, ev in events if ev.fatal), None)
    stop_line = lex.tokens[stop].line if stop is not None else None
    unbalanced = _ifdef_count_check(smap, [ev for _t, ev in events], stop_line, fatal)
    if unbalanced is not None:
        events.append((ntok - 0.75, unbalanced))
    for t, ev in events:
        if ev.stray_endif and not ev.warning and _debug_level_at(checker, t) < 0:  # (see below)
            # below L_WARN the "invalid position" warning is not printed: Kamailio's only
            # message is the #!ifdef/#!endif count error at the end
            t = ntok - 0.75
        ev.error.kamailio_line = ev.kamailio_line  # type: ignore[attr-defined]
        if ev.warning:
            report.warnings.append(ev.error)
            continue
        diags.append(Diag(ev.error, (t, -1 if ev.fatal else 0), ev.kamailio_line))
    diags.sort(key=lambda d: d.key)
    for d in diags:
        if d.kamailio_line is not None:
            d.error.kamailio_line = d.kamailio_line  # type: ignore[attr-defined]
        report.errors.append(d.error)
    if fatal is not None:
        # nothing after a fatal preprocessor error is read by Kamailio
        cut = next(i for i, e in enumerate(report.errors) if e is fatal.error)
        del report.errors[cut + 1:]
    if not report.errors:
        report.config = value
    for line, col, ch in lex.stray:
        report.warnings.append(_StrayChar(ch, smap.position(line, col)))
    checker.finish()
    report.warnings.extend(checker.warnings)
