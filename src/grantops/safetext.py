"""Untrusted text made safe for each place grantops writes it (pure functions).

Grant files, their names, reasons, pull request and commit titles, GitHub's error
messages and the audit log (anyone who can push may edit it) are written by people
grantops does not trust, and ``validate`` runs on every pull request. Each sink reads
text by its own rules, so each has one function here, and every renderer calls it on
every untrusted field:

* the terminal and the Actions log (:func:`for_terminal`): the runner turns a line
  starting with ``::`` into a workflow command (an annotation, a mask, or stopping
  command processing altogether), and ``##[`` anywhere in a line into a legacy one;
* annotation messages and properties (:func:`for_annotation`,
  :func:`for_annotation_property`), escaped as GitHub's toolkit does;
* Markdown: job summaries, ``audit/report.md``, pull request comments
  (:func:`for_markdown`, :func:`for_markdown_cell`, :func:`for_markdown_code`);
* CSV opened in a spreadsheet (:func:`for_csv`), and JSON (:func:`for_json`);
* Slack's mrkdwn, in chat notices (:func:`for_mrkdwn`).

Every sink also shows a lone surrogate (``\\ud800``-``\\udfff``) as an escape: such a
code point is what a file name that is not UTF-8 becomes when it is read (Python's
``surrogateescape``), or what a JSON escape like ``"\\udcff"`` decodes to. It is not
text, so writing it as UTF-8 anywhere would raise instead (:func:`without_surrogates`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_SURROGATES = "\ud800-\udfff"
_SURROGATE = re.compile(f"[{_SURROGATES}]")
_INVISIBLE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff{_BIDI}{_SURROGATES}]")
"""C0 and C1 controls, DEL, Unicode line and paragraph separators, the byte-order mark
and bidi controls: each can end a line, drive the terminal (``\\x1b``), hide before a
command (``\\ufeff``) or make text read in another order than it is stored
(``\\u202e``). Lone surrogates too: they cannot be written as UTF-8 at all."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_ZWSP = "\u200b"
"""Zero-width space: invisible to a reader, and not whitespace to the runner, so it
breaks ``::`` and ``##[`` without changing what a person sees."""

_COMMAND_START = re.compile(r"^(\s*):(?=:)")
_LEGACY_COMMAND = "##["

_MARKDOWN_INLINE = re.compile(r"[\\`*_\[\]|~&<>@]")
_MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MENTION_BREAK = "\u200d"
"""Zero-width joiner after ``@``: GitHub mentions (and e-mail autolinks) need a letter
or digit right after it, so nobody is notified, while the text reads the same."""
_BLOCK_START = re.compile(r"^( *(?:[#+=-]|\d+[.)]))")
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=#)(?=\d)")
"""Where GitHub would turn plain text into a link or a cross-reference: a scheme's
``://``, ``www.``, and ``#123`` (which also leaves a back-reference on that issue). A
zero-width joiner there breaks each, and the text reads the same."""

_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""OWASP's CSV injection rule (with the full-width forms spreadsheets also accept)."""


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _visible(text: str, keep: str = "") -> str:
    return _INVISIBLE.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate shown as its escape (``\\udcff``), and nothing
    else changed: text that can always be encoded as UTF-8. For sinks that keep line
    breaks (CSV cells, JSON, the audit log); :func:`one_line` does this too."""
    return _SURROGATE.sub(lambda m: _escape(m.group()), text)


def unicode_only(document: Any) -> Any:
    """A JSON-like ``document`` (dicts, lists, tuples, strings, numbers) with
    :func:`without_surrogates` applied to every key and string in it; tuples become
    lists, as JSON writes them."""
    if isinstance(document, str):
        return without_surrogates(document)
    if isinstance(document, Mapping):
        return {unicode_only(k): unicode_only(v) for k, v in document.items()}
    if isinstance(document, list | tuple):
        return [unicode_only(v) for v in document]
    return document


def one_line(text: str) -> str:
    """``text`` with every control character shown as a visible escape (``\\n``,
    ``\\x1b``, ``\\u202e``): untrusted text always stays on the line it was put on, and
    cannot drive a terminal or reorder what is around it."""
    return _visible(text)


def defuse_line(line: str) -> str:
    """One line that the Actions runner will never read as a workflow command.

    The runner trims leading whitespace and then looks for ``::``; the legacy form
    ``##[`` counts anywhere in a line. A zero-width space breaks both.
    """
    return _COMMAND_START.sub(lambda m: m.group(1) + ":" + _ZWSP, line).replace(
        _LEGACY_COMMAND, "#" + _ZWSP + "#["
    )


def for_terminal(text: str) -> str:
    """Untrusted text for a terminal or the Actions log: one line, no command."""
    return defuse_line(one_line(text))


def for_log(text: str) -> str:
    """Output grantops built, for a terminal or the Actions log: its own ``\\n`` line
    breaks stay, and each line is made safe as :func:`for_terminal` makes a field.

    This is the last line of defence, applied to everything a command prints; the
    renderers escape each field as well, so a field can never add a line.
    """
    return "\n".join(for_terminal(line) for line in text.split("\n"))


def for_annotation(text: str) -> str:
    """An annotation's message (after ``::error ...::``), escaped as the toolkit does:
    ``%``, CR and LF become ``%25``, ``%0D``, ``%0A``, which the runner decodes again, so
    the message keeps its lines without ending the command's. Other control characters
    become visible escapes, and ``##[`` is broken as in :func:`defuse_line`."""
    escaped = (
        _visible(text, keep="\r\n").replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    )
    return escaped.replace(_LEGACY_COMMAND, "#" + _ZWSP + "#[")


