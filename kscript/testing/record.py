"""Approval testing: run messages through a cfg and write a scenario whose
expectations are what kscript observed (``kscript record CFG --msg FILE... -o OUT``).

Review the file, trim what you do not care about (e.g. log lines), commit it;
``kscript test`` then fails when the routing logic starts behaving differently.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from .clock import DEFAULT_START, Clock
from .runner import normalize_raw
from .trace import RunTracer

__all__ = ["record", "observed_expectations", "dump_yaml"]


class _Dumper(yaml.SafeDumper):
    pass


def _str_repr(dumper, data: str):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_repr)


def _flow_seq(dumper, data):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


class _Inline(list):
    """A list written on one line."""


_Dumper.add_representer(_Inline, _flow_seq)


def dump_yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def observed_expectations(results, step_record, mocks: dict | None = None, mock_before: dict | None = None,
                          max_log: int = 20) -> dict:
    """The ``expect:`` mapping describing exactly what happened in a step."""
    sent = [s for r in results for s in r.sent]
    logs = [x for r in results for x in r.log]
    replies = [s for s in sent if s.kind == "reply"]
    reqs = [s for s in sent if s.kind == "request"]
    exp: dict[str, Any] = {}
    exp["replies"] = [{"status": s.status, "reason": s.reason} for s in replies] if replies else 0
    exp["forwards"] = [{"method": s.method, "ruri": s.ruri, "dst": str(s.dst)} for s in reqs] if reqs else 0
    if logs:
        exp["log"] = [{"level": r.level, "text": r.text.rstrip("\n")} for r in logs[:max_log]]
    if step_record is not None and step_record.flow:
        exp["flow"] = _Inline(step_record.flow_names())
    if any(r.dropped for r in results):
        exp["dropped"] = True
    if mocks:
        calls = {}
        for name, m in mocks.items():
            new = m.calls[(mock_before or {}).get(name, 0):]
            calls[name] = [_Inline(list(c.args)) for c in new] if new else 0
        exp["mock_calls"] = calls
    return exp


def record(cfg: str, steps: list[tuple[str, str]], *, defines=(), src: str = "udp:127.0.0.1:5060",
           mocks: dict | None = None, redis: str = "embedded", redis_seed: str | None = None,
           out: str | None = None, name: str | None = None, clock_start: float = DEFAULT_START) -> str:
    """Run ``steps`` (``("msg"|"reply", text)``) and return the scenario YAML.

    ``out`` is where the scenario will be written (the config path is made relative
    to it); ``mocks`` maps function -> return value (or :meth:`Script.mock` kwargs)."""
    import kscript

    clock = Clock(clock_start)
    tracer = RunTracer()
    script = kscript.load(cfg, defines=list(defines), redis=redis, clock=clock, tracer=tracer)
    tracer.script = script
    mock_objs = {}
    try:
        for mname, spec in (mocks or {}).items():
            mock_objs[mname] = script.mock(mname, **(spec if isinstance(spec, dict) else {"returns": spec}))
        if redis_seed:
            script.seed_redis(redis_seed)
        doc_steps = []
        for kind, text in steps:
            text = normalize_raw(text)
            rec = tracer.begin()
            before = {n: len(m.calls) for n, m in mock_objs.items()}
            if kind == "reply":
                if not hasattr(script, "feed_reply"):
                    raise kscript.KscriptError("--reply needs Script.feed_reply (the tm emulation)")
                r = script.feed_reply(text)
                results = [] if r is None else (list(r) if isinstance(r, (list, tuple)) else [r])
                step: dict[str, Any] = {"reply": text.replace("\r\n", "\n")}
            else:
                results = [script.process(text, src=src)]
                step = {"send": text.replace("\r\n", "\n")}
                if src != "udp:127.0.0.1:5060":
                    step["src"] = src
            step["expect"] = observed_expectations(results, rec, mock_objs, before)
            doc_steps.append(step)
    finally:
        script.close()
    base = os.path.dirname(os.path.abspath(out)) if out else os.getcwd()
    cfg_rel = os.path.relpath(os.path.abspath(cfg), base)
    doc: dict[str, Any] = {"name": name or f"recorded from {os.path.basename(cfg)}", "config": cfg_rel}
    if defines:
        doc["defines"] = list(defines)
    if clock_start != DEFAULT_START:
        doc["clock"] = clock_start
    if mocks:
        doc["mocks"] = {k: v for k, v in mocks.items()}
    if redis_seed:
        doc["redis"] = {"seed_file": os.path.relpath(os.path.abspath(redis_seed), base)}
    doc["steps"] = doc_steps
    header = ("# Recorded by `kscript record`: the expectations are what kscript observed.\n"
              "# Review them (drop what you do not care about), then commit this file.\n")
    return header + dump_yaml(doc)
