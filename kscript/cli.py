"""The ``kscript`` command line: ``check``, ``run``, ``test``, ``record`` (and more as they land).

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
    _add_check_args(c)

    r = sub.add_parser("run", help="run SIP messages through a config, offline")
    r.add_argument("cfg", metavar="CFG")
    r.add_argument("--msg", dest="steps", action=_StepAction, metavar="FILE",
                   help="a SIP request/reply file to process (repeatable, in order; '-' = stdin)")
    r.add_argument("--reply", dest="steps", action=_StepAction, metavar="FILE",
                   help="a reply to feed to the last relayed branch (repeatable, in order)")
    r.add_argument("--src", default="udp:127.0.0.1:5060", metavar="PROTO:IP:PORT",
                   help="where the messages come from ($si/$sp; default udp:127.0.0.1:5060)")
    r.add_argument("-A", dest="defines", action="append", default=[], metavar="NAME[=VALUE]")
    r.add_argument("--redis", default="embedded", metavar="embedded|cfg|URL",
                   help="embedded (in-process, fresh; default), cfg (the servers the cfg names) or a redis:// URL")
    r.add_argument("--redis-seed", metavar="FILE", help="Redis commands to run before the first message (embedded mode)")
    r.add_argument("--mock", action="append", default=[], metavar="NAME=RET",
                   help="replace function NAME by one returning RET (repeatable)")
    r.add_argument("--mock-file", metavar="FILE",
                   help="a YAML/JSON mapping of mocks: {NAME: RET} or {NAME: {returns: RET|[...], sets: {PV: value}, "
                        "headers: [...]}}")
    r.add_argument("--json", action="store_true", help="one JSON object per message on stdout")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("test", help="run *.kst.yaml scenarios (regression tests for a cfg)")
    t.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or directories (searched recursively)")
    t.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    t.add_argument("--coverage", action="store_true", help="report which cfg lines and branches ran")
    t.add_argument("--coverage-html", metavar="DIR", help="also write an HTML coverage report (implies --coverage)")
    t.add_argument("--coverage-annotate", action="store_true", help="print each cfg annotated with what ran")
    t.add_argument("--trace", metavar="DIR", help="write a cfgt-compatible JSON per message into DIR")
    t.add_argument("--redis", metavar="embedded|cfg|URL", default=None,
                   help="override the scenarios' Redis (a real server's databases are flushed per scenario)")
    t.add_argument("-k", dest="keyword", metavar="TEXT", help="only scenarios whose file::name contains TEXT")
    t.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    t.add_argument("-v", "--verbose", action="store_true", help="one line per scenario")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress dots")
    t.set_defaults(func=cmd_test)

    rc = sub.add_parser("record", help="write a scenario whose expectations are what kscript observed")
    rc.add_argument("cfg", metavar="CFG")
    rc.add_argument("--msg", dest="steps", action=_StepAction, metavar="FILE",
                    help="a SIP message file to send (repeatable, in order)")
    rc.add_argument("--reply", dest="steps", action=_StepAction, metavar="FILE",
                    help="a reply to feed to the last relayed branch (repeatable, in order)")
    rc.add_argument("-o", "--output", metavar="OUT", help="the .kst.yaml to write (default: stdout)")
    rc.add_argument("--name", help="the scenario's name")
    rc.add_argument("--src", default="udp:127.0.0.1:5060", metavar="PROTO:IP:PORT")
    rc.add_argument("-A", dest="defines", action="append", default=[], metavar="NAME[=VALUE]")
    rc.add_argument("--redis", default="embedded", metavar="embedded|cfg|URL")
    rc.add_argument("--redis-seed", metavar="FILE")
    rc.add_argument("--mock", action="append", default=[], metavar="NAME=RET")
    rc.set_defaults(func=cmd_record)

    rp = sub.add_parser("repl", help="interactive REPL: evaluate statements, send messages, step through routes")
    rp.add_argument("cfg", metavar="CFG", nargs="?", help="the config (default: a built-in empty one)")
    rp.add_argument("-A", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                    help="define NAME (like kamailio -A); repeatable")
    rp.add_argument("--redis", default="embedded", metavar="embedded|cfg|URL",
                    help="embedded (in-process, fresh; default), cfg (the servers the cfg names) or a redis:// URL")
    rp.add_argument("--echo", action="store_true",
                    help="without a terminal: print each input after the prompt (a transcript)")
    rp.set_defaults(func=cmd_repl)
    return p


class _StepAction(argparse.Action):
    """Keeps --msg and --reply in command-line order."""

    def __call__(self, parser, namespace, values, option_string=None):
        steps = getattr(namespace, self.dest, None) or []
        steps.append(("reply" if option_string == "--reply" else "msg", values))
        setattr(namespace, self.dest, steps)


def _add_check_args(c: argparse.ArgumentParser) -> None:
    c.add_argument("cfg", metavar="CFG")
    c.add_argument("-A", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                   help="define NAME (like kamailio -A); repeatable")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.set_defaults(func=cmd_check)


def _check_fast_path(argv: list[str]) -> int:
    """``kscript check ...`` without building every other subcommand's parser (start-up time)."""
    p = argparse.ArgumentParser(prog="kscript check",
                                description="parse and check a kamailio.cfg as `kamailio -c` does")
    _add_check_args(p)
    args = p.parse_args(argv)
    try:
        return cmd_check(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def cmd_check(args) -> int:
    """``kscript check``: exit 0 (ok, warnings on stderr), 1 (errors), 3 (kscript bug)."""
    try:
        from .check import check_file

        report = check_file(args.cfg, args.defines, emulated=_emulated_for_check())
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - never a traceback, whatever the input
        print(f"{args.cfg}: internal error: kscript failed while checking this file "
              f"({type(e).__name__}: {e}); please report it", file=sys.stderr)
        return 3
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
            kl = getattr(e, "kamailio_line", None)
            if kl is not None and e.pos is not None and kl != e.pos.line:
                head += f" [kamailio -c reports line {kl}]"
            print(head + ("\n" + rest if rest else ""), file=sys.stderr)
        print(f"{args.cfg}: {len(report.errors)} error(s)", file=sys.stderr)
        return 1
    s = report.summary()
    routes = ", ".join(f"{k} {v}" for k, v in sorted(s["routes"].items())) or "none"
    print(f"{args.cfg}: ok — {len(s['modules'])} modules, {s['params']} core params, routes: {routes}, "
          f"{len(report.warnings)} warning(s)")
    return 0


def _emulated_for_check():
    """The (module, function) pairs kscript emulates, for ``check``'s warnings.

    Asking the module registry imports every module implementation (Redis
    clients included), which ``kscript check`` must not do: the answer is
    computed once in a child process and cached per version of kscript/modules
    (``~/.cache/kscript/emulated-*.json``). None (no such warnings) if that fails.
    """
    import zlib
    base = os.path.dirname(os.path.abspath(__file__))
    sig = []
    try:
        for d in ("modules", "runtime"):
            for root, dirs, names in os.walk(os.path.join(base, d)):
                dirs.sort()
                for name in sorted(names):
                    if name.endswith(".py"):
                        st = os.stat(os.path.join(root, name))
                        sig.append(f"{os.path.relpath(root, base)}/{name}:{st.st_mtime_ns}:{st.st_size};")
    except OSError:
        return None
    blob = "".join(sig).encode()
    cache_dir = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                             "kscript")
    path = os.path.join(cache_dir, f"emulated-{zlib.crc32(blob):08x}{zlib.adler32(blob):08x}.json")
    try:
        with open(path, encoding="utf-8") as f:
            return {tuple(x) for x in json.load(f)}
    except (OSError, ValueError, TypeError):
        pass
    import subprocess
    code = ("import json,sys\nfrom kscript.runtime.emulated import emulated_functions\n"
            "json.dump(sorted([list(x) for x in emulated_functions()]), sys.stdout)")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                                 [os.path.dirname(base)] + [p for p in [os.environ.get("PYTHONPATH")] if p])))
        if out.returncode != 0:
            return None
        pairs = json.loads(out.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    try:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(pairs, f)
        os.replace(tmp, path)
        for ent in os.scandir(cache_dir):  # older versions of the answer
            if ent.name.startswith("emulated-") and ent.path != path:
                os.unlink(ent.path)
    except OSError:
        pass
    return {tuple(x) for x in pairs}


def _read_message(path: str) -> str:
    from .errors import KscriptError
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise KscriptError(f"cannot read message file {path}: {e.strerror}") from None
    return data.decode("utf-8", "surrogateescape")


def _read_mock_file(path: str) -> dict:
    """Mocks from a YAML (or JSON) file: {name: returns} or {name: {returns, sets, headers}}."""
    from .errors import KscriptError
    try:
        import yaml
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as e:
        raise KscriptError(f"cannot read mock file {path}: {e.strerror}") from None
    except Exception as e:  # yaml.YAMLError: a syntax error in the file
        raise KscriptError(f"{path}: not valid YAML/JSON: {e}") from None
    if not isinstance(data, dict):
        raise KscriptError(f"{path}: expected a mapping of function names to mocks")
    out = {}
    allowed = {"returns", "sets", "headers"}
    for name, spec in data.items():
        if isinstance(spec, (int, list)):
            spec = {"returns": spec}
        if not isinstance(spec, dict) or set(spec) - allowed:
            raise KscriptError(f"{path}: mock '{name}': expected RET or a mapping with {sorted(allowed)}")
        out[str(name)] = spec
    return out


def cmd_run(args) -> int:
    import kscript
    from .errors import KscriptError

    if not args.steps:
        print("kscript run: give at least one --msg FILE", file=sys.stderr)
        return 2
    mocks = {}
    for m in args.mock:
        name, sep, ret = m.partition("=")
        try:
            mocks[name.strip()] = {"returns": int(ret) if sep else 1}
        except ValueError:
            print(f"kscript run: bad --mock {m!r} (expected NAME=INT)", file=sys.stderr)
            return 2
    if args.mock_file:
        try:
            mocks.update(_read_mock_file(args.mock_file))
        except KscriptError as e:
            print(str(e), file=sys.stderr)
            return 2
    script = kscript.load(args.cfg, defines=args.defines, redis=args.redis, mocks=mocks)
    try:
        if args.redis_seed:
            script.seed_redis(args.redis_seed)
        color = _color(sys.stdout) and not args.json
        status = 0
        for kind, path in args.steps:
            text = _read_message(path)
            try:
                from .sip.message import SipMessage
                from .sip.message import normalize_line_endings
                msg = SipMessage.parse(normalize_line_endings(text), source_name="<stdin>" if path == "-" else path)
                if kind == "msg":
                    res = script.process(msg, src=args.src)
                else:
                    if not hasattr(script, "feed_reply"):
                        raise KscriptError("--reply needs the tm module (not supported yet)")
                    res = script.feed_reply(msg)
            except KscriptError as e:
                if e.pos is None and path != "-":
                    e.message = f"{path}: {e.message}"
                raise
            if args.json:
                print(json.dumps(res.to_dict()))
            else:
                _print_result(path, res, color)
        return status
    finally:
        script.close()


def cmd_test(args) -> int:
    from .testing.commands import run_test
    return run_test(args)


def cmd_record(args) -> int:
    from .testing.commands import run_record
    return run_record(args)


def cmd_repl(args) -> int:
    from .repl import main as repl_main

    return repl_main(args.cfg, args.defines, redis=args.redis, echo=args.echo)


def _print_result(path: str, res, color: bool) -> None:
    print(_paint(f"== {path}", "1", color))
    for rec in res.log:
        lvl = rec.level
        code = {"ERR": "31", "CRIT": "1;31", "ALERT": "1;31", "WARN": "33", "NOTICE": "36"}.get(lvl, "2")
        where = f" [{rec.pos.file}:{rec.pos.line}]" if rec.pos is not None else ""
        src = "" if rec.source == "script" else f" <{rec.source}>"
        print(f"  {_paint(lvl.ljust(6), code, color)}{src} {rec.text.rstrip()}{_paint(where, '2', color)}")
    for s in res.sent:
        first = s.text.split("\r\n", 1)[0]
        arrow = _paint("->", "32", color)
        print(f"  {arrow} {s.kind} to {s.dst}: {first}")
        for line in s.text.rstrip("\r\n").split("\r\n")[1:]:
            print(f"       {line}")
    end = "dropped" if res.dropped else ("done" if res.exit_code is None else f"ended with {res.exit_code}")
    print(f"  {_paint('..', '2', color)} {end}; {len(res.sent)} message(s) sent")


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv)[:1] == ["check"]:
        return _check_fast_path((sys.argv[1:] if argv is None else argv)[1:])
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
