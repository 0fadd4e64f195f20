"""Shared helpers of the Kamailio conformance harness.

Used by both ``tools/record_conformance.py`` (which drives the real Kamailio
5.6 binary and writes ``golden.json``) and ``tests/conformance/test_conformance.py``
(which replays the same steps through kscript), so that both sides read the
case description the same way and build byte-identical replies for the fake
next hops ("sinks").

A case is a directory ``tests/conformance/cases/<name>/`` holding:

* ``case.cfg``   -- a complete Kamailio config (no ``listen`` other than 127.0.0.1;
  the recorder passes ``-l udp:127.0.0.1:5060``);
* ``*.sip``      -- plain SIP messages (LF or CRLF; always sent with CRLF);
* ``case.yaml``  -- the description, see ``load_case`` below;
* ``golden.json`` -- written by the recorder.

case.yaml keys (all optional except ``steps``)::

    description: free text
    defines: [WITH_FOO, "LIMIT=3"]         # passed as -A to kamailio / defines= to kscript
    kamailio_args: ["--alias=example.com"] # extra kamailio command-line options
    redis: true | {port: 6391}             # start redis-server (port: explicit, or the
                                           # first "port=NNNN" found in case.cfg)
    sinks: ["udp:127.0.0.1:5091"]          # extra endpoints; udp:127.0.0.1:5090 always exists
    answer:                                # case-wide default answers (see "answers" below)
      udp:127.0.0.1:5090: [100, 486]
    settle: 0.3                            # quiet time that ends a step (seconds)
    compare:
      module_logs: false | true | [tm, sl, core]   # also compare non-script log lines
      log_prefix: false                    # also compare the log_prefix part of log lines
      masks: ["regex", {regex: "...", replace: "..."}]  # applied to both sides
      redis: true                          # compare the redis keyspace (default: when recorded)
    steps:
      - send: invite.sip                   # message file in the case directory
        src: udp:127.0.0.1:5080            # default
        sink_replies: [100, 486]           # shorthand for answer: {udp:127.0.0.1:5090: [...]}
        answer: {udp:127.0.0.1:5091: [180, 200]}  # merged over the case-wide "answer"
        wait: 1.0                          # minimum time to collect (seconds), default 0

Answers: for every *request* (ACKs excepted) that arrives at an endpoint
during a step, the endpoint's answer list is sent back, in order, to the
address the request came from.  A list item is a status code (int) or a
mapping ``{code: 200, reason: "OK", headers: ["X-A: 1"], body: "...",
contact: true, reply_to: INVITE}``.  ``reply_to`` answers an earlier request
instead of the one just received: the latest request with that method which the
endpoint received in this case with the same Call-ID and top-Via branch (so a
sink receiving a CANCEL can send 200 for the CANCEL and 487 for the INVITE, built
from the INVITE with all its Vias).  Instead of a list, a mapping from method name to list may be
given (``{INVITE: [100, 486], CANCEL: [200], "*": [200]}``).  Built replies copy
all Via headers, Record-Route (for 101-299), From, Call-ID and CSeq, copy To
and add ``;tag=<endpoint tag>`` for codes above 100 when the To has no tag, add a
Contact for 101-299 replies to INVITE/SUBSCRIBE/REFER (or when ``contact: true``),
then the extra headers and ``Content-Length``.  The To tag of an endpoint is
deterministic: ``sink<port>`` (for example ``sink5090``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFORMANCE_DIR = Path(__file__).resolve().parent
CASES_DIR = CONFORMANCE_DIR / "cases"

KAMAILIO_ADDR = "udp:127.0.0.1:5060"
DEFAULT_SRC = "udp:127.0.0.1:5080"
DEFAULT_SINK = "udp:127.0.0.1:5090"
DEFAULT_SETTLE = 0.3

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    407: "Proxy Authentication Required", 408: "Request Timeout", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 483: "Too Many Hops", 486: "Busy Here",
    487: "Request Terminated", 488: "Not Acceptable Here", 500: "Server Internal Error",
    503: "Service Unavailable", 600: "Busy Everywhere", 603: "Decline",
}

# Compact header forms (RFC 3261 7.3.3 and friends) that matter here.
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported", "s": "subject",
           "e": "content-encoding"}


def canon_header(name: str) -> str:
    n = name.strip().lower()
    return COMPACT.get(n, n)


def parse_addr(addr: str) -> tuple[str, str, int]:
    """'udp:127.0.0.1:5080' -> ('udp', '127.0.0.1', 5080)."""
    m = re.fullmatch(r"(udp):(\d+\.\d+\.\d+\.\d+):(\d+)", addr.strip())
    if not m:
        raise ValueError(f"bad address {addr!r} (expected udp:IP:PORT)")
    return m.group(1), m.group(2), int(m.group(3))


def fmt_addr(ip: str, port: int, proto: str = "udp") -> str:
    return f"{proto}:{ip}:{port}"


def to_crlf(text: str) -> str:
    """Normalise a message file to CRLF line ends; make sure the header block ends
    with an empty line.  The body keeps its content but also gets CRLF line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n\n" in text:
        head, body = text.split("\n\n", 1)
    else:
        head, body = text.rstrip("\n"), ""
    head = head.rstrip("\n")
    out = head.replace("\n", "\r\n") + "\r\n\r\n"
    if body:
        out += body.replace("\n", "\r\n")
    return out


