"""``uri.*``, ``nameaddr.*``, ``tobody.*``, ``urialias.*`` against values recorded from
Kamailio 5.6.3 (``tests/golden/transformations_uri.json``, ``tools/record_transformations_uri.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kscript.pv import transformations as trs
from kscript.pv.transformations import REGISTRY, TransformFailed
from kscript.pv.transformations import nameaddr as tr_nameaddr
from kscript.pv.transformations import uri as tr_uri

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "transformations_uri.json"
DATA = json.loads(GOLDEN.read_text())
SAOR = ("uri.saor", "uri.suri", "uri.duri")


def apply(spec: str, value):
    name, _, param = spec.partition(",")
    d = REGISTRY[name]
    args = [param] if param else []
    return d.fn(value, *args)


def attempt(spec, value):
    try:
        return apply(spec, value)
    except TransformFailed:
        return None


def printed(v):
    """What xlog prints for a transformation result (int-typed values print their digits)."""
    return None if v is None else str(v)


def reset():
    tr_uri.reset_caches()
    tr_nameaddr.reset_caches()


def replay_cases():
    """Evaluate every golden case like the recorder did: twice in a row, caches reset per batch."""
    out = []
    batch = None
    for c in DATA["cases"]:
        if c["batch"] != batch:
            reset()
            batch = c["batch"]
        first = attempt(c["tr"], c["input"])
        attempt(c["tr"], c["input"])
        out.append((c, first))
    reset()
    return out


REPLAYED = replay_cases()


@pytest.mark.parametrize("case,got", REPLAYED, ids=[f"{c['tr']}:{c['input']!r}" for c, _ in REPLAYED])
def test_golden_case(case, got):
    want = case["result"]
    if "length" in case:          # urialias.decode returning Kamailio's 64 KiB buffer
        assert got is not None and got.endswith("\x00")
        return
    got = printed(got)
    if case["tr"] in SAOR and want is not None and got is not None:
        # byte 5 after "scheme:" is stale buffer content in Kamailio 5.6.3
        colon = want.index(":") + 1
        assert got[:colon] == want[:colon] and got[colon + 1:] == want[colon + 1:]
        assert got[colon] == tr_uri.SAOR_STRAY_BYTE
        return
    assert got == want


def test_registered_names():
    for name in ["uri.user", "uri.host", "uri.domain", "uri.passwd", "uri.port", "uri.params", "uri.param",
                 "uri.headers", "uri.transport", "uri.ttl", "uri.uparam", "uri.maddr", "uri.method", "uri.lr",
                 "uri.r2", "uri.scheme", "uri.saor", "uri.suri", "uri.duri", "uri.tosocket", "nameaddr.name",
                 "nameaddr.uri", "nameaddr.len", "tobody.uri", "tobody.display", "tobody.tag", "tobody.user",
                 "tobody.host", "tobody.params", "urialias.encode", "urialias.decode"]:
        assert name in REGISTRY, name
    assert REGISTRY["uri.param"].params == ("str",)
    assert "uri.rmparam" not in REGISTRY   # master only


@pytest.mark.parametrize("spec", ["uri.user", "nameaddr.uri", "tobody.uri", "urialias.encode", "urialias.decode"])
def test_null_and_int_inputs(spec):
    reset()
    rec = DATA["non_string"].get(spec)
    with pytest.raises(TransformFailed):
        apply(spec, None)
    with pytest.raises(TransformFailed):
        apply(spec, "")
    got = attempt(spec, 42)
    if rec is not None:
        assert (got or "") == rec["int"]
        assert rec["null"] == ""


def test_value_types():
    reset()
    assert apply("uri.port", "sip:a@b:5070") == 5070
    assert apply("uri.port", "sip:a@b") == ""
    assert apply("nameaddr.len", "<sip:a@b>") == 9
    assert isinstance(apply("uri.user", "sip:a@b"), str)


def test_fuzz_uri():
    parts = DATA["fuzz_uri_parts"]
    reset()
    bad = []
    for e in DATA["fuzz_uri"]:
        if e["result"] is None:
            if attempt("uri.host", e["input"]) is not None:
                bad.append((e["input"], "should fail"))
            continue
        for p in parts:
            got = printed(attempt(p, e["input"]))
            if got is None and p.startswith("uri.param,"):
                got = ""           # failure and empty print the same in the recording
            if got != e["result"][p]:
                bad.append((e["input"], p, e["result"][p], got))
    assert not bad, bad[:20]


def test_fuzz_tobody():
    parts = DATA["fuzz_tobody_parts"]
    reset()
    bad = []
    for e in DATA["fuzz_tobody"]:
        if e["result"] is None:
            if attempt("tobody.uri", e["input"]) is not None:
                bad.append((e["input"], "should fail"))
            continue
        for p in parts:
            got = printed(attempt(p, e["input"]))
            if got != e["result"][p]:
                bad.append((e["input"], p, e["result"][p], got))
    assert not bad, bad[:20]


def test_saor_fixed_behaviour(monkeypatch):
    reset()
    monkeypatch.setattr(tr_uri, "SAOR_STRAY_BYTE", "")
    assert apply("uri.saor", "sip:alice@example.com:5060;transport=tcp") == "sip:alice@example.com"
    assert apply("uri.suri", "sip:alice@example.com:5060;transport=tcp") == "sip:alice@example.com:5060;transport=tcp"
    assert apply("uri.duri", "sip:alice@example.com:5060;transport=tcp") == "sip:example.com:5060;transport=tcp"


def test_nameaddr_partial_cache_quirk():
    reset()
    with pytest.raises(TransformFailed):
        apply("nameaddr.uri", "<sip:x@y")
    # Kamailio 5.6.3 keeps the half-parsed value cached: the same input now "works"
    assert apply("nameaddr.uri", "<sip:x@y") == "sip:x@y"
    assert apply("nameaddr.len", "<sip:x@y") == 0
    reset()
    with pytest.raises(TransformFailed):
        apply("nameaddr.len", "<sip:x@y")


def test_module_is_registry_compatible():
    assert trs.TransformDef is not None
