"""The ``kscript`` command line: ``check``, ``run`` (and more as they land).

Imports stay lazy so ``kscript check`` starts fast and never loads redis or
prompt_toolkit. Every user error is printed as ``file:line:col: error: ...``
with the source line and a caret; a Python traceback is never shown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _color(stream) -> bool:
    return stream.isatty() and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"


def _paint(text: str, code: str, on: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if on else text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kscript", description="Run Kamailio 5.6 configurations offline.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="parse and check a kamailio.cfg as `kamailio -c` does")
    c.add_argument("cfg", metavar="CFG")
    c.add_argument("-A", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                   help="define NAME (like kamailio -A); repeatable")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.set_defaults(func=cmd_check)
    return p


def cmd_check(args) -> int:
    from .check import check_file
    from .runtime.emulated import emulated_functions

    report = check_file(args.cfg, args.defines, emulated=emulated_functions())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0 if report.ok else 1
    color = _color(sys.stderr)
    for w in report.warnings:
        where = f"{w.pos}: " if w.pos else ""
        print(f"{where}{_paint('warning', '35', color)}: {w.message}", file=sys.stderr)
    if not report.ok:
        for e in report.errors:
            text = str(e)
            head, _, rest = text.partition("\n")
            head = head.replace(f"{e.kind}:", _paint(f"{e.kind}:", "1;31", color), 1)
            print(head + ("\n" + rest if rest else ""), file=sys.stderr)
        print(f"{args.cfg}: {len(report.errors)} error(s)", file=sys.stderr)
        return 1
    s = report.summary()
    routes = ", ".join(f"{k} {v}" for k, v in sorted(s["routes"].items())) or "none"
    print(f"{args.cfg}: ok — {len(s['modules'])} modules, {s['params']} core params, routes: {routes}, "
          f"{len(report.warnings)} warning(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__
        print(f"kscript {__version__} (Kamailio 5.6 configuration language)")
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .errors import KscriptError
    try:
        return args.func(args)
    except KscriptError as e:
        print(str(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
