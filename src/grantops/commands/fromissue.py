"""``grantops request --from-issue N`` and ``--close-merged PR``: requests from the browser.

The request workflow runs these on the default branch's checkout when an access
request issue is opened or edited, and when a grant pull request is closed:

1. read issue N (author, labels, body) and refuse anything but an open issue of the
   access request form;
2. read its body field by field (:mod:`grantops.issueform`) into the options
   ``grantops request`` takes, then write and check the grant file exactly as it does;
3. commit it alone on ``grant/issue-N``, replacing that branch's earlier commit only
   while nobody else has moved it, and open the pull request (``Closes #N``) or retitle
   the one already open;
4. comment the plan, or every problem, on the issue: one comment, rewritten in place;
5. once the pull request is merged or closed, say so on the issue and close it.

The issue body is untrusted input: nothing from it is run, and only the grant file
``grantops request`` would write for the same options can come of it.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from grantops import gitrepo
from grantops.commands.common import EXIT_OK, Io, github_client, problem_text
from grantops.commands.propose import pull_target
from grantops.commands.request import Written, prepare, request_from, write_checked
from grantops.errors import GrantopsError, InvalidInput, UsageError
from grantops.github import GitHubError
from grantops.github.client import GitHub
from grantops.issueform import FormError, FormRequest, read_form
from grantops.issuetext import (
    Issue,
    branch_for,
    closed_comment,
    issue_of_branch,
    own_comment,
    plan_comment,
    problems_comment,
    refusal,
)
from grantops.load import load_repo


class RequestRefused(GrantopsError):
    """The issue does not describe a request the policy allows; the problems were
    commented on the issue."""


_OWN_OPTIONS = {
    "repo": "--repo",
    "team": "--team",
    "user": "--user",
    "permission": "--permission",
    "role": "--role",
    "duration": "--for",
    "until": "--until",
    "starts": "--starts",
    "reason": "--reason",
    "open_pr": "--open-pr",
}
"""``grantops request`` options that the issue answers instead."""


def wanted(args: argparse.Namespace) -> bool:
    """Whether ``grantops request`` was asked to work from an issue or a pull request."""
    return (
        getattr(args, "from_issue", None) is not None
        or getattr(args, "close_merged", None) is not None
    )


def run(args: argparse.Namespace, now: datetime, io: Io) -> int:
    """``--json``: ``{"issue", "file", "plan", "pull_request"}`` for ``--from-issue``;
    ``{"issue", "pull_request", "merged", "closed"}`` for ``--close-merged``."""
    given = [flag for key, flag in _OWN_OPTIONS.items() if getattr(args, key)]
    if given:
        raise UsageError(f"{' '.join(given)}: the issue says what is asked for; leave them out")
    owner, name = pull_target(args, io)
    with github_client(args, io) as github:
        try:
            if args.close_merged is not None:
                return _close(args, io, github, (owner, name))
            return _from_issue(args, now, io, github, (owner, name))
        except GitHubError as exc:
            raise GrantopsError(str(exc)) from None


def _from_issue(
    args: argparse.Namespace, now: datetime, io: Io, github: GitHub, repo: tuple[str, str]
) -> int:
    issue = github.issue(*repo, args.from_issue)
    me = (io.environ.get("GRANTOPS_BOT_LOGIN") or "").lower() or None
    why = refusal(issue)
    if why is not None:
        raise UsageError(f"#{issue.number} {why}: nothing to do")
    try:
        written, pull = _propose(args, now, io, github, repo, issue)
    except (FormError, UsageError, InvalidInput) as exc:
        problems = _problems(exc)
        _say(github, repo, issue.number, problems_comment(problems), me)
        lines = "\n".join(f"  {p}" for p in problems)
        raise RequestRefused(
            f"#{issue.number} is not a request grantops can write:\n{lines}"
        ) from None
    _say(github, repo, issue.number, plan_comment(pull, written.content, written.plan), me)
    if args.json:
        io.json(
            {"issue": issue.number, "file": written.relative, "plan": written.plan}
            | {"pull_request": {"number": pull[0], "url": pull[1]}}
        )
    else:
        io.out(f"#{issue.number}: {written.relative} proposed in #{pull[0]}: {pull[1]}")
    return EXIT_OK


def _problems(exc: GrantopsError | FormError) -> list[str]:
    if isinstance(exc, FormError):
        return exc.problems
    if isinstance(exc, InvalidInput):
        return [problem_text(p) for p in exc.problems]
    return [str(exc)]


def _propose(
    args: argparse.Namespace,
    now: datetime,
    io: Io,
    github: GitHub,
    repo: tuple[str, str],
    issue: Issue,
) -> tuple[Written, tuple[int, str]]:
    """Write and check the grant file, put it alone on the issue's branch, and open or
    update the pull request: the file and the pull request (number, address)."""
    loaded = load_repo(args.root, now)
    form = read_form(issue.body, issue.author, on_behalf=loaded.policy.requests.on_behalf)
    request = request_from(_as_options(args, form), now, io, loaded.policy)
    path, relative, text = prepare(args.root, request, now)
    base = gitrepo.current_branch(args.root)
    if base is None:
        raise GrantopsError("HEAD is detached; check out the branch pull requests target")
    branch = branch_for(issue.number)
    earlier = gitrepo.fetch_branch(args.root, args.remote, branch)
    written = write_checked(args.root, now, request, path, text)
    if earlier is not None and gitrepo.holds_only(
        args.root, earlier, base, {relative: text.encode()}
    ):
        written.undo()  # the branch already holds exactly this request
    else:
        _push(args, branch, written, earlier, issue.author_identity)
    body = f"{written.body}\nCloses #{issue.number}, requested by @{issue.author}.\n"
    existing = github.open_pull_for(*repo, branch)
    if existing is not None:
        github.edit_pull(*repo, existing[0], title=written.title, body=body)
        return written, existing
    opened = github.open_pull(*repo, head=branch, base=base, title=written.title, body=body)
    return written, opened


def _as_options(args: argparse.Namespace, form: FormRequest) -> argparse.Namespace:
    """``args`` with the form's answers as ``grantops request``'s options."""
    values: dict[str, Any] = {
        "repo": list(form.repos),
        "team": form.team,
        "user": form.user,
        "permission": form.permission,
        "role": form.role,
        "duration": form.duration,
        "until": form.until,
        "starts": form.starts,
        "reason": form.reason,
    }
    return argparse.Namespace(**(vars(args) | values))


def _push(
    args: argparse.Namespace,
    branch: str,
    written: Written,
    earlier: str | None,
    requester: tuple[str, str],
) -> None:
    """Commit the file alone on a fresh ``branch`` and push it over ``earlier``.

    The pull request is grantops' own, so the requester is the commit's author: no
    author of a commit may approve, and they must not approve what they asked for,
    even for someone else.
    """
    gitrepo.delete_branch(args.root, branch)
    gitrepo.commit_branch(args.root, branch, [written.relative], written.title, requester)
    try:
        gitrepo.push_replacing(args.root, args.remote, branch, earlier)
    except gitrepo.GitError as exc:
        raise GrantopsError(
            f"{exc}\n{branch} moved on '{args.remote}' since it was read, so it was left "
            "alone; run this again"
        ) from None


def _say(github: GitHub, repo: tuple[str, str], number: int, body: str, me: str | None) -> None:
    """Rewrite grantops' own comment on the issue, or write the first one. ``me`` names
    grantops' account when the token cannot (``GRANTOPS_BOT_LOGIN``: the request App's
    bot), so only its comments are taken for grantops' own, not any bot's."""
    earlier = own_comment(github.issue_comments(*repo, number), github.viewer() or me)
    if earlier is None:
        github.comment(*repo, number, body)
    else:
        github.edit_comment(*repo, earlier.id, body)


def _close(args: argparse.Namespace, io: Io, github: GitHub, repo: tuple[str, str]) -> int:
    """Close the request issue of a grant pull request that was merged or closed."""
    end = github.pull_end(*repo, args.close_merged)
    number = issue_of_branch(end.head)
    if number is None or (end.head_repo or "").lower() != "/".join(repo).lower():
        raise UsageError(f"#{args.close_merged} is not the pull request of a request issue")
    if not end.closed:
        raise UsageError(f"#{args.close_merged} is still open")
    issue = github.issue(*repo, number)
    closed = refusal(issue) is None
    if closed:  # a comment of its own: this runs with another token than the plan's
        github.comment(*repo, number, closed_comment(args.close_merged, end.merged))
        github.edit_issue(*repo, number, close=True)
    if args.json:
        io.json(
            {"issue": number, "pull_request": args.close_merged}
            | {"merged": end.merged, "closed": closed}
        )
    elif closed:
        io.out(f"Closed #{number}: its pull request #{args.close_merged} is closed.")
    else:
        io.out(f"#{number} was not an open request issue: left as it is.")
    return EXIT_OK
