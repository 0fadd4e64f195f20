#!/usr/bin/env python3
"""Record what the installed Kamailio binary accepts, for the catalogue test.

Runs ``kamailio -c`` (syntax check: grammar, module loading, modparam,
function look-up by name / arity / route type, PV and transformation
parsing; fixups are *not* run) on small generated configs and writes the
verdicts to ``tests/golden/catalogue_probe.json``.  The test
``tests/catalogue/test_catalogue.py`` then compares the catalogue
(``kscript/catalogue/kamailio-5.6.json``) with these recorded facts, so it
needs no kamailio at test time.

What is probed, for every module .so shipped in the modules directory that
the catalogue knows:

* ``load``: ``loadmodule "m.so"`` alone is accepted, and the preprocessor
  define ``MOD_<exports_name>`` exists afterwards (so the catalogue's
  ``exports_name`` is the loader's name);
* ``functions``: every catalogue function name is called with 0..6
  constant string arguments in ``request_route`` (one call per line; the
  parser reports each failing line and carries on).  An arity *exists* when
  the call is accepted or refused as "misused" (known, wrong route type);
  "failed to find command" means no such name/arity.  Each existing arity is
  then tried in failure_route, onreply_route (core), onreply_route[x] (tm),
  branch_route, onsend_route and event_route;
* ``params``: ``modparam(exports_name, p, 1)`` and ``modparam(..., "1")``:
  "not found" (no param of that name and value type) or accepted / rejected by
  the param's own callback (exists);
* ``pvs`` (module and core classes): ``$c``, ``$c(x)``, ``$(c[0])``,
  ``$c = 1`` (a PV error aborts the parse, so every PV test is its own run);
* ``transformations``: ``$(rc{class.name})`` for each catalogue name plus a
  bogus name per class (a name is known when accepted, or refused for a
  reason other than "unknown ... transformation");
* ``transformations_completeness``: every string (and string tail) of the
  registering module's .so tried as a name of each class, through
  ``modparamx`` (its value is PV-evaluated while parsing, and a bad PV there
  does not abort the parse): names the binary knows but the catalogue lacks;
* ``elf``: the module's cmd / param / pv export tables read directly from the
  .so (the ``exports`` symbol and the tables it points to, following the
  relocations): [name, param_no, fixup, free_fixup, flags] per function
  (fixup = symbol name when imported, true when module-local, null),
  [name, type, has_pointer] per param, [name, setter?, name parser?, index
  parser?] per PV.  This is an exact, complete cross-check of names, arities,
  route flags and param types for every shipped module.

Usage::

    python3 tools/probe_catalogue.py                 # all modules (a few minutes)
    python3 tools/probe_catalogue.py --only sl,tm    # merge into existing file

Needs the kamailio binary (default /usr/sbin/kamailio) and the catalogue.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_CAT = os.path.join(ROOT, "kscript", "catalogue", "kamailio-5.6.json")
DEFAULT_OUT = os.path.join(ROOT, "tests", "golden", "catalogue_probe.json")
DEFAULT_MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

MAX_ARITY = 6   # the grammar takes at most 6 function arguments

# route-block kinds: header line, and the route type the parser checks with
ROUTES = {
    "request": "request_route {",
    "failure": "failure_route[PROBE_FR] {",
    "core_reply": "onreply_route {",
    "tm_reply": "onreply_route[PROBE_OR] {",
    "branch": "branch_route[PROBE_BR] {",
    "onsend": "onsend_route {",
    "event": "event_route[probe:event] {",
}

_CRIT = re.compile(r"parse error in config file .*?, line (\d+), column [^:]*:"
                   r" ?(.*)$")
_LOGPFX = re.compile(r"^\s*\d+\(\d+\) (?:ERROR|CRITICAL|WARNING|ALERT|BUG):"
                     r" (?:<[^>]*>|\S+) \[[^\]]*\]: (?:\w+\(\): )?")


class Kamailio:
    def __init__(self, binary, moddir, workdir):
        self.binary = binary
        self.moddir = moddir
        self.workdir = workdir
        self.counter = 0

    def check(self, lines: list[str]):
        """Run ``kamailio -c`` on the config.

        Returns (rc, per_line, other, complete): per_line maps a line number to
        the messages of its error; other = messages not attributed to a line;
        complete = the parser went through the whole file (it stops at the
        first bad PV, or exits on some grammar errors).
        """
        self.counter += 1
        fd, path = tempfile.mkstemp(suffix=".cfg", dir=self.workdir)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        try:
            p = subprocess.run(
                [self.binary, "-c", "-f", path, "-L", self.moddir],
                capture_output=True, text=True, timeout=120,
                errors="replace", cwd=self.workdir)
            out = p.stderr + p.stdout
            rc = p.returncode
        except subprocess.TimeoutExpired:
            return -999, {}, ["timeout"], False
        finally:
            os.unlink(path)
        complete = rc == 0 or "(parsing code: 0)" in out
        per_line: dict[int, list[str]] = {}
        pending: list[str] = []
        for raw in out.splitlines():
            m = _CRIT.search(raw)
            if m:
                ln = int(m.group(1))
                per_line.setdefault(ln, []).extend(pending + [m.group(2)])
                pending = []
                continue
            if re.search(r"\b(ERROR|CRITICAL|ALERT|BUG):", raw) and \
                    "bad config file" not in raw:
                pending.append(_LOGPFX.sub("", raw).strip())
        return rc, per_line, pending, complete


def classify(msgs):
    if msgs is None:
        return "ok"
    text = " | ".join(msgs)
    for needle, verdict in (
            ("failed to find command", "unknown"),
            ("misused command", "misused"),
            ("Command cannot be used in the block", "misused"),
            ("not found in module", "notfound"),
            ("No module matching", "nomodule"),
            ("expects an inner name", "needs_name"),
            ("does not get name param", "no_name"),
            ("does not get index param", "no_index"),
            ("error searching pvar", "unknown_pv"),
            ("read only pvar", "readonly"),
            ("tr_lookup(): unknown transformation", "unknown_class"),
            ("unknown transformation: [", "unknown_class"),
    ):
        if needle in text:
            return verdict
    first = msgs[0] if msgs else "?"
    return "error: " + first[:160]


def header(mod):
    lines = ["#!KAMAILIO", "debug=0", "log_stderror=yes",
             "listen=udp:127.0.0.1:5060"]
    if mod:
        lines.append(f'loadmodule "{mod}.so"')
    return lines


def batch(k: Kamailio, head, items):
    """Check many one-line items; return {key: verdict}.

    items: list of (key, block, line) where block is a route-block header
    (e.g. "request_route {") or None for top-level lines.  All items go into
    one config; when the parser stops early (a PV error aborts it), the
    verdicts up to the failing line are kept and the rest is run again.  If
    no progress is made, the remaining items are run one by one.
    """
    results = {}
    todo = list(items)
    single = False
    while todo:
        group = todo[:1] if single else todo
        lines = list(head)
        where = {}
        cur = None
        for key, block, line in group:
            if block != cur:
                if cur is not None:
                    lines.append("}")
                if block is not None:
                    lines.append(block)
                cur = block
            lines.append(line)
            where[len(lines)] = key
        if cur is not None:
            lines.append("}")
        rc, per, other, complete = k.check(lines)
        if complete:
            for ln, key in where.items():
                results[key] = classify(per.get(ln))
            done = set(where.values())
        else:
            last = max(per) if per else None
            done = set()
            for ln, key in where.items():
                if last is not None and ln <= last:
                    results[key] = classify(per.get(ln))
                    done.add(key)
            if not done:
                if single or len(group) == 1:
                    key = group[0][0]
                    msg = " | ".join(other) or f"rc={rc}"
                    results[key] = ("crash rc=%d" % rc if rc < 0 or rc > 255
                                    else "abort: " + msg[:160])
                    done.add(key)
                else:
                    single = True
                    continue
        todo = [it for it in todo if it[0] not in done]
    # an unclassified error ("syntax error" in particular) may belong to the
    # previous line (yacc notices it a token later): confirm each alone
    if len(items) > 1:
        for it in items:
            if results.get(it[0], "").startswith("error: "):
                results[it[0]] = batch(k, head, [it])[it[0]]
    return results


def probe_module(k: Kamailio, mod, info):
    res = {}
    exp_name = info.get("exports_name") or mod
    # -- load + MOD_ define -----------------------------------------------
    head = header(mod)
    lines = head + [f"#!ifndef MOD_{exp_name}", "probe_no_mod_define",
                    "#!endif", "request_route {", "\tdrop;", "}"]
    define_line = len(head) + 2
    rc, per, other, complete = k.check(lines)
    rest = {ln: m for ln, m in per.items() if ln != define_line}
    if rest or other or not complete or (rc != 0 and define_line not in per):
        res["load"] = "error: " + (" | ".join(
            other + [x for v in rest.values() for x in v]))[:300]
        return res
    res["load"] = "ok"
    res["mod_define"] = define_line not in per
    # -- functions: arities 0..MAX_ARITY in request_route --------------------
    fnames = sorted(info.get("functions", {}))
    items = []
    for f in fnames:
        for n in range(MAX_ARITY + 1):
            args = ", ".join(['"1"'] * n)
            items.append(((f, n), ROUTES["request"], f"\t{f}({args});"))
    req = batch(k, head, items)
    # -- route kinds, for each existing arity ---------------------------------
    items = []
    for rkind, block in ROUTES.items():
        if rkind == "request":
            continue
        for (f, n), v in sorted(req.items()):
            if v in ("ok", "misused"):
                args = ", ".join(['"1"'] * n)
                items.append(((f, n, rkind), block, f"\t{f}({args});"))
    routes = batch(k, head, items)
    funcs = {}
    for f in fnames:
        arities = [n for n in range(MAX_ARITY + 1)
                   if req[(f, n)] in ("ok", "misused")]
        ok_in = {}
        for n in arities:
            ok_in[str(n)] = sorted(
                (["request"] if req[(f, n)] == "ok" else []) +
                [r for r in ROUTES if r != "request"
                 and routes.get((f, n, r)) == "ok"])
        entry = {"arities": arities, "ok_in": ok_in}
        odd = {str(n): req[(f, n)] for n in range(MAX_ARITY + 1)
               if req[(f, n)] not in ("ok", "misused", "unknown")}
        odd.update({f"{n}@{r}": v for (ff, n, r), v in routes.items()
                    if ff == f and v not in ("ok", "misused")})
        if odd:
            entry["odd"] = odd
        funcs[f] = entry
    res["functions"] = funcs
    # -- params ---------------------------------------------------------------
    items = []
    for p in sorted(info.get("params", {})):
        pe = p.replace("\\", "\\\\").replace('"', '\\"')
        items.append(((p, "int"), None, f'modparam("{exp_name}", "{pe}", 1)'))
        items.append(((p, "string"), None,
                      f'modparam("{exp_name}", "{pe}", "1")'))
    params = {}
    for (p, kind), v in batch(k, head, items).items():
        params.setdefault(p, {})[kind] = v
    res["params"] = params
    res["pvs"] = probe_pvs(k, head, info.get("pvs", {}))
    return res


def probe_pvs(k: Kamailio, head, pvs):
    """Per class: $(c), $(c(x)), $(c[0]) or $(c(x)[0]), $(c) = 1 or
    $(c(x)) = 1; for dotted class names also the unbracketed $c (the
    lexer cuts a bare PV name at '.', so e.g. $err.class needs brackets)."""
    items = []
    blk = ROUTES["request"]
    for cls in sorted(pvs):
        named = pvs[cls].get("has_name")
        items += [
            ((cls, "bare"), blk, f"\tif ($({cls}) == 1) {{ drop; }}"),
            ((cls, "named"), blk, f"\tif ($({cls}(x)) == 1) {{ drop; }}"),
            ((cls, "index"), blk,
             f"\tif ($({cls}(x)[0]) == 1) {{ drop; }}" if named
             else f"\tif ($({cls}[0]) == 1) {{ drop; }}"),
            ((cls, "write"), blk,
             f"\t$({cls}(x)) = 1;" if named else f"\t$({cls}) = 1;"),
        ]
        if "." in cls:
            items.append(((cls, "unbracketed"), blk,
                          f"\tif (${cls} == 1) {{ drop; }}"))
    out = {}
    for (cls, test), v in batch(k, head, items).items():
        out.setdefault(cls, {})[test] = v
    return out


_TR_UNKNOWN_NAME = re.compile(r"unknown (?:\w+ )?transformation: (?!\[)")


def probe_transformations(k: Kamailio, cat):
    """``$(rc{class.name})`` per catalogue name, per name the source
    compares but cannot match (notes.transformation_name_mismatch), and a
    bogus name.  Verdict "unknown_name" = the class parser rejected the
    name itself; "ok" or another error = the name is known (other errors are
    about its missing parameters)."""
    out = {}
    parsers = cat.get("transformation_parsers", {})
    extra = {}
    for m in cat.get("notes", {}).get("transformation_name_mismatch", []):
        extra.setdefault(m["class"], []).append(m["name"])
    blk = ROUTES["request"]
    for cls, names in sorted(cat.get("transformations", {}).items()):
        mod = parsers.get(cls, {}).get("module") or "pv"
        test = sorted(set(names) | set(extra.get(cls, []))) + ["nosuchtrname"]
        items = [(name, blk, f"\tif ($(rc{{{cls}.{name}}}) == 1) {{ drop; }}")
                 for name in test]
        r = {}
        for name, v in batch(k, header(mod), items).items():
            if v.startswith("error: ") and _TR_UNKNOWN_NAME.search(v):
                v = "unknown_name"
            r[name] = v
        out[cls] = r
    return out


def probe_grammar_limits(k: Kamailio):
    """Facts independent of any module: the argument-count limit of the
    grammar, and that route[x] is parsed with REQUEST_ROUTE rules."""
    head = header("sl")
    out = {}
    for n in (6, 7):
        args = ", ".join(['"1"'] * n)
        r = batch(k, head, [(n, ROUTES["request"],
                             f"\tsl_send_reply({args});")])
        out[f"sl_send_reply/{n}"] = r[n]
    # t_drop_replies is FAILURE_ROUTE only
    head = header("tm")
    for key, block in (("t_drop_replies@route", "route[PROBE_R] {"),
                       ("t_drop_replies@failure", ROUTES["failure"]),
                       ("t_drop_replies@request", ROUTES["request"])):
        out[key] = batch(k, head, [(key, block, "\tt_drop_replies();")])[key]
    # names only tm's KEMI table (sr_kemi_t) has: not cfg functions
    for fname in ("t_relay_to_proxy", "t_set_fr_inv", "t_drop_replies_all"):
        for n in (0, 1):
            key = f"kemi_only:{fname}/{n}"
            args = ", ".join(['"1"'] * n)
            out[key] = batch(k, head, [(key, ROUTES["request"],
                                        f"\t{fname}({args});")])[key]
    return out


# sample text for grammar symbols of core parameter values / action forms
_SAMPLES = {"NUMBER": "1", "intno": "1", "STRING": '"x"', "ID": "x",
            "rval_expr": "1", "host": "example.com", "flag_name": '"x"',
            "attr_id_any_str": '"x"', "proto": "udp", "ip": "127.0.0.1",
            "listen_id": "127.0.0.1", "phostport": "udp:127.0.0.1:5060",
            "URIHOST": "uri:host", "URIPORT": "uri:port",
            "id_lst": "udp:127.0.0.1:5061"}
_PUNCT = {"LPAREN": "(", "RPAREN": ")", "COMMA": ",", "COLON": ":",
          "EQUAL": "=", "DOT": ".", "SLASH": "/"}


def _render(symbols):
    out = []
    for sym in symbols:
        if sym in _PUNCT:
            out.append(_PUNCT[sym])
        elif sym in _SAMPLES:
            out.append(_SAMPLES[sym])
        else:
            return None
    return " ".join(out)


def probe_core(k: Kamailio, cat):
    """Core parameters (``name = value`` with a value for the first value
    form made of simple symbols) and core actions (each form whose
    symbols have a sample), one line each; plus two bogus names."""
    core = cat["core"]
    head = ["#!KAMAILIO", "log_stderror=yes", 'loadmodule "pv.so"',
            "flags x", "avpflags x"]
    items = []
    for name, syn in sorted(core.get("param_syntax", {}).items()):
        if "." in name:
            continue
        for vals in syn["values"]:
            v = _render(vals)
            if v is not None:
                items.append(((name, "param"), None, f"{name} = {v}"))
                break
    items.append((("nosuch_core_param", "param"), None,
                  "nosuch_core_param = 1"))
    params = {n: v for (n, _), v in batch(k, head, items).items()}
    blk = ROUTES["request"]
    items = []
    for name, f in sorted(core.get("functions", {}).items()):
        for form in f["forms"]:
            v = _render(form.split()) if form else ""
            if v is None or (name == "route" and form != "LPAREN ID RPAREN"):
                continue
            if name == "route":
                v = "(PROBE_R)"
            items.append(((name, form), blk, f"\t{name}{' ' if v and v[0] != '(' else ''}{v};"))
    funcs = {}
    tail = ["route[PROBE_R] {", "\tdrop;", "}"]
    for (name, form), v in batch(k, head + tail, items).items():
        funcs.setdefault(name, {})[form] = v
    return {"params": params, "functions": funcs}


# ---------------------------------------------------------------------------
# Reading the export tables out of the compiled modules (x86-64 ELF)
# ---------------------------------------------------------------------------

class ElfImage:
    """Minimal ELF64 little-endian reader: the loaded image as the dynamic
    loader would see it (PT_LOAD segments + RELATIVE/64 relocations), enough
    to follow the pointers of a module's ``exports`` structure."""

    R_X86_64_64 = 1
    R_X86_64_RELATIVE = 8

    def __init__(self, path):
        import struct
        self.st = struct
        with open(path, "rb") as fh:
            self.data = fh.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("not an ELF64 little-endian file")
        (e_phoff, e_shoff) = struct.unpack_from("<QQ", d, 0x20)
        e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx = \
            struct.unpack_from("<HHHHH", d, 0x36)
        self.loads = []
        for i in range(e_phnum):
            p_type, _, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = \
                struct.unpack_from("<IIQQQQQQ", d, e_phoff + i * e_phentsize)
            if p_type == 1:
                self.loads.append((p_vaddr, p_offset, p_filesz, p_memsz))
        secs = []
        for i in range(e_shnum):
            secs.append(struct.unpack_from("<IIQQQQIIQQ", d,
                                           e_shoff + i * e_shentsize))
        self.sections = secs
        # dynamic symbols
        self.symbols = {}      # name -> (value, size)
        self.symnames = []     # index -> name
        for sh in secs:
            if sh[1] == 11:    # SHT_DYNSYM
                strtab = secs[sh[6]]
                for j in range(sh[5] // 24):
                    st_name, st_info, _, st_shndx, st_value, st_size = \
                        struct.unpack_from("<IBBHQQ", d, sh[4] + j * 24)
                    name = self._cstr_at(strtab[4] + st_name)
                    self.symnames.append(name)
                    if st_shndx != 0 and name:
                        self.symbols[name] = (st_value, st_size)
        # relocations: vaddr -> ("rel", addend) | ("sym", name)
        self.relocs = {}
        for sh in secs:
            if sh[1] == 4:     # SHT_RELA
                for j in range(sh[5] // 24):
                    r_offset, r_info, r_addend = struct.unpack_from(
                        "<QQq", d, sh[4] + j * 24)
                    rtype, rsym = r_info & 0xFFFFFFFF, r_info >> 32
                    if rtype == self.R_X86_64_RELATIVE:
                        self.relocs[r_offset] = ("rel", r_addend)
                    elif rtype == self.R_X86_64_64:
                        name = self.symnames[rsym]
                        if name in self.symbols:   # defined here: S + A
                            self.relocs[r_offset] = (
                                "rel", self.symbols[name][0] + r_addend,
                                name)
                        else:
                            self.relocs[r_offset] = ("sym", name)

    def _cstr_at(self, off):
        end = self.data.index(b"\x00", off)
        return self.data[off:end].decode("latin-1")

    def off(self, vaddr):
        for va, fo, fsz, _ in self.loads:
            if va <= vaddr < va + fsz:
                return fo + (vaddr - va)
        return None    # .bss or unmapped: zero-filled

    def u32(self, vaddr):
        o = self.off(vaddr)
        return 0 if o is None else self.st.unpack_from("<I", self.data, o)[0]

    def i32(self, vaddr):
        o = self.off(vaddr)
        return 0 if o is None else self.st.unpack_from("<i", self.data, o)[0]

    def ptr(self, vaddr):
        """A pointer slot: ("rel", target) / ("sym", name) / None (NULL)."""
        r = self.relocs.get(vaddr)
        if r is not None:
            return r
        o = self.off(vaddr)
        v = 0 if o is None else self.st.unpack_from("<Q", self.data, o)[0]
        return ("rel", v) if v else None

    def cstr(self, vaddr):
        o = self.off(vaddr)
        return None if o is None else self._cstr_at(o)


def elf_tables(path, mod):
    """The cmd / param / pv export tables of a module, read from its .so
    (x86-64 layouts of cmd_export_t, param_export_t, pv_export_t)."""
    img = ElfImage(path)
    sym = img.symbols.get("exports") or img.symbols.get(f"_{mod}_exports")
    if sym is None:
        return None
    base = sym[0]

    def target(slot):
        p = img.ptr(slot)
        return p[1] if p and p[0] == "rel" else None

    def fname(slot):
        p = img.ptr(slot)
        if p is None:
            return None
        if p[0] == "sym":
            return p[1]         # imported (e.g. a core fixup)
        return p[2] if len(p) > 2 else True    # global / static function

    name_p = target(base)
    out = {"exports_name": img.cstr(name_p) if name_p else None,
           "functions": [], "params": [], "pvs": []}
    cmds, params, pvs = target(base + 16), target(base + 24), target(base + 40)
    while cmds:
        np_ = target(cmds)
        if not np_:
            break
        out["functions"].append([img.cstr(np_), img.i32(cmds + 16),
                                 fname(cmds + 24), fname(cmds + 32),
                                 img.u32(cmds + 40)])
        cmds += 48
    while params:
        np_ = target(params)
        if not np_:
            break
        out["params"].append([img.cstr(np_), img.u32(params + 8),
                              fname(params + 16) is not None])
        params += 24
    while pvs:
        np_ = target(pvs)
        if not np_:
            break
        out["pvs"].append([img.cstr(np_), fname(pvs + 32) is not None,
                           fname(pvs + 40) is not None,
                           fname(pvs + 48) is not None])
        pvs += 72
    return out


def so_strings(path, suffixes=False):
    """NUL-terminated printable strings of a shared object that could be
    names; with ``suffixes`` also every tail of each string (the linker
    merges a string that is the tail of another, e.g. "len" in "strlen")."""
    with open(path, "rb") as fh:
        data = fh.read()
    found = {m.decode() for m in re.findall(
        rb"(?<=\x00)([A-Za-z_][A-Za-z0-9_.]{0,60})\x00", data)}
    if suffixes:
        found |= {x[i:] for x in found for i in range(1, len(x))}
    return sorted(found)


def probe_tr_completeness(k: Kamailio, cat):
    """Every string of the registering module's .so as a transformation
    name of each class (via modparamx, see probe_completeness)."""
    out = {}
    for cls, names in sorted(cat.get("transformations", {}).items()):
        mod = cat["transformation_parsers"][cls]["module"]
        path = os.path.join(k.moddir, mod + ".so")
        if not os.path.exists(path):
            continue
        head = header(mod) + ([] if mod == "sl" else ['loadmodule "sl.so"'])
        items = [(c, None,
                  f'modparamx("sl", "default_reason", "$(rc{{{cls}.{c}}})")')
                 for c in so_strings(path, suffixes=True)
                 if c not in names and re.fullmatch(r"[a-z0-9_][a-z0-9_.]*", c)]
        r = batch(k, head, items)
        out[cls] = {"strings": len(items), "missing": sorted(
            c for c, v in r.items()
            if v.startswith("error: ") and not _TR_UNKNOWN_NAME.search(v)
            or v == "ok")}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kamailio", default="/usr/sbin/kamailio")
    ap.add_argument("--modules-dir", default=DEFAULT_MODDIR)
    ap.add_argument("--catalogue", default=DEFAULT_CAT)
    ap.add_argument("-o", "--output", default=DEFAULT_OUT)
    ap.add_argument("--only", help="comma-separated modules (merged into the "
                    "existing output file)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-completeness", action="store_true",
                    help="skip trying the strings of the .so files as "
                    "transformation names")
    args = ap.parse_args(argv)

    with open(args.catalogue, encoding="utf-8") as fh:
        cat = json.load(fh)
    ver = subprocess.run([args.kamailio, "-v"], capture_output=True,
                         text=True).stdout.splitlines()
    packaged = sorted(f[:-3] for f in os.listdir(args.modules_dir)
                      if f.endswith(".so"))
    if args.only:
        only = [m for m in args.only.split(",") if m]
        todo = [m for m in only if m in cat["modules"]]
        golden = {"modules": {}}
        if os.path.exists(args.output):
            with open(args.output, encoding="utf-8") as fh:
                golden = json.load(fh)
    else:
        todo = [m for m in packaged if m in cat["modules"]]
        golden = {"modules": {}}
    golden.update({
        "kamailio": ver[0] if ver else "?",
        "modules_dir": args.modules_dir,
        "packaged_modules": packaged,
        "max_arity_probed": MAX_ARITY,
        "routes": ROUTES,
    })
    with tempfile.TemporaryDirectory(prefix="kprobe") as wd:
        def run(mod):
            k = Kamailio(args.kamailio, args.modules_dir, wd)
            res = probe_module(k, mod, cat["modules"][mod])
            res["elf"] = elf_tables(
                os.path.join(args.modules_dir, mod + ".so"), mod)
            return mod, res

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            for mod, res in ex.map(run, todo):
                golden["modules"][mod] = res
                nf = len(res.get("functions", {}))
                print(f"{mod}: load={res['load'][:60]} functions={nf} "
                      f"params={len(res.get('params', {}))} "
                      f"pvs={len(res.get('pvs', {}))}", file=sys.stderr)
        k = Kamailio(args.kamailio, args.modules_dir, wd)
        if not args.only or "core" in only:
            golden["core_pvs"] = probe_pvs(
                k, ["#!KAMAILIO", "debug=0", "log_stderror=yes",
                    "listen=udp:127.0.0.1:5060"], cat["core"]["pvs"])
        if not args.only or "transformations" in only:
            golden["transformations"] = probe_transformations(k, cat)
            if not args.no_completeness:
                golden["transformations_completeness"] = \
                    probe_tr_completeness(k, cat)
        golden["grammar"] = probe_grammar_limits(k)
        if not args.only or "core" in only:
            golden["core"] = probe_core(k, cat)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as fh:
        fh.write(dump_json(golden) + "\n")
    return 0


def dump_json(obj, depth=0, max_depth=4) -> str:
    """JSON with sorted keys, one line per item down to ``max_depth``
    levels and compact below (keeps the golden file small and diffable)."""
    if not isinstance(obj, dict) or depth >= max_depth or not obj:
        return json.dumps(obj, sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))
    pad = " " * (depth + 1)
    items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: "
             f"{dump_json(obj[k], depth + 1, max_depth)}" for k in sorted(obj)]
    return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"


if __name__ == "__main__":
    sys.exit(main())
