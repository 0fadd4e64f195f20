#!/usr/bin/env python3
"""Generate kscript's catalogue of Kamailio 5.6.3 config-language exports.

The catalogue (``kscript/catalogue/kamailio-5.6.json``) lists, from Kamailio's
*source*, what a kamailio.cfg may name:

* per module (keyed by the .so / directory name used by ``loadmodule``):
  the ``module_exports`` name, the functions of its ``cmd_export_t`` table
  (arity, fixup / free-fixup names, route-type flags), its modparams
  (``param_export_t``), its pseudo-variable classes (``pv_export_t``) and its
  transformation classes (``tr_export_t``);
* for the core: the core PV classes (src/core/pv_core.c, src/core/pvapi.c),
  the core parameter names (``name = value`` statements, from cfg.y's
  ``assign_stm`` rule and cfg.lex's keyword definitions), the core actions
  (cfg.y's ``cmd`` / ``ret_cmd`` rules: forward, drop, setflag, ...) and every
  word the lexer turns into a keyword token;
* the transformation names (``{s.len}`` -> class ``s``, name ``len``) found
  in each class's parse function.

Only *data* is extracted (names, numbers, identifiers).  KEMI tables
(``sr_kemi_t``) are deliberately ignored: they are not the cfg surface.

Obtaining the source (tag 5.6.3 of github.com/kamailio/kamailio)::

    git clone --bare https://github.com/kamailio/kamailio kamailio.git   # or any mirror
    mkdir -p /tmp/kam563
    git --git-dir=kamailio.git archive 5.6.3 src | tar -x -C /tmp/kam563
    python3 tools/gen_catalogue.py /tmp/kam563

(``/tmp/kam563`` must contain ``src/``; passing ``/tmp/kam563/src`` also works.)

How the C is read
-----------------
No compiler is involved.  Each ``.c`` file of a module is treated as a
translation unit and run through a small C lexer (strings, char literals,
comments, line continuations) and a *partial* preprocessor that:

* tracks ``#if/#ifdef/#ifndef/#elif/#else/#endif`` and evaluates them against a
  fixed set of build defines (``BUILD_DEFINES`` below: the flags printed by
  Debian's ``kamailio -V`` plus Makefile.defs' unconditional ones), the
  module Makefile's ``DEFS+=-DX`` lines and the ``#define``s seen so far;
  conditions it cannot evaluate count as true and are recorded;
* records object-like and function-like ``#define``s (first definition wins,
  as with ``#ifndef X / #define X``) so table fields such as
  ``MODULE_NAME``, ``REQUEST_ROUTE|FAILURE_ROUTE`` or ``VAR_PARAM_NO`` can be
  evaluated; the core headers route.h / sr_module.h / pvar.h seed the table;
* inlines ``#include "..."`` of files inside the source tree's modules
  directory (needed e.g. for ``tlsa``, whose tlsa_mod.c includes
  ../tls/tls_mod.c after defining MOD_NAME "tlsa"); core/lib headers are not
  inlined.

Tables are found as ``[static] [const] T name[...] = { ... };`` for T in
cmd_export_t, param_export_t, pv_export_t, tr_export_t and
``struct module_exports``.  Entries are the top-level ``{...}`` groups of the
initialiser, split on top-level commas; a preprocessor conditional *inside* a
table body is recorded on the entries it guards (``"cond"``); entries in an
inactive branch are dropped (and listed under ``notes.inactive_entries``).
The module's export structure is the one the loader ``dlsym``s: ``exports``,
else ``_<module>_exports`` (core/sr_module.c); its ``cmds`` / ``params`` /
``pv_items`` identifiers are resolved first in the same translation unit,
then among the module's non-static tables.

Output format (sorted keys, 1-space indent, deterministic)::

  {"version": "5.6.3",                      # from src/Makefile.defs
   "modules": {so_name: {                   # the name loadmodule takes
       "exports_name": "...",               # module_exports.name: what
                                            # modparam's regex and MOD_x use
       "source": "src/modules/x/x.c",       # file holding the exports struct
       "functions": {fname: [{"nparams": n | "var", "fixup": str|null,
                              "free_fixup": str|null, "flags": [..],
                              "route_mask": int, "cond": [..]?}, ...]},
       "params": {pname: {"type": "int"|"str"|"string", "types": [..],
                          "func": bool, "cond": [..]?}},
       "pvs": {cls: PV},
       "transformations": [class, ...]}},
   "core": {"pvs": {cls: PV},
            "params": [name, ...],          # `name = value` statements
            "param_syntax": {name: {"token": T, "values": [[symbols], ...]}},
            "functions": {name: {"token": T, "forms": ["LPAREN STRING RPAREN",
                                 ""(bare), ...], "arities": [..],
                                 "bare": bool}},
            "keywords": {word: TOKEN}},     # every word the lexer reserves
   "transformations": {class: [name, ...]},
   "transformation_parsers": {class: {"module": m, "parser": f}},
   "route_flags": {FLAG: bit},
   "notes": {"no_exports": [...], "inactive_entries": [...],
             "unparsed_entries": [...], "transformation_name_mismatch": [...],
             "warnings": [...]}}

PV = {"type": "PVT_...", "getter": f|null, "setter": f|null,
      "parse_name": f|null, "parse_index": f|null, "init_param": f|null,
      "iparam": str|null, "has_name": bool, "writable": bool, "indexed": bool}

* A function name maps to a *list* of entries (one per cmd_export_t row:
  ``xlog`` has 1, 2 and 3 parameters).  ``nparams`` is ``"var"`` for
  VAR_PARAM_NO and -1 for NO_SCRIPT (C-API exports such as ``load_tm``,
  never callable from a script).  Missing trailing initialisers are 0.
* ``cond`` lists the preprocessor conditions (``USE_TLS``, ``!X``,
  ``#if ...``) guarding an entry inside its table.
* ``params``: ``types`` lists every type a name is declared with (jsonrpcs
  declares ``fifo_user`` as PARAM_STRING and PARAM_INT; modparam picks the
  declaration matching the value), ``type`` is the first; ``func`` =
  PARAM_USE_FUNC (the value goes to a callback at parse time).
* ``has_name`` = the class *requires* an inner name (``$hdr(X)``); without a
  name-parse function an inner name is an error (core/pvapi.c pv_parse_spec2).
* Route flags: ``flags`` lists atomic bits of core/route.h (REQUEST_ROUTE,
  FAILURE_ROUTE, TM_ONREPLY_ROUTE, BRANCH_ROUTE, ONSEND_ROUTE, ERROR_ROUTE,
  LOCAL_ROUTE, CORE_ONREPLY_ROUTE, BRANCH_FAILURE_ROUTE, ONEVENT_ROUTE), or
  ``["ANY_ROUTE"]`` for 0xFFFFFFFF; ``route_mask`` is the integer.  The core
  matches a call with ``(mask & rt) == rt``, and for event_route also
  ``mask & EVENT_ROUTE != 0`` (core/sr_module.c sr_cmd_flags_match).
* Transformation names are the string literals the class's parse function
  compares the name with (``name.len==3 && strncasecmp(name.s, "len", 3)``);
  a literal whose length check cannot match (json's "encode" in 5.6.3) is
  left out and listed in notes.transformation_name_mismatch.
* Kamailio 5.6.3's core exports no ``cmd_export_t`` table; the core's
  script functions are the cfg.y actions listed under core.functions.

Run ``python3 tools/gen_catalogue.py --help`` for options.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

VERSION = "5.6.3"

# Defines of a standard build (Makefile.defs unconditional C_DEFS, Linux
# os_defs, and the flags printed by Debian 12's `kamailio -V`).
BUILD_DEFINES = [
    "PKG_MALLOC", "SHM_MMAP", "DNS_IP_HACK", "USE_MCAST", "USE_TCP",
    "DISABLE_NAGLE", "HAVE_RESOLV_RES", "USE_DNS_CACHE", "USE_DNS_FAILOVER",
    "USE_DST_BLOCKLIST", "USE_NAPTR", "WITH_XAVP", "MEM_JOIN_FREE", "F_MALLOC",
    "Q_MALLOC", "TLSF_MALLOC", "DBG_SR_MEMORY", "USE_TLS", "TLS_HOOKS",
    "USE_SCTP", "USE_RAW_SOCKS", "USE_FUTEX", "FAST_LOCK", "ADAPTIVE_WAIT",
    "HAVE_EPOLL", "HAVE_SIGIO_RT", "HAVE_SELECT", "HAVE_GETHOSTBYNAME2",
    "HAVE_UNION_SEMUN", "HAVE_SCHED_YIELD", "HAVE_MSG_NOSIGNAL",
    "HAVE_MSGHDR_MSG_CONTROL", "HAVE_ALLOCA_H", "HAVE_TIMEGM",
    "HAVE_SCHED_SETSCHEDULER", "HAVE_IP_MREQN", "USE_PTHREAD_MUTEX",
    "__OS_linux", "__CPU_x86_64", "CC_GCC_LIKE_ASM", "__GNUC__", "__linux__",
    "KAMAILIO_MOD_INTERFACE",
]

TABLE_TYPES = ("cmd_export_t", "param_export_t", "pv_export_t", "tr_export_t")
EXPORT_FIELDS = ("name", "dlflags", "cmds", "params", "rpc_methods",
                 "pv_items", "response_f", "init_mod_f", "init_child_f",
                 "destroy_mod_f")
ROUTE_BITS = [
    ("REQUEST_ROUTE", 1 << 0), ("FAILURE_ROUTE", 1 << 1),
    ("TM_ONREPLY_ROUTE", 1 << 2), ("BRANCH_ROUTE", 1 << 3),
    ("ONSEND_ROUTE", 1 << 4), ("ERROR_ROUTE", 1 << 5),
    ("LOCAL_ROUTE", 1 << 6), ("CORE_ONREPLY_ROUTE", 1 << 7),
    ("BRANCH_FAILURE_ROUTE", 1 << 8), ("ONEVENT_ROUTE", 1 << 9),
]
ANY_ROUTE = 0xFFFFFFFF
_SIZEOF = {"int": 4, "unsigned int": 4, "unsigned": 4, "long": 8,
           "unsigned long": 8, "char": 1, "short": 2, "void *": 8,
           "char *": 8}
# what Evaluator.eval_int hands to eval(): numbers, operators, and/or/not
_EXPR_OK = re.compile(r"(?:[0-9a-fA-FxXoO]+|and|or|not|[-+*/%&|^~<>=!() ]+)*")
VAR_PARAM_NO = -128
NO_SCRIPT = -1

# --------------------------------------------------------------------------
# C lexer
# --------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"""
  (?P<nl>\n)
 |(?P<ws>(?:[ \t\f\v\r]|\\\r?\n)+)
 |(?P<bcomment>/\*.*?\*/)
 |(?P<lcomment>//(?:[^\n\\]|\\.|\\\n)*)
 |(?P<str>(?:u8|[uUL])?"(?:\\.|\\\n|[^"\\\n])*")
 |(?P<chr>(?:[uUL])?'(?:\\.|[^'\\\n])*')
 |(?P<num>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
 |(?P<id>[A-Za-z_][A-Za-z0-9_]*)
 |(?P<op>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%&|^!~<>=?:;,.(){}\[\]#])
 |(?P<other>.)
""", re.S | re.X)


@dataclass
class Tok:
    kind: str          # id num str chr op other pp
    text: str
    line: int
    # for kind == "pp": directive name and its argument tokens
    directive: str = ""
    args: list = field(default_factory=list)
    fnlike: bool = False   # for "#define NAME(" (function-like macro)


def lex(text: str) -> list[Tok]:
    """Tokenise C source; preprocessor lines become single ``pp`` tokens."""
    toks: list[Tok] = []
    line = 1
    at_bol = True
    pp: Tok | None = None
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        kind = m.lastgroup
        val = m.group()
        pos = m.end()
        if kind == "nl":
            line += 1
            if pp is not None:
                toks.append(pp)
                pp = None
            at_bol = True
            continue
        if kind in ("ws", "bcomment", "lcomment"):
            line += val.count("\n")
            continue
        if pp is not None:
            if not pp.directive and kind == "id":
                pp.directive = val
            else:
                pp.args.append(Tok(kind, val, line))
            continue
        if at_bol and val == "#":
            pp = Tok("pp", "#", line)
            continue
        at_bol = False
        toks.append(Tok(kind, val, line))
    if pp is not None:
        toks.append(pp)
    return toks


_LEX_CACHE: dict[str, list[Tok]] = {}


def lex_file(path: str) -> list[Tok]:
    """Lex a file once (cached); marks function-like ``#define`` tokens."""
    toks = _LEX_CACHE.get(path)
    if toks is None:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        # a macro is function-like iff '(' immediately follows its name
        fnlike = set(re.findall(r"^[ \t]*#[ \t]*define[ \t]+(\w+)\(", text,
                                re.M))
        toks = lex(text)
        for t in toks:
            if t.kind == "pp" and t.directive == "define" and t.args:
                t.fnlike = t.args[0].text in fnlike
        _LEX_CACHE[path] = toks
    return toks


def join_toks(toks) -> str:
    out = []
    for t in toks:
        if out and (t.kind in ("id", "num") and out[-1][-1:].isalnum()
                    or t.kind in ("id", "num") and out[-1][-1:] == "_"):
            out.append(" ")
        out.append(t.text)
    return "".join(out)


def c_string_value(lit: str) -> str:
    """Value of one C string literal (escapes decoded loosely)."""
    body = lit[lit.index('"') + 1:-1]
    body = body.replace("\\\n", "")
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t", "r": "\r",
                                        "0": "\0"}.get(m.group(1), m.group(1)),
                  body)


