"""No input crashes the loader: any bytes give either a model or problems at PATH:LINE.

The loader reads files anyone with push access can write, so hostile input must end
as a clean problem that names the file and a line, never as a traceback. Every case
here goes through the public single-file entry points (``load_grant_text`` and
``load_policy_text``) or the value parsers, with bytes from three sources: anything at
all, YAML-shaped text mixing valid grant fields with hostile values, and the crashes
found so far, kept as plain regression cases.

The suite is reproducible in CI: each property sets its example count, no deadline,
``derandomize=True`` and no example database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from grantops.constants import POLICY_PATH
from grantops.errors import Problem
from grantops.load import load_grant_text, load_policy_text
from grantops.model import Grant, Policy
from grantops.values import parse_duration, parse_timestamp
from grantops.yamlfile import YamlError, decode, parse

from .builders import policy as example_policy
from .data import GRANT, NOW, POLICY

GRANT_PATH = "grants/fuzz/grant.yaml"

POLICY_MODEL = example_policy()


def fuzz(examples: int) -> settings:
    """Settings for one property: a fixed count, no deadline, the same examples every run."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_clean(relative: str, raw: bytes, model: object, problems: list[Problem]) -> None:
    """A model (maybe with warnings), or no model and at least one error at a real line."""
    last_line = raw.count(b"\n") + 1
    for problem in problems:
        assert problem.path == relative
        assert 1 <= problem.line <= last_line, (problem, last_line)
        assert str(problem).startswith(f"{relative}:{problem.line}: {problem.severity}: ")
    if model is None:
        assert any(p.severity == "error" for p in problems), problems
    else:
        assert all(p.severity == "warning" for p in problems), problems


def check_grant_bytes(raw: bytes) -> None:
    for policy in (POLICY_MODEL, None):
        grant, problems = load_grant_text(GRANT_PATH, raw, policy, NOW)
        assert_clean(GRANT_PATH, raw, grant, problems)
        if grant is not None:
            _use_grant(grant)
        event(f"grant with policy {policy is not None}: {_outcome(raw, grant)}")


def check_policy_bytes(raw: bytes) -> Policy | None:
    policy, problems = load_policy_text(POLICY_PATH, raw)
    assert_clean(POLICY_PATH, raw, policy, problems)
    event(f"policy: {_outcome(raw, policy)}")
    if policy is not None:
        # what a run asks of a policy: scope (globs compiled), levels and limits
        policy.repo_in_scope("payments-api")
        policy.team_in_scope("prod-deployers")
        policy.levels.is_known("repo", "push")
        grant, problems = load_grant_text(GRANT_PATH, GRANT.encode(), policy, NOW)
        assert_clean(GRANT_PATH, GRANT.encode(), grant, problems)
    return policy


def _outcome(raw: bytes, model: object) -> str:
    """How far the input got, for ``--hypothesis-show-statistics``."""
    if model is not None:
        return "a model"
    try:
        parse(decode(raw))
    except YamlError:
        return "refused as YAML"
    return "refused by the model or the policy"


def _use_grant(grant: Grant) -> None:
    grant.grantables("acme")
    grant.active_at(NOW)
    assert grant.expires.utcoffset() == timedelta(0)


# --- the crashes found so far, each through the loader -------------------------------

_BODY = "user: octocat\nrepo: payments-api\npermission: push\nreason: INC-4821 hotfix\n"

REGRESSIONS = [
    pytest.param(
        _BODY + "expires: 9999-12-31T23:00:00-05:00\n",
        5,
        "outside the years 1 to 9999 in UTC",
        id="expires in year 10000 once in UTC",
    ),
    pytest.param(
        _BODY + "starts: 0001-01-01T00:00:00+00:30\nexpires: 2026-11-30T18:00:00Z\n",
        5,
        "outside the years 1 to 9999 in UTC",
        id="starts in year 0 once in UTC",
    ),
    pytest.param(
        _BODY.replace("INC", "IN\x00C") + "expires: 2026-11-30T18:00:00Z\n",
        4,
        "U+0000",
        id="a NUL byte",
    ),
    pytest.param("user: octo\x07cat\n", 1, "U+0007", id="a bell character"),
    pytest.param("\x00", 1, "U+0000", id="nothing but NUL"),
    pytest.param("a: " + "{a: " * 3000 + "b" + "}" * 3000, 1, "nested", id="deep flow mappings"),
    pytest.param("- " * 3000 + "x", 1, "nested deeper than", id="deep block lists"),
    pytest.param("? " * 3000 + "a", 1, "keys must be plain", id="nested complex keys"),
    pytest.param("user: a\rrepo: b\n", 1, "line break U+000D", id="a lone carriage return"),
    # never crashed, kept beside them: an alias bomb stops at its first anchor
    pytest.param('a: &a ["x", "x"]\nb: &b [*a, *a]\nc: [*b, *b]\n', 1, "anchors", id="laughs"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), REGRESSIONS)
