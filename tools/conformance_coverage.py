#!/usr/bin/env python3
"""Which emulated features do the conformance cases exercise?

Usage::

    python3 tools/conformance_coverage.py              # summary + uncovered items
    python3 tools/conformance_coverage.py -v           # also: the cases covering each item
    python3 tools/conformance_coverage.py --arity      # also: function arities never called
    python3 tools/conformance_coverage.py --json       # machine-readable result

Issue 3 asks for "at least one conformance case per emulated function, PV class,
transformation and operator".  This tool lists every such item kscript emulates
and the cases under ``tests/conformance/cases/`` whose ``case.cfg`` uses it:

* **function** -- ``module.name`` for every ``FunctionDef`` of every module in
  :mod:`kscript.modules.registry` (``function_defs()``); core actions are the
  functions of the ``core`` module.  A call in a case counts for the first
  module (core, then the cfg's ``loadmodule`` order -- the order kscript binds
  calls in) that defines the name with that number of parameters, else for the
  first loaded module defining the name at all;
* **pv** -- ``$name`` for every PV class (``pv_classes``) of every module;
* **transformation** -- ``{class.name}`` for every entry of the transformation
  registry (:data:`kscript.pv.transformations.REGISTRY`);
* **operator** -- the expression operators of the grammar (``OPERATORS``);
  unary and binary ``-`` both count as ``-``, ``not``/``and``/``or`` as
  ``!``/``&&``/``||``;
* **statement** -- the statements and route block kinds of the language
  (``STATEMENTS``).

How a case.cfg is scanned: calls, operators and statements come from kscript's
own AST (``kscript.check.check_file`` with the case's ``defines``, so inactive
``#!ifdef`` branches do not count); when kscript cannot parse the file a textual
scan is used instead (calls = ``name(`` outside strings and comments).  PVs and
transformations are found textually in the preprocessed text with comments
removed -- in code and inside strings (formats) alike, nested PVs (``$(hdr($var(h)))``,
PV parameters of transformations) included.

Only the items kscript *emulates* are listed: a PV class or function kscript does
not implement yet is not an item (a case using one still runs against the
golden data once it exists).  ``tests/conformance/test_coverage_matrix.py``
asserts that everything is covered except a short, justified allow-list.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
CASES_DIR = ROOT / "tests" / "conformance" / "cases"

#: the grammar's expression operators (§2.4 of the surface reference)
OPERATORS = ("+", "-", "*", "/", "mod", "|", "&", "^", "~", "<<", ">>", "!", "&&", "||",
             "==", "!=", "=~", "eq", "ne", "ieq", "ine", "<", ">", "<=", ">=",
             "defined", "strlen", "strempty", "selval", "(int)", "(str)")

#: statements and route block kinds
STATEMENTS = ("if", "else", "switch", "case", "case-regex", "default", "while", "break",
              "return", "exit", "drop", "route()", "assignment",
              "request_route", "route[]", "failure_route", "branch_route", "onreply_route[]",
              "reply_route", "onsend_route", "event_route")

_ROUTE_KIND_ITEM = {"request": "request_route", "route": "route[]", "failure": "failure_route",
                    "branch": "branch_route", "onreply": "onreply_route[]", "reply": "reply_route",
                    "onsend": "onsend_route", "event": "event_route"}

CATEGORIES = ("function", "pv", "transformation", "operator", "statement")


# ------------------------------------------------------------------ what kscript emulates
def emulated_items() -> dict[str, dict[str, dict]]:
    """{category: {item: info}}; info has "module" (functions, PVs) and "arities"."""
    from kscript.modules import registry
    from kscript.pv.transformations import REGISTRY
    from kscript.pv.transformations.spec import _ensure_loaded

    _ensure_loaded()
    funcs: dict[str, dict] = {}
    pvs: dict[str, dict] = {}
    for mod in registry.available():
        cls = registry.module_class(mod)
        if cls is None:
            continue
        for fd in cls.function_defs():
            info = funcs.setdefault(f"{mod}.{fd.name}", {"module": mod, "name": fd.name, "arities": set()})
            info["arities"].add(fd.nparams)
        for pvc in cls.pv_classes:
            pvs.setdefault(f"${pvc.name}", {"module": mod, "name": pvc.name})
    return {
        "function": funcs,
        "pv": pvs,
        "transformation": {f"{{{n}}}": {"name": n} for n in REGISTRY},
        "operator": {op: {} for op in OPERATORS},
        "statement": {s: {} for s in STATEMENTS},
    }


# ------------------------------------------------------------------ text helpers
def strip_comments(text: str, keep_strings: bool = True) -> str:
    """Remove ``#`` / ``//`` line comments and ``/* */`` blocks (not inside strings);
    with ``keep_strings=False`` string literals become ``""``.  Line structure is kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    break
                j += 1
            out.append(text[i:j + 1] if keep_strings else c + c)
            i = j + 1
        elif c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            seg = text[i:n if j < 0 else j + 2]
            out.append("\n" * seg.count("\n"))
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def scan_pvs(text: str) -> tuple[set[str], set[str]]:
    """(PV class names, transformation names) occurring in ``text``, nested ones included."""
    from kscript.pv.spec import PVSyntaxError, scan_pv

    classes: set[str] = set()
    trs: set[str] = set()
    todo = [text]
    while todo:
        t = todo.pop()
        i = 0
        while True:
            i = t.find("$", i)
            if i < 0:
                break
            if t.startswith("$$", i):
                i += 2
                continue
            try:
                spec, end = scan_pv(t, i)
            except (PVSyntaxError, IndexError, ValueError):
                i += 1
                continue
            classes.add(spec.cls)
            for part in (spec.inner, spec.index):
                if part and "$" in part:
                    todo.append(part)
            for tr in spec.transforms:
                trs.add(tr.split(",", 1)[0].strip())
                if "$" in tr:
                    todo.append(tr)
            i = max(end, i + 1)
    return classes, trs