def split_message(msg: str) -> tuple[str, list[tuple[str, str]], str]:
    """Split SIP text into (first line, [(name, value)], body).  Header folding
    (continuation lines) is joined with a single space."""
    if "\r\n\r\n" in msg:
        head, body = msg.split("\r\n\r\n", 1)
    elif "\n\n" in msg:
        head, body = msg.split("\n\n", 1)
    else:
        head, body = msg, ""
    lines = re.split(r"\r?\n", head)
    first = lines[0]
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            n, v = headers[-1]
            headers[-1] = (n, v + " " + line.strip())
            continue
        if ":" not in line:
            continue
        n, v = line.split(":", 1)
        headers.append((n.strip(), v.strip()))
    return first, headers, body


def is_reply(msg: str) -> bool:
    return msg.startswith("SIP/2.0 ")


def request_method(msg: str) -> str | None:
    if is_reply(msg):
        return None
    return msg.split(" ", 1)[0]


def message_kind(msg: str) -> str:
    return "reply" if is_reply(msg) else "request"


def endpoint_tag(addr: str) -> str:
    return f"sink{parse_addr(addr)[2]}"


def _norm_answer_item(item: Any) -> dict:
    if isinstance(item, int):
        return {"code": item}
    if isinstance(item, dict) and "code" in item:
        return dict(item)
    raise ValueError(f"bad answer item {item!r}")


def answers_for(answer_spec: Any, method: str) -> list[dict]:
    """The replies an endpoint sends to a request with ``method``."""
    if answer_spec is None or method == "ACK":
        return []
    if isinstance(answer_spec, dict):
        lst = answer_spec.get(method, answer_spec.get("*", []))
    else:
        lst = answer_spec
    return [_norm_answer_item(x) for x in (lst or [])]


def _header(msg: str, name: str) -> str | None:
    for n, v in split_message(msg)[1]:
        if canon_header(n) == name:
            return v
    return None


def _top_branch(msg: str) -> str | None:
    via = _header(msg, "via")
    if via is None:
        return None
    m = re.search(r";\s*branch\s*=\s*([^;,\s]+)", via, re.I)
    return m.group(1) if m else None


def find_answered_request(request: str, spec: dict, history: list[str] | None) -> str:
    """The request a reply spec answers: ``request`` itself, or with ``reply_to``
    the latest matching request in ``history`` (oldest first)."""
    method = spec.get("reply_to")
    if not method:
        return request
    cid, br = _header(request, "call-id"), _top_branch(request)
    for old in reversed(history or []):
        if (request_method(old) == method and _header(old, "call-id") == cid
                and _top_branch(old) == br):
            return old
    raise ValueError(f"reply_to {method}: no matching earlier request for\n{request}")


