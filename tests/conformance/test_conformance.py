"""Conformance: kscript must do what Kamailio 5.6 did in the recorded goldens.

For every ``tests/conformance/cases/<name>/`` with a ``golden.json`` (recorded by
``tools/record_conformance.py`` from the real kamailio binary), load
``case.cfg`` with kscript, run the same steps, normalise both sides with
``normalize.Normalizer`` and compare:

* ``sent`` -- every message kscript sent (kind, destination, full text), in order;
* ``log``  -- entries with source ``script`` (xlog/log), plus module/core lines
  when the case's ``compare: module_logs`` asks for them;
* ``redis`` -- the whole keyspace after each step, for cases recorded with redis.

Replies of the fake next hops are built with ``caselib.build_reply`` from the
requests kscript sent, exactly as the recorder builds them from what Kamailio
sent, and fed back in FIFO order (``caselib.replay_step``): Kamailio (one
worker, ``-n 1``) handles datagrams in arrival order, so the step's own message
is processed first, then the answers to each forwarded request in the order the
requests were sent, and answers to requests produced while handling those come
after the ones already queued.  ``tools/record_conformance.py --selftest`` runs
this same replay against the real kamailio and checks it reproduces the goldens.

API used (not final; adapt here when the runner lands):
``kscript.load(cfg, defines=[...], redis="embedded")``,
``script.process(text, src="udp:IP:PORT")`` -> result with ``to_dict()``,
``script.feed_reply(text, src=...)`` (falls back to ``script.process``), and for
redis cases ``script.redis_dump()``, a redis-py compatible ``script.redis`` or
``script.redis(server_name)``.

Every case must conform, except those listed in ``known_failures.txt`` (one
``case: reason`` per line), which are marked xfail *strict*: a known failure that
starts passing fails the run until it is removed from the list. Set
KSCRIPT_CONFORMANCE_STRICT=1 to run the listed cases as ordinary tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


import caselib  # noqa: E402 - tests/conformance is on pytest's pythonpath (pyproject.toml)
import normalize  # noqa: E402

kscript = pytest.importorskip("kscript")
if not hasattr(kscript, "load"):
    pytest.skip("kscript.load() is not implemented yet", allow_module_level=True)

CASE_DIRS = [d for d in caselib.case_dirs() if (d / "golden.json").is_file()]

def _known_failures() -> dict[str, str]:
    out = {}
    path = HERE / "known_failures.txt"
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(":")
                out[name.strip()] = reason.strip()
    return out


KNOWN = {} if os.environ.get("KSCRIPT_CONFORMANCE_STRICT") else _known_failures()


def _param(d):
    reason = KNOWN.get(d.name)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(d, id=d.name, marks=marks)


@pytest.mark.parametrize("case_dir", [_param(d) for d in CASE_DIRS])
def test_conformance(case_dir):
    case = caselib.load_case(case_dir)
    golden = json.loads(case.golden_path.read_text(encoding="utf-8"))
    assert len(golden["steps"]) == len(case.steps), \
        f"{case.name}: golden.json is stale (re-record with tools/record_conformance.py)"

    from kscript.testing.clock import Clock
    clock = Clock.now()  # steps that `wait` advance it, so kscript's timers fire as Kamailio's did
    script = kscript.load(str(case.cfg), defines=list(case.defines), redis="embedded", clock=clock)
    try:
        _run_case(script, case, golden)
    finally:
        close = getattr(script, "close", None)
        if callable(close):
            close()


def _run_case(script, case, golden):
    want_redis = case.redis_port is not None and case.compare.get("redis", True)
    exp_norm = normalize.Normalizer(case.compare, case.dir)
    act_norm = normalize.Normalizer(case.compare, case.dir)
    failures = []
    history: dict = {}
    for i, (step, gold) in enumerate(zip(case.steps, golden["steps"])):
        actual = caselib.replay_step(script, case, step, history)
        if step.wait:
            from kscript.testing.clock import advance_script
            for res in advance_script(script, step.wait):
                d = res.to_dict()
                actual["sent"] = list(actual.get("sent", [])) + d["sent"]
                actual["log"] = list(actual.get("log", [])) + d["log"]
        if want_redis and "redis" in gold:
            dump = caselib.script_redis_dump(script, case)
            if dump is None:
                failures.append(f"step {i}: kscript exposes no redis keyspace "
                                "(script.redis_dump() or script.redis)")
            else:
                actual["redis"] = dump
        expected = exp_norm.step(gold, with_redis=want_redis)
        got = act_norm.step(actual, with_redis=want_redis)
        diff = normalize.diff_steps(expected, got, f"{case.name} step {i} ({step.send})")
        if diff:
            failures.append(diff)
    if failures:
        header = f"{case.name}: {case.description}\n" if case.description else ""
        pytest.fail(header + "\n\n".join(failures), pytrace=False)
