"""Control flow of the script as Python exceptions (raised rarely, caught where
Kamailio clears its run flags: route calls absorb return/break, loops and
switches absorb break, the top route absorbs exit)."""

from __future__ import annotations


class ReturnSignal(Exception):
    """``return [v]`` (RETURN_R_F); ``return 0`` also ends the script (see Exit)."""

    __slots__ = ("value",)

    def __init__(self, value: int):
        self.value = value


class BreakSignal(Exception):
    """``break`` (BREAK_R_F), value 0."""

    __slots__ = ()


class ExitSignal(Exception):
    """``exit``, ``drop``, ``return 0`` or a module function returning 0 (EXIT_R_F)."""

    __slots__ = ("value", "drop")

    def __init__(self, value: int, drop: bool = False):
        self.value = value
        self.drop = drop


class ScriptAbort(Exception):
    """Processing was interrupted from outside (REPL Ctrl-C, step limit)."""
