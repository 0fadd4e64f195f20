"""What ran: per-step line records and Kamailio-cfgt-compatible route flows.

:class:`RunTracer` is the tracer the scenario runner (and the pytest fixture)
attaches to a script. For each step it keeps

* the statements that ran (positions), for failure messages that point at the
  cfg lines which ran;
* the routes entered and how each ended (``routes``);
* the route **flow exactly as Kamailio 5.6's cfgt module reports it** (the
  debugger module's per-action hook and cfgt's route-name tracking in
  src/modules/cfgt/cfgt_int.c@5.6.3:_cfgt_add_routename/_cfgt_set_type,
  reproduced step by step), optionally with cfgt's PV snapshot at each entry.

cfgt's quirks are kept on purpose so a kscript trace diffs cleanly against a
real one: ``drop`` is reported as ``exit|R`` (``_cfgt_set_type`` overwrites the
DROP type), a route whose last action was ``route(X)`` ends as ``start|R``, a
return to the grand-parent route reports only the child, and every top-level
route run (request, branch, failure, onreply...) adds a final entry for the
route current at its end. ``drop|R`` therefore never appears in 5.6.3 output.

:func:`write_cfgt_json` writes one message's report like cfgt does
(``<dir>/<uuid>/<msgid>.json`` with ``flow``, ``sip_in`` and ``sip_out``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from .. import nodes as N
from ..runtime.tracing import Tracer

__all__ = ["RunTracer", "route_label", "write_cfgt_json", "cfgt_pv_names"]

# cfgt route types (cfgt_int.h) and their report prefixes (cfgt_int.c:_cfgt_route_prefix)
_ROUTE, _DROP_E, _DROP_D, _DROP_R = 1, 2, 3, 4
_PREFIX = {_ROUTE: "start|", _DROP_E: "exit|", _DROP_D: "drop|", _DROP_R: "return|"}
_DEFAULT_NAMES = {"request": "DEFAULT_ROUTE", "reply": "DEFAULT_ONREPLY", "onreply": "DEFAULT_ONREPLY",
                  "failure": "DEFAULT_FAILURE", "branch": "DEFAULT_BRANCH", "onsend": "DEFAULT_SEND",
                  "event": "DEFAULT_EVENT", "route": "DEFAULT_ROUTE"}

# PV classes whose pv type is not PVT_OTHER (pv/pv.c@5.6.3 and module tables): cfgt dumps
# only AVP, SCRIPTVAR, XAVP and OTHER PVs (mask 30 in cfgt_int.c:_cfgt_set_dump).
_NOT_OTHER = {"br", "Bf", "Tf", "Ts", "bF", "bR", "bf", "ds", "rr_count", "rr_top_count", "s", "sbranch",
              "tcp", "time", "timef", "utime", "utimef", "ws_conid", "du", "duri", "from", "fu", "hdr", "hfl",
              "hdrc", "hflc", "rb", "ou", "ouri", "ru", "ruri", "rd", "ruri.domain", "rU", "rUl", "ruri.user",
              "to", "tu", "xavi", "xavu"}
_SCRIPTVAR = {"var", "vn", "vz"}


def route_label(kind: str, name: str | None) -> str:
    """The route name Kamailio's actions carry (``a->rname``): the block's name, or
    DEFAULT_ROUTE / DEFAULT_ONREPLY / DEFAULT_FAILURE / ... for unnamed blocks."""
    if name is not None and not (kind == "request"):
        return str(name)
    return _DEFAULT_NAMES.get(kind, "DEFAULT_ROUTE")


class _Entry:
    __slots__ = ("name", "type", "prev")

    def __init__(self, name: str, type_: int, prev: "_Entry | None"):
        self.name = name
        self.type = type_
        self.prev = prev


def _action_type(node) -> tuple[str, bool]:
    """('route'|'drop'|'exit'|'return'|'other')."""
    if isinstance(node, N.ExprStmt) and isinstance(node.expr, N.RouteCall):
        return "route"
    if isinstance(node, N.Drop):
        return "drop"
    if isinstance(node, N.Exit):
        return "exit"
    if isinstance(node, N.Return):
        return "return"
    return "other"


def _set_type(entry: _Entry, action: str) -> None:
    # cfgt_int.c@5.6.3:_cfgt_set_type, including the DROP_D overwrite
    if action in ("drop", "exit"):
        entry.type = _DROP_E
    elif action == "return":
        entry.type = _DROP_R
    elif action == "route":
        entry.type = _ROUTE
    elif entry.type != _DROP_E:
        entry.type = _DROP_R


_ENTER, _EXIT, _RESET = "enter", "exit", "reset"


class StepRecord:
    """What ran during one step (possibly several messages: a reply, its failure route).

    ``lines`` (positions of the statements that ran, in order; at most ``MAX_LINES``,
    ``lines_dropped`` counts the others), ``routes`` ((event, label, how, value) per
    route entered/left), ``flow`` (cfgt entries: (name, PV snapshot or None)).

    Without PV snapshots the tracer only notes what ran (statement nodes and route
    markers); ``lines`` and ``flow`` are worked out from that when first read."""

    __slots__ = ("routes", "_events", "_stack0", "_lines", "_flow", "_dropped", "_done")

    MAX_LINES = 20000

    def __init__(self, stack: list[str] | None = None, lazy: bool = False):
        self.routes: list[tuple[str, str, str | None, int | None]] = []  # (event, label, how, value)
        # lazy: statement nodes and (marker, ...) tuples, in order; else None
        self._events: list | None = [] if lazy else None
        self._stack0 = list(stack or ())  # the tracer's route stack when the record began
        self._lines: list = []  # Positions of statements, in execution order
        self._flow: list[tuple[str, dict | None]] = []  # cfgt entries (name, pv snapshot)
        self._dropped = 0
        self._done = 0  # events already worked into _lines/_flow

    @property
    def lines(self) -> list:
        self._catch_up()
        return self._lines

    @property
    def flow(self) -> list[tuple[str, dict | None]]:
        self._catch_up()
        return self._flow

    @property
    def lines_dropped(self) -> int:
        self._catch_up()
        return self._dropped

    @property
    def entered(self) -> list[str]:
        return [label for ev, label, _, _ in self.routes if ev == "enter"]

    def flow_names(self) -> list[str]:
        return [n for n, _ in self.flow]

    def _catch_up(self) -> None:
        events = self._events
        if events is None or self._done == len(events):
            return
        if self._done:  # read mid-step and more ran since: work it out again from the start
            self._lines.clear()
            self._flow.clear()
            self._dropped = 0
        lines, flow = self._lines, self._flow
        dump = lambda name: flow.append((name, None))  # noqa: E731
        stack = list(self._stack0)
        cur = None
        for e in events:
            if type(e) is tuple:
                if e[0] == _ENTER:
                    stack.append(e[1])
                elif e[0] == _EXIT:
                    if stack:
                        stack.pop()
                    if e[1] != "route" and cur is not None:
                        dump(_PREFIX[cur.type] + cur.name)
                else:  # _RESET
                    cur = None
                continue
            if len(lines) < self.MAX_LINES:
                lines.append(e.pos)
            else:
                self._dropped += 1
            if stack:
                cur = _cfgt_action(cur, stack[-1], _action_type(e), dump)
        self._done = len(events)

    # the eager form (PV snapshots are taken while the message is processed)
    def _add_line(self, pos) -> None:
        if len(self._lines) < self.MAX_LINES:
            self._lines.append(pos)
        else:
            self._dropped += 1


def _cfgt_action(cur: "_Entry | None", rname: str, action: str, dump) -> "_Entry":
    """cfgt_process_route for one action of route ``rname``: the new current entry;
    ``dump(flowname)`` adds a flow entry."""
    if cur is None:  # initial: type stays ROUTE, no _cfgt_set_type
        dump("start|" + rname)
        return _Entry(rname, _ROUTE, None)
    if rname == cur.name:
        _set_type(cur, action)
        return cur
    prev = cur.prev
    if prev is not None:
        if rname == prev.name or (prev.prev is not None and rname == prev.prev.name):
            target = prev if rname == prev.name else prev.prev
            _set_type(target, action)
            dump(_PREFIX[cur.type] + cur.name)
            return prev  # _cfgt_del_routename: back one level only
    new = _Entry(rname, _ROUTE, cur)
    _set_type(new, action)
    dump("start|" + rname)
    return new


class RunTracer(Tracer):
    """Records each step's executed lines, routes and cfgt flow (see module doc).

    ``snapshot``: take cfgt's PV snapshot at each flow entry (costly; on for
    ``--trace`` and for flow expectations that check PVs).
    """

    #: ``ctx.data`` key of the :class:`StepRecord` a message's processing wrote to
    CTX_KEY = "kscript.testing.trace"

    def __init__(self, snapshot: bool = False, auto_begin: bool = False):
        """``auto_begin``: start a new record for every top-level route run of a new
        message (API use: each ``script.process`` result gets its own record, found
        through ``result.ctx.data[RunTracer.CTX_KEY]``); the scenario runner calls
        :meth:`begin` per step instead."""
        self.snapshot = snapshot
        self.auto_begin = auto_begin
        self._last_ctx = None
        self.script = None  # set by the runner after load (for PV snapshots)
        self._stack: list[str] = []
        self._cur: _Entry | None = None
        self._pvs: list | None = None
        self.step = StepRecord(lazy=not snapshot)

    # ---- step boundaries (one cfgt node per received message)
    def begin(self) -> StepRecord:
        self.step = StepRecord(self._stack, lazy=not self.snapshot)
        self.new_message()
        return self.step

    def new_message(self) -> None:
        self._cur = None
        if self.step._events is not None:
            self.step._events.append((_RESET,))

    # ---- tracer hooks
    def on_stmt(self, ctx, node) -> None:
        st = self.step
        events = st._events
        if events is not None:
            events.append(node)
            return
        st._add_line(node.pos)
        if self._stack:
            self._cur = _cfgt_action(self._cur, self._stack[-1], _action_type(node),
                                     lambda name: self._dump(ctx, name))

    def on_route_enter(self, ctx, kind, name) -> None:
        if ctx is not self._last_ctx:
            self._last_ctx = ctx
            if self.auto_begin and not self._stack:
                self.begin()
            try:
                ctx.data.setdefault(self.CTX_KEY, self.step)
            except AttributeError:
                pass
        label = route_label(kind, name)
        self._stack.append(label)
        st = self.step
        st.routes.append(("enter", label, None, None))
        if st._events is not None:
            st._events.append((_ENTER, label))

    def on_route_exit(self, ctx, kind, name, how, value) -> None:
        label = route_label(kind, name)
        if self._stack:
            self._stack.pop()
        st = self.step
        st.routes.append(("exit", label, how, value))
        if st._events is not None:
            st._events.append((_EXIT, kind))
            return
        if kind != "route":  # a top-level run ended: cfgt_post dumps the current route
            cur = self._cur
            if cur is not None:
                self._dump(ctx, _PREFIX[cur.type] + cur.name)

    def _dump(self, ctx, flowname: str) -> None:
        self.step._flow.append((flowname, self._snapshot(ctx) if self.snapshot else None))

    # ---- cfgt_get_json
    def _snapshot(self, ctx) -> dict:
        if self._pvs is None:
            self._pvs = _compile_snapshot_pvs(self.script) if self.script is not None else []
        out: dict[str, Any] = {}
        for kind, label, pv, key in self._pvs:
            try:
                if kind == "avp":
                    vals = list(ctx.avps.get(key) or ())
                    if vals:
                        out[label] = vals
                elif kind == "xavp":
                    items = ctx.xavps.get(key) or []
                    arr = []
                    for it in items:
                        if isinstance(it, dict):
                            arr.append({k: list(v) if isinstance(v, list) else [v] for k, v in it.items()})
                    if arr:
                        out[label] = arr
                else:
                    v = pv.value(ctx)
                    if v is None or v == "":
                        continue
                    if key == "method_id":  # $rm carries the method id too; cfgt prints the int
                        v = _METHOD_IDS.get(str(v).upper(), v)
                    out[label] = v
            except Exception:  # a PV that cannot be read here is left out, like cfgt's warning
                continue
        return out


def cfgt_pv_names(script) -> list[str]:
    """The PV texts cfgt would dump for this config: every PV the cfg uses (code and
    format strings) of type AVP, SCRIPTVAR, XAVP or OTHER, without transformations,
    without dynamic names, and not ``$T_*``."""
    from ..pv.spec import PVSyntaxError, parse_pv, scan_pv

    texts: list[str] = []
    seen = set()

    def add(text):
        if text not in seen:
            seen.add(text)
            texts.append(text)

    for item in script.config.items:
        if not isinstance(item, N.RouteBlock):
            continue
        for node in item.walk():
            if isinstance(node, N.PVRef):
                add(node.text)
            elif isinstance(node, N.Literal) and isinstance(node.value, str) and "$" in node.value:
                s = node.value
                i = 0
                while True:
                    i = s.find("$", i)
                    if i < 0 or i + 1 >= len(s):
                        break
                    if s[i + 1] == "$":
                        i += 2
                        continue
                    try:
                        spec, end = scan_pv(s, i)
                    except PVSyntaxError:
                        i += 1
                        continue
                    add(spec.text)
                    i = end
    out = []
    for text in texts:
        try:
            spec = parse_pv(text)
        except PVSyntaxError:
            continue
        if spec.transforms or spec.cls.startswith("T_") or "$" in text[1:]:
            continue
        if spec.cls in _NOT_OTHER:
            continue
        if spec.cls == "avp" and spec.index not in (None, "0"):
            continue
        out.append(text)
    return out


def _compile_snapshot_pvs(script) -> list:
    from ..pv.spec import parse_pv

    out = []
    xavp_seen = set()
    for text in cfgt_pv_names(script):
        spec = parse_pv(text)
        if spec.cls == "avp":
            inner = spec.inner or ""
            if inner.startswith("$"):
                continue
            name = inner[2:] if inner[:2] in ("s:", "i:") else inner
            key = ("i", int(name)) if inner.startswith("i:") and name.isdigit() else ("s", name)
            out.append(("avp", f"$avp({name})", None, key))
            continue
        if spec.cls == "xavp":
            root = (spec.inner or "").split("=>", 1)[0].split("[", 1)[0].strip()
            if not root or root in xavp_seen:
                continue
            xavp_seen.add(root)
            out.append(("xavp", f"$xavp({root})", None, root))
            continue
        try:
            pv = script.compiler.pv(text, None)
        except Exception:
            continue
        out.append(("pv", text, pv, "method_id" if text == "$rm" else None))
    return out


# core/parser/msg_parser.h@5.6.3 enum request_method (what $rm's integer value is)
_METHOD_IDS = {"INVITE": 1, "CANCEL": 2, "ACK": 4, "BYE": 8, "INFO": 16, "REGISTER": 32, "SUBSCRIBE": 64,
               "NOTIFY": 128, "MESSAGE": 256, "OPTIONS": 512, "PRACK": 1024, "UPDATE": 2048, "REFER": 4096,
               "PUBLISH": 8192, "KDMQ": 16384, "GET": 32768, "POST": 65536, "PUT": 131072, "DELETE": 262144}


def write_cfgt_json(directory: str, uuid: str, msgid: int, flow: list[tuple[str, dict | None]],
                    sip_in: list[str], sip_out: list[str]) -> str:
    """Write one cfgt report: ``<directory>/<uuid>/<msgid>.json`` with the members cfgt 5.6.3
    writes (``flow``, ``sip_in``, ``sip_out``); returns the path."""
    d = os.path.join(directory, uuid)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{msgid}.json")
    doc = {
        "flow": [{name: (snap or {})} for name, snap in flow],
        "sip_in": list(sip_in),
        "sip_out": list(sip_out),
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False, default=str)
        f.write("\n")
    return path
