"""The fake GitHub and the real client on the sandbox give the same answers.

Orchestration tests run against :class:`FakeGitHub`; these tests are what lets them.
Every scenario asks both the same questions, from the same state file, and compares
what comes back: reads, outcomes of changes and what they leave behind, approval
proof's facts about pull requests, activity, comments and new pull requests.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from grantops.access import AccessKey, Principal, Target
from grantops.actual import OrgFacts, ReadResult
from grantops.github import GitHub, GitHubAPI, GitHubError
from grantops.github.fake import FakeGitHub
from grantops.model import Policy
from grantops.plan import Change, Outcome
from grantops.sandbox.fixtures import SandboxState
from grantops.yamlfile import parse

from .sandbox_fixtures import BASE_STATE, StartSandbox, client, reviewed, with_access_repo

POLICY = Policy.model_validate(
    parse(
        """\
org: acme
managed:
  repos: [payments-api, ledger, "deploy-*", website, gone-repo]
  teams: [prod-deployers, platform, sre, no-such-team]
roles:
  security-auditor: triage
"""
    ).data
)

STATE: dict[str, Any] = {
    **copy.deepcopy(BASE_STATE),
    "base_permission": "pull",
    "repos": {
        "payments-api": {
            "collaborators": {"release-bot": "push", "acme-admin-bot": "admin", "Alice": "pull"},
            "invitations": {"carol": "push"},
            "expired_invitations": {"dana": "pull"},
            "teams": {"platform": "maintain", "sre": "security-auditor"},
            "commits": [
                {"sha": "a" * 40, "author": "octocat", "date": "2026-11-30T10:00:00Z"},
                {"sha": "b" * 40, "author": "octocat", "date": "2026-11-29T10:00:00Z"},
                {"sha": "c" * 40, "author": "mona", "date": "2026-11-30T11:00:00Z"},
            ],
            "pulls": [
                {
                    "number": 7,
                    "author": "octocat",
                    "title": "Hotfix the ledger",
                    "head_sha": "d" * 40,
                    "merged_at": "2026-11-30T10:30:00Z",
                    "merge_commit_sha": "e" * 40,
                },
                {"number": 8, "author": "octocat", "head_sha": "f" * 40},
            ],
        },
        "ledger": {"collaborators": {"mona": "security-auditor"}},
        "deploy-api": {"collaborators": {"bob": "push"}},
        "website": {"collaborators": {"bob": "admin"}},
        "outside-scope": {"collaborators": {"mallory": "admin"}},
    },
    "teams": {
        "prod-deployers": {"members": {"hubot": "member"}, "pending": {"carol": "member"}},
        "platform": {"members": {"alice": "member", "mona": "maintainer"}},
        "sre": {"members": {"bob": "maintainer"}},
    },
}

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _fake(state: dict[str, Any]) -> FakeGitHub:
    fake = FakeGitHub.from_state(SandboxState.model_validate(state), NOW)
    fake.viewer_login = "grantops-bot"  # the sandbox's token belongs to this bot
    return fake


Both = Callable[[dict[str, Any]], list[GitHubAPI]]


@pytest.fixture
def both(start_sandbox: StartSandbox) -> Iterator[Both]:
    """The real client on a sandbox and the fake, each from its own copy of a state."""
    made: list[GitHubAPI] = []

    def make(state: dict[str, Any]) -> list[GitHubAPI]:
        pair = [client(start_sandbox(copy.deepcopy(state))), _fake(copy.deepcopy(state))]
        made.extend(pair)
        return pair

    yield make
    for github in made:
        github.close()


T = TypeVar("T")


def _same(answers: list[T]) -> T:
    http, fake = answers
    assert fake == http
    return http


def _read_view(read: ReadResult) -> tuple[Any, ...]:
    """Everything a read tells a run (ids compared by who holds them, not their value)."""
    return (
        read.actual,
        sorted(read.invitation_ids),
        read.members,
        read.base_permission,
        read.repos,
        read.role_bases,
        read.facts,
    )


def test_reads_agree(both: Both) -> None:
    clients = both(STATE)
    read = _same([_read_view(c.read(POLICY, with_members=True)) for c in clients])
    actual = read[0]
    # The state is rich enough that each rule of a read is exercised.
    user, team = Principal.user, Principal.team
    payments = Target.repo("acme", "payments-api")
    assert actual.access[(user("acme-admin-bot"), payments)] == "admin"
    assert actual.access[(user("alice"), payments)] == "maintain"  # via team platform
    assert actual.access[(team("sre"), payments)] == "security-auditor"
    assert actual.invitations[(user("carol"), payments)] == "push"
    assert actual.expired_invitations[(user("dana"), payments)] == "pull"
    assert actual.invitations[(user("carol"), Target.team("acme", "prod-deployers"))] == "member"
    assert set(actual.unreadable) == {
        Target.repo("acme", "gone-repo"),
        Target.team("acme", "no-such-team"),
    }
    assert not any(t.name == "outside-scope" for _, t in actual.access)
    assert actual.viewer == "grantops-bot"
    assert read[3] == "pull"
    assert read[4] == ("deploy-api", "ledger", "outside-scope", "payments-api", "website")
    assert read[5] == {"security-auditor": "triage"}  # seen on payments-api and ledger
    assert read[6] == OrgFacts(
        owners=("root-admin",),
        base_permission="pull",
        repositories=5,
        managed=4,
        unmanaged=("outside-scope",),
    )


def test_reads_of_some_invitations_agree(both: Both) -> None:
    """A read that lists only the invitations it is told to, then lists more afterwards."""
    payments, ledger = Target.repo("acme", "payments-api"), Target.repo("acme", "ledger")
    views, listings = [], []
    for github in both(STATE):
        read = github.read(POLICY, invitations=lambda target: target == ledger)
        views.append(_read_view(read))
        listed = github.read_invitations(POLICY, [payments, ledger, Target.repo("acme", "gone")])
        listings.append((listed, _read_view(read.with_invitations(listed))))
    actual = _same(views)[0]
    assert not any(t.kind == "repo" for _, t in actual.invitations)  # teams' are still read
    assert not actual.expired_invitations
    assert payments in actual.invitations_unlisted and ledger not in actual.invitations_unlisted
    listed, merged = _same(listings)
    assert listed.listed == (ledger, payments)
    assert "HTTP 404" in listed.failed[Target.repo("acme", "gone")]
    assert merged[0].invitations[(Principal.user("carol"), payments)] == "push"
    assert merged[0].expired_invitations[(Principal.user("dana"), payments)] == "pull"
    assert payments not in merged[0].invitations_unlisted
    assert merged[1] == [(Principal.user("carol"), payments), (Principal.user("dana"), payments)]


CHANGES = [
    ("add", "user", "octocat", "repo", "ledger", None, "push"),  # member: added
    ("add", "user", "dana", "repo", "ledger", None, "pull"),  # outsider: invited
    ("update", "user", "release-bot", "repo", "payments-api", "push", "maintain"),
    ("remove", "user", "acme-admin-bot", "repo", "payments-api", "admin", None),
    ("cancel_invitation", "user", "carol", "repo", "payments-api", "push", None),
    ("add", "team", "sre", "repo", "ledger", None, "triage"),
    ("remove", "team", "platform", "repo", "payments-api", "maintain", None),
    ("add", "user", "octocat", "team", "prod-deployers", None, "maintainer"),
    ("add", "user", "mallory", "team", "prod-deployers", None, "member"),  # pending
    ("remove", "user", "hubot", "team", "prod-deployers", "member", None),
    ("add", "user", "mona", "repo", "website", None, "no-such-role"),  # refused
    ("remove", "user", "nobody-here", "repo", "website", "push", None),  # already gone
    ("remove", "user", "mona", "team", "prod-deployers", "member", None),  # already gone
    ("remove", "team", "sre", "repo", "website", "push", None),  # already gone
]


def _change(row: tuple[str, ...]) -> Change:
    action, kind, who, target_kind, where, before, after = row
    principal = Principal.user(who) if kind == "user" else Principal.team(who)
    target = Target.repo("acme", where) if target_kind == "repo" else Target.team("acme", where)
    return Change(action, principal, target, before, after, "grant", "g.yaml")  # type: ignore[arg-type]


def test_changes_agree_and_leave_the_same_org(both: Both) -> None:
    outcomes: list[list[tuple[str, str]]] = []
    after: list[tuple[Any, ...]] = []
    for github in both(STATE):
        read = github.read(POLICY)
        done: list[Outcome] = [
            github.apply("acme", _change(row), read.invitation_ids) for row in CHANGES
        ]
        outcomes.append([(o.result, o.detail if o.result != "failed" else "") for o in done])
        after.append(_read_view(github.read(POLICY)))
    results = _same(outcomes)
    assert [r for r, _ in results].count("invited") == 2
    assert results[10][0] == "failed"
    _same(after)


def test_inherited_levels_agree(both: Both) -> None:
    payments = Target.repo("acme", "payments-api")
    keys: list[AccessKey] = [
        (Principal.user(login), payments)
        for login in ("alice", "release-bot", "acme-admin-bot", "bob")
    ]
    found = []
    for github in both(STATE):
        found.append(github.inherited_levels(POLICY, github.read(POLICY), keys))
    assert _same(found) == {(Principal.user("alice"), payments): "maintain"}


def test_org_membership_agrees(both: Both) -> None:
    """Owners and members are members, whatever the case; outsiders and strangers are not."""
    logins = ("root-admin", "Alice", "OCTOCAT", "dana", "Mallory", "nobody-here")
    found = [
        [github.is_org_member("acme", login) for login in logins]
        + [github.is_org_member("other-org", "alice")]
        for github in both(STATE)
    ]
    assert _same(found) == [True, True, True, False, False, False, False]


def test_review_facts_agree(both: Both, tmp_path: Path) -> None:
    repo = reviewed(tmp_path / "access", {"octocat.yaml": "user: octocat\n"})
    repo.merge({"grants/late.yaml": "user: mona\n"}, author="mona", approvers=["bob"])
    repo.merge({}, author="mona", approvers=["bob"], remove=["grants/octocat.yaml"])
    state = with_access_repo(repo, STATE)
    commits = repo.git("rev-list", "HEAD").split()
    pulls: list[Any] = []
    for github in both(state):
        merged = [github.merged_pull_for_commit("acme", "access", sha, "main") for sha in commits]
        numbers = [p.number for p in merged if p is not None]
        pulls.append(
            (
                merged,
                [github.changed_files("acme", "access", n) for n in numbers],
                github.recent_merges("acme", "access", "main"),
                github.merged_pull_for_commit("acme", "access", commits[0], "release"),
                [
                    github.can_write("acme", "payments-api", who)
                    for who in ("alice", "carol", "mona")
                ],
                [github.is_team_member("acme", "prod-deployers", w) for w in ("hubot", "carol")],
            )
        )
    merged, files, recent, elsewhere, writes, members = _same(pulls)
    assert sum(p is not None for p in merged) == 4
    assert {"grants/late.yaml"} in [set(f) for f in files]
    assert {"grants/octocat.yaml": None} in files  # a removal, as the diff shows it
    assert len(recent) == 4 and elsewhere is None
    assert writes == [True, False, True] and members == [True, False]


def test_activity_agrees(both: Both) -> None:
    since, until = datetime(2026, 11, 30, 9, tzinfo=UTC), datetime(2026, 11, 30, 11, tzinfo=UTC)
    found = [
        github.activity("acme", "payments-api", "octocat", since, until) for github in both(STATE)
    ]
    assert [(a.kind, a.ref) for a in _same(found)] == [("commit", "aaaaaaa"), ("pull", "#7")]


def test_comments_and_new_pull_requests_agree(both: Both) -> None:
    answers = []
    for github in both(STATE):
        github.comment("acme", "payments-api", 7, "Access ends in 1h.")
        number, url = github.open_pull(
            "acme", "payments-api", head="grant/x", base="main", title="Grant", body="why"
        )
        answers.append((number, url))
    assert _same(answers)[0] == 9


def test_the_fake_can_leave_membership_unanswered() -> None:
    fake = _fake(STATE)
    fake.membership_unanswered = "Resource not accessible by integration"
    with pytest.raises(GitHubError, match="check org membership of alice: HTTP 403"):
        fake.is_org_member("acme", "alice")


def test_branches_and_open_pull_requests_agree(both: Both) -> None:
    """What request --open-pr checks before it pushes: the base branch, an open PR."""
    answers = []
    for github in both(STATE):
        before = github.open_pull_for("acme", "payments-api", "grant/y")
        github.open_pull("acme", "payments-api", head="grant/y", base="main", title="G", body="")
        answers.append(
            (
                github.branch_exists("acme", "payments-api", "main"),
                github.branch_exists("acme", "payments-api", "no-such-branch"),
                before,
                github.open_pull_for("acme", "payments-api", "grant/y"),
                github.open_pull_for("acme", "payments-api", "grant/other"),
            )
        )
    assert _same(answers) == (
        True,
        False,
        None,
        (9, "https://github.com/acme/payments-api/pull/9"),
        None,
    )
    with pytest.raises(GitHubError, match="404"):
        both(STATE)[0].open_pull_for("acme", "no-such-repo", "grant/y")


@pytest.mark.parametrize("fault", ["unreadable", "failing"])
def test_the_fake_fails_where_it_is_told(fault: str) -> None:
    """The fake's own failure switches, which orchestration tests rely on."""
    fake = _fake(STATE)
    ledger = Target.repo("acme", "ledger")
    change = _change(CHANGES[0])
    if fault == "unreadable":
        fake.unreadable[ledger] = "HTTP 502"
        assert fake.read(POLICY).actual.unreadable[ledger] == "HTTP 502"
    else:
        fake.failing[(change.principal, change.target)] = "HTTP 422"
        outcome = fake.apply("acme", change, {})
        assert (outcome.result, outcome.detail) == ("failed", "HTTP 422")
        assert (change.principal, ledger) not in fake.read(POLICY).actual.access


def test_the_client_keeps_nothing_between_calls(start_sandbox: StartSandbox) -> None:
    """A change gets what it needs from a read as an argument: a client that has never
    read can cancel an invitation given its id."""
    sandbox = start_sandbox(copy.deepcopy(STATE))
    with client(sandbox) as reader:
        ids = reader.read(POLICY).invitation_ids
    change = _change(CHANGES[4])
    with client(sandbox) as fresh:
        assert isinstance(fresh, GitHub)
        assert fresh.apply("acme", change, ids).result == "done"
        assert (change.principal, change.target) not in fresh.read(POLICY).actual.invitations
    cancels = [e for e in sandbox.exchanges if e.method == "DELETE"]
    assert len(cancels) == 1 and str(ids[(change.principal, change.target)]) in cancels[0].path
