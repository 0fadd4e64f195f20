"""textops: tests and edits on the message text (textops/textops.c@5.6.3).

Edits (append_hf, remove_hf, subst...) are lumps: they change what is sent,
not what PVs read back (§3.4 of the surface map, :mod:`kscript.sip.lumps`).
Regular expressions are compiled like Kamailio's ``fixup_regexp_null``: POSIX
extended, case-insensitive, ``REG_NEWLINE``.  ``search()`` runs over the whole
message, ``replace*()``/``subst()``/``search_append()`` start after the first
line, the ``*_body`` variants over the body only.
"""

from __future__ import annotations

import time

from ..errors import ConfigError
from ..runtime.subst import SubstError, compile_re
from ..sip.headers import header_key
from ..sip.lumps import add_reply_lump, blen, lumps_of
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


#: is_method's parsed method lists (a pure function of the text: shared)
_METHOD_SPECS: dict[str, tuple[int, str | None]] = {}


class TextopsModule(Module):
    name = "textops"

    # ---- method
    @function("is_method", "str")
    def is_method(self, ctx, methods):
        spec = _METHOD_SPECS.get(methods)
        if spec is None:
            spec = _METHOD_SPECS[methods] = parse_method_list(methods, ctx.cur_pos)
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
            return 1 if METHOD_BITS.get(m.upper() if m else "", 0) & bits else -1
        return 1 if method_bits(m) == 0 and m.lower() == other.lower() else -1

    # ---- presence / search (read the received message)
    @function("is_present_hf", "fmt")
    def is_present_hf(self, ctx, name):
        return 1 if ctx.msg.has_header(name) else -1

    @function("is_present_hf_re", "rei")
    def is_present_hf_re(self, ctx, rx):
        return 1 if any(rx.search(h.name) for h in ctx.msg.headers) else -1

    @function("is_present_hf_pv", "fmt")
    def is_present_hf_pv(self, ctx, name):
        if not name:
            return -1
        return 1 if ctx.msg.has_header(name) else -1

    @function("is_present_hf_re_pv", "fmt")
    def is_present_hf_re_pv(self, ctx, pattern):
        rx = _dyn_re(ctx, pattern)
        if rx is None:
            return -1
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

    @function("search", "rei")
    def search(self, ctx, rx):
        return 1 if rx.search(ctx.msg.text) else -1

    @function("search_body", "rei")
    def search_body(self, ctx, rx):
        body = ctx.msg.body
        if not body:
            return -1
        return 1 if rx.search(body) else -1

    @function("search_hf", "str", "rei", "str")
    def search_hf(self, ctx, hname, rx, flags):
        key = header_key(hname)
        msg = ctx.msg
        last = None
        for h in msg.headers:
            if h.key != key:
                continue
            if flags[:1] != "l":
                if rx.search(h.body):
                    return 1
                if flags[:1] == "f":
                    return -1
            else:
                last = h
        if last is not None and rx.search(last.body):
            return 1
        return -1

    @function("search_str", "fmt", "fmt")
    def search_str(self, ctx, text, pattern):
        rx = _dyn_re(ctx, pattern, newline=False)
        if rx is None:
            return -1
        return 1 if rx.search(text) else -1

    # ---- adding headers
    @function("append_hf", "fmt")
    def append_hf(self, ctx, text):
        return add_hf(ctx, text, append=True)

    @function("append_hf", "fmt", "str")
    def append_hf2(self, ctx, text, hname):
        return add_hf(ctx, text, append=True, anchor_name=hname)

    @function("insert_hf", "fmt")
    def insert_hf(self, ctx, text):
        return add_hf(ctx, text, append=False)

    @function("insert_hf", "fmt", "str")
    def insert_hf2(self, ctx, text, hname):
        return add_hf(ctx, text, append=False, anchor_name=hname)

    @function("append_urihf", "str", "str")
    def append_urihf(self, ctx, prefix, suffix):
        if not ctx.msg.is_request:
            return -1
        return add_hf(ctx, prefix + ctx.msg.ruri + suffix, append=True)

    @function("append_time")
    def append_time(self, ctx):
        stamp = time.strftime("Date: %a, %d %b %Y %H:%M:%S GMT", time.gmtime(ctx.script.clock()))
        return 1 if add_reply_lump(ctx, stamp + "\r\n") else -1

    @function("append_time_to_request")
    def append_time_to_request(self, ctx):
        msg = ctx.msg
        stamp = time.strftime("Date: %a, %d %b %Y %H:%M:%S GMT", time.gmtime(ctx.script.clock()))
        lumps = lumps_of(ctx)
        anchor = lumps.anchor(msg.spans[0][3])
        lumps.insert_after(anchor, stamp + "\r\n")
        return 1

    # ---- removing headers
    @function("remove_hf", "str")
    def remove_hf(self, ctx, hname):
        return remove_headers_named(ctx, header_key(hname))

    @function("remove_hf_pv", "fmt")
    def remove_hf_pv(self, ctx, hname):
        if not hname:
            return -1
        return remove_headers_named(ctx, header_key(hname))

    @function("remove_hf_re", "rei")
    def remove_hf_re(self, ctx, rx):
        return remove_headers(ctx, lambda h: rx.search(h.name) is not None)

    @function("remove_hf_re_pv", "fmt")
    def remove_hf_re_pv(self, ctx, pattern):
        rx = _dyn_re(ctx, pattern)
        if rx is None:
            return -1
        return remove_headers(ctx, lambda h: rx.search(h.name) is not None)

    @function("remove_hf_exp", "rei", "rei")
    def remove_hf_exp(self, ctx, match, skip):
        return remove_headers(ctx, lambda h: skip.search(h.name) is None and match.search(h.name) is not None)

    @function("remove_hf_exp_pv", "fmt", "fmt")
    def remove_hf_exp_pv(self, ctx, pmatch, pskip):
        match = _dyn_re(ctx, pmatch)
        skip = _dyn_re(ctx, pskip)
        if match is None or skip is None:
            return -1
        return remove_headers(ctx, lambda h: skip.search(h.name) is None and match.search(h.name) is not None)

    @function("remove_hf_idx", "fmt", "igp")
    def remove_hf_idx(self, ctx, hname, idx):
        if idx is None:
            self.log(ctx, "ERR", "failed to get header index")
            return -1
        key = header_key(hname)
        msg = ctx.msg
        found = [i for i, h in enumerate(msg.headers) if h.key == key]
        if idx < 0:
            idx += len(found)
            if idx < 0:
                return 1
        if idx >= len(found):
            return 2
        i = found[idx]
        start, _, _, end = msg.spans[i]
        lumps_of(ctx).delete(start, end - start)
        return 1

    @function("remove_hf_match", "fmt", "fmt", "fmt")
    def remove_hf_match(self, ctx, hname, op, expr):
        key = header_key(hname)
        opl = op.lower()
        if opl == "re":
            rx = _dyn_re(ctx, expr)
            if rx is None:
                return -1
            test = lambda body: rx.search(body) is not None  # noqa: E731
        elif opl == "eq":
            test = lambda body: body == expr  # noqa: E731
        elif opl == "ne":
            test = lambda body: body != expr  # noqa: E731
        elif opl == "in":
            test = lambda body: expr in body  # noqa: E731
        else:
            self.log(ctx, "ERR", f"unknown operator [{op}]")
            return -1
        msg = ctx.msg
        ret = -2
        for i, h in enumerate(msg.headers):
            if h.key == key and test(h.body):
                start, _, _, end = msg.spans[i]
                lumps_of(ctx).delete(start, end - start)
                ret = 1
        return ret

    # ---- replies
    @function("append_to_reply", "fmt")
    def append_to_reply(self, ctx, text):
        if not add_reply_lump(ctx, text):
            self.log(ctx, "ERR", "unable to add lump_rl")
            return -1
        return 1

    @function("set_reply_body", "fmt", "fmt")
    def set_reply_body(self, ctx, body, ctype):
        if not body:
            self.log(ctx, "ERR", "invalid body parameter")
            return -1
        if not ctype:
            self.log(ctx, "ERR", "invalid content-type parameter")
            return -1
        add_reply_lump(ctx, f"Content-Type: {ctype}\r\n")
        if not add_reply_lump(ctx, body, body=True):
            self.log(ctx, "ERR", "cannot add body lump")
            return -1
        return 1

    # ---- regex replacements
    @function("replace", "rei", "str")
    def replace(self, ctx, rx, value):
        return _replace(ctx, rx, value, *_headers_range(ctx.msg), first_only=True)

    @function("replace_all", "rei", "str")
    def replace_all(self, ctx, rx, value):
        return _replace(ctx, rx, value, *_headers_range(ctx.msg), first_only=False)

    @function("replace_body", "rei", "str")
    def replace_body(self, ctx, rx, value):
        rng = _body_range(ctx.msg)
        if rng is None:
            return -1
        return _replace(ctx, rx, value, *rng, first_only=True)

    @function("replace_body_all", "rei", "str")
    def replace_body_all(self, ctx, rx, value):
        rng = _body_range(ctx.msg)
        if rng is None:
            return -1
        return _replace(ctx, rx, value, *rng, first_only=False)

    @function("replace_body_atonce", "str", "str")
    def replace_body_atonce(self, ctx, pattern, value):
        rng = _body_range(ctx.msg)
        if rng is None:
            return -1
        rx = compile_re(pattern, icase=True, newline=False)
        return _replace(ctx, rx, value, *rng, first_only=False)

    @function("replace_hdrs", "rei", "str")
    def replace_hdrs(self, ctx, rx, value):
        start, _ = _headers_range(ctx.msg)
        return _replace(ctx, rx, value, start, ctx.msg.eoh, first_only=True)

    @function("replace_str", "fmt", "fmt", "fmt")
    def replace_str(self, ctx, key, value, mode):
        start, end = _headers_range(ctx.msg)
        return _replace_str(ctx, start, end, key, value, mode)

    @function("replace_body_str", "fmt", "fmt", "fmt")
    def replace_body_str(self, ctx, key, value, mode):
        rng = _body_range(ctx.msg)
        if rng is None:
            return -1
        return _replace_str(ctx, rng[0], rng[1], key, value, mode)

    @function("replace_hdrs_str", "fmt", "fmt", "fmt")
    def replace_hdrs_str(self, ctx, key, value, mode):
        start, _ = _headers_range(ctx.msg)
        if ctx.msg.eoh <= start:
            return -1
        return _replace_str(ctx, start, ctx.msg.eoh, key, value, mode)

    @function("search_append", "rei", "str")
    def search_append(self, ctx, rx, value):
        start, end = _headers_range(ctx.msg)
        return _search_append(ctx, rx, value, start, end)

    @function("search_append_body", "rei", "str")
    def search_append_body(self, ctx, rx, value):
        rng = _body_range(ctx.msg)
        if rng is None:
            return -1
        return _search_append(ctx, rx, value, *rng)

    # ---- sed-like substitutions
    @function("subst", "subst")
    def subst(self, ctx, se):
        start, end = _headers_range(ctx.msg)
        return _subst_range(ctx, se, start, end)

    @function("subst_body", "subst")
    def subst_body(self, ctx, se):
        rng = _body_range(ctx.msg)
        if rng is None:
            return -1
        return _subst_range(ctx, se, *rng)

    @function("subst_uri", "subst")
    def subst_uri(self, ctx, se):
        if not ctx.msg.is_request:
            return -1
        try:
            result = se.apply(ctx, ctx.ruri)
        except SubstError as e:
            self.log(ctx, "ERR", str(e))
            return -1
        if result is None:
            return -1
        ctx.new_uri = result
        return 1

    @function("subst_user", "subst")
    def subst_user(self, ctx, se):
        from ..errors import KscriptError
        from ..sip.uri import parse_uri
        if not ctx.msg.is_request:
            return -1
        try:
            u = parse_uri(ctx.ruri)
        except KscriptError:
            return -1
        try:
            result = se.apply(ctx, u.user or "")
        except SubstError:
            self.log(ctx, "ERR", "subst_user(): subst_str() failed")
            return -1
        if result is None:
            return -1
        from .core import _rewrite
        return _rewrite(ctx, user=result)

    @function("subst_hf", "str", "subst", "str")
    def subst_hf(self, ctx, hname, se, flags):
        key = header_key(hname)
        msg = ctx.msg
        ret = -1
        last = None
        f = flags[:1]
        for i, h in enumerate(msg.headers):
            if h.key != key:
                continue
            if f != "l":
                _, bstart, bend, _ = msg.spans[i]
                try:
                    lst = se.run(ctx, msg.text[bstart:bend])
                except SubstError as e:
                    self.log(ctx, "ERR", f"textops subst_run failed ({e})")
                    return ret
                if not lst and f == "f":
                    return -1
                if lst:
                    ret = 1
                _apply_replacements(ctx, bstart, lst)
                if f == "f":
                    return ret
            else:
                last = i
        if last is not None:
            _, bstart, bend, _ = msg.spans[last]
            try:
                lst = se.run(ctx, msg.text[bstart:bend])
            except SubstError:
                return -1
            if not lst:
                return -1
            _apply_replacements(ctx, bstart, lst)
            ret = 1
        return ret

    # ---- bodies
    @function("set_body", "fmt", "fmt")
    def set_body(self, ctx, body, ctype):
        return set_body(ctx, body, ctype, self)

    @function("set_body_multipart")
    def set_body_multipart0(self, ctx):
        return set_multibody(ctx, "", "", "", self)

    @function("set_body_multipart", "fmt")
    def set_body_multipart1(self, ctx, boundary):
        return set_multibody(ctx, "", "", boundary, self)

    @function("set_body_multipart", "fmt", "fmt")
    def set_body_multipart2(self, ctx, body, ctype):
        return set_multibody(ctx, body, ctype, "", self)

    @function("set_body_multipart", "fmt", "fmt", "fmt")
    def set_body_multipart3(self, ctx, body, ctype, boundary):
        return set_multibody(ctx, body, ctype, boundary, self)

    @function("append_body_part", "fmt", "fmt")
    def append_body_part(self, ctx, body, ctype):
        return append_multibody(ctx, body, ctype, "", self)

    @function("append_body_part", "fmt", "fmt", "fmt")
    def append_body_part3(self, ctx, body, ctype, cdisp):
        return append_multibody(ctx, body, ctype, cdisp, self)

    @function("append_body_part_hex", "fmt", "fmt")
    def append_body_part_hex(self, ctx, hexbody, ctype):
        raw = _unhex(hexbody)
        if raw is None:
            self.log(ctx, "ERR", f"invalid input hex data [{hexbody}]")
            return -1
        return append_multibody(ctx, raw, ctype, "", self)

    @function("append_body_part_hex", "fmt", "fmt", "fmt")
    def append_body_part_hex3(self, ctx, hexbody, ctype, cdisp):
        raw = _unhex(hexbody)
        if raw is None:
            self.log(ctx, "ERR", f"invalid input hex data [{hexbody}]")
            return -1
        return append_multibody(ctx, raw, ctype, cdisp, self)

    @function("get_body_part", "fmt", "pvar")
    def get_body_part(self, ctx, ctype, dst):
        return _body_part(ctx, ctype, dst, headers=False)

    @function("get_body_part_raw", "fmt", "pvar")
    def get_body_part_raw(self, ctx, ctype, dst):
        return _body_part(ctx, ctype, dst, headers=True)

    @function("remove_body_part", "fmt")
    def remove_body_part(self, ctx, ctype):
        found = _find_part(ctx, ctype)
        if found is None:
            return -1
        start, _, _, end = found
        lumps_of(ctx).delete(start, end - start)
        ctx.data["body_multipart"] = True  # FL_BODY_MULTIPART: check_boundaries
        return 1

    @function("filter_body", "str")
    def filter_body(self, ctx, ctype):
        msg = ctx.msg
        if _mixed_boundary(msg) is None:
            ctx.log("WARN", "body not multipart", source="textops")
            return -1
        found = _find_part(ctx, ctype)
        if found is None:
            return -1
        _, hdr_end, bstart, _ = found
        text = msg.text
        content = hdr_end
        while content < len(text) and text[content] in "\r\n":
            content += 1
        lumps = lumps_of(ctx)
        lumps.delete(msg.body_start, content - msg.body_start)
        lumps.delete(bstart - 2, len(text) - (bstart - 2))
        return 1

    @function("is_privacy", "str")
    def is_privacy(self, ctx, values):
        want = 0
        for v in values.split("|"):
            bit = _PRIVACY.get(v.strip().lower())
            if bit is None:
                raise ConfigError(f"is_privacy: bad privacy value '{v}'", ctx.cur_pos)
            want |= bit
        have = 0
        for body in ctx.msg.headers_named("privacy"):
            for v in body.replace(",", ";").split(";"):
                bit = _PRIVACY.get(v.strip().lower())
                if bit is None:
                    return -1
                have |= bit
        if not ctx.msg.has_header("privacy"):
            return -1
        return 1 if have & want else -1

    @function("regex_substring", "fmt", "fmt", "igp", "igp", "pvar")
    def regex_substring(self, ctx, text, pattern, mindex, nmatch, dst):
        if mindex is None or nmatch is None:
            self.log(ctx, "ERR", "unable to get index")
            return -1
        if mindex > nmatch - 1:
            self.log(ctx, "ERR", "matched_index cannot be bigger than match_count")
            return -1
        try:
            rx = compile_re(pattern, icase=False, newline=False)
        except ConfigError:
            self.log(ctx, "ERR", "regular expression coudnt be compiled, Error code: (1)")
            return -1
        m = rx.search(text)
        if m is None:
            return -2
        if mindex > rx.groups:
            return -1
        g = m.group(mindex)
        if g is None:
            self.log(ctx, "WARN", "invalid offset for regular expression result")
            return -1
        if g == "":
            self.log(ctx, "WARN", "Matched string is empty")
            return -1
        dst.set(ctx, g)
        return 1

    @function("is_audio_on_hold")
    def is_audio_on_hold(self, ctx):
        body = ctx.msg.body or ""
        ct = (ctx.msg.header("Content-Type") or "").lower()
        if "application/sdp" not in ct or not body:
            return -1
        in_audio = False
        for line in body.replace("\r\n", "\n").split("\n"):
            if line.startswith("m="):
                in_audio = line.startswith("m=audio")
            elif line.startswith("c=") and in_audio and line.strip().endswith(" 0.0.0.0"):
                return 1
            elif in_audio and line.strip() in ("a=sendonly", "a=inactive"):
                return 1
            if line.strip().startswith("c=") and line.strip().endswith(" 0.0.0.0"):
                return 1
        return -1

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