# --------------------------------------------------------------------------
# Partial preprocessor
# --------------------------------------------------------------------------

@dataclass
class Macro:
    params: list | None     # None: object-like
    body: list              # tokens


class CondFrame:
    __slots__ = ("active", "taken", "parent_active", "text", "known")

    def __init__(self, parent_active, value, text):
        self.parent_active = parent_active
        self.known = value is not None
        v = True if value is None else value
        self.active = parent_active and v
        self.taken = v
        self.text = text


class PPError(Exception):
    pass


class Evaluator:
    """Evaluates integer constant expressions over a macro table."""

    def __init__(self, macros: dict):
        self.macros = macros

    def expand(self, toks, depth=0, seen=frozenset()):
        out = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t.kind == "id" and t.text in self.macros and t.text not in seen \
                    and depth < 40:
                mac = self.macros[t.text]
                if mac.params is None:
                    out.extend(self.expand(mac.body, depth + 1,
                                           seen | {t.text}))
                    i += 1
                    continue
                if i + 1 < len(toks) and toks[i + 1].text == "(":
                    args, j = split_call_args(toks, i + 1)
                    body = substitute(mac, args)
                    out.extend(self.expand(body, depth + 1, seen | {t.text}))
                    i = j
                    continue
            out.append(t)
            i += 1
        return out

    def eval_int(self, toks, for_if=False) -> int | None:
        """Evaluate; return None when not a constant expression."""
        toks = self.expand(strip_casts(toks))
        parts = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t.kind == "id" and t.text == "defined":
                j = i + 1
                paren = j < len(toks) and toks[j].text == "("
                if paren:
                    j += 1
                name = toks[j].text if j < len(toks) else ""
                parts.append("1" if name in self.macros else "0")
                i = j + (2 if paren else 1)
                continue
            if t.kind == "id" and t.text == "sizeof" and i + 1 < len(toks) \
                    and toks[i + 1].text == "(":
                args, j = split_call_args(toks, i + 1)
                arg = args[0] if len(args) == 1 else []
                size = None
                if len(arg) == 1 and arg[0].kind == "str":
                    size = len(c_string_value(arg[0].text).encode()) + 1
                else:
                    size = _SIZEOF.get(" ".join(x.text for x in arg))
                if size is None:
                    return None
                parts.append(str(size))
                i = j
                continue
            if t.kind == "num":
                v = t.text.rstrip("uUlL")
                if re.fullmatch(r"0[0-7]+", v):
                    v = "0o" + v[1:]
                parts.append(v)
            elif t.kind == "id":
                if for_if:
                    parts.append("0")
                else:
                    return None
            elif t.kind == "chr":
                try:
                    parts.append(str(ord(c_string_value(
                        t.text.replace("'", '"')))))
                except TypeError:
                    return None
            elif t.text == "&&":
                parts.append(" and ")
            elif t.text == "||":
                parts.append(" or ")
            elif t.text == "!":
                parts.append(" not ")
            elif t.text == "/":
                parts.append("//")
            elif t.text in ("?", ":"):
                return None
            elif t.kind == "op":
                parts.append(t.text)
            else:
                return None
            i += 1
        expr = " ".join(parts)
        if not expr.strip():
            return None
        if not _EXPR_OK.fullmatch(expr):
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = eval(expr, {"__builtins__": {}}, {})  # noqa: S307
        except Exception:
            return None
        if isinstance(v, bool):
            v = int(v)
        return v if isinstance(v, int) else None


