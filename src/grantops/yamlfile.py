"""Strict YAML reading for files that decide who gets access.

PyYAML's safe loader still applies YAML 1.1's implicit typing (``no`` becomes False,
``0123`` becomes 83, ``1.10`` becomes 1.1), silently keeps the last of two duplicate
keys and expands anchors and merge keys. In an access file each of those can turn a
reviewed line into something the reviewer did not read. So we walk libyaml's event
stream ourselves and build plain data with these rules:

* every scalar is a string (plain ``~``, ``null`` and an empty value are None);
  typing happens later, in the models, against an explicit schema;
* duplicate keys, anchors, aliases, merge keys, tags, non-scalar keys and more than
  one document are errors;
* every key and list item remembers its line, so later errors can name it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

# libyaml's parser is ~10x faster; PyYAML builds without it still have the pure-Python one.
_Loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

MAX_FILE_BYTES = 64 * 1024
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})

Loc = tuple[str | int, ...]


class YamlError(Exception):
    """The file is not acceptable YAML for grantops; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class YamlDocument:
    """Plain data of one file plus the line of every key and list item in it."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """Line of the deepest known prefix of ``loc``: a missing key points at its parent."""
        for end in range(len(loc), 0, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1


def decode(raw: bytes) -> str:
    """Bytes of a file to text, refusing oversize and non-UTF-8 input."""
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(1, f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(line, f"file is not valid UTF-8 (byte {exc.start})") from None
    return text.removeprefix("\ufeff")


def parse(text: str) -> YamlDocument:
    """Parse one YAML document under the strict rules in the module docstring."""
    lines: dict[Loc, int] = {}
    parser = _Loader(text)
    try:
        data = _document(parser.get_event, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(line, f"invalid YAML: {exc.problem or exc}") from None
    finally:
        parser.dispose()
    return YamlDocument(data, lines)


# ``next_event`` is the parser's bound ``get_event``: the walk below is the hot path of
# validating many files, so it calls it directly and compares event classes exactly.
_Next = Callable[[], Any]


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1


def _document(next_event: _Next, lines: dict[Loc, int]) -> Any:
    next_event()  # StreamStart
    if type(next_event()) is yaml.StreamEndEvent:
        raise YamlError(1, "file is empty")
    data = _node(next_event, next_event(), (), lines)
    next_event()  # DocumentEnd
    after = next_event()
    if type(after) is not yaml.StreamEndEvent:
        raise YamlError(_line(after), "only one YAML document per file is allowed")
    return data


def _node(next_event: _Next, event: Any, loc: Loc, lines: dict[Loc, int]) -> Any:
    kind = type(event)
    if kind is yaml.AliasEvent:
        raise YamlError(_line(event), "aliases (*name) are not allowed")
    if event.anchor is not None:
        raise YamlError(_line(event), "anchors (&name) are not allowed")
    if event.tag is not None:
        raise YamlError(_line(event), f"tags ({event.tag}) are not allowed")
    if kind is yaml.ScalarEvent:
        if not event.style and event.value in _NULLS:  # plain, not quoted
            return None
        return event.value
    if kind is yaml.MappingStartEvent:
        return _mapping(next_event, loc, lines)
    if kind is yaml.SequenceStartEvent:
        items: list[Any] = []
        item = next_event()
        while type(item) is not yaml.SequenceEndEvent:
            item_loc = (*loc, len(items))
            lines[item_loc] = _line(item)
            items.append(_node(next_event, item, item_loc, lines))
            item = next_event()
        return items
    raise YamlError(_line(event), f"unexpected YAML event {kind.__name__}")


def _mapping(next_event: _Next, loc: Loc, lines: dict[Loc, int]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    key_event = next_event()
    while type(key_event) is not yaml.MappingEndEvent:
        line = _line(key_event)
        key = _node(next_event, key_event, loc, lines)
        if type(key) is not str:
            raise YamlError(line, "keys must be plain strings")
        if key == "<<":
            raise YamlError(line, "merge keys (<<) are not allowed")
        key_loc = (*loc, key)
        if key in mapping:
            raise YamlError(line, f"duplicate key '{key}' (first on line {lines[key_loc]})")
        lines[key_loc] = line
        mapping[key] = _node(next_event, next_event(), key_loc, lines)
        key_event = next_event()
    return mapping