# ---------------------------------------------------------------- helpers
def _dyn_re(ctx, pattern: str, newline: bool = True):
    """A regex given at run time (the *_pv variants): None (with Kamailio's log) when bad."""
    try:
        return compile_re(pattern, icase=True, newline=newline)
    except ConfigError:
        ctx.log("ERR", f"failed to compile regex: {pattern}", source="textops")
        return None


def _headers_range(msg) -> tuple[int, int]:
    """From the first header (after the first line) to the end of the message."""
    start = msg.spans[0][0] if msg.spans else msg.eoh
    return start, len(msg.text)


def _body_range(msg) -> tuple[int, int] | None:
    if not msg.body:
        return None
    return msg.body_start, len(msg.text)


def add_hf(ctx, text: str, append: bool = True, anchor_name: str | None = None) -> int:
    """textops ``add_hf_helper``: a header text inserted before the end of the headers
    (append), after the last header ``anchor_name`` (append) or before the first one
    (insert), or before the first header (insert)."""
    msg = ctx.msg
    if not msg.spans:
        ctx.log("ERR", "error while parsing message", source="textops")
        return -1
    found = None
    if anchor_name is not None:
        key = header_key(anchor_name)
        for i, h in enumerate(msg.headers):
            if h.key == key:
                found = i
                if not append:
                    break
    if append:
        offset = msg.eoh if found is None else msg.spans[found][3]
    else:
        offset = msg.spans[0][0] if found is None else msg.spans[found][0]
    if not text:
        ctx.log("INFO", "nothing to add", source="textops")
        return -1
    lumps = lumps_of(ctx)
    anchor = lumps.anchor(offset)
    lumps.insert_before(anchor, text)
    return 1


