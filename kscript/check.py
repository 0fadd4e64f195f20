"""``kscript check``: preprocess, parse and check a configuration.

The entry point the CLI, the runner and the tests share. Never raises for a bad
config: every problem is in the returned :class:`CheckReport`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import nodes as N
from .errors import KscriptError
from .source import SourceMap


@dataclass
class CheckReport:
    """The outcome of checking one configuration."""

    file: str
    defines: list[str] = field(default_factory=list)
    config: N.Config | None = None
    smap: SourceMap | None = None
    errors: list[KscriptError] = field(default_factory=list)
    warnings: list = field(default_factory=list)
    defines_map: dict = field(default_factory=dict)  # the defines in force at the end

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        cfg = self.config
        routes: dict[str, int] = {}
        modules: list[str] = []
        params = 0
        if cfg is not None:
            for item in cfg.items:
                if isinstance(item, N.RouteBlock):
                    routes[item.kind] = routes.get(item.kind, 0) + 1
                elif isinstance(item, N.LoadModule):
                    modules.append(item.module)
                elif isinstance(item, (N.CoreParam, N.CfgVar, N.Listen)):
                    params += 1
        return {"modules": modules, "routes": routes, "params": params}

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "ok": self.ok,
            "defines": self.defines,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            **self.summary(),
        }


def check_file(path: str | os.PathLike, defines: list[str] | tuple[str, ...] = (), *,
               emulated: set[tuple[str, str]] | None = None) -> CheckReport:
    """Check ``path`` as ``kamailio -c -f path -A d...`` would (plus kscript's warnings)."""
    from .catalogue import load as load_catalogue
    from .checker import CheckContext, check_config
    from .parser import parse_source
    from .preprocessor import Preprocessor

    report = CheckReport(str(path), list(defines))
    pp = Preprocessor()
    try:
        for d in defines:
            pp.define_cli(d)
        smap = pp.run(path)
        report.smap = smap
        report.defines_map = pp.defines
        cfg = parse_source(smap)
        report.config = cfg
    except KscriptError as e:
        report.errors.append(e)
        return report
    ctx = CheckContext(load_catalogue(), smap=smap, emulated=emulated)
    check_config(cfg, ctx)
    report.errors.extend(ctx.errors)
    report.warnings.extend(ctx.warnings)
    return report
