"""What validate says about the mistakes people make on day one, in their own words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grantops.load import load_grant_text, load_policy_text
from grantops.model import Policy

from .data import POLICY

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
GRANT = "user: bob\nrepo: payments-api\n{line}\nexpires: {expires}\nreason: INC-1 fix\n"


def _policy(text: str = POLICY) -> Policy:
    policy, problems = load_policy_text("grants/policy.yaml", text.encode())
    assert policy is not None, problems
    return policy


def _messages(line: str, expires: str = "2026-12-01T12:00:00Z", policy: str = POLICY) -> list[str]:
    text = GRANT.format(line=line, expires=expires).encode()
    _grant, problems = load_grant_text("grants/bob/x.yaml", text, _policy(policy), NOW)
    return [p.message for p in problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "permision: push",
            "unknown key 'permision' in a user + repo grant (did you mean 'permission'?)",
        ),
        ("permission: write", "unknown permission 'write' (did you mean 'push'?)"),
        ("permission: Read", "unknown permission 'Read' (did you mean 'pull'?)"),
        ("permission: wrte", "unknown permission 'wrte' (did you mean 'push'?)"),
        (
            "permission: security-auditr",
            "unknown permission 'security-auditr' (did you mean 'security-auditor'?)",
        ),
    ],
)
def test_a_near_miss_gets_a_did_you_mean(line: str, expected: str) -> None:
    assert any(m.startswith(expected) for m in _messages(line)), _messages(line)


def test_no_guess_when_nothing_is_close() -> None:
    assert all("did you mean" not in m for m in _messages("permission: owner"))


@pytest.mark.parametrize("spelling", ["Push", "PUSH", "push"])
def test_built_in_role_names_are_case_insensitive(spelling: str) -> None:
    text = GRANT.format(line=f"permission: {spelling}", expires="2026-11-30T12:00:00Z").encode()
    grant, problems = load_grant_text("grants/bob/x.yaml", text, _policy(), NOW)
    assert grant is not None and not [p for p in problems if p.severity == "error"]
    assert [level for _, _, level in grant.grantables("acme")] == ["push"]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("72h", "the access window is 76h, longer than limits.max_duration 72h"),
        ("3d", "the access window is 3d4h, longer than limits.max_duration 3d"),
        ("4320m", "the access window is 4560m, longer than limits.max_duration 4320m"),
    ],
)
def test_durations_are_shown_in_the_policys_own_units(limit: str, expected: str) -> None:
    policy = POLICY.replace("max_duration: 72h", f"max_duration: {limit}")
    assert expected in _messages("permission: push", "2026-12-03T12:00:00Z", policy)