def strip_casts(toks):
    """Remove C casts such as ``(cmd_function)`` / ``(void *)``."""
    out = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.text == "(":
            j = i + 1
            names = []
            while j < len(toks) and (toks[j].kind == "id" or toks[j].text == "*"):
                names.append(toks[j].text)
                j += 1
            if (j < len(toks) and toks[j].text == ")" and names
                    and j + 1 < len(toks)
                    and (toks[j + 1].kind in ("id", "num", "str")
                         or toks[j + 1].text in ("(", "&", "-"))
                    and not (len(names) == 1 and names[0] == "defined")
                    and (names[-1] == "*" or any(re.search(
                        r"(_t|_f|function|_func|char|int|long|void|"
                        r"unsigned|const|struct)$", x) for x in names))):
                i = j + 1
                continue
        out.append(t)
        i += 1
    return out


def split_call_args(toks, lparen_idx):
    """Split ``( a , b(c,d) , e )`` starting at the '(' index.

    Returns (list of token lists, index after ')').
    """
    args = [[]]
    depth = 0
    i = lparen_idx
    while i < len(toks):
        t = toks[i]
        if t.text in ("(", "{", "["):
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif t.text in (")", "}", "]"):
            depth -= 1
            if depth == 0:
                return ([] if args == [[]] else args), i + 1
        elif t.text == "," and depth == 1:
            args.append([])
            i += 1
            continue
        args[-1].append(t)
        i += 1
    raise PPError("unbalanced macro call")


def substitute(mac: Macro, args):
    pmap = {}
    params = mac.params
    for k, p in enumerate(params):
        if p == "...":
            pmap["__VA_ARGS__"] = [x for a in args[k:] for x in
                                   (a + [Tok("op", ",", 0)])][:-1]
        else:
            pmap[p] = args[k] if k < len(args) else []
    out = []
    body = mac.body
    i = 0
    while i < len(body):
        t = body[i]
        if t.text == "#" and i + 1 < len(body) and body[i + 1].text in pmap:
            out.append(Tok("str", '"' + join_toks(pmap[body[i + 1].text])
                           .replace('"', '\\"') + '"', t.line))
            i += 2
            continue
        if t.text == "##" and out and i + 1 < len(body):
            nxt = body[i + 1]
            rep = pmap.get(nxt.text, [nxt])
            left = out.pop()
            glued = left.text + (rep[0].text if rep else "")
            out.append(Tok("id" if re.match(r"[A-Za-z_]", glued) else "num",
                           glued, t.line))
            out.extend(rep[1:])
            i += 2
            continue
        if t.kind == "id" and t.text in pmap:
            out.extend(pmap[t.text])
        else:
            out.append(t)
        i += 1
    return out


