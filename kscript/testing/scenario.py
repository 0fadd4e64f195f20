"""The ``*.kst.yaml`` scenario format: loading, validation, the in-memory model.

A scenario file holds one scenario per YAML document (``---`` separates them)::

    name: OPTIONS to the proxy itself is answered
    config: ../kamailio.cfg            # relative to this file
    defines: [WITH_NAT]                # like kamailio -A
    requires: [sl]                     # skipped while kscript does not emulate sl
    clock: 2024-03-01T12:00:00Z        # where time starts (default 1700000000)
    redis:
      seed: ["SET blocklist:10.0.0.66 1"]
    mocks:
      nat_uac_test: 1
      ds_select_dst: {returns: 1, sets: {$du: "sip:10.0.0.1:5060"}}
    steps:
      - send: {method: OPTIONS, ruri: "sip:127.0.0.1"}
        src: udp:10.0.0.1:5060
        expect:
          reply: {status: 200, reason: Keepalive}
          not: {log: "ERROR"}
      - advance: 61s
      - reply: 180            # fed to the last relayed branch

See :mod:`kscript.testing.schema` for every key and :mod:`kscript.testing.expectations`
for what each expectation checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .clock import DEFAULT_START, parse_duration, parse_time
from .schema import SchemaError, validate_document
from .yamlsrc import YamlSyntaxError, load_documents, key_line, line_of

__all__ = ["Scenario", "Step", "ScenarioFileError", "load_file", "load_text", "is_scenario_file", "find_scenarios"]

SUFFIXES = (".kst.yaml", ".kst.yml")


def is_scenario_file(path: str) -> bool:
    return str(path).endswith(SUFFIXES)


def find_scenarios(paths) -> list[str]:
    """Scenario files under the given files/directories (recursively), sorted per argument."""
    out: list[str] = []
    for p in paths:
        p = str(p)
        if os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for f in files:
                    if is_scenario_file(f):
                        found.append(os.path.join(root, f))
            out.extend(sorted(found))
        else:
            out.append(p)
    return out


class ScenarioFileError(Exception):
    """A scenario file that cannot be used: YAML syntax or schema errors (each ``file:line``)."""

    def __init__(self, file: str, errors: list[SchemaError]):
        self.file = file
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class Step:
    index: int
    kind: str  # "send" | "reply" | "advance"
    data: Any  # the send/reply/advance value
    line: int
    name: str | None = None
    src: str | None = None
    expect: dict = field(default_factory=dict)
    expect_line: int | None = None
    doc: Any = None  # the YAML mapping of the step (for expectation lines)
    repeat: int = 1

    def describe(self) -> str:
        if self.name:
            return self.name
        d = self.data
        if self.kind == "send":
            if isinstance(d, dict) and "raw" not in d:
                return f"send {d.get('method')} {d.get('ruri')}"
            raw = d["raw"] if isinstance(d, dict) else d
            return "send " + raw.strip().split("\n", 1)[0].strip()
        if self.kind == "reply":
            if isinstance(d, int):
                return f"reply {d}"
            if isinstance(d, dict) and "raw" not in d:
                return f"reply {d.get('status')} {d.get('reason') or ''}".rstrip()
            raw = d["raw"] if isinstance(d, dict) else d
            return "reply " + raw.strip().split("\n", 1)[0].strip()
        return f"advance {d}"


@dataclass
class Scenario:
    file: str
    index: int  # document index in the file
    line: int
    name: str
    config: str  # absolute path
    defines: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    skip: str | None = None
    xfail: str | None = None
    clock: float = DEFAULT_START
    src: str = "udp:127.0.0.1:5060"
    redis_mode: str | None = None
    redis_server: str | None = None
    redis_seed: Any = None  # list of commands, or {server: [commands]}
    redis_seed_file: str | None = None
    mocks: dict = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    description: str | None = None
    doc: Any = None

    @property
    def id(self) -> str:
        """``file::name``, unique within a run."""
        return f"{self.file}::{self.name}"

    @property
    def slug(self) -> str:
        base = os.path.basename(self.file)
        for suf in SUFFIXES:
            if base.endswith(suf):
                base = base[: -len(suf)]
        return f"{base}-{self.index + 1}" if self.index or self.name != base else base


def load_file(path: str) -> list[Scenario]:
    """Every scenario of a file; raises :class:`ScenarioFileError` listing all problems."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ScenarioFileError(path, [SchemaError(path, None, f"cannot read: {e.strerror}")]) from None
    return load_text(text, path)