_CALL_RE = re.compile(r"(?<![\w$.@])([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_NOT_CALLS = {"if", "while", "switch", "return", "exit", "drop", "route", "defined", "strlen",
              "strempty", "selval", "int", "str", "request_route", "failure_route",
              "branch_route", "onreply_route", "reply_route", "onsend_route", "event_route",
              "loadmodule", "modparam", "modparamx"}


def _text_calls(code: str) -> list[tuple[str, int]]:
    """Fallback: (name, nargs) of every ``name(...)`` in code (strings already emptied)."""
    out = []
    for m in _CALL_RE.finditer(code):
        name = m.group(1)
        if name in _NOT_CALLS:
            continue
        depth, j, nargs, seen = 1, m.end(), 0, False
        while j < len(code) and depth:
            c = code[j]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "," and depth == 1:
                nargs += 1
            if depth and not c.isspace():
                seen = True
            j += 1
        out.append((name, nargs + 1 if seen else 0))
    return out


_TEXT_OPS = [("(int)", r"\(\s*int\s*\)"), ("(str)", r"\(\s*str\s*\)"),
             ("<<", r"<<"), (">>", r">>"), ("&&", r"&&|\band\b"), ("||", r"\|\||\bor\b"),
             ("==", r"=="), ("!=", r"!="), ("=~", r"=~"), ("<=", r"<="), (">=", r">="),
             ("eq", r"\beq\b"), ("ne", r"\bne\b"), ("ieq", r"\bieq\b"), ("ine", r"\bine\b"),
             ("mod", r"\bmod\b"), ("defined", r"\bdefined\b"), ("strlen", r"\bstrlen\s*\("),
             ("strempty", r"\bstrempty\s*\("), ("selval", r"\bselval\s*\("),
             ("!", r"!(?!=)|\bnot\b"), ("<", r"(?<![<])<(?![<=])"), (">", r"(?<![>])>(?![>=])"),
             ("+", r"\+"), ("-", r"(?<![\w.])-|(?<=[\s)])-"), ("*", r"\*"), ("/", r"/"),
             ("|", r"(?<!\|)\|(?!\|)"), ("&", r"(?<!&)&(?!&)"), ("^", r"\^"), ("~", r"(?<!=)~")]


_ROUTE_HEAD_RE = re.compile(r"\b(?:request_route|failure_route|branch_route|onreply_route|reply_route|"
                            r"onsend_route|event_route|route)\b\s*(?:\[[^\]]*\])?\s*\{")


def _route_code(code: str) -> str:
    """Fallback: the code from the first route block on, without block headers and
    without top-level statements (loadmodule/modparam/name=value lines)."""
    m = _ROUTE_HEAD_RE.search(code)
    if not m:
        return ""
    code = _ROUTE_HEAD_RE.sub("{", code[m.start():])
    return re.sub(r"(?m)^\s*(?:loadmodule|modparam|modparamx)\b.*$|^\s*[\w.]+\s*=\s*[^=~].*$", "", code)


def _strip_pvs(code: str) -> str:
    """Replace every PV of ``code`` by `` PV `` (their names, indexes and
    transformations contain '(', '-', '*', ...)."""
    from kscript.pv.spec import PVSyntaxError, scan_pv

    parts, i = [], 0
    while True:
        j = code.find("$", i)
        if j < 0:
            parts.append(code[i:])
            break
        parts.append(code[i:j])
        try:
            _, end = scan_pv(code, j)
        except (PVSyntaxError, IndexError, ValueError):
            end = j + 1
        parts.append(" PV ")
        i = end
    return "".join(parts)


