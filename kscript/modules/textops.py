"""textops: tests and edits on the message text (textops/textops.c@5.6.3).

Edits (append_hf, remove_hf, subst...) are lumps: they change what is sent,
not what PVs read back (§3.4 of the surface map).
"""

from __future__ import annotations

from ..errors import ConfigError
from ..runtime.regex import compile_posix
from .base import Module, function

METHOD_BITS = {
    "INVITE": 1, "CANCEL": 2, "ACK": 4, "BYE": 8, "INFO": 16, "REGISTER": 32, "SUBSCRIBE": 64, "NOTIFY": 128,
    "MESSAGE": 256, "OPTIONS": 512, "PRACK": 1024, "UPDATE": 2048, "REFER": 4096, "PUBLISH": 8192,
    "KDMQ": 16384, "GET": 32768, "POST": 65536, "PUT": 131072, "DELETE": 262144,
}


def method_bits(method: str | None) -> int:
    """Kamailio's method id for a method name (case-insensitive); 0 = METHOD_OTHER."""
    return METHOD_BITS.get((method or "").upper(), 0)


def parse_method_list(text: str, pos=None) -> tuple[int, str | None]:
    """``"INVITE|BYE"`` → (bitmask, None); a single unknown method → (0, name)."""
    names = [t.strip() for t in text.split("|")]
    bits = 0
    unknown = [n for n in names if method_bits(n) == 0]
    if unknown:
        if len(names) == 1:
            return 0, names[0]
        raise ConfigError(f"is_method: unknown method '{unknown[0]}' in a method list", pos)
    for n in names:
        bits |= method_bits(n)
    return bits, None


class TextopsModule(Module):
    name = "textops"

    # ---- method
    @function("is_method", "str")
    def is_method(self, ctx, methods):
        cache = self.__dict__.setdefault("_mcache", {})
        spec = cache.get(methods)
        if spec is None:
            spec = cache[methods] = parse_method_list(methods, ctx.cur_pos)
        bits, other = spec
        msg = ctx.msg
        if msg.is_request:
            m = msg.method
        else:
            cs = msg.cseq
            if cs is None:
                ctx.log("ERR", "cannot parse cseq header", source="textops")
                return -1
            m = cs.method
        if other is None:
            return 1 if method_bits(m) & bits else -1
        return 1 if method_bits(m) == 0 and m.lower() == other.lower() else -1

    # ---- presence / search (read the received message)
    @function("is_present_hf", "fmt")
    def is_present_hf(self, ctx, name):
        return 1 if ctx.msg.has_header(name) else -1

    @function("is_present_hf_re", "regex")
    def is_present_hf_re(self, ctx, rx):
        return 1 if any(rx.search(h.name) for h in ctx.msg.headers) else -1

    @function("has_body")
    def has_body(self, ctx):
        return 1 if ctx.msg.body else -1

    @function("has_body", "str")
    def has_body_type(self, ctx, ctype):
        if not ctx.msg.body:
            return -1
        ct = (ctx.msg.header("Content-Type") or "").split(";", 1)[0].strip().lower()
        return 1 if ct == ctype.strip().lower() else -1

    @function("search", "str")
    def search(self, ctx, pattern):
        rx = compile_posix(pattern, icase=True)
        return 1 if rx.search(ctx.msg.text) else -1

    @function("search_body", "str")
    def search_body(self, ctx, pattern):
        rx = compile_posix(pattern, icase=True)
        body = ctx.msg.body
        return 1 if body and rx.search(body) else -1

    # ---- string helpers
    @function("starts_with", "fmt", "fmt")
    def starts_with(self, ctx, s, prefix):
        return 1 if s.startswith(prefix) else -1

    @function("ends_with", "fmt", "fmt")
    def ends_with(self, ctx, s, suffix):
        return 1 if s.endswith(suffix) else -1

    @function("cmp_str", "fmt", "fmt")
    def cmp_str(self, ctx, a, b):
        return 1 if a == b else -1

    @function("cmp_istr", "fmt", "fmt")
    def cmp_istr(self, ctx, a, b):
        return 1 if a.lower() == b.lower() else -1

    @function("str_find", "fmt", "fmt")
    def str_find(self, ctx, a, b):
        i = a.find(b)
        return i + 1 if i >= 0 else -1

    @function("str_ifind", "fmt", "fmt")
    def str_ifind(self, ctx, a, b):
        i = a.lower().find(b.lower())
        return i + 1 if i >= 0 else -1

    @function("in_list", "fmt", "fmt", "str")
    def in_list(self, ctx, subject, items, sep):
        return 1 if subject in [x.strip() for x in items.split(sep[:1] or ",")] else -1

    @function("in_list_prefix", "fmt", "fmt", "str")
    def in_list_prefix(self, ctx, subject, items, sep):
        return 1 if any(subject.startswith(x.strip()) for x in items.split(sep[:1] or ",")) else -1
