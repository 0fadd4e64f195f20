"""Where kscript finds module implementations: built-ins, then plugins.

Built-in modules are listed here by Kamailio module name and imported lazily.
Third-party packages add modules through the ``kscript.modules`` entry-point
group (``name = "package.module:ModuleClass"``), like sqlglot's dialect plugins.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

#: Kamailio module name -> "python.module:Class"
BUILTIN: dict[str, str] = {
    "core": "kscript.modules.core:CoreModule",
    "pv": "kscript.modules.pv:PvModule",
    "xlog": "kscript.modules.xlog:XlogModule",
    "textops": "kscript.modules.textops:TextopsModule",
    "ndb_redis": "kscript.modules.ndb_redis:NdbRedisModule",
    "sl": "kscript.modules.sl:SlModule",
    "maxfwd": "kscript.modules.maxfwd:MaxfwdModule",
    "siputils": "kscript.modules.siputils:SiputilsModule",
    "kex": "kscript.modules.kex:KexModule",
    "sanity": "kscript.modules.sanity:SanityModule",
    "htable": "kscript.modules.htable:HtableModule",
    "rr": "kscript.modules.rr:RrModule",
    "textopsx": "kscript.modules.textopsx:TextopsxModule",
    "corex": "kscript.modules.corex:CorexModule",
    "db_redis": "kscript.modules.db_redis:DbRedisModule",
    "usrloc": "kscript.modules.usrloc:UsrlocModule",
    "registrar": "kscript.modules.registrar:RegistrarModule",
    "auth": "kscript.modules.auth:AuthModule",
    "auth_db": "kscript.modules.auth_db:AuthDbModule",
    "acc": "kscript.modules.acc:AccModule",
    "tm": "kscript.modules.tm:TmModule",
    "tmx": "kscript.modules.tm:TmxModule",
}

ENTRY_POINT_GROUP = "kscript.modules"


@lru_cache(maxsize=None)
def _plugins() -> dict[str, str]:
    try:
        from importlib.metadata import entry_points
    except ImportError:  # pragma: no cover
        return {}
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Names of every module kscript can emulate."""
    return sorted(set(BUILTIN) | set(_plugins()))


@lru_cache(maxsize=None)
def module_class(name: str):
    """The Module subclass emulating Kamailio module ``name``, or None."""
    target = BUILTIN.get(name) or _plugins().get(name)
    if target is None:
        return None
    modname, _, clsname = target.partition(":")
    return getattr(importlib.import_module(modname), clsname)


@lru_cache(maxsize=1)
def emulated_functions() -> frozenset[tuple[str, str]]:
    """(module, function) pairs kscript implements."""
    out = set()
    for name in available():
        cls = module_class(name)
        if cls is None:
            continue
        for fd in cls.function_defs():
            out.add((name, fd.name))
    return frozenset(out)
