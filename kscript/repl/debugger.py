"""Trace and stepping debugger for the REPL, in the spirit of Kamailio's debugger module.

Script code the REPL runs (``:send``, ``route(NAME)``, any statement) runs in a
worker thread; the :class:`ReplTracer` hooks (see :mod:`kscript.runtime.tracing`)
run synchronously in that thread. At a breakpoint or a step the tracer hands a
:class:`Frame` to the prompt through a queue and blocks until the prompt sends
``step``/``next``/``finish``/``continue``/``abort``. While it is blocked the
prompt may evaluate expressions against the paused message. Ctrl-C sets the
abort flag: the next hook raises :class:`~kscript.runtime.signals.ScriptAbort`.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import nodes as N
from ..runtime.signals import ScriptAbort
from ..runtime.tracing import Tracer
from .fragments import FILE as REPL_FILE


def route_label(kind: str, name: str | None) -> str:
    """``request_route``, ``route[RELAY]``, ``failure_route[X]``, ``event_route[a:b]``, ``<repl>``."""
    if kind == "repl":
        return "<repl>"
    if kind == "request":
        return "request_route"
    if kind == "reply" and name is None:
        return "reply_route"
    base = {"route": "route", "failure": "failure_route", "branch": "branch_route", "onreply": "onreply_route",
            "onsend": "onsend_route", "event": "event_route", "reply": "reply_route"}.get(kind, kind)
    return f"{base}[{name}]" if name is not None else base


def short_file(path: str) -> str:
    return os.path.basename(path) if path and not path.startswith("<") else path


@dataclass
class StackEntry:
    kind: str
    name: str | None
    node: N.Stmt | None = None  # the last statement started in this route


@dataclass
class Breakpoint:
    """A breakpoint: on a route (stops at its first statement) or on a file line."""

    id: int
    route: tuple[str, str | None] | None = None
    file: str | None = None
    line: int | None = None
    hits: int = 0
    spec: str = ""

    def describe(self) -> str:
        if self.route is not None:
            return f"#{self.id} {route_label(*self.route)}"
        return f"#{self.id} {short_file(self.file)}:{self.line}"

    def matches_line(self, pos) -> bool:
        if self.line is None or pos.line != self.line:
            return False
        return same_file(pos.file, self.file)


def same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    if os.path.basename(a) != os.path.basename(b):
        return False
    if "/" not in b or "/" not in a:  # a bare file name matches any directory
        return True
    return os.path.abspath(a) == os.path.abspath(b)


@dataclass
class Frame:
    """Where a run is paused."""

    ctx: Any
    node: N.Stmt
    stack: list[StackEntry] = field(default_factory=list)
    reason: str = "step"  # "step", "breakpoint #N", "route"

    @property
    def pos(self):
        return self.node.pos

    @property
    def route(self) -> str:
        return route_label(self.stack[-1].kind, self.stack[-1].name) if self.stack else "?"


class ReplTracer(Tracer):
    """The tracer the REPL loads every script with."""

    def __init__(self, emit_trace: Callable[[str, Any, N.Stmt | None, list[StackEntry]], None] | None = None):
        self.trace = False
        self.emit_trace = emit_trace
        self.breakpoints: list[Breakpoint] = []
        self._next_bp_id = 1
        self.worker: int | None = None  # thread ident of the run being watched
        self.abort_flag = threading.Event()
        self.mode: str = "continue"  # step | next | finish | continue
        self.mode_depth = 0
        self.step_next_run = False
        self.stack: list[StackEntry] = []
        self._route_stop: str | None = None
        self._last_line: tuple[str, int, int] | None = None
        self.events: queue.Queue = queue.Queue()
        self.commands: queue.Queue = queue.Queue()
        self.paused: Frame | None = None
        self.last_node: N.Stmt | None = None  # the last statement the watched run started
        self.interrupted = False  # Ctrl-C seen while waiting (the terminal echoed ^C)

    # ------------------------------------------------------------ breakpoints
    def add_breakpoint(self, **kw) -> Breakpoint:
        bp = Breakpoint(self._next_bp_id, **kw)
        self._next_bp_id += 1
        self.breakpoints.append(bp)
        return bp

    def remove_breakpoint(self, bp: Breakpoint) -> None:
        self.breakpoints = [b for b in self.breakpoints if b is not bp]

    # ------------------------------------------------------------ runs
    def begin_run(self, repl_frame: bool) -> None:
        self.worker = threading.get_ident()
        self.abort_flag.clear()
        self.stack = [StackEntry("repl", None)] if repl_frame else []
        self._last_line = None
        self._route_stop = None
        self.last_node = None
        if self.step_next_run:
            self.mode, self.step_next_run = "step", False
        else:
            self.mode = "continue"

    def end_run(self) -> None:
        self.worker = None
        self.paused = None

    def _mine(self) -> bool:
        return self.worker is not None and threading.get_ident() == self.worker

    # ------------------------------------------------------------ hooks
    def on_stmt(self, ctx, node):
        if not self._mine():
            return
        if self.abort_flag.is_set():
            raise ScriptAbort("interrupted")
        if isinstance(node, N.Block):
            return
        pos = node.pos
        self.last_node = node
        if self.stack:
            self.stack[-1].node = node
        if pos is None or pos.file == REPL_FILE:
            return
        if self.trace and self.emit_trace is not None:
            self.emit_trace("stmt", ctx, node, self.stack)
        reason = self._stop_reason(node)
        if reason:
            self._pause(ctx, node, reason)

    def on_route_enter(self, ctx, kind, name):
        if not self._mine():
            return
        if self.abort_flag.is_set():
            raise ScriptAbort("interrupted")
        self.stack.append(StackEntry(kind, name))
        if self.trace and self.emit_trace is not None:
            self.emit_trace("enter", ctx, None, self.stack)
        for bp in self.breakpoints:
            if bp.route is not None and bp.route == (kind, name):
                bp.hits += 1
                self._route_stop = f"breakpoint {bp.describe()}"
                break

    def on_route_exit(self, ctx, kind, name, how, value):
        if not self._mine():
            return
        if self.trace and self.emit_trace is not None:
            self.emit_trace("exit", ctx, (how, value), self.stack)
        if self.stack and self.stack[-1].kind == kind and self.stack[-1].name == name:
            self.stack.pop()

    # ------------------------------------------------------------ stepping
    def _stop_reason(self, node) -> str | None:
        pos = node.pos
        key = (pos.file, pos.line, len(self.stack))
        same_line = key == self._last_line
        self._last_line = key
        if self._route_stop:
            reason, self._route_stop = self._route_stop, None
            return reason
        depth = len(self.stack)
        if self.mode == "step":
            return "step"
        if self.mode == "next" and depth <= self.mode_depth:
            return "step"
        if self.mode == "finish" and depth < self.mode_depth:
            return "step"
        if not same_line:
            for bp in self.breakpoints:
                if bp.matches_line(pos):
                    bp.hits += 1
                    return f"breakpoint {bp.describe()}"
        return None

    def _pause(self, ctx, node, reason) -> None:
        frame = Frame(ctx, node, [StackEntry(s.kind, s.name, s.node) for s in self.stack], reason)
        self.paused = frame
        self.events.put(("paused", frame))
        cmd = self.commands.get()
        self.paused = None
        if cmd == "abort":
            raise ScriptAbort("aborted")
        self.mode = cmd
        self.mode_depth = len(self.stack)


class Runner:
    """Runs a job in a worker thread and reports "done", "error", "paused" or "aborted"."""

    def __init__(self, tracer: ReplTracer):
        self.tracer = tracer
        self.thread: threading.Thread | None = None

    @property
    def paused(self) -> Frame | None:
        return self.tracer.paused

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, job: Callable[[], Any], repl_frame: bool = True) -> tuple:
        tracer = self.tracer
        events = tracer.events
        while not events.empty():  # leftovers of an abandoned run
            events.get_nowait()

        def work():
            tracer.begin_run(repl_frame)
            try:
                value = job()
            except ScriptAbort:
                events.put(("aborted", None))
            except BaseException as e:  # reported by the session, never a traceback
                events.put(("error", e))
            else:
                events.put(("done", value))
            finally:
                tracer.end_run()

        self.thread = threading.Thread(target=work, name="kscript-run", daemon=True)
        self.thread.start()
        return self.wait()

    def resume(self, command: str) -> tuple:
        self.tracer.commands.put(command)
        return self.wait()

    def abort(self) -> tuple:
        self.tracer.abort_flag.set()
        if self.tracer.paused is not None:
            self.tracer.commands.put("abort")
        return self.wait()

    def wait(self) -> tuple:
        """The next event; Ctrl-C aborts the run (a second one stops waiting for it)."""
        interrupted = 0
        while True:
            try:
                return self.tracer.events.get(timeout=0.05)
            except queue.Empty:
                if self.thread is not None and not self.thread.is_alive() and self.tracer.events.empty():
                    return ("aborted", None)
                continue
            except KeyboardInterrupt:
                interrupted += 1
                self.tracer.interrupted = True
                self.tracer.abort_flag.set()
                if self.tracer.paused is not None:
                    self.tracer.commands.put("abort")
                if interrupted >= 2:
                    return ("detached", None)
