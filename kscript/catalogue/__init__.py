"""What Kamailio 5.6.3 exports to kamailio.cfg, per module and for the core.

The data lives in ``kamailio-5.6.json`` next to this file; it is generated
from Kamailio's source by ``tools/gen_catalogue.py`` (see that script for the
format) and checked against the installed binary by
``tests/catalogue/test_catalogue.py``.  ``kscript check`` uses it to tell a
name *unknown to Kamailio* (a config error: Kamailio refuses to start) from a
name Kamailio knows but kscript does not emulate (a warning).

Usage::

    from kscript.catalogue import load
    cat = load()                               # parsed once, then cached
    cat.has_module("tm")                       # True
    cat.function_arities("tm", "t_relay")      # {0, 2}
    cat.find_function("xlog", ["xlog", "tm"])  # [("xlog", {...}), ...]
    cat.pv_class("hdr", ["pv"])                # {"has_name": True, ...}

Module names are the names ``loadmodule`` takes (the .so file name:
``"tm"``, ``"tm.so"`` and ``"/path/tm.so"`` are all accepted).  Note that
``modparam`` matches its regex against the *exports* name
(:meth:`Catalogue.exports_name`), which differs for a few modules
(``ss7ops`` -> ``ss7``).

A function entry is a dict::

    {"nparams": int | "var", "fixup": str | None, "free_fixup": str | None,
     "flags": ["REQUEST_ROUTE", ...] or ["ANY_ROUTE"], "route_mask": int}

Entries Kamailio marks ``NO_SCRIPT`` (nparams -1: C API exports such as
``load_tm``) are not callable from a script and are left out of
:meth:`Catalogue.find_function` and :meth:`Catalogue.function_arities`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

__all__ = ["Catalogue", "load", "ROUTE_MASKS"]

_DATA = "kamailio-5.6.json"

#: Route type the parser checks a call with, per block kind (core/cfg.y):
#: request_route and route[x] -> REQUEST_ROUTE, failure_route ->
#: FAILURE_ROUTE, onreply_route / onreply_route[0] -> CORE_ONREPLY_ROUTE,
#: onreply_route[x] -> TM_ONREPLY_ROUTE, branch_route -> BRANCH_ROUTE,
#: onsend_route -> ONSEND_ROUTE, event_route -> EVENT_ROUTE
#: (= REQUEST_ROUTE | ONEVENT_ROUTE, matched if the function has either bit).
ROUTE_MASKS = {
    "request": 1 << 0,
    "route": 1 << 0,
    "failure": 1 << 1,
    "tm_reply": 1 << 2,
    "branch": 1 << 3,
    "onsend": 1 << 4,
    "core_reply": 1 << 7,
    "event": (1 << 0) | (1 << 9),
}


def _norm(name: str) -> str:
    """``/path/tm.so`` / ``tm.so`` / ``tm`` -> ``tm``."""
    name = name.rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".so") else name


class Catalogue:
    """Read-only view over the catalogue JSON (see the module docstring)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.version: str = data.get("version", "")
        self._modules: dict[str, dict] = data.get("modules", {})
        self._core: dict[str, Any] = data.get("core", {})
        self._core_params = frozenset(self._core.get("params", ()))
        self._tr = {k: frozenset(v) for k, v in data.get("transformations", {}).items()}
        self._tr_module = {k: v.get("module")
                           for k, v in data.get("transformation_parsers", {}).items()}
        # function name -> [(module, entry)] over all modules, source order
        self._by_func: dict[str, list[tuple[str, dict]]] = {}
        for mod in sorted(self._modules):
            for fname, entries in self._modules[mod].get("functions", {}).items():
                for e in entries:
                    if e.get("nparams") != -1:
                        self._by_func.setdefault(fname, []).append((mod, e))

    # ------------------------------------------------------------ modules
    def module(self, name: str) -> dict | None:
        """The module's record (exports_name, functions, params, pvs,
        transformations), or None if Kamailio 5.6 has no such module."""
        return self._modules.get(_norm(name))

    def has_module(self, name: str) -> bool:
        return _norm(name) in self._modules

    def modules(self) -> list[str]:
        """All module names (as loadmodule takes them), sorted."""
        return sorted(self._modules)

    def exports_name(self, name: str) -> str | None:
        """The name modparam's regex and ``MOD_<name>`` use (``ss7`` for
        ``ss7ops``), or None for an unknown module."""
        m = self.module(name)
        return (m.get("exports_name") or _norm(name)) if m else None

    def module_params(self, name: str) -> dict[str, dict] | None:
        """``{param: {"type": "int"|"str"|"string", "types": [...],
        "func": bool}}`` or None for an unknown module.  ``types`` lists
        every type the name is declared with (modparam picks the one matching
        the value: an integer value needs "int", a string "str"/"string")."""
        m = self.module(name)
        return m.get("params", {}) if m else None

    # ------------------------------------------------------------ functions
    def function_arities(self, module: str, fname: str) -> set | None:
        """Parameter counts ``module`` exports ``fname`` with (ints, plus
        ``"var"`` for VAR_PARAM_NO), or None if the module does not export it
        to scripts."""
        m = self.module(module)
        if not m or fname not in m.get("functions", {}):
            return None
        ar = {e["nparams"] for e in m["functions"][fname] if e.get("nparams") != -1}
        return ar or None

    def find_function(self, fname: str, loaded_modules: Iterable[str] | None = None,
                      nparams: int | None = None,
                      route: str | None = None) -> list[tuple[str, dict]]:
        """``[(module, entry), ...]`` for ``fname`` among ``loaded_modules``
        (all modules if None), in module-name order.  With ``nparams``, only
        entries taking that many parameters (or variable); with ``route`` (a
        key of :data:`ROUTE_MASKS`), only entries allowed in that block."""
        found = self._by_func.get(fname, [])
        if loaded_modules is not None:
            wanted = {_norm(m) for m in loaded_modules}
            found = [(m, e) for m, e in found if m in wanted]
        if nparams is not None:
            found = [(m, e) for m, e in found if e["nparams"] in (nparams, "var")]
        if route is not None:
            found = [(m, e) for m, e in found if self.route_allows(e, route)]
        return found

    @staticmethod
    def route_allows(entry: dict, route: str) -> bool:
        """Whether the parser accepts a call to ``entry`` in a block of kind
        ``route`` (core/sr_module.c sr_cmd_flags_match)."""
        want = ROUTE_MASKS[route]
        mask = entry.get("route_mask", 0)
        if mask & want == want:
            return True
        return route == "event" and bool(mask & want)

    # ------------------------------------------------------------ core
    def core_params(self) -> frozenset[str]:
        """Names accepted as ``name = value`` core parameters (cfg.y assign_stm)."""
        return self._core_params

    def core_param_syntax(self, name: str) -> dict | None:
        """``{"token": T, "values": [[grammar symbols], ...]}`` for a core
        parameter (e.g. debug -> [["intno"]])."""
        return self._core.get("param_syntax", {}).get(name)

    def core_function(self, name: str) -> dict | None:
        """A core action (forward, drop, setflag, ...):
        ``{"token", "forms", "arities": [..], "bare": bool}``; None if ``name``
        is not a core action keyword."""
        return self._core.get("functions", {}).get(name)

    def core_keyword(self, name: str) -> str | None:
        """The lexer token a word becomes (``"drop"`` -> ``"DROP"``), or None
        for an ordinary identifier."""
        return self._core.get("keywords", {}).get(name)

    # ------------------------------------------------------------ PVs / transformations
    def pv_class(self, name: str, loaded_modules: Iterable[str] | None = ()) -> dict | None:
        """Info on PV class ``name`` (``$name`` / ``$name(...)``) from the
        core or one of ``loaded_modules`` (None = any module): ``has_name``
        (an inner name is required; without a name parser none is allowed),
        ``writable``, ``indexed``, ``type``, ``module``."""
        core = self._core.get("pvs", {}).get(name)
        if core is not None:
            return dict(core, module="core")
        mods = self._modules if loaded_modules is None else [_norm(m) for m in loaded_modules]
        for mod in mods:
            info = self._modules.get(mod, {}).get("pvs", {}).get(name)
            if info is not None:
                return dict(info, module=mod)
        return None

    def transformation_names(self, cls: str,
                             loaded_modules: Iterable[str] | None = None) -> frozenset[str] | None:
        """Names of transformation class ``cls`` (``{s.len}`` -> "s" has
        "len"), or None if unknown -- or, when ``loaded_modules`` is given,
        if the module registering the class is not among them."""
        names = self._tr.get(cls)
        if names is None:
            return None
        if loaded_modules is not None and \
                self._tr_module.get(cls) not in {_norm(m) for m in loaded_modules}:
            return None
        return names

    def transformation_module(self, cls: str) -> str | None:
        """The module registering transformation class ``cls`` (``s`` -> pv)."""
        return self._tr_module.get(cls)


@lru_cache(maxsize=1)
def load() -> Catalogue:
    """The Kamailio 5.6 catalogue (read from the package data once)."""
    text = resources.files(__name__).joinpath(_DATA).read_text(encoding="utf-8")
    return Catalogue(json.loads(text))
