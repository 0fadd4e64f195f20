"""Start-up checks Kamailio 5.6 makes after parsing, applied to kscript's AST.

What ``kamailio -c`` refuses (loadmodule of an unknown module, modparam of a
module not loaded or with a wrong name/type, a function no loaded module exports
with that many parameters, an unknown PV class, a read-only PV assigned, a
constant-type error) becomes a :class:`~kscript.errors.ConfigError` at the place
Kamailio reports it. What Kamailio accepts but kscript cannot run yet, and
routes referenced but not defined, become warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import nodes as N
from .catalogue import Catalogue
from .errors import ConfigError, KscriptError, Position
from .pv.spec import PVSyntaxError, parse_pv
from .source import SourceMap


@dataclass
class Diagnostic:
    """A warning (or an error collected without stopping)."""

    message: str
    pos: Position | None
    kind: str = "warning"

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "message": self.message}
        if self.pos:
            d.update(file=self.pos.file, line=self.pos.line, column=self.pos.column)
        return d


@dataclass
class CheckContext:
    catalogue: Catalogue
    smap: SourceMap | None = None
    errors: list[KscriptError] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    # emulated: (module, function) pairs kscript implements; None = don't warn
    emulated: set[tuple[str, str]] | None = None

    def error(self, msg: str, pos: Position | None) -> None:
        src = self.smap.source_line(pos) if (self.smap and pos) else None
        self.errors.append(ConfigError(msg, pos, source_line=src))

    def warn(self, msg: str, pos: Position | None) -> None:
        self.warnings.append(Diagnostic(msg, pos))


# ---------------------------------------------------------------- entry point
def check_config(cfg: N.Config, ctx: CheckContext) -> None:
    """Run every check over ``cfg`` in source order, filling ``ctx``."""
    routes: dict[str, set[str]] = {}
    for item in cfg.items:
        if isinstance(item, N.RouteBlock) and item.name is not None:
            kind = item.kind
            names = routes.setdefault(kind, set())
            if item.name in names:
                ctx.error(f"duplicate {kind}_route '{item.name}'", item.pos)
            names.add(item.name)
    for item in cfg.items:
        if isinstance(item, N.LoadModule):
            _check_loadmodule(item, ctx)
        elif isinstance(item, N.ModParam):
            _check_modparam(item, ctx)
        elif isinstance(item, N.CoreParam):
            _check_core_param(item, ctx)
        elif isinstance(item, N.RouteBlock):
            _check_route(item, ctx, routes)


def _check_loadmodule(item: N.LoadModule, ctx: CheckContext) -> None:
    name = item.module
    if not ctx.catalogue.has_module(name):
        ctx.error(f"failed to load module '{name}': no such module in Kamailio 5.6", item.pos)
        return
    if name not in ctx.loaded:
        ctx.loaded.append(name)


def _check_core_param(item: N.CoreParam, ctx: CheckContext) -> None:
    if item.name not in ctx.catalogue.core_params():
        ctx.error(f"syntax error: unknown core parameter '{item.name}'", item.eq_pos or item.pos)


def _check_modparam(item: N.ModParam, ctx: CheckContext) -> None:
    try:
        rx = re.compile(f"^({item.module})$", re.I)
    except re.error:
        ctx.error(f"bad module name regex '{item.module}' in modparam", item.pos)
        return
    matched = [m for m in ctx.loaded if rx.match(m)]
    where = item.end_pos or item.pos
    if not matched:
        ctx.error(f"modparam: no loaded module matches '{item.module}' (missing loadmodule?)", where)
        return
    want = "int" if isinstance(item.value, int) else "str"
    for mod in matched:
        params = ctx.catalogue.module_params(mod) or {}
        p = params.get(item.param)
        if p is None:
            ctx.error(f"modparam: module '{mod}' has no parameter '{item.param}'", where)
            return
        ptype = "int" if p.get("type") == "int" else "str"
        if ptype != want:
            ctx.error(f"modparam: parameter '{item.param}' of module '{mod}' takes "
                      f"{'an integer' if ptype == 'int' else 'a string'}, not "
                      f"{'an integer' if want == 'int' else 'a string'}", where)
            return


# ---------------------------------------------------------------- routes
_ROUTE_ARMERS = {"t_on_failure": "failure", "t_on_reply": "onreply", "t_on_branch": "branch"}


def _check_route(block: N.RouteBlock, ctx: CheckContext, routes: dict[str, set[str]]) -> None:
    for node in block.body.walk():
        if isinstance(node, N.Call):
            _check_call(node, ctx, routes)
        elif isinstance(node, N.PVRef):
            _check_pv(node, ctx)
        elif isinstance(node, N.Assign):
            _check_lvalue(node.target, ctx)
        elif isinstance(node, N.RouteCall):
            t = node.target
            name = t.name if isinstance(t, N.Name) else (str(t.value) if isinstance(t, N.Literal) else None)
            if name is not None and name not in routes.get("route", set()):
                ctx.warn(f"route '{name}' is called but not defined (Kamailio refuses to start)", node.pos)
        elif isinstance(node, (N.Binary, N.Unary)):
            pass
    from .typecheck import check_types  # local: keeps the module graph acyclic
    check_types(block.body, ctx)


def _check_call(call: N.Call, ctx: CheckContext, routes: dict[str, set[str]]) -> None:
    cat = ctx.catalogue
    n = len(call.args)
    where = call.end_pos or call.pos
    core = cat.core_function(call.name)
    if core is not None:
        if call.bare and not core.get("bare"):
            ctx.error(f"syntax error: '{call.name}' needs parentheses", where)
        elif not call.bare and n not in core.get("arities", []):
            ctx.error(f"unknown command '{call.name}' with {n} parameter(s), missing loadmodule?", where)
        return
    if call.bare:
        ctx.error(f"syntax error: unexpected '{call.name}' (function calls need parentheses)", call.pos)
        return
    found = cat.find_function(call.name, ctx.loaded)
    arities = set()
    for _mod, entry in found:
        arities.add(entry.get("nparams"))
    if not found or (n not in arities and "var" not in arities):
        detail = f" (params {n})"
        ctx.error(f"unknown command '{call.name}'{detail}, missing loadmodule?", where)
        return
    if call.name in _ROUTE_ARMERS and n == 1 and isinstance(call.args[0], N.Literal):
        kind = _ROUTE_ARMERS[call.name]
        name = str(call.args[0].value)
        if name not in routes.get(kind, set()):
            ctx.warn(f"{call.name}(\"{name}\"): no {kind}_route[{name}] is defined", call.pos)
    if ctx.emulated is not None:
        mods = {m for m, _ in found}
        if not any((m, call.name) in ctx.emulated for m in mods):
            ctx.warn(f"function '{call.name}' ({'/'.join(sorted(mods))}) is not emulated by kscript yet", call.pos)


def _check_pv(ref: N.PVRef, ctx: CheckContext) -> None:
    try:
        spec = parse_pv(ref.text)
    except PVSyntaxError as e:
        ctx.error(f"bad pseudo-variable '{ref.text}': {e}", ref.pos)
        return
    ref.spec = spec
    info = ctx.catalogue.pv_class(spec.cls, ctx.loaded)
    if info is None:
        ctx.error(f"unknown pseudo-variable '{ref.text}' (class '${spec.cls}' not exported by core "
                  f"or a loaded module)", ref.pos)
        return
    for tr in spec.transforms:
        name = re.split(r"[,}]", tr, 1)[0].strip()
        cls, _, trname = name.partition(".")
        names = ctx.catalogue.transformation_names(cls)
        if names is None or trname not in names:
            ctx.error(f"unknown transformation '{{{name}}}' in '{ref.text}'", ref.pos)
            return


def _check_lvalue(ref: N.PVRef, ctx: CheckContext) -> None:
    try:
        spec = parse_pv(ref.text)
    except PVSyntaxError:
        return  # reported by _check_pv
    info = ctx.catalogue.pv_class(spec.cls, ctx.loaded)
    if info is None:
        return
    if spec.transforms:
        ctx.error(f"cannot assign to '{ref.text}': a PV with transformations is read-only", ref.pos)
    elif not info.get("writable"):
        ctx.error(f"cannot assign to read-only pseudo-variable '{ref.text}'", ref.pos)
