#!/usr/bin/env python3
"""Record golden verdicts of the real ``kamailio -c`` (Kamailio 5.6) for kscript's tests.

What it does
------------
``kscript check FILE [-A NAME[=VAL]]...`` must accept every configuration that
Kamailio 5.6 accepts and reject every one it rejects, at the same line.  The test
suite compares kscript against golden data recorded from the real binary; this
script produces that data (the suite itself never needs kamailio):

* ``tests/golden/check/corpus.json`` -- one entry per ``*.cfg`` / ``*.cfg.sample``
  file under ``<corpus>/kamailio/`` and ``<corpus>/third-party/`` (keys are paths
  relative to the corpus root, e.g. ``kamailio/etc/kamailio.cfg``), checked with no
  ``-A`` defines (what a user running ``kamailio -c -f FILE`` gets).
* ``tests/golden/check/debian_default.json`` -- a list of verdicts for Debian's
  default config (copied to ``tests/data/debian/kamailio.cfg``) under several
  define sets: none, each ``WITH_*`` switch / ``ACCDB_COMMENT`` on its own, and a
  few large combinations (each entry also has "name" and "defines").
* the generated part of ``tests/golden/check/README.md`` (counts, out-of-scope list).

Each verdict is a JSON object::

    {"verdict": "accept" | "reject",
     "file": path of the file holding the first error (null when accepted or unknown),
     "line": int | null, "column": int | null,       # as kamailio reports them
     "end_line": int | null, "end_column": int | null,  # "column A-B" / "from .. to .." forms
     "category": null | "syntax" | "preprocessor" | "module_missing" | "module_init" | "other",
     "kind": finer machine-readable classification (see README.md),
     "module": module name for module_missing / module_init, else null,
     "message": kamailio's message for the first error,
     "detail": the un-located ERROR/CRITICAL log line printed just before it (or null),
     "source": text of the reported line (rstripped) when file+line are known,
     "parsed": true when kamailio got past the whole config parse (accepts; listen_resolve),
     "env_dependent": null or why the verdict depends on this machine,
     "normalised": list of loadmodule rewrites done before running (see below),
     "exit_code": kamailio's exit status (or null on timeout),
     "stderr_tail": last 15 lines of stderr, paths made relative, PIDs replaced by "PID",
                    pointers (0x + 6 or more hex digits) by "0xADDR"}

How kamailio is run
-------------------
``kamailio -c -f FILE -L /usr/lib/x86_64-linux-gnu/kamailio/modules`` with a
timeout, cwd = the file's directory (include_file/import_file names are relative).
``-L`` overrides a cfg's ``mpath=``/``loadpath`` (checked on 5.6.3).  It does NOT
override a ``loadmodule`` whose name contains a ``/`` (absolute paths such as
``/usr/local/lib/ser/modules/tm.so`` or source-tree paths such as
``modules/tm/tm.so``).  Those are normalised: the whole corpus is copied to a
temporary directory and, in every file of the copy, ``loadmodule "dir/x.so"`` is
rewritten to ``loadmodule "x.so"`` followed by as many spaces as were removed, so
line numbers and the columns of every later token on the line are unchanged.
kamailio then runs on the copy; paths in its output are mapped back to the corpus.
kscript should treat ``loadmodule`` the same way (only the basename matters).

Debian's config is run in place (``tests/data/debian``), so paths are the ones the
tests use; there ``file`` is relative to the repository root.

Usage (from the repository root)::

    python3 tools/record_check_goldens.py                 # both goldens
    python3 tools/record_check_goldens.py --only corpus   # or: --only debian
    python3 tools/record_check_goldens.py --corpus ../shared/corpus --timeout 60
    python3 tools/record_check_goldens.py --update-debian-copy  # re-copy /etc/kamailio/kamailio.cfg

Needs Debian's ``kamailio`` 5.6.3 and all ``kamailio-*-modules`` packages.  Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
DEFAULT_KAMAILIO = "/usr/sbin/kamailio"
DEFAULT_MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
DEBIAN_SRC = Path("/etc/kamailio/kamailio.cfg")
DEBIAN_DIR = REPO_ROOT / "tests" / "data" / "debian"
GOLDEN_DIR = REPO_ROOT / "tests" / "golden" / "check"
CORPUS_SUBDIRS = ("kamailio", "third-party")
TAIL_LINES = 15

# ---------------------------------------------------------------------------
# stderr formats of kamailio 5.6.3 -c (see README.md for examples)
# ---------------------------------------------------------------------------
# " 0(1234) CRITICAL: <core> [core/cfg.y:3787]: yyerror_at(): parse error in config file F, line 6, column 5-17: MSG"
RE_PARSE_1 = re.compile(
    r"parse error in config file (?P<file>.+?), line (?P<line>\d+), "
    r"column (?P<col>\d+)(?:-(?P<ecol>\d+))?: ?(?P<msg>.*)$")
# "... parse error in config file F, from line 3, column 24 to line 4, column 0: MSG"
RE_PARSE_2 = re.compile(
    r"parse error in config file (?P<file>.+?), from line (?P<line>\d+), "
    r"column (?P<col>\d+) to line (?P<eline>\d+), column (?P<ecol>\d+): ?(?P<msg>.*)$")
# "... yylex(): error at cfg line 2: '-' not allowed"  /  "... error at cfg line 3"
RE_LEX = re.compile(r"error at cfg line (?P<line>\d+)(?::\s*(?P<msg>.*))?$")
# "... pp_endif(): invalid position for preprocessor directive 'endif' - at cfg line 4"
RE_PP_POS = re.compile(r"invalid position for preprocessor directive '(?P<d>\w+)' - at cfg line (?P<line>\d+)")
# "... pp_ifdef_level_error(): different number of preprocessor directives: 1 more #!if[n]def as #!endif"
RE_PP_LEVEL = re.compile(r"pp_ifdef_level_error\(\): (?P<msg>.*)$")
# relative name: 'cannot open included file: NAME (RESOLVED-PATH)'; absolute name: 'cannot open included file: "NAME"'
RE_INCLUDE = re.compile(r'cannot open included file: (?:"(?P<qname>[^"]*)"|(?P<name>.*) \((?P<path>.*)\))\s*$')
RE_MOD_NOTFOUND = re.compile(r"could not find module <(?P<mod>[^>]*)> in <")
RE_MOD_OPEN = re.compile(r"could not open module <(?P<path>[^>]*)>: (?P<err>.*)$")
RE_LOGLINE = re.compile(r"^\s*\d+\(\d+\) (?P<level>[A-Z]*): <(?P<who>[^>]*)> \[(?P<where>[^\]]*)\]: (?P<text>.*)$")
RE_PID = re.compile(r"^(\s*\d+)\(\d+\)")
RE_HEXADDR = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
RE_LOADMODULE = re.compile(r'(?P<pre>\bloadmodulex?\s*\(?\s*)"(?P<path>[^"\n]*/[^"\n]*)"')


def log_text(line: str) -> tuple[str | None, str]:
    """(level, text) of a kamailio log line, or (None, line) for plain output."""
    m = RE_LOGLINE.match(line)
    if m:
        return m.group("level"), m.group("text")
    return None, line.strip()


# ---------------------------------------------------------------------------
# corpus copy with normalised loadmodule paths
# ---------------------------------------------------------------------------
def find_cfgs(root: Path) -> list[Path]:
    out = []
    for sub in CORPUS_SUBDIRS:
        base = root / sub
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith(".cfg") or fn.endswith(".cfg.sample"):
                    out.append(Path(dirpath) / fn)
    return sorted(out, key=lambda p: p.relative_to(root).as_posix())


def normalise_loadmodules(text: str) -> tuple[str, list[dict]]:
    changes = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "loadmodule" not in line:
            continue

        def repl(m: re.Match) -> str:
            path = m.group("path")
            base = path.rstrip("/").rsplit("/", 1)[-1]
            changes.append({"line": i + 1, "from": path, "to": base})
            return m.group("pre") + '"' + base + '"' + " " * (len(path) - len(base))

        lines[i] = RE_LOADMODULE.sub(repl, line)
    return "\n".join(lines), changes


def make_copy(corpus: Path, dest: Path) -> dict[str, list[dict]]:
    """Copy corpus/{kamailio,third-party} to dest, normalising loadmodule paths.

    Returns {corpus-relative path: [changes]} for the files that were rewritten."""
    normalised: dict[str, list[dict]] = {}
    for sub in CORPUS_SUBDIRS:
        shutil.copytree(corpus / sub, dest / sub, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(dest):
        os.chmod(dirpath, os.stat(dirpath).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
        for fn in filenames:
            p = Path(dirpath) / fn
            if p.is_symlink() or not p.is_file():
                continue
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR | stat.S_IRUSR)
            raw = p.read_bytes()
            if b"loadmodule" not in raw or b"\0" in raw:
                continue
            text = raw.decode("latin-1")  # byte-preserving
            new, changes = normalise_loadmodules(text)
            if changes:
                p.write_bytes(new.encode("latin-1"))
                normalised[p.relative_to(dest).as_posix()] = changes
    return normalised


# ---------------------------------------------------------------------------
# running and analysing
# ---------------------------------------------------------------------------
def run_kamailio(kamailio: str, moddir: str, cfg: Path, defines: list[str], timeout: float):
    cmd = [kamailio, "-c", "-f", str(cfg), "-L", moddir]
    for d in defines:
        cmd += ["-A", d]
    try:
        p = subprocess.run(cmd, cwd=str(cfg.parent), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        return p.returncode, p.stderr.decode("utf-8", "replace"), False
    except subprocess.TimeoutExpired as e:
        err = (e.stderr or b"").decode("utf-8", "replace")
        return None, err, True


class Context:
    """How to map paths seen by kamailio back to stable, relative names."""

    def __init__(self, run_root: Path, search_root: Path, main: Path, display_root: Path,
                 orig_root: Path | None = None, normalised: dict | None = None):
        self.run_root = run_root          # directory whose paths are shown relative
        self.normalised = normalised or {}  # {relative path: loadmodule rewrites}
        self.orig_root = orig_root or run_root  # where the unmodified files live (for `source`)
        self.search_root = search_root    # where to look for a relative include name
        self.main = main                  # the file given to -f (absolute)
        self.display_root = display_root  # prefix to strip in stderr text

    def rel(self, p: Path) -> str:
        try:
            return p.resolve().relative_to(self.run_root.resolve()).as_posix()
        except ValueError:
            return str(p)

    def resolve_reported(self, name: str) -> Path | None:
        p = Path(name)
        if p.is_absolute():
            return p
        cand = self.main.parent / p
        if cand.exists():
            return cand
        hits = [q for q in self.search_root.rglob(p.name) if q.as_posix().endswith("/" + p.as_posix())]
        if len(hits) == 1:
            return hits[0]
        return None

    def original(self, p: Path | None) -> Path | None:
        """The unmodified file behind a path of the (normalised) copy."""
        if p is None:
            return None
        try:
            return self.orig_root / p.resolve().relative_to(self.run_root.resolve())
        except ValueError:
            return p

    def clean(self, text: str) -> str:
        root = str(self.display_root.resolve()) + "/"
        text = text.replace(root, "")
        text = RE_HEXADDR.sub("0xADDR", text)  # heap/stack addresses change from run to run
        return RE_PID.sub(r"\1(PID)", text)


def source_line(path: Path | None, line: int | None) -> str | None:
    if path is None or line is None or not path.is_file():
        return None
    try:
        lines = path.read_bytes().decode("utf-8", "replace").split("\n")
    except OSError:
        return None
    if 1 <= line <= len(lines):
        return lines[line - 1].rstrip()
    return None


def file_line_count(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def find_includer(ctx: Context, name: str, line: int) -> Path | None:
    """Which file has `include_file "name"` at `line`?  The main file first."""
    cands = [ctx.main] + sorted(q for q in ctx.search_root.rglob("*") if q.is_file() and q != ctx.main)
    for q in cands:
        s = source_line(q, line)
        if s and name in s and ("include_file" in s or "import_file" in s):
            return q
    return None


def analyse(rc, stderr: str, timed_out: bool, ctx: Context) -> dict:
    lines = stderr.split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    res = {
        "verdict": "accept" if (rc == 0 and not timed_out) else "reject",
        "file": None, "line": None, "column": None, "end_line": None, "end_column": None,
        "category": None, "kind": None, "module": None, "message": None, "detail": None,
        "source": None, "exit_code": rc, "parsed": rc == 0 and not timed_out, "env_dependent": None,
        "stderr_tail": [ctx.clean(x.rstrip()) for x in lines[-TAIL_LINES:]],
    }
    if timed_out:
        res.update(category="other", kind="timeout", message="kamailio -c did not finish (timeout)")
        return res
    if rc == 0:
        return res
    if rc is not None and rc < 0:
        res.update(category="other", kind="crash", message=f"kamailio -c killed by signal {-rc}")

    first = None  # (index, dict)
    last_detail = None
    include_fail = None
    pp_level = None
    for i, raw in enumerate(lines):
        level, text = log_text(raw)
        m1 = RE_PARSE_1.search(text)
        m2 = RE_PARSE_2.search(text) if not m1 else None
        ml = RE_LEX.search(text) if not (m1 or m2) else None
        mp = RE_PP_POS.search(text)
        mi = RE_INCLUDE.search(text)
        if mi:
            include_fail = (mi.group("qname") or mi.group("name"), mi.group("path"))
        m = RE_PP_LEVEL.search(text)
        if m and pp_level is None:
            pp_level = m.group("msg")
        if first is None:
            if m1 or m2:
                mm = m1 or m2
                first = dict(kind="parse", file=mm.group("file"), line=int(mm.group("line")),
                             column=int(mm.group("col")),
                             end_line=int(mm.group("eline")) if m2 else None,
                             end_column=int(mm.group("ecol")) if mm.group("ecol") is not None else None,
                             message=mm.group("msg").strip(), detail=last_detail)
            elif ml:
                first = dict(kind="lex", file=None, line=int(ml.group("line")), column=None,
                             end_line=None, end_column=None,
                             message=(ml.group("msg") or "").strip() or "error at cfg line",
                             detail=last_detail)
            elif mp:
                first = dict(kind="pp_position", file=None, line=int(mp.group("line")), column=None,
                             end_line=None, end_column=None, message=text.split("(): ", 1)[-1],
                             detail=None)
            elif level in ("ERROR", "CRITICAL", "ALERT", "BUG") or level == "":
                last_detail = text.split("(): ", 1)[-1] if "(): " in text else text
    details_all = [log_text(x)[1] for x in lines]

    if first is None:
        # no located error
        if pp_level is not None:
            res.update(file=ctx.rel(ctx.main), category="preprocessor", kind="ifdef_unbalanced",
                       message=pp_level)
        elif any("failed to initialize list addresses" in t for t in details_all):
            host = next((re.search(r"could not resolve (\S+)", t).group(1)
                         for t in details_all if re.search(r"could not resolve (\S+)", t)), None)
            # fix_all_socket_lists() runs after the whole config was parsed without error
            res.update(category="other", kind="listen_resolve", parsed=True,
                       message="failed to initialize list addresses",
                       detail=f"could not resolve {host}" if host else None,
                       env_dependent=f"listen address {host} does not resolve on this machine")
        elif res["category"] is None:
            tail = [t for t in details_all if t]
            res.update(category="other", kind="unknown", message=tail[-1] if tail else None)
        return res

    res.update({k: first[k] for k in ("line", "column", "end_line", "end_column", "message", "detail")})
    path: Path | None = None
    if first["file"]:
        path = ctx.resolve_reported(first["file"])
        res["file"] = ctx.rel(path) if path else first["file"]
    msg = first["message"]
    detail = first["detail"] or ""

    if first["kind"] == "parse":
        if msg.startswith("failed to load module"):
            mnf = RE_MOD_NOTFOUND.search(detail)
            mop = RE_MOD_OPEN.search(detail)
            if mnf:
                mod = mnf.group("mod").rsplit("/", 1)[-1]
                res.update(category="module_missing", kind="module_not_found", module=mod)
            elif mop and (mop.group("path") + ":") in mop.group("err") and "No such file" in mop.group("err"):
                mod = Path(mop.group("path")).name
                mod = mod[:-3] if mod.endswith(".so") else mod
                res.update(category="module_missing", kind="module_not_found", module=mod)
            elif mop:
                mod = Path(mop.group("path")).name
                mod = mod[:-3] if mod.endswith(".so") else mod
                res.update(category="module_init", kind="module_dlopen", module=mod)
            else:
                res.update(category="module_init", kind="module_load")
        elif "pp_define" in detail or detail.startswith("already defined"):
            res.update(category="preprocessor", kind="define_redefined")
        elif pp_level is not None and path is not None and path == ctx.main and \
                res["line"] >= file_line_count(ctx.main) and res["end_column"] in (0, None):
            # a syntax error at EOF of the main file caused by a missing #!endif
            res.update(category="preprocessor", kind="ifdef_unbalanced", detail=pp_level)
        elif msg.startswith("Can't set module parameter"):
            res.update(category="syntax", kind="modparam")
        elif msg.startswith("unknown command"):
            res.update(category="syntax", kind="unknown_command")
        elif "type mismatch" in msg or msg.startswith("bad expression"):
            res.update(category="syntax", kind="expression")
        elif msg.startswith("Can't get from cache") or "pvar" in detail:
            res.update(category="syntax", kind="pv")
        else:
            res.update(category="syntax", kind="grammar")
    elif first["kind"] == "lex":
        res["category"] = "preprocessor"
        if include_fail:
            res["kind"] = "include_missing"
            res["message"] = f"cannot open included file: {include_fail[0]}"
            inc = find_includer(ctx, include_fail[0], res["line"])
            path = inc
        else:
            res["kind"] = "lexer"
            path = None
            # the lexer does not say which file; the main file unless the line is not a directive there
            s = source_line(ctx.main, res["line"])
            if s is not None:
                path = ctx.main
        res["file"] = ctx.rel(path) if path else None
    elif first["kind"] == "pp_position":
        res.update(category="preprocessor", kind="pp_position", file=ctx.rel(ctx.main))
        path = ctx.main
    res["source"] = source_line(ctx.original(path), res["line"])
    # a token error on a rewritten loadmodule string: report the original token's end column
    if res["file"] in ctx.normalised and res["column"] is not None and res["end_column"] is not None \
            and res["end_line"] is None:
        copy_line = source_line(path, res["line"]) or ""
        for ch in ctx.normalised[res["file"]]:
            if ch["line"] == res["line"] and copy_line[res["column"] - 1:].startswith('"' + ch["to"] + '"'):
                res["end_column"] += len(ch["from"]) - len(ch["to"])
                break
    if res["kind"] == "include_missing" and include_fail and include_fail[0].startswith("/"):
        res["env_dependent"] = f"absolute include path {include_fail[0]}"
    if res["detail"] is not None:
        res["detail"] = ctx.clean(res["detail"])
    if res["message"] is not None:
        res["message"] = ctx.clean(res["message"])
    return res


# ---------------------------------------------------------------------------
# the two goldens
# ---------------------------------------------------------------------------
def record_corpus(args) -> dict:
    corpus = Path(args.corpus).resolve()
    cfgs = find_cfgs(corpus)
    out = {}
    with tempfile.TemporaryDirectory(prefix="kscript-goldens-") as td:
        copy_root = Path(td) / "corpus"
        copy_root.mkdir()
        normalised = make_copy(corpus, copy_root)
        for orig in cfgs:
            rel = orig.relative_to(corpus).as_posix()
            cfg = copy_root / rel
            parts = rel.split("/")
            # includes are searched for inside the same source tree (third-party: the repository)
            search_root = copy_root / "/".join(parts[:2]) if parts[0] == "third-party" else copy_root / parts[0]
            ctx = Context(copy_root, search_root, cfg, copy_root, corpus, normalised)
            rc, err, to = run_kamailio(args.kamailio, args.moddir, cfg, [], args.timeout)
            res = analyse(rc, err, to, ctx)
            res["normalised"] = normalised.get(rel, [])
            out[rel] = res
            if args.verbose:
                print(f"{res['verdict']:6} {str(res['category']):14} {rel}:{res['line']} {res['message']}",
                      file=sys.stderr)
    return out


def debian_define_sets(cfg: Path) -> list[tuple[str, list[str]]]:
    text = cfg.read_text()
    withs = sorted(set(re.findall(r"\bWITH_[A-Z0-9_]+\b", text)))
    sets: list[tuple[str, list[str]]] = [("none", [])]
    for w in withs + ["ACCDB_COMMENT"]:
        sets.append((w, [w]))
    combos = [
        ("mysql+auth", ["WITH_MYSQL", "WITH_AUTH"]),
        ("auth-without-mysql", ["WITH_AUTH", "WITH_IPAUTH"]),
        ("mysql+auth+ipauth+usrlocdb", ["WITH_MYSQL", "WITH_AUTH", "WITH_IPAUTH", "WITH_USRLOCDB"]),
        ("mysql-with-dburl-value", ["WITH_MYSQL", "WITH_AUTH",
                                     'DBURL="mysql://kamailio:secret@db.example.com/kamailio"']),
        ("nat-rtpproxy", ["WITH_NAT", "WITH_NATSIPPING"]),
        ("nat-rtpengine", ["WITH_NAT", "WITH_RTPENGINE"]),
        ("registrar-pbx", ["WITH_MYSQL", "WITH_AUTH", "WITH_USRLOCDB", "WITH_NAT", "WITH_RTPENGINE",
                           "WITH_ANTIFLOOD", "WITH_ACCDB"]),
        ("presence-server", ["WITH_MYSQL", "WITH_AUTH", "WITH_USRLOCDB", "WITH_PRESENCE",
                             "WITH_MSGREBUILD"]),
        ("all-db-features", ["WITH_MYSQL", "WITH_AUTH", "WITH_IPAUTH", "WITH_USRLOCDB", "WITH_PRESENCE",
                             "WITH_MSGREBUILD", "WITH_ALIASDB", "WITH_SPEEDDIAL", "WITH_MULTIDOMAIN",
                             "WITH_ACCDB"]),
        ("no-db-features", ["WITH_NAT", "WITH_NATSIPPING", "WITH_PSTN", "WITH_VOICEMAIL", "WITH_TLS",
                            "WITH_JSONRPC", "WITH_ANTIFLOOD", "WITH_BLOCK3XX", "WITH_BLOCK401407",
                            "WITH_DEBUG"]),
        ("full-deployment", ["WITH_MYSQL", "WITH_AUTH", "WITH_IPAUTH", "WITH_USRLOCDB", "WITH_NAT",
                             "WITH_RTPENGINE", "WITH_PRESENCE", "WITH_PSTN", "WITH_VOICEMAIL", "WITH_TLS",
                             "WITH_JSONRPC", "WITH_ANTIFLOOD", "WITH_ACCDB", "WITH_MULTIDOMAIN"]),
        ("all-WITH", [w for w in withs]),
        ("all-WITH+ACCDB_COMMENT", [w for w in withs] + ["ACCDB_COMMENT"]),
    ]
    sets.extend(combos)
    return sets


def record_debian(args) -> list:
    DEBIAN_DIR.mkdir(parents=True, exist_ok=True)
    cfg = DEBIAN_DIR / "kamailio.cfg"
    if args.update_debian_copy or not cfg.exists():
        shutil.copyfile(DEBIAN_SRC, cfg)
    ctx = Context(REPO_ROOT, DEBIAN_DIR, cfg.resolve(), REPO_ROOT)
    out = []
    for name, defines in debian_define_sets(cfg):
        rc, err, to = run_kamailio(args.kamailio, args.moddir, cfg.resolve(), defines, args.timeout)
        res = analyse(rc, err, to, ctx)
        res["normalised"] = []
        res["name"] = name
        res["defines"] = defines
        out.append(res)
        if args.verbose:
            print(f"{res['verdict']:6} {str(res['category']):14} {name}: {res['file']}:{res['line']} "
                  f"{res['message']}", file=sys.stderr)
    return out


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n")


GEN_BEGIN = "<!-- BEGIN GENERATED by tools/record_check_goldens.py; do not edit by hand -->"
GEN_END = "<!-- END GENERATED -->"


def render_generated(corpus: dict, debian: list) -> str:
    """The data-derived part of tests/golden/check/README.md."""
    from collections import Counter
    out = [GEN_BEGIN, "", "### Counts (corpus.json)", ""]
    cnt = Counter((v["verdict"], v["category"]) for v in corpus.values())
    out.append(f"{len(corpus)} files: " + ", ".join(
        f"{n} {verdict}" + (f" ({cat})" if cat else "") for (verdict, cat), n in
        sorted(cnt.items(), key=lambda x: (x[0][0], str(x[0][1])))) + ".")
    kinds = Counter((v["category"], v["kind"]) for v in corpus.values() if v["verdict"] == "reject")
    out += ["", "| category | kind | files |", "|---|---|---|"]
    for (cat, kind), n in sorted(kinds.items(), key=lambda x: (str(x[0][0]), str(x[0][1]))):
        out.append(f"| {cat} | {kind} | {n} |")
    out += ["", "### Out of scope: `module_missing` (module not in Debian's 5.6.3 packages)", "",
            "| file | line | module |", "|---|---|---|"]
    for k, v in corpus.items():
        if v["category"] == "module_missing":
            out.append(f"| {k} | {v['line']} | `{v['module']}` |")
    out += ["", "### Environment-dependent verdicts", "",
            "| file | verdict | why |", "|---|---|---|"]
    for k, v in corpus.items():
        if v.get("env_dependent"):
            out.append(f"| {k} | {v['verdict']} ({v['kind']}, parsed={str(v['parsed']).lower()}) | "
                       f"{v['env_dependent']} |")
    out += ["", "### Files rewritten before the run (`loadmodule` paths, see above)", ""]
    norm = [(k, v["normalised"]) for k, v in corpus.items() if v.get("normalised")]
    out.append(f"{len(norm)} checked files had `loadmodule \"dir/x.so\"` rewritten to `\"x.so\"`: " +
               ", ".join(k for k, _ in norm) + ".")
    out += ["", "### debian_default.json", "", "| name | defines | verdict | line:column | message |",
            "|---|---|---|---|---|"]
    for v in debian:
        pos = "" if v["line"] is None else f"{v['line']}:{v['column']}"
        out.append(f"| {v['name']} | {' '.join(v['defines']) or '(none)'} | {v['verdict']} | {pos} | "
                   f"{v['message'] or ''} |")
    out += ["", GEN_END]
    return "\n".join(out)


def update_readme(out_dir: Path) -> None:
    readme = out_dir / "README.md"
    cj, dj = out_dir / "corpus.json", out_dir / "debian_default.json"
    if not (cj.exists() and dj.exists()):
        return
    gen = render_generated(json.loads(cj.read_text()), json.loads(dj.read_text()))
    text = readme.read_text() if readme.exists() else "# kamailio -c goldens\n\n"
    if GEN_BEGIN in text and GEN_END in text:
        head, rest = text.split(GEN_BEGIN, 1)
        tail = rest.split(GEN_END, 1)[1]
        text = head + gen + tail
    else:
        text = text.rstrip("\n") + "\n\n" + gen + "\n"
    readme.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS),
                    help="corpus root holding kamailio/ and third-party/ (default: ../shared/corpus "
                         "relative to the repository root)")
    ap.add_argument("--kamailio", default=DEFAULT_KAMAILIO, help="kamailio binary")
    ap.add_argument("--moddir", default=DEFAULT_MODDIR, help="module directory given to -L")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per kamailio run")
    ap.add_argument("--out", default=str(GOLDEN_DIR), help="output directory")
    ap.add_argument("--only", choices=("corpus", "debian"), help="record only one golden")
    ap.add_argument("--update-debian-copy", action="store_true",
                    help=f"copy {DEBIAN_SRC} to tests/data/debian/ first (else only when missing)")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per run on stderr")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.only in (None, "corpus"):
        write_json(out / "corpus.json", record_corpus(args))
    if args.only in (None, "debian"):
        write_json(out / "debian_default.json", record_debian(args))
    update_readme(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
