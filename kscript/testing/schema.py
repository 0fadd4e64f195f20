"""The JSON schema of ``*.kst.yaml`` scenario files, and validation with ``file:line`` errors.

Every document of a scenario file is validated before anything runs; an error
names the file and the line of the offending key or value::

    tests/options.kst.yaml:14: steps[0].expect.reply.status: 'two hundred' is not valid ...

``SCHEMA`` is a plain JSON Schema (draft 2020-12); ``python -m kscript.testing.schema``
prints it, e.g. for an editor's YAML plugin.

Documents are checked by code generated from ``SCHEMA`` (:mod:`kscript.testing.schemagen`,
committed as ``_schema_fast.py``: regenerate it after editing ``SCHEMA``); jsonschema is
imported only to explain a document that check rejects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .yamlsrc import key_line, line_of

__all__ = ["SCHEMA", "SchemaError", "validate_document"]

_scalar = {"type": ["string", "number", "integer", "boolean", "null"]}
_str_or_regex = {"type": "string", "description": "exact text, or /regex/ (searched)"}
_headers_expect = {
    "type": "object",
    "description": "header name -> expected value (exact or /regex/); null = header absent",
    "additionalProperties": {"type": ["string", "integer", "null"]},
}
_headers_in = {
    "description": "extra headers: a mapping, or a list of 'Name: value' strings",
    "oneOf": [
        {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        {"type": "array", "items": {"type": "string"}},
    ],
}
_status = {"oneOf": [{"type": "integer", "minimum": 100, "maximum": 699},
                     {"type": "string", "pattern": r"^([1-6][0-9xX]{2}|/.+/)$"}],
           "description": "a status code, a class like 4xx / 18x, or a /regex/"}
_reply_match = {
    "oneOf": [
        _status,
        {"type": "object", "additionalProperties": False, "properties": {
            "status": _status, "reason": _str_or_regex, "headers": _headers_expect,
            "body": _str_or_regex, "dst": _str_or_regex}},
    ]
}
_request_match = {
    "type": "object", "additionalProperties": False, "properties": {
        "method": _str_or_regex, "ruri": _str_or_regex, "dst": _str_or_regex,
        "headers": _headers_expect, "body": _str_or_regex},
}
_log_one = {
    "oneOf": [
        {"type": "string", "description": "a substring of a log line, or /regex/"},
        {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
            "text": {"type": "string"}, "regex": {"type": "string"},
            "level": {"enum": ["ALERT", "BUG", "CRIT", "ERR", "WARN", "NOTICE", "INFO", "DBG"]},
            "source": {"type": "string"}}},
    ]
}
_redis_value = {"description": "null = no such key; text/number = string value; list = list/set/zset "
                               "members; mapping = hash fields, or {ttl: N} / {type: T}",
                "type": ["string", "number", "integer", "null", "array", "object"]}
_flow_entry = {
    "oneOf": [
        {"type": "string", "pattern": r"^(start|return|exit|drop)\|.+$"},
        {"type": "object", "minProperties": 1, "maxProperties": 1,
         "propertyNames": {"pattern": r"^(start|return|exit|drop)\|.+$"},
         "additionalProperties": {"type": "object", "additionalProperties": _scalar}},
    ]
}


def _expect_props(negatable: bool) -> dict:
    props = {
        "reply": {"description": "a reply matching this was sent", **_reply_match},
        "replies": {"description": "all replies, in order (or their number)",
                    "oneOf": [{"type": "integer", "minimum": 0}, {"type": "array", "items": _reply_match}]},
        "forward": {"description": "a request matching this was forwarded", **_request_match},
        "forwards": {"description": "all forwarded requests, in order (or their number)",
                     "oneOf": [{"type": "integer", "minimum": 0}, {"type": "array", "items": _request_match}]},
        "sent": {"type": "integer", "minimum": 0, "description": "number of messages sent"},
        "log": {"oneOf": [_log_one, {"type": "array", "items": _log_one}]},
        "pv": {"type": "object", "description": "PV text -> value after the step (null = unset)",
               "propertyNames": {"pattern": r"^\$"}, "additionalProperties": _scalar},
        "redis": {"type": "object", "description": "key -> expected value after the step",
                  "additionalProperties": _redis_value},
        "redis_ttl": {"type": "object", "description": "key -> TTL in seconds after the step "
                                                       "(-1 = no expiry, -2 = no such key)",
                      "additionalProperties": {"type": "integer"}},
        "flow": {"type": "array", "items": _flow_entry,
                 "description": "the cfgt route flow: start|R, return|R, exit|R, drop|R entries, in order"},
        "routes": {"type": "array", "items": {"type": "string"},
                   "description": "routes entered, in this order (others may come between)"},
        "dropped": {"type": "boolean"},
        "exit_code": {"type": "integer"},
        "mock_calls": {"type": "object", "description": "function -> number of calls in this step, "
                                                        "or the list of their argument lists",
                       "additionalProperties": {"oneOf": [{"type": "integer", "minimum": 0},
                                                          {"type": "array", "items": {"type": "array"}}]}},
    }
    if negatable:
        props["not"] = {"type": "object", "additionalProperties": False, "properties": _expect_props(False),
                        "description": "each expectation here must NOT hold"}
    return props


_send = {
    "oneOf": [
        {"type": "string", "description": "the raw SIP message"},
        {"type": "object", "additionalProperties": False, "properties": {
            "raw": {"type": "string"}, "method": {"type": "string"}, "ruri": {"type": "string"},
            "from": {"type": "string"}, "to": {"type": "string"}, "headers": _headers_in,
            "body": {"type": "string"}, "call_id": {"type": "string"}, "cseq": {"type": "integer"},
            "contact": {"type": "string"}, "via": {"type": ["string", "array"]},
            "branch": {"type": "string"}, "from_tag": {"type": "string"}, "src": {"type": "string"},
            "auth": {"type": "object", "additionalProperties": False, "required": ["username", "password"],
                     "description": "answer the last 401/407 challenge kscript sent with digest credentials "
                                    "(Authorization / Proxy-Authorization)",
                     "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}},
         "description": "fields the SIP builder completes (method and ruri required), or raw"},
    ]
}
_reply = {
    "oneOf": [
        {"type": "integer", "minimum": 100, "maximum": 699},
        {"type": "string", "description": "the raw reply"},
        {"type": "object", "additionalProperties": False, "properties": {
            "raw": {"type": "string"}, "status": {"type": "integer", "minimum": 100, "maximum": 699},
            "reason": {"type": "string"}, "headers": _headers_in, "body": {"type": "string"},
            "to_tag": {"type": "string"}}},
    ]
}
_step = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "send": _send,
        "reply": _reply,
        "advance": {"type": ["number", "string"], "description": "seconds, or 250ms / 30s / 5m / 2h / 1d"},
        "src": {"type": "string", "description": "where the message comes from: proto:ip:port"},
        "repeat": {"type": "integer", "minimum": 1, "description": "do this step N times (each checked)"},
        "expect": {"type": "object", "additionalProperties": False, "properties": _expect_props(True)},
    },
}
_mock = {
    "oneOf": [
        {"type": "integer"},
        {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        {"type": "object", "additionalProperties": False, "properties": {
            "returns": {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1}]},
            "sets": {"type": "object", "propertyNames": {"pattern": r"^\$"}, "additionalProperties": _scalar},
            "headers": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "reply": {"type": "object", "additionalProperties": False, "required": ["status"],
                      "description": "each call also sends this stateless reply (like sl_send_reply), "
                                     "e.g. the 401/407 of a mocked auth_challenge",
                      "properties": {"status": {"type": "integer", "minimum": 100, "maximum": 699},
                                     "reason": {"type": "string"},
                                     "headers": {"type": "array", "items": {"type": "string"}}}}}},
    ]
}
_seed_cmds = {"type": "array", "items": {"oneOf": [
    {"type": "string"}, {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1}]}}

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://kscript.invalid/schemas/kst.schema.json",
    "title": "kscript scenario (*.kst.yaml document)",
    "type": "object",
    "additionalProperties": False,
    "required": ["config", "steps"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "config": {"type": "string", "description": "the kamailio.cfg, relative to this file"},
        "defines": {"oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": ["string", "integer", "null"]}}]},
        "requires": {"type": "array", "items": {"type": "string"},
                     "description": "kscript modules this scenario needs; skipped until they are emulated"},
        "skip": {"type": "string"},
        "xfail": {"type": "string"},
        "clock": {"type": ["number", "string"], "description": "start time: epoch seconds or ISO 8601"},
        "src": {"type": "string", "description": "default source of sent messages (proto:ip:port)"},
        "redis": {"type": "object", "additionalProperties": False, "properties": {
            "mode": {"type": "string", "description": "embedded (default), cfg, or a redis:// URL"},
            "server": {"type": "string", "description": "the ndb_redis server seeds/expectations use"},
            "seed": {"oneOf": [_seed_cmds, {"type": "object", "additionalProperties": _seed_cmds}]},
            "seed_file": {"type": "string"}}},
        "mocks": {"type": "object", "additionalProperties": _mock},
        "steps": {"type": "array", "minItems": 1, "items": _step},
    },
}


@dataclass
class SchemaError(Exception):
    """A scenario document that does not follow the format."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def _path_text(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(document)"


