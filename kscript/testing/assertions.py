"""Assertion helpers for Python tests of a cfg.

Functions (``assert_reply(result, 404)``) and a fluent form
(``expect(result).reply(404, reason="Not Found").not_forwarded()``). A failure
raises :class:`KscriptAssertionError` (an ``AssertionError``) whose text shows
what was expected, the message that came in, what kscript sent and logged, the
route flow and the cfg lines that ran (the lines need the script to have been
loaded with a :class:`~kscript.testing.trace.RunTracer` -- the ``kscript_load``
fixture does that)::

    AssertionError: expected a reply 404; replies sent: SIP/2.0 200 OK
    received from udp:10.0.0.1:5060:
      | OPTIONS sip:127.0.0.1 SIP/2.0
      ...
    sent:
      -> reply to udp:10.0.0.1:5060: SIP/2.0 200 OK
    log: nothing
    route flow (cfgt): start|DEFAULT_ROUTE, start|REQINIT, ...
    cfg lines that ran:
      kamailio.cfg: 503-512, 596-612
"""

from __future__ import annotations

from typing import Any

from .expectations import StepView, evaluate
from .runner import describe_activity
from .trace import RunTracer

__all__ = ["KscriptAssertionError", "expect", "Expect", "assert_reply", "assert_no_reply", "assert_forwarded",
           "assert_not_forwarded", "assert_log", "assert_no_log", "assert_dropped", "assert_routes",
           "assert_pv", "explain_result"]


class KscriptAssertionError(AssertionError):
    """An expectation about a processed message did not hold."""


def _results(result) -> list:
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]


def _view(result) -> StepView:
    rs = _results(result)
    v = StepView()
    for r in rs:
        v.sent.extend(r.sent)
        v.log.extend(r.log)
        v.dropped = v.dropped or r.dropped
        v.exit_code = r.exit_code
        ctx = r.ctx
        if ctx is not None:
            v.script = ctx.script
            rec = ctx.data.get(RunTracer.CTX_KEY)
            if rec is not None:
                v.flow.extend(rec.flow)
                v.routes.extend(rec.entered)
    return v


def explain_result(result) -> str:
    """What came in, what was sent and logged, the flow and the cfg lines that ran."""
    rs = _results(result)
    sip_in, positions, flow = [], [], []
    src = None
    smap = None
    for r in rs:
        ctx = r.ctx
        if ctx is None:
            continue
        sip_in.append(ctx.msg.text)
        src = src or str(ctx.src)
        smap = smap or getattr(ctx.script, "smap", None)
        rec = ctx.data.get(RunTracer.CTX_KEY)
        if rec is not None:
            positions.extend(rec.lines)
            flow.extend(n for n, _ in rec.flow)
    v = _view(result)
    return "\n".join(describe_activity(sip_in, src, v.sent, v.log, flow, positions, smap))


def _check(result, expect: dict, what: str | None = None) -> None:
    v = _view(result)
    fails = evaluate(expect, v)
    if fails:
        head = "\n".join(f.message for f in fails)
        raise KscriptAssertionError(f"{head}\n{explain_result(result)}")


def _reply_spec(status, reason, headers, dst, body) -> dict:
    spec: dict[str, Any] = {}
    if status is not None:
        spec["status"] = status
    if reason is not None:
        spec["reason"] = reason
    if headers:
        spec["headers"] = dict(headers)
    if dst is not None:
        spec["dst"] = dst
    if body is not None:
        spec["body"] = body
    return spec


def _req_spec(ruri, dst, method, headers, body) -> dict:
    spec: dict[str, Any] = {}
    for k, v in (("ruri", ruri), ("dst", dst), ("method", method), ("body", body)):
        if v is not None:
            spec[k] = v
    if headers:
        spec["headers"] = dict(headers)
    return spec


def _log_spec(text, regex, level, source):
    if regex is None and level is None and source is None:
        return text
    spec = {}
    if text is not None:
        spec["text"] = text
    if regex is not None:
        spec["regex"] = regex
    if level is not None:
        spec["level"] = level
    if source is not None:
        spec["source"] = source
    return spec