def add_header_lump(ctx, text: str) -> int:
    """append_hf(text) for other modules and mocks."""
    return add_hf(ctx, text, append=True)


def remove_headers_named(ctx, key: str) -> int:
    """Delete every header whose key is ``key`` (found through the header index): 1 if
    any, else -1."""
    msg = ctx.msg
    found = msg._idx().get(key)
    if not found:
        return -1
    lumps = lumps_of(ctx)
    spans = msg.spans
    for i in found:
        start, _, _, end = spans[i]
        lumps.delete(start, end - start)
    return 1


def remove_headers(ctx, pred) -> int:
    """Delete every header for which ``pred(header)``: 1 if any, else -1."""
    msg = ctx.msg
    cnt = 0
    lumps = None
    for i, h in enumerate(msg.headers):
        if pred(h):
            if lumps is None:
                lumps = lumps_of(ctx)
            start, _, _, end = msg.spans[i]
            lumps.delete(start, end - start)
            cnt += 1
    return 1 if cnt else -1


def _replace(ctx, rx, value: str, start: int, end: int, first_only: bool) -> int:
    text = ctx.msg.text
    seg = text[start:end]
    pos = 0
    ret = -1
    lumps = None
    while pos <= len(seg):
        m = rx.search(seg, pos)
        if m is None:
            break
        if m.start() == m.end():
            ctx.log("ERR", "matched string is empty... invalid regexp?", source="textops")
            return -1
        if lumps is None:
            lumps = lumps_of(ctx)
        d = lumps.delete(start + m.start(), m.end() - m.start())
        lumps.insert_after(d, value)
        ret = 1
        if first_only:
            break
        pos = m.end()
    return ret


