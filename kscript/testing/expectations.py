"""Checking what a step did against what a scenario (or a test) expects.

Value conventions shared by every expectation:

* a text ``"/.../"`` (starting and ending with ``/``) is a regular expression,
  searched (``re.search``) in the actual value;
* any other text is compared exactly -- except log lines, where it is a substring;
* numbers compare with numbers, or with the text of the actual value (``1`` matches
  ``"1"``); ``null`` means unset / absent.

Each expectation key yields one or more *checks*; a check knows what was expected
and what was seen, so a failure reads "expected X; got Y". Under ``not:`` a check
fails when it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["StepView", "Failure", "evaluate", "is_regex", "match_value", "status_matcher",
           "describe_sent", "reply_matches", "request_matches"]


def is_regex(v) -> bool:
    return isinstance(v, str) and len(v) >= 2 and v.startswith("/") and v.endswith("/")


_rx_cache: dict[str, re.Pattern] = {}


def _rx(v: str) -> re.Pattern:
    p = _rx_cache.get(v)
    if p is None:
        p = _rx_cache[v] = re.compile(v[1:-1])
    return p


def match_value(expected, actual) -> bool:
    """Whether ``actual`` satisfies ``expected`` (see the module doc)."""
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if is_regex(expected):
        return _rx(expected).search(_text(actual)) is not None
    if isinstance(expected, bool):
        if isinstance(actual, bool):
            return actual == expected
        return _text(actual) in (("1", "true", "yes") if expected else ("0", "false", "no"))
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return expected == actual
    return _text(expected) == _text(actual)


def _text(v) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def status_matcher(spec) -> Callable[[int | None], bool]:
    """An int, a class like ``4xx``/``18x``, or ``/regex/`` -> predicate on a status code."""
    if isinstance(spec, bool):
        raise ValueError(f"bad status {spec!r}")
    if isinstance(spec, int):
        return lambda s: s == spec
    text = str(spec).strip()
    if is_regex(text):
        rx = _rx(text)
        return lambda s: s is not None and rx.search(str(s)) is not None
    if re.fullmatch(r"[1-6][0-9xX]{2}", text):
        pat = re.compile(text.lower().replace("x", "[0-9]") + "$")
        return lambda s: s is not None and pat.match(str(s)) is not None
    if text.isdigit():
        n = int(text)
        return lambda s: s == n
    raise ValueError(f"bad status {spec!r} (a code like 404, a class like 4xx, or a /regex/)")


def _show(v) -> str:
    if is_regex(v):
        return f"matching {v}"
    return repr(v)


# ---------------------------------------------------------------- what a step did
@dataclass
class StepView:
    """Everything the checks look at for one step."""

    sent: list = field(default_factory=list)  # runtime.context.Sent, in order
    log: list = field(default_factory=list)  # LogRecord
    flow: list = field(default_factory=list)  # (cfgt entry, snapshot or None)
    routes: list = field(default_factory=list)  # route labels entered, in order
    dropped: bool = False
    exit_code: int | None = None
    script: Any = None
    mock_calls_before: dict = field(default_factory=dict)  # name -> len(calls) before the step
    redis_server: str | None = None

    @property
    def replies(self):
        return [s for s in self.sent if s.kind == "reply"]

    @property
    def requests(self):
        return [s for s in self.sent if s.kind == "request"]


@dataclass
class Failure:
    key: str  # e.g. "reply", "not.log"
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass
class _Check:
    ok: bool
    # texts, or functions giving them (only called when the check is reported)
    expected: Any  # "a reply 404 'Not Found'"
    actual: Any  # what was seen instead / what matched


# ---------------------------------------------------------------- messages
def describe_sent(s) -> str:
    first = s.text.split("\r\n", 1)[0]
    return f"{first} (to {s.dst})" if s.kind == "request" else first


def _header_ok(msg_sent, name: str, expected) -> bool:
    vals = msg_sent.headers(name)
    if expected is None:
        return not vals
    return any(match_value(expected, v) for v in vals)


def _status_reason(s) -> tuple[int | None, str | None]:
    """A sent reply's status and reason, read from a plain ``SIP/2.0 NNN reason`` status
    line without parsing the whole message (what SipMessage.parse would give); anything
    else is left to the parser."""
    text = getattr(s, "text", None)
    if isinstance(text, str) and text.startswith("SIP/2.0 ") and text[11:12] == " ":
        code = text[8:11]
        nl = text.find("\n", 12)
        if nl > 0 and code.isdigit() and code.isascii():
            first = text[12:nl]
            if first.endswith("\r"):
                first = first[:-1]
            if "\r" not in first:
                return int(code), first.lstrip(" \t")
    return s.status, s.reason


def reply_matches(s, spec) -> bool:
    if not isinstance(spec, dict):
        spec = {"status": spec}
    if "status" in spec or "reason" in spec:
        status, reason = _status_reason(s)
        if "status" in spec and not status_matcher(spec["status"])(status):
            return False
        if "reason" in spec and not match_value(spec["reason"], reason):
            return False
    if "dst" in spec and not _dst_ok(s, spec["dst"]):
        return False
    if "body" in spec and not match_value(spec["body"], s.message.body):
        return False
    for name, want in (spec.get("headers") or {}).items():
        if not _header_ok(s, name, want):
            return False
    return True


def _dst_ok(s, want) -> bool:
    actual = str(s.dst)
    if is_regex(want):
        return _rx(want).search(actual) is not None
    w = str(want).strip()
    if w.lower().startswith(("sip:", "sips:")):
        w = w.split(":", 1)[1]
        proto = None
        if ";transport=" in w.lower():
            w, _, tp = w.partition(";")
            proto = tp.split("=", 1)[1].lower()
        w = w.split(";", 1)[0]
        if proto:
            w = f"{proto}:{w}"
    from ..runtime.context import Socket
    try:
        has_proto = w.split(":", 1)[0].lower() in ("udp", "tcp", "tls", "sctp", "ws", "wss")
        ws = Socket.parse(w)
    except ValueError:
        return actual == w
    d = s.dst
    return ws.ip.lower() == d.ip.lower() and ws.port == d.port and (not has_proto or ws.proto == d.proto)


def request_matches(s, spec: dict) -> bool:
    if "method" in spec and not match_value(spec["method"], s.method):
        return False
    if "ruri" in spec and not match_value(spec["ruri"], s.ruri):
        return False
    if "dst" in spec and not _dst_ok(s, spec["dst"]):
        return False
    if "body" in spec and not match_value(spec["body"], s.message.body):
        return False
    for name, want in (spec.get("headers") or {}).items():
        if not _header_ok(s, name, want):
            return False
    return True


def _reply_desc(spec) -> str:
    if not isinstance(spec, dict):
        return f"a reply {spec}"
    if not spec:
        return "a reply"
    parts = []
    if "status" in spec:
        parts.append(str(spec["status"]))
    if "reason" in spec:
        parts.append(_show(spec["reason"]))
    for name, want in (spec.get("headers") or {}).items():
        parts.append(f"{name}: {'(absent)' if want is None else _show(want)}")
    if "dst" in spec:
        parts.append(f"to {spec['dst']}")
    if "body" in spec:
        parts.append(f"body {_show(spec['body'])}")
    return "a reply " + " ".join(parts)


def _request_desc(spec: dict) -> str:
    if not spec:
        return "a forwarded request"
    parts = [f"{k}={_show(spec[k])}" for k in ("method", "ruri", "dst", "body") if k in spec]
    for name, want in (spec.get("headers") or {}).items():
        parts.append(f"{name}: {'(absent)' if want is None else _show(want)}")
    return "a forwarded request with " + ", ".join(parts)


def _list_sent(items) -> str:
    return "; ".join(describe_sent(s) for s in items) if items else "none"


# ---------------------------------------------------------------- the checks
def _c_reply(v: StepView, spec) -> list[_Check]:
    reps = v.replies
    hit = [s for s in reps if reply_matches(s, spec)]
    return [_Check(bool(hit), lambda: _reply_desc(spec),
                   lambda: ("sent " + describe_sent(hit[0])) if hit else f"replies sent: {_list_sent(reps)}")]


def _c_replies(v: StepView, spec) -> list[_Check]:
    reps = v.replies
    if isinstance(spec, int):
        return [_Check(len(reps) == spec, lambda: f"{spec} replies", lambda: f"{len(reps)}: {_list_sent(reps)}")]
    ok = len(reps) == len(spec) and all(reply_matches(s, sp) for s, sp in zip(reps, spec))
    want = ", ".join(_reply_desc(sp)[8:] or "any" for sp in spec)
    return [_Check(ok, f"replies [{want}]", lambda: f"replies sent: {_list_sent(reps)}")]


def _c_forward(v: StepView, spec) -> list[_Check]:
    reqs = v.requests
    hit = [s for s in reqs if request_matches(s, spec)]
    return [_Check(bool(hit), lambda: _request_desc(spec),
                   lambda: ("forwarded " + describe_sent(hit[0])) if hit else f"requests forwarded: {_list_sent(reqs)}")]


def _c_forwards(v: StepView, spec) -> list[_Check]:
    reqs = v.requests
    if isinstance(spec, int):
        return [_Check(len(reqs) == spec, lambda: f"{spec} forwarded requests",
                       lambda: f"{len(reqs)}: {_list_sent(reqs)}")]
    ok = len(reqs) == len(spec) and all(request_matches(s, sp) for s, sp in zip(reqs, spec))
    return [_Check(ok, lambda: f"{len(spec)} forwarded requests matching in order",
                   lambda: f"requests forwarded: {_list_sent(reqs)}")]


def _c_sent(v: StepView, spec) -> list[_Check]:
    return [_Check(len(v.sent) == spec, lambda: f"{spec} messages sent", lambda: f"{len(v.sent)}: {_list_sent(v.sent)}")]


def _log_match(rec, item) -> bool:
    text = rec.text.rstrip("\n")
    if isinstance(item, str):
        return _rx(item).search(text) is not None if is_regex(item) else item in text
    if "text" in item and item["text"] not in text:
        return False
    if "regex" in item and re.search(item["regex"], text) is None:
        return False
    if "level" in item and rec.level != item["level"]:
        return False
    if "source" in item and rec.source != item["source"]:
        return False
    return True


def _log_desc(item) -> str:
    if isinstance(item, str):
        return f"a log line {'matching ' + item if is_regex(item) else 'containing ' + repr(item)}"
    parts = []
    if "level" in item:
        parts.append(item["level"])
    parts.append("log line")
    if "text" in item:
        parts.append(f"containing {item['text']!r}")
    if "regex" in item:
        parts.append(f"matching /{item['regex']}/")
    if "source" in item:
        parts.append(f"from {item['source']}")
    return "a " + " ".join(parts)


def _c_log(v: StepView, spec) -> list[_Check]:
    out = []
    for item in spec if isinstance(spec, list) else [spec]:
        hit = [r for r in v.log if _log_match(r, item)]
        out.append(_Check(bool(hit), lambda item=item: _log_desc(item),
                          f"logged [{hit[0].level}] {hit[0].text.rstrip()!r}" if hit else
                          f"{len(v.log)} log lines, none matched"))
    return out


def _c_pv(v: StepView, spec) -> list[_Check]:
    out = []
    for text, want in spec.items():
        try:
            got = v.script.pv(text)
        except Exception as e:  # unknown PV class etc.
            out.append(_Check(False, f"{text} == {_show(want)}", f"cannot read {text}: {e}"))
            continue
        out.append(_Check(match_value(want, got), f"{text} == {_show(want)}", f"{text} is {got!r}"))
    return out


def _redis_client(v: StepView):
    return redis_client(v.script, v.redis_server)


def redis_client(script, server: str | None = None):
    """A redis-py client for a scenario's Redis: the named ndb_redis server, or a db_redis
    database (``server`` = its ``redis://`` URL); by default the first ndb_redis server
    the cfg declares, else the database of db_redis's first connection."""
    mods = getattr(script, "modules", {}) or {}
    if server is None:
        names = redis_server_names(script) if "ndb_redis" in mods else []
        if names:
            return script.redis(names[0])
        dbr = mods.get("db_redis")
        if dbr is not None and hasattr(dbr, "client"):
            urls = db_redis_urls(script)
            c = dbr.client(urls[0] if urls else None)
            if c is not None:
                return c
        if not mods:  # a stand-in script object (e.g. a real server in benchmarks/realkam.py)
            return script.redis(None)
        raise LookupError("the config declares no ndb_redis server nor db_redis URL "
                          "(set redis.server in the scenario)")
    if str(server).startswith("redis://") and "db_redis" in mods:
        return mods["db_redis"].client(server)
    return script.redis(server)


def db_redis_urls(script) -> list[str]:
    """``redis://`` DB URLs the cfg gives to modules (db_redis), in order: ``script.redis(url)``
    is the client of that database."""
    from .. import nodes as N
    out = []
    for item in script.config.items:
        if isinstance(item, N.ModParam) and item.param == "db_url" and str(item.value).startswith("redis://"):
            if item.value not in out:
                out.append(str(item.value))
    return out


def redis_server_names(script) -> list[str]:
    """ndb_redis server names declared by the cfg (``modparam("ndb_redis", "server", "name=...;")``),
    in declaration order."""
    from .. import nodes as N
    out = []
    for item in script.config.items:
        if isinstance(item, N.ModParam) and item.param == "server" and re.match(f"^({item.module})$", "ndb_redis", re.I):
            for part in str(item.value).split(";"):
                k, _, val = part.partition("=")
                if k.strip() == "name" and val.strip():
                    out.append(val.strip())
    return out


def _redis_actual(r, key: str, want):
    """Read ``key`` in the shape ``want`` asks for."""
    t = r.type(key)
    t = t.decode() if isinstance(t, bytes) else t
    if t == "none":
        return None, "absent"
    if t == "string":
        v = r.get(key)
        return _text(v), repr(_text(v))
    if t == "list":
        v = [_text(x) for x in r.lrange(key, 0, -1)]
        return v, f"list {v}"
    if t == "set":
        v = sorted(_text(x) for x in r.smembers(key))
        return v, f"set {v}"
    if t == "zset":
        v = [_text(x) for x in r.zrange(key, 0, -1)]
        return v, f"zset {v}"
    if t == "hash":
        v = {_text(k): _text(x) for k, x in r.hgetall(key).items()}
        return v, f"hash {v}"
    return t, f"a {t}"


def _redis_ok(want, actual, kind_desc: str) -> bool:
    if want is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(want, list):
        if not isinstance(actual, list):
            return False
        if kind_desc.startswith("set "):  # unordered: each expected member matches a distinct member
            if len(want) != len(actual):
                return False
            left = list(actual)
            for w in sorted(want, key=lambda x: is_regex(x)):  # exact values first
                hit = next((a for a in left if match_value(w, a)), None)
                if hit is None:
                    return False
                left.remove(hit)
            return True
        return len(want) == len(actual) and all(match_value(w, a) for w, a in zip(want, actual))
    if isinstance(want, dict):
        if not isinstance(actual, dict):
            return False
        return set(map(str, want)) == set(actual) and all(match_value(w, actual.get(str(k))) for k, w in want.items())
    return not isinstance(actual, (list, dict)) and match_value(want, actual)


def _c_redis(v: StepView, spec) -> list[_Check]:
    try:
        r = _redis_client(v)
    except Exception as e:
        return [_Check(False, "Redis keys", f"no Redis client: {e}")]
    out = []
    for key, want in spec.items():
        actual, desc = _redis_actual(r, str(key), want)
        out.append(_Check(_redis_ok(want, actual, desc),
                          f"Redis {key} {'absent' if want is None else '= ' + _show(want)}", f"Redis {key} is {desc}"))
    return out


def _c_redis_ttl(v: StepView, spec) -> list[_Check]:
    try:
        r = _redis_client(v)
    except Exception as e:
        return [_Check(False, "Redis TTLs", f"no Redis client: {e}")]
    out = []
    for key, want in spec.items():
        got = r.ttl(str(key))
        out.append(_Check(got == want, f"TTL of {key} = {want}", f"TTL of {key} is {got}"))
    return out


def _flow_entry(e) -> tuple[str, dict | None]:
    if isinstance(e, str):
        return e, None
    (name, pvs), = e.items()
    return name, dict(pvs or {})


def _c_flow(v: StepView, spec) -> list[_Check]:
    want = [_flow_entry(e) for e in spec]
    names = [n for n, _ in v.flow]
    ok = names == [n for n, _ in want]
    detail = ""
    if ok:
        for (n, pvs), (_, snap) in zip(want, v.flow):
            for text, val in (pvs or {}).items():
                got = (snap or {}).get(text)
                if not match_value(val, got):
                    ok = False
                    detail = f" (at {n}: {text} is {got!r}, expected {_show(val)})"
                    break
            if not ok:
                break
    return [_Check(ok, "flow [" + ", ".join(n for n, _ in want) + "]", "flow [" + ", ".join(names) + "]" + detail)]


def _c_routes(v: StepView, spec, negated: bool = False) -> list[_Check]:
    if negated:  # none of these routes ran
        return [_Check(r in v.routes, f"route {r} entered", "routes entered: " + (", ".join(v.routes) or "none"))
                for r in spec]
    it = iter(v.routes)
    ok = all(any(r == x for x in it) for r in spec)
    return [_Check(ok, "routes entered in order: " + ", ".join(spec), "routes entered: " + (", ".join(v.routes) or "none"))]


def _c_dropped(v: StepView, spec) -> list[_Check]:
    return [_Check(v.dropped == spec, "dropped" if spec else "not dropped",
                   "it was dropped" if v.dropped else "it was not dropped")]


def _c_exit_code(v: StepView, spec) -> list[_Check]:
    return [_Check(v.exit_code == spec, f"the script to end with {spec}", f"it ended with {v.exit_code}")]


def _c_mock_calls(v: StepView, spec) -> list[_Check]:
    out = []
    for name, want in spec.items():
        m = v.script.mocks.get(name) if v.script is not None else None
        if m is None:
            out.append(_Check(False, f"calls of mock {name}", f"{name} is not mocked"))
            continue
        calls = m.calls[v.mock_calls_before.get(name, 0):]
        if isinstance(want, int):
            out.append(_Check(len(calls) == want, f"{want} calls of {name}",
                              f"{len(calls)} calls" + (f": {[list(c.args) for c in calls]}" if calls else "")))
        else:
            got = [list(c.args) for c in calls]
            ok = len(got) == len(want) and all(
                len(a) == len(w) and all(match_value(x, y) for x, y in zip(w, a)) for a, w in zip(got, want))
            out.append(_Check(ok, f"calls of {name} with {want}", f"calls {got}"))
    return out


CHECKS: dict[str, Callable] = {
    "reply": _c_reply, "replies": _c_replies, "forward": _c_forward, "forwards": _c_forwards,
    "sent": _c_sent, "log": _c_log, "pv": _c_pv, "redis": _c_redis, "redis_ttl": _c_redis_ttl,
    "flow": _c_flow, "routes": _c_routes, "dropped": _c_dropped, "exit_code": _c_exit_code,
    "mock_calls": _c_mock_calls,
}


def evaluate(expect: dict, view: StepView, lines: Callable[[list], int | None] | None = None) -> list[Failure]:
    """All failed expectations of ``expect`` (a step's ``expect:`` mapping)."""
    failures: list[Failure] = []
    for negated, grp in ((False, expect), (True, expect.get("not") or {})):
        for key, spec in grp.items():
            if key == "not":
                continue
            fn = CHECKS[key]
            checks = fn(view, spec, negated) if key == "routes" else fn(view, spec)
            where = (["not", key] if negated else [key])
            for c in checks:
                if c.ok == negated:
                    expected = c.expected() if callable(c.expected) else c.expected
                    actual = c.actual() if callable(c.actual) else c.actual
                    msg = (f"expected NOT {expected}; but {actual}" if negated
                           else f"expected {expected}; {actual}")
                    failures.append(Failure(".".join(where), msg, lines(where) if lines else None))
    return failures
