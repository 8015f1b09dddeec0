"""The reconcile workflow's runs and the health issue, for ``grantops health``.

The runs come from ``GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs``: one
page of the most recent, which is all a health check needs (a schedule every 15 minutes
fills 100 runs in a day). A run GitHub describes in a shape grantops cannot read makes
the listing fail: an unreadable answer is never read as "no runs".
"""

from __future__ import annotations

from typing import Any

from grantops.github.transport import GitHubError, Transport
from grantops.health import HealthIssue, WorkflowRun
from grantops.values import parse_timestamp

RECENT_RUNS = 100


def workflow_runs(transport: Transport, owner: str, repo: str, workflow: str) -> list[WorkflowRun]:
    """The workflow's most recent runs (up to :data:`RECENT_RUNS`), as GitHub orders them."""
    what = f"list runs of {workflow} in {owner}/{repo}"
    answer = transport.get(
        what,
        "actions",
        "list_workflow_runs",
        owner=owner,
        repo=repo,
        workflow_id=workflow,
        per_page=RECENT_RUNS,
        exclude_pull_requests="true",
    )
    try:
        return [_run(item) for item in answer["workflow_runs"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise GitHubError(what, 200, f"an answer grantops cannot read ({exc!r})") from None


def _run(item: dict[str, Any]) -> WorkflowRun:
    conclusion = item["conclusion"]
    return WorkflowRun(
        id=int(item["id"]),
        number=int(item["run_number"]),
        event=str(item["event"]),
        status=str(item["status"]),
        conclusion=None if conclusion is None else str(conclusion),
        created_at=parse_timestamp(item["created_at"]),
        updated_at=parse_timestamp(item["updated_at"]),
        url=str(item["html_url"]),
    )


def labelled_issues(transport: Transport, owner: str, repo: str, label: str) -> list[HealthIssue]:
    """Every open issue carrying ``label`` (pull requests left out)."""
    found = transport.list(
        f"list open issues labelled {label} in {owner}/{repo}",
        "issues",
        "list_for_repo",
        owner=owner,
        repo=repo,
        state="open",
        labels=label,
    )
    return [_issue(item) for item in found if "pull_request" not in item]


def _issue(item: dict[str, Any]) -> HealthIssue:
    return HealthIssue(int(item["number"]), str(item.get("body") or ""), str(item["html_url"]))


def open_issue(
    transport: Transport, owner: str, repo: str, *, title: str, body: str, labels: list[str]
) -> HealthIssue:
    """Open an issue; GitHub creates a label it does not know yet."""
    created = transport.create(
        f"open an issue in {owner}/{repo}",
        "issues",
        "create",
        owner=owner,
        repo=repo,
        title=title,
        body=body,
        labels=labels,
    )
    return _issue(created)


def edit_issue(
    transport: Transport,
    owner: str,
    repo: str,
    number: int,
    *,
    body: str | None = None,
    close: bool = False,
) -> None:
    """Replace an issue's body, and close it as completed when ``close``."""
    fields: dict[str, Any] = {"body": body} if body is not None else {}
    if close:
        fields |= {"state": "closed", "state_reason": "completed"}
    transport.mutate(
        f"update {owner}/{repo}#{number}",
        "issues",
        "update",
        owner=owner,
        repo=repo,
        issue_number=number,
        **fields,
    )
