"""Strict YAML: every scalar a string, and everything that hides meaning refused."""

from __future__ import annotations

import pytest

from grantops.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, YamlError, decode, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user: 0123", {"user": "0123"}),  # YAML 1.1 octal would give 83
        ("user: no", {"user": "no"}),  # YAML 1.1 boolean would give False
        ("repo: 1.10", {"repo": "1.10"}),  # a float would give 1.1
        ("at: 2026-11-30T18:00:00Z", {"at": "2026-11-30T18:00:00Z"}),  # no datetime object
        ("a: ~\nb:\nc: null", {"a": None, "b": None, "c": None}),
        ("a: ''\nb: 'null'", {"a": "", "b": "null"}),  # quoted values stay strings
        ("l: [a, b]\nm: {k: v}", {"l": ["a", "b"], "m": {"k": "v"}}),
        ("\ufeffa: b", {"a": "b"}),
    ],
)
def test_scalars_stay_literal(text: str, expected: object) -> None:
    assert parse(decode(text.encode())).data == expected


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: 2\na: 3", 3, "duplicate key 'a' (first on line 1)"),
        ("a: &x 1\nb: 2", 1, "anchors"),
        ("a: 1\nb: *x", 2, "aliases"),
        ("base: &b {x: 1}\nc:\n  <<: *b", 1, "anchors"),
        ("c:\n  <<: {x: 1}", 2, "merge keys"),
        ("a: !!str 1", 1, "tags"),
        ("a: !custom x", 1, "tags"),
        ("a: 1\n---\nb: 2", 2, "only one YAML document"),
        ("", 1, "file is empty"),
        ("# only a comment\n", 1, "file is empty"),
        ("? [a, b]\n: 1", 1, "keys must be plain strings"),
        ("a: [1, 2\nb: 3", 2, "invalid YAML"),
        ("a:\n\tb: 1", 2, "invalid YAML"),
        # characters YAML forbids, and line breaks counted unlike an editor or GitHub
        ("user: a\nreason: x\x00y\n", 2, "character U+0000 is not allowed"),
        ("\x00", 1, "character U+0000"),
        ("a: b\n\nc: \x07", 3, "character U+0007"),
        ("a: \x7f", 1, "character U+007F"),
        ("a: \x9b", 1, "character U+009B"),  # a C1 control
        ("a: \ud800", 1, "character U+D800"),  # a lone surrogate
        ("a: \uffff", 1, "character U+FFFF"),
        # line breaks an editor or GitHub may not count as libyaml does
        ("a: b\rc: d", 1, "line break U+000D is not allowed"),
        ("a: b\r\nc: d\r", 2, "line break U+000D"),
        ("a: b\nc: \x85", 2, "line break U+0085"),
        ("a: x\u2028y", 1, "line break U+2028"),
        ("a: x\u2029y", 1, "line break U+2029"),
        ("a: [", 1, "invalid YAML"),  # libyaml says line 2: past the end of the file
        ("a: 'open\n", 2, "invalid YAML"),
    ],
)
def test_refused(text: str, line: int, fragment: str) -> None:
    with pytest.raises(YamlError) as caught:
        parse(text)
    assert caught.value.line == line
    assert fragment in caught.value.message


def test_lines_of_keys_and_items() -> None:
    doc = parse("org: acme\nbaseline:\n  - user: a\n    repo: r\n  - team: t\n")
    assert doc.line_of(("org",)) == 1
    assert doc.line_of(("baseline", 1, "team")) == 5
    assert doc.line_of(("baseline", 0, "repo")) == 4
    # a key that is missing points at its nearest parent, a whole-file problem at line 1
    assert doc.line_of(("baseline", 0, "permission")) == 3
    assert doc.line_of(("nothing",)) == 1


def test_decode_refuses_oversize_and_non_utf8() -> None:
    with pytest.raises(YamlError, match="limit is 65536"):
        decode(b"a: b\n" * (MAX_FILE_BYTES // 5 + 1))
    with pytest.raises(YamlError, match="not valid UTF-8") as caught:
        decode(b"user: x\nreason: caf\xe9\n")
    assert caught.value.line == 2


def test_escaped_control_characters_and_crlf_stay_allowed() -> None:
    text = 'a: "x\\0y\\ttab\\u2028"\r\nb: "\\u00e9\\U0001F600"\r\n'
    assert parse(text).data == {"a": "x\x00y\ttab\u2028", "b": "\u00e9\U0001f600"}


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000,
        "a: " + "{a: " * 5000 + "b" + "}" * 5000,
        "- " * 5000 + "x",
        "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    ],
)
def test_deep_nesting_is_an_error_not_a_recursion_crash(text: str) -> None:
    # libyaml's own flow nesting limit may speak first; either way it is a YamlError
    with pytest.raises(YamlError, match=r"nested deeper than|nesting depth") as caught:
        parse(text)
    assert caught.value.line == 1


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 1
    assert parse("a: " + "[" * depth + "]" * depth).data is not None


def test_nested_mapping_keys_are_refused_before_they_are_walked() -> None:
    with pytest.raises(YamlError, match="keys must be plain strings"):
        parse("? " * 5000 + "a")


@pytest.mark.parametrize(
    "raw",
    [
        "user: x\n".encode("utf-16"),
        "user: x\n".encode("utf-16-be").join([b"\xfe\xff", b""]),
        "user: x\n".encode("utf-32"),
    ],
)
def test_utf16_and_utf32_are_named(raw: bytes) -> None:
    with pytest.raises(YamlError, match="UTF-16 \\(or UTF-32\\); save it as UTF-8"):
        decode(raw)


def test_utf16_without_a_bom_is_refused_by_its_nul_bytes() -> None:
    with pytest.raises(YamlError, match="character U\\+0000"):
        parse(decode("user: x\n".encode("utf-16-le")))