def for_annotation_property(text: str) -> str:
    """An annotation's property value (``file=...``): as a message, and ``:`` and ``,``
    too (``%3A``, ``%2C``), since they end the value."""
    return for_annotation(text).replace(":", "%3A").replace(",", "%2C")


def _markdown_char(char: str) -> str:
    if char in _MARKDOWN_ENTITIES:
        return _MARKDOWN_ENTITIES[char]
    if char == "@":
        return "@" + _MENTION_BREAK
    return "\\" + char


def for_markdown_cell(text: str) -> str:
    """Untrusted text inside a line of Markdown, e.g. a table cell: it cannot end the
    line or the cell (``|``), open HTML (``<``, ``>`` and ``&`` become entities), a link
    or image (``[``, ``]``), a code span, emphasis or strike-through, nor mention
    anyone (``@``), and no URL or ``#123`` becomes a link. A cell holds only inline
    content, so nothing can start a block."""
    escaped = _MARKDOWN_INLINE.sub(lambda m: _markdown_char(m.group()), one_line(text))
    return _AUTOLINK.sub(_MENTION_BREAK, escaped)


def for_markdown(text: str) -> str:
    """Untrusted text anywhere in Markdown, even first on a line or after a list
    marker: as :func:`for_markdown_cell`, and a leading ``#``, ``-``, ``+``, ``=`` or
    ``1.`` is escaped so it cannot make a heading, list or underline."""
    escaped = for_markdown_cell(text)
    match = _BLOCK_START.match(escaped)
    if match is None:
        return escaped
    marker = match.group()
    return marker[:-1] + "\\" + marker[-1] + escaped[len(marker) :]


def for_markdown_code(text: str, *, cell: bool = False) -> str:
    """Untrusted text as a Markdown code span, shown literally: the backtick fence is
    longer than any run of backticks inside, and in a table cell (``cell=True``) ``|``
    is escaped, which GitHub's tables undo inside code spans too."""
    shown = one_line(text)
    if cell:
        shown = shown.replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", shown)), default=0)
    fence = "`" * (longest + 1)
    edges = shown[:1] + shown[-1:]
    pad = " " if "`" in edges or edges == "  " or not shown.strip() else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


_MRKDWN_CODE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "\u02cb"})
"""Slack reads ``&``, ``<`` and ``>`` as its control characters (``<!channel>``,
``<@U123>``, ``<https://...|label>``) and asks for them as entities; a backtick would
end the code span, so it becomes the modifier letter grave accent, which looks alike."""

MRKDWN_LIMIT = 300
"""The most characters of one untrusted value a chat notice shows."""


def for_mrkdwn(text: str) -> str:
    """Untrusted text in Slack mrkdwn, as an inline code span: shown literally, it can
    mention nobody (``<!channel>``, ``<@U123>``, ``@here``), link nowhere, format
    nothing (``*``, ``_``, ``~``) and start no block (``>``), on one line, at most
    :data:`MRKDWN_LIMIT` characters. Slack has no backslash escapes, so a code span is
    the one place where its formatting characters read as themselves."""
    shown = one_line(text)
    if len(shown) > MRKDWN_LIMIT:
        shown = shown[: MRKDWN_LIMIT - 1] + "\u2026"
    shown = shown.translate(_MRKDWN_CODE)
    return f"`{shown}`" if shown.strip() else "(none)"


def for_csv(text: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula: OWASP's rule, a cell
    starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return (any whitespace
    before it included, Unicode spaces too) gets a leading ``'``. Quoting is the
    ``csv`` module's job. A lone surrogate is shown as its escape."""
    text = without_surrogates(text)
    if text[:1] in _FORMULA_START or text.lstrip()[:1] in _FORMULA_START:
        return "'" + text
    return text


def for_json(document: Any) -> str:
    """``document`` as indented JSON that reads back exactly and is safe in the log.

    ``json.dumps`` escapes every control and non-ASCII character, and no JSON line can
    start with ``::``; only ``##[`` inside a string is left, and ``#`` is written as
    its JSON escape ``\\u0023`` there, which decodes to the same string. A lone
    surrogate in a key or value is the one exception: it is written as the text of its
    escape (:func:`without_surrogates`), since strict JSON readers refuse it.
    """
    return json.dumps(unicode_only(document), indent=2).replace(_LEGACY_COMMAND, "#\\u0023[")