def load_text(text: str, path: str = "<scenario>") -> list[Scenario]:
    try:
        docs = load_documents(text)
    except YamlSyntaxError as e:
        raise ScenarioFileError(path, [SchemaError(path, e.line, e.message)]) from None
    if not docs:
        raise ScenarioFileError(path, [SchemaError(path, 1, "no scenario in this file")])
    errors: list[SchemaError] = []
    for doc in docs:
        errors.extend(validate_document(doc, path))
    if errors:
        raise ScenarioFileError(path, errors)
    out = []
    base = os.path.basename(path)
    for suf in SUFFIXES:
        if base.endswith(suf):
            base = base[: -len(suf)]
    names = set()
    for i, doc in enumerate(docs):
        sc, errs = _build(doc, i, path, base if len(docs) == 1 else f"{base} #{i + 1}")
        errors.extend(errs)
        if sc is not None:
            if sc.name in names:
                errors.append(SchemaError(path, key_line(doc, "name", doc.line), f"duplicate scenario name {sc.name!r}"))
            names.add(sc.name)
            out.append(sc)
    if errors:
        raise ScenarioFileError(path, errors)
    return out


def _build(doc, index: int, path: str, default_name: str) -> tuple[Scenario | None, list[SchemaError]]:
    errs: list[SchemaError] = []
    here = os.path.dirname(os.path.abspath(path))

    def err(keys, msg):
        errs.append(SchemaError(path, line_of(doc, keys), msg))

    defines = doc.get("defines") or []
    if isinstance(defines, dict):
        defines = [k if v is None else f"{k}={v}" for k, v in defines.items()]
    clock = DEFAULT_START
    if "clock" in doc:
        try:
            clock = parse_time(doc["clock"])
        except ValueError as e:
            err(["clock"], f"clock: {e}")
    redis = doc.get("redis") or {}
    sc = Scenario(
        file=path, index=index, line=doc.line or 1, name=str(doc.get("name") or default_name),
        config=os.path.normpath(os.path.join(here, doc["config"])),
        defines=[str(d) for d in defines], requires=list(doc.get("requires") or []),
        skip=doc.get("skip"), xfail=doc.get("xfail"), clock=clock, src=doc.get("src") or "udp:127.0.0.1:5060",
        redis_mode=redis.get("mode"), redis_server=redis.get("server"), redis_seed=redis.get("seed"),
        redis_seed_file=(os.path.normpath(os.path.join(here, redis["seed_file"])) if redis.get("seed_file") else None),
        mocks=dict(doc.get("mocks") or {}), description=doc.get("description"), doc=doc,
    )
    if not os.path.isfile(sc.config):
        err(["config"], f"config: no such file {sc.config}")
    for i, st in enumerate(doc["steps"]):
        kind = next(k for k in ("send", "reply", "advance") if k in st)
        data = st[kind]
        if kind == "advance":
            try:
                data = parse_duration(data)
            except ValueError as e:
                err(["steps", i, "advance"], f"steps[{i}].advance: {e}")
                continue
            if data < 0:
                err(["steps", i, "advance"], f"steps[{i}].advance: the clock cannot go backwards")
        exp = st.get("expect") or {}
        _check_expect(exp, ["steps", i, "expect"], doc, path, errs)
        sc.steps.append(Step(index=i, kind=kind, data=data, line=line_of(doc, ["steps", i]) or 0,
                             name=st.get("name"), src=st.get("src"), expect=exp,
                             expect_line=line_of(doc, ["steps", i, "expect"]), doc=st,
                             repeat=int(st.get("repeat", 1))))
    return (sc if not errs else None), errs


def _check_expect(exp, keys, doc, path, errs) -> None:
    """Value checks the schema cannot express (regexes compile, status classes)."""
    import re
    from .expectations import is_regex, status_matcher

    def walk(v, ks):
        if isinstance(v, str) and is_regex(v):
            try:
                re.compile(v[1:-1])
            except re.error as e:
                errs.append(SchemaError(path, line_of(doc, ks), f"{_dotted(ks)}: bad regex {v}: {e}"))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, ks + [k])
        elif isinstance(v, list):
            for j, x in enumerate(v):
                walk(x, ks + [j])

    walk(exp, keys)
    for grp in (exp, exp.get("not") or {}):
        base = keys if grp is exp else keys + ["not"]
        for k in ("reply",):
            r = grp.get(k)
            st = r.get("status") if isinstance(r, dict) else r
            if st is not None:
                try:
                    status_matcher(st)
                except ValueError as e:
                    errs.append(SchemaError(path, line_of(doc, base + [k]), f"{_dotted(base + [k])}: {e}"))
        for k in ("log",):
            items = grp.get(k)
            for j, it in enumerate(items if isinstance(items, list) else [items] if items is not None else []):
                if isinstance(it, dict) and "regex" in it:
                    try:
                        re.compile(it["regex"])
                    except re.error as e:
                        errs.append(SchemaError(path, line_of(doc, base + [k]), f"{_dotted(base + [k])}: bad regex: {e}"))


def _dotted(keys) -> str:
    out = ""
    for p in keys:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out