def _text_ops(code: str) -> set[str]:
    """Fallback operator scan of route-block code (strings emptied, PVs removed)."""
    # drop PVs, IPs, regex case labels
    code = _strip_pvs(code)
    code = re.sub(r"\d+\.\d+\.\d+\.\d+(/\d+)?", " IP ", code)
    code = re.sub(r"\bcase\s*/", "case ", code)
    out = set()
    for op, rx in _TEXT_OPS:
        if re.search(rx, code):
            out.add(op)
    return out


# ------------------------------------------------------------------ one case
@dataclass
class CaseUse:
    name: str
    calls: list = field(default_factory=list)  # (name, nargs)
    pvs: set = field(default_factory=set)
    transformations: set = field(default_factory=set)
    operators: set = field(default_factory=set)
    statements: set = field(default_factory=set)
    modules: list = field(default_factory=list)
    parsed: bool = True
    error: str = ""


def _ast_uses(cfg, use: CaseUse) -> None:
    from kscript import nodes as N

    for item in cfg.items:
        if isinstance(item, N.LoadModule):
            use.modules.append(item.module)
        if not isinstance(item, N.RouteBlock):
            continue
        use.statements.add(_ROUTE_KIND_ITEM.get(item.kind, item.kind))
        for n in item.walk():
            if isinstance(n, N.Call):
                use.calls.append((n.name, len(n.args)))
            elif isinstance(n, N.Binary):
                use.operators.add(n.op)
            elif isinstance(n, N.Unary):
                use.operators.add(n.op)
            elif isinstance(n, N.Cast):
                use.operators.add(f"({n.to})")
            elif isinstance(n, N.Defined):
                use.operators.add("defined")
            elif isinstance(n, N.StrLen):
                use.operators.add("strlen")
            elif isinstance(n, N.StrEmpty):
                use.operators.add("strempty")
            elif isinstance(n, N.SelVal):
                use.operators.add("selval")
            elif isinstance(n, N.RouteCall):
                use.statements.add("route()")
            elif isinstance(n, N.If):
                use.statements.add("if")
                if n.else_ is not None:
                    use.statements.add("else")
            elif isinstance(n, N.Switch):
                use.statements.add("switch")
                for label, _ in n.labels:
                    use.statements.add("default" if label.default else
                                       "case-regex" if label.regex else "case")
            elif isinstance(n, N.While):
                use.statements.add("while")
            elif isinstance(n, N.Break):
                use.statements.add("break")
            elif isinstance(n, N.Return):
                use.statements.add("return")
            elif isinstance(n, N.Exit):
                use.statements.add("exit")
            elif isinstance(n, N.Drop):
                use.statements.add("drop")
            elif isinstance(n, (N.Assign, N.AssignExpr)):
                use.statements.add("assignment")
    alias = {"or": "||", "and": "&&", "not": "!"}
    use.operators = {alias.get(o, o) for o in use.operators}


