"""Completion for the REPL: PV names, transformations, functions, routes, Redis, meta-commands.

Everything is computed from the loaded config: the functions and PV classes
of its loaded modules (Kamailio's catalogue, so functions kscript does not
emulate are offered too, marked as such), its routes, its ndb_redis servers,
the PVs it uses and the defines in force.
"""

from __future__ import annotations

import re
from typing import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from .. import nodes as N
from .commands import COMMANDS, redis_servers
from .debugger import route_label

STATEMENT_KEYWORDS = ("if", "else", "while", "switch", "case", "default", "return", "exit", "drop", "break",
                      "route", "defined", "strlen", "strempty", "selval")
CORE_KEYWORDS = ("method", "uri", "status", "from_uri", "to_uri", "src_ip", "dst_ip", "src_port", "dst_port",
                 "proto", "af", "myself")
REDIS_COMMANDS = ("APPEND", "DECR", "DECRBY", "DEL", "EXISTS", "EXPIRE", "GET", "GETSET", "HDEL", "HEXISTS", "HGET",
                  "HGETALL", "HINCRBY", "HKEYS", "HLEN", "HMGET", "HMSET", "HSET", "HVALS", "INCR", "INCRBY", "KEYS",
                  "LINDEX", "LLEN", "LPOP", "LPUSH", "LRANGE", "LREM", "MGET", "MSET", "PERSIST", "PEXPIRE", "PING",
                  "PTTL", "RPOP", "RPUSH", "SADD", "SCARD", "SET", "SETEX", "SETNX", "SISMEMBER", "SMEMBERS", "SREM",
                  "TTL", "TYPE", "ZADD", "ZCARD", "ZRANGE", "ZRANGEBYSCORE", "ZREM", "ZSCORE")
_ARMERS = {"t_on_failure": "failure", "t_on_branch": "branch", "t_on_reply": "onreply",
           "t_on_branch_failure": "event"}


def _arity_text(arities: Iterable) -> str:
    ar = sorted(a for a in arities if isinstance(a, int))
    var = any(not isinstance(a, int) for a in arities)
    if var:
        return "any number of params"
    if not ar:
        return ""
    if len(ar) == 1:
        return f"{ar[0]} param" + ("" if ar[0] == 1 else "s")
    if ar == list(range(ar[0], ar[-1] + 1)):
        return f"{ar[0]}-{ar[-1]} params"
    return "/".join(map(str, ar)) + " params"