def build_reply(request: str, spec: dict, endpoint: str, history: list[str] | None = None) -> str:
    """Build the reply that endpoint ``endpoint`` sends for ``request`` (see the
    module docstring); ``history`` = requests the endpoint received before, oldest
    first, needed for ``reply_to``."""
    request = find_answered_request(request, spec, history)
    code = int(spec["code"])
    reason = spec.get("reason") or REASONS.get(code, "Unknown")
    first, headers, _ = split_message(request)
    method = first.split(" ", 1)[0]
    out = [f"SIP/2.0 {code} {reason}"]
    for n, v in headers:
        if canon_header(n) == "via":
            out.append(f"Via: {v}")
    if 100 < code < 300:
        for n, v in headers:
            if canon_header(n) == "record-route":
                out.append(f"Record-Route: {v}")
    for n, v in headers:
        if canon_header(n) == "from":
            out.append(f"From: {v}")
    for n, v in headers:
        if canon_header(n) == "to":
            if code > 100 and not re.search(r";\s*tag\s*=", v, re.I):
                v = f"{v};tag={endpoint_tag(endpoint)}"
            out.append(f"To: {v}")
    for n, v in headers:
        if canon_header(n) == "call-id":
            out.append(f"Call-ID: {v}")
    for n, v in headers:
        if canon_header(n) == "cseq":
            out.append(f"CSeq: {v}")
    want_contact = spec.get("contact")
    if want_contact is None:
        want_contact = 100 < code < 300 and method in ("INVITE", "SUBSCRIBE", "REFER")
    if want_contact:
        _, ip, port = parse_addr(endpoint)
        out.append(f"Contact: <sip:{endpoint_tag(endpoint)}@{ip}:{port}>")
    for h in spec.get("headers", []) or []:
        out.append(h)
    body = spec.get("body", "") or ""
    if body:
        body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    out.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(out) + "\r\n\r\n" + body


@dataclass
class Step:
    send: str
    src: str = DEFAULT_SRC
    answer: dict = field(default_factory=dict)  # endpoint -> answer spec
    wait: float = 0.0
    settle: float = DEFAULT_SETTLE


@dataclass
class Case:
    name: str
    dir: Path
    cfg: Path
    description: str = ""
    defines: list = field(default_factory=list)
    kamailio_args: list = field(default_factory=list)
    redis_port: int | None = None
    redis_server: str | None = None  # ndb_redis server name from case.cfg (name=...)
    endpoints: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    compare: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    @property
    def golden_path(self) -> Path:
        return self.dir / "golden.json"

    def message(self, step: Step) -> str:
        return to_crlf((self.dir / step.send).read_text(encoding="utf-8"))


def load_case(case_dir: str | os.PathLike) -> Case:
    d = Path(case_dir)
    raw = yaml.safe_load((d / "case.yaml").read_text(encoding="utf-8")) or {}
    cfg = d / "case.cfg"
    case = Case(name=d.name, dir=d, cfg=cfg, raw=raw,
                description=str(raw.get("description", "")).strip(),
                defines=[str(x) for x in raw.get("defines", []) or []],
                kamailio_args=[str(x) for x in raw.get("kamailio_args", []) or []],
                compare=dict(raw.get("compare", {}) or {}))
    r = raw.get("redis")
    if r:
        if isinstance(r, dict) and r.get("port"):
            case.redis_port = int(r["port"])
        else:
            m = re.search(r"port=(\d+)", cfg.read_text(encoding="utf-8"))
            if not m:
                raise ValueError(f"{d.name}: redis: true but no port=NNNN in case.cfg")
            case.redis_port = int(m.group(1))
        m = re.search(r'modparam\(\s*"ndb_redis"\s*,\s*"server"\s*,\s*"[^"]*?name=([^;"]+)',
                      cfg.read_text(encoding="utf-8"))
        if m:
            case.redis_server = m.group(1)
    endpoints = [DEFAULT_SINK] + [str(x) for x in raw.get("sinks", []) or []]
    settle = float(raw.get("settle", DEFAULT_SETTLE))
    default_answer = {str(k): v for k, v in (raw.get("answer", {}) or {}).items()}
    for i, s in enumerate(raw.get("steps", []) or []):
        if isinstance(s, str):
            s = {"send": s}
        ans = dict(default_answer)
        if "sink_replies" in s:
            ans[DEFAULT_SINK] = s["sink_replies"]
        for k, v in (s.get("answer", {}) or {}).items():
            ans[str(k)] = v
        step = Step(send=str(s["send"]), src=str(s.get("src", DEFAULT_SRC)), answer=ans,
                    wait=float(s.get("wait", 0.0)), settle=float(s.get("settle", settle)))
        if not (d / step.send).is_file():
            raise ValueError(f"{d.name}: step {i}: no message file {step.send}")
        parse_addr(step.src)
        case.steps.append(step)
        for a in [step.src, *ans.keys()]:
            if a not in endpoints:
                endpoints.append(a)
    for a in endpoints:
        parse_addr(a)
    case.endpoints = endpoints
    if not case.steps:
        raise ValueError(f"{d.name}: no steps")
    return case


