"""The plan: one behaviour per case, read like the spec."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grantops import savedplan
from grantops.actual import ActualState
from grantops.audit.events import parse_event
from grantops.audit.log import honoured_grantables
from grantops.desired import desired_access
from grantops.errors import UsageError
from grantops.load import Loaded
from grantops.model import Grant
from grantops.plan import make_plan
from grantops.planning import build_plan

from .builders import actual, grant, policy, repo, user
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


# With approval proof on, "expired" (which the brakes never count) needs the audit log to
# show the grant proven while it held. A file that only *says* it has ended does not do.
MONA_LEDGER = ("grants/old.yaml", user("mona"), repo("ledger"))
RUN = "https://github.com/acme/access/actions/runs/7"


def _approved(run: str, source: str, expires: str, *grantables: list[str]) -> dict[str, Any]:
    return {
        "run": run,
        "event": "grant-approved",
        "source": source,
        "ts": "2026-12-31T00:00:00Z",  # wall clock: the run's `now` is what counts
        "expires": expires,
        "grantables": list(grantables),
    }


def _started(run: str, now: str) -> dict[str, Any]:
    return {"run": run, "event": "run-start", "ts": "2026-12-31T00:00:00Z", "now": now}


MONA = ["user:Mona", "repo:acme/Ledger", "push"]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [
                _started(RUN, "2026-11-29T12:00:00Z"),
                _approved(RUN, "grants/old.yaml", ENDED["expires"], MONA),
            ],
            {MONA_LEDGER},
            id="proven while open",
        ),
        pytest.param(
            [
                _started(RUN, "2026-11-28T12:00:00Z"),
                _approved(RUN, "grants/old.yaml", ENDED["expires"], MONA),
            ],
            {MONA_LEDGER},
            id="proven before it opened",
        ),
        pytest.param(
            [
                _started(RUN, "2026-11-29T18:00:00Z"),
                _approved(RUN, "grants/old.yaml", ENDED["expires"], MONA),
            ],
            set(),
            id="proven only once it had ended: never honoured",
        ),
        pytest.param(
            [_approved(RUN, "grants/old.yaml", ENDED["expires"], MONA)],
            set(),
            id="no run-start: the wall clock after expiry decides",
        ),
        pytest.param(
            [
                _started(RUN, "2026-11-29T12:00:00Z"),
                _approved(RUN, "grants/old.yaml", "not a time", MONA),
                _approved(
                    RUN, "grants/bad.yaml", ENDED["expires"], ["mona", "ledger", "push"], "x"
                ),
                {
                    "run": RUN,
                    "event": "access-added",
                    "source": "grants/old.yaml",
                    "principal": "user:mona",
                    "target": "repo:acme/ledger",
                },
            ],
            set(),
            id="malformed entries and other events prove nothing",
        ),
    ],
)
def test_the_audit_log_tells_which_grants_were_proven_and_honoured(
    events: list[dict[str, Any]], expected: set[tuple[str, Any, Any]]
) -> None:
    assert honoured_grantables([parse_event(e) for e in events]) == expected


def _decoy_plan(expiries: dict[Any, str] | None, unreadable: bool = False) -> list[tuple[Any, ...]]:
    """mona on ledger, and an expired grant file naming her: what is her removal?"""
    p = policy()
    grants = [grant("old.yaml", user="mona", repo="ledger", permission="push", **ENDED)]
    state = actual(
        repos={
            **_repo()["repos"],
            "ledger": {"collaborators": {"mona": "push"}, "invitations": {"dana": "pull"}},
        }
    )
    if unreadable:
        state = replace(state, unreadable={repo("ledger"): "HTTP 502"})
    made = make_plan(p, desired_access(p, grants, NOW), state, NOW, expiries=expiries)
    return [(c.action, str(c.principal), c.cause, c.source) for c in made.changes]


MONA_ENDED = {(user("mona"), repo("ledger")): "grants/old.yaml"}
"""A reviewed version of grants/old.yaml gave mona push on ledger, and it has ended."""


def test_an_ended_grant_is_an_expiry_only_when_a_reviewed_version_gave_it() -> None:
    mona_expired = ("remove", "user:mona", "expired", "grants/old.yaml")
    mona_undeclared = ("remove", "user:mona", "undeclared", None)
    dana = ("cancel_invitation", "user:dana", "undeclared", None)
    # proof off (an offline plan, approval.required: 0): the file is taken at its word
    assert _decoy_plan(None) == [mona_expired, dana]  # expiries come first
    # proof on: a reviewed version of that file gave mona that access and has ended
    assert _decoy_plan(MONA_ENDED) == [mona_expired, dana]
    # proof on and nothing proven: the file could have been pushed, already expired
    assert _decoy_plan({}) == [dana, mona_undeclared]
    # a reviewed version that gave someone else access does not vouch for mona
    assert _decoy_plan({(user("hubot"), repo("ledger")): "grants/old.yaml"}) == [
        dana,
        mona_undeclared,
    ]


def test_an_unproven_expiry_on_an_unreadable_repo_is_left_alone() -> None:
    assert _decoy_plan(MONA_ENDED, unreadable=True) == [
        ("remove", "user:mona", "expired", "grants/old.yaml")
    ]
    assert _decoy_plan({}, unreadable=True) == []
    assert _decoy_plan(None, unreadable=True) == [
        ("remove", "user:mona", "expired", "grants/old.yaml")
    ]


def test_an_unproven_expiry_that_lowers_to_the_baseline_keeps_the_baseline_cause() -> None:
    p = policy()
    grants = [
        grant("old.yaml", user="release-bot", repo="payments-api", permission="admin", **ENDED)
    ]
    desired = desired_access(p, grants, NOW)
    state = actual(**_repo(collaborators={"release-bot": "admin"}))
    ended = {(user("release-bot"), repo("payments-api")): "grants/old.yaml"}
    causes = [
        [
            (c.action, c.after, c.cause, c.source)
            for c in make_plan(p, desired, state, NOW, expiries=e).changes
        ]
        for e in (ended, {})
    ]
    assert causes == [
        [("update", "push", "expired", "grants/old.yaml")],
        [("update", "push", "baseline", "grants/policy.yaml")],
    ]


@pytest.mark.parametrize("text", ["{not json", "[" * 100_000, '{"plan": []}', "[]"])
def test_a_plan_file_that_is_not_one_is_refused_by_name(tmp_path: Path, text: str) -> None:
    """apply --plan takes a file someone hands over: garbage is a usage error, not a crash."""
    path = tmp_path / "plan.json"
    path.write_text(text)
    plan = make_plan(policy(), desired_access(policy(), [], NOW), ActualState("acme"), NOW)
    with pytest.raises(UsageError, match="is not a plan file written by grantops plan --out"):
        savedplan.verify(path, plan, "digest")


def test_a_revoke_is_revoked_comes_first_and_yields_to_an_expiry() -> None:
    """A reviewed deletion of the grant that gave mona access: ``revoked``, not drift."""
    revoked = {(user("mona"), repo("ledger")): "grants/gone.yaml"}
    p = policy()
    state = actual(repos={**_repo()["repos"], "ledger": {"collaborators": {"mona": "push"}}})
    desired = desired_access(p, [], NOW)
    plans = [
        make_plan(p, desired, state, NOW, expiries=e, revoked=revoked).changes
        for e in ({}, MONA_ENDED)
    ]
    assert [[(c.action, str(c.principal), c.cause, c.source) for c in ch] for ch in plans] == [
        [("remove", "user:mona", "revoked", "grants/gone.yaml")],
        [("remove", "user:mona", "expired", "grants/old.yaml")],  # its window said so first
    ]
    # with proof off, nothing is proven reviewed, so nothing is a revoke either
    off = build_plan(Loaded(p, (), ()), state, NOW, revoked=revoked).plan.changes
    assert [c.cause for c in off] == ["undeclared"]
