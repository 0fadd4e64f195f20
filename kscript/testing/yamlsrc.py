"""YAML loading that remembers where every mapping, key and list item came from.

Scenario files are plain YAML; errors in them (schema violations, bad values,
failed expectations) are reported as ``file:line``. The loader builds
:class:`YDict`/:class:`YList` (a ``dict``/``list`` with line numbers attached),
so the rest of the code handles ordinary containers.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["YDict", "YList", "load_documents", "line_of", "YamlSyntaxError"]


class YDict(dict):
    """A mapping with ``line`` (where it starts) and ``key_lines`` (key -> line), 1-based."""

    __slots__ = ("line", "key_lines", "value_lines")

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.line = 0
        self.key_lines: dict = {}
        self.value_lines: dict = {}


class YList(list):
    """A list with ``line`` (where it starts) and ``item_lines`` (index -> line), 1-based."""

    __slots__ = ("line", "item_lines")

    def __init__(self, *a):
        super().__init__(*a)
        self.line = 0
        self.item_lines: list[int] = []


class YamlSyntaxError(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


class _Loader(yaml.SafeLoader):
    pass


# libyaml's parser (when PyYAML was built with it) is ~10x faster and keeps the marks
_CBase = getattr(yaml, "CSafeLoader", None)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> YDict:
    n_explicit = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)  # merged (<<) pairs come first, explicit ones override them
    first_explicit = len(node.value) - n_explicit
    d = YDict()
    d.line = node.start_mark.line + 1
    explicit = set()
    for i, (knode, vnode) in enumerate(node.value):
        key = loader.construct_object(knode, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key", knode.start_mark)
        if i >= first_explicit:
            if key in explicit:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"found a duplicate key {key!r}", knode.start_mark)
            explicit.add(key)
        d[key] = loader.construct_object(vnode, deep=True)
        d.key_lines[key] = knode.start_mark.line + 1
        d.value_lines[key] = vnode.start_mark.line + 1
    return d


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> YList:
    lst = YList(loader.construct_object(child, deep=True) for child in node.value)
    lst.line = node.start_mark.line + 1
    lst.item_lines = [child.start_mark.line + 1 for child in node.value]
    return lst


_LOADERS = [_Loader]
if _CBase is not None:
    class _CLoader(_CBase):
        pass

    _LOADERS.insert(0, _CLoader)

for _L in _LOADERS:
    _L.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _L.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    # Times and dates stay text (the clock parses them); YAML 1.1's "yes/no/on/off" stay booleans.
    _L.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
_FAST = _LOADERS[0]


def load_documents(text: str) -> list[Any]:
    """All documents of a YAML stream (``---`` separated); empty documents are skipped."""
    try:
        docs = list(yaml.load_all(text, Loader=_FAST))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = " ".join(x for x in (e.context, e.problem) if x)
        raise YamlSyntaxError(f"YAML syntax error: {msg}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise YamlSyntaxError(f"YAML error: {e}", None) from None
    return [d for d in docs if d is not None]


def line_of(root: Any, path) -> int | None:
    """The line of the element at ``path`` (keys/indices from ``root``): the deepest
    position known along the path."""
    line = getattr(root, "line", None) or None
    cur = root
    for p in path:
        if isinstance(cur, YDict) and p in cur:
            line = cur.value_lines.get(p, cur.key_lines.get(p, line))
            cur = cur[p]
        elif isinstance(cur, YList) and isinstance(p, int) and 0 <= p < len(cur):
            line = cur.item_lines[p] if p < len(cur.item_lines) else line
            cur = cur[p]
        else:
            break
    return line


def key_line(d: Any, key, default: int | None = None) -> int | None:
    if isinstance(d, YDict):
        return d.key_lines.get(key, d.line or default)
    return getattr(d, "line", default)