def case_dirs(names: list[str] | None = None) -> list[Path]:
    if names:
        out = []
        for n in names:
            p = Path(n)
            if not (p / "case.yaml").is_file():
                p = CASES_DIR / n
            if not (p / "case.yaml").is_file():
                raise SystemExit(f"no such case: {n}")
            out.append(p)
        return out
    return sorted(p.parent for p in CASES_DIR.glob("*/case.yaml"))


def _s(x):
    return x.decode("utf-8", "backslashreplace") if isinstance(x, bytes) else x


def dump_redis(client) -> dict:
    """Whole keyspace as {key: {"type", "value", "ttl"}}: string -> str, hash ->
    object, list -> array, set -> sorted array, zset -> [[member, score], ...];
    "ttl" tells whether the key has an expiry.  Works with redis-py and fakeredis
    clients, with or without decode_responses."""
    out = {}
    for key in sorted(_s(k) for k in client.keys("*")):
        t = _s(client.type(key))
        if t == "string":
            v = _s(client.get(key))
        elif t == "hash":
            v = dict(sorted((_s(k), _s(x)) for k, x in client.hgetall(key).items()))
        elif t == "list":
            v = [_s(x) for x in client.lrange(key, 0, -1)]
        elif t == "set":
            v = sorted(_s(x) for x in client.smembers(key))
        elif t == "zset":
            v = [[_s(m), sc] for m, sc in client.zrange(key, 0, -1, withscores=True)]
        else:
            v = None
        out[key] = {"type": t, "value": v, "ttl": client.ttl(key) >= 0}
    return out


# ---------------------------------------------------------------- replaying a step
# Used by test_conformance.py with kscript, and by the recorder's --selftest with
# real kamailio behind the same interface.

def _as_dict(res) -> dict:
    if res is None:
        return {"sent": [], "log": []}
    if isinstance(res, dict):
        return res
    return res.to_dict()


def _feed(script, text: str, src: str):
    fn = getattr(script, "feed_reply", None)
    if fn is None:
        fn = script.process
    return fn(text, src=src)


def script_redis_dump(script, case: Case | None = None):
    """The keyspace of a script's redis: ``script.redis_dump()``, a redis-py
    compatible client in ``script.redis``, or ``script.redis(server)`` returning
    one for the case's ndb_redis server; None when none of these exists."""
    fn = getattr(script, "redis_dump", None)
    if callable(fn):
        dump = fn()
        if dump is not None:
            return dump
    client = getattr(script, "redis", None)
    if client is None:
        return None
    if not (hasattr(client, "keys") and hasattr(client, "type")):
        if callable(client) and case is not None and case.redis_server:
            client = client(case.redis_server)
        else:
            return None
    return dump_redis(client)


def replay_step(script, case: Case, step: Step, history: dict) -> dict:
    """Run one step through ``script`` (``process(text, src=)`` returning
    ``{"sent", "log"}`` or an object with ``to_dict()``; optional
    ``feed_reply(text, src=)``), answering forwarded requests like the recorder's
    endpoints do, in FIFO order.  ``history`` maps endpoint -> requests it received
    so far in the case (for ``reply_to``).  Returns ``{"sent", "log"}``."""
    sent: list = []
    log: list = []

    def absorb(res) -> list:
        d = _as_dict(res)
        new = list(d.get("sent", []))
        sent.extend(new)
        log.extend(d.get("log", []))
        return new

    queue = absorb(script.process(case.message(step), src=step.src))
    while queue:
        m = queue.pop(0)
        method = request_method(m.get("message", ""))
        if not method:
            continue
        ep = m.get("dst")
        for spec in answers_for(step.answer.get(ep), method):
            reply = build_reply(m["message"], spec, ep, history.setdefault(ep, []))
            queue.extend(absorb(_feed(script, reply, ep)))
        history.setdefault(ep, []).append(m["message"])
    return {"sent": sent, "log": log}