@dataclass
class Table:
    ttype: str          # cmd_export_t ... or "module_exports"
    name: str
    static: bool
    file: str           # path relative to src root's parent
    line: int
    entries: list       # list of (token-list, cond-list)
    inactive: list      # list of (token-list, cond-list)
    macros: dict        # macro table at the point of definition
    stray: list = field(default_factory=list)  # tokens outside any entry


class TranslationUnit:
    """Walks one .c file (with in-module includes inlined)."""

    def __init__(self, path, src_root, base_macros, defines, log):
        self.src_root = src_root
        self.modules_dir = os.path.join(src_root, "src", "modules")
        self.macros = dict(base_macros)
        for d, v in defines.items():
            self.macros.setdefault(d, Macro(None, lex(v) if v else [
                Tok("num", "1", 0)]))
        self.ev = Evaluator(self.macros)
        self.tables: list[Table] = []
        self.functions: dict[str, tuple] = {}   # name -> (file, tokens)
        self.log = log
        self.included: set[str] = set()
        self.stack: list[CondFrame] = []
        self.stray: list[tuple[str, int]] = []   # unexplained table tokens
        self.path = path
        self.walk_file(path)

    # -- helpers -----------------------------------------------------------
    def active(self):
        return not self.stack or self.stack[-1].active

    def rel(self, path):
        return os.path.relpath(path, self.src_root)

    def handle_pp(self, t: Tok, path):
        d = t.directive
        a = t.args
        parent = self.active()
        if d in ("ifdef", "ifndef"):
            name = a[0].text if a else ""
            v = name in self.macros
            self.stack.append(CondFrame(parent, v if d == "ifdef" else not v,
                                        ("" if d == "ifdef" else "!") + name))
        elif d == "if":
            v = self.ev.eval_int(a, for_if=True)
            self.stack.append(CondFrame(parent, None if v is None else bool(v),
                                        "#if " + join_toks(a)))
        elif d == "elif":
            if not self.stack:
                return
            fr = self.stack[-1]
            if fr.taken:
                fr.active = False
            else:
                v = self.ev.eval_int(a, for_if=True)
                vv = True if v is None else bool(v)
                fr.active = fr.parent_active and vv
                fr.taken = vv
                fr.known = fr.known and v is not None
            fr.text = "#elif " + join_toks(a)
        elif d == "else":
            if not self.stack:
                return
            fr = self.stack[-1]
            fr.active = fr.parent_active and not fr.taken
            fr.taken = True
            fr.text = ("!" + fr.text) if not fr.text.startswith("!") \
                else fr.text[1:]
        elif d == "endif":
            if self.stack:
                self.stack.pop()
        elif not parent:
            return
        elif d == "define" and a:
            name = a[0].text
            if name in self.macros and name != "MODULE_NAME_UNUSED":
                return   # first definition wins
            if len(a) > 1 and a[1].text == "(" and t.fnlike:
                j = 2
                params = []
                while j < len(a) and a[j].text != ")":
                    if a[j].text != ",":
                        params.append(a[j].text)
                    j += 1
                self.macros[name] = Macro(params, a[j + 1:])
            else:
                self.macros[name] = Macro(None, a[1:])
        elif d == "undef" and a:
            self.macros.pop(a[0].text, None)
        elif d == "include" and a and a[0].kind == "str":
            inc = c_string_value(a[0].text)
            cand = os.path.normpath(os.path.join(os.path.dirname(path), inc))
            if cand.startswith(self.modules_dir + os.sep) and \
                    os.path.isfile(cand) and cand not in self.included:
                self.walk_file(cand)

    # -- main walk ---------------------------------------------------------
    def walk_file(self, path):
        self.included.add(path)
        toks = lex_file(path)
        depth0 = len(self.stack)
        i = 0
        n = len(toks)
        brace = 0
        while i < n:
            t = toks[i]
            if t.kind == "pp":
                self.handle_pp(t, path)
                i += 1
                continue
            if not self.active():
                i += 1
                continue
            if brace == 0:
                r = self.try_table(toks, i, path)
                if r:
                    i = r
                    continue
                r = self.try_function(toks, i, path)
                if r:
                    i = r
                    continue
            if t.text == "{":
                brace += 1
            elif t.text == "}":
                brace = max(0, brace - 1)
            i += 1
        del self.stack[depth0:]

    def try_function(self, toks, i, path):
        """Record top-level function definitions ``name(...) {`` (bodies)."""
        t = toks[i]
        if t.kind != "id" or i + 1 >= len(toks) or toks[i + 1].text != "(":
            return None
        if t.text in ("if", "while", "for", "switch", "return", "sizeof"):
            return None
        # find the matching ')' then expect '{'
        depth = 0
        j = i + 1
        while j < len(toks):
            if toks[j].kind == "pp":
                j += 1
                continue
            if toks[j].text == "(":
                depth += 1
            elif toks[j].text == ")":
                depth -= 1
                if depth == 0:
                    break
            elif toks[j].text in (";", "{", "}") and depth <= 1:
                return None
            j += 1
        k = j + 1
        if k >= len(toks) or toks[k].text != "{":
            return None
        # collect body (honouring conditionals, so that braces in inactive
        # branches do not unbalance the count)
        depth = 0
        m = k
        body = []
        while m < len(toks):
            tt = toks[m]
            if tt.kind == "pp":
                self.handle_pp(tt, path)
            elif self.active():
                if tt.text == "{":
                    depth += 1
                elif tt.text == "}":
                    depth -= 1
                    if depth == 0:
                        break
                body.append(tt)
            m += 1
        self.functions.setdefault(t.text, (self.rel(path), body))
        return m + 1

    def try_table(self, toks, i, path):
        """Recognise ``[static] [const] TYPE name[...] = {`` at index i."""
        j = i
        static = False
        quals = []
        while j < len(toks) and toks[j].kind == "id" and toks[j].text in (
                "static", "const", "extern", "volatile"):
            static = static or toks[j].text == "static"
            quals.append(toks[j].text)
            j += 1
        if j >= len(toks):
            return None
        ttype = None
        if toks[j].text in TABLE_TYPES:
            ttype = toks[j].text
            j += 1
        elif toks[j].text == "struct" and j + 1 < len(toks) and \
                toks[j + 1].text == "module_exports":
            ttype = "module_exports"
            j += 2
        elif toks[j].text == "module_exports_t":
            ttype = "module_exports"
            j += 1
        else:
            return None
        while j < len(toks) and toks[j].text == "const":
            j += 1
        if j >= len(toks) or toks[j].kind != "id":
            return None
        name = toks[j].text
        line = toks[j].line
        j += 1
        if ttype != "module_exports":
            if j >= len(toks) or toks[j].text != "[":
                return None
            while j < len(toks) and toks[j].text != "]":
                j += 1
            j += 1
        if j >= len(toks) or toks[j].text != "=":
            return None
        j += 1
        if j >= len(toks) or toks[j].text != "{":
            return None
        n_stray = len(self.stray)
        entries, inactive, end = self.read_initializer(toks, j,
                                                       ttype == "module_exports")
        self.tables.append(Table(ttype, name, static, self.rel(path), line,
                                 entries, inactive, dict(self.macros),
                                 self.stray[n_stray:]))
        return end

    def read_initializer(self, toks, j, flat):
        """Read ``{ ... }`` at toks[j].

        For tables returns the list of top-level brace groups (each a token
        list) with the conditional context; for the flat module_exports
        initialiser returns one entry per top-level comma-separated field.
        """
        entries = []
        inactive = []
        local: list[CondFrame] = []
        depth = 0
        cur: list[Tok] = []
        cur_cond = None
        shift = 0      # length change of toks due to spliced macro expansions
        i = j
        while i < len(toks):
            t = toks[i]
            if t.kind == "pp":
                # conditionals inside the table body are tracked locally
                d = t.directive
                if d in ("ifdef", "ifndef", "if", "elif", "else", "endif"):
                    before = len(self.stack)
                    self.handle_pp(t, "")
                    if d in ("ifdef", "ifndef", "if"):
                        local.append(self.stack[-1])
                    elif d == "endif" and local and len(self.stack) < before:
                        local.pop()
                else:
                    self.handle_pp(t, "")
                i += 1
                continue
            conds = [f.text for f in local]
            act = self.active()
            if t.text == "{":
                depth += 1
                if depth == 1:
                    i += 1
                    continue
                if depth == 2 and not flat:
                    cur = []
                    cur_cond = (conds, act)
                    i += 1
                    continue
            elif t.text == "}":
                depth -= 1
                if depth == 0:
                    if flat and cur:
                        entries.append((cur, conds))
                    k = i + 1
                    while k < len(toks) and toks[k].text != ";":
                        k += 1
                    return entries, inactive, k + 1 - shift
                if depth == 1 and not flat:
                    (inactive if not cur_cond[1] else entries).append(
                        (cur, cur_cond[0]))
                    cur = []
                    i += 1
                    continue
            elif t.text == "," and depth == 1:
                if flat:
                    (entries if act else inactive).append((cur, conds))
                    cur = []
                i += 1
                continue
            if depth >= 2 or flat:
                cur.append(t)
            elif depth == 1 and t.kind == "id" and not flat:
                # a macro expanding to one or more whole entries, e.g.
                # EXP_FUNC(name) or carrierroute's DB column lists: splice
                # its expansion into (a private copy of) the token stream
                mac = self.macros.get(t.text)
                k = None
                if mac is not None and mac.params is None:
                    k = i + 1
                elif mac is not None and i + 1 < len(toks) and \
                        toks[i + 1].text == "(":
                    _, k = split_call_args(toks, i + 1)
                if k is not None:
                    body = self.ev.expand(toks[i:k])
                    toks = toks[:i] + body + toks[k:]
                    shift += len(body) - (k - i)
                    continue
                self.stray.append((t.text, t.line))
            i += 1
        raise PPError("unterminated initialiser")