def _replace_str(ctx, start: int, end: int, key: str, value: str, mode: str) -> int:
    if not key or start >= end:
        return 1
    text = ctx.msg.text
    first = not mode or mode[0] in "fF"
    pos = start
    lumps = lumps_of(ctx)
    while True:
        i = text.find(key, pos, end)
        if i < 0:
            break
        d = lumps.delete(i, len(key))
        lumps.insert_after(d, value)
        if first:
            return 1
        pos = i + len(key)
    return 1


def _search_append(ctx, rx, value: str, start: int, end: int) -> int:
    m = rx.search(ctx.msg.text[start:end])
    if m is None:
        return -1
    lumps = lumps_of(ctx)
    anchor = lumps.anchor(start + m.end())
    lumps.insert_after(anchor, value)
    return 1


def _apply_replacements(ctx, base: int, lst) -> None:
    if not lst:
        return
    lumps = lumps_of(ctx)
    for off, size, rpl in lst:
        d = lumps.delete(base + off, size)
        lumps.insert_after(d, rpl)


def _subst_range(ctx, se, start: int, end: int) -> int:
    try:
        lst = se.run(ctx, ctx.msg.text[start:end])
    except SubstError as e:
        ctx.log("ERR", str(e), source="core")
        ctx.log("ERR", "textops: subst_run failed", source="textops")
        return -1
    if not lst:
        return -1
    _apply_replacements(ctx, start, lst)
    return 1


