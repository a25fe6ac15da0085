"""YAML text → plain data plus the position of every key and value.

PyYAML's constructors lose positions and silently keep the last of duplicate
keys, so we compose the node graph ourselves and build the data from it: each
duplicate key, unsupported tag, oversized alias expansion and too deep nesting
becomes an issue with its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from svccheck.grammar.errors import ManifestIssue
from svccheck.grammar.positions import Path, Positions

# Nodes visited while building data; YAML aliases can make a tiny file expand
# exponentially ("billion laughs"), so expansion is bounded.
MAX_NODES = 100_000
# Mappings and lists nested in one another, aliases expanded; the top-level mapping is level 1.
# A manifest needs 8 (services, a service, checks, a check, expect, json, a matcher, len); the
# rest is room for inline JSON bodies and `eq:` literals. Composing, building, interpolation and
# validation each recurse once or twice a level, so this bound keeps every phase far below
# Python's recursion limit, where 2,000 levels of `[[[[` used to end in a RecursionError (#8).
MAX_DEPTH = 64

_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass
class Source:
    """A YAML document as read: its data, where each value stands, and what reading it found wrong."""

    data: Any
    positions: Positions
    issues: list[ManifestIssue]
    # Values dropped for an unsupported tag: they read as null, so errors about them are noise.
    rejected: frozenset[Path] = frozenset()


class _Unparsed(Source):
    """The YAML parser itself failed: a syntax error, or characters YAML does not allow."""


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__()
        self.mark = mark


def _too_deep(line: int, column: int) -> ManifestIssue:
    return ManifestIssue(
        f"mappings and lists nest more than {MAX_DEPTH} levels deep here (a manifest needs about 8)",
        line,
        column,
    )


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.positions = Positions()
        self.issues: list[ManifestIssue] = []
        self.rejected: set[Path] = set()
        self.visited = 0

    def issue(self, node: yaml.Node, message: str) -> None:
        line, col = _mark(node)
        self.issues.append(ManifestIssue(message, line, col))

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooLarge
        self.positions.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.issue(node, f"unsupported YAML tag {node.tag!r}")
                self.rejected.add(path)
                return None
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag not in _SAFE_SCALAR_TAGS:
            self.issue(node, f"unsupported YAML tag {node.tag!r}: only plain values are allowed")
            self.rejected.add(path)
            return None
        try:
            return self.loader.construct_object(node)
        except yaml.YAMLError as exc:
            self.issue(node, f"bad value: {getattr(exc, 'problem', exc)}")
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any] | None:
        if node.tag != _MAP_TAG:
            self.issue(node, f"unsupported YAML tag {node.tag!r}")
            self.rejected.add(path)
            return None
        self.loader.flatten_mapping(node)  # resolves `<<` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SAFE_SCALAR_TAGS:
                self.issue(key_node, "mapping keys must be plain values")
                continue
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                line, _ = self.positions.keys[(*path, key)]
                self.issue(key_node, f"duplicate key {key!r} (first defined on line {line})")
                continue
            self.positions.keys[(*path, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result


class _BoundedLoader(yaml.SafeLoader):
    """Stops composing after MAX_NODES nodes: a big file of tiny keys costs seconds per MiB.

    It also stops at the first mapping or list deeper than MAX_DEPTH, before PyYAML's composer
    (which recurses per level) reaches Python's recursion limit.
    """

    composed = 0
    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self.composed += 1
        if self.composed > MAX_NODES:
            raise _TooLarge
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        if self.depth >= MAX_DEPTH:
            raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        self.depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self.depth -= 1

    def fetch_flow_collection_start(self, TokenClass: type[yaml.Token]) -> None:
        # The scanner reads up to 1,024 characters ahead of the composer (a `[` may start a
        # key), at one step per open level for every token: 1,000 levels of `[[[[` cost 0.2 s
        # before the composer reached level 65. So it stops at the same place: the open block
        # collections (`indents`) and flow ones (`flow_level`) are the composer's levels.
        if len(self.indents) + self.flow_level >= MAX_DEPTH:
            raise _TooDeep(self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The values in a mapping or list. A key that is not a plain value is an error the builder
    reports without reading it, so it is not measured either."""
    if isinstance(node, yaml.MappingNode):
        return [value for _, value in node.value]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _measure(root: yaml.Node) -> tuple[int, yaml.Node | None]:
    """How many values `root` becomes once aliases are expanded (capped just past MAX_NODES),
    and the first mapping or list nested deeper than MAX_DEPTH, aliases followed (or None).

    Aliased nodes are shared in the graph, so this costs one visit per distinct collection,
    without recursion: libyaml composes up to 1,000 levels, more than Python's stack allows.
    """
    # id -> (values, levels of mappings and lists, itself included); scalars are (1, 0)
    measured: dict[int, tuple[int, int]] = {}
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        if children is not None:  # its children are measured: add them up
            size, height = 1, 0
            for child in children:
                if isinstance(child, yaml.ScalarNode):
                    size += 1
                    continue
                child_size, child_height = measured[id(child)]
                size += child_size
                height = max(height, child_height)
            measured[id(node)] = (min(size, MAX_NODES + 1), min(height + 1, MAX_DEPTH + 1))
        elif isinstance(node, yaml.ScalarNode):
            measured[id(node)] = (1, 0)
        elif id(node) not in measured:  # else measured, or an alias to an enclosing node
            # Until measured, a node reached again (a recursive alias) counts as huge, which
            # reports it as an alias bomb, and as flat, so the walk down below ends.
            measured[id(node)] = (MAX_NODES + 1, 0)
            children = _children(node)
            stack.append((node, children))
            stack.extend((child, None) for child in children if not isinstance(child, yaml.ScalarNode))
    size, height = measured[id(root)]
    if size > MAX_NODES or height <= MAX_DEPTH:
        return size, None
    deepest = root
    for _ in range(MAX_DEPTH):  # down the deepest branch to the node at level MAX_DEPTH + 1
        deepest = max(_children(deepest), key=lambda child: measured.get(id(child), (1, 0))[1])
    return size, deepest


