"""A code generator for a fast yes/no check of a scenario document against ``SCHEMA``.

jsonschema is thorough but slow (and slow to import): validating a 100-step
scenario takes tens of milliseconds. :func:`generate` turns the JSON Schema into
plain Python functions answering only "valid or not", with exactly jsonschema's
(draft 2020-12) semantics for the keywords the schema uses; jsonschema is then
needed only to explain a document that is not valid.

The output is committed as ``kscript/testing/_schema_fast.py`` (so it is imported
from its ``.pyc``, not generated at each start); it records a hash of the schema,
and :mod:`kscript.testing.schema` generates the code in memory instead when the
hash does not match (a schema edited without regenerating). Regenerate with::

    python3 -m kscript.testing.schemagen

(tests/testing/test_schema.py fails while the committed file is stale).

Keywords handled: type, properties, additionalProperties, required, oneOf, enum
(strings only), minimum, maximum, pattern, minItems, minProperties,
maxProperties, propertyNames, items; annotations ($schema, $id, title,
description) are ignored. Any other keyword makes :func:`generate` fail, so a
schema change can never be checked more loosely than jsonschema would.
"""

from __future__ import annotations

import json
import os
import zlib

__all__ = ["generate", "schema_hash", "GENERATED_PATH"]

GENERATED_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_schema_fast.py")

_ANNOTATIONS = {"$schema", "$id", "title", "description"}
_HANDLED = _ANNOTATIONS | {"type", "properties", "additionalProperties", "required", "oneOf", "enum", "minimum",
                           "maximum", "pattern", "minItems", "minProperties", "maxProperties", "propertyNames",
                           "items"}

# jsonschema's draft 2020-12 type checker, as expressions on ``x``
_TYPES = {
    "string": "isinstance(x, str)",
    "integer": "((isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer()))",
    "number": "(isinstance(x, (int, float)) and not isinstance(x, bool))",
    "boolean": "isinstance(x, bool)",
    "null": "x is None",
    "object": "isinstance(x, dict)",
    "array": "isinstance(x, list)",
}
_NUMBER = "(isinstance(x, (int, float)) and not isinstance(x, bool))"


def schema_hash(schema: dict) -> str:
    """A fingerprint of the schema (cheap: computed at each start to tell a stale module)."""
    text = json.dumps(schema, sort_keys=True).encode()
    return f"{zlib.crc32(text):08x}-{len(text)}"