def set_body(ctx, body: str, ctype: str, mod=None) -> int:
    """textops ``set_body``: replace the body (and Content-Type; add Content-Length)."""
    msg = ctx.msg
    if not body:
        ctx.log("ERR", "invalid body parameter", source="textops")
        return -1
    if not ctype:
        ctx.log("ERR", "invalid content-type parameter", source="textops")
        return -1
    lumps = lumps_of(ctx)
    lumps.body_head = None
    cl = msg.content_length
    if cl:
        if msg.body_start + cl > len(msg.text):
            ctx.log("ERR", f"invalid content length: {cl}", source="textops")
            return -1
        lumps.delete(msg.body_start, cl)
    anchor = lumps.anchor(msg.eoh)
    if cl is None:
        lumps.insert_after(anchor, f"Content-Length: {blen(body)}\r\n")
    cur = msg.header("Content-Type")
    if cur is None or cur != ctype:
        if cur is not None:
            i = next(i for i, h in enumerate(msg.headers) if h.key == "content-type")
            s, _, _, e = msg.spans[i]
            lumps.delete(s, e - s)
        lumps.insert_after(anchor, f"Content-Type: {ctype}\r\n")
    banchor = lumps.anchor(msg.body_start)
    lumps.insert_after(banchor, body)
    return 1


