"""Mocks (YAML and API) and the controllable clock."""

import fakeredis
import pytest

import kscript
from kscript.sip import request
from kscript.testing import Clock, advance_script, follow_clock
from kscript.testing.clock import parse_duration, parse_time
from kscript.testing.runner import Runner


def test_yaml_mocks_sequence_sets_and_headers(tmp_path, small_cfg, write):
    write(tmp_path / "m.kst.yaml", """\
        config: small.cfg
        mocks:
          nat_uac_test: {returns: [1, -1], sets: {$var(peer): checked}}
          sd_lookup: {returns: 1, sets: {$du: "sip:10.0.0.1:5060", $avp(sd): 7}, headers: "X-Speed: 1"}
        steps:
          - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
            expect:
              pv: {$var(peer): checked}
              mock_calls: {nat_uac_test: [["19"]]}
          - send: {method: MESSAGE, ruri: "sip:bob@127.0.0.1"}
            expect:
              pv: {$du: "sip:10.0.0.1:5060", $avp(sd): 7}
              mock_calls: {sd_lookup: [["speed_dial", "sip:bob@example.com"]], nat_uac_test: 0}
        """)
    [r] = Runner().run_paths([tmp_path])
    assert r.status == "passed", r.details


def test_mock_reply_option_sends_through_sl(tmp_path, write):
    """A mock with `reply:` sends a stateless reply (here standing in for a challenge),
    and `send.auth` answers the last challenge with digest credentials."""
    cfg = write(tmp_path / "auth.cfg", """\
        loadmodule "pv.so"
        loadmodule "sl.so"
        loadmodule "textops.so"
        loadmodule "speeddial.so"
        request_route {
            if (!is_present_hf("Authorization")) {
                sd_lookup("challenge", "$fd");
                exit;
            }
            sl_send_reply("200", "OK $hdr(Authorization)");
        }
        """)
    write(tmp_path / "a.kst.yaml", f"""\
        config: {cfg}
        requires: [sl]
        mocks:
          sd_lookup:
            reply: {{status: 401, headers: ['WWW-Authenticate: Digest realm="example.com", nonce="n1", qop="auth"']}}
        steps:
          - send: {{method: REGISTER, ruri: "sip:example.com", from: "sip:alice@example.com"}}
            expect:
              replies: [{{status: 401, reason: Unauthorized, headers: {{WWW-Authenticate: '/nonce="n1"/'}}}}]
              mock_calls: {{sd_lookup: [["challenge", "example.com"]]}}
          - send:
              method: REGISTER
              ruri: "sip:example.com"
              from: "sip:alice@example.com"
              auth: {{username: alice, password: secret}}
            expect:
              reply: {{status: 200, reason: '/^OK Digest username="alice", realm="example.com", nonce="n1", uri="sip:example.com", response="[0-9a-f]{{32}}", qop=auth, nc=00000001, cnonce="kstcnonce", algorithm=MD5$/'}}
              mock_calls: {{sd_lookup: 0}}
        """)
    [r] = Runner().run_paths([tmp_path / "a.kst.yaml"])
    assert r.status == "passed", r.details


def test_api_mock_records_calls(small_cfg):
    script = kscript.load(small_cfg, clock=Clock())
    nat = script.mock("nat_uac_test", returns=[1, 0])
    script.mock("sd_lookup", returns=1)
    script.process(request("OPTIONS", "sip:127.0.0.1"))
    script.process(request("OPTIONS", "sip:127.0.0.1"))
    assert [c.args for c in nat.calls] == [("19",), ("19",)]
    assert nat.calls[0].pos.line == 22
    assert [nat._next_return() for _ in range(1)] == [0]  # after two calls: the last value repeats
    script.close()


# ---------------------------------------------------------------- clock
def test_clock_basics():
    c = Clock()
    assert c() == 1_700_000_000.0 and c.isoformat() == "2023-11-14T22:13:20Z"
    assert Clock("2024-03-01T12:00:00Z")() == 1709294400.0
    assert Clock("2024-03-01T13:00:00+01:00")() == 1709294400.0
    seen = []
    c.on_change(seen.append)
    c.advance("1.5s")
    c.advance(2)
    c.advance("5m")
    assert c() == 1_700_000_303.5 and len(seen) == 3
    c.set(0)
    assert c() == 0.0
    with pytest.raises(ValueError):
        c.advance(-1)
    assert [parse_duration(x) for x in ("250ms", "2h", "1d", 3)] == [0.25, 7200.0, 86400.0, 3.0]
    with pytest.raises(ValueError):
        parse_time("soon")


def test_fakeredis_follows_the_clock():
    clock = Clock()
    server = fakeredis.FakeServer()
    follow_clock(server, clock)
    r = fakeredis.FakeRedis(server=server)
    other = fakeredis.FakeRedis(server=fakeredis.FakeServer())  # not affected
    r.set("k", "v", ex=10)
    other.set("k", "v", ex=10)
    clock.advance(10)
    assert r.get("k") == b"v"  # Redis expires strictly after the deadline
    clock.advance(0.001)
    assert r.get("k") is None and r.ttl("k") == -2
    assert other.get("k") == b"v"
    r2 = fakeredis.FakeRedis(server=server, db=3)  # databases created later follow too
    r2.set("p", "1", px=500)
    clock.advance(0.6)
    assert r2.get("p") is None


def test_ts_follows_the_clock_in_scenarios(tmp_path, small_cfg, write):
    write(tmp_path / "t.kst.yaml", """\
        config: small.cfg
        clock: 2030-01-01T00:00:00Z
        mocks: {nat_uac_test: 1, sd_lookup: 1}
        steps:
          - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
            expect: {log: "at 1893456000"}
          - advance: 1h
          - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
            expect: {log: "at 1893459600", pv: {$Ts: 1893459600}}
        """)
    [r] = Runner().run_paths([tmp_path])
    assert r.status == "passed", r.details


def test_advance_runs_module_timers(small_cfg):
    """Modules with timers implement on_clock(now); advance_script returns what they produced."""
    clock = Clock()
    script = kscript.load(small_cfg, clock=clock)
    fired = []

    class FakeTimer:
        def on_clock(self, now):
            fired.append(now)
            return "a result"

        def close(self):
            pass

    script.modules["faketimer"] = FakeTimer()
    assert advance_script(script, 30) == ["a result"]
    assert fired == [1_700_000_030.0]
    script.close()
