"""A scenario file is validated before it runs; every error names file:line."""

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
