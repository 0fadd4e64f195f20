"""``kscript check`` speed beside ``kamailio -c`` on the same file, measured in the same run.

* cold: ``kscript check FILE`` in a fresh process (the console script when installed, else
  ``python -m kscript``), wall time, median of N runs; the interpreter's own start-up
  (``python -c pass``) is printed for reference;
* warm: in-process preprocess + lex + parse to the AST (the parse), and the whole
  ``check_file()`` (parse + Kamailio's start-up checks), median of N runs;
* ``kamailio -c -f FILE -L <modules>``, wall time, median of N runs.

Targets (issue 2): cold check at most 3x ``kamailio -c``; warm parse under 15 ms. Prints
figures and ratios; not a test.

    python3 benchmarks/check.py [-n 15] [FILE]

The modules are byte-compiled first (``compileall``, what ``pip install`` does), unless
``--no-compile``: with PYTHONDONTWRITEBYTECODE and no ``__pycache__``, every cold run would
recompile kscript's sources.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, ROOT)

KAMAILIO = "/usr/sbin/kamailio"
MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


MINS: dict[str, float] = {}


def wall(cmd: list[str], n: int, cwd: str | None = None) -> tuple[float, int]:
    """Median wall time (ms) of ``cmd`` over ``n`` runs, and its last exit code (the minimum is
    kept in MINS: on a shared machine it is the steadier figure)."""
    times = []
    rc = 0
    for _ in range(n):
        t = time.perf_counter()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=cwd)
        times.append((time.perf_counter() - t) * 1000)
        rc = p.returncode
    MINS[" ".join(cmd)] = min(times)
    return statistics.median(times), rc


def inproc(fn, n: int) -> float:
    fn()  # warm up (tables, catalogue, caches)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", default=os.path.join(ROOT, "tests", "data", "debian", "kamailio.cfg"))
    ap.add_argument("-n", type=int, default=15, help="runs per measurement (median)")
    ap.add_argument("--no-compile", action="store_true", help="do not byte-compile kscript first")
    args = ap.parse_args()
    cfg = os.path.abspath(args.file)

    if not args.no_compile:
        import compileall
        compileall.compile_dir(os.path.join(ROOT, "kscript"), quiet=1)
        compileall.compile_dir(os.path.join(ROOT, "grammar"), quiet=1)

    from kscript.check import check_file
    from kscript.lexer import tokenize
    from kscript.parser import parse_tokens
    from kscript.preprocessor import Preprocessor

    # the console script next to this interpreter (a pyenv shim would add a shell's start-up)
    script = os.path.join(os.path.dirname(sys.executable), "kscript")
    if not os.path.exists(script):
        script = shutil.which("kscript")
    cold_cmd = [script, "check", cfg] if script else [sys.executable, "-m", "kscript", "check", cfg]
    wall(cold_cmd, 1, cwd=ROOT)  # fill the caches (parse tables, emulated functions)

    def parse_only():
        smap = Preprocessor().run(cfg)
        value, _p = parse_tokens(smap, tokenize(smap.text))
        return value

    def pp_only():
        return Preprocessor().run(cfg)

    smap = pp_only()

    def lex_only():
        return tokenize(smap.text)

    lex = lex_only()

    def parser_only():
        return parse_tokens(smap, lex)

    rows = []
    kam = None
    if os.path.exists(KAMAILIO):
        kam, krc = wall([KAMAILIO, "-c", "-f", cfg, "-L", MODDIR], args.n, cwd=os.path.dirname(cfg))
    py, _ = wall([sys.executable, "-c", "pass"], args.n)
    cold, crc = wall(cold_cmd, args.n, cwd=ROOT)
    warm_parse = inproc(parse_only, args.n)
    import kscript.check as kcheck

    def check_uncached():
        kcheck._MEMO.clear()  # the in-process memo would answer instead of checking
        return check_file(cfg)

    warm_check = inproc(check_uncached, args.n)
    warm_memo = inproc(lambda: check_file(cfg), args.n)
    t_pp = inproc(pp_only, args.n)
    t_lex = inproc(lex_only, args.n)
    t_parse = inproc(parser_only, args.n)

    print(f"file: {cfg} ({len(smap.text.splitlines())} lines, {len(lex.tokens)} tokens)")
    print(f"runs per figure: {args.n} (median)")
    if kam is not None:
        rows.append(("kamailio -c (fresh process)", kam, f"exit {krc}"))
    rows.append(("python3 -c pass (interpreter start-up)", py, ""))
    rows.append((f"kscript check, cold ({'console script' if script else 'python -m kscript'})", cold,
                 f"exit {crc}" + (f", {cold / kam:.1f}x kamailio -c (target <= 3x)" if kam else "")))
    rows.append(("kscript parse, warm (preprocess+lex+parse to AST)", warm_parse,
                 "target < 15 ms" + (f", {warm_parse / kam:.2f}x kamailio -c" if kam else "")))
    rows.append(("  preprocess", t_pp, ""))
    rows.append(("  lex", t_lex, ""))
    rows.append(("  parse + AST", t_parse, ""))
    rows.append(("kscript check_file(), warm (parse + start-up checks)", warm_check,
                 f"{warm_check / kam:.2f}x kamailio -c" if kam else ""))
    rows.append(("kscript check_file(), same cfg again (in-process memo)", warm_memo, ""))
    width = max(len(r[0]) for r in rows)
    for name, ms, note in rows:
        print(f"{name:<{width}}  {ms:8.1f} ms  {note}")
    if kam is not None:
        kmin = MINS[" ".join([KAMAILIO, "-c", "-f", cfg, "-L", MODDIR])]
        cmin = MINS[" ".join(cold_cmd)]
        pmin = MINS[" ".join([sys.executable, "-c", "pass"])]
        print(f"minimum over the runs: kamailio -c {kmin:.1f} ms, python3 -c pass {pmin:.1f} ms, "
              f"kscript check {cmin:.1f} ms ({cmin / kmin:.1f}x); kscript above the bare interpreter: "
              f"{cmin - pmin:.1f} ms ({(cmin - pmin) / kmin:.1f}x kamailio -c)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
