"""GitHub's JSON objects, built the way api.github.com shapes them.

Only fields grantops reads carry meaning; the rest are filled in so every body
satisfies the response schemas of GitHub's OpenAPI description (the contract tests
check this for every answer the test suite sees).
"""

from __future__ import annotations

import base64
from typing import Any

from grantops.sandbox.fixtures import (
    CommentState,
    CommitState,
    IssueState,
    PullState,
    ReviewState,
    WorkflowRunState,
)
from grantops.sandbox.world import INVITATION_PERMISSIONS, Invitation, Repo, Team, World
from grantops.values import format_timestamp

Json = dict[str, Any]

_LEVEL_NAMES = {
    "pull": "read",
    "triage": "triage",
    "push": "write",
    "maintain": "maintain",
    "admin": "admin",
}


def _node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode()


def _account(base: str, login: str, ident: int, kind: str) -> Json:
    """The "simple user" object GitHub embeds for users, bots and organisations."""
    api = f"{base}/users/{login}"
    return {
        "login": login,
        "id": ident,
        "node_id": _node_id(kind, ident),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{ident}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": kind,
        "site_admin": False,
    }


def user(base: str, world: World, key: str) -> Json:
    kind = "Bot" if key in world.bots else "User"
    return _account(base, world.logins[key], world.user_ids[key], kind)


def _permissions(world: World, level: str | None) -> Json:
    rank = world.rank(level)[0] if level else -1
    names = ["pull", "triage", "push", "maintain", "admin"]
    return {name: rank >= index for index, name in enumerate(names)}


def role_name(level: str) -> str:
    """``role_name`` uses read/write for pull/push, and custom roles by their name."""
    return _LEVEL_NAMES.get(level, level)


def collaborator(base: str, world: World, repo: Repo, key: str) -> Json:
    level = world.effective(repo, key)
    return {
        **user(base, world, key),
        "permissions": _permissions(world, level),
        "role_name": role_name(level or "pull"),
    }


def permission_level(base: str, world: World, repo: Repo, key: str) -> Json:
    level = world.effective(repo, key)
    legacy = {"triage": "read", "maintain": "write"}.get(level or "")
    permission = legacy or INVITATION_PERMISSIONS.get(level or "", level or "none")
    if level and level.lower() in world.custom_roles:
        base_role = world.custom_roles[level.lower()]
        permission = {"pull": "read", "triage": "read", "push": "write", "maintain": "write"}.get(
            base_role, base_role
        )
    return {
        "permission": permission,
        "role_name": role_name(level) if level else "none",
        "user": {**user(base, world, key), "role_name": role_name(level) if level else "none"},
    }


def repository(base: str, world: World, repo: Repo) -> Json:
    full = f"{world.org}/{repo.name}"
    api = f"{base}/repos/{full}"
    templates = {
        "archive_url": "/{archive_format}{/ref}",
        "assignees_url": "/assignees{/user}",
        "blobs_url": "/git/blobs{/sha}",
        "branches_url": "/branches{/branch}",
        "collaborators_url": "/collaborators{/collaborator}",
        "comments_url": "/comments{/number}",
        "commits_url": "/commits{/sha}",
        "compare_url": "/compare/{base}...{head}",
        "contents_url": "/contents/{+path}",
        "contributors_url": "/contributors",
        "deployments_url": "/deployments",
        "downloads_url": "/downloads",
        "events_url": "/events",
        "forks_url": "/forks",
        "git_commits_url": "/git/commits{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "git_tags_url": "/git/tags{/sha}",
        "hooks_url": "/hooks",
        "issue_comment_url": "/issues/comments{/number}",
        "issue_events_url": "/issues/events{/number}",
        "issues_url": "/issues{/number}",
        "keys_url": "/keys{/key_id}",
        "labels_url": "/labels{/name}",
        "languages_url": "/languages",
        "merges_url": "/merges",
        "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "pulls_url": "/pulls{/number}",
        "releases_url": "/releases{/id}",
        "stargazers_url": "/stargazers",
        "statuses_url": "/statuses/{sha}",
        "subscribers_url": "/subscribers",
        "subscription_url": "/subscription",
        "tags_url": "/tags",
        "teams_url": "/teams",
        "trees_url": "/git/trees{/sha}",
    }
    return {
        "id": repo.id,
        "node_id": _node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": full,
        "private": True,
        "owner": organization_owner(base, world),
        "html_url": f"https://github.com/{full}",
        "description": None,
        "fork": False,
        "url": api,
        **{key: api + suffix for key, suffix in templates.items()},
    }