def assert_reply(result, status=None, reason=None, headers=None, *, dst=None, body=None) -> None:
    """A reply was sent with this status (int, ``"4xx"`` or ``"/regex/"``), reason, headers
    (name -> value, ``"/regex/"``, or None for absent)..."""
    _check(result, {"reply": _reply_spec(status, reason, headers, dst, body)})


def assert_no_reply(result, status=None, reason=None) -> None:
    """No reply (with this status/reason, when given) was sent."""
    _check(result, {"not": {"reply": _reply_spec(status, reason, None, None, None)}})


def assert_forwarded(result, ruri=None, dst=None, method=None, headers=None, *, body=None) -> None:
    """A request matching these was forwarded (``dst`` like ``udp:10.0.0.1:5060`` or ``10.0.0.1:5060``)."""
    _check(result, {"forward": _req_spec(ruri, dst, method, headers, body)})


def assert_not_forwarded(result, ruri=None, dst=None, method=None, headers=None) -> None:
    _check(result, {"not": {"forward": _req_spec(ruri, dst, method, headers, None)}})


def assert_log(result, text=None, *, regex=None, level=None, source=None) -> None:
    """A log line contains ``text`` (or matches ``regex`` / ``"/re/"``), at ``level`` if given."""
    _check(result, {"log": _log_spec(text, regex, level, source)})


def assert_no_log(result, text=None, *, regex=None, level=None, source=None) -> None:
    _check(result, {"not": {"log": _log_spec(text, regex, level, source)}})


def assert_dropped(result, dropped: bool = True) -> None:
    _check(result, {"dropped": dropped})


def assert_routes(result, *names: str) -> None:
    """These routes were entered, in this order (others may come between). Route names
    as cfgt spells them: ``REQINIT``, ``DEFAULT_ROUTE`` for request_route, ..."""
    _check(result, {"routes": list(names)})


def assert_pv(script_or_result, pv: str, value) -> None:
    """A PV's value after the last message (``None`` = unset; ``"/re/"`` = regex)."""
    from .expectations import match_value
    script = script_or_result
    rs = None
    if hasattr(script_or_result, "ctx"):
        rs = script_or_result
        script = script_or_result.ctx.script
    got = script.pv(pv)
    if not match_value(value, got):
        msg = f"expected {pv} == {value!r}; {pv} is {got!r}"
        if rs is not None:
            msg += "\n" + explain_result(rs)
        raise KscriptAssertionError(msg)


class Expect:
    """``expect(result).reply(200).log("keepalive").not_forwarded()`` -- each call asserts
    and returns the same object, so checks chain."""

    def __init__(self, result):
        self.result = result

    def reply(self, status=None, reason=None, headers=None, *, dst=None, body=None) -> "Expect":
        assert_reply(self.result, status, reason, headers, dst=dst, body=body)
        return self

    def no_reply(self, status=None, reason=None) -> "Expect":
        assert_no_reply(self.result, status, reason)
        return self

    def forwarded(self, ruri=None, dst=None, method=None, headers=None, *, body=None) -> "Expect":
        assert_forwarded(self.result, ruri, dst, method, headers, body=body)
        return self

    def not_forwarded(self, ruri=None, dst=None, method=None, headers=None) -> "Expect":
        assert_not_forwarded(self.result, ruri, dst, method, headers)
        return self

    def log(self, text=None, *, regex=None, level=None, source=None) -> "Expect":
        assert_log(self.result, text, regex=regex, level=level, source=source)
        return self

    def no_log(self, text=None, *, regex=None, level=None, source=None) -> "Expect":
        assert_no_log(self.result, text, regex=regex, level=level, source=source)
        return self

    def dropped(self, dropped: bool = True) -> "Expect":
        assert_dropped(self.result, dropped)
        return self

    def routes(self, *names: str) -> "Expect":
        assert_routes(self.result, *names)
        return self

    def pv(self, pv: str, value) -> "Expect":
        assert_pv(self.result, pv, value)
        return self

    def matches(self, expect: dict) -> "Expect":
        """Any scenario ``expect:`` mapping (``{"reply": 200, "not": {"log": "ERR"}}``)."""
        _check(self.result, expect)
        return self


def expect(result) -> Expect:
    return Expect(result)
