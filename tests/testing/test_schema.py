"""A scenario file is validated before it runs; every error names file:line."""

import os

import pytest

from kscript.testing.scenario import ScenarioFileError, load_text


def errors(text: str) -> list[str]:
    with pytest.raises(ScenarioFileError) as ei:
        load_text(text, "t.kst.yaml")
    return [str(e) for e in ei.value.errors]


def test_unknown_key_points_at_its_line():
    errs = errors("config: x.cfg\nsteps:\n  - send: {method: OPTIONS, ruri: 'sip:a'}\n    expect:\n      replyy: 200\n")
    assert errs == ["t.kst.yaml:5: steps[0].expect.replyy: unknown key 'replyy' (known here: dropped, exit_code, "
                    "flow, forward, forwards, log, mock_calls, not, pv, redis, redis_ttl, replies, reply, routes, sent)"]


def test_wrong_type_and_missing_required():
    errs = errors("steps:\n  - advance: [1]\n")
    assert "t.kst.yaml:1: (document): 'config' is required" in errs
    assert any(e.startswith("t.kst.yaml:2: steps[0].advance:") for e in errs)


def test_bad_status_and_flow_entry():
    errs = errors("config: x.cfg\nsteps:\n  - send: 'OPTIONS sip:a SIP/2.0'\n    expect:\n"
                  "      reply: {status: two hundred}\n      flow: [begin|X]\n")
    assert any(e.startswith("t.kst.yaml:5: steps[0].expect.reply.status:") for e in errs)
    assert any(e.startswith("t.kst.yaml:6: steps[0].expect.flow[0]: 'begin|X' does not match") for e in errs)


def test_one_action_per_step_and_send_fields():
    errs = errors("config: x.cfg\nsteps:\n  - advance: 1\n    send: x\n  - send: {method: OPTIONS}\n  - {}\n")
    assert "t.kst.yaml:3: steps[0]: a step does exactly one of send, reply, advance (found send and advance)" in errs
    assert "t.kst.yaml:5: steps[1].send: give raw, or at least method and ruri" in errs
    assert "t.kst.yaml:6: steps[2]: a step does exactly one of send, reply, advance (found none)" in errs


def test_negated_expectations_are_checked_too():
    errs = errors("config: x.cfg\nsteps:\n  - advance: 1\n    expect:\n      not:\n        dropped: maybe\n")
    assert any(e.startswith("t.kst.yaml:6: steps[0].expect.not.dropped:") for e in errs)


def test_values_checked_after_the_schema(tmp_path):
    cfg = tmp_path / "c.cfg"
    cfg.write_text("request_route { exit; }\n")
    text = (f"config: {cfg}\nclock: yesterday\nsteps:\n  - advance: 5 fortnights\n"
            "  - advance: 1\n    expect: {log: '/unclosed(/'}\n")
    errs = errors(text)
    assert any(e.startswith("t.kst.yaml:2: clock: not a time: 'yesterday'") for e in errs)
    assert any(e.startswith("t.kst.yaml:4: steps[0].advance: not a duration: '5 fortnights'") for e in errs)
    assert any(e.startswith("t.kst.yaml:6: steps[1].expect.log: bad regex /unclosed(/") for e in errs)


def test_missing_config_file():
    errs = errors("config: does-not-exist.cfg\nsteps: [{advance: 1}]\n")
    assert len(errs) == 1 and errs[0].startswith("t.kst.yaml:1: config: no such file ")


def test_yaml_syntax_error_has_a_line():
    errs = errors("config: x.cfg\nsteps:\n  - send: {method: OPTIONS\n")
    assert errs[0].startswith("t.kst.yaml:4: YAML syntax error")


def test_duplicate_keys_but_merge_keys_may_be_overridden(tmp_path):
    errs = errors("config: x.cfg\nconfig: y.cfg\nsteps: [{advance: 1}]\n")
    assert "duplicate key 'config'" in errs[0] and errs[0].startswith("t.kst.yaml:")
    cfg = tmp_path / "c.cfg"
    cfg.write_text("request_route { exit; }\n")
    [sc] = load_text(f"config: {cfg}\nsteps:\n  - send: &r {{method: OPTIONS, ruri: 'sip:a', cseq: 1}}\n"
                     "  - send: {<<: *r, cseq: 2}\n", "t.kst.yaml")
    assert sc.steps[1].data["cseq"] == 2 and sc.steps[1].data["method"] == "OPTIONS"


def test_several_documents_and_names(tmp_path):
    cfg = tmp_path / "c.cfg"
    cfg.write_text("request_route { exit; }\n")
    scs = load_text(f"config: {cfg}\nsteps: [{{advance: 1}}]\n---\nname: second\nconfig: {cfg}\n"
                    "steps: [{advance: 2m}]\n", "dir/t.kst.yaml")
    assert [s.name for s in scs] == ["t #1", "second"]
    assert [s.line for s in scs] == [1, 4]
    assert scs[1].steps[0].data == 120.0


