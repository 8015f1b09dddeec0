"""Approval proof at the edge: git history plus GitHub's pull requests and reviews.

For the policy and every grant inside its window, find the commit that last changed
the file, the merged pull request behind it, and judge its reviews
(:func:`grantops.approval.judge`). Evidence already proven for the same commit is
reused when its MAC checks out (see :mod:`grantops.evidence`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grantops import evidence, gitrepo
from grantops.approval import Approval, Evidence, judge
from grantops.github import GitHub, GitHubError
from grantops.github.pulls import is_team_member, merged_pull_for_commit
from grantops.load import POLICY_PATH, Loaded
from grantops.model import UserRepoGrant, UserTeamGrant


@dataclass(frozen=True)
class AccessRepo:
    """Where the grant files are reviewed: ``owner/name`` and the protected branch."""

    owner: str
    name: str
    branch: str | None = None

    @classmethod
    def parse(cls, slug: str, branch: str | None = None) -> AccessRepo:
        owner, _, name = slug.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"'{slug}' is not OWNER/NAME")
        return cls(owner, name, branch)


@dataclass(frozen=True)
class Proof:
    policy: Approval
    grants: dict[str, Approval] = field(default_factory=dict)

    @property
    def proven(self) -> dict[str, Evidence]:
        found = {path: a.evidence for path, a in self.grants.items() if a.approved and a.evidence}
        if self.policy.approved and self.policy.evidence:
            found[POLICY_PATH] = self.policy.evidence
        return found


def prove(
    root: Path, loaded: Loaded, now: datetime, github: GitHub, repo: AccessRepo, key: bytes | None
) -> Proof:
    policy = loaded.policy
    grants = [g for g in loaded.grants if g.active_at(now)]
    commits = gitrepo.last_commits(root, [POLICY_PATH, *(g.path for g in grants)])
    trusted = evidence.load(root, key)
    may_approve = _approver_check(github, policy.org, policy.approval.approvers)

    def verdict(path: str, grantee: str | None) -> Approval:
        commit = commits.get(path)
        kept = trusted.get(path)
        if commit is not None and kept is not None and kept.commit == commit:
            approvers = ", ".join(kept.approvers)
            return Approval(
                True, f"approved in PR #{kept.pull} by {approvers} (kept evidence)", kept
            )
        try:
            pull = (
                merged_pull_for_commit(github.transport, repo.owner, repo.name, commit, repo.branch)
                if commit
                else None
            )
            return judge(
                commit=commit,
                pull=pull,
                required=policy.approval.required,
                grantee=grantee,
                may_approve=may_approve,
            )
        except GitHubError as exc:
            return Approval(False, f"could not check the review: {exc}")

    proven_policy = verdict(POLICY_PATH, None)
    by_grant = {
        g.path: verdict(
            g.path, g.spec.user if isinstance(g.spec, UserRepoGrant | UserTeamGrant) else None
        )
        for g in grants
    }
    return Proof(proven_policy, by_grant)


def _approver_check(github: GitHub, org: str, team: str | None) -> Callable[[str], bool]:
    if team is None:
        return lambda login: True
    known: dict[str, bool] = {}

    def check(login: str) -> bool:
        if login.lower() not in known:
            known[login.lower()] = is_team_member(github.transport, org, team, login)
        return known[login.lower()]

    return check
