"""Each sink's escaping, one rule per case: what untrusted text becomes, and why."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest

from grantops.safetext import (
    defuse_line,
    for_annotation,
    for_annotation_property,
    for_csv,
    for_json,
    for_log,
    for_markdown,
    for_markdown_cell,
    for_markdown_code,
    for_terminal,
    one_line,
    unicode_only,
    without_surrogates,
)

ZWSP, ZWJ = "\u200b", "\u200d"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, kept", "plain text, kept"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("nul\x00 del\x7f c1\x85", "nul\\x00 del\\x7f c1\\x85"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),
        ("\ufeff::warning::x", "\\ufeff::warning::x"),  # a byte-order mark hides nothing
        ("naïve ✓ emoji 👍", "naïve ✓ emoji 👍"),
        ("grants/\udcff.yaml \ud800", "grants/\\udcff.yaml \\ud800"),  # lone surrogates
    ],
)
def test_one_line_shows_every_control_character(text: str, shown: str) -> None:
    assert one_line(text) == shown


@pytest.mark.parametrize(
    ("line", "safe"),
    [
        ("::warning file=x::forged", f":{ZWSP}:warning file=x::forged"),
        ("   ::add-mask::x", f"   :{ZWSP}:add-mask::x"),
        ("text ::not a command:: here", "text ::not a command:: here"),
        (": :", ": :"),
        ("x ##[error]y ##[warning]z", f"x #{ZWSP}#[error]y #{ZWSP}#[warning]z"),
        ("## heading", "## heading"),
    ],
)
def test_defuse_line_leaves_no_workflow_command(line: str, safe: str) -> None:
    assert defuse_line(line) == safe


def test_for_terminal_is_one_line_without_a_command() -> None:
    shown = for_terminal("ok\n::warning file=x::Reviewed by @acme/security")
    assert shown == "ok\\n::warning file=x::Reviewed by @acme/security"
    assert for_terminal("\r::add-mask::x") == "\\r::add-mask::x"
    assert for_terminal("::stop-commands::x") == f":{ZWSP}:stop-commands::x"


def test_for_terminal_is_idempotent() -> None:
    text = "::a\n##[b]\x1b\u202e"
    assert for_terminal(for_terminal(text)) == for_terminal(text)


def test_for_log_keeps_our_line_breaks_and_defuses_each_line() -> None:
    text = "Plan for org acme\n\n  ::add-mask::x\r::warning::y\nend"
    assert for_log(text).split("\n") == [
        "Plan for org acme",
        "",
        f"  :{ZWSP}:add-mask::x\\r::warning::y",
        "end",
    ]


@pytest.mark.parametrize(
    ("text", "message", "prop"),
    [
        ("100% done", "100%25 done", "100%25 done"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("%0A", "%250A", "%250A"),
        ("\x1b[8m", "\\x1b[8m", "\\x1b[8m"),
        ("x ##[error]y", f"x #{ZWSP}#[error]y", f"x #{ZWSP}#[error]y"),
    ],
)
def test_annotation_escaping_follows_the_toolkit(text: str, message: str, prop: str) -> None:
    assert for_annotation(text) == message
    assert for_annotation_property(text) == prop


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("INC-4821 hotfix", "INC-4821 hotfix"),
        ("a|b|c", "a\\|b\\|c"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("&lt;", "&amp;lt;"),
        ("[click](http://evil)", f"\\[click\\](http:{ZWJ}//evil)"),
        ("see https://evil.example/x", f"see https:{ZWJ}//evil.example/x"),
        ("or WWW.evil.example", f"or WWW{ZWJ}.evil.example"),
        ("**bold** _it_ ~~x~~ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\~\\~x\\~\\~ \\`code\\`"),
        ("back\\slash", "back\\\\slash"),
        ("cc @acme/security and a@b.c", f"cc @{ZWJ}acme/security and a@{ZWJ}b.c"),
        ("one\ntwo", "one\\\\ntwo"),
        ("#41 and PR #7", f"#{ZWJ}41 and PR #{ZWJ}7"),  # no cross-reference
        ("a#b", "a#b"),
    ],
)
def test_for_markdown_cell_makes_no_structure(text: str, cell: str) -> None:
    assert for_markdown_cell(text) == cell


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("## Approved by the CISO", "\\## Approved by the CISO"),
        ("  # indented", "  \\# indented"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("===", "\\==="),
        ("12. item", "12\\. item"),
        ("3) item", "3\\) item"),
        ("2026-11-30", "2026-11-30"),
        ("a # b", "a # b"),
    ],
)
def test_for_markdown_starts_no_block(text: str, safe: str) -> None:
    assert for_markdown(text) == safe


@pytest.mark.parametrize(
    ("text", "cell", "code"),
    [
        ("grants/g.yaml", False, "`grants/g.yaml`"),
        ("a`b", False, "``a`b``"),
        ("`a``", False, "``` `a`` ```"),
        ("a|b", False, "`a|b`"),
        ("a|b", True, "`a\\|b`"),
        ("x\n## y", False, "`x\\n## y`"),
        (" a ", False, "`  a  `"),
        ("", False, "`  `"),
    ],
)
def test_for_markdown_code_is_one_literal_span(text: str, cell: bool, code: str) -> None:
    assert for_markdown_code(text, cell=cell) == code


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tab", "'\tab"),
        ("\rab", "'\rab"),
        ("  =1+1", "'  =1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\u00a0=1", "'\u00a0=1"),
        ("\u3000+1", "'\u3000+1"),
        ("INC-4821 = hotfix", "INC-4821 = hotfix"),
        ("", ""),
    ],
)
def test_for_csv_follows_owasp(text: str, cell: str) -> None:
    assert for_csv(text) == cell


def test_for_csv_cells_survive_the_csv_module() -> None:
    buffer = io.StringIO()
    row = [for_csv(t) for t in ('=1,"2"', "a\nb", "-1")]
    csv.writer(buffer).writerow(row)
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ['\'=1,"2"', "a\nb", "'-1"]


@pytest.mark.parametrize(
    "text", ["##[error]x", "a###[b", "\\##[", "::add-mask::x", "\u202e\x1b\n", "#\\u0023["]
)
def test_for_json_reads_back_exactly_and_is_safe_in_the_log(text: str) -> None:
    written = for_json({"reason": text, "list": [text]})
    assert json.loads(written) == {"reason": text, "list": [text]}
    assert "##[" not in written
    assert all(not line.lstrip().startswith("::") for line in written.splitlines())
    assert for_log(written) == written


LONE = "grants/\udcff.yaml\n\ud800 \udfff"
"""A name that is not UTF-8 as Python reads it, and lone surrogates from a JSON escape."""


@pytest.mark.parametrize(
    "sink",
    [
        one_line,
        for_terminal,
        for_log,
        for_annotation,
        for_annotation_property,
        for_markdown,
        for_markdown_cell,
        for_markdown_code,
        for_csv,
        for_json,
        without_surrogates,
    ],
)
def test_every_sink_writes_a_lone_surrogate_as_its_escape(sink: Callable[[str], str]) -> None:
    """Such a code point is not text: writing it as UTF-8 raises, so every sink escapes it."""
    shown = sink(LONE)
    shown.encode("utf-8")
    assert "\\udcff" in shown and "\\ud800" in shown and "\\udfff" in shown


def test_without_surrogates_changes_nothing_else() -> None:
    assert without_surrogates(LONE) == "grants/\\udcff.yaml\n\\ud800 \\udfff"
    text = "naïve ✓ 👍 \x1b\n\u202e"
    assert without_surrogates(text) == text


def test_for_json_writes_only_unicode_even_in_keys() -> None:
    document = {"\udcff": [LONE, ("\ud800", 1, None)]}
    assert json.loads(for_json(document)) == {
        "\\udcff": [without_surrogates(LONE), ["\\ud800", 1, None]]
    }
    assert unicode_only(document) == json.loads(for_json(document))