def _boundary_part(txt: str, ctype: str, cdisp: str, delim: str, initial: bool) -> str:
    out = []
    if initial:
        out.append(f"--{delim}\r\n")
    out.append(f"Content-Type: {ctype}\r\n")
    if cdisp:
        out.append(f"Content-Disposition: {cdisp}\r\n")
    out.append("\r\n")
    out.append(txt)
    if not txt.endswith("\r\n\r\n"):
        out.append("\r\n")
    out.append(f"--{delim}\r\n")
    return "".join(out)


def _mixed_boundary(msg) -> str | None:
    import re
    ct = msg.header("Content-Type") or ""
    if not ct.lower().lstrip().startswith("multipart/mixed"):
        return None
    m = re.search(r"boundary\s*=\s*(\"([^\"]*)\"|[^;\s]+)", ct, re.I)
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(1)


def set_multibody(ctx, body: str, ctype: str, boundary: str, mod=None) -> int:
    """textops ``set_body_multipart``: turn the body into multipart/mixed."""
    msg = ctx.msg
    is_multi = _mixed_boundary(msg) is not None
    if is_multi and not body:
        return 1
    ctype = ctype or "text/plain"
    delim = boundary or "unique-boundary-1"
    lumps = lumps_of(ctx)
    lumps.body_head = None
    old = msg.body
    oldctype = msg.header("Content-Type") if old else None
    if old:
        lumps.delete(msg.body_start, len(old))
    if not body and not old:
        ctx.log("WARN", "no body to be set in the message", source="textops")
        return -1
    anchor = lumps.anchor(msg.eoh)
    if body:
        part = _boundary_part(body, ctype, "", delim, True)
    else:
        part = _boundary_part(old, oldctype or ctype, "", delim, True)
    if msg.content_length is None:
        lumps.insert_after(anchor, f"Content-Length: {blen(part)}\r\n")
    if not is_multi:
        i = next((i for i, h in enumerate(msg.headers) if h.key == "content-type"), None)
        if i is not None:
            s, _, _, e = msg.spans[i]
            lumps.delete(s, e - s)
        lumps.insert_after(anchor, f'Content-Type: multipart/mixed;boundary="{delim}"\r\n')
        add_hf(ctx, "Mime-Version: 1.0\r\n")
    banchor = lumps.anchor(msg.body_start)
    lumps.insert_after(banchor, part)
    ctx.data["body_multipart"] = True  # FL_BODY_MULTIPART: check_boundaries
    return 1


