"""``kscript test`` and ``kscript record`` (wired into :mod:`kscript.cli`)."""

from __future__ import annotations

import os
import sys

from .runner import ERROR, FAILED, PASSED, SKIPPED, XFAILED, XPASSED, Runner, summary_line

_MARK = {PASSED: "ok", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "skip", XFAILED: "xfail", XPASSED: "XPASS"}


def run_test(args) -> int:
    cov = None
    if args.coverage or args.coverage_html:
        from .coverage import Coverage
        cov = Coverage()
    if args.trace:
        os.makedirs(args.trace, exist_ok=True)
    runner = Runner(redis=args.redis, coverage=cov, trace_dir=args.trace)
    items = runner.collect(args.paths)
    if args.keyword:
        kw = args.keyword.lower()
        items = [it for it in items if kw in f"{it.file}::{it.name}".lower()]
    out = sys.stdout
    results = []
    if not items:
        print(f"kscript test: no scenarios (*.kst.yaml) found in {' '.join(args.paths)}", file=sys.stderr)
    for it in items:
        from .scenario import Scenario
        r = runner.run(it) if isinstance(it, Scenario) else it
        results.append(r)
        if args.verbose or r.failed:
            extra = f" ({r.message})" if r.status in (SKIPPED, XFAILED) and r.message else ""
            print(f"{_MARK[r.status]:<5} {r.id}{extra}", file=out)
        elif not args.quiet:
            out.write({PASSED: ".", SKIPPED: "s", XFAILED: "x"}.get(r.status, "F"))
            out.flush()
        if args.exitfirst and r.failed:
            break
    if not args.verbose and not args.quiet and results:
        print(file=out)
    failed = [r for r in results if r.failed]
    for r in failed:
        print(f"\n{'=' * 20} {r.id} {'=' * 20}", file=out)
        print(r.details or r.message, file=out)
    if args.verbose:
        for r in results:
            if r.status == SKIPPED:
                pass
    if args.junit:
        from .junit import write_junit
        write_junit(results, args.junit)
    if cov is not None:
        print(file=out)
        print(cov.summary(), file=out)
        if args.coverage_html:
            idx = cov.write_html(args.coverage_html)
            print(f"HTML report: {idx}", file=out)
        if args.coverage_annotate:
            for f in cov.files():
                print(f"\n--- {f.file}", file=out)
                print(cov.annotate(f.file), file=out)
    if args.trace:
        print(f"cfgt traces: {args.trace}", file=out)
    print(summary_line(results), file=out)
    return 1 if failed or not results else 0


def run_record(args) -> int:
    from .record import record

    if not args.steps:
        print("kscript record: give at least one --msg FILE", file=sys.stderr)
        return 2
    mocks = {}
    for m in args.mock:
        name, sep, ret = m.partition("=")
        try:
            mocks[name.strip()] = int(ret) if sep else 1
        except ValueError:
            print(f"kscript record: bad --mock {m!r} (expected NAME=INT)", file=sys.stderr)
            return 2
    from ..cli import _read_message
    steps = [(kind, _read_message(path)) for kind, path in args.steps]
    text = record(args.cfg, steps, defines=args.defines, src=args.src, mocks=mocks, redis=args.redis,
                  redis_seed=args.redis_seed, out=args.output, name=args.name)
    if args.output and args.output != "-":
        d = os.path.dirname(args.output)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.output} ({len(steps)} step{'s' if len(steps) != 1 else ''}); "
              f"review it, then run: kscript test {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
