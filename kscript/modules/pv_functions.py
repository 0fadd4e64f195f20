"""Functions of Kamailio's pv module (modules/pv/pv.c @5.6.3), mixed into
:class:`kscript.modules.pv.PvModule`.

``pv_isset(pv)`` (1 when not null), ``pv_unset(pv)``, ``is_int(pv)`` (the value is an
integer), ``typeof(pv, "int"|"str"|"null")``, ``not_empty(pv)`` (a non-empty string),
``xavp_params_explode(params, name)`` (``a=1;b=2`` -> a new ``$xavp(name)`` item),
``xavp_params_implode(name, pv)``, ``xavp_rm(name)``, ``xavp_child_seti``/``_sets``/``_rm``,
``pv_evalx(dst, fmt)`` (evaluate a format held in a variable), ``pv_var_to_xavp`` /
``pv_xavp_to_var``, ``sbranch_set_ruri``/``sbranch_append``/``sbranch_reset``
(the static branch, ``$sbranch``), ``pv_xavp_print`` (logs the XAVPs at INFO).
"""

from __future__ import annotations

from ..runtime.values import to_str
from .base import function


def _xavp_id(name: str) -> int:
    """core ``get_hash1_raw`` (an XAVP's id)."""
    from ..sip.output import _enc, _hash_update
    h = _hash_update(_enc(name), 0)
    return (h + (h >> 11) + (h >> 13) + (h >> 23)) & 0xFFFFFFFF


def _ptr(obj) -> str:
    return f"0x{id(obj) & 0xFFFFFFFFFFFF:x}"


def _print_xavp_list(ctx, avps: list, level: int, head) -> None:
    """``xavx_print_list_content`` for a list of (name, value) pairs."""
    def log(text):
        ctx.log("INFO", text, source="core")
    start = _ptr(avps) if avps else "(nil)"
    log(f"+++++ start XAVP list: {start} ({_ptr(head)}) (level={level})")
    for name, val in avps:
        p = _ptr(val)
        log(f"     *** (l:{level} - {p}) XAVP name: {name}")
        log(f"     XAVP id: {_xavp_id(name)}")
        if isinstance(val, dict):
            log("     XAVP value type: 6")
            children = [(k, v) for k in reversed(list(val)) for v in val[k]]
            log(f"     XAVP value: <xavp:{_ptr(children) if children else '(nil)'}>")
            _print_xavp_list(ctx, children, level + 1, val)
        elif val is None:
            log("     XAVP value type: 0")
            log("     XAVP value: <null>")
        elif isinstance(val, int):
            log("     XAVP value type: 1")
            log(f"     XAVP value (int): {val}")
        else:
            log("     XAVP value type: 2")
            log(f"     XAVP value (str): {to_str(val)}")
        log(f"     *** (l:{level} - {p}) end")
    log(f"----- end XAVP list: {start} (level={level})")


