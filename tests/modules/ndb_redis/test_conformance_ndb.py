"""ndb_redis conformance: kscript against goldens recorded from Kamailio 5.6.3 + redis-server 7.0.

Cases (same format as the core suite, recorded with ``tools/record_conformance.py``):

* ``tests/conformance/cases/ndb_*`` and ``s8_10_ndb_redis`` -- run twice: in the
  embedded mode (fakeredis) and against a real redis-server (the cfg's addresses,
  ``redis="cfg"``, with the ports moved to free ones);
* ``tests/modules/ndb_redis/cases/*`` -- faults a fake server cannot show (a server
  that is down, ``CLIENT PAUSE`` beyond ``cmd_timeout``, disabling after failures):
  real redis-server only.

Compared per step: every log line (script *and* module lines: ndb_redis's error
texts, core's "Could not convert PV to int") and the Redis keyspace of db 0 after
the step, as the recorder dumps it.  Sent SIP messages are compared by the core
suite (tests/conformance/test_conformance.py) once ``sl`` is emulated.

For the real-server runs every ``port=NNNN`` of the cfg is replaced by a free
port (the one of the case's Redis gets a fresh redis-server, the others stay
closed) and the free ports are mapped back in kscript's log lines before the
comparison; a step's ``wait`` is slept, since disabling uses the wall clock.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from ndb_support import REDIS_SERVER, RedisProc, free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CONF = ROOT / "tests" / "conformance"


import caselib  # noqa: E402 - tests/conformance is on pytest's pythonpath (pyproject.toml)
import normalize  # noqa: E402

import kscript  # noqa: E402
from kscript.modules import registry  # noqa: E402

SHARED = sorted(p for p in (CONF / "cases").glob("*ndb*") if (p / "golden.json").is_file())
FAULTS = sorted(p for p in (HERE / "cases").glob("*") if (p / "golden.json").is_file())

PORT_RE = re.compile(r"port=(\d+)")


def _mocks() -> dict:
    # sl_send_reply ends the cases; use the real module when kscript has it
    return {} if registry.module_class("sl") is not None else {"sl_send_reply": 1}


def _normalizers(case):
    compare = dict(case.compare)
    compare["module_logs"] = True
    return normalize.Normalizer(compare, case.dir), normalize.Normalizer(compare, case.dir)


def _compare(case, golden, run_step, dump, port_back=None, sleep_waits=False):
    exp_norm, act_norm = _normalizers(case)
    failures = []
    history: dict = {}
    for i, (step, gold) in enumerate(zip(case.steps, golden["steps"])):
        actual = run_step(step, history)
        if sleep_waits and step.wait:
            time.sleep(step.wait)
        actual["sent"] = gold["sent"]  # compared by the core suite
        if port_back:
            for entry in actual["log"]:
                text = entry.get("text", "")
                for new, old in port_back.items():
                    text = text.replace(f":{new}/", f":{old}/").replace(f":{new})", f":{old})")
                entry["text"] = text
        if "redis" in gold:
            actual["redis"] = dump()
        diff = normalize.diff_steps(exp_norm.step(gold), act_norm.step(actual), f"{case.name} step {i} ({step.send})")
        if diff:
            failures.append(diff)
    if failures:
        pytest.fail(f"{case.name}: {case.description}\n" + "\n\n".join(failures), pytrace=False)


def _replay(script, case):
    def run_step(step, history):
        res = caselib.replay_step(script, case, step, history)
        res["log"] = [dict(e) for e in res["log"]]
        return res
    return run_step


@pytest.mark.parametrize("case_dir", SHARED, ids=[p.name for p in SHARED])
def test_embedded(case_dir):
    case = caselib.load_case(case_dir)
    golden = json.loads(case.golden_path.read_text(encoding="utf-8"))
    script = kscript.load(str(case.cfg), defines=list(case.defines), redis="embedded", mocks=_mocks())
    try:
        first = script.modules["ndb_redis"].server_list[0]
        client = script.modules["ndb_redis"]._client_for(first, 0)
        _compare(case, golden, _replay(script, case), lambda: caselib.dump_redis(client))
    finally:
        script.close()


def _real_run(case_dir, tmp_path):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    case = caselib.load_case(case_dir)
    golden = json.loads(case.golden_path.read_text(encoding="utf-8"))
    text = case.cfg.read_text(encoding="utf-8")
    ports = sorted({int(p) for p in PORT_RE.findall(text)})
    mapping = {p: free_port() for p in ports}
    proc = RedisProc(tmp_path, port=mapping[case.redis_port]).start()
    try:
        cfg = tmp_path / "case.cfg"
        cfg.write_text(PORT_RE.sub(lambda m: f"port={mapping[int(m.group(1))]}", text), encoding="utf-8")
        # message files and golden stay in the case directory
        case.cfg = cfg
        script = kscript.load(str(cfg), defines=list(case.defines), redis="cfg", mocks=_mocks())
        client = proc.client()
        try:
            _compare(case, golden, _replay(script, case), lambda: caselib.dump_redis(client),
                     port_back={new: old for old, new in mapping.items()}, sleep_waits=True)
        finally:
            client.close()
            script.close()
    finally:
        proc.stop()


@pytest.mark.parametrize("case_dir", SHARED, ids=[p.name for p in SHARED])
def test_real_redis(case_dir, tmp_path):
    _real_run(case_dir, tmp_path)


@pytest.mark.parametrize("case_dir", FAULTS, ids=[p.name for p in FAULTS])
def test_faults_real_redis(case_dir, tmp_path):
    _real_run(case_dir, tmp_path)


def test_cases_exist():
    names = {p.name for p in SHARED}
    for want in ("ndb_functions_arities", "ndb_reply_types", "ndb_multi_exec", "ndb_pipelines", "ndb_multi_db",
                 "ndb_formatting", "ndb_errors", "ndb_rate_limiter", "ndb_cache", "s8_10_ndb_redis"):
        assert want in names, f"missing golden case {want}"
    assert len(FAULTS) >= 2
