"""xlog: formatted logging from the script (xlog/xlog.c@5.6.3)."""

from __future__ import annotations

from .base import Module, Param, function

_LEVEL_CHAR = {"A": "ALERT", "B": "BUG", "C": "CRIT", "E": "ERR", "W": "WARN", "N": "NOTICE", "I": "INFO", "D": "DBG"}
_LEVEL_NUM = {-5: "ALERT", -4: "BUG", -3: "CRIT", -2: "CRIT", -1: "ERR", 0: "WARN", 1: "NOTICE", 2: "INFO", 3: "DBG"}


def level_name(v) -> str | None:
    """``"L_INFO"`` or an int level → kscript level name (None when invalid)."""
    if isinstance(v, int):
        return _LEVEL_NUM.get(v, "DBG" if v > 3 else "ALERT")
    if isinstance(v, str) and len(v) >= 3 and v.startswith("L_"):
        return _LEVEL_CHAR.get(v[2])
    return None


class XlogModule(Module):
    name = "xlog"
    params = {"buf_size": Param("int", 4096), "force_color": Param("int", 0), "long_format": Param("int", 0),
              "prefix": Param("str", "<script>: "), "log_facility": Param("str", None),
              "log_colors": Param("str", None, multi=True), "methods_filter": Param("int", -1),
              "prefix_mode": Param("int", 0)}

    def _emit(self, ctx, level, text, line=False):
        if "\x00" in text:
            text = text.split("\x00", 1)[0]  # the C log call prints up to the first NUL
        if line and ctx.cur_pos is not None:
            text = f"{ctx.cur_pos.line}:{text}"
        ctx.log(level, text, source="script")
        return 1

    @function("xlog", "fmt")
    def xlog1(self, ctx, text):
        return self._emit(ctx, "ERR", text)

    @function("xlog", "any", "fmt")
    def xlog2(self, ctx, level, text):
        lv = level_name(level)
        if lv is None:
            ctx.log("ERR", "invalid log level", source="xlog")
            return -1
        return self._emit(ctx, lv, text)

    @function("xlog", "str", "any", "fmt")
    def xlog3(self, ctx, facility, level, text):
        return self.xlog2(ctx, level, text)

    @function("xlogl", "fmt")
    def xlogl1(self, ctx, text):
        return self._emit(ctx, "ERR", text, line=True)

    @function("xlogl", "any", "fmt")
    def xlogl2(self, ctx, level, text):
        lv = level_name(level)
        return self._emit(ctx, lv or "ERR", text, line=True)

    @function("xlogl", "str", "any", "fmt")
    def xlogl3(self, ctx, facility, level, text):
        return self.xlogl2(ctx, level, text)

    @function("xdbg", "fmt")
    def xdbg(self, ctx, text):
        return self._emit(ctx, "DBG", text)

    @function("xdbgl", "fmt")
    def xdbgl(self, ctx, text):
        return self._emit(ctx, "DBG", text, line=True)

    @function("xinfo", "fmt")
    def xinfo(self, ctx, text):
        return self._emit(ctx, "INFO", text)

    @function("xnotice", "fmt")
    def xnotice(self, ctx, text):
        return self._emit(ctx, "NOTICE", text)

    @function("xwarn", "fmt")
    def xwarn(self, ctx, text):
        return self._emit(ctx, "WARN", text)

    @function("xerr", "fmt")
    def xerr(self, ctx, text):
        return self._emit(ctx, "ERR", text)

    @function("xbug", "fmt")
    def xbug(self, ctx, text):
        return self._emit(ctx, "BUG", text)

    @function("xcrit", "fmt")
    def xcrit(self, ctx, text):
        return self._emit(ctx, "CRIT", text)

    @function("xalert", "fmt")
    def xalert(self, ctx, text):
        return self._emit(ctx, "ALERT", text)
