"""Hooks into execution, for the REPL's trace/debugger, coverage and cfgt-style traces.

A tracer is given to :func:`kscript.load` (``tracer=``). When there is none, the
compiled closures contain no tracing code at all. Subclass :class:`Tracer` and
override what you need; every hook receives the message context.
"""

from __future__ import annotations

from .. import nodes as N


class Tracer:
    """Base tracer: every hook does nothing."""

    def on_stmt(self, ctx, node: N.Stmt) -> None:
        """Before each statement runs."""

    def on_branch(self, ctx, node: N.Stmt, branch: str) -> None:
        """An ``if`` took ``"then"``/``"else"``, a ``switch`` entered ``"case N"``/``"default"``/``"none"``,
        a ``while`` evaluated its condition (``"loop"``/``"exit"``)."""

    def on_route_enter(self, ctx, kind: str, name: str | None) -> None:
        """A route block starts (top-level or ``route(NAME)``)."""

    def on_route_exit(self, ctx, kind: str, name: str | None, how: str, value: int) -> None:
        """A route block ends: ``how`` is ``"return"`` (incl. falling off the end),
        ``"break"``, ``"exit"`` or ``"drop"``."""


class MultiTracer(Tracer):
    """Fans hooks out to several tracers (e.g. coverage + trace files)."""

    def __init__(self, *tracers: Tracer):
        self.tracers = [t for t in tracers if t is not None]

    def on_stmt(self, ctx, node):
        for t in self.tracers:
            t.on_stmt(ctx, node)

    def on_branch(self, ctx, node, branch):
        for t in self.tracers:
            t.on_branch(ctx, node, branch)

    def on_route_enter(self, ctx, kind, name):
        for t in self.tracers:
            t.on_route_enter(ctx, kind, name)

    def on_route_exit(self, ctx, kind, name, how, value):
        for t in self.tracers:
            t.on_route_exit(ctx, kind, name, how, value)


def instrument_stmt(tracer: Tracer):
    """A Compiler.instrument hook calling ``tracer.on_stmt`` before each statement."""

    def wrap(node, fn):
        on_stmt = tracer.on_stmt

        def traced(ctx):
            on_stmt(ctx, node)
            return fn(ctx)

        return traced

    return wrap