def _parse_params(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out.append((name.strip(), value if eq else ""))
    return out


class PvFunctions:
    """Mixin: cfg functions of the pv module."""

    @function("pv_isset", "pvar")
    def pv_isset(self, ctx, pv):
        from ..pv.base import PVFailed
        try:
            v = pv.get(ctx)
        except PVFailed:
            return -1
        return -1 if v is None else 1

    @function("pv_unset", "pvar")
    def pv_unset(self, ctx, pv):
        if not pv.cls.writable:
            ctx.log("ERR", "faile to unset variable", source="pv")
            return -1
        try:
            pv.set(ctx, None)
        except Exception:  # noqa: BLE001 - setters refusing null
            ctx.log("ERR", "faile to unset variable", source="pv")
            return -1
        return 1

    @function("is_int", "pvar")
    def is_int(self, ctx, pv):
        return 1 if type(pv.value(ctx)) is int else -1

    @function("typeof", "pvar", "str")
    def typeof(self, ctx, pv, t):
        v = pv.value(ctx)
        c = t[:1].lower()
        if c == "i":
            return 1 if type(v) is int else -1
        if c == "n":
            return 1 if v is None else -1
        if c == "s":
            return 1 if isinstance(v, str) else -1
        return -1

    @function("not_empty", "pvar")
    def not_empty(self, ctx, pv):
        v = pv.value(ctx)
        return 1 if isinstance(v, str) and v else -1

    @function("xavp_params_explode", "fmt", "fmt")
    def xavp_params_explode(self, ctx, params, xname):
        if not params or not xname:
            ctx.log("ERR", "invalid parameters", source="pv")
            return -1
        if params.endswith(";"):
            params = params[:-1]
        plist = _parse_params(params)
        if not plist:
            return -1
        item: dict = {}
        for name, value in plist:
            item.setdefault(name, []).insert(0, value)
        ctx.xavps.setdefault(xname, []).insert(0, item)
        return 1

    @function("xavp_params_implode", "fmt", "pvar")
    def xavp_params_implode(self, ctx, xname, dst):
        items = ctx.xavps.get(xname)
        if not items or not isinstance(items[0], dict):
            return -1
        out = []
        for name, vals in reversed(list(items[0].items())):
            for v in vals:
                if type(v) is int:
                    out.append(f"{name}={v & 0xFFFFFFFF};")
                elif isinstance(v, str):
                    out.append(f"{name}={v};" if v else f"{name};")
        dst.set(ctx, "".join(out))
        return 1

    @function("xavp_rm", "fmt")
    def xavp_rm(self, ctx, name):
        items = ctx.xavps.get(name)
        if items:
            items.pop(0)
            if not items:
                del ctx.xavps[name]
        return 1

    def _child(self, ctx, rname):
        items = ctx.xavps.setdefault(rname, [])
        if not items or not isinstance(items[0], dict):
            items.insert(0, {})
        return items[0]

    @function("xavp_child_seti", "fmt", "fmt", "igp")
    def xavp_child_seti(self, ctx, rname, cname, value):
        if value is None:
            return -1
        self._child(ctx, rname)[cname] = [value]
        return 1

    @function("xavp_child_sets", "fmt", "fmt", "fmt")
    def xavp_child_sets(self, ctx, rname, cname, value):
        self._child(ctx, rname)[cname] = [value]
        return 1

    @function("xavp_child_rm", "fmt", "fmt")
    def xavp_child_rm(self, ctx, rname, cname):
        items = ctx.xavps.get(rname)
        if items and isinstance(items[0], dict):
            items[0].pop(cname, None)
        return 1

    @function("pv_evalx", "pvar", "fmt")
    def pv_evalx(self, ctx, dst, fmt_text):
        from ..errors import ConfigError
        cache = self.__dict__.setdefault("_evalx", {})
        f = cache.get(fmt_text)
        if f is None:
            try:
                f = cache[fmt_text] = ctx.script.compiler.fmt(fmt_text, None)
            except ConfigError:
                ctx.log("ERR", "failed to parse pv format", source="pv")
                return -1
        dst.set(ctx, f.render(ctx))
        return 1

    @function("pv_var_to_xavp", "fmt", "fmt")
    def pv_var_to_xavp(self, ctx, varname, xname):
        vars_ = ctx.script.vars
        item: dict = {}
        if varname == "*":
            for k, v in vars_.items():
                item[k] = [v]
        else:
            if varname not in vars_:
                return -1
            item[varname] = [vars_[varname]]
        ctx.xavps.setdefault(xname, []).insert(0, item)
        return 1

    @function("pv_xavp_to_var", "fmt")
    def pv_xavp_to_var(self, ctx, xname):
        items = ctx.xavps.get(xname)
        if not items:
            return -1
        for item in items:
            if isinstance(item, dict):
                for k, vals in item.items():
                    if vals:
                        ctx.script.vars[k] = vals[0]
        return 1

    @function("pv_xavp_print")
    def pv_xavp_print(self, ctx):
        """``xavp_print_list``: the core's INFO dump of the XAVP list (newest
        first; kscript keeps one list per name, so names come newest-created
        first, then each name's items).  Pointers are made up."""
        level0 = []
        for root in reversed(list(ctx.xavps)):
            for item in ctx.xavps[root]:
                level0.append((root, item))
        _print_xavp_list(ctx, level0, 0, id(ctx.xavps))
        return 1

    # ---- static branch
    @function("sbranch_reset")
    def sbranch_reset(self, ctx):
        ctx.data.pop("sbranch", None)
        return 1

    @function("sbranch_set_ruri")
    def sbranch_set_ruri(self, ctx):
        sb = ctx.data.get("sbranch")
        if sb is None or not sb.uri:
            return -1
        ctx.new_uri = sb.uri
        ctx.dst_uri = sb.dst_uri
        ctx.bflags = sb.flags
        return 1

    @function("sbranch_append")
    def sbranch_append(self, ctx):
        sb = ctx.data.get("sbranch")
        if sb is None or not sb.uri:
            return -1
        import copy
        ctx.branches.append(copy.copy(sb))
        return 1