# ---------------------------------------------------------------- the fast check
# Documents are checked by code generated from SCHEMA (kscript.testing.schemagen); jsonschema
# runs only to explain a document that check rejects. Its verdict must be jsonschema's.

def test_generated_schema_check_is_up_to_date():
    from kscript.testing.schema import SCHEMA
    from kscript.testing.schemagen import GENERATED_PATH, generate
    with open(GENERATED_PATH, encoding="utf-8") as f:
        committed = f.read()
    assert committed == generate(SCHEMA), ("kscript/testing/_schema_fast.py is stale: "
                                           "run python3 -m kscript.testing.schemagen")


def _corpus():
    import glob
    from kscript.testing.yamlsrc import load_documents
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    docs = []
    for path in sorted(glob.glob(os.path.join(root, "**", "*.kst.y*ml"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            docs.extend(load_documents(f.read()))
    docs.append(load_documents(
        "config: x.cfg\nclock: 5\nredis: {seed: {a: ['SET k 1', [HSET, h, f, 1]]}, seed_file: s, mode: cfg}\n"
        "defines: {A: 1, B: null}\nmocks: {f: [1, 2], g: {returns: [1], sets: {$var(x): 1}, headers: [a],"
        " reply: {status: 401, headers: ['X: y']}}}\n"
        "steps:\n  - send: {method: M, ruri: r, headers: ['A: b'], via: [x], auth: {username: u, password: p}}\n"
        "    expect: {reply: 4xx, replies: [{status: /1../}], forwards: 0, log: [{level: INFO, text: t}],"
        " pv: {$var(x): 1}, redis: {k: {ttl: 3}}, redis_ttl: {k: -1}, flow: ['start|R', {'exit|R': {$x: 1}}],"
        " routes: [R], dropped: false, exit_code: 1, mock_calls: {f: [[1]]}, not: {sent: 1}}\n"
        "  - reply: {status: 180, headers: {A: 1}}\n  - advance: 1.5\n    repeat: 2\n")[0])
    return docs


_ODD_VALUES = [None, True, False, 0, 1, -1, 99, 100, 699, 700, 1.0, 1.5, float("nan"), float("inf"), "",
               "x", "4xx", "18X", "777", "/re/", "//", "$var(x)", "var", "start|R", "exit|", "drop|x",
               "INFO", "info", "1", [], [1], ["a"], [[1]], [{}], {}, {"a": 1}, {"status": 200},
               {"start|R": {"$x": 1}}, {"text": "a"}, {1: 2}, {"raw": "x"}, {"method": "A", "ruri": "b"}]
_KEYS = ["name", "config", "steps", "send", "reply", "advance", "expect", "not", "status", "reason", "headers",
         "raw", "method", "ruri", "log", "level", "text", "regex", "flow", "pv", "mock_calls", "returns", "sets",
         "seed", "mode", "src", "repeat", "redis", "redis_ttl", "auth", "username", "password", "forwards",
         "unknown", "$var(x)", "start|R", 7]


def _containers(node, out):
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            _containers(v, out)
    elif isinstance(node, list):
        out.append(node)
        for v in node:
            _containers(v, out)
    return out


def _mutate(doc, rnd):
    import copy
    doc = copy.deepcopy(doc)
    for _ in range(rnd.randint(1, 3)):
        c = rnd.choice(_containers(doc, []))
        v = copy.deepcopy(rnd.choice(_ODD_VALUES))
        op = rnd.random()
        if isinstance(c, dict):
            if c and op < 0.5:
                c[rnd.choice(list(c))] = v
            elif c and op < 0.7:
                del c[rnd.choice(list(c))]
            else:
                c[rnd.choice(_KEYS)] = v
        else:
            if c and op < 0.5:
                c[rnd.randrange(len(c))] = v
            elif c and op < 0.7:
                del c[rnd.randrange(len(c))]
            else:
                c.append(v)
    return doc


def test_generated_check_agrees_with_jsonschema():
    import random
    from kscript.testing.schema import _fast_check, _validator
    fast, slow = _fast_check(), _validator()
    docs = _corpus()
    assert len(docs) > 20
    for doc in docs:
        assert fast(doc) and slow.is_valid(doc)
    rnd = random.Random(1234)
    verdicts = set()
    for i in range(4000):
        doc = _mutate(rnd.choice(docs), rnd)
        want = slow.is_valid(doc)
        assert fast(doc) == want, doc
        verdicts.add(want)
    assert verdicts == {True, False}