def append_multibody(ctx, body: str, ctype: str, cdisp: str, mod=None) -> int:
    """textops ``append_body_part``: add a part at the end of a multipart body."""
    msg = ctx.msg
    if not body:
        ctx.log("ERR", "invalid body parameter", source="textops")
        return -1
    if not ctype:
        ctx.log("ERR", "invalid content-type parameter", source="textops")
        return -1
    if not msg.body:
        return -1
    delim = _mixed_boundary(msg)
    if delim is None:
        ctx.log("ERR", "Cannot get boundary. Is body multipart?", source="textops")
        return -1
    lumps = lumps_of(ctx)
    anchor = lumps.anchor(len(msg.text))
    lumps.insert_after(anchor, _boundary_part(body, ctype, cdisp, delim, False))
    ctx.data["body_multipart"] = True  # FL_BODY_MULTIPART: check_boundaries
    return 1


_PRIVACY = {"user": 1, "header": 2, "session": 4, "none": 8, "critical": 16, "id": 32, "history": 64}


def _find_part(ctx, ctype: str):
    """Locate the multipart part whose Content-Type starts with ``ctype`` the way
    textops does (line by line): (line start, end of the Content-Type line, start of
    the next boundary line, end of that line) or None."""
    msg = ctx.msg
    text = msg.text
    delim = _mixed_boundary(msg)
    if delim is None or not msg.body:
        return None
    boundary = "--" + delim
    pos = msg.body_start
    n = len(text)
    while pos < n:
        eol = text.find("\r\n", pos)
        if eol < 0:
            return None
        line = text[pos:eol]
        name, colon, value = line.partition(":")
        if colon and header_key(name.strip()) == "content-type":
            value = value.lstrip(" \t")
            if value[:len(ctype)].lower() == ctype.lower():
                if value[len(ctype):] != "":
                    return None  # "no CRLF found after content type"
                hdr_end = eol + 2
                b = hdr_end
                while b < n:
                    if text.startswith(boundary, b):
                        beol = text.find("\r\n", b)
                        bend = n if beol < 0 else beol + 2
                        return pos, hdr_end, b, bend
                    nxt = text.find("\r\n", b)
                    if nxt < 0:
                        return None
                    b = nxt + 2
                return None
        pos = eol + 2
    return None


def _body_part(ctx, ctype, dst, headers: bool) -> int:
    msg = ctx.msg
    if not msg.body:
        return -1
    if _mixed_boundary(msg) is None:
        dst.set(ctx, msg.body)
        return 1
    found = _find_part(ctx, ctype)
    if found is None:
        return -1
    start, hdr_end, bstart, bend = found
    dst.set(ctx, msg.text[start:bend] if headers else msg.text[hdr_end:bstart])
    return 1


def _unhex(text: str) -> str | None:
    out = bytearray()
    digits = [c for c in text if c not in " \t"]
    if not digits or len(digits) % 2:
        return None
    try:
        for i in range(0, len(digits), 2):
            out.append(int(digits[i] + digits[i + 1], 16))
    except ValueError:
        return None
    return out.decode("utf-8", "surrogateescape")
