"""Text the REPL prints: values, results of runs, source listings.

Everything is rendered to strings through a :class:`Painter` that adds ANSI
colours (interactive terminal) or nothing (plain mode, ``NO_COLOR``).
"""

from __future__ import annotations

import os
from typing import Any

from .debugger import short_file

_STYLES = {
    "err": "1;31", "warn": "35", "type": "2", "dim": "2", "sent": "32", "changed": "33", "lineno": "2",
    "marker": "1;33", "bp": "31", "head": "1", "ok": "32", "meta": "36",
    "log.ERR": "31", "log.CRIT": "1;31", "log.ALERT": "1;31", "log.BUG": "1;31", "log.WARN": "33",
    "log.NOTICE": "36",
}


class Painter:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        code = _STYLES.get(style)
        if code is None and style.startswith("log."):
            code = "2"
        return f"\033[{code}m{text}\033[0m" if code else text


# ---------------------------------------------------------------- values
def quote(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value_text(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return "<null>"
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, list):
        return "[" + ", ".join(value_text(x) for x in v) + "]"
    return repr(v)


class Raw(str):
    """A value shown as is (not quoted, no type)."""


def xavp_text(items) -> str:
    """An xavp root's items (dicts of field value stacks), newest first: ``[{b="x", n=1}]``."""
    out = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict):
            fields = []
            for k, v in item.items():
                vals = v if isinstance(v, list) else [v]
                fields.append(f"{k}=" + (value_text(vals[0]) if len(vals) == 1 else value_text(vals)))
            out.append("{" + ", ".join(fields) + "}")
        else:
            out.append(value_text(item))
    return "[" + ", ".join(out) + "]"


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, int):
        return "int"
    return "str"


def typed(v: Any, paint: Painter) -> str:
    if isinstance(v, Raw):
        return str(v)
    return f"{value_text(v)} {paint('(' + type_name(v) + ')', 'type')}"


def truth(rc: int) -> str:
    return "true" if rc > 0 else ("false" if rc < 0 else "exit")


# ---------------------------------------------------------------- run output
def log_lines(records, paint: Painter, indent: str = "  ") -> list[str]:
    out = []
    for rec in records:
        lvl = rec.level
        where = ""
        pos = rec.pos
        if pos is not None and not str(pos.file).startswith("<repl"):
            where = paint(f"  [{short_file(pos.file)}:{pos.line}]", "dim")
        src = "" if rec.source == "script" else paint(f" <{rec.source}>", "dim")
        text = rec.text.rstrip("\n")
        first, *rest = text.split("\n") if text else [""]
        out.append(f"{indent}{paint(lvl.ljust(6), 'log.' + lvl)}{src} {first}{where}")
        for more in rest:
            out.append(f"{indent}       {more}")
    return out


def sent_lines(sent, paint: Painter, indent: str = "  ", full: bool = True) -> list[str]:
    out = []
    for s in sent:
        lines = s.text.rstrip("\r\n").splitlines()
        out.append(f"{indent}{paint('->', 'sent')} {s.kind} to {s.dst}: {lines[0]}")
        if full:
            for line in lines[1:]:
                out.append(f"{indent}     {line}")
    return out


# ---------------------------------------------------------------- state changes
def snapshot(script, ctx) -> dict[str, Any]:
    """What a statement may change, keyed by how the REPL shows it."""
    snap: dict[str, Any] = {}
    if ctx is not None:
        for key, get in (("$ru", lambda: ctx.ruri), ("$du", lambda: ctx.dst_uri)):
            try:
                snap[key] = get()
            except Exception:  # noqa: BLE001 - a broken message must not stop the REPL
                pass
        snap["flags"] = ctx.flags
        snap["bflags"] = ctx.bflags
        snap["sflags"] = ctx.sflags
        for (kind, name), stack in list(ctx.avps.items()):
            label = f"$avp({name})" if kind == "s" else f"$avp(i:{name})"
            snap[label] = list(stack)
        for root, items in list(ctx.xavps.items()):
            snap[f"$xavp({root})"] = Raw(xavp_text(items))
        snap["branches"] = len(ctx.branches)
        if ctx.lumps is not None:
            snap["message edits"] = repr(ctx.lumps)
        snap["reply headers"] = list(ctx.reply_lumps)
        snap["force_send_socket"] = str(ctx.force_socket) if ctx.force_socket else None
    if script is not None:
        for k, v in list(script.vars.items()):
            snap[f"$var({k})"] = v
        for k, v in list(script.vns.items()):
            snap[f"$vn({k})"] = v
        for k, v in list(script.shv.items()):
            snap[f"$shv({k})"] = v
    return snap


