"""Mocks: stand-ins for functions kscript does not emulate, or overrides of ones it does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class MockCall:
    """One recorded call: the evaluated arguments (strings/ints) and the cfg position."""

    args: tuple
    pos: Any = None


@dataclass
class Mock:
    """``returns`` is an int or a list (one per call, the last repeats); ``sets`` maps PV
    text to a value assigned on each call; ``headers`` are appended like append_hf."""

    script: Any
    name: str
    returns: Any = 1
    sets: dict = field(default_factory=dict)
    headers: Any = None
    side_effect: Callable | None = None
    calls: list[MockCall] = field(default_factory=list)

    def _next_return(self) -> int:
        r = self.returns
        if isinstance(r, (list, tuple)):
            if not r:
                return 1
            i = min(len(self.calls) - 1, len(r) - 1)
            return int(r[i])
        return int(r)

    def as_impl(self):
        compiled = {}

        def impl(ctx, *args):
            self.calls.append(MockCall(tuple(args), ctx.cur_pos))
            for text, value in self.sets.items():
                pv = compiled.get(text)
                if pv is None:
                    pv = compiled[text] = self.script.compiler.pv(text, None)
                pv.set(ctx, value)
            if self.headers:
                from ..modules.textops import add_header_lump
                for h in ([self.headers] if isinstance(self.headers, str) else self.headers):
                    add_header_lump(ctx, h if h.endswith("\r\n") else h + "\r\n")
            if self.side_effect is not None:
                r = self.side_effect(ctx, *args)
                if r is not None:
                    return int(r)
            return self._next_return()

        return impl
