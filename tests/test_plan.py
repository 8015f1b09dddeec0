"""The plan: one behaviour per case, read like the spec."""

from __future__ import annotations

from typing import Any

import pytest

from grantops.desired import desired_access
from grantops.model import Grant
from grantops.plan import make_plan

from .builders import actual, grant, policy
from .conftest import NOW

OPEN = {"starts": "2026-11-30T09:00:00Z", "expires": "2026-11-30T18:00:00Z"}
ENDED = {"starts": "2026-11-29T09:00:00Z", "expires": "2026-11-29T18:00:00Z"}
BASELINE_STATE = {
    "collaborators": {"release-bot": "push"},
    "teams": {"platform": "maintain"},
}


def _plan(grants: list[Grant], state: dict[str, Any]) -> list[tuple[Any, ...]]:
    p = policy()
    made = make_plan(p, desired_access(p, grants, NOW), actual(**state), NOW)
    return [
        (c.action, str(c.principal), str(c.target), c.before, c.after, c.cause, c.source)
        for c in made.changes
    ]


def _repo(**extra: Any) -> dict[str, Any]:
    return {"repos": {"payments-api": {**BASELINE_STATE, **extra}}}


CASES = [
    ("converged", [], _repo(), []),
    (
        "add a grant",
        [grant("g.yaml", user="octocat", repo="payments-api", permission="push", **OPEN)],
        _repo(),
        [("add", "user:octocat", "repo:acme/payments-api", None, "push", "grant", "grants/g.yaml")],
    ),
    (
        "raise an existing collaborator",
        [grant("g.yaml", user="octocat", repo="payments-api", permission="maintain", **OPEN)],
        _repo(collaborators={"release-bot": "push", "octocat": "pull"}),
        [
            (
                "update",
                "user:octocat",
                "repo:acme/payments-api",
                "pull",
                "maintain",
                "grant",
                "grants/g.yaml",
            )
        ],
    ),
    (
        "expired grant is removed with its cause and file",
        [grant("old.yaml", user="octocat", repo="payments-api", permission="push", **ENDED)],
        _repo(collaborators={"release-bot": "push", "octocat": "push"}),
        [
            (
                "remove",
                "user:octocat",
                "repo:acme/payments-api",
                "push",
                None,
                "expired",
                "grants/old.yaml",
            )
        ],
    ),
    (
        "expiry lowers to the baseline",
        [grant("old.yaml", user="release-bot", repo="payments-api", permission="admin", **ENDED)],
        _repo(collaborators={"release-bot": "admin"}),
        [
            (
                "update",
                "user:release-bot",
                "repo:acme/payments-api",
                "admin",
                "push",
                "expired",
                "grants/old.yaml",
            )
        ],
    ),
    (
        "undeclared collaborator, team and invitation are removed",
        [],
        _repo(
            collaborators={"release-bot": "push", "mallory": "admin"},
            teams={"platform": "maintain", "contractors": "push"},
            invitations={"eve": "pull"},
        ),
        [
            (
                "remove",
                "team:contractors",
                "repo:acme/payments-api",
                "push",
                None,
                "undeclared",
                None,
            ),
            (
                "cancel_invitation",
                "user:eve",
                "repo:acme/payments-api",
                "pull",
                None,
                "undeclared",
                None,
            ),
            ("remove", "user:mallory", "repo:acme/payments-api", "admin", None, "undeclared", None),
        ],
    ),
    (
        "a pending invitation at the right level is left to be accepted",
        [grant("g.yaml", user="carol", repo="payments-api", permission="push", **OPEN)],
        _repo(invitations={"carol": "push"}),
        [],
    ),
    (
        "an invitation at the wrong level is replaced",
        [grant("g.yaml", user="carol", repo="payments-api", permission="push", **OPEN)],
        _repo(invitations={"carol": "pull"}),
        [
            (
                "cancel_invitation",
                "user:carol",
                "repo:acme/payments-api",
                "pull",
                None,
                "grant",
                "grants/g.yaml",
            ),
            ("add", "user:carol", "repo:acme/payments-api", None, "push", "grant", "grants/g.yaml"),
        ],
    ),
    (
        "logins and permissions compare case-insensitively",
        [
            grant(
                "g.yaml", user="OctoCat", repo="Payments-API", permission="security-auditor", **OPEN
            )
        ],
        _repo(collaborators={"release-bot": "push", "octocat": "Security-Auditor"}),
        [],
    ),
    (
        "a future grant gives nothing yet",
        [
            grant(
                "f.yaml",
                user="octocat",
                repo="payments-api",
                permission="push",
                starts="2026-12-01T00:00:00Z",
                expires="2026-12-01T08:00:00Z",
            )
        ],
        _repo(),
        [],
    ),
    (
        "team membership: add, change role, remove",
        [
            grant("a.yaml", user="hubot", team="prod-deployers", **OPEN),
            grant("b.yaml", user="alice", team="prod-deployers", role="maintainer", **OPEN),
        ],
        {**_repo(), "teams": {"prod-deployers": {"members": {"alice": "member", "bob": "member"}}}},
        [
            (
                "update",
                "user:alice",
                "team:acme/prod-deployers",
                "member",
                "maintainer",
                "grant",
                "grants/b.yaml",
            ),
            ("remove", "user:bob", "team:acme/prod-deployers", "member", None, "undeclared", None),
            (
                "add",
                "user:hubot",
                "team:acme/prod-deployers",
                None,
                "member",
                "grant",
                "grants/a.yaml",
            ),
        ],
    ),
    (
        "nothing outside managed scope is touched",
        [],
        {
            **_repo(),
            "repos": {**_repo()["repos"], "website": {"collaborators": {"mallory": "admin"}}},
            "teams": {"platform": {"members": {"mallory": "maintainer"}}},
        },
        [],
    ),
    (
        "a managed repo missing from GitHub gets its baseline",
        [],
        {},
        [
            (
                "add",
                "team:platform",
                "repo:acme/payments-api",
                None,
                "maintain",
                "baseline",
                "grants/policy.yaml",
            ),
            (
                "add",
                "user:release-bot",
                "repo:acme/payments-api",
                None,
                "push",
                "baseline",
                "grants/policy.yaml",
            ),
        ],
    ),
]


