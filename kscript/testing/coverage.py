"""Route coverage: which cfg lines and which branches of each ``if``/``switch`` ran.

:class:`Coverage` is a :class:`~kscript.runtime.tracing.Tracer`; give it to the
scripts you run (the scenario runner and the pytest plugin do, with
``--coverage`` / ``--kscript-coverage``) and register each script with
:meth:`Coverage.add_script` so its statements count even when they never run.

What counts:

* **lines** -- a line is executable when a statement (an action: assignment,
  function call, ``if``, ``switch``, ``while``, ``return``, ``exit``, ``drop``,
  ``break``, a ``{ }`` block used as a statement, ...) starts on it, in any route
  block of the files the config reads (after ``#!ifdef`` selection: code that
  the defines leave out is not counted); it is covered when one of those
  statements ran.
* **branches** -- each ``if`` has two: ``then`` and ``else`` (taken when the
  condition is false, whether or not an ``else`` is written). Each ``switch`` has
  one per distinct place a label jumps to (labels that share a body, like
  ``case -1: case -3:``, are one branch) plus ``none`` when there is no
  ``default`` (no label matched). ``while`` conditions are not counted.

Results are kept per original file (includes included), merged across every
script registered (so several scenarios, or several ``-A`` variants of one cfg,
add up).
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field

from .. import nodes as N
from ..runtime.tracing import Tracer

__all__ = ["Coverage", "FileCoverage"]


@dataclass
class _BranchPoint:
    kind: str  # "if" | "switch"
    file: str
    line: int
    column: int
    arms: dict = field(default_factory=dict)  # arm key -> label
    hit: set = field(default_factory=set)


@dataclass
class FileCoverage:
    file: str
    lines: int
    lines_hit: int
    branches: int
    branches_hit: int
    missing_lines: list[int]
    missing_branches: list[str]  # "line 12: else"

    @property
    def line_percent(self) -> float:
        return 100.0 * self.lines_hit / self.lines if self.lines else 100.0

    @property
    def branch_percent(self) -> float:
        return 100.0 * self.branches_hit / self.branches if self.branches else 100.0


class Coverage(Tracer):
    """Collects line and branch coverage (see the module doc)."""

    def __init__(self):
        self.executable: dict[str, set[int]] = {}
        self.hit: set[tuple[str, int]] = set()
        self.points: dict[tuple[str, int, int], _BranchPoint] = {}
        self.sources: dict[str, list[str]] = {}

    # ------------------------------------------------------------ registration
    def add_script(self, script) -> None:
        """Count every statement and branch of ``script``'s routes (call once per loaded script)."""
        for f, lines in (getattr(script.smap, "files", None) or {}).items():
            self.sources.setdefault(f, list(lines))
        for item in script.config.items:
            if isinstance(item, N.RouteBlock):
                for s in item.body.body:
                    self._add_stmt(s)

    def _add_stmt(self, s) -> None:
        if isinstance(s, N.Empty):
            return
        p = s.pos
        self.executable.setdefault(p.file, set()).add(p.line)
        if isinstance(s, N.If):
            self._point(s, "if", {"then": "then", "else": "else"})
            self._add_body(s.then)
            if s.else_ is not None:
                self._add_body(s.else_)
        elif isinstance(s, N.While):
            self._add_body(s.body)
        elif isinstance(s, N.Switch):
            arms: dict = {}
            for lbl, idx in s.labels:
                text = "default" if lbl.default else f"case {_label_text(lbl)}"
                arms[idx] = f"{arms[idx]}/{text}" if idx in arms else text
            if not any(lbl.default for lbl, _ in s.labels):
                arms["none"] = "no case matched"
            self._point(s, "switch", arms)
            for x in s.body:
                self._add_stmt(x)
        elif isinstance(s, N.Block):
            for x in s.body:
                self._add_stmt(x)

    def _add_body(self, s) -> None:
        if isinstance(s, N.Block):  # an if/while body: its statements, not a block statement
            for x in s.body:
                self._add_stmt(x)
        else:
            self._add_stmt(s)

    def _point(self, s, kind: str, arms: dict) -> None:
        key = (s.pos.file, s.pos.line, s.pos.column)
        bp = self.points.get(key)
        if bp is None:
            self.points[key] = _BranchPoint(kind, s.pos.file, s.pos.line, s.pos.column, dict(arms))
        else:
            for k, v in arms.items():
                bp.arms.setdefault(k, v)

    # ------------------------------------------------------------ tracer hooks
    def on_stmt(self, ctx, node) -> None:
        p = node.pos
        self.hit.add((p.file, p.line))

    def on_branch(self, ctx, node, branch: str) -> None:
        p = node.pos
        bp = self.points.get((p.file, p.line, p.column))
        if bp is None:
            return
        if bp.kind == "if":
            bp.hit.add(branch)
        elif branch == "none":
            bp.hit.add("none")
        elif branch == "default":
            at = [i for lbl, i in node.labels if lbl.default]
            if at:
                bp.hit.add(at[0])
        elif branch.startswith("case "):
            try:
                bp.hit.add(int(branch[5:]))
            except ValueError:
                pass

    # ------------------------------------------------------------ results
    def files(self) -> list[FileCoverage]:
        out = []
        for f in sorted(self.executable):
            lines = self.executable[f]
            hit = {ln for ln in lines if (f, ln) in self.hit}
            br_total = br_hit = 0
            missing_br = []
            for bp in sorted((b for b in self.points.values() if b.file == f), key=lambda b: (b.line, b.column)):
                for arm, label in bp.arms.items():
                    br_total += 1
                    if arm in bp.hit:
                        br_hit += 1
                    else:
                        missing_br.append(f"line {bp.line}: {label}")
            out.append(FileCoverage(f, len(lines), len(hit), br_total, br_hit, sorted(lines - hit), missing_br))
        return out

    def totals(self) -> FileCoverage:
        fs = self.files()
        return FileCoverage("TOTAL", sum(x.lines for x in fs), sum(x.lines_hit for x in fs),
                            sum(x.branches for x in fs), sum(x.branches_hit for x in fs), [], [])

    def to_dict(self) -> dict:
        return {"files": {f.file: {"lines": f.lines, "lines_hit": f.lines_hit, "branches": f.branches,
                                   "branches_hit": f.branches_hit, "missing_lines": f.missing_lines,
                                   "missing_branches": f.missing_branches,
                                   "line_percent": round(f.line_percent, 2),
                                   "branch_percent": round(f.branch_percent, 2)} for f in self.files()},
                "totals": {k: v for k, v in vars(self.totals()).items() if k not in ("file", "missing_lines",
                                                                                    "missing_branches")}}

    def summary(self, relative_to: str | None = None) -> str:
        """A table: lines and branches per file, with percentages, then TOTAL."""
        fs = self.files()
        if not fs:
            return "kscript route coverage: no cfg was run"
        names = [_rel(f.file, relative_to) for f in fs]
        w = max(12, *(len(n) for n in names))
        head = f"{'cfg file':<{w}}  {'lines':>6} {'miss':>5} {'cover':>7}  {'branches':>8} {'miss':>5} {'cover':>7}"
        rows = ["kscript route coverage", head, "-" * len(head)]
        for n, f in zip(names, fs):
            rows.append(_row(n, f, w))
        if len(fs) > 1:
            rows.append("-" * len(head))
        rows.append(_row("TOTAL", self.totals(), w))
        return "\n".join(rows)

    def annotate(self, file: str) -> str:
        """The file's source, each line marked ``>`` (ran), ``!`` (never ran) or blank (no
        statement starts there); lines with a branch never taken get ``# branch: ...``."""
        src = self.sources.get(file)
        if src is None:
            raise KeyError(f"no source recorded for {file}")
        exe = self.executable.get(file, set())
        br_missing: dict[int, list[str]] = {}
        for bp in self.points.values():
            if bp.file == file:
                miss = [label for arm, label in bp.arms.items() if arm not in bp.hit]
                if miss and (file, bp.line) in self.hit:
                    br_missing.setdefault(bp.line, []).extend(miss)
        out = []
        width = len(str(len(src)))
        for i, text in enumerate(src, 1):
            text = text.rstrip("\r\n")
            mark = (">" if (file, i) in self.hit else "!") if i in exe else " "
            extra = f"    # branch never taken: {', '.join(br_missing[i])}" if i in br_missing else ""
            out.append(f"{i:>{width}} {mark} {text}{extra}")
        return "\n".join(out)

    def write_html(self, directory: str, title: str = "kscript route coverage") -> str:
        """An index page and one annotated page per file; returns the index path."""
        os.makedirs(directory, exist_ok=True)
        fs = self.files()
        rows = []
        for i, f in enumerate(fs):
            page = f"file{i + 1}.html"
            self._write_file_page(os.path.join(directory, page), f, title)
            rows.append(f"<tr><td><a href=\"{page}\">{html.escape(_rel(f.file, None))}</a></td>"
                        f"<td>{f.lines}</td><td>{f.lines - f.lines_hit}</td><td>{_bar(f.line_percent)}</td>"
                        f"<td>{f.branches}</td><td>{f.branches - f.branches_hit}</td><td>{_bar(f.branch_percent)}</td></tr>")
        t = self.totals()
        rows.append(f"<tr class=\"total\"><td>TOTAL</td><td>{t.lines}</td><td>{t.lines - t.lines_hit}</td>"
                    f"<td>{_bar(t.line_percent)}</td><td>{t.branches}</td><td>{t.branches - t.branches_hit}</td>"
                    f"<td>{_bar(t.branch_percent)}</td></tr>")
        body = (f"<h1>{html.escape(title)}</h1><table><tr><th>cfg file</th><th>lines</th><th>missed</th>"
                f"<th>line coverage</th><th>branches</th><th>missed</th><th>branch coverage</th></tr>"
                + "".join(rows) + "</table>")
        index = os.path.join(directory, "index.html")
        with open(index, "w", encoding="utf-8") as fh:
            fh.write(_page(title, body))
        with open(os.path.join(directory, "coverage.json"), "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, indent=1)
        return index

    def _write_file_page(self, path: str, f: FileCoverage, title: str) -> None:
        src = self.sources.get(f.file, [])
        exe = self.executable.get(f.file, set())
        br: dict[int, list[tuple[str, bool]]] = {}
        for bp in self.points.values():
            if bp.file == f.file:
                br.setdefault(bp.line, []).extend((label, arm in bp.hit) for arm, label in bp.arms.items())
        rows = []
        for i, text in enumerate(src, 1):
            cls = ""
            if i in exe:
                cls = "run" if (f.file, i) in self.hit else "miss"
                if cls == "run" and any(not ok for _, ok in br.get(i, [])):
                    cls = "part"
            arms = " ".join(f"<span class=\"{'ok' if ok else 'no'}\">{html.escape(lbl)}</span>"
                            for lbl, ok in br.get(i, []))
            rows.append(f"<tr class=\"{cls}\"><td class=\"n\">{i}</td><td><pre>{html.escape(text.rstrip())}</pre></td>"
                        f"<td class=\"br\">{arms}</td></tr>")
        body = (f"<p><a href=\"index.html\">&larr; index</a></p><h1>{html.escape(_rel(f.file, None))}</h1>"
                f"<p>lines {f.lines_hit}/{f.lines} ({f.line_percent:.1f}%), branches {f.branches_hit}/{f.branches} "
                f"({f.branch_percent:.1f}%). <span class=\"key run\">ran</span> <span class=\"key miss\">never ran</span> "
                f"<span class=\"key part\">ran, a branch never taken</span></p>"
                f"<table class=\"src\">{''.join(rows)}</table>")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(_page(f"{title}: {os.path.basename(f.file)}", body))


def _label_text(lbl) -> str:
    v = lbl.value
    if lbl.regex:
        return f"/\"{v}\""
    return f"\"{v}\"" if isinstance(v, str) else str(v)


def _rel(path: str, base: str | None) -> str:
    try:
        rel = os.path.relpath(path, base or os.getcwd())
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _row(name: str, f: FileCoverage, w: int) -> str:
    return (f"{name:<{w}}  {f.lines:>6} {f.lines - f.lines_hit:>5} {f.line_percent:>6.1f}%  "
            f"{f.branches:>8} {f.branches - f.branches_hit:>5} {f.branch_percent:>6.1f}%")


def _bar(pct: float) -> str:
    return f"<span class=\"pct\">{pct:.1f}%</span><span class=\"bar\"><span style=\"width:{pct:.0f}%\"></span></span>"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left}
tr.total td{font-weight:bold;border-top:1px solid #999}
.bar{display:inline-block;width:80px;height:8px;background:#f3c1c1;margin-left:6px}
.bar span{display:block;height:8px;background:#5cb85c}
table.src td{padding:0 6px}table.src pre{margin:0;font-size:13px}
td.n{color:#999;text-align:right}tr.run{background:#e6f5e6}tr.miss{background:#fbe3e3}tr.part{background:#fff4cc}
.key{padding:0 6px}.key.run{background:#e6f5e6}.key.miss{background:#fbe3e3}.key.part{background:#fff4cc}
td.br span{font-size:12px;margin-right:6px;padding:0 4px;border-radius:3px}
td.br .ok{background:#cfe9cf}td.br .no{background:#f5b5b5}
"""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{body}</body></html>\n")
