"""Running scenarios: load the cfg, seed Redis, install mocks, play the steps,
check the expectations, and explain failures.

>>> from kscript.testing.runner import Runner            # doctest: +SKIP
>>> results = Runner().run_paths(["examples/"])          # doctest: +SKIP
>>> print(summary_line(results))                         # doctest: +SKIP
12 passed, 0 failed

A failure message shows the step, each unmet expectation ("expected X; got Y"),
the message that was sent in, what kscript sent out and logged, the route flow,
and the cfg lines that ran (with the last statements' source).
"""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import KscriptError
from .clock import Clock, run_timers
from .expectations import Failure, StepView, evaluate, redis_client, redis_server_names
from .scenario import Scenario, ScenarioFileError, Step, find_scenarios, load_file
from .trace import RunTracer, write_cfgt_json
from .yamlsrc import line_of

__all__ = ["Runner", "ScenarioResult", "summary_line", "format_lines_ran", "DEFAULT_REASONS"]

DEFAULT_REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
    200: "OK", 202: "Accepted", 301: "Moved Permanently", 302: "Moved Temporarily", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 407:
    "Proxy Authentication Required", 408: "Request Timeout", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 483: "Too Many Hops", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out", 600: "Busy Everywhere", 603: "Decline",
}

PASSED, FAILED, ERROR, SKIPPED, XFAILED, XPASSED = "passed", "failed", "error", "skipped", "xfailed", "xpassed"


@dataclass
class ScenarioResult:
    file: str
    name: str
    line: int
    status: str
    message: str = ""  # one line
    details: str = ""  # the full explanation (failures)
    duration: float = 0.0
    steps_run: int = 0
    scenario: Scenario | None = None

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, ERROR, XPASSED)


class StepFailed(Exception):
    def __init__(self, text: str, short: str):
        super().__init__(text)
        self.text = text
        self.short = short


def normalize_raw(text: str) -> str:
    """A SIP message written in YAML (LF line ends) -> CRLF, with the blank line after the headers."""
    if "\r\n" not in text:
        text = text.replace("\n", "\r\n")
    text = text.lstrip("\r\n")
    head, sep, body = text.partition("\r\n\r\n")
    if not sep:
        return text.rstrip("\r\n") + "\r\n\r\n"
    return text