class _Gen:
    def __init__(self):
        self.names: dict[str, str] = {}  # function body -> function name
        self.defs: list[str] = []  # module-level constants (regexes, property tables)
        self.funcs: list[str] = []
        self.consts: dict[str, str] = {}  # constant source -> name

    def const(self, prefix: str, src: str) -> str:
        name = self.consts.get(src)
        if name is None:
            name = self.consts[src] = f"_{prefix}{len(self.consts)}"
            self.defs.append(f"{name} = {src}")
        return name

    def fn(self, schema) -> str:
        if schema is True or schema == {}:
            return "_true"
        if schema is False:
            return "_false"
        if not isinstance(schema, dict):
            raise ValueError(f"not a schema: {schema!r}")
        unknown = set(schema) - _HANDLED
        if unknown:
            raise ValueError(f"schemagen does not handle the keyword(s) {sorted(unknown)}")
        body: list[str] = []
        types = schema.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else list(types)
            body.append(f"if not ({' or '.join(_TYPES[t] for t in types)}):")
            body.append("    return False")

        def only(t: str) -> bool:  # the type check above already guarantees x is a t
            return types == [t]

        if "enum" in schema:
            vals = schema["enum"]
            if not all(isinstance(v, str) for v in vals):
                raise ValueError("schemagen handles enums of strings only")
            c = self.const("E", f"frozenset({tuple(sorted(vals))!r})")
            body.append(f"if not (isinstance(x, str) and x in {c}):")
            body.append("    return False")
        num = [k for k in ("minimum", "maximum") if k in schema]
        if num:
            ind = ""
            if not (only("integer") or only("number")):
                body.append(f"if {_NUMBER}:")
                ind = "    "
            if "minimum" in schema:
                body.append(f"{ind}if x < {schema['minimum']!r}:")
                body.append(f"{ind}    return False")
            if "maximum" in schema:
                body.append(f"{ind}if x > {schema['maximum']!r}:")
                body.append(f"{ind}    return False")
        if "pattern" in schema:
            c = self.const("R", f"re.compile({schema['pattern']!r}).search")
            if only("string"):
                body.append(f"if not {c}(x):")
            else:
                body.append(f"if isinstance(x, str) and not {c}(x):")
            body.append("    return False")
        if "minItems" in schema or "items" in schema:
            ind = ""
            if not only("array"):
                body.append("if isinstance(x, list):")
                ind = "    "
            if "minItems" in schema:
                body.append(f"{ind}if len(x) < {int(schema['minItems'])}:")
                body.append(f"{ind}    return False")
            if "items" in schema:
                f = self.fn(schema["items"])
                if f != "_true":
                    body.append(f"{ind}for v in x:")
                    body.append(f"{ind}    if not {f}(v):")
                    body.append(f"{ind}        return False")
        obj_keys = ("properties", "additionalProperties", "required", "minProperties", "maxProperties",
                    "propertyNames")
        if any(k in schema for k in obj_keys):
            ind = ""
            if not only("object"):
                body.append("if isinstance(x, dict):")
                ind = "    "
            for r in schema.get("required", ()):
                body.append(f"{ind}if {r!r} not in x:")
                body.append(f"{ind}    return False")
            if "minProperties" in schema:
                body.append(f"{ind}if len(x) < {int(schema['minProperties'])}:")
                body.append(f"{ind}    return False")
            if "maxProperties" in schema:
                body.append(f"{ind}if len(x) > {int(schema['maxProperties'])}:")
                body.append(f"{ind}    return False")
            if "propertyNames" in schema:
                f = self.fn(schema["propertyNames"])
                if f != "_true":
                    body.append(f"{ind}for k in x:")
                    body.append(f"{ind}    if not {f}(k):")
                    body.append(f"{ind}        return False")
            props = schema.get("properties") or {}
            extra = schema.get("additionalProperties", True)
            extra_fn = self.fn(extra) if extra is not False else None
            if props or extra is not True:
                table = self.const("P", "{" + ", ".join(f"{k!r}: {self.fn(s)}" for k, s in props.items()) + "}")
                body.append(f"{ind}for k, v in x.items():")
                body.append(f"{ind}    f = {table}.get(k)")
                body.append(f"{ind}    if f is None:")
                if extra_fn is None:
                    body.append(f"{ind}        return False")
                elif extra_fn == "_true":
                    body.append(f"{ind}        continue")
                else:
                    body.append(f"{ind}        f = {extra_fn}")
                body.append(f"{ind}    if not f(v):")
                body.append(f"{ind}        return False")
        if "oneOf" in schema:
            fs = [self.fn(s) for s in schema["oneOf"]]
            body.append(f"if ({' + '.join(f'{f}(x)' for f in fs)}) != 1:")
            body.append("    return False")
        body.append("return True")
        text = "\n".join("    " + ln for ln in body) + "\n"
        name = self.names.get(text)  # sub-schemas differing only in annotations share a function
        if name is None:
            name = self.names[text] = f"_v{len(self.names)}"
            self.funcs.append(f"def {name}(x):\n" + text)
        return name


def generate(schema: dict) -> str:
    """Python source defining ``is_valid(doc) -> bool`` and ``SCHEMA_HASH``."""
    g = _Gen()
    top = g.fn(schema)
    # property tables refer to functions: define them after every function
    funcs = "\n\n".join(g.funcs)
    return (
        '"""Generated by kscript.testing.schemagen from kscript.testing.schema.SCHEMA: do not edit.\n\n'
        "Regenerate with: python3 -m kscript.testing.schemagen\n"
        '"""\n'
        "# flake8: noqa\n"
        "import re\n\n"
        f"SCHEMA_HASH = {schema_hash(schema)!r}\n\n\n"
        "def _true(x):\n    return True\n\n\n"
        "def _false(x):\n    return False\n\n\n"
        f"{funcs}\n\n"
        + "\n".join(g.defs) + "\n\n"
        f"is_valid = {top}\n"
    )


def main() -> int:  # pragma: no cover - a developer's tool
    from .schema import SCHEMA

    text = generate(SCHEMA)
    with open(GENERATED_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {GENERATED_PATH}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