_VALIDATOR = None
_FAST_CHECK = None


def _validator():
    """The jsonschema validator (built and the schema checked once per process); only
    needed to explain a document :func:`_fast_check` rejects."""
    global _VALIDATOR
    if _VALIDATOR is None:
        from jsonschema import Draft202012Validator
        Draft202012Validator.check_schema(SCHEMA)
        _VALIDATOR = Draft202012Validator(SCHEMA)
    return _VALIDATOR


def _fast_check():
    """``is_valid(doc) -> bool``, jsonschema's verdict without its cost (see
    :mod:`kscript.testing.schemagen`): the committed generated module, or the same
    code generated now when the schema changed since it was generated."""
    global _FAST_CHECK
    if _FAST_CHECK is None:
        from . import _schema_fast
        from .schemagen import schema_hash
        if _schema_fast.SCHEMA_HASH == schema_hash(SCHEMA):
            _FAST_CHECK = _schema_fast.is_valid
        else:  # pragma: no cover - a schema edited without regenerating _schema_fast.py
            from .schemagen import generate
            ns: dict = {}
            exec(compile(generate(SCHEMA), "<kscript.testing.schemagen>", "exec"), ns)
            _FAST_CHECK = ns["is_valid"]
    return _FAST_CHECK


def _deepest(err):
    while err.context:
        # a oneOf: explain with the alternative that got furthest into the value
        # (deepest path), preferring anything over a plain type mismatch
        nxt = max(err.context, key=lambda e: (len(e.absolute_path), e.validator != "type",
                                              e.validator not in ("oneOf", "anyOf")))
        err = nxt
    return err