def test_crashes_found_so_far_are_problems_at_their_line(
    text: str, line: int, fragment: str
) -> None:
    raw = text.encode()
    grant, problems = load_grant_text(GRANT_PATH, raw, POLICY_MODEL, NOW)
    assert grant is None
    assert_clean(GRANT_PATH, raw, grant, problems)
    assert [p.line for p in problems if fragment in p.message] == [line], problems


POLICY_REGRESSIONS = [
    pytest.param(POLICY.replace("72h", "999999999w"), 11, id="past timedelta"),
    pytest.param(POLICY.replace("72h", "99999999999999999999w"), 11, id="past a C int"),
    pytest.param(POLICY.replace("72h", "9" * 5000 + "m"), 11, id="past int()'s digit limit"),
    pytest.param(POLICY + "notify:\n  before: 99999999999999w\n", 15, id="notify.before"),
]


@pytest.mark.parametrize(("text", "line"), POLICY_REGRESSIONS)
def test_durations_past_what_can_be_counted_are_policy_problems(text: str, line: int) -> None:
    policy, problems = load_policy_text(POLICY_PATH, text.encode())
    assert policy is None
    assert [
        (p.line, "longer than any duration grantops can count" in p.message) for p in problems
    ] == [(line, True)]


# --- any bytes at all ------------------------------------------------------------------


@fuzz(2000)
@example(raw=b"\xff\xfeu\x00s\x00")  # UTF-16 with its BOM
@example(raw=b"\xef\xbb\xbf\xef\xbb\xbfuser: x")  # two UTF-8 BOMs
@example(raw=b"a: \xed\xa0\x80")  # an encoded surrogate is not UTF-8
@example(raw=b"a: b\r\r\r\x00")  # line breaks that are not \n
@given(raw=st.binary(max_size=300))
def test_any_bytes_give_a_grant_or_problems(raw: bytes) -> None:
    check_grant_bytes(raw)
    check_policy_bytes(raw)


@fuzz(1000)
@given(text=st.text(max_size=200))
def test_any_text_gives_a_grant_or_problems(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    check_grant_bytes(raw)
    check_policy_bytes(raw)


# --- YAML-shaped text: valid grant fields mixed with hostile values -------------------

TIMESTAMPS = st.one_of(
    st.sampled_from(
        [
            "2026-11-30T18:00:00Z",
            "9999-12-31T23:00:00-05:00",
            "9999-12-31T23:59:59.999999999Z",
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00-23:59",
            "0000-01-01T00:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-11-30T18:00:00+99:99",
            "2026-11-30",
            ".inf",
            "-.inf",
            ".nan",
        ]
    ),
    st.builds(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}".format,
        st.integers(0, 9999),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(["Z", "z", "+00:00", "-05:00", "+23:59", "-23:59", "+24:00", ""]),
    ),
)
DURATIONS = st.one_of(
    st.sampled_from(["72h", "0m", "999999999d", "1000000000d", "999999999w", "9" * 4400 + "h"]),
    st.builds(
        "{}{}".format, st.integers(0, 10**30), st.sampled_from(["w", "d", "h", "m", "", "s"])
    ),
)
NAMES = st.sampled_from(["octocat", "payments-api", "prod-deployers", "sre", "push", "ledger"])
HOSTILE = st.one_of(
    st.sampled_from(
        [
            "",
            "~",
            "no",
            "0x1F",
            "1e99999",
            "-0",
            ".inf",
            ".nan",
            "&a x",
            "*a",
            "!!str x",
            "!!python/object:os.system x",
            "<<",
            "[a, [b, [c]]]",
            "{a: {b: {c: d}}}",
            "[" * 40 + "]" * 40,
            "{a: " * 40 + "b" + "}" * 40,
            '"\\0\\x07\\ud800"',
            '"\\U0010FFFF"',
            "'unterminated",
            "|\n  block\n  text",
            ">-\n  folded",
            "x\n---\ny: z",
            "x\x00y",
            "\x1b[31mred",
            "\ufeffbom",
            "\u2028",
            "a" * 3000,
            "../../../etc/passwd",
        ]
    ),
    st.integers().map(str),
    st.integers(min_value=4000, max_value=4400).map(lambda digits: "7" * digits),
    st.floats().map(repr),
    st.text(max_size=20).map(lambda t: t.replace("\n", " ")),
)
GRANT_KEYS = ["user", "team", "repo", "repos", "permission", "role", "starts", "expires", "reason"]