# libyaml composes the same nodes with the same marks ~5× faster (a 10,000-check manifest of
# 250 KiB: 0.33 s against 1.76 s), but it cannot be stopped midway, so it is given only a text
# that cannot hold more than MAX_NODES nodes (a 1 MiB text of one node per character took it
# 7 s and 345 MiB; the bounded loader stops such a text after 100,000 nodes in 2.8 s).
_FastLoader: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)
# Every node but the first two (the root and its first key) is begun by one of these: an
# indicator, a flow bracket or separator, or a line break (PyYAML's five). None begins more
# than two nodes (`- a: b`, a mapping and its first key; `{a, b}`, a key and the null it
# implies); one inside a quoted string or a comment only counts too many.
_NODE_STARTS = (",", ":", "-", "?", "[", "{", "\n", "\r", "\x85", "\u2028", "\u2029")


def most_nodes(text: str) -> int:
    """An upper bound on the nodes `text` composes to, aliases unexpanded (~1 ms for 256 KiB)."""
    return 2 + 2 * sum(text.count(start) for start in _NODE_STARTS)


def _position_of(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _not_yaml(text: str, exc: yaml.reader.ReaderError) -> Source:
    line, col = _position_of(text, exc.position)
    return _Unparsed(None, Positions(), [ManifestIssue(f"not a YAML text: {exc.reason}", line, col)])


def load_source(text: str) -> Source:
    """Parse YAML text; never raises for bad input, returns issues instead."""
    if _FastLoader is not None and most_nodes(text) <= MAX_NODES:
        source = _load(text, _FastLoader)
        if not isinstance(source, _Unparsed):
            return source
        # PyYAML's own parser explains a syntax error better ("found character '\t'"), and a
        # broken file is rare enough to parse twice. (libyaml's own limit, 1,000 levels, is a
        # syntax error too: PyYAML's composer stops at MAX_DEPTH and says where.) What was
        # parsed but refused, too deep or an alias bomb, is not parsed again (#8).
    return _load(text, _BoundedLoader)


def _load(text: str, loader_class: type[yaml.SafeLoader]) -> Source:
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as exc:  # the pure-Python reader checks characters up front
        return _not_yaml(text, exc)
    try:
        try:
            node = loader.get_single_node()
        except yaml.reader.ReaderError as exc:  # libyaml finds them while parsing
            return _not_yaml(text, exc)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or "invalid YAML"
            if exc.context:
                problem = f"{exc.context}: {problem}" if "while" not in exc.context else problem
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            return _Unparsed(None, Positions(), [ManifestIssue(f"YAML syntax error: {problem}", line, col)])
        except yaml.YAMLError as exc:
            return _Unparsed(None, Positions(), [ManifestIssue(f"YAML error: {exc}", 1, 1)])
        except _TooLarge:
            return Source(
                None, Positions(), [ManifestIssue(f"document has more than {MAX_NODES} values", 1, 1)]
            )
        except _TooDeep as exc:
            return Source(None, Positions(), [_too_deep(exc.mark.line + 1, exc.mark.column + 1)])
        if node is None:
            return Source(None, Positions(), [])
        builder = _Builder(loader)
        try:
            # found on the node graph, before expanding a single alias
            size, deepest = _measure(node)
            if size > MAX_NODES:
                raise _TooLarge
            if deepest is not None:
                return Source(None, Positions(), [_too_deep(*_mark(deepest))])
            data = builder.build(node, ())
        except _TooLarge:
            line, col = _mark(node)
            issue = ManifestIssue(
                f"document expands to more than {MAX_NODES} values (YAML alias bomb?)", line, col
            )
            return Source(None, builder.positions, [issue])
        except RecursionError:
            return Source(None, builder.positions, [ManifestIssue("document is nested too deeply", 1, 1)])
        return Source(data, builder.positions, builder.issues, frozenset(builder.rejected))
    finally:
        loader.dispose()