def validate_document(doc, file: str) -> list[SchemaError]:
    """All schema violations of one document, each with its line (sorted by line)."""
    if not isinstance(doc, dict):
        return [SchemaError(file, getattr(doc, "line", None) or 1,
                            "a scenario must be a mapping (config:, steps:, ...)")]
    out: list[SchemaError] = []
    for err in (() if _fast_check()(doc) else _validator().iter_errors(doc)):
        e = _deepest(err)
        path = list(e.absolute_path)
        line = line_of(doc, path)
        msg = e.message
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            allowed = set((e.schema.get("properties") or {}).keys())
            extra = [k for k in e.instance if k not in allowed]
            if extra:
                line = key_line(e.instance, extra[0], line)
                known = ", ".join(sorted(allowed)) if allowed else "none"
                msg = f"unknown key {extra[0]!r} (known here: {known})"
                path = path + [extra[0]]
        elif e.validator == "required":
            msg = e.message.replace("is a required property", "is required")
        out.append(SchemaError(file, line, f"{_path_text(path)}: {msg}"))
    # Rules JSON Schema cannot say readably: one action per step.
    steps = doc.get("steps")
    if isinstance(steps, list):
        for i, st in enumerate(steps):
            if not isinstance(st, dict):
                continue
            acts = [k for k in ("send", "reply", "advance") if k in st]
            if len(acts) != 1:
                line = line_of(doc, ["steps", i])
                what = "none" if not acts else " and ".join(acts)
                out.append(SchemaError(file, line, f"steps[{i}]: a step does exactly one of send, reply, "
                                                   f"advance (found {what})"))
            snd = st.get("send")
            if isinstance(snd, dict) and "raw" not in snd and not ("method" in snd and "ruri" in snd):
                out.append(SchemaError(file, line_of(doc, ["steps", i, "send"]),
                                       f"steps[{i}].send: give raw, or at least method and ruri"))
    # unique, deterministic order
    seen = set()
    uniq = []
    for e in sorted(out, key=lambda e: (e.line or 0, e.message)):
        if (e.line, e.message) not in seen:
            seen.add((e.line, e.message))
            uniq.append(e)
    return uniq


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(SCHEMA, indent=2))