def full_repository(base: str, world: World, repo: Repo) -> Json:
    """The complete repository object, as embedded in pull requests."""
    full = f"{world.org}/{repo.name}"
    return {
        **repository(base, world, repo),
        "clone_url": f"https://github.com/{full}.git",
        "default_branch": "main",
        "forks": 0,
        "forks_count": 0,
        "git_url": f"git://github.com/{full}.git",
        "has_downloads": True,
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "homepage": None,
        "language": None,
        "archived": False,
        "disabled": False,
        "mirror_url": None,
        "open_issues": 0,
        "open_issues_count": 0,
        "license": None,
        "pushed_at": "2026-01-01T00:00:00Z",
        "size": 1,
        "ssh_url": f"git@github.com:{full}.git",
        "stargazers_count": 0,
        "svn_url": f"https://github.com/{full}",
        "watchers": 0,
        "watchers_count": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def pull_request(base: str, world: World, repo: Repo, pull: PullState) -> Json:
    full = f"{world.org}/{repo.name}"
    api = f"{base}/repos/{full}/pulls/{pull.number}"
    issue = f"{base}/repos/{full}/issues/{pull.number}"
    html = f"https://github.com/{full}/pull/{pull.number}"
    author = user(base, world, pull.author.lower())

    def ref(name: str, sha: str) -> Json:
        return {
            "label": f"{world.org}:{name}",
            "ref": name,
            "sha": sha,
            "user": author,
            "repo": full_repository(base, world, repo),
        }

    def link(href: str) -> Json:
        return {"href": href}

    return {
        "url": api,
        "id": 5000 + pull.number,
        "node_id": _node_id("PullRequest", pull.number),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": f"{api}/commits",
        "review_comments_url": f"{api}/comments",
        "review_comment_url": f"{base}/repos/{full}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": f"{base}/repos/{full}/statuses/{pull.head_sha}",
        "number": pull.number,
        "state": "closed" if pull.merged_at else "open",
        "locked": False,
        "title": pull.title,
        "user": author,
        "body": pull.body or None,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": pull.merged_at or "2026-01-01T00:00:00Z",
        "closed_at": pull.merged_at,
        "merged_at": pull.merged_at,
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": ref(pull.head_ref or f"grant-{pull.number}", pull.head_sha),
        "base": ref(pull.base, pull.merge_commit_sha or pull.head_sha),
        "_links": {
            "self": link(api),
            "html": link(html),
            "issue": link(issue),
            "comments": link(f"{issue}/comments"),
            "review_comments": link(f"{api}/comments"),
            "review_comment": link(f"{base}/repos/{full}/pulls/comments{{/number}}"),
            "commits": link(f"{api}/commits"),
            "statuses": link(f"{base}/repos/{full}/statuses/{pull.head_sha}"),
        },
        "author_association": "MEMBER",
        "auto_merge": None,
        "draft": False,
    }


def full_pull_request(base: str, world: World, repo: Repo, pull: PullState) -> Json:
    """A single pull request, as answered when one is opened or fetched."""
    return {
        **pull_request(base, world, repo, pull),
        "merged": pull.merged_at is not None,
        "mergeable": True,
        "rebaseable": True,
        "mergeable_state": "clean",
        "merged_by": user(base, world, pull.merged_by.lower()) if pull.merged_by else None,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": 1,
        "additions": 1,
        "deletions": 0,
        "changed_files": 1,
    }


def review(
    base: str, world: World, repo: Repo, pull: PullState, index: int, item: ReviewState
) -> Json:
    full = f"{world.org}/{repo.name}"
    api = f"{base}/repos/{full}/pulls/{pull.number}"
    html = f"https://github.com/{full}/pull/{pull.number}#pullrequestreview-{index}"
    return {
        "id": 80000 + pull.number * 100 + index,
        "node_id": _node_id("PullRequestReview", pull.number * 100 + index),
        "user": user(base, world, item.user.lower()) if item.user else None,
        "body": "",
        "state": item.state,
        "commit_id": item.commit_id,
        "html_url": html,
        "pull_request_url": api,
        "_links": {"html": {"href": html}, "pull_request": {"href": api}},
        "submitted_at": item.submitted_at,
        "author_association": "MEMBER",
    }


def commit(base: str, world: World, repo: Repo, item: CommitState) -> Json:
    full = f"{world.org}/{repo.name}"
    api = f"{base}/repos/{full}/commits/{item.sha}"
    committer = item.author if item.committer == "" else item.committer

    def person(login: str | None) -> Json:
        name = login or "unknown"
        return {"name": name, "email": f"{name}@example.com", "date": item.date}

    def account(login: str | None) -> Json | None:
        return user(base, world, login.lower()) if login else None

    return {
        "url": api,
        "sha": item.sha,
        "node_id": _node_id("Commit", int(item.sha[:6], 16)),
        "html_url": f"https://github.com/{full}/commit/{item.sha}",
        "comments_url": f"{api}/comments",
        "commit": {
            "url": f"{base}/repos/{full}/git/commits/{item.sha}",
            "author": person(item.author),
            "committer": person(committer),
            "message": item.message,
            "comment_count": 0,
            "tree": {"sha": "0" * 40, "url": f"{base}/repos/{full}/git/trees/{'0' * 40}"},
        },
        "author": account(item.author),
        "committer": account(committer),
        "parents": [],
    }


def branch(base: str, world: World, repo: Repo, name: str, sha: str) -> Json:
    """A branch with its newest commit (only the sha carries meaning); unprotected."""
    full = f"{world.org}/{repo.name}"
    api = f"{base}/repos/{full}/branches/{name}"
    return {
        "name": name,
        "commit": commit(base, world, repo, CommitState(sha=sha)),
        "_links": {"html": f"https://github.com/{full}/tree/{name}", "self": api},
        "protected": False,
        "protection": {"enabled": False},
        "protection_url": f"{api}/protection",
    }


def diff_entry(
    base: str, world: World, repo: Repo, pull: PullState, path: str, blob: str | None
) -> Json:
    """One file of a pull request's diff; the patch itself is not kept, only the blob."""
    full = f"{world.org}/{repo.name}"
    ref = pull.head_sha
    return {
        "sha": blob or "0" * 40,
        "filename": path,
        "status": "removed" if blob is None else "modified",
        "additions": 0,
        "deletions": 0,
        "changes": 0,
        "blob_url": f"https://github.com/{full}/blob/{ref}/{path}",
        "raw_url": f"https://github.com/{full}/raw/{ref}/{path}",
        "contents_url": f"{base}/repos/{full}/contents/{path}?ref={ref}",
    }


COMMENT_IDS = 90000
"""A comment's id is this plus its place (from 1) among the repository's comments."""


def comment(base: str, world: World, repo: Repo, index: int, item: CommentState) -> Json:
    full = f"{world.org}/{repo.name}"
    ident = COMMENT_IDS + index
    return {
        "id": ident,
        "node_id": _node_id("IssueComment", ident),
        "url": f"{base}/repos/{full}/issues/comments/{ident}",
        "html_url": f"https://github.com/{full}/pull/{item.issue}#issuecomment-{ident}",
        "issue_url": f"{base}/repos/{full}/issues/{item.issue}",
        "body": item.body,
        "user": user(base, world, item.user.lower()),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "author_association": "NONE",
    }


def issue(base: str, world: World, repo: Repo, item: IssueState) -> Json:
    """An issue; its labels are named only (GitHub answers label objects or names)."""
    full = f"{world.org}/{repo.name}"
    api = f"{base}/repos/{full}/issues/{item.number}"
    closed = item.state == "closed"
    return {
        "id": 70000 + item.number,
        "node_id": _node_id("Issue", item.number),
        "url": api,
        "repository_url": f"{base}/repos/{full}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"https://github.com/{full}/issues/{item.number}",
        "number": item.number,
        "state": item.state,
        "state_reason": "completed" if closed else None,
        "title": item.title,
        "body": item.body or None,
        "user": user(base, world, item.author.lower()),
        "labels": list(item.labels),
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "comments": sum(c.issue == item.number for c in repo.comments),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "closed_at": "2026-01-01T00:00:00Z" if closed else None,
        "author_association": "NONE",
    }


def pull_as_issue(base: str, world: World, repo: Repo, pull: PullState) -> Json:
    """A pull request as the issues API shows it: an issue with a ``pull_request`` link."""
    state = "closed" if pull.merged_at else "open"
    item = IssueState(
        number=pull.number, author=pull.author, title=pull.title, body=pull.body, state=state
    )
    full = f"{world.org}/{repo.name}"
    html = f"https://github.com/{full}/pull/{pull.number}"
    link = {
        "url": f"{base}/repos/{full}/pulls/{pull.number}",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "merged_at": pull.merged_at,
    }
    return {**issue(base, world, repo, item), "html_url": html, "pull_request": link}


def workflow_run(base: str, world: World, repo: Repo, item: WorkflowRunState) -> Json:
    """One run of a workflow, as ``GET .../actions/workflows/{id}/runs`` lists it."""
    full = f"{world.org}/{repo.name}"
    api = f"{base}/repos/{full}/actions/runs/{item.id}"
    workflow_id = 6000 + sum(map(ord, item.workflow))
    where = repository(base, world, repo)
    return {
        "id": item.id,
        "node_id": _node_id("WorkflowRun", item.id),
        "name": item.workflow.removesuffix(".yml"),
        "head_branch": item.head_branch,
        "head_sha": item.head_sha,
        "path": f".github/workflows/{item.workflow}",
        "display_title": item.workflow.removesuffix(".yml"),
        "run_number": item.run_number,
        "run_attempt": 1,
        "event": item.event,
        "status": item.status,
        "conclusion": item.conclusion,
        "workflow_id": workflow_id,
        "url": api,
        "html_url": f"https://github.com/{full}/actions/runs/{item.id}",
        "pull_requests": [],
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "run_started_at": item.created_at,
        "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs",
        "check_suite_url": f"{base}/repos/{full}/check-suites/{item.id}",
        "artifacts_url": f"{api}/artifacts",
        "cancel_url": f"{api}/cancel",
        "rerun_url": f"{api}/rerun",
        "workflow_url": f"{base}/repos/{full}/actions/workflows/{workflow_id}",
        "head_commit": None,
        "repository": where,
        "head_repository": where,
    }


def organization_owner(base: str, world: World) -> Json:
    return _account(base, world.org, 1, "Organization")


def custom_roles(base: str, world: World) -> Json:
    """The org's custom repository roles as GitHub lists them: by id, each with the
    built-in role it extends under GitHub's names (``read``/``write`` for pull/push)."""
    owner = organization_owner(base, world)
    roles: list[Json] = [
        {
            "id": 8000 + index,
            "name": name,
            "description": None,
            "base_role": role_name(extends),
            "permissions": [],
            "organization": owner,
            "created_at": _ROLES_CREATED,
            "updated_at": _ROLES_CREATED,
        }
        for index, (name, extends) in enumerate(sorted(world.custom_roles.items()))
    ]
    return {"total_count": len(roles), "custom_roles": roles}


_ROLES_CREATED = "2024-01-02T03:04:05Z"


def invitation(base: str, world: World, repo: Repo, item: Invitation, inviter: str) -> Json:
    return {
        "id": item.id,
        "node_id": _node_id("RepositoryInvitation", item.id),
        "repository": repository(base, world, repo),
        "invitee": user(base, world, item.login),
        "inviter": user(base, world, inviter),
        "permissions": role_name(item.permission),
        "created_at": format_timestamp(item.created_at),
        "expired": item.expired,
        "url": f"{base}/user/repository_invitations/{item.id}",
        "html_url": f"https://github.com/{world.org}/{repo.name}/invitations",
    }


def team(base: str, world: World, item: Team, permission: str | None = None) -> Json:
    api = f"{base}/organizations/1/team/{item.id}"
    body: Json = {
        "id": item.id,
        "node_id": _node_id("Team", item.id),
        "url": api,
        "html_url": f"https://github.com/orgs/{world.org}/teams/{item.slug}",
        "name": item.slug,
        "slug": item.slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": permission or "pull",
        "members_url": f"{api}/members{{/member}}",
        "repositories_url": f"{api}/repos",
        "parent": None,
        "type": "organization",
    }
    if permission is not None:
        body["permissions"] = _permissions(world, permission)
        body["role_name"] = role_name(permission)
    return body


def team_membership(base: str, world: World, item: Team, key: str, role: str, state: str) -> Json:
    login = world.logins[key]
    return {
        "url": f"{base}/organizations/1/team/{item.id}/memberships/{login}",
        "role": role,
        "state": state,
    }


def org_invitation(base: str, world: World, item: Team, key: str, inviter: str) -> Json:
    ident = world.user_ids[key]
    return {
        "id": ident,
        "node_id": _node_id("OrganizationInvitation", ident),
        "login": world.logins[key],
        "email": None,
        "role": "direct_member",
        "created_at": "2026-01-01T00:00:00Z",
        "inviter": user(base, world, inviter),
        "team_count": 1,
        "invitation_teams_url": f"{base}/organizations/1/invitations/{ident}/teams",
        "invitation_source": "member",
    }


def organization(base: str, world: World) -> Json:
    api = f"{base}/orgs/{world.org}"
    return {
        "login": world.org,
        "id": 1,
        "node_id": _node_id("Organization", 1),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4",
        "description": None,
        "html_url": f"https://github.com/{world.org}",
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "archived_at": None,
        "default_repository_permission": role_name(world.base_permission)
        if world.base_permission != "none"
        else "none",
    }


def error(message: str, errors: list[dict[str, str]] | list[str] | None = None) -> Json:
    body: Json = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    if errors:
        body["errors"] = errors
    return body
