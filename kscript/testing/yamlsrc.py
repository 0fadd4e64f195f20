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
        # libyaml composes in C but asks this Python resolver for every node's tag: without
        # path resolvers (none here) a plain scalar's tag depends on its text only, so it is
        # looked up once per distinct text
        _plain_tags: dict = {}

        def resolve(self, kind, value, implicit):
            if self.yaml_path_resolvers:
                return _CBase.resolve(self, kind, value, implicit)
            if kind is yaml.ScalarNode:
                if not implicit[0]:  # quoted, block...
                    return self.DEFAULT_SCALAR_TAG
                tags = self._plain_tags
                tag = tags.get(value)
                if tag is None:
                    if len(tags) > 4096:
                        tags.clear()
                    tag = tags[value] = _CBase.resolve(self, kind, value, implicit)
                return tag
            return self.DEFAULT_SEQUENCE_TAG if kind is yaml.SequenceNode else self.DEFAULT_MAPPING_TAG

        def descend_resolver(self, current_node, current_index):
            if self.yaml_path_resolvers:
                _CBase.descend_resolver(self, current_node, current_index)

        def ascend_resolver(self):
            if self.yaml_path_resolvers:
                _CBase.ascend_resolver(self)

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


_STR, _NULL, _BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "int", "float"))
_MAP, _SEQ = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
_MERGE = "tag:yaml.org,2002:merge"


class _Unusual(Exception):
    """Something the quick constructor leaves to PyYAML's (merge keys, other tags, errors)."""


def _quick_documents(text: str) -> list[Any]:
    """``yaml.load_all(text, _FAST)`` without PyYAML's generic constructor: the same
    YDict/YList/scalars from the composed nodes, for the plain YAML scenario files are
    made of (anchors and merge keys included); raises :class:`_Unusual` for anything
    else (then PyYAML's constructor runs)."""
    loader = _FAST(text)
    try:
        bool_values = loader.bool_values
        int_of = loader.construct_yaml_int
        float_of = loader.construct_yaml_float
        flatten = loader.flatten_mapping
        done: dict[int, Any] = {}  # id(node) -> collection (aliases share it, like PyYAML)
        busy: set[int] = set()
        key_tags = (_STR, _INT, _NULL, _BOOL, _FLOAT)

        def scalar(node, tag):
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return bool_values[node.value.lower()]
            if tag == _INT:
                return int_of(node)
            if tag == _FLOAT:
                return float_of(node)
            raise _Unusual

        def build(node):
            tag = node.tag
            if tag == _STR:
                return node.value
            if tag != _MAP and tag != _SEQ:
                return scalar(node, tag)
            nid = id(node)
            obj = done.get(nid)
            if obj is not None:
                return obj
            if nid in busy:
                raise _Unusual  # a recursive structure
            busy.add(nid)
            if tag == _MAP:
                obj = YDict()
                obj.line = node.start_mark.line + 1
                kl, vl = obj.key_lines, obj.value_lines
                pairs = node.value
                first_explicit = 0
                explicit = obj  # the keys a duplicate is checked against
                for knode, _ in pairs:
                    if knode.tag == _MERGE:  # like _construct_mapping
                        n_explicit = sum(1 for k, _ in pairs if k.tag != _MERGE)
                        try:
                            flatten(node)  # merged pairs first, explicit ones override them
                        except Exception:
                            raise _Unusual from None  # PyYAML's error
                        pairs = node.value
                        first_explicit = len(pairs) - n_explicit
                        explicit = set()
                        break
                for i, (knode, vnode) in enumerate(pairs):
                    ktag = knode.tag
                    if ktag == _STR:
                        key = knode.value
                    elif ktag in key_tags:
                        key = scalar(knode, ktag)
                    else:
                        raise _Unusual  # unhashable keys, other tags
                    if i >= first_explicit:
                        if key in explicit:
                            raise _Unusual  # a duplicate key: PyYAML's error
                        if first_explicit:
                            explicit.add(key)
                    obj[key] = vnode.value if vnode.tag == _STR else build(vnode)
                    kl[key] = knode.start_mark.line + 1
                    vl[key] = vnode.start_mark.line + 1
            else:
                items = node.value
                obj = YList([child.value if child.tag == _STR else build(child) for child in items])
                obj.line = node.start_mark.line + 1
                obj.item_lines = [child.start_mark.line + 1 for child in items]
            busy.discard(nid)
            done[nid] = obj
            return obj

        docs = []
        while loader.check_node():
            docs.append(build(loader.get_node()))
            done.clear()
        return docs
    finally:
        loader.dispose()


def _event_documents(text: str) -> list[Any]:
    """:func:`_quick_documents` straight from the parser's events (no node tree), for
    files without anchors, aliases, merge keys or tags (:class:`_Unusual` otherwise)."""
    from yaml.events import (MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent,
                             SequenceStartEvent, StreamEndEvent)
    loader = _FAST(text)
    try:
        get = loader.get_event
        resolve = loader.resolve
        # (_CLoader's cache of plain scalar tags; resolve() fills it)
        known_tags = {} if loader.yaml_path_resolvers else getattr(loader, "_plain_tags", {})
        bool_values = loader.bool_values

        def scalar(ev):  # (the composer: a plain scalar's tag is resolved from its text)
            if ev.anchor is not None or ev.tag is not None:
                raise _Unusual
            value = ev.value
            if not ev.implicit[0]:
                return value  # quoted, literal, folded: text
            tag = known_tags.get(value)
            if tag is None:
                tag = resolve(yaml.ScalarNode, value, ev.implicit)
            if tag == _STR:
                return value
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return bool_values[value.lower()]
            if tag == _INT:
                return loader.construct_yaml_int(yaml.ScalarNode(tag, value))
            if tag == _FLOAT:
                return loader.construct_yaml_float(yaml.ScalarNode(tag, value))
            raise _Unusual  # merge keys, =, ...

        def node(ev):
            t = type(ev)
            if t is ScalarEvent:
                return scalar(ev)
            if ev.anchor is not None or getattr(ev, "tag", None) is not None:
                raise _Unusual
            if t is MappingStartEvent:
                d = YDict()
                d.line = ev.start_mark.line + 1
                kl, vl = d.key_lines, d.value_lines
                while True:
                    kev = get()
                    if type(kev) is not ScalarEvent:
                        if type(kev) is MappingEndEvent:
                            return d
                        raise _Unusual  # a collection as a key, an alias
                    key = scalar(kev)
                    vev = get()
                    value = node(vev)
                    if key in d:
                        raise _Unusual  # a duplicate key: PyYAML's error
                    d[key] = value
                    kl[key] = kev.start_mark.line + 1
                    vl[key] = vev.start_mark.line + 1
            if t is SequenceStartEvent:
                lst = YList()
                lst.line = ev.start_mark.line + 1
                lines = lst.item_lines
                while True:
                    iev = get()
                    if type(iev) is SequenceEndEvent:
                        return lst
                    lst.append(node(iev))
                    lines.append(iev.start_mark.line + 1)
            raise _Unusual  # an alias

        docs = []
        get()  # stream start
        while type(get()) is not StreamEndEvent:  # document start
            docs.append(node(get()))
            get()  # document end
        return docs
    finally:
        loader.dispose()


def load_documents(text: str) -> list[Any]:
    """All documents of a YAML stream (``---`` separated); empty documents are skipped."""
    try:
        try:
            docs = _event_documents(text)
        except _Unusual:
            try:
                docs = _quick_documents(text)
            except _Unusual:
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