def scan_case(case_dir: Path) -> CaseUse:
    """What one case's case.cfg uses."""
    import yaml

    from kscript.check import check_file

    use = CaseUse(case_dir.name)
    cfg_path = case_dir / "case.cfg"
    raw = {}
    try:
        raw = yaml.safe_load((case_dir / "case.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        pass
    defines = [str(x) for x in raw.get("defines", []) or []]
    text = cfg_path.read_text(encoding="utf-8", errors="replace")
    report = None
    try:
        report = check_file(str(cfg_path), defines)
    except Exception as e:  # noqa: BLE001 - a crash of the checker must not hide coverage
        use.error = f"{type(e).__name__}: {e}"
    if report is not None and getattr(report, "smap", None) is not None and report.smap.text:
        text = report.smap.text
    if report is not None and report.config is not None:
        _ast_uses(report.config, use)
    else:
        use.parsed = False
        if report is not None and report.errors and not use.error:
            use.error = str(report.errors[0])
        code = strip_comments(text, keep_strings=False)
        use.modules = re.findall(r'loadmodule\s*"(?:[^"]*/)?([A-Za-z0-9_]+)(?:\.so)?"', text)
        use.calls = _text_calls(_strip_pvs(code))
        use.operators = _text_ops(_route_code(code))
    use.pvs, use.transformations = scan_pvs(strip_comments(text))
    return use


def _bind(call: str, nargs: int, modules: list[str], funcs: dict) -> str | None:
    """The function item a call of a case binds to (see the module docstring)."""
    order = ["core"] + [m for m in modules if m != "core"]
    for mod in order:
        info = funcs.get(f"{mod}.{call}")
        if info and nargs in info["arities"]:
            return f"{mod}.{call}"
    for mod in order:
        if f"{mod}.{call}" in funcs:
            return f"{mod}.{call}"
    return None


# ------------------------------------------------------------------ the matrix
def compute(cases_dir: Path = CASES_DIR) -> dict:
    """{"items": {category: {item: [case, ...]}}, "arities": {func: {n: [case...]}},
    "cases": [names], "unparsed": {case: error}, "unrecorded": [names],
    "modules": {item: module}}.  Only cases with a golden.json count."""
    items = emulated_items()
    cover: dict[str, dict[str, list[str]]] = {cat: {k: [] for k in items[cat]} for cat in CATEGORIES}
    arities: dict[str, dict[int, list[str]]] = {k: {n: [] for n in sorted(v["arities"])}
                                                for k, v in items["function"].items()}
    unparsed = {}
    names = []
    unrecorded = []
    funcs = items["function"]
    for d in sorted(p.parent for p in cases_dir.glob("*/case.cfg")):
        if not (d / "golden.json").is_file():
            unrecorded.append(d.name)  # not replayed by test_conformance.py: does not count
            continue
        use = scan_case(d)
        names.append(use.name)
        if not use.parsed:
            unparsed[use.name] = use.error
        for call, nargs in use.calls:
            key = _bind(call, nargs, use.modules, funcs)
            if key is None:
                continue
            if use.name not in cover["function"][key]:
                cover["function"][key].append(use.name)
            if nargs in arities[key] and use.name not in arities[key][nargs]:
                arities[key][nargs].append(use.name)
        for pv in use.pvs:
            k = f"${pv}"
            if k in cover["pv"] and use.name not in cover["pv"][k]:
                cover["pv"][k].append(use.name)
        for tr in use.transformations:
            k = f"{{{tr}}}"
            if k in cover["transformation"] and use.name not in cover["transformation"][k]:
                cover["transformation"][k].append(use.name)
        for op in use.operators:
            if op in cover["operator"] and use.name not in cover["operator"][op]:
                cover["operator"][op].append(use.name)
        for st in use.statements:
            if st in cover["statement"] and use.name not in cover["statement"][st]:
                cover["statement"][st].append(use.name)
    return {"items": cover, "arities": arities, "cases": names, "unparsed": unparsed,
            "unrecorded": unrecorded,
            "modules": {k: v["module"] for k, v in {**items["function"], **items["pv"]}.items()}}


def uncovered(result: dict) -> dict[str, list[str]]:
    return {cat: sorted(k for k, v in result["items"][cat].items() if not v) for cat in CATEGORIES}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="list the cases covering each item")
    ap.add_argument("--arity", action="store_true", help="also list function arities never called")
    ap.add_argument("--json", action="store_true", help="print the whole matrix as JSON")
    ap.add_argument("--cases", default=str(CASES_DIR), help="cases directory")
    args = ap.parse_args(argv)

    res = compute(Path(args.cases))
    unc = uncovered(res)
    if args.json:
        out = dict(res)
        out["arities"] = {k: {str(n): c for n, c in v.items()} for k, v in res["arities"].items()}
        out["uncovered"] = unc
        print(json.dumps(out, indent=1, sort_keys=True))
        return 0
    print(f"{len(res['cases'])} recorded cases"
          + (f" ({len(res['unrecorded'])} without golden.json ignored: {' '.join(res['unrecorded'])})"
             if res["unrecorded"] else ""))
    for name, err in sorted(res["unparsed"].items()):
        print(f"  (not parsed by kscript, scanned as text: {name}: {err.splitlines()[0] if err else ''})")
    total_all = cov_all = 0
    for cat in CATEGORIES:
        items = res["items"][cat]
        cov = sum(1 for v in items.values() if v)
        total_all += len(items)
        cov_all += cov
        print(f"{cat:15} {cov:4}/{len(items):<4} covered")
    print(f"{'total':15} {cov_all:4}/{total_all:<4} covered")
    for cat in CATEGORIES:
        if args.verbose:
            print(f"\n== {cat}")
            for k in sorted(res["items"][cat]):
                print(f"  {k:32} {', '.join(res['items'][cat][k]) or '-- UNCOVERED'}")
        elif unc[cat]:
            print(f"\nuncovered {cat}s ({len(unc[cat])}):")
            if cat in ("function", "pv"):
                by_mod: dict[str, list[str]] = {}
                for k in unc[cat]:
                    by_mod.setdefault(res["modules"][k], []).append(k)
                for mod, ks in sorted(by_mod.items()):
                    print(f"  [{mod}] " + " ".join(k.split(".", 1)[1] if cat == "function" else k
                                                   for k in ks))
            else:
                print("  " + " ".join(unc[cat]))
    if args.arity:
        missing = [f"{k}/{n}" for k, v in sorted(res["arities"].items()) for n, c in v.items()
                   if not c and res["items"]["function"][k]]
        print(f"\nfunction arities never called (of covered functions): {len(missing)}")
        if missing:
            print("  " + " ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
