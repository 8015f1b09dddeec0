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
* every key and list item remembers its line, so later errors can name it;
* characters YAML does not allow (NUL and other control characters), line breaks other
  than ``\\n`` and ``\\r\\n``, UTF-16 and nesting deeper than any grant or policy needs
  are errors with a line, never a crash of the reader.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

# libyaml's parser is ~10x faster; PyYAML builds without it still have the pure-Python one.
_Loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

MAX_FILE_BYTES = 64 * 1024
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
MAX_DEPTH = 16
"""Deepest nesting of lists and mappings; a policy needs 3 (``baseline``, item, key)."""

# YAML's printable set (tab, line breaks and everything from space up except C1
# controls, surrogates, U+FFFE and U+FFFF): libyaml refuses the rest while reading. Of
# YAML's line breaks only \n and \r\n are kept, so that a line number means the same
# line to libyaml, to an editor and on GitHub: a lone \r, U+0085, U+2028 and U+2029 go.
_NOT_ALLOWED = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|\r(?!\n)"
)
_LINE_BREAKS = frozenset("\r\x85\u2028\u2029")

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
    if raw.startswith(_UTF16_BOMS):  # what PowerShell's ``>`` writes, among others
        raise YamlError(1, "file is UTF-16 (or UTF-32); save it as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(line, f"file is not valid UTF-8 (byte {exc.start})") from None
    return text.removeprefix("\ufeff")


def parse(text: str) -> YamlDocument:
    """Parse one YAML document under the strict rules in the module docstring."""
    if any(char in text for char in _LINE_BREAKS):  # a quick look first: this is a hot path
        _refuse_characters(text)
    lines: dict[Loc, int] = {}
    try:
        parser = _Loader(text)
    except UnicodeEncodeError:  # a lone surrogate; decode() never returns one
        _refuse_characters(text)
        raise
    try:
        data = _document(parser.get_event, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        # at the end of a file without a final newline libyaml counts one line more
        line = min(line, text.count("\n") + 1)
        raise YamlError(line, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # the reader refused a character: say which, and where
        _refuse_characters(text)
        raise YamlError(1, f"invalid YAML: {getattr(exc, 'reason', None) or exc}") from None
    finally:
        parser.dispose()
    return YamlDocument(data, lines)


def _refuse_characters(text: str) -> None:
    """Raise for the first character grantops does not accept in a file, if there is one."""
    bad = _NOT_ALLOWED.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    char = bad.group()
    if char in _LINE_BREAKS:
        raise YamlError(line, f"line break U+{ord(char):04X} is not allowed: end lines with \\n")
    raise YamlError(line, f"character U+{ord(char):04X} is not allowed in YAML (write it escaped)")


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
    if len(loc) >= MAX_DEPTH:
        raise YamlError(_line(event), f"nested deeper than {MAX_DEPTH} levels")
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
        if type(key_event) is yaml.MappingStartEvent or type(key_event) is yaml.SequenceStartEvent:
            raise YamlError(line, "keys must be plain strings")  # checked before nesting into it
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