# --------------------------------------------------------------------------
# Entry decoding
# --------------------------------------------------------------------------

def split_fields(toks):
    fields = [[]]
    depth = 0
    for t in toks:
        if t.text in ("(", "{", "["):
            depth += 1
        elif t.text in (")", "}", "]"):
            depth -= 1
        elif t.text == "," and depth == 0:
            fields.append([])
            continue
        fields[-1].append(t)
    if fields and not fields[-1]:
        fields.pop()
    return fields


def field_ident(toks, ev: Evaluator):
    """A function-pointer field -> identifier name or None for 0/NULL."""
    toks = strip_casts(toks)
    toks = [t for t in toks if t.text not in ("&",)]
    if not toks:
        return None
    if len(toks) == 1:
        t = toks[0]
        if t.text in ("0", "NULL", "0L", "0UL"):
            return None
        if t.kind == "id":
            mac = ev.macros.get(t.text)
            if mac is not None and mac.params is None:
                exp = ev.expand([t])
                if len(exp) == 1:
                    return field_ident(exp, ev)
            return t.text
    exp = strip_casts(ev.expand(toks))
    exp = [t for t in exp if t.text not in ("&",)]
    while len(exp) >= 2 and exp[0].text == "(" and exp[-1].text == ")":
        exp = exp[1:-1]
    if len(exp) == 1:
        return field_ident(exp, ev) if exp[0].kind != "id" else exp[0].text
    return join_toks(toks)


def field_string(toks, ev: Evaluator):
    """A ``char *`` or ``str`` name field -> Python string (or None)."""
    exp = ev.expand(strip_casts(toks))
    strs = [t for t in exp if t.kind == "str"]
    if not strs:
        return None
    # adjacent literal concatenation; for {"x", sizeof("x")-1} take first
    out = []
    for t in exp:
        if t.kind == "str":
            out.append(c_string_value(t.text))
        elif t.text in ("{", "(") and not out:
            continue
        else:
            break
    return "".join(out) if out else c_string_value(strs[0].text)


def route_flags(mask):
    if mask is None:
        return None
    mask &= 0xFFFFFFFF
    if mask == ANY_ROUTE:
        return ["ANY_ROUTE"]
    names = [n for n, b in ROUTE_BITS if mask & b]
    rest = mask & ~sum(b for _, b in ROUTE_BITS)
    if rest:
        names.append(hex(rest))
    return names


# --------------------------------------------------------------------------
# Source tree walk
# --------------------------------------------------------------------------