@pytest.mark.parametrize(
    ("grants", "state", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(grants: list[Grant], state: dict[str, Any], expected: list[tuple[Any, ...]]) -> None:
    assert _plan(grants, state) == expected


def test_protected_accounts_and_owners_are_left_alone() -> None:
    p = policy()
    state = actual(
        owners=["root-admin"],
        repos={
            "payments-api": {
                **BASELINE_STATE,
                "collaborators": {
                    "release-bot": "push",
                    "acme-admin-bot": "admin",
                    "root-admin": "admin",
                },
                "invitations": {"ACME-admin-bot": "pull"},
            }
        },
    )
    grants = [grant("g.yaml", user="root-admin", repo="payments-api", permission="pull", **OPEN)]
    made = make_plan(p, desired_access(p, grants, NOW), state, NOW)
    assert made.changes == ()
    assert [(str(k.principal), k.level, k.reason) for k in made.kept] == [
        ("user:acme-admin-bot", "admin", "protected account"),
        ("user:acme-admin-bot", "pull", "protected account"),
        ("user:root-admin", "admin", "org owner"),
    ]


def test_plan_json_shape() -> None:
    p = policy()
    grants = [grant("g.yaml", user="octocat", repo="payments-api", permission="push", **OPEN)]
    made = make_plan(
        p, desired_access(p, grants, NOW), actual(**_repo(invitations={"eve": "pull"})), NOW
    )
    document = made.to_json()
    assert document["now"] == "2026-11-30T12:00:00Z"
    assert document["summary"] == {"add": 1, "update": 0, "remove": 0, "cancel_invitation": 1}
    assert document["changes"][0] == {
        "action": "cancel_invitation",
        "principal": "user:eve",
        "target": "repo:acme/payments-api",
        "from": "pull",
        "to": None,
        "cause": "undeclared",
        "source": None,
    }
