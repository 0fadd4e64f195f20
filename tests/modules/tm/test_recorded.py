"""tm/tmx against Kamailio 5.6.3 recordings that need the script clock.

The cases in ``tests/modules/tm/cases/`` have the conformance format (case.cfg,
*.sip, case.yaml, golden.json recorded with ``tools/record_conformance.py
tests/modules/tm/cases/<name>``).  They live here and not with the conformance
cases because some steps ``wait`` for tm's timers: the replay below runs each
step like ``caselib.replay_step``, then advances a :class:`kscript.testing.Clock`
by the step's ``wait`` and fires the timers with :meth:`Script.tick`, answering
what the timers sent (CANCELs) like the recorder's endpoints do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kscript
from kscript.testing.clock import Clock

HERE = Path(__file__).resolve().parent


import caselib  # noqa: E402 - tests/conformance is on pytest's pythonpath (pyproject.toml)
import normalize  # noqa: E402

CASES = sorted(p.parent for p in (HERE / "cases").glob("*/golden.json"))


def _answer_queue(script, step, history, queue, sent, log):
    """Answer the requests in ``queue`` like the recorder's endpoints (FIFO)."""
    while queue:
        m = queue.pop(0)
        method = caselib.request_method(m.get("message", ""))
        if not method:
            continue
        ep = m.get("dst")
        for spec in caselib.answers_for(step.answer.get(ep), method):
            reply = caselib.build_reply(m["message"], spec, ep, history.setdefault(ep, []))
            d = script.feed_reply(reply, src=ep).to_dict()
            sent.extend(d["sent"])
            log.extend(d["log"])
            queue.extend(d["sent"])
        history.setdefault(ep, []).append(m["message"])


def replay(script, clock, case, step, history) -> dict:
    out = caselib.replay_step(script, case, step, history)
    if step.wait:
        clock.advance(step.wait)
        for res in script.tick():
            d = res.to_dict()
            out["sent"].extend(d["sent"])
            out["log"].extend(d["log"])
            _answer_queue(script, step, history, list(d["sent"]), out["sent"], out["log"])
    return out


@pytest.mark.parametrize("case_dir", CASES, ids=[d.name for d in CASES])
def test_recorded(case_dir):
    case = caselib.load_case(case_dir)
    golden = json.loads(case.golden_path.read_text(encoding="utf-8"))
    assert len(golden["steps"]) == len(case.steps), f"{case.name}: golden.json is stale"
    clock = Clock()
    script = kscript.load(str(case.cfg), defines=list(case.defines), clock=clock)
    exp_norm = normalize.Normalizer(case.compare, case.dir)
    act_norm = normalize.Normalizer(case.compare, case.dir)
    failures = []
    history: dict = {}
    try:
        for i, (step, gold) in enumerate(zip(case.steps, golden["steps"])):
            actual = replay(script, clock, case, step, history)
            diff = normalize.diff_steps(exp_norm.step(gold, with_redis=False),
                                        act_norm.step(actual, with_redis=False),
                                        f"{case.name} step {i} ({step.send})")
            if diff:
                failures.append(diff)
    finally:
        script.close()
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