class ReplCompleter(Completer):
    """The REPL's completer; reads the session's current script on every call."""

    def __init__(self, session):
        self.session = session
        self._paths = PathCompleter(expanduser=True)
        self._cache_key = None
        self._cache: dict = {}

    # ------------------------------------------------------------ data from the script
    def _data(self) -> dict:
        script = self.session.script
        if script is self._cache_key and self._cache:
            return self._cache
        from ..catalogue import load as load_catalogue
        cat = load_catalogue()
        loaded = list(script.loaded)
        emulated = set()
        for mod in script.modules.values():
            for fd in type(mod).function_defs():
                emulated.add(fd.name)
        functions: dict[str, tuple[str, set, bool]] = {}
        for name, info in cat._core.get("functions", {}).items():
            functions[name] = ("core", set(info.get("arities", [])), name in emulated)
        for m in loaded:
            rec = cat.module(m) or {}
            for fname, entries in rec.get("functions", {}).items():
                ar = {e.get("nparams") for e in entries if e.get("nparams") != -1}
                if ar:
                    functions.setdefault(fname, (m, ar, fname in emulated))
        pvs: dict[str, tuple[str, bool]] = {}
        for name, info in cat._core.get("pvs", {}).items():
            pvs[name] = ("core", bool(info.get("has_name")))
        for m in loaded:
            rec = cat.module(m) or {}
            for name, info in rec.get("pvs", {}).items():
                pvs.setdefault(name, (m, bool(info.get("has_name"))))
        trans: list[str] = []
        for cls in cat.data.get("transformations", {}):
            names = cat.transformation_names(cls, loaded)
            if names:
                trans.extend(f"{cls}.{n}" for n in sorted(names))
        used_pvs: list[str] = []
        for item in script.config.items:
            if isinstance(item, N.RouteBlock):
                for node in item.body.walk():
                    if isinstance(node, N.PVRef) and "(" in node.text and node.text not in used_pvs:
                        used_pvs.append(node.text)
        self._cache = {"functions": functions, "pvs": pvs, "trans": sorted(trans), "used_pvs": used_pvs,
                       "servers": redis_servers(script), "flags": list(script.flag_names)}
        self._cache_key = script
        return self._cache

    # ------------------------------------------------------------ entry point
    def get_completions(self, document: Document, complete_event: CompleteEvent):
        text = document.text_before_cursor
        if document.text.lstrip().startswith(":") and "\n" not in text:
            yield from self._meta(document)
            return
        yield from self._cfg(text)

    # ------------------------------------------------------------ meta-commands
    def _meta(self, document: Document):
        text = document.text_before_cursor.lstrip()
        m = re.fullmatch(r":(\w*)", text)
        if m:
            word = m.group(1)
            for c in COMMANDS:
                if c.name.startswith(word):
                    yield Completion(":" + c.name, -len(text), display=f":{c.name} {c.args}".rstrip(),
                                     display_meta=c.help)
            return
        m = re.fullmatch(r":(\w+)\s+(.*)", text, re.S)
        if not m:
            return
        cmd, arg = m.group(1), m.group(2)
        script = self.session.script
        if cmd in ("show", "break", "run"):
            for spec in self._route_specs(script, plain_names=True):
                if spec.startswith(arg):
                    yield Completion(spec, -len(arg))
        elif cmd in ("load", "msg", "reply"):
            if cmd == "msg" and "show".startswith(arg):
                yield Completion("show", -len(arg), display_meta="print the current message")
            sub = Document(arg, len(arg))
            yield from self._paths.get_completions(sub, CompleteEvent())
        elif cmd == "trace":
            for w in ("on", "off"):
                if w.startswith(arg):
                    yield Completion(w, -len(arg))
        elif cmd == "help":
            for c in COMMANDS:
                if c.name.startswith(arg):
                    yield Completion(c.name, -len(arg), display_meta=c.help)
        elif cmd == "clear":
            for b in self.session.tracer.breakpoints:
                if str(b.id).startswith(arg):
                    yield Completion(str(b.id), -len(arg), display_meta=b.describe())
            if "all".startswith(arg):
                yield Completion("all", -len(arg))
        elif cmd == "redis":
            parts = arg.split(" ")
            if len(parts) == 1:
                for srv in self._data()["servers"]:
                    if srv.startswith(arg):
                        yield Completion(srv, -len(arg), display_meta="ndb_redis server")
            elif len(parts) == 2:
                w = parts[1]
                for c in REDIS_COMMANDS:
                    if c.startswith(w.upper()):
                        yield Completion(c, -len(w))
        elif cmd == "mock":
            if " " in arg:
                return
            unresolved = sorted(script.unresolved_functions())
            for name in unresolved:
                if name.startswith(arg):
                    yield Completion(name, -len(arg), display_meta="not emulated")
            for name, (mod, _ar, _em) in sorted(self._data()["functions"].items()):
                if name.startswith(arg) and name not in unresolved:
                    yield Completion(name, -len(arg), display_meta=mod)

    @staticmethod
    def _route_specs(script, plain_names: bool) -> list[str]:
        out = []
        for kind, name in script.routes:
            if kind == "route" and plain_names:
                out.append(name)
            else:
                out.append(route_label(kind, name))
        return out

    # ------------------------------------------------------------ cfg input
    def _cfg(self, text: str):
        data = self._data()
        in_string = _in_string(text)
        # transformation names after '{' inside $( ... )
        m = re.search(r"\$\([^\s\"]*\{([A-Za-z0-9_.]*)$", text)
        if m:
            word = m.group(1)
            for t in data["trans"]:
                if t.startswith(word):
                    yield Completion(t, -len(word), display_meta="transformation")
            return
        # PVs
        m = re.search(r"\$\(?[A-Za-z_][A-Za-z0-9_.]*(?:\([^()\s\"]*)?$|\$\(?$", text)
        if m:
            yield from self._pvs(m.group(0), data)
            return
        if in_string:
            yield from self._string_arg(text, data)
            return
        # route(NAME
        m = re.search(r"\broute\s*\(\s*([A-Za-z0-9_]*)$", text)
        if m:
            word = m.group(1)
            for kind, name in self.session.script.routes:
                if kind == "route" and name.startswith(word):
                    yield Completion(name, -len(word), display_meta="route")
            return
        m = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", text)
        if not m:
            return
        word = m.group(0)
        if text[:m.start()].endswith((".", "@")):
            return
        yield from self._words(word, data)

    def _pvs(self, typed: str, data: dict):
        paren = typed.startswith("$(")
        prefix = "$(" if paren else "$"
        body = typed[len(prefix):]
        seen = set()
        if "(" in body:
            for pv in data["used_pvs"] + list(self.session.pv_history):
                cand = pv if not paren else None
                if cand and cand.startswith(typed) and cand not in seen:
                    seen.add(cand)
                    yield Completion(cand, -len(typed), display_meta="used in the config")
            return
        supported = getattr(self.session.script, "_pv_classes", None)
        for name, (mod, has_name) in sorted(data["pvs"].items()):
            if not name.startswith(body) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
                continue
            ins = prefix + name + ("(" if has_name else "")
            shown = prefix + name + ("(...)" if has_name else "")
            meta = f"PV · {mod}" + ("" if supported is None or name in supported else " · not emulated")
            yield Completion(ins, -len(typed), display=shown, display_meta=meta)

    def _string_arg(self, text: str, data: dict):
        """Inside a string argument: route names of t_on_*, ndb_redis servers and commands."""
        m = re.search(r"\b([a-z_]+)\s*\(\s*\"([^\"]*)$", text)
        if m:
            fn, word = m.group(1), m.group(2)
            kind = _ARMERS.get(fn)
            if kind:
                for k, name in self.session.script.routes:
                    if k == kind and name and name.startswith(word):
                        yield Completion(name, -len(word), display_meta=route_label(k, name))
                return
            if fn.startswith("redis_") or fn == "redis_cmd":
                for srv in data["servers"]:
                    if srv.startswith(word):
                        yield Completion(srv, -len(word), display_meta="ndb_redis server")
            return
        m = re.search(r"\bredis_cmd\s*\(\s*\"[^\"]*\"\s*,\s*\"([A-Za-z]*)$", text)
        if m:
            word = m.group(1)
            for c in REDIS_COMMANDS:
                if c.startswith(word.upper()):
                    yield Completion(c, -len(word), display_meta="Redis command")

    def _words(self, word: str, data: dict):
        for name, (mod, ar, emulated) in sorted(data["functions"].items()):
            if name.startswith(word):
                meta = f"{mod} · {_arity_text(ar)}" + ("" if emulated else " · not emulated")
                yield Completion(name + "(", -len(word), display=f"{name}()", display_meta=meta)
        for kw in STATEMENT_KEYWORDS:
            if kw.startswith(word) and kw not in data["functions"]:
                yield Completion(kw, -len(word), display_meta="keyword")
        for kw in CORE_KEYWORDS:
            if kw.startswith(word):
                yield Completion(kw, -len(word), display_meta="core keyword")
        for name in sorted(self.session.defines):
            if name.startswith(word) and not name.startswith(("KAMAILIO_", "MOD_")):
                yield Completion(name, -len(word), display_meta="define")
        for name in data["flags"]:
            if name.startswith(word):
                yield Completion(name, -len(word), display_meta="flag")


def _in_string(text: str) -> bool:
    """Whether the cursor is inside a double-quoted string (escapes honoured)."""
    inside = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if inside and c == "\\":
            i += 2
            continue
        if c == '"':
            inside = not inside
        elif not inside and c == "#":
            j = text.find("\n", i)
            if j < 0:
                return False
            i = j
        i += 1
    return inside
