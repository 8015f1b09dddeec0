"""Strict YAML: every scalar a string, and everything that hides meaning refused."""

from __future__ import annotations

import pytest

from grantops.yamlfile import MAX_FILE_BYTES, YamlError, decode, parse


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
