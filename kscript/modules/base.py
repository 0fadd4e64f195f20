"""The module plugin interface: how a Kamailio module is emulated in kscript.

A module is a :class:`Module` subclass. It declares its Kamailio name, the
modparams it understands (:class:`Param`), its PV classes, and its functions
with the :func:`function` decorator, giving the kind of each parameter so the
compiler can prepare arguments once at load time (Kamailio's fixups)::

    class SlModule(Module):
        name = "sl"

        @function("sl_send_reply", "fmt", "fmt")
        def sl_send_reply(self, ctx, code, reason):
            ...
            return 1

Parameter kinds: ``fmt`` (a PV format string, rendered per call to ``str``),
``int`` (an int, or a PV read as int per call), ``str`` (a constant string),
``regex`` (a constant POSIX extended regex, compiled once), ``pvar`` (a writable
PV, given as a :class:`~kscript.pv.base.CompiledPV`), ``flag`` (a flag number or
a name declared with ``flags``), ``any`` (the evaluated expression as is),
``igp`` (Kamailio's int-or-PV fparam, ``fixup_var_int_*``/``fixup_igp_*``: an
integer constant, or a single PV whose value must be an integer -- the getter
returns ``None`` when it is not, and the function decides, as Kamailio's
``get_int_fparam`` failing does), ``rei`` (a constant regex compiled like
``fixup_regexp_null``: case-insensitive, POSIX ``REG_NEWLINE``), ``subst`` (a
constant ``/re/repl/flags`` substitution, a
:class:`~kscript.runtime.subst.SubstExpr`).

One instance of each loaded module lives per loaded script; functions are
bound methods receiving the :class:`~kscript.runtime.context.MsgContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigError, Position

PARAM_KINDS = ("fmt", "int", "str", "regex", "pvar", "flag", "any", "ival", "igp", "rei", "subst")


@dataclass(frozen=True)
class Param:
    """A modparam kscript understands: ``type`` is "int" or "str"."""

    type: str
    default: Any = None
    multi: bool = False  # may be given several times (each value kept, in order)


@dataclass(frozen=True)
class FunctionDef:
    module: str
    name: str
    kinds: tuple[str, ...]
    attr: str  # method name on the module instance

    @property
    def nparams(self) -> int:
        return len(self.kinds)


def function(name: str, *kinds: str):
    """Register the decorated method as cfg function ``name`` taking ``len(kinds)`` params.

    Stack several decorators for several arities of one function.
    """
    for k in kinds:
        if k not in PARAM_KINDS:
            raise ValueError(f"unknown parameter kind {k!r}")

    def deco(fn):
        regs = list(getattr(fn, "_ks_functions", ()))
        regs.append((name, tuple(kinds)))
        fn._ks_functions = regs
        return fn

    return deco


class Module:
    """Base class of an emulated Kamailio module."""

    name: str = ""
    params: dict[str, Param] = {}
    pv_classes: tuple = ()  # PVClass subclasses
    requires: tuple[str, ...] = ()  # other kscript modules this one needs at run time

    def __init__(self, script):
        self.script = script
        self.param_values: dict[str, Any] = {
            k: ([] if p.multi else p.default) for k, p in self.params.items()
        }

    # ---- declarations
    @classmethod
    def function_defs(cls) -> list[FunctionDef]:
        out = []
        for attr in dir(cls):
            fn = getattr(cls, attr, None)
            for name, kinds in getattr(fn, "_ks_functions", ()):
                out.append(FunctionDef(cls.name, name, kinds, attr))
        return out

    # ---- configuration
    def set_param(self, pname: str, value: Any, pos: Position | None = None) -> None:
        """Apply ``modparam(module, pname, value)``; raise ConfigError when refused."""
        p = self.params.get(pname)
        if p is None:
            raise ConfigError(f"modparam: kscript does not support parameter '{pname}' of module "
                              f"'{self.name}' (not supported)", pos)
        want_int = p.type == "int"
        if want_int != isinstance(value, int):
            raise ConfigError(f"modparam: parameter '{pname}' of module '{self.name}' takes "
                              f"{'an integer' if want_int else 'a string'}", pos)
        if p.multi:
            self.param_values[pname].append((value, pos))
        else:
            self.param_values[pname] = value

    def param(self, pname: str):
        return self.param_values.get(pname)

    def init(self) -> None:
        """Called once all modparams are set (Kamailio's mod_init); raise ConfigError to refuse."""

    def close(self) -> None:
        """Release resources (connections) when the script is closed."""

    # ---- helpers for implementations
    def log(self, ctx, level: str, text: str) -> None:
        ctx.log(level, text, source=self.name)


FunctionImpl = Callable[..., int]
