"""Kamailio 5.6 transformations (``$(pv{class.name,p1,p2})``), one module per class.

Values flowing through transformations use kscript's value model: ``None`` is
null, ``int`` is an int-typed value, ``str`` a string-typed one. A transformation
that fails (Kamailio's ``tr_eval`` returning -1) raises :class:`TransformFailed`;
the PV read then fails as a whole (prints empty in a format, undefined in an
expression).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Value = int | str | None


class TransformFailed(Exception):
    """The transformation cannot be applied to this input (not a user error)."""


@dataclass(frozen=True, slots=True)
class TransformDef:
    """One registered transformation.

    ``params`` lists the kind of each parameter, in order: ``"int"`` (an integer
    or a PV evaluated to int), ``"str"`` (a literal string or a PV), ``"char"``
    (a one-character string). ``min_params`` of them are required.
    """

    name: str
    fn: Callable[..., Value]
    params: tuple[str, ...] = ()
    min_params: int = 0


REGISTRY: dict[str, TransformDef] = {}


def transformation(name: str, *params: str, min_params: int | None = None):
    """Decorator registering ``fn(value, *evaluated_params) -> Value`` under ``name``."""

    def deco(fn):
        REGISTRY[name] = TransformDef(name, fn, tuple(params), len(params) if min_params is None else min_params)
        return fn

    return deco
