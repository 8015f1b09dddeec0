"""Replay real recorded GitHub exchanges (tests/cassettes) against the client's calls.

The cassettes come from ``@octokit/fixtures`` (see convert_fixtures.py). They were
recorded by another client, so requests are matched on method and path, and on the
query where the test asks for the same query as the recording.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr

from grantops.access import Principal, Target
from grantops.github.transport import GitHubError, RetryPolicy, Transport
from grantops.github.vocabulary import collaborator_level, level
from grantops.github.write import apply_change
from grantops.plan import Change

CASSETTES = Path(__file__).with_name("cassettes")
ORG = "octokit-fixture-org"
FAKE_TOKEN = "0000000000000000000000000000000000000001"

replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    filter_headers=["authorization"],
    match_on=["method", "scheme", "host", "port", "path"],
)


def _transport() -> Transport:
    """The client's own transport: the recordings check the requests it sends."""
    return Transport("https://api.github.com", FAKE_TOKEN, retry=RetryPolicy(mutation_interval=0))


def test_no_cassette_carries_credentials() -> None:
    for cassette in CASSETTES.glob("*.yaml"):
        text = cassette.read_text().lower()
        assert "authorization" not in text, cassette
        assert FAKE_TOKEN not in text, cassette


def test_add_and_remove_a_collaborator() -> None:
    repo = "add-and-remove-repository-collaborator"
    target = Target.repo(ORG, repo)
    user_b = Principal.user("octokit-fixture-user-b")
    with replay.use_cassette(f"{repo}.yaml") as cassette, _transport() as transport:
        added = apply_change(
            transport, ORG, Change("add", user_b, target, None, "push", "grant", "g.yaml"), {}
        )
        assert added.result == "invited"  # 201: an invitation, access starts on acceptance
        invitations = transport.list(
            "invitations", "repos", "list_invitations", owner=ORG, repo=repo
        )
        assert [(i["invitee"]["login"], level(i["permissions"])) for i in invitations] == [
            ("octokit-fixture-user-b", "push")  # GitHub says "write"
        ]
        # (the recording has user B accept the invitation here, with B's own token)
        collaborators = transport.list(
            "collaborators",
            "repos",
            "list_collaborators",
            owner=ORG,
            repo=repo,
            affiliation="direct",
        )
        assert [(c["login"], collaborator_level(c)) for c in collaborators] == [
            ("octokit-fixture-user-a", "admin"),
            ("octokit-fixture-user-b", "push"),
        ]
        removed = apply_change(
            transport, ORG, Change("remove", user_b, target, "push", None, "undeclared", None), {}
        )
        assert removed.result == "done"  # 204
        after = transport.list(
            "collaborators",
            "repos",
            "list_collaborators",
            owner=ORG,
            repo=repo,
            affiliation="direct",
        )
        assert [c["login"] for c in after] == ["octokit-fixture-user-a"]
        assert cassette.play_count == 5  # every exchange but the invitee's own acceptance


def test_a_validation_error_surfaces_without_retry() -> None:
    with replay.use_cassette("errors.yaml") as cassette, _transport() as transport:
        with pytest.raises(GitHubError) as caught:
            transport.mutate(
                "create label",
                "issues",
                "create_label",
                owner=ORG,
                repo="errors",
                name="foo",
                color="invalid",
            )
        assert caught.value.status == 422
        assert caught.value.message == "Validation Failed"
        assert cassette.play_count == 1


def test_pagination_follows_link_headers_across_hosts_paths() -> None:
    query_replay = vcr.VCR(
        cassette_library_dir=str(CASSETTES), record_mode="none", filter_headers=["authorization"]
    )
    with query_replay.use_cassette("paginate-issues.yaml") as cassette, _transport() as transport:
        issues = transport.list(
            "issues", "issues", "list_for_repo", per_page=3, owner=ORG, repo="paginate-issues"
        )
        assert cassette.all_played  # 5 pages, following rel="next" to /repositories/1000/issues
        assert cassette.play_count == 5  # and no request for an empty 6th page
    assert len(issues) == 13
    assert len({i["number"] for i in issues}) == 13