class Generator:
    def __init__(self, root, verbose=False):
        if os.path.isdir(os.path.join(root, "src", "core")):
            self.root = os.path.abspath(root)
        elif os.path.isdir(os.path.join(root, "core")) and \
                os.path.basename(os.path.abspath(root)) == "src":
            self.root = os.path.dirname(os.path.abspath(root))
        else:
            raise SystemExit(f"{root}: not a Kamailio source tree (no src/core)")
        self.src = os.path.join(self.root, "src")
        self.verbose = verbose
        self.notes: dict[str, Any] = {
            "no_exports": [], "unparsed_entries": [], "inactive_entries": [],
            "warnings": [],
            "transformation_name_mismatch": [],
        }
        self.base_macros = self.core_macros()

    def log(self, msg):
        if self.verbose:
            print(msg, file=sys.stderr)

    def warn(self, msg):
        self.notes["warnings"].append(msg)
        self.log("warning: " + msg)

    # -- core header macros ------------------------------------------------
    def core_macros(self):
        macros: dict[str, Macro] = {}
        for rel in ("core/route.h", "core/sr_module.h", "core/pvar.h",
                    "core/str.h", "core/route_struct.h", "core/dprint.h"):
            path = os.path.join(self.src, rel)
            if not os.path.isfile(path):
                continue
            for t in lex_file(path):
                if t.kind == "pp" and t.directive == "define" and t.args:
                    name = t.args[0].text
                    if name in macros:
                        continue
                    a = t.args
                    if t.fnlike:
                        j = 2
                        params = []
                        while j < len(a) and a[j].text != ")":
                            if a[j].text != ",":
                                params.append(a[j].text)
                            j += 1
                        macros[name] = Macro(params, a[j + 1:])
                    else:
                        macros[name] = Macro(None, a[1:])
        return macros

    # -- modules -------------------------------------------------------------
    def module_defines(self, mdir):
        defs = {}
        mk = os.path.join(mdir, "Makefile")
        if os.path.isfile(mk):
            with open(mk, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    line = line.split("#", 1)[0]
                    m = re.match(r"\s*DEFS\s*\+?=(.*)", line)
                    if not m:
                        continue
                    for d in re.findall(r"-D([A-Za-z_]\w*)(?:=(\S+))?",
                                        m.group(1)):
                        if "$" not in (d[1] or ""):
                            defs[d[0]] = d[1].strip("'") if d[1] else ""
        return defs

    def parse_module(self, mod):
        mdir = os.path.join(self.src, "modules", mod)
        defines = {d: "" for d in BUILD_DEFINES}
        defines.update(self.module_defines(mdir))
        tus = []
        for fn in sorted(os.listdir(mdir)):
            if not fn.endswith(".c"):
                continue
            try:
                tu = TranslationUnit(os.path.join(mdir, fn), self.root,
                                     self.base_macros, defines, self.log)
            except PPError as e:
                self.warn(f"{mod}/{fn}: {e}")
                continue
            tus.append(tu)
        # the exports structure the loader dlsym()s
        exp = None
        for want in ("exports", f"_{mod}_exports"):
            for tu in tus:
                for tb in tu.tables:
                    if tb.ttype == "module_exports" and tb.name == want:
                        exp = (tu, tb)
                        break
                if exp:
                    break
            if exp:
                break
        if exp is None:
            self.notes["no_exports"].append(mod)
            return None
        tu, tb = exp
        ev = Evaluator(tb.macros)
        fields = [f for f, _ in tb.entries]
        if fields and fields[0] and fields[0][0].text == ".":
            named = {}
            for f in fields:
                named[f[1].text] = f[3:]
            fields = [named.get(k, []) for k in EXPORT_FIELDS]
        if len(fields) != len(EXPORT_FIELDS):
            self.warn(f"{mod}: module_exports has {len(fields)} fields")
        fdict = dict(zip(EXPORT_FIELDS, fields))
        info: dict[str, Any] = {
            "exports_name": field_string(fdict.get("name", []), ev),
            "source": tu.rel(tu.path),
            "functions": {}, "params": {}, "pvs": {},
        }

        def resolve(fieldname, ttype):
            ident = field_ident(fdict.get(fieldname, []), ev)
            if ident is None:
                return None
            for t in tu.tables:
                if t.ttype == ttype and t.name == ident:
                    return t
            for other in tus:
                for t in other.tables:
                    if t.ttype == ttype and t.name == ident and not t.static:
                        return t
            self.warn(f"{mod}: {fieldname} table {ident!r} not found")
            return None

        cmds = resolve("cmds", "cmd_export_t")
        params = resolve("params", "param_export_t")
        pvs = resolve("pv_items", "pv_export_t")
        if cmds:
            self.decode_cmds(mod, cmds, info["functions"])
        if params:
            self.decode_params(mod, params, info["params"])
        if pvs:
            self.decode_pvs(mod, pvs, info["pvs"])
        # transformation classes: every active tr_export_t table
        trs = {}
        funcs = {}
        for t in tus:
            funcs.update({k: v for k, v in t.functions.items()
                          if k not in funcs})
        seen = set()
        for t in tus:
            for tb2 in t.tables:
                if tb2.ttype != "tr_export_t" or (tb2.file, tb2.line) in seen:
                    continue
                seen.add((tb2.file, tb2.line))
                ev2 = Evaluator(tb2.macros)
                for toks, _ in tb2.entries:
                    fl = split_fields(toks)
                    if len(fl) < 2:
                        continue
                    cls = field_string(fl[0], ev2)
                    parser = field_ident(fl[1], ev2)
                    if cls:
                        trs[cls] = parser
        for tb2 in (cmds, params, pvs):
            if tb2 is not None:
                for text, line in tb2.stray:
                    self.notes["unparsed_entries"].append(
                        {"module": mod, "table": tb2.name, "why": "stray token",
                         "entry": f"{text} (line {line})"})
                for toks, cond in tb2.inactive:
                    self.notes["inactive_entries"].append(
                        {"module": mod, "table": tb2.name, "cond": cond,
                         "entry": join_toks(toks)[:120]})
        return info, trs, funcs

    def bad_entry(self, mod, table, toks, why):
        self.notes["unparsed_entries"].append(
            {"module": mod, "table": table.name, "why": why,
             "entry": join_toks(toks)[:160]})

    def decode_cmds(self, mod, table, out):
        ev = Evaluator(table.macros)
        for toks, cond in table.entries:
            fl = split_fields(toks)
            if not fl or (len(fl) >= 1 and field_string(fl[0], ev) is None
                          and join_toks(fl[0]) in ("0", "NULL")):
                continue  # terminator
            if len(fl) > 6:
                self.bad_entry(mod, table, toks, f"{len(fl)} fields")
                continue
            # C zero-fills missing trailing initialisers
            fl = fl + [[Tok("num", "0", 0)]] * (6 - len(fl))
            name = field_string(fl[0], ev)
            if name is None:
                self.bad_entry(mod, table, toks, "no name")
                continue
            np = ev.eval_int(fl[2])
            if np is None:
                self.bad_entry(mod, table, toks, "param_no not constant")
                continue
            mask = ev.eval_int(fl[5])
            if mask is None:
                self.bad_entry(mod, table, toks, "flags not constant")
                continue
            entry = {
                "nparams": "var" if np == VAR_PARAM_NO else np,
                "fixup": field_ident(fl[3], ev),
                "free_fixup": field_ident(fl[4], ev),
                "flags": route_flags(mask),
                "route_mask": mask & 0xFFFFFFFF,
            }
            if cond:
                entry["cond"] = cond
            out.setdefault(name, []).append(entry)

    def decode_params(self, mod, table, out):
        ev = Evaluator(table.macros)
        tnames = {1: "string", 2: "int", 4: "str", 8: "var"}
        for toks, cond in table.entries:
            fl = split_fields(toks)
            if not fl or join_toks(fl[0]) in ("0", "NULL"):
                continue
            if len(fl) != 3:
                self.bad_entry(mod, table, toks, f"{len(fl)} fields")
                continue
            name = field_string(fl[0], ev)
            ty = ev.eval_int(fl[1])
            if name is None or ty is None:
                self.bad_entry(mod, table, toks, "name/type not constant")
                continue
            ty &= 0xFFFFFFFF
            func = bool(ty & 0x80000000)
            base = ty & 0x7FFFFFFF
            tname = tnames.get(base, hex(base))
            if name in out:
                # same name declared again with another type (e.g. jsonrpcs
                # fifo_user as PARAM_STRING and PARAM_INT): modparam picks the
                # declaration whose type matches the value given
                prev = out[name]
                if tname not in prev["types"]:
                    prev["types"].append(tname)
                prev["func"] = prev["func"] or func
                continue
            entry = {"type": tname, "types": [tname], "func": func}
            if cond:
                entry["cond"] = cond
            out[name] = entry

    def decode_pvs(self, mod, table, out):
        ev = Evaluator(table.macros)
        for toks, cond in table.entries:
            fl = split_fields(toks)
            if not fl:
                continue
            name = field_string(fl[0], ev)
            if name is None:
                if join_toks(fl[0]) not in ("{0,0}", "{0, 0}", "{NULL,0}",
                                             "{0,NULL}", "0", "{NULL,NULL}",
                                             "STR_NULL", "{0}") and \
                        not re.fullmatch(r"\{?\s*(0|NULL)\s*,\s*(0|NULL)\s*\}?",
                                         join_toks(fl[0])):
                    self.bad_entry(mod, table, toks, "no name")
                continue
            if len(fl) > 8:
                self.bad_entry(mod, table, toks, f"{len(fl)} fields")
                continue
            fl = fl + [[Tok("num", "0", 0)]] * (8 - len(fl))
            ptype = join_toks(ev.expand(fl[1])) if len(fl[1]) != 1 \
                else fl[1][0].text
            get, setf, pn, pi, ip = (field_ident(fl[k], ev) for k in range(2, 7))
            iparam = join_toks(fl[7]) if fl[7] else None
            entry = {"type": ptype, "getter": get, "setter": setf,
                     "parse_name": pn, "parse_index": pi, "init_param": ip,
                     "iparam": iparam, "has_name": pn is not None,
                     "writable": setf is not None, "indexed": pi is not None}
            if cond:
                entry["cond"] = cond
            out.setdefault(name, entry)

    # -- transformations -----------------------------------------------------
    def transformation_names(self, cls, parser, funcs, mod):
        if parser not in funcs:
            self.warn(f"{mod}: transformation parser {parser} not found")
            return []
        _, body = funcs[parser]
        names = set()
        # if(<v>.len == N && (strncasecmp(<v>.s, "lit", M) == 0 || ...))
        text = " ".join(t.text for t in body)
        cmp_re = re.compile(
            r"\bstr(?:n)?(?:case)?cmp\s*\(\s*(\w+)\s*(?:\.|->)\s*s\s*,\s*"
            r"(\"(?:\\.|[^\"\\])*\")\s*(?:,\s*(\d+)\s*)?\)")
        found = [(m, c_string_value(m.group(2))) for m in cmp_re.finditer(text)]
        if not found:
            return []
        # the name variable: the one compared most often
        counts: dict[str, int] = {}
        for m, _ in found:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        var = max(sorted(counts), key=lambda v: counts[v])
        for m, lit in found:
            if m.group(1) != var:
                continue
            # the enclosing condition starts at the last "if (" before it
            start = max(text.rfind("if (", 0, m.start()), 0)
            cond = text[start:m.start()]
            lm = list(re.finditer(re.escape(var) +
                                  r"\s*(?:\.|->)\s*len\s*==\s*(\d+)", cond))
            n = int(lm[-1].group(1)) if lm else None
            mlen = int(m.group(3)) if m.group(3) else None
            if (n is not None and n != len(lit)) or \
                    (mlen is not None and n is not None and mlen > n):
                self.notes["transformation_name_mismatch"].append(
                    {"class": cls, "name": lit, "len_checked": n,
                     "cmp_len": mlen, "module": mod, "parser": parser})
                continue
            names.add(lit)
        return sorted(names)

    # -- core ----------------------------------------------------------------
    def core_pvs(self):
        out = {}
        for rel, arr in (("core/pv_core.c", "core_pvs"),
                         ("core/pvapi.c", "_core_init_pvs")):
            tu = TranslationUnit(os.path.join(self.src, rel), self.root,
                                 self.base_macros,
                                 {d: "" for d in BUILD_DEFINES}, self.log)
            for tb in tu.tables:
                if tb.ttype == "pv_export_t" and tb.name == arr:
                    self.decode_pvs("core", tb, out)
                    break
            else:
                self.warn(f"core PV table {arr} not found in {rel}")
        return out

    def core_grammar(self):
        lexf = os.path.join(self.src, "core", "cfg.lex")
        yf = os.path.join(self.src, "core", "cfg.y")
        with open(lexf, encoding="utf-8", errors="replace") as fh:
            ltext = fh.read()
        with open(yf, encoding="utf-8", errors="replace") as fh:
            ytext = fh.read()
        defs_part, rules_part = ltext.split("\n%%\n", 1)
        # name definitions: NAME <ws> pattern
        word_defs = {}
        for line in defs_part.splitlines():
            m = re.match(r"^([A-Z][A-Z0-9_]*)\s+(\S.*)$", line)
            if not m:
                continue
            alts = []
            for alt in m.group(2).strip().split("|"):
                alt = alt.strip()
                if alt.startswith('"') and alt.endswith('"'):
                    alt = alt[1:-1]
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_:.]*", alt):
                    alts.append(alt)
            if alts:
                word_defs[m.group(1)] = alts
        # rules: <INITIAL>{DEF} { ... return TOKEN; }
        def_token = {}
        for m in re.finditer(r"^<INITIAL>\{(\w+)\}\s*\{", rules_part, re.M):
            k = m.end()
            depth = 1
            while k < len(rules_part) and depth:
                c = rules_part[k]
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                k += 1
            action = rules_part[m.end():k]
            r = re.findall(r"return\s+(\w+)\s*;", action)
            if r and m.group(1) in word_defs:
                def_token.setdefault(m.group(1), r[-1])
        token_words: dict[str, list[str]] = {}
        keywords = {}
        for d, tok in def_token.items():
            for w in word_defs[d]:
                keywords[w] = tok
                token_words.setdefault(tok, [])
                if w not in token_words[tok]:
                    token_words[tok].append(w)

        def rule_alts(name):
            m = re.search(r"^" + re.escape(name) + r"\s*:", ytext, re.M)
            if not m:
                return []
            k = m.end()
            out = []
            cur = []
            depth = 0
            buf = ""
            while k < len(ytext):
                c = ytext[k]
                if ytext.startswith("/*", k):
                    k = ytext.index("*/", k) + 2
                    continue
                if depth and ytext.startswith("//", k):
                    k = ytext.index("\n", k)
                    continue
                if depth:
                    if c == "{":
                        depth += 1
                    elif c == "}":
                        depth -= 1
                    elif c in "\"'":
                        q = c
                        k += 1
                        while k < len(ytext) and ytext[k] != q:
                            k += 2 if ytext[k] == "\\" else 1
                    k += 1
                    continue
                if c == "{":
                    depth = 1
                elif c in "|;":
                    cur.extend(buf.split())
                    buf = ""
                    out.append(cur)
                    cur = []
                    if c == ";":
                        break
                else:
                    buf += c
                k += 1
            return out

        # parameters
        params = {}
        for alt in rule_alts("assign_stm"):
            if "error" in alt:
                continue
            if len(alt) >= 3 and alt[1] == "EQUAL":
                names = token_words.get(alt[0], [])
                lhs = alt[0]
            elif len(alt) >= 5 and alt[1] == "DOT" and alt[3] == "EQUAL":
                names = [f"{a}.{b}" for a in token_words.get(alt[0], [])
                         for b in token_words.get(alt[2], [])]
                lhs = f"{alt[0]}.{alt[2]}"
            else:
                continue
            vals = alt[alt.index("EQUAL") + 1:]
            for nm in names:
                p = params.setdefault(nm, {"token": lhs, "values": []})
                if vals not in p["values"]:
                    p["values"].append(vals)
        # actions
        functions = {}
        nonterms = {}
        for alt in rule_alts("avpflag_oper"):
            for s in alt:
                nonterms.setdefault("avpflag_oper", []).append(s)
        for rule in ("cmd", "ret_cmd"):
            for alt in rule_alts(rule):
                if not alt or "error" in alt:
                    continue
                first = alt[0]
                toks = nonterms.get(first, [first])
                for tok in toks:
                    if tok not in token_words:
                        continue
                    rest = [s for s in alt[1:] if s != "SEMICOLON"]
                    for nm in token_words[tok]:
                        f = functions.setdefault(
                            nm, {"token": tok, "forms": [], "arities": [],
                                 "bare": False})
                        form = " ".join(rest)
                        if form not in f["forms"]:
                            f["forms"].append(form)
                        if not rest:
                            f["bare"] = True
                        elif rest[0] == "LPAREN" and rest[-1] == "RPAREN":
                            inner = rest[1:-1]
                            ar = 0 if not inner else inner.count("COMMA") + 1
                            if ar not in f["arities"]:
                                f["arities"].append(ar)
        for f in functions.values():
            f["arities"].sort()
        return {"params": sorted(params), "param_syntax": params,
                "functions": functions, "keywords": keywords}

    def source_version(self):
        """VERSION.PATCHLEVEL.SUBLEVEL from src/Makefile.defs."""
        parts = {}
        with open(os.path.join(self.src, "Makefile.defs"), encoding="utf-8",
                  errors="replace") as fh:
            for line in fh:
                m = re.match(r"(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d+)", line)
                if m:
                    parts.setdefault(m.group(1), m.group(2))
        ver = ".".join(parts.get(k, "?") for k in
                       ("VERSION", "PATCHLEVEL", "SUBLEVEL"))
        if ver != VERSION:
            self.warn(f"source tree is Kamailio {ver}, not {VERSION}")
        return ver

    # -- driver --------------------------------------------------------------
    def run(self):
        mroot = os.path.join(self.src, "modules")
        modules = {}
        transformations = {}
        tr_parsers = {}
        for mod in sorted(os.listdir(mroot)):
            if not os.path.isdir(os.path.join(mroot, mod)):
                continue
            r = self.parse_module(mod)
            if r is None:
                continue
            info, trs, funcs = r
            info["transformations"] = sorted(trs)
            for cls, parser in sorted(trs.items()):
                if cls in transformations:
                    self.warn(f"transformation class {cls} in two modules")
                tr_parsers[cls] = {"module": mod, "parser": parser}
                transformations[cls] = self.transformation_names(
                    cls, parser, funcs, mod)
            modules[mod] = info
        core = self.core_grammar()
        core["pvs"] = self.core_pvs()
        for k in list(self.notes):
            if isinstance(self.notes[k], list):
                self.notes[k] = sorted(self.notes[k], key=lambda x: json.dumps(
                    x, sort_keys=True))
        return {
            "version": self.source_version(),
            "modules": modules,
            "core": core,
            "transformations": transformations,
            "transformation_parsers": tr_parsers,
            "route_flags": dict(ROUTE_BITS),
            "notes": self.notes,
        }


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "kscript", "catalogue",
                               "kamailio-5.6.json")
    ap = argparse.ArgumentParser(
        description="Generate the Kamailio 5.6 export catalogue from source. "
                    "SRC is an export of tag 5.6.3 (a directory holding src/), "
                    "e.g. from: git --git-dir=X archive 5.6.3 src | "
                    "tar -x -C DIR")
    ap.add_argument("src", help="Kamailio source tree (contains src/)")
    ap.add_argument("-o", "--output", default=os.path.normpath(default_out))
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--summary", action="store_true",
                    help="print counts and notes to stderr")
    args = ap.parse_args(argv)
    gen = Generator(args.src, args.verbose)
    cat = gen.run()
    text = json.dumps(cat, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(text)
    if args.summary:
        mods = cat["modules"]
        nf = sum(len(m["functions"]) for m in mods.values())
        ne = sum(len(v) for m in mods.values() for v in m["functions"].values())
        npar = sum(len(m["params"]) for m in mods.values())
        npv = sum(len(m["pvs"]) for m in mods.values())
        print(f"modules={len(mods)} functions={nf} (entries={ne}) params={npar} "
              f"module_pvs={npv} core_pvs={len(cat['core']['pvs'])} "
              f"core_params={len(cat['core']['params'])} "
              f"core_functions={len(cat['core']['functions'])} "
              f"tr_classes={len(cat['transformations'])}", file=sys.stderr)
        for k, v in cat["notes"].items():
            if v:
                print(f"{k}: {json.dumps(v, indent=1)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