class Runner:
    """Runs scenarios.

    ``redis``: None (each scenario's ``redis.mode``, embedded by default) or a mode that
    overrides it (``embedded``, ``cfg`` or a ``redis://`` URL; with a URL or ``cfg`` the
    servers' databases are FLUSHDB'ed before each scenario). ``coverage``: a
    :class:`~kscript.testing.coverage.Coverage` to feed. ``trace_dir``: write a cfgt
    JSON per message there.
    """

    def __init__(self, redis: str | None = None, coverage=None, trace_dir: str | None = None):
        self.redis = redis
        self.coverage = coverage
        self.trace_dir = trace_dir

    # ------------------------------------------------------------ discovery
    def collect(self, paths) -> list[Scenario | ScenarioResult]:
        """Scenarios of the given files/directories; a file that fails to load gives an
        ``error`` result instead."""
        out: list[Scenario | ScenarioResult] = []
        for f in find_scenarios(paths):
            try:
                out.extend(load_file(f))
            except ScenarioFileError as e:
                line = e.errors[0].line or 1 if e.errors else 1
                out.append(ScenarioResult(f, os.path.basename(f), line, ERROR,
                                          message=str(e.errors[0]) if e.errors else "invalid scenario file",
                                          details=str(e)))
        return out

    def run_paths(self, paths, on_result=None) -> list[ScenarioResult]:
        results = []
        for item in self.collect(paths):
            r = item if isinstance(item, ScenarioResult) else self.run(item)
            results.append(r)
            if on_result is not None:
                on_result(r)
        return results

    # ------------------------------------------------------------ one scenario
    def skip_reason(self, sc: Scenario) -> str | None:
        if sc.skip:
            return sc.skip
        from ..modules import registry
        missing = [m for m in sc.requires if registry.module_class(m) is None]
        if missing:
            return (f"needs kscript module{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                    f"(not emulated by this kscript yet)")
        if any(st.kind == "reply" for st in sc.steps):
            from ..script import Script
            if not hasattr(Script, "feed_reply"):
                return "needs Script.feed_reply (replies to relayed branches: the tm emulation)"
        return None

    def run(self, sc: Scenario) -> ScenarioResult:
        t0 = time.perf_counter()
        res = ScenarioResult(sc.file, sc.name, sc.line, PASSED, scenario=sc)
        reason = self.skip_reason(sc)
        if reason:
            res.status, res.message = SKIPPED, reason
            return res
        try:
            res.steps_run = self._play(sc)
        except StepFailed as e:
            res.status, res.message, res.details = FAILED, e.short, e.text
        except KscriptError as e:
            res.status, res.message = ERROR, str(e).split("\n", 1)[0]
            res.details = f"{sc.file}:{sc.line}: scenario {sc.name!r} could not run:\n{_indent(str(e))}"
        if sc.xfail:
            if res.status in (FAILED, ERROR):
                res.status, res.message = XFAILED, f"{sc.xfail} ({res.message})"
            elif res.status == PASSED:
                res.status, res.message = XPASSED, f"expected to fail ({sc.xfail}) but passed"
                res.details = f"{sc.file}:{sc.line}: {res.message}"
        res.duration = time.perf_counter() - t0
        return res

    def load_script(self, sc: Scenario, tracer):
        import kscript
        mode = self.redis or sc.redis_mode or "embedded"
        clock = Clock(sc.clock)
        script = kscript.load(sc.config, defines=sc.defines, redis=mode, clock=clock, tracer=tracer)
        return script, clock, mode

    def _play(self, sc: Scenario) -> int:
        from ..runtime.tracing import MultiTracer
        need_snapshot = bool(self.trace_dir) or any(
            isinstance(e, dict) and any(v for v in e.values())
            for st in sc.steps for grp in (st.expect, st.expect.get("not") or {})
            for e in (grp.get("flow") or []))
        tracer = RunTracer(snapshot=need_snapshot)
        cov = self.coverage
        script, clock, mode = self.load_script(sc, MultiTracer(tracer, cov) if cov is not None else tracer)
        tracer.script = script
        if cov is not None:
            cov.add_script(script)
        try:
            self._prepare(sc, script, mode)
            state = _PlayState()
            n = 0
            for step in sc.steps:
                for rep in range(step.repeat):
                    state.rep = rep
                    self._step(sc, step, script, clock, tracer, state)
                    n += 1
            return n
        finally:
            script.close()

    def _prepare(self, sc: Scenario, script, mode: str) -> None:
        servers = redis_server_names(script) if "ndb_redis" in script.modules else []
        if mode != "embedded":
            for name in servers:  # a real server: start from an empty database
                script.redis(name).flushdb()
        if sc.redis_seed_file:
            if not hasattr(script, "seed_redis"):
                raise KscriptError("redis.seed_file needs Script.seed_redis (the ndb_redis emulation)")
            script.seed_redis(sc.redis_seed_file)
        seed = sc.redis_seed
        if seed:
            per_server = seed if isinstance(seed, dict) else {sc.redis_server: seed}
            for server, cmds in per_server.items():
                try:
                    client = redis_client(script, server)
                except LookupError as e:
                    raise KscriptError(f"{sc.file}: redis.seed: {e}") from None
                for cmd in cmds:
                    args = shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
                    try:
                        client.execute_command(*args)
                    except Exception as e:
                        raise KscriptError(f"{sc.file}: redis.seed: {' '.join(args)!r} failed: {e}") from None
        for name, spec in sc.mocks.items():
            if isinstance(spec, dict):
                script.mock(name, returns=spec.get("returns", 1), sets=dict(spec.get("sets") or {}),
                            headers=spec.get("headers"),
                            side_effect=_reply_side_effect(spec["reply"]) if spec.get("reply") else None)
            else:
                script.mock(name, returns=list(spec) if isinstance(spec, list) else spec)

    # ------------------------------------------------------------ one step
    def _step(self, sc: Scenario, step: Step, script, clock: Clock, tracer: RunTracer, state: "_PlayState"):
        rec = tracer.begin()
        mocks_before = {n: len(m.calls) for n, m in script.mocks.items()}
        results = []
        sip_in = []
        src = None
        try:
            if step.kind == "send":
                text, src = self._build_request(sc, step, state)
                sip_in.append(text)
                results.append(script.process(text, src=src))
            elif step.kind == "reply":
                text = self._build_reply(sc, step, state)
                sip_in.append(text)
                r = script.feed_reply(text)
                if r is not None:
                    results.extend(r if isinstance(r, (list, tuple)) else [r])
            else:
                now = clock.advance(step.data)
                results.extend(run_timers(script, now))
        except KscriptError as e:
            raise StepFailed(self._explain(sc, step, script, rec, results, sip_in, src,
                                           [Failure("error", str(e))], rep=state.rep),
                             f"step {step.index + 1}: {e}") from None
        exp = step.expect
        # the cfgt flow is worked out from what ran only when something reads it
        want_flow = bool(exp) and ("flow" in exp or "flow" in (exp.get("not") or {}))
        view = StepView(script=script, mock_calls_before=mocks_before, redis_server=sc.redis_server,
                        flow=list(rec.flow) if want_flow else [], routes=rec.entered)
        for r in results:
            view.sent.extend(r.sent)
            view.log.extend(r.log)
            view.dropped = view.dropped or r.dropped
            view.exit_code = r.exit_code
        for s in view.requests:
            state.last_relayed = s
        for s in view.replies:
            if "authenticate" not in s.text.lower():  # (no need to parse the reply)
                continue
            for hname in ("www-authenticate", "proxy-authenticate"):
                v = s.header(hname)
                if v:
                    state.last_challenge = (hname, v)
        state.msg_count += 1 if sip_in or results else 0
        if self.trace_dir and (sip_in or results):
            state.msgid += 1
            write_cfgt_json(self.trace_dir, sc.slug, state.msgid, rec.flow, sip_in, [s.text for s in view.sent])
        failures = evaluate(step.expect, view, lambda ks: line_of(step.doc, ["expect"] + ks)) if step.expect else []
        if failures:
            rep = f", repetition {state.rep + 1} of {step.repeat}" if step.repeat > 1 else ""
            short = f"step {step.index + 1}{rep} ({step.describe()}): {failures[0]}"
            raise StepFailed(self._explain(sc, step, script, rec, results, sip_in, src, failures, view,
                                           rep=state.rep), short)

    def _build_request(self, sc: Scenario, step: Step, state: "_PlayState") -> tuple[str, str]:
        from ..sip import builder
        d = step.data
        src = step.src or (d.get("src") if isinstance(d, dict) else None) or sc.src
        if isinstance(d, str):
            return normalize_raw(d), src
        if "raw" in d:
            return normalize_raw(d["raw"]), src
        state.sends += 1
        n = state.sends
        kw: dict[str, Any] = dict(
            from_=d.get("from"), to=d.get("to"), headers=d.get("headers"), body=(d.get("body") or ""),
            call_id=d.get("call_id") or f"kst-{sc.index + 1}-{n}@kscript.test", cseq=int(d.get("cseq", 1)),
            via=d.get("via"), contact=d.get("contact"), src=src,
            branch=d.get("branch") or f"z9hG4bKkst{sc.index + 1}s{n}", from_tag=d.get("from_tag") or f"kstf{n}")
        if kw["body"] and "\r\n" not in kw["body"]:
            kw["body"] = kw["body"].replace("\n", "\r\n")
        if d.get("auth"):
            if state.last_challenge is None:
                raise KscriptError(f"{sc.file}:{step.line}: send.auth: no 401/407 challenge was sent before this step")
            hname, challenge = state.last_challenge
            value = digest_authorization(challenge, d["method"], d["ruri"], d["auth"]["username"],
                                         d["auth"]["password"])
            extra = list(_header_pairs(kw["headers"]))
            extra.append(("Authorization" if hname == "www-authenticate" else "Proxy-Authorization", value))
            kw["headers"] = extra
        try:
            return builder.request(d["method"], d["ruri"], **kw), src
        except (ValueError, KscriptError) as e:
            raise KscriptError(f"{sc.file}:{step.line}: cannot build the request: {e}") from None

    def _build_reply(self, sc: Scenario, step: Step, state: "_PlayState") -> str:
        from ..sip import builder
        d = step.data
        if isinstance(d, str):
            return normalize_raw(d)
        if isinstance(d, dict) and "raw" in d:
            return normalize_raw(d["raw"])
        req = state.last_relayed
        if req is None:
            raise KscriptError(f"{sc.file}:{step.line}: a reply step needs a relayed request before it "
                               f"(no request was forwarded so far)")
        spec = {"status": d} if isinstance(d, int) else d
        status = int(spec["status"])
        tag = spec.get("to_tag") or state.to_tags.setdefault(id(req), f"kstt{len(state.to_tags) + 1}")
        body = spec.get("body") or ""
        if body and "\r\n" not in body:
            body = body.replace("\n", "\r\n")
        return builder.reply(req.text, status, spec.get("reason") or DEFAULT_REASONS.get(status, "Unknown"),
                             headers=spec.get("headers"), body=body, to_tag=tag)

    # ------------------------------------------------------------ explaining a failure
    def _explain(self, sc, step, script, rec, results, sip_in, src, failures, view=None, rep=0) -> str:
        return explain_failure(sc, step, script, rec, sip_in, src, failures, view, results, rep=rep)


def _header_pairs(headers):
    if not headers:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    out = []
    for h in headers:
        name, _, value = h.partition(":")
        out.append((name.strip(), value.strip()))
    return out


def _challenge_params(value: str) -> dict:
    import re
    text = value.strip()
    if text.lower().startswith("digest"):
        text = text[6:]
    return {k.lower(): (v1 if v1 is not None and v1 != "" or v2 == "" else v2)
            for k, v1, v2 in re.findall(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', text)}


def digest_authorization(challenge: str, method: str, uri: str, username: str, password: str,
                         nc: int = 1, cnonce: str = "kstcnonce") -> str:
    """The Authorization value answering a ``Digest`` challenge (RFC 2617, MD5; qop=auth when offered)."""
    from hashlib import md5
    p = _challenge_params(challenge)
    realm, nonce = p.get("realm", ""), p.get("nonce", "")
    h = lambda t: md5(t.encode()).hexdigest()  # noqa: E731
    ha1 = h(f"{username}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    qops = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in qops:
        ncs = f"{nc:08x}"
        resp = h(f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
        parts += [f'response="{resp}"', "qop=auth", f"nc={ncs}", f'cnonce="{cnonce}"']
    else:
        parts.append(f'response="{h(f"{ha1}:{nonce}:{ha2}")}"')
    if "opaque" in p:
        parts.append(f'opaque="{p["opaque"]}"')
    parts.append("algorithm=MD5")
    return "Digest " + ", ".join(parts)


def _reply_side_effect(spec: dict):
    """A mock side effect sending a stateless reply (with extra headers) through sl."""
    status = int(spec["status"])
    reason = spec.get("reason") or DEFAULT_REASONS.get(status, "Unknown")
    headers = [h.rstrip("\r\n") + "\r\n" for h in spec.get("headers") or []]

    def side_effect(ctx, *args):
        sl = ctx.script.modules.get("sl")
        if sl is None or not hasattr(sl, "stateless_reply"):
            raise KscriptError("a mock with 'reply:' needs the sl module (loadmodule \"sl.so\")")
        for h in headers:
            try:
                from ..sip.lumps import add_reply_lump
                add_reply_lump(ctx, h)
            except ImportError:  # older kscript: plain strings
                ctx.reply_lumps.append(h)
        sl.stateless_reply(ctx, status, reason)
        return None  # the mock's `returns` is the function's result

    return side_effect


@dataclass
class _PlayState:
    last_relayed: Any = None
    to_tags: dict = field(default_factory=dict)
    msgid: int = 0
    msg_count: int = 0
    sends: int = 0  # requests built so far (unique Call-ID/branch/tag per send)
    last_challenge: Any = None  # (header name, value) of the last 401/407 challenge sent
    rep: int = 0  # repetition of the current step (repeat:)


# ---------------------------------------------------------------- failure text
def _indent(text: str, pre: str = "  ") -> str:
    return "\n".join(pre + ln if ln else ln for ln in text.split("\n"))


def format_lines_ran(positions, smap=None, last: int = 6) -> list[str]:
    """``file: 12-15, 20, 31-33`` per file (execution order of first visit), then the
    source of the last statements that ran."""
    per_file: dict[str, set[int]] = {}
    for p in positions:
        per_file.setdefault(p.file, set()).add(p.line)
    out = []
    for f, lines in per_file.items():
        out.append(f"  {_short(f)}: {_ranges(sorted(lines))}")
    if positions and smap is not None:
        out.append("last statements that ran:")
        seen = []
        for p in reversed(positions):
            if (p.file, p.line) not in seen:
                seen.append((p.file, p.line))
            if len(seen) >= last:
                break
        for f, ln in reversed(seen):
            src = smap.source_line(_Pos(f, ln)) or ""
            out.append(f"  {_short(f)}:{ln}: {src.strip()}")
    return out


class _Pos:
    __slots__ = ("file", "line")

    def __init__(self, file, line):
        self.file, self.line = file, line


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("../../") else path


def _ranges(nums: list[int]) -> str:
    out = []
    start = prev = None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(out)


def explain_failure(sc, step, script, rec, sip_in, src, failures, view=None, results=(), rep=0) -> str:
    where = f"{sc.file}:{step.line}"
    again = f" (repetition {rep + 1} of {step.repeat})" if step.repeat > 1 else ""
    lines = [f"{where}: scenario {sc.name!r}, step {step.index + 1} of {len(sc.steps)}{again}: {step.describe()}"]
    for f in failures:
        at = f" (line {f.line})" if f.line else ""
        lines.append(f"  FAILED {f.key}{at}: {f.message.split(': ', 1)[-1] if f.key == 'error' else f.message}")
    lines.extend(describe_activity(sip_in, src, view.sent if view else [s for r in results for s in r.sent],
                                   view.log if view else [x for r in results for x in r.log],
                                   [n for n, _ in rec.flow], rec.lines, getattr(script, "smap", None)))
    return "\n".join(lines)


def describe_activity(sip_in, src, sent, log, flow, positions, smap) -> list[str]:
    """The 'what happened' part shared by scenario failures and assertion helpers."""
    lines = []
    for text in sip_in:
        lines.append(f"received{' from ' + src if src else ''}:")
        lines.extend("  | " + ln for ln in text.rstrip("\r\n").split("\r\n"))
    lines.append("sent:" if sent else "sent: nothing")
    for s in sent:
        lines.append(f"  -> {s.kind} to {s.dst}: {s.text.split(chr(13), 1)[0]}")
    lines.append("log:" if log else "log: nothing")
    for r in log[-30:]:
        pos = f" [{_short(r.pos.file)}:{r.pos.line}]" if r.pos is not None else ""
        src_ = "" if r.source == "script" else f" <{r.source}>"
        lines.append(f"  {r.level:<6}{src_} {r.text.rstrip()}{pos}")
    if flow:
        lines.append("route flow (cfgt): " + ", ".join(flow))
    if positions:
        lines.append("cfg lines that ran:")
        lines.extend(format_lines_ran(positions, smap))
    else:
        lines.append("cfg lines that ran: none")
    return lines


def summary_line(results: list[ScenarioResult]) -> str:
    """``N passed, M failed`` (``, K skipped`` when some were skipped or xfailed)."""
    passed = sum(1 for r in results if r.status == PASSED)
    failed = sum(1 for r in results if r.failed)
    skipped = sum(1 for r in results if r.status in (SKIPPED, XFAILED))
    text = f"{passed} passed, {failed} failed"
    if skipped:
        text += f", {skipped} skipped"
    return text
