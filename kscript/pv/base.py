"""The PV-class plugin interface, and compiled PV access.

A module exports PV classes (``$var``, ``$hdr``, ``$redis``...) as subclasses of
:class:`PVClass`. At load time every PV token of the cfg is turned once into a
:class:`CompiledPV` (class, parsed inner name, index, transformations); at run
time reading it is one method call plus the transformation chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..errors import ConfigError, Position
from .spec import PVSpec, PVSyntaxError, parse_pv, scan_pv
from .transformations import TransformFailed

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.context import MsgContext

Value = int | str | None


class PVFailed(Exception):
    """Reading the PV failed (a getter error or a failed transformation).

    In a format the PV prints as empty; in an expression it is undefined.
    """


class PVClass:
    """Base of a PV class. Subclasses set ``name`` and override what they support.

    ``parse_name`` turns the inner text of ``$name(inner)`` into whatever the
    getter needs (called once at load time; raise ``ValueError`` with a message
    for a bad name). ``get``/``set`` receive the message context, the parsed name
    and the index (None, an int, ``"*"``, or a callable ``ctx -> int``).
    """

    name: str = ""
    takes_name: bool = False  # ``$name(...)`` required
    indexed: bool = False  # accepts ``[i]``
    writable: bool = False

    def __init__(self, module=None):
        self.module = module

    def parse_name(self, inner: str | None, compiler) -> Any:
        if inner is not None and not self.takes_name:
            raise ValueError(f"${self.name} takes no name")
        if inner is None and self.takes_name:
            raise ValueError(f"${self.name} needs a name: ${self.name}(...)")
        return inner

    def get(self, ctx: "MsgContext", name, idx) -> Value:
        raise NotImplementedError

    def set(self, ctx: "MsgContext", name, idx, value: Value) -> None:
        raise ConfigError(f"${self.name} is read-only")

    def is_defined(self, ctx: "MsgContext", name, idx) -> bool:
        try:
            return self.get(ctx, name, idx) is not None
        except PVFailed:
            return False


class CompiledPV:
    """One PV occurrence of the cfg, ready to read/write."""

    __slots__ = ("text", "cls", "name", "idx", "transforms", "pos", "get", "single")

    def __init__(self, text: str, cls: PVClass, name, idx, transforms, pos: Position | None):
        self.text = text
        self.cls = cls
        self.name = name
        self.idx = idx
        self.transforms = transforms
        self.pos = pos
        self.get = self._make_getter()

    def _make_getter(self) -> Callable[["MsgContext"], Value]:
        cls_get = self.cls.get
        name = self.name
        idx = self.idx
        trs = self.transforms
        if not trs:
            return lambda ctx: cls_get(ctx, name, idx)

        def get(ctx):
            v = cls_get(ctx, name, idx)
            try:
                for tr in trs:
                    v = tr.apply(v, lambda p: _eval_param(ctx, p))
            except TransformFailed:
                raise PVFailed(self.text) from None
            return v

        return get

    def value(self, ctx) -> Value:
        """The value in an expression: a failed read is undefined (None)."""
        try:
            return self.get(ctx)
        except PVFailed:
            return None

    def set(self, ctx, value: Value) -> None:
        self.cls.set(ctx, self.name, self.idx, value)


def _eval_param(ctx, p):
    if isinstance(p, CompiledPV):
        return p.value(ctx)
    return p


def compile_pv(text: str, resolver, pos: Position | None = None, *, spec: PVSpec | None = None) -> CompiledPV:
    """Compile PV text using ``resolver`` (the runtime's PV class lookup)."""
    try:
        spec = spec or parse_pv(text)
    except PVSyntaxError as e:
        raise ConfigError(f"bad pseudo-variable '{text}': {e}", pos) from None
    return compile_spec(spec, resolver, pos)


def compile_spec(spec: PVSpec, resolver, pos: Position | None) -> CompiledPV:
    cls = resolver.pv_class(spec.cls)
    if cls is None:
        raise ConfigError(f"unknown pseudo-variable '{spec.text}'", pos)
    try:
        name = cls.parse_name(spec.inner, resolver)
    except ValueError as e:
        raise ConfigError(f"bad pseudo-variable '{spec.text}': {e}", pos) from None
    idx = None
    if spec.index is not None:
        if not cls.indexed:
            raise ConfigError(f"'{spec.text}': ${spec.cls} does not take an index", pos)
        idx = _parse_index(spec.index, resolver, pos, spec.text)
    trs = []
    if spec.transforms:
        from ..errors import KscriptError
        from .transformations.spec import parse_transformation
        for t in spec.transforms:
            try:
                trs.append(parse_transformation("{" + t + "}", lambda s: compile_pv(s, resolver, pos)))
            except KscriptError as e:
                raise e.with_pos(pos) from None
    return CompiledPV(spec.text, cls, name, idx, trs, pos)


def _parse_index(text: str, resolver, pos, pvtext):
    if text in ("*", "+"):
        return text
    try:
        return int(text)
    except ValueError:
        pass
    if text.startswith("$"):
        inner = compile_pv(text, resolver, pos)
        from ..runtime.values import to_int
        return lambda ctx: to_int(inner.value(ctx))
    raise ConfigError(f"bad index '[{text}]' in '{pvtext}'", pos)


# ------------------------------------------------------------------ formats
class Format:
    """A PV format string (``"user $rU at $(ru{uri.host})"``) compiled once.

    ``render(ctx)`` gives the printed string: null prints ``<null>``, a failed
    PV prints nothing (core/pvapi.c@5.6.3:1436-1517).
    """

    __slots__ = ("text", "parts", "static")

    def __init__(self, text: str, parts: list, static: str | None):
        self.text = text
        self.parts = parts
        self.static = static

    def render(self, ctx) -> str:
        if self.static is not None:
            return self.static
        out = []
        for p in self.parts:
            if type(p) is str:
                out.append(p)
                continue
            try:
                v = p.get(ctx)
            except PVFailed:
                continue
            if v is None:
                out.append("<null>")
            else:
                out.append(v if type(v) is str else str(v))
        return "".join(out)


def compile_format(text: str, resolver, pos: Position | None = None) -> Format:
    """Parse a format; every ``$`` must start a valid PV (else Kamailio refuses to start)."""
    if "$" not in text:
        return Format(text, [text], text)
    parts: list = []
    buf = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c != "$":
            buf.append(c)
            i += 1
            continue
        if text.startswith("$$", i):
            buf.append("$")
            i += 2
            continue
        try:
            spec, end = scan_pv(text, i)
        except PVSyntaxError as e:
            raise ConfigError(f"invalid PV in format string \"{text}\" at offset {i}: {e}", pos) from None
        if buf:
            parts.append("".join(buf))
            buf = []
        parts.append(compile_spec(spec, resolver, pos))
        i = end
    if buf:
        parts.append("".join(buf))
    return Format(text, parts, None)