@st.composite
def grant_texts(draw: st.DrawFn) -> str:
    """A grant file: mostly sensible keys, values from every kind of trouble, odd layouts."""
    keys = draw(
        st.lists(
            st.one_of(st.sampled_from(GRANT_KEYS), st.sampled_from(["? [k]", "1", "<<", "expire"])),
            max_size=9,
        )
    )
    lines = []
    for key in keys:
        if key in ("starts", "expires"):
            value = draw(st.one_of(TIMESTAMPS, HOSTILE))
        elif key in ("user", "team", "repo", "permission"):
            value = draw(st.one_of(NAMES, HOSTILE))
        elif key == "repos":
            value = "[" + ", ".join(draw(st.lists(st.one_of(NAMES, HOSTILE), max_size=3))) + "]"
        else:
            value = draw(st.one_of(st.just("INC-1 a fine reason"), HOSTILE))
        indent = draw(st.sampled_from(["", "", "", " ", "\t"]))
        lines.append(f"{indent}{key}: {value}")
    prefix = draw(st.sampled_from(["", "", "\ufeff", "%YAML 1.1\n---\n", "--- !!map\n", "# c\n"]))
    end = draw(st.sampled_from(["\n", "", "\r\n", "\n...\n", "\n---\n"]))
    return prefix + "\n".join(lines) + end


@st.composite
def grant_mutations(draw: st.DrawFn) -> str:
    """The example grant with one to three of its values replaced by trouble."""
    values = {
        "octocat": st.one_of(NAMES, HOSTILE),
        "payments-api": st.one_of(NAMES, HOSTILE),
        "push": st.one_of(NAMES, HOSTILE),
        "2026-11-30T09:00:00Z": st.one_of(TIMESTAMPS, HOSTILE),
        "2026-11-30T18:00:00Z": st.one_of(TIMESTAMPS, HOSTILE),
        "INC-4821 hotfix": HOSTILE,
    }
    text = GRANT
    for old in draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=3, unique=True)):
        text = text.replace(old, draw(values[old]), 1)
    return text


@fuzz(1500)
@example(text=_BODY + "expires: 9999-12-31T23:00:00-05:00\n")
@example(text=_BODY + "expires: 0001-01-01T00:00:00-00:01\nstarts: 0001-01-01T00:00:00Z\n")
@given(text=st.one_of(grant_texts(), grant_mutations()))
def test_yaml_shaped_grants_give_a_grant_or_problems(text: str) -> None:
    check_grant_bytes(text.encode("utf-8", "surrogatepass"))


@st.composite
def policy_texts(draw: st.DrawFn) -> str:
    """The example policy with one or two of its values replaced by trouble."""
    text = POLICY + "approval:\n  required: 1\nsafety:\n  max_removal_fraction: 0.25\n"
    text += "notify:\n  before: 1h\n"
    replacements = {
        "72h": DURATIONS,
        "1h": DURATIONS,
        "required: 1": HOSTILE.map("required: {}".format),
        "fraction: 0.25": st.one_of(st.floats().map(repr), HOSTILE).map("fraction: {}".format),
        '"deploy-*"': st.one_of(st.text(alphabet="ab.*?[]!-^\\", max_size=8).map(repr), HOSTILE),
        "org: acme": HOSTILE.map("org: {}".format),
        "security-auditor: triage": HOSTILE.map("security-auditor: {}".format),
    }
    for old in draw(st.lists(st.sampled_from(sorted(replacements)), max_size=2, unique=True)):
        text = text.replace(old, draw(replacements[old]), 1)
    return text


@fuzz(800)
@example(text=POLICY.replace("72h", "99999999999999999999w"))
@given(text=policy_texts())
def test_yaml_shaped_policies_give_a_policy_or_problems(text: str) -> None:
    check_policy_bytes(text.encode("utf-8", "surrogatepass"))


# --- the value parsers on their own ----------------------------------------------------


@fuzz(1000)
@given(value=st.one_of(TIMESTAMPS, HOSTILE, st.text(max_size=40), st.datetimes()))
def test_timestamps_parse_to_utc_or_raise_value_error(value: object) -> None:
    try:
        parsed = parse_timestamp(value)
    except ValueError:
        return
    assert parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0)
    assert datetime.min.replace(tzinfo=UTC) <= parsed


@fuzz(1000)
@given(value=st.one_of(DURATIONS, HOSTILE, st.text(max_size=40), st.integers()))
def test_durations_parse_or_raise_value_error(value: object) -> None:
    try:
        parsed = parse_duration(value)
    except ValueError:
        return
    assert parsed > timedelta(0)