def _flag_names(script) -> dict[int, str]:
    names = getattr(script, "flag_names", {}) or {}
    return {v: k for k, v in names.items()}


def diff_lines(before: dict, after: dict, script, paint: Painter, skip: set[str] = frozenset()) -> list[str]:
    out = []
    tilde = paint("~", "changed")
    for key, new in after.items():
        if key in skip:
            continue
        old = before.get(key, _MISSING)
        if old == new and type(old) is type(new):
            continue
        if key in ("flags", "bflags", "sflags"):
            old = old if isinstance(old, int) else 0
            names = _flag_names(script) if key == "flags" else {}
            parts = []
            for bit in range(64):
                m = 1 << bit
                if (old ^ new) & m:
                    label = f"{bit}" + (f" ({names[bit]})" if bit in names else "")
                    parts.append(("+" if new & m else "-") + label)
            out.append(f"  {tilde} {key}: {' '.join(parts)}")
        elif key == "branches":
            out.append(f"  {tilde} branches: {old if old is not _MISSING else 0} -> {new}")
        elif key in ("message edits", "reply headers", "force_send_socket") or isinstance(new, Raw):
            out.append(f"  {tilde} {key}: {new if not isinstance(new, list) else ', '.join(map(str, new))}")
        else:
            shown_old = "unset" if old is _MISSING else value_text(old)
            out.append(f"  {tilde} {key}: {shown_old} -> {value_text(new)}")
    for key in before:
        if key not in after and key not in skip and key.startswith("$"):
            out.append(f"  {tilde} {key}: {value_text(before[key])} -> unset")
    return out


class _Missing:
    def __repr__(self):
        return "unset"


_MISSING = _Missing()


# ---------------------------------------------------------------- source
def route_extent(script, block) -> tuple[str, int, int]:
    """(file, first line, last line) of a route block in its original file."""
    smap = script.smap
    pos = block.pos
    file = pos.file
    start_idx = None
    for i, o in enumerate(smap.origins):
        if o.file == file and o.line == pos.line:
            start_idx = i
            break
    if start_idx is None:
        return file, pos.line, pos.line
    lines = smap.text.split("\n")
    depth = 0
    seen = False
    i = start_idx
    while i < len(lines):
        line = lines[i]
        j = 0
        while j < len(line):
            c = line[j]
            if c in "\"'":
                k = line.find(c, j + 1)
                while k > 0 and c == '"' and line[k - 1] == "\\":
                    k = line.find(c, k + 1)
                j = len(line) if k < 0 else k + 1
                continue
            if c == "$" and j + 1 < len(line) and line[j + 1] == "(":
                # a PV with parentheses: skip to its closing parenthesis
                d = 0
                while j < len(line):
                    if line[j] == "(":
                        d += 1
                    elif line[j] == ")":
                        d -= 1
                        if d == 0:
                            break
                    j += 1
                j += 1
                continue
            if c == "{":
                depth += 1
                seen = True
            elif c == "}":
                depth -= 1
                if seen and depth == 0:
                    o = smap.origins[i]
                    end = o.line if o.file == file else pos.line
                    return file, pos.line, max(end, pos.line)
            j += 1
        i += 1
    return file, pos.line, pos.line


def source_lines(script, file: str, first: int, last: int, paint: Painter, *, highlight=None,
                 breakpoints=(), current: int | None = None) -> list[str]:
    lines = script.smap.files.get(file) or []
    width = len(str(last))
    out = []
    for n in range(first, min(last, len(lines)) + 1):
        text = lines[n - 1].rstrip("\r\n").expandtabs(4)
        if highlight is not None:
            text = highlight(text)
        mark = " "
        if n in breakpoints:
            mark = paint("*", "bp")
        cur = paint("=>", "marker") if n == current else "  "
        out.append(f"{cur}{mark}{paint(str(n).rjust(width), 'lineno')}  {text}")
    return out


def ansi_highlighter():
    """A function highlighting one line of cfg with ANSI colours (Pygments)."""
    from pygments import highlight
    from pygments.formatters import TerminalFormatter

    from .lexer import KamailioLexer
    lexer = KamailioLexer()
    fmt = TerminalFormatter()

    def hl(line: str) -> str:
        return highlight(line, lexer, fmt).rstrip("\n")

    return hl


def env_color(stream) -> bool:
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"
